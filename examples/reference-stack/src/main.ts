/**
 * `npm start`: the whole stack on loopback, the demo workflow with its events printed as they
 * stream, the final run as a tree, then the stack stays up until Ctrl-C (`--once`: exit after the
 * demo, 0 when the run succeeded). `--secure` requires JWTs everywhere (a development issuer
 * starts too). `--<service>-port N` moves a service; `--<service>-url URL` uses another
 * implementation of that service instead of starting ours. The run viewer, a web page, is on
 * `--viewer-port` (default 8088). `--store URL` (or `ARP_STORE_URL`) is the coordinator's store;
 * `--coordinators N` runs N coordinator processes on it, behind a balancer on the coordinator's port;
 * `--processes` runs every service in a process of its own. `--mcp NAME=COMMAND|URL` (repeatable)
 * makes the tools of an MCP server node types of the atomic executor (`mcp.NAME.TOOL`).
 */
import { parseArgs } from "node:util";
import { parseServerTarget } from "@arp/mcp";
import { runDemo } from "./demo.js";
import { readPolicyFile } from "./policy/policy.js";
import { runMain, untilStopped } from "./process.js";
import { type RunningStack, startStack } from "./stack.js";
import { redactUrl, STORE_URL_VARIABLE, storeKind } from "./store/open.js";
import { SERVICE_KEYS, type ServiceKey, type StackUrls, urlVariable } from "./urls.js";
import { DEFAULT_VIEWER_PORT } from "./viewer/server.js";

const HELP = `Usage: npm start -- [--once] [--secure] [--store URL] [--coordinators N] [--processes] [--policy FILE] [--host H] [--viewer-port N] [--<service>-port N] [--<service>-url URL] [--mcp NAME=COMMAND|URL ...]

Starts the seven services of the reference stack, runs the demo workflow and prints it.
  --once              exit after the demo (0 when the run succeeded, 1 otherwise)
  --secure            JWT auth everywhere, with a development token issuer
  --store URL         the coordinator's store: memory (the default) or
                      postgres://user:password@host:port/database[?schema=name] (default ${STORE_URL_VARIABLE})
  --coordinators N    N coordinator processes sharing the store (a postgres:// one), behind a
                      round-robin balancer on the run-coordinator port (default 1, in process)
  --processes         every service in a process of its own, as a deployment runs them
                      (default: one process, but for the replicas; not with --policy)
  --policy FILE       the PDP's policy document (JSON, see the README's PDP section;
                      default: the permissive development policy)
  --host H            where to listen (default 127.0.0.1)
  --viewer-port N     the run viewer's port (a web page; default ${DEFAULT_VIEWER_PORT}; 0: any free port)
  --<service>-port N  the port of a service (defaults 8080-8086; 0: any free port)
  --<service>-url U   use another implementation of that service (also ${urlVariable("node-registry")} etc.)
  --mcp NAME=CMD|URL  an MCP server (repeatable): its tools become node types mcp.NAME.TOOL of the
                      atomic executor, published to the registry (a URL: Streamable HTTP; else a command)
Services: ${SERVICE_KEYS.join(", ")}
`;

function options() {
  const spec: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {
    mcp: { type: "string", multiple: true },
    once: { type: "boolean" },
    secure: { type: "boolean" },
    host: { type: "string" },
    policy: { type: "string" },
    store: { type: "string" },
    coordinators: { type: "string" },
    processes: { type: "boolean" },
    "viewer-port": { type: "string" },
    help: { type: "boolean" },
  };
  for (const key of SERVICE_KEYS) {
    spec[`${key}-port`] = { type: "string" };
    spec[`${key}-url`] = { type: "string" };
  }
  return parseArgs({ options: spec, strict: true }).values as Record<
    string,
    string | boolean | string[] | undefined
  >;
}

async function main(): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = options();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const portOf = (flag: string): number | undefined | "bad" => {
    const port = values[flag];
    if (typeof port !== "string") return undefined;
    const n = Number(port);
    if (Number.isInteger(n) && n >= 0 && n <= 65535) return n;
    process.stderr.write(`--${flag} must be a port number (0-65535), not ${port}\n`);
    return "bad";
  };
  const ports: Partial<Record<ServiceKey, number>> = {};
  const external: Partial<StackUrls> = {};
  for (const key of SERVICE_KEYS) {
    const port = portOf(`${key}-port`);
    if (port === "bad") return 2;
    if (port !== undefined) ports[key] = port;
    const url = values[`${key}-url`] ?? process.env[urlVariable(key)];
    if (typeof url === "string" && url !== "") external[key] = url;
  }
  const viewerPort = portOf("viewer-port");
  if (viewerPort === "bad") return 2;
  const coordinators = Number(values.coordinators ?? 1);
  if (!Number.isSafeInteger(coordinators) || coordinators < 1) {
    process.stderr.write(`--coordinators must be a whole number >= 1, not ${values.coordinators}\n`);
    return 2;
  }
  const store = typeof values.store === "string" ? values.store : process.env[STORE_URL_VARIABLE];
  if (storeKind(store) === undefined) {
    process.stderr.write(`--store: unknown store ${redactUrl(store!)}: use memory or postgres://...\n`);
    return 2;
  }
  if (coordinators > 1 && storeKind(store) !== "postgres") {
    process.stderr.write(
      `--coordinators ${coordinators} needs --store postgres://... (or ${STORE_URL_VARIABLE}): a memory store cannot be shared across processes\n`,
    );
    return 2;
  }
  if (values.processes === true && typeof values.policy === "string") {
    process.stderr.write(
      "--processes: the PDP's policy cannot be handed to a process; leave out --policy or --processes\n",
    );
    return 2;
  }
  const mcp = (values.mcp as string[] | undefined) ?? [];
  try {
    for (const spec of mcp) parseServerTarget(spec);
  } catch (error) {
    process.stderr.write(`--mcp: ${(error as Error).message}\n`);
    return 2;
  }
  if (mcp.length > 0 && (values.processes === true || external["atomic-executor"] !== undefined)) {
    process.stderr.write(
      "--mcp: our atomic executor runs the MCP tools, in this process: not with --processes or --atomic-executor-url\n",
    );
    return 2;
  }
  let stack: RunningStack;
  try {
    stack = await startStack({
      ...(mcp.length > 0 ? { mcp } : {}),
      ports,
      external,
      secure: values.secure === true,
      ...(typeof store === "string" && store !== "" ? { store } : {}),
      coordinators,
      processes: values.processes === true,
      ...(typeof values.policy === "string" ? { policy: readPolicyFile(values.policy) } : {}),
      viewer: { port: viewerPort ?? DEFAULT_VIEWER_PORT },
      ...(typeof values.host === "string" ? { host: values.host } : {}),
    });
  } catch (error) {
    process.stderr.write(`the stack did not start: ${(error as Error).message}\n`);
    return 1;
  }
  const write = (line: string) => process.stdout.write(`${line}\n`);
  write("ARP reference stack:");
  for (const key of SERVICE_KEYS) {
    const balanced = key === "run-coordinator" && stack.balancer ? " (the balancer)" : "";
    const own = stack.processes.find((p) => p.service === key && !stack.replicas.includes(p));
    write(`  ${key.padEnd(19)} ${stack.urls[key]}${balanced}${own ? ` (pid ${own.pid})` : ""}`);
  }
  for (const [i, replica] of stack.replicas.entries())
    write(`  ${`  replica ${i + 1}`.padEnd(19)} ${replica.url} (pid ${replica.pid})`);
  for (const server of stack.mcp?.status() ?? [])
    write(
      `  mcp ${server.name.padEnd(15)} ${server.state}, ${server.nodeTypes} node types (mcp.${server.name}.*)`,
    );
  if (stack.issuer)
    write(`  token issuer        ${stack.issuer.issuer} (POST /token {"audience": "run-gateway"})`);
  const viewer = stack.viewer!;
  write(`  viewer              ${viewer.url}`);
  if (external["run-gateway"] !== undefined)
    write(`  (the viewer needs ${external["run-gateway"]} to allow CORS for ${viewer.origin})`);
  let code = 0;
  try {
    const run = await runDemo({
      gateway: stack.urls["run-gateway"],
      coordinator: stack.urls["run-coordinator"],
      ...(stack.issuer
        ? { token: async (audience) => (await stack.issuer!.mint(audience, "demo")).token }
        : {}),
      write,
    });
    code = run.state === "succeeded" ? 0 : 1;
    if (!values.once) write(`See it in the run viewer: ${viewer.url}#run=${encodeURIComponent(run.run_id)}`);
  } catch (error) {
    process.stderr.write(`the demo failed: ${(error as Error).message}\n`);
    code = 1;
  }
  if (values.once) {
    await stack.close();
    return code;
  }
  write("The stack is up; Ctrl-C stops it.");
  await untilStopped();
  await stack.close();
  return 0;
}

runMain(main);
