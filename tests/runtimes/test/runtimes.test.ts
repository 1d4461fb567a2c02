/** Runs smoke.ts under the real Bun and Deno binaries and asserts that every check passed. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { bun, deno, runtimeEnv } from "./binaries.js";

const here = fileURLToPath(new URL("..", import.meta.url));

/** The checks smoke.ts runs, in order (the host name differs per runtime). */
function expectedLines(host: string): string[] {
  const checks = (how: string) => [
    `ok ${how}: client calls`,
    `ok ${how}: an error envelope is an ArpApiError`,
    `ok ${how}: a body that breaks the schema is 400 invalid_request`,
    `ok ${how}: a stream, ended by run_completed`,
    `ok ${how}: a client that leaves a stream aborts req.signal, the generator is finalized`,
    `ok ${how}: a cut stream is resumed, every seq once`,
  ];
  return ["ok a refused connection is an ArpTransportError", ...checks("listen()"), ...checks(host)];
}

function run(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: here,
        timeout: 120_000,
        env: runtimeEnv(),
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Generous: both runtimes start cold, while every package's tests share 2 cores in CI.
describe.each([
  {
    name: "Bun",
    host: "Bun.serve",
    command: bun,
    args: ["smoke.ts"],
    version: /^smoke: 13 passed on bun 1\./m,
  },
  {
    name: "Deno",
    host: "Deno.serve",
    command: deno,
    args: ["run", "--allow-all", "--no-lock", "smoke.ts"],
    version: /^smoke: 13 passed on deno 2\./m,
  },
])("$name", ({ host, command, args, version }) => {
  it("runs @arp/client and @arp/server (listen() and the fetch entry): every check passes", {
    timeout: 150_000,
  }, async () => {
    const result = await run(command(), args);
    expect(result.stderr.includes("smoke FAILED") ? result.stderr : "").toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n").filter((line) => line.startsWith("ok "))).toEqual(expectedLines(host));
    expect(result.stdout).toMatch(version);
  });
});
