import { createConnection, createServer, type Server, type Socket } from "node:net";

/** A TCP proxy on 127.0.0.1 in front of a broker, which a test can cut and reopen. */
export interface TcpProxy {
  readonly port: number;
  /** Destroys every connection and stops listening: clients see the broker vanish. */
  readonly cut: () => Promise<void>;
  /** Listens again on the same port. */
  readonly reopen: () => Promise<void>;
  readonly close: () => Promise<void>;
  readonly connections: () => number;
}

/** Starts a proxy to host:port on a free local port. */
export async function startTcpProxy(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let total = 0;
  const make = (): Server =>
    createServer((client) => {
      total++;
      const upstream = createConnection(target);
      sockets.add(client);
      sockets.add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  let server = make();
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        resolve(typeof address === "object" && address !== null ? address.port : port);
      });
    });
  const port = await listen(0);
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  return {
    port,
    cut: stop,
    reopen: async () => {
      server = make();
      await listen(port);
    },
    close: stop,
    connections: () => total,
  };
}

/** host and port of a URL such as mqtt://127.0.0.1:1883. */
export function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: u.port === "" ? defaultPort : Number(u.port) };
}
