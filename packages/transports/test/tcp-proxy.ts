import { createConnection, createServer, type Server, type Socket } from "node:net";

/** A TCP proxy on 127.0.0.1 in front of a broker, which a test can cut and reopen. */
export interface TcpProxy {
  readonly port: number;
  /** Destroys every connection and stops listening: clients see the broker vanish. Resolves with the number of client connections it destroyed. */
  readonly cut: () => Promise<number>;
  /** Listens again on the same port. */
  readonly reopen: () => Promise<void>;
  readonly close: () => Promise<void>;
  /** Client connections accepted so far. */
  readonly connections: () => number;
  /** Client connections destroyed by `cut` so far. */
  readonly cuts: () => number;
  /** The first bytes each client sent (up to 64), in the order the connections were accepted. */
  readonly openings: () => readonly Buffer[];
}

/** Starts a proxy to host:port on a free local port. */
export async function startTcpProxy(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  const firstBytes: Buffer[] = [];
  let total = 0;
  let destroyedByCut = 0;
  const make = (): Server =>
    createServer((client) => {
      total++;
      const index = firstBytes.length;
      firstBytes.push(Buffer.alloc(0));
      client.on("data", (chunk: Buffer) => {
        const seen = firstBytes[index]!;
        if (seen.length < 64) firstBytes[index] = Buffer.concat([seen, chunk]).subarray(0, 64);
      });
      const upstream = createConnection(target);
      sockets.add(client);
      sockets.add(upstream);
      clients.add(client);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
        clients.delete(client);
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
  const stop = (): Promise<number> =>
    new Promise((resolve) => {
      const destroyed = clients.size;
      for (const s of sockets) s.destroy();
      sockets.clear();
      clients.clear();
      if (!server.listening) return resolve(destroyed);
      server.close(() => resolve(destroyed));
    });
  return {
    port,
    cut: async () => {
      const destroyed = await stop();
      destroyedByCut += destroyed;
      return destroyed;
    },
    reopen: async () => {
      server = make();
      await listen(port);
    },
    close: async () => void (await stop()),
    connections: () => total,
    cuts: () => destroyedByCut,
    openings: () => firstBytes,
  };
}

/** host and port of a URL such as mqtt://127.0.0.1:1883. */
export function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: u.port === "" ? defaultPort : Number(u.port) };
}
