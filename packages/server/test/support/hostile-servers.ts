/**
 * The servers of the hostile-input suite, in a child process of their own (started by
 * hostile.fuzz.test.ts with `--expose-gc`): the seven test services on loopback ports, so that the
 * generating client and the servers each get a core, and so that "the process stays up" and "no
 * prototype was polluted" are checked in the process that parsed the input.
 *
 * IPC: sends `{ ports }` once listening; answers `"report"` with `{ heap, prototypes, polluted,
 * errors }` (the heap after GC, with the test services' own stores emptied first), and `"close"` by
 * closing the servers and exiting.
 */
import type { ArpServerBase, RunningServer } from "../../src/index.js";
import { POLLUTION_MARK } from "./hostile.js";
import { type RecordingLogger, recordingLogger } from "./http.js";
import {
  TestAtomicExecutor,
  TestCompositeExecutor,
  TestNodeRegistry,
  TestPdp,
  TestRunCoordinator,
  TestRunGateway,
  TestSelection,
} from "./services.js";

export interface ServersReport {
  cpu: NodeJS.CpuUsage;
  heap: number;
  prototypes: string[];
  polluted: string[];
  errors: { service: string; count: number; first: unknown[] }[];
}

const MAKE: Record<string, (logger: RecordingLogger) => ArpServerBase> = {
  "run-gateway": (logger) => new TestRunGateway({ logger }),
  "run-coordinator": (logger) => new TestRunCoordinator({ logger }),
  "atomic-executor": (logger) => new TestAtomicExecutor({ logger }),
  "composite-executor": (logger) => new TestCompositeExecutor({ logger }),
  "node-registry": (logger) => new TestNodeRegistry({ logger }),
  selection: (logger) => new TestSelection({ logger }),
  pdp: (logger) => new TestPdp({ logger }),
};

const PROTOTYPES = [
  Object.prototype,
  Array.prototype,
  Function.prototype,
  String.prototype,
  Number.prototype,
];
const snapshot = () => PROTOTYPES.map((p) => Reflect.ownKeys(p).map(String).sort().join(","));

const running: { key: string; service: ArpServerBase; server: RunningServer; logger: RecordingLogger }[] = [];

/** Empties what the test services keep (runs, node types, ...): their data is not the server's. */
function clearStores(): void {
  for (const { service } of running) {
    for (const value of Object.values(service)) {
      if (value instanceof Map || value instanceof Set) value.clear();
      else if (Array.isArray(value)) value.length = 0;
    }
  }
}

async function heapAfterGc(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc");
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

async function report(): Promise<ServersReport> {
  clearStores();
  const probes = [{}, [], () => {}, "", 0] as unknown as Record<string, unknown>[];
  return {
    heap: await heapAfterGc(),
    cpu: process.cpuUsage(),
    prototypes: snapshot(),
    polluted: probes.filter((p) => p[POLLUTION_MARK] !== undefined).map((p) => typeof p),
    errors: running.map(({ key, logger }) => ({
      service: key,
      count: logger.errors.length,
      first: logger.errors.slice(0, 3),
    })),
  };
}

/**
 * Keeps errors and warnings, but only counts the debug lines (a client that went away, malformed
 * HTTP): a logger that kept one for every hostile request would be the leak the heap check finds.
 */
function countingLogger(): RecordingLogger {
  const logger = recordingLogger();
  let debugs = 0;
  logger.debug = () => {
    debugs++;
  };
  Object.defineProperty(logger, "debugCount", { get: () => debugs });
  return logger;
}

for (const [key, make] of Object.entries(MAKE)) {
  const logger = countingLogger();
  const service = make(logger);
  running.push({ key, service, logger, server: await service.listen({ port: 0 }) });
}
process.on("message", (message) => {
  if (message === "report") {
    void report().then((r) => process.send!({ report: r }));
  } else if (message === "close") {
    void Promise.all(running.map((r) => r.server.close({ timeoutMs: 1_000 }))).then(() => process.exit(0));
  }
});
process.send!({
  ports: Object.fromEntries(running.map(({ key, server }) => [key, Number(new URL(server.url).port)])),
});
