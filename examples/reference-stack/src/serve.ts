/**
 * One service of the stack on its own: `npx tsx src/serve.ts <service> [--port N] [--host H]
 * [--<peer>-url URL ...] [--issuer URL]`. Peers are found through the flags or the
 * `ARP_<SERVICE>_URL` variables; the service's own public URL (which the coordinator hands to
 * composite executors: a balancer's, when there are several replicas) is `--<service>-url` when
 * given, else where it listens. It prints `<service> <url>` once listening and stops on SIGTERM or
 * SIGINT. Auth is off, unless `--issuer URL` names a development token issuer (src/auth/issuer.ts):
 * then tokens of that issuer for this service are required, and the calls to peers carry tokens
 * it gives (`POST <issuer>/token`). `--cors-origin ORIGIN` lets a web page of that origin call it
 * (the run viewer's, for a gateway of `startStack({ processes })`).
 *
 * The run coordinator also takes `--store URL` (default `ARP_STORE_URL`, else in memory; see
 * src/store/open.ts), closed after the server at the stop, and `--replica-id`, `--lease-ms`,
 * `--sweep-ms` (its `replicaId`, `leaseMs`, `sweepIntervalMs`).
 */
import { parseArgs } from "node:util";
import type { ServerOptions } from "@arp/server";
import { devIssuerAuth, remoteTokens } from "./auth/issuer.js";
import { Peers } from "./peers.js";
import { answerMemoryQueries, runMain, untilStopped } from "./process.js";
import { type CoordinatorTuning, createService } from "./stack.js";
import type { Store } from "./store/interface.js";
import { openStore, STORE_URL_VARIABLE } from "./store/open.js";
import { DEFAULT_PORTS, SERVICE_KEYS, type ServiceKey, type StackUrls, urlVariable } from "./urls.js";

const USAGE = `Usage: npx tsx src/serve.ts <${SERVICE_KEYS.join("|")}> [--port N] [--host H] [--<peer>-url URL ...] [--issuer URL] [--cors-origin ORIGIN]
  run-coordinator only: [--store URL] [--replica-id ID] [--lease-ms N] [--sweep-ms N]
  --store URL   memory (default) or postgres://user:password@host:port/database[?schema=name]; default ${STORE_URL_VARIABLE}
`;

const COORDINATOR_FLAGS = ["store", "replica-id", "lease-ms", "sweep-ms"] as const;

async function main(): Promise<number> {
  const options: Record<string, { type: "string" }> = {
    port: { type: "string" },
    host: { type: "string" },
    issuer: { type: "string" },
    "cors-origin": { type: "string" },
  };
  for (const flag of COORDINATOR_FLAGS) options[flag] = { type: "string" };
  for (const key of SERVICE_KEYS) options[`${key}-url`] = { type: "string" };
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ options, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  const key = parsed.positionals[0] as ServiceKey | undefined;
  if (key === undefined || !SERVICE_KEYS.includes(key) || parsed.positionals.length > 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const port = Number(values.port ?? DEFAULT_PORTS[key]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be a port number (0-65535)\n`);
    return 2;
  }
  const coordinator: CoordinatorTuning = {};
  if (key === "run-coordinator") {
    if (values["replica-id"] !== undefined) coordinator.replicaId = values["replica-id"];
    for (const [flag, option] of [
      ["lease-ms", "leaseMs"],
      ["sweep-ms", "sweepIntervalMs"],
    ] as const) {
      const text = values[flag];
      if (text === undefined) continue;
      const n = Number(text);
      if (!Number.isSafeInteger(n) || n < 0) {
        process.stderr.write(`--${flag} must be a whole number of milliseconds >= 0, not ${text}\n`);
        return 2;
      }
      coordinator[option] = n;
    }
  } else {
    const misplaced = COORDINATOR_FLAGS.find((flag) => values[flag] !== undefined);
    if (misplaced !== undefined) {
      process.stderr.write(`--${misplaced} is for run-coordinator only\n${USAGE}`);
      return 2;
    }
  }
  const urls: Partial<StackUrls> = {};
  for (const peer of SERVICE_KEYS) {
    const url = values[`${peer}-url`] ?? process.env[urlVariable(peer)];
    if (url) urls[peer] = url;
  }
  const issuer = values.issuer?.replace(/\/+$/, "");
  const token = issuer === undefined ? undefined : remoteTokens(issuer, key);
  const origin = values["cors-origin"];
  const server: ServerOptions = {
    auth: issuer === undefined ? { mode: "disabled" } : devIssuerAuth(issuer, key),
    ...(origin === undefined ? {} : { cors: { origins: [origin] } }),
  };

  let store: Store | undefined;
  if (key === "run-coordinator") store = await openStore(values.store ?? process.env[STORE_URL_VARIABLE]);
  try {
    const service = createService(key, {
      peers: new Peers({ urls, ...(token ? { token } : {}) }),
      server,
      ...(store ? { store } : {}),
      ...(token ? { token } : {}),
      coordinator,
    });
    const running = await service.listen({ port, host: values.host ?? "127.0.0.1" });
    urls[key] ??= running.url;
    process.stdout.write(`${key} ${running.url}\n`);
    answerMemoryQueries();
    await untilStopped();
    await running.close();
  } finally {
    await store?.close();
  }
  return 0;
}

runMain(main);
