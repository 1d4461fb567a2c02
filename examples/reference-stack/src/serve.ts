/**
 * One service of the stack on its own: `npx tsx src/serve.ts <service> [--port N] [--host H]
 * [--<peer>-url URL ...]`. Peers are found through the flags or the `ARP_<SERVICE>_URL`
 * variables; the service's own public URL (which the coordinator hands to composite executors) is
 * `--<service>-url` when given, else where it listens. Auth is off: for a secure single service,
 * embed the class with your `auth` options.
 */
import { parseArgs } from "node:util";
import { Peers } from "./peers.js";
import { runMain, untilStopped } from "./process.js";
import { createService } from "./stack.js";
import { DEFAULT_PORTS, SERVICE_KEYS, type ServiceKey, type StackUrls, urlVariable } from "./urls.js";

const USAGE = `Usage: npx tsx src/serve.ts <${SERVICE_KEYS.join("|")}> [--port N] [--host H] [--<peer>-url URL ...]\n`;

async function main(): Promise<number> {
  const options: Record<string, { type: "string" }> = { port: { type: "string" }, host: { type: "string" } };
  for (const key of SERVICE_KEYS) options[`${key}-url`] = { type: "string" };
  let parsed: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ options, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const key = parsed.positionals[0] as ServiceKey | undefined;
  if (key === undefined || !SERVICE_KEYS.includes(key) || parsed.positionals.length > 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const port = Number(parsed.values.port ?? DEFAULT_PORTS[key]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be a port number (0-65535)\n`);
    return 2;
  }
  const urls: Partial<StackUrls> = {};
  for (const peer of SERVICE_KEYS) {
    const url = parsed.values[`${peer}-url`] ?? process.env[urlVariable(peer)];
    if (url) urls[peer] = url;
  }
  const service = createService(key, { peers: new Peers({ urls }), server: { auth: { mode: "disabled" } } });
  const running = await service.listen({ port, host: parsed.values.host ?? "127.0.0.1" });
  urls[key] ??= running.url;
  process.stdout.write(`${key} ${running.url}\n`);
  await untilStopped();
  await running.close();
  return 0;
}

runMain(main);
