/**
 * CORS for browser clients: the response headers of an allowed origin, and preflight answers. Off
 * unless the `cors` option is given.
 */
import type { RequestSide, ResponseSide } from "./transport.js";

export interface CorsOptions {
  /** Origins allowed to call the service from a browser (exact match), or `"*"`. */
  origins: readonly string[] | "*";
  /** Preflight cache lifetime. Default 600 s. */
  maxAgeSeconds?: number | undefined;
}

export class Cors {
  readonly #origins: readonly string[] | "*";
  readonly #preflightHeaders: Readonly<Record<string, string>>;

  constructor(options: CorsOptions) {
    this.#origins = options.origins === "*" ? "*" : [...options.origins];
    this.#preflightHeaders = Object.freeze({
      "access-control-allow-methods": "GET, POST",
      "access-control-allow-headers": "authorization, content-type, traceparent, user-agent",
      "access-control-max-age": String(options.maxAgeSeconds ?? 600),
    });
  }

  /**
   * Sets the CORS headers of `req`'s response, and answers it when it is a preflight of an allowed
   * origin: true when it was answered (nothing more to do).
   */
  answer(req: RequestSide, method: string, res: ResponseSide): boolean {
    const origins = this.#origins;
    if (origins !== "*") res.setHeader("vary", "Origin"); // the answer depends on the Origin
    const origin = req.headers.origin;
    if (!origin || (origins !== "*" && !origins.includes(origin))) return false;
    res.setHeader("access-control-allow-origin", origins === "*" ? "*" : origin);
    // Let browser code read what the client library needs from error responses.
    res.setHeader("access-control-expose-headers", "retry-after, www-authenticate");
    if (method !== "OPTIONS" || !req.headers["access-control-request-method"]) return false;
    res.writeHead(204, this.#preflightHeaders);
    res.end();
    return true;
  }
}
