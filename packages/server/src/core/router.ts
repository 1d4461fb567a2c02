/**
 * Matches a request to an operation of the table. Paths are matched segment by segment on the RAW
 * (still percent-encoded) path, so an id containing an encoded `/` (`%2F`) or `:` (`%3A`) stays one
 * segment and never collides with a custom-method suffix such as `{run_id}:cancel`; parameters are
 * decoded after matching.
 *
 * A service's router is built from its operation table once (`Router.of`), with each route's checks
 * (compiled validators, query parameters) beside it, and shared by every server of that service: a
 * match hands the pipeline everything it needs about the operation.
 */
import type { OperationSpec, ServiceSpec } from "@arp/model";
import { type OperationChecks, operationChecks } from "./checks.js";

type Part = { literal: string } | { param: string; suffix: string };

/** One operation of the table, ready to serve. */
export interface Route {
  readonly op: OperationSpec;
  readonly parts: readonly Part[];
  readonly checks: OperationChecks;
}

export type Match =
  | { kind: "found"; route: Route; params: Record<string, string> }
  | { kind: "not_found" }
  | { kind: "method_not_allowed"; allow: string[] }
  | { kind: "bad_path"; message: string };

function compile(op: OperationSpec): Route {
  const checks = operationChecks(op);
  const parts = op.path
    .split("/")
    .slice(1)
    .map((segment): Part => {
      const m = /^\{([^}]+)\}(.*)$/.exec(segment);
      return m ? { param: m[1]!, suffix: m[2]! } : { literal: segment };
    });
  return { op, parts, checks };
}

const routers = new WeakMap<ServiceSpec, Router>();

export class Router {
  readonly #routes: readonly Route[];

  /** The router of `service`, built from its table on first use. */
  static of(service: ServiceSpec): Router {
    let router = routers.get(service);
    if (router === undefined) {
      router = new Router(Object.values(service.operations));
      routers.set(service, router);
    }
    return router;
  }

  constructor(operations: readonly OperationSpec[]) {
    this.#routes = operations.map(compile);
  }

  /** Which route matches `rawPath` (no query string), and with which method. */
  match(method: string, rawPath: string): Match {
    const segments = rawPath.split("/");
    let allow: string[] | undefined;
    for (const route of this.#routes) {
      if (!matches(route.parts, segments)) continue;
      if (route.op.method !== method) {
        allow ??= [];
        if (!allow.includes(route.op.method)) allow.push(route.op.method);
        continue;
      }
      const params: Record<string, string> = {};
      for (let i = 0; i < route.parts.length; i++) {
        const part = route.parts[i]!;
        if ("literal" in part) continue;
        const segment = segments[i + 1]!;
        const raw = segment.slice(0, segment.length - part.suffix.length);
        try {
          params[part.param] = raw.includes("%") ? decodeURIComponent(raw) : raw;
        } catch {
          return { kind: "bad_path", message: `path parameter ${part.param} is not valid percent-encoding` };
        }
      }
      return { kind: "found", route, params };
    }
    return allow ? { kind: "method_not_allowed", allow } : { kind: "not_found" };
  }
}

/** Whether `segments` (the path split on `/`, with the empty string before the first `/`) fit `parts`. */
function matches(parts: readonly Part[], segments: readonly string[]): boolean {
  if (parts.length !== segments.length - 1) return false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const segment = segments[i + 1]!;
    if ("literal" in part) {
      if (segment !== part.literal) return false;
      continue;
    }
    // `{run_id}:cancel`: the id is what precedes the literal suffix; it must not be empty.
    if (!segment.endsWith(part.suffix) || segment.length === part.suffix.length) return false;
  }
  return true;
}
