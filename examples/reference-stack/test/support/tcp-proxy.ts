/**
 * A loopback TCP proxy a test can cut: `stop()` destroys every connection through it and refuses
 * new ones, as a database that went away (or a network that broke) would look to a client;
 * `refuse(true)` only refuses new ones (those open stay up) until `refuse(false)`.
 */
import net from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Cuts every connection and stops accepting; resolves when the port is closed. */
  stop(): Promise<void>;
  /** While true, a new connection is closed as soon as it is accepted; open ones are left alone. */
  refuse(on: boolean): void;
}

/** `port`: where to listen (default any free port; give the old one to start a proxy again). */
export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const listening = (server.address() as net.AddressInfo).port;
  let stopped: Promise<void> | undefined;
  return {
    port: listening,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return stopped;
    },
    refuse(on) {
      refusing = on;
    },
  };
}
