/**
 * The run viewer's web server: a tiny `node:http` server that serves exactly three things, the page
 * (`index.html`), its script (`viewer.js`, `src/viewer/page/main.ts` bundled by esbuild in memory
 * when the server starts, so there is no build step) and `config.json` (where the Run Gateway is,
 * with a secure stack a token for it, and with `workflows` more for the page's picker: a stack's
 * MCP tools). Nothing is read from the file system per request: the
 * paths are a fixed list, so no path can reach another file. The page talks to the gateway itself,
 * from the browser, which is why the gateway allows CORS for this server's origin (see stack.ts).
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { Workflow } from "./page/workflows.js";

/** The viewer's port under `npm start` (`--viewer-port N`; 0: any free port). */
export const DEFAULT_VIEWER_PORT = 8088;

/** What `GET /config.json` answers: all the page needs to know to reach the gateway. */
export interface ViewerConfig {
  /** The Run Gateway's base URL, as the browser reaches it. */
  gateway: string;
  /** With a secure stack: a bearer token for the gateway (audience `run-gateway`). */
  token?: string;
  /** When `token` expires (ms since the epoch): the page fetches `config.json` again before then. */
  token_expires_at?: number;
  /**
   * With the `workflows` option: more workflows for the page's picker, after its own (a stack's MCP
   * tools, `mcpWorkflows()` of `./mcp.ts`). The page reads them once, when it loads.
   */
  workflows?: Workflow[];
}

export interface ViewerOptions {
  /** Default {@link DEFAULT_VIEWER_PORT}; 0 lets the OS choose. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /**
   * The gateway's URL, read at each request: the viewer listens before the gateway does (the
   * gateway's CORS needs the viewer's origin), so with port 0 the URL is not known yet at start.
   */
  gateway: () => string | undefined;
  /** A token for the gateway, minted per `config.json` request (a secure stack's dev issuer). */
  token?: () => Promise<{ token: string; expiresAt: number }>;
  /**
   * More workflows for the page's picker, read at each `config.json` request (a stack's MCP tools:
   * the bridge's tool list can change while the stack runs). Their labels are shown as text.
   */
  workflows?: () => readonly Workflow[];
}

export interface RunningViewer {
  /** The page: `http://127.0.0.1:8088/`. */
  readonly url: string;
  /** The page's origin, `http://127.0.0.1:8088`: the only one the gateway allows (CORS). */
  readonly origin: string;
  close(): Promise<void>;
}

const PACKAGE_DIR = fileURLToPath(new URL("../..", import.meta.url));
const PAGE_ENTRY = fileURLToPath(new URL("./page/main.ts", import.meta.url));
const INDEX_HTML = fileURLToPath(new URL("./index.html", import.meta.url));

/**
 * `src/viewer/page/main.ts` with `@arp/client` and `@arp/model` bundled into one ES module for the
 * browser (a Node built-in anywhere in it is a build error), in memory.
 */
export async function bundleViewer(): Promise<string> {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [PAGE_ENTRY],
    absWorkingDir: PACKAGE_DIR,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0]?.text;
  if (code === undefined) throw new Error("esbuild produced no viewer bundle");
  return code;
}

const COMMON_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** The page may run only its own script and reach only its own server and the gateway. */
function contentSecurityPolicy(gateway: string | undefined): string {
  let gatewayOrigin = "";
  try {
    if (gateway !== undefined) gatewayOrigin = ` ${new URL(gateway).origin}`;
  } catch {
    // not a URL: the page will say it cannot reach the gateway
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    `connect-src 'self'${gatewayOrigin}`,
    "style-src 'unsafe-inline'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Starts the viewer's server; resolves once it listens (and the page's script is built). */
export async function startViewer(options: ViewerOptions): Promise<RunningViewer> {
  const [html, script] = await Promise.all([readFile(INDEX_HTML, "utf8"), bundleViewer()]);
  let authority = ""; // host:port of the origin, known once listening

  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    type: string,
    body: string,
    extra: Record<string, string> = {},
  ) => {
    const bytes = Buffer.from(body, "utf8");
    res.writeHead(status, {
      ...COMMON_HEADERS,
      "content-type": type,
      "content-length": String(bytes.length),
      ...extra,
    });
    res.end(req.method === "HEAD" ? undefined : bytes);
  };
  const text = "text/plain; charset=utf-8";

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    // The path exactly as sent, not normalized: `/x/../index.html` is not `/index.html`, it is a 404.
    const path = q === -1 ? raw : raw.slice(0, q);
    const known = path === "/" || path === "/index.html" || path === "/viewer.js" || path === "/config.json";
    if (!known) return send(req, res, 404, text, `not found: GET /, /viewer.js or /config.json\n`);
    if (req.method !== "GET" && req.method !== "HEAD") {
      return send(req, res, 405, text, "method not allowed\n", { allow: "GET, HEAD" });
    }
    // The gateway allows this origin only: a page opened under another name (localhost for
    // 127.0.0.1) could not call it, so it is sent to the origin that works. That also keeps
    // config.json (which may hold a token) from a page on another origin (DNS rebinding).
    if (req.headers.host !== authority) {
      if (path === "/" || path === "/index.html") {
        return send(req, res, 308, text, `the viewer is at http://${authority}/\n`, {
          location: `http://${authority}/`,
        });
      }
      return send(req, res, 421, text, `the viewer is at http://${authority}/\n`);
    }
    switch (path) {
      case "/":
      case "/index.html":
        return send(req, res, 200, "text/html; charset=utf-8", html, {
          "content-security-policy": contentSecurityPolicy(options.gateway()),
        });
      case "/viewer.js":
        return send(req, res, 200, "text/javascript; charset=utf-8", script);
      default: {
        const gateway = options.gateway();
        if (gateway === undefined) return send(req, res, 503, text, "the gateway is not up yet\n");
        const config: ViewerConfig = { gateway };
        if (options.token) {
          const issued = await options.token();
          config.token = issued.token;
          config.token_expires_at = issued.expiresAt;
        }
        if (options.workflows) config.workflows = [...options.workflows()];
        return send(req, res, 200, "application/json; charset=utf-8", JSON.stringify(config));
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(req, res, 500, text, "internal error\n");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? DEFAULT_VIEWER_PORT, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  authority = `${host}:${address.port}`;
  const origin = `http://${authority}`;
  return {
    url: `${origin}/`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
