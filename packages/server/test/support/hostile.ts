/**
 * Generators of hostile HTTP requests for one operation (fast-check arbitraries), each produced as the
 * exact bytes of the wire, with what the answer may be.
 *
 * Every generated request is malformed in one chosen way (its `attack`), and then its `expect` is:
 *
 * - `"error"`: the answer must be a 4xx ErrorEnvelope. The malformation makes the request invalid
 *   by construction (a wrong method, an unroutable path, bad percent-encoding, a duplicate
 *   `Authorization`, an oversized or broken header, broken framing, a non-JSON content type).
 * - `"any"`: the request may be valid by chance, so a 2xx is accepted too (never a 5xx). This is
 *   decided, not guessed: for body attacks the body is re-checked the way the server reads it (UTF-8,
 *   `JSON.parse`, nesting <= 64, <= 1 MiB) and then with the operation's @arp/model validator; it is
 *   `"any"` exactly when all of that passes. Query attacks likewise use the parameter's validator.
 *   Odd but well-encoded ids (`..`, `a/b`, NUL, 8,000 characters) route to the operation, so they are
 *   `"any"` too (the test services answer them 404 unless such a resource exists).
 *
 * `mayDrop`: the connection may close without any answer: a body over the limit (the 413 is written,
 * then the socket destroyed, and the reset can discard it before it is read) or an upload the client
 * broke off (half-closed before its declared length).
 */
import { isUtf8 } from "node:buffer";
import type { OperationSpec, ServiceSpec } from "@arp/model";
import fc from "fast-check";
import { nestsDeeperThan } from "../../src/core/body.js";
import { vector } from "./services.js";

export const BODY_LIMIT = 1024 * 1024;
export const MAX_DEPTH = 64;
/** The prototype-pollution probe: no object may ever gain this property. */
export const POLLUTION_MARK = "arpFuzzPolluted";

export interface HostileRequest {
  attack: string;
  bytes: Buffer;
  expect: "error" | "any";
  mayDrop: boolean;
  splits: number[];
  endAfterWrite: boolean;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Percent-encodes every byte but the unreserved ones (as `encodeURIComponent`, but total on lone surrogates). */
function encodeSegment(id: string): string {
  let out = "";
  for (const byte of Buffer.from(id, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function fillPath(op: OperationSpec, id: (name: string) => string): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => id(name));
}

/** The request bytes: request line, headers (each a raw line), body. */
function wire(method: string, target: string, headers: string[], body: Buffer): Buffer {
  const head = `${method} ${target} HTTP/1.1\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

/** The usual headers; `type` null: no content-type at all. */
const baseHeaders = (body: Buffer, type: string | null = "application/json") => [
  "host: 127.0.0.1",
  "connection: close",
  ...(type === null ? [] : [`content-type: ${type}`]),
  `content-length: ${body.length}`,
];

/** Whether the server would read `body` as a valid request body of `op` (so a 2xx is acceptable). */
export function bodyAcceptable(op: OperationSpec, body: Buffer): boolean {
  if (body.length > BODY_LIMIT || nestsDeeperThan(body, MAX_DEPTH) || !isUtf8(body)) return false;
  let data: unknown;
  try {
    data = JSON.parse(body.toString("utf8"));
  } catch {
    return false;
  }
  return op.requestBody!.validate(data) === true;
}

const ODD_IDS = [
  "..",
  ".",
  "a/b",
  "/",
  "\u0000",
  "a\u0000b",
  "\\",
  "..%2F..",
  " ",
  "\u202e",
  "\ud800",
  ":cancel",
  "a:cancel",
  "__proto__",
  "constructor",
  "prototype",
  "x".repeat(8000),
];

/** Raw path segments that are not valid percent-encoding (or not allowed in a request line). */
const BAD_SEGMENTS = ["%", "%z", "%zz", "a%", "%E0%A4%A", "%C0%AF", "%FF", "%ED%A0%80", "%F4%90%80%80"];

const WEIRD_KEYS = ["__proto__", "constructor", "prototype", POLLUTION_MARK, "", "\u0000", "a".repeat(300)];

/** `{ "__proto__": { mark: true } }`-style values: JSON text with keys JSON.stringify would not emit. */
const pollution = (key: string) => `{"${key}":{"${POLLUTION_MARK}":true,"toString":1,"valueOf":"x"}}`;

const jsonText = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v));

/** A JSON value as text: random, wrong-typed, deep, polluting, huge. */
const hostileValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: jsonText },
  { weight: 2, arbitrary: fc.constantFrom(...WEIRD_KEYS.slice(0, 3)).map(pollution) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("1e999", "-0", "9007199254740993", '"\\ud800"', "[]", "{}", "null"),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(65, 1000, 100_000)
      .chain((d) => fc.constantFrom("[".repeat(d) + "]".repeat(d), `${'{"a":'.repeat(d)}1${"}".repeat(d)}`)),
  },
  { weight: 1, arbitrary: fc.constantFrom(100_000, 1_200_000).map((n) => JSON.stringify("x".repeat(n))) },
);

/** Every path into `value` (object keys and array indexes), the root included. */
function pathsOf(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(prefix);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) pathsOf(value[i]!, [...prefix, i], out);
  } else if (value !== null && typeof value === "object")
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

/**
 * A golden vector with one edit, as JSON text: a member removed, replaced by a hostile value, or a
 * hostile key added. Replacements are spliced into the text so that deep or polluting values survive.
 */
function mutatedVector(base: Json): fc.Arbitrary<string> {
  const paths = pathsOf(base);
  const PLACEHOLDER = "\u0001arp-fuzz\u0001";
  const withEdit = (path: (string | number)[], edit: (parent: Json, key: string | number) => void): Json => {
    const copy = structuredClone(base);
    if (path.length === 0) return copy;
    let parent: Json = copy;
    for (const key of path.slice(0, -1)) parent = (parent as Record<string, Json>)[key as string]!;
    edit(parent, path[path.length - 1]!);
    return copy;
  };
  const splice = (doc: Json, value: string) =>
    JSON.stringify(doc).replace(JSON.stringify(PLACEHOLDER), value);
  return fc.oneof(
    // A member (or array item) removed.
    fc.constantFrom(...paths.filter((p) => p.length > 0)).map((path) =>
      JSON.stringify(
        withEdit(path, (parent, key) => {
          if (Array.isArray(parent)) parent.splice(key as number, 1);
          else delete (parent as Record<string, Json>)[key];
        }),
      ),
    ),
    // A value replaced by a hostile one (wrong type, deep, huge, polluting).
    fc.tuple(fc.constantFrom(...paths), hostileValue).map(([path, value]) =>
      path.length === 0
        ? value
        : splice(
            withEdit(path, (parent, key) => {
              (parent as Record<string, Json>)[key] = PLACEHOLDER;
            }),
            value,
          ),
    ),
    // An extra member, often named `__proto__`, `constructor` or `prototype`, in some object.
    fc
      .tuple(
        fc.constantFrom(...paths.filter((p) => p.length === 0 || !Array.isArray(p))),
        fc.oneof(fc.constantFrom(...WEIRD_KEYS), fc.string({ maxLength: 12 })),
        hostileValue,
      )
      .map(([path, key, value]) => {
        const doc = structuredClone(base);
        let target: Json = doc;
        for (const k of path) target = (target as Record<string, Json>)[k as string]!;
        if (target === null || typeof target !== "object" || Array.isArray(target)) return splice(doc, value);
        const text = JSON.stringify(doc);
        // Splice the member in as text: JSON.stringify never writes an own `__proto__`.
        const holder = JSON.stringify(target);
        const member = `${JSON.stringify(key)}:${value}`;
        const inner = holder === "{}" ? `{${member}}` : `{${member},${holder.slice(1)}`;
        return text.replace(holder, inner);
      }),
  );
}

/** Invalid UTF-8 sequences: lone continuation, overlong, surrogate, truncated, out of range. */
const BAD_UTF8 = [
  [0x80],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0xff],
  [0xfe],
];

function methodsByPath(service: ServiceSpec): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const op of Object.values(service.operations)) {
    const set = map.get(op.path) ?? new Set();
    set.add(op.method);
    map.set(op.path, set);
  }
  return map;
}

/**
 * Whether `method` and `path` route to some operation of `service` (templates matched as the server
 * does: `{param}` is one non-empty segment). A mangled path that happens to land on another operation
 * (`/v1/node-types/{id}` without its id is `listNodeTypes`) is then `"any"`, not `"error"`.
 */
function routesTo(service: ServiceSpec, method: string, path: string): boolean {
  const raw = path.split("?")[0]!;
  return Object.values(service.operations).some((op) => {
    if (op.method !== method) return false;
    const pattern = op.path
      .split(/\{\w+\}/)
      .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("[^/]+");
    return new RegExp(`^${pattern}$`).test(raw);
  });
}

/** The hostile requests for `op` of `service`. */
export function hostileRequests(service: ServiceSpec, op: OperationSpec): fc.Arbitrary<HostileRequest> {
  const hasBody = op.requestBody !== undefined;
  const baseBody = hasBody ? Buffer.from(JSON.stringify(vector(op.requestBody!.schema))) : Buffer.alloc(0);
  const id = fc.stringMatching(/^[a-z0-9_]{1,24}$/).map((s) => `fuzz_${s}`);
  const plainPath = id.map((s) => fillPath(op, () => s));
  const req = (attack: string, bytes: Buffer, more: Partial<HostileRequest> = {}): HostileRequest => ({
    attack,
    bytes,
    expect: "error",
    mayDrop: false,
    splits: [],
    endAfterWrite: false,
    ...more,
  });
  const sameMethodsAt = methodsByPath(service).get(op.path)!;
  const otherMethods = ["GET", "POST"].filter((m) => !sameMethodsAt.has(m));

  const attacks: fc.WeightedArbitrary<HostileRequest>[] = [];

  // Wrong methods: known to Node's parser (405), or not (400 malformed), never HEAD (no body to check).
  attacks.push({
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          "PUT",
          "DELETE",
          "PATCH",
          "OPTIONS",
          "TRACE",
          "PROPFIND",
          "M-SEARCH",
          "FOO",
          "get",
          "G@T",
          "QUERY",
          ...otherMethods,
        ),
        plainPath,
      )
      .map(([method, path]) =>
        req(`method ${method}`, wire(method, path, baseHeaders(baseBody), baseBody), {
          expect: routesTo(service, method, path) ? "any" : "error",
        }),
      ),
  });

  // Unroutable paths: extra, missing, doubled or dot segments, case, bad percent-encoding.
  const mangle = fc.tuple(plainPath, fc.nat(), fc.stringMatching(/^[a-z]{1,8}$/)).chain(([path, n, word]) => {
    const segments = path.split("/");
    const at = 1 + (n % (segments.length - 1));
    const change = (f: (s: string[]) => string[]) => f([...segments]).join("/");
    /** `Array.prototype.toSpliced` (ES2023, not in this project's lib). */
    const spliced = (s: string[], start: number, remove: number, ...items: string[]) => {
      s.splice(start, remove, ...items);
      return s;
    };
    return fc.constantFrom(
      `${path}/`,
      `/${path}`,
      `${path}/fuzz-${word}`,
      `${path}/..`,
      `${path}/.`,
      change((s) => spliced(s, at, 0, "..")),
      change((s) => spliced(s, at, 0, ".")),
      change((s) => spliced(s, at, 0, "%2e%2e")),
      change((s) => spliced(s, at, 1)),
      change((s) => spliced(s, at, 1, s[at]!.toUpperCase())),
      change((s) => spliced(s, at, 1, `${s[at]}%2F`)),
      change((s) => spliced(s, at, 1, `${s[at]}%00`)),
      path.replace("/v1/", "/v2/"),
      path.replace("/v1/", "/v1//"),
      `/v1/${"x".repeat(12_000)}`,
    );
  });
  attacks.push({
    weight: 2,
    arbitrary: mangle.map((path) =>
      req("path", wire(op.method, path, baseHeaders(baseBody), baseBody), {
        expect: routesTo(service, op.method, path) ? "any" : "error",
      }),
    ),
  });

  if (op.pathParams.length > 0) {
    // Bad percent-encoding in a path parameter: 400 (`bad_path`).
    attacks.push({
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom(...BAD_SEGMENTS), id).map(([bad, s]) =>
        req(
          `percent ${bad}`,
          wire(
            op.method,
            fillPath(op, () => `${s}${bad}`),
            baseHeaders(baseBody),
            baseBody,
          ),
        ),
      ),
    });
    // Odd ids, well encoded: they route to the operation ("any": 404 unless the resource exists).
    attacks.push({
      weight: 2,
      arbitrary: fc
        .oneof(fc.constantFrom(...ODD_IDS), fc.string({ unit: "binary", minLength: 1, maxLength: 40 }))
        .map((odd) =>
          req(
            "odd id",
            wire(
              op.method,
              fillPath(op, () => encodeSegment(odd)),
              baseHeaders(baseBody),
              baseBody,
            ),
            {
              expect: hasBody && !bodyAcceptable(op, baseBody) ? "error" : "any",
            },
          ),
        ),
    });
  }

  for (const param of op.queryParams) {
    if (!param.validate) continue;
    // A query value of the wrong kind (a random string for an enum): "any" only when its validator passes.
    attacks.push({
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("", "ATOMIC", "atomic ", "%zz")),
          plainPath,
        )
        .map(([value, path]) =>
          req(
            `query ${param.name}`,
            wire(op.method, `${path}?${param.name}=${encodeSegment(value)}`, baseHeaders(baseBody), baseBody),
            { expect: param.validate!(value) ? "any" : "error" },
          ),
        ),
    });
  }

  // Headers: duplicate Authorization, oversized, conflicting or broken framing headers, bad bytes.
  const headerAttack = fc.oneof(
    fc.constant(["authorization: Bearer a", "authorization: Bearer b"]),
    fc.constant(["authorization: Bearer a", "Authorization: Basic b"]),
    fc.constant(["Host: evil.example"]),
    fc.integer({ min: 17_000, max: 40_000 }).map((n) => [`x-fuzz: ${"x".repeat(n)}`]),
    fc
      .integer({ min: 1_200, max: 3_000 })
      .map((n) => Array.from({ length: n }, (_, i) => `x-f${i}: ${"y".repeat(8)}`)),
    fc.constant([`content-length: ${baseBody.length + 1}`]),
    fc.constant(["transfer-encoding: chunked"]),
    fc.constant(["content-length: abc"]),
    fc.constant(["bad header: x"]),
    fc.constant(["x-fuzz\u0001: y"]),
    fc.constant(["x-fuzz: a\u0000b"]),
    fc.constant([" folded: continuation"]),
    fc.constant([": empty-name"]),
  );
  attacks.push({
    weight: 3,
    arbitrary: fc.tuple(headerAttack, plainPath).map(([extra, path]) => {
      const headers = baseHeaders(baseBody);
      // Conflicting framing: replace nothing, add the second content-length / the transfer-encoding.
      const all = [...headers.slice(0, 2), ...extra, ...headers.slice(2)];
      return req(`header ${extra[0]!.slice(0, 24)}`, wire(op.method, path, all, baseBody));
    }),
  });

  // Broken framing: garbage request lines, versions, no Host.
  attacks.push({
    weight: 2,
    arbitrary: fc.oneof(
      fc
        .uint8Array({ minLength: 1, maxLength: 200 })
        .map((bytes) =>
          req(
            "garbage",
            Buffer.concat([
              Buffer.from([0x01]),
              Buffer.from(bytes).map((b) => (b === 0x0d || b === 0x0a ? 0x20 : b)),
              Buffer.from("\r\n\r\n"),
            ]),
          ),
        ),
      plainPath.map((path) =>
        req("version", Buffer.from(`${op.method} ${path} HTTP/1.1x\r\nhost: a\r\nconnection: close\r\n\r\n`)),
      ),
      plainPath.map((path) =>
        req("no host", Buffer.from(`${op.method} ${path} HTTP/1.1\r\nconnection: close\r\n\r\n`)),
      ),
      plainPath.map((path) =>
        req(
          "raw bytes in target",
          Buffer.from(`${op.method} ${path}\u00ff\u0007 HTTP/1.1\r\nhost: a\r\n\r\n`, "latin1"),
        ),
      ),
    ),
  });

  if (hasBody) {
    const contentType = fc.oneof(
      fc.constant(null),
      fc.constantFrom(
        "text/plain",
        "application/xml",
        "application/json; charset=latin1",
        'application/json; charset="utf-16"',
        "application/jsonx",
        "application/json\u00ff",
        "application/json; charset=utf-8\u00fe",
        "application/json, text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "",
        "json",
      ),
      fc
        .string({ maxLength: 30 })
        .map((s) => `x-${s.replaceAll("\r", "").replaceAll("\n", "").replaceAll("\u0000", "")}`),
    );
    // Content types other than UTF-8 JSON: 415 (a valid body).
    attacks.push({
      weight: 2,
      arbitrary: fc
        .tuple(contentType, plainPath)
        .map(([type, path]) =>
          req(`content-type ${type}`, wire(op.method, path, baseHeaders(baseBody, type), baseBody)),
        ),
    });

    const base = vector(op.requestBody!.schema) as Json;
    const bodies = fc.oneof(
      { weight: 3, arbitrary: mutatedVector(base).map((t) => ["vector edit", Buffer.from(t)] as const) },
      { weight: 1, arbitrary: hostileValue.map((t) => ["value", Buffer.from(t)] as const) },
      {
        weight: 1,
        arbitrary: fc
          .nat({ max: baseBody.length - 1 })
          .map((n) => ["truncated JSON", baseBody.subarray(0, n)] as const),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.nat({ max: baseBody.length }), fc.constantFrom(...BAD_UTF8))
          .map(
            ([n, bad]) =>
              [
                "invalid UTF-8",
                Buffer.concat([baseBody.subarray(0, n), Buffer.from(bad), baseBody.subarray(n)]),
              ] as const,
          ),
      },
      {
        weight: 1,
        arbitrary: fc.constant(["BOM", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), baseBody])] as const),
      },
    );
    // Bodies: "any" exactly when the server's reading and the validator accept them.
    attacks.push({
      weight: 6,
      arbitrary: fc
        .tuple(bodies, plainPath, fc.array(fc.nat(), { maxLength: 3 }))
        .map(([[kind, body], path, cuts]) => {
          const bytes = wire(op.method, path, baseHeaders(body), body);
          return req(`body ${kind}`, bytes, {
            expect: bodyAcceptable(op, body) ? "any" : "error",
            mayDrop: body.length > BODY_LIMIT,
            // Split at arbitrary points: the server must assemble the same request.
            splits: cuts.map((c) => c % bytes.length),
          });
        }),
    });
    // A body shorter than its content-length, then the client half-closes: no answer, or a 4xx.
    attacks.push({
      weight: 1,
      arbitrary: fc.tuple(fc.nat({ max: baseBody.length - 1 }), plainPath).map(([n, path]) => {
        const headers = baseHeaders(baseBody);
        return req("truncated upload", wire(op.method, path, headers, baseBody.subarray(0, n)), {
          mayDrop: true,
          endAfterWrite: true,
        });
      }),
    });
    // Chunked framing gone wrong: a bad chunk size.
    attacks.push({
      weight: 1,
      arbitrary: plainPath.map((path) =>
        req(
          "bad chunk",
          Buffer.from(
            `${op.method} ${path} HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
          ),
          { mayDrop: true },
        ),
      ),
    });
  }

  return fc.oneof(...attacks);
}
