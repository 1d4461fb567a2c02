/**
 * A loopback TCP proxy that breaks what flows back to the client, one fault per connection, drawn
 * from a seeded random: `cut` (the connection is destroyed after some bytes: a reset), `truncate`
 * (the bytes stop mid-way and the connection ends cleanly: a FIN in the middle of a line), `stall`
 * (the bytes stop for a while, then flow on), or `none`. What the client sends passes untouched.
 */
import net from "node:net";
import { seededRandom } from "@arp/testkit";

export type Fault =
  | { kind: "none" }
  | { kind: "cut"; atByte: number }
  | { kind: "truncate"; atByte: number }
  | { kind: "stall"; atByte: number; ms: number };

export interface FaultProxy {
  readonly url: string;
  /** The fault each connection got, in order. */
  readonly faults: Fault[];
  close(): Promise<void>;
}

export async function startFaultProxy(
  target: string,
  options: { seed: number; maxByte: number; stallMs: number },
): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const random = seededRandom(options.seed);
  const sockets = new Set<net.Socket>();
  const faults: Fault[] = [];
  const draw = (): Fault => {
    const atByte = Math.floor(random() * options.maxByte);
    const r = random();
    if (r < 0.3) return { kind: "cut", atByte };
    if (r < 0.6) return { kind: "truncate", atByte };
    if (r < 0.85) return { kind: "stall", atByte, ms: Math.floor(random() * options.stallMs) };
    return { kind: "none" };
  };
  const server = net.createServer((client) => {
    const fault = draw();
    faults.push(fault);
    const upstream = net.connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on("end", () => upstream.end());
    client.pipe(upstream);
    let sent = 0;
    let broken = false;
    upstream.on("data", (chunk: Buffer) => {
      if (broken) return;
      const atByte = fault.kind === "none" ? Number.POSITIVE_INFINITY : fault.atByte;
      if (sent + chunk.length <= atByte) {
        sent += chunk.length;
        if (!client.write(chunk)) upstream.pause();
        return;
      }
      const head = chunk.subarray(0, atByte - sent);
      const rest = chunk.subarray(atByte - sent);
      sent = atByte;
      if (head.length > 0) client.write(head);
      if (fault.kind === "cut") {
        broken = true;
        client.resetAndDestroy();
        upstream.destroy();
      } else if (fault.kind === "truncate") {
        broken = true;
        client.end();
        upstream.destroy();
      } else if (fault.kind === "stall") {
        upstream.pause();
        const resumeAfter = setTimeout(() => {
          (fault as { atByte: number }).atByte = Number.POSITIVE_INFINITY; // once
          if (rest.length > 0) client.write(rest);
          upstream.resume();
        }, fault.ms);
        client.once("close", () => clearTimeout(resumeAfter));
      }
    });
    upstream.on("end", () => client.end());
    client.on("drain", () => upstream.resume());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
