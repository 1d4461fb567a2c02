/**
 * The atomic executor's built-in node types: what each takes and gives, as JSON Schemas (draft
 * 2020-12). The code that runs them is src/atomic/nodes.ts; the Node Registry is seeded with these
 * definitions, so a planner sees exactly what the executor checks.
 *
 * Shapes are chosen so that steps chain: the text nodes take `{ text }` (other fields are ignored)
 * and give `{ text, ... }`, so one text step's whole output can be the next one's input; the JSON
 * nodes give `{ value }`. Every other input is closed (`additionalProperties: false`), so a typo is
 * an `invalid_inputs` failure instead of a silently ignored field.
 */
import type { NodeType } from "@arp/model";

/** The id prefix of every built-in node type. */
export const REF_PREFIX = "arp.ref.";
/** The version of every built-in node type. */
export const REF_VERSION = "1.0.0";
/** The longest `arp.ref.sleep` (ms): a sleep holds its request open, so it is kept short. */
export const SLEEP_MAX_MS = 60_000;
/** The most objects one `arp.ref.json.merge` takes. */
export const MERGE_MAX_OBJECTS = 100;

const DRAFT = "https://json-schema.org/draft/2020-12/schema";

/** A closed object schema: these properties, `required` among them, nothing else. */
function closed(
  properties: Record<string, object>,
  required: readonly string[] = [],
): Record<string, unknown> {
  return { $schema: DRAFT, type: "object", additionalProperties: false, required, properties };
}

const text = { type: "string", description: "Any string (Unicode)." };
/** Text nodes accept more than `text` so that a text step's whole output feeds the next one. */
const textInput = {
  $schema: DRAFT,
  type: "object",
  required: ["text"],
  properties: { text },
  description: "`text`; other fields are ignored.",
};

function atomic(name: string, description: string, input: object, output: object): NodeType {
  return {
    node_type_id: `${REF_PREFIX}${name}`,
    version: REF_VERSION,
    kind: "atomic",
    description,
    input_schema: input as Record<string, unknown>,
    output_schema: output as Record<string, unknown>,
  };
}

export const ATOMIC_NODE_TYPES: readonly NodeType[] = [
  atomic(
    "echo",
    "Echo: outputs exactly its inputs (any object).",
    { $schema: DRAFT, type: "object" },
    { $schema: DRAFT, type: "object" },
  ),
  atomic(
    "text.upper",
    "Upper-case text (Unicode default case mapping, no locale): { text } to { text }.",
    textInput,
    closed({ text }, ["text"]),
  ),
  atomic(
    "text.lower",
    "Lower-case text (Unicode default case mapping, no locale): { text } to { text }.",
    textInput,
    closed({ text }, ["text"]),
  ),
  atomic(
    "text.reverse",
    "Reverse text by Unicode code points: { text } to { text }.",
    textInput,
    closed({ text }, ["text"]),
  ),
  atomic(
    "text.word_count",
    "Count the words (runs of non-whitespace) and code points of text; the text is passed on: { text } to { text, words, characters }.",
    textInput,
    closed(
      {
        text,
        words: { type: "integer", minimum: 0, description: "Runs of non-whitespace characters." },
        characters: { type: "integer", minimum: 0, description: "Unicode code points." },
      },
      ["text", "words", "characters"],
    ),
  ),
  atomic(
    "arith",
    "Arithmetic on two numbers: { op, a, b } to { result }. Fails with division_by_zero, or non_finite_result when the result overflows.",
    closed(
      {
        op: { enum: ["add", "subtract", "multiply", "divide"], description: "a + b, a - b, a * b or a / b." },
        a: { type: "number" },
        b: { type: "number" },
      },
      ["op", "a", "b"],
    ),
    closed({ result: { type: "number" } }, ["result"]),
  ),
  atomic(
    "json.pick",
    "Pick the value at a JSON Pointer (RFC 6901) from an object or array: { value, path, default? } to { value, found }. A missing path gives default when one is given, else fails with path_not_found.",
    closed(
      {
        value: { type: ["object", "array"], description: "Where to pick from." },
        path: {
          type: "string",
          pattern: "^(/.*)?$",
          description: 'A JSON Pointer: "" is the whole value, "/a/0" is a.0.',
        },
        default: { description: "Given when the path is missing (any JSON value)." },
      },
      ["value", "path"],
    ),
    closed(
      {
        value: { description: "The picked value (any JSON value), or default." },
        found: { type: "boolean", description: "Whether the path was there." },
      },
      ["value", "found"],
    ),
  ),
  atomic(
    "json.merge",
    `Merge objects left to right, later keys winning: { objects, deep? } to { value }. deep (default false) merges nested objects too; arrays and other values are replaced. At most ${MERGE_MAX_OBJECTS} objects.`,
    closed(
      {
        objects: {
          type: "array",
          minItems: 1,
          maxItems: MERGE_MAX_OBJECTS,
          items: { type: "object" },
        },
        deep: { type: "boolean", default: false },
      },
      ["objects"],
    ),
    closed({ value: { type: "object" } }, ["value"]),
  ),
  atomic(
    "sha256",
    "SHA-256 of the UTF-8 bytes of text, as lower-case hex: { text } to { sha256 } (a lone surrogate is encoded as U+FFFD).",
    textInput,
    closed({ sha256: { type: "string", pattern: "^[0-9a-f]{64}$" } }, ["sha256"]),
  ),
  atomic(
    "sleep",
    `Wait ms milliseconds (at most ${SLEEP_MAX_MS}), then succeed: { ms } to { slept_ms }. A cancel of the node run ends it at once, canceled.`,
    closed({ ms: { type: "integer", minimum: 0, maximum: SLEEP_MAX_MS } }, ["ms"]),
    closed({ slept_ms: { type: "integer", minimum: 0, maximum: SLEEP_MAX_MS } }, ["slept_ms"]),
  ),
  atomic(
    "fail",
    "Always fails, with error code (default deliberate_failure), message and retryable as given: for testing failure paths. Never has outputs.",
    closed({
      code: { type: "string", minLength: 1, maxLength: 200 },
      message: { type: "string", maxLength: 2000 },
      retryable: { type: "boolean" },
    }),
    closed({}),
  ),
];
