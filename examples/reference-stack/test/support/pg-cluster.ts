/**
 * A private PostgreSQL cluster for one test file: its own temp folder, a free loopback port, trust
 * auth for user `arp`, durability off. For tests that stop and restart the server itself, which
 * they may not do to the shared `ARP_TEST_DATABASE_URL` one (other test files use it meanwhile).
 * The binaries: `ARP_TEST_PG_BIN`, else the newest `/usr/lib/postgresql/<version>/bin` with an
 * initdb. As root, initdb and pg_ctl run as the `postgres` user (initdb refuses root).
 */
import { execFile } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";

/** How `pg_ctl stop` stops the server: `fast` ends every session (mid-transaction), `immediate` as a crash. */
export type StopMode = "fast" | "immediate";

export interface Cluster {
  /** `postgres://arp@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  readonly port: number;
  /**
   * Stops the server (`pg_ctl stop -m mode`: every connection dropped), runs `whileDown` (if
   * given), and starts it again on the same port; resolves once it accepts connections.
   */
  restart(options: { mode: StopMode; whileDown?: () => Promise<void> }): Promise<void>;
  /** Stops the server (`immediate` by default); no error when it is already stopped. */
  stop(mode?: StopMode): Promise<void>;
  /** Stops the server and deletes its folder. */
  remove(): Promise<void>;
  /** The server's log so far. */
  log(): string;
}

/** The PostgreSQL bin folder, or undefined when none is installed. */
export function pgBinDir(): string | undefined {
  const given = process.env.ARP_TEST_PG_BIN;
  if (given) return given;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number.parseFloat(a) - Number.parseFloat(b));
  const newest = versions.at(-1);
  return newest === undefined ? undefined : join(root, newest, "bin");
}

const MISSING =
  "no PostgreSQL binaries for a private cluster: set ARP_TEST_PG_BIN or install postgresql (/usr/lib/postgresql/*/bin)";

/** `describe` when PostgreSQL is installed; else a skipped suite that says why (a failing one under CI=true). */
export function describeCluster(name: string, body: () => void): void {
  if (pgBinDir() !== undefined) {
    describe(name, body);
    return;
  }
  if (process.env.CI === "true") {
    describe(name, () => {
      it("has PostgreSQL binaries", () => {
        throw new Error(`${MISSING} (CI=true: these tests may not be skipped)`);
      });
    });
    return;
  }
  console.warn(`${name}: skipped, ${MISSING}`);
  describe.skip(name, body);
}

const isRoot = userInfo().uid === 0;

/** Runs `bin/<tool> args` (as `postgres` when root); rejects with its output on failure or timeout. */
function run(bin: string, tool: string, args: string[], timeoutMs: number): Promise<void> {
  const [file, argv] = isRoot
    ? ["runuser", ["-u", "postgres", "--", join(bin, tool), ...args]]
    : [join(bin, tool), args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: timeoutMs, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${tool} ${args.join(" ")}: ${error.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

/** Whether `port` on 127.0.0.1 can be listened on now. */
function canListen(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A free port below the kernel's ephemeral range: the server gives it up during a restart, and a
 * port the OS hands out for `listen(0)` elsewhere (other test files run meanwhile) could be taken
 * in that window; one below the range is only ever taken by asking for it.
 */
async function freePort(): Promise<number> {
  const range = existsSync("/proc/sys/net/ipv4/ip_local_port_range")
    ? readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number)
    : [49152];
  const below = Math.max(20_001, range[0] ?? 49152);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * (below - 20_000));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between 20000 and ${below}`);
}

export async function startCluster(): Promise<Cluster> {
  const bin = pgBinDir();
  if (bin === undefined) throw new Error(MISSING);
  const dir = mkdtempSync(join(tmpdir(), "arp-pg-cluster-"));
  try {
    chmodSync(dir, 0o755);
    if (isRoot) {
      const pgUser = await new Promise<string>((resolve, reject) =>
        execFile("id", ["-u", "postgres"], (error, stdout) => (error ? reject(error) : resolve(stdout))),
      );
      chownSync(dir, Number(pgUser.trim()), -1);
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const data = join(dir, "data");
  const logFile = join(dir, "server.log");
  const port = await freePort();
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  // fsync and full_page_writes off: only an OS crash would lose data, and there is none here.
  // synchronous_commit stays on: an `immediate` stop must not lose a transaction already committed.
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c full_page_writes=off",
    "-c max_connections=100",
  ].join(" ");
  const start = async () => {
    try {
      await run(
        bin,
        "pg_ctl",
        ["-D", data, "-l", logFile, "-w", "-t", "60", "-o", serverOptions, "start"],
        90_000,
      );
    } catch (error) {
      throw new Error(`PostgreSQL did not start: ${(error as Error).message}\nserver log:\n${log()}`);
    }
  };
  const stop = async (mode: StopMode = "immediate") => {
    if (!existsSync(join(data, "postmaster.pid"))) return;
    try {
      await run(bin, "pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "60", "stop"], 90_000);
    } catch (error) {
      throw new Error(`PostgreSQL did not stop: ${(error as Error).message}\nserver log:\n${log()}`);
    }
  };
  try {
    await run(
      bin,
      "initdb",
      ["-D", data, "-U", "arp", "--auth=trust", "-E", "UTF8", "--no-locale", "-N"],
      120_000,
    );
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `postgres://arp@127.0.0.1:${port}/postgres`,
    port,
    log,
    stop,
    async restart({ mode, whileDown }) {
      await stop(mode);
      try {
        await whileDown?.();
      } finally {
        await start();
      }
    },
    async remove() {
      try {
        await stop("immediate");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
