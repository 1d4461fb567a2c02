/**
 * Matches a request to an operation of the table. Paths are matched segment by segment on the RAW
 * (still percent-encoded) path, so an id containing an encoded `/` (`%2F`) or `:` (`%3A`) stays one
 * segment and never collides with a custom-method suffix such as `{run_id}:cancel`; parameters are
 * decoded after matching.
 */
import type { OperationSpec } from "@arp/model";

type Part = { literal: string } | { param: string; suffix: string };

interface Route {
  op: OperationSpec;
  parts: Part[];
}

export type Match =
  | { kind: "found"; op: OperationSpec; params: Record<string, string> }
  | { kind: "not_found" }
  | { kind: "method_not_allowed"; allow: string[] }
  | { kind: "bad_path"; message: string };

function compile(op: OperationSpec): Route {
  const parts = op.path
    .split("/")
    .slice(1)
    .map((segment): Part => {
      const m = /^\{([^}]+)\}(.*)$/.exec(segment);
      return m ? { param: m[1]!, suffix: m[2]! } : { literal: segment };
    });
  return { op, parts };
}

export class Router {
  readonly #routes: Route[];

  constructor(operations: readonly OperationSpec[]) {
    this.#routes = operations.map(compile);
  }

  /** Which route matches `rawPath` (no query string), and with which method. */
  match(method: string, rawPath: string): Match {
    const segments = rawPath.split("/").slice(1);
    const allow: string[] = [];
    for (const route of this.#routes) {
      const params = matchParts(route.parts, segments);
      if (!params) continue;
      if (route.op.method !== method) {
        allow.push(route.op.method);
        continue;
      }
      const decoded: Record<string, string> = {};
      for (const [name, raw] of Object.entries(params)) {
        try {
          decoded[name] = decodeURIComponent(raw);
        } catch {
          return { kind: "bad_path", message: `path parameter ${name} is not valid percent-encoding` };
        }
      }
      return { kind: "found", op: route.op, params: decoded };
    }
    return allow.length > 0
      ? { kind: "method_not_allowed", allow: [...new Set(allow)] }
      : { kind: "not_found" };
  }
}

function matchParts(parts: readonly Part[], segments: readonly string[]): Record<string, string> | undefined {
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const segment = segments[i]!;
    if ("literal" in part) {
      if (segment !== part.literal) return undefined;
      continue;
    }
    // `{run_id}:cancel`: the id is what precedes the literal suffix; it must not be empty.
    if (!segment.endsWith(part.suffix) || segment.length === part.suffix.length) return undefined;
    params[part.param] = segment.slice(0, segment.length - part.suffix.length);
  }
  return params;
}
