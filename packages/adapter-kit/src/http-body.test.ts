import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { readBody, type BodyRead } from "./http-body.js";

interface Received {
  readonly read: BodyRead;
  readonly request: IncomingMessage;
  readonly ms: number;
}

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

/** A real node:http server whose handler reads the body once; resolves with what it read. */
async function serve(limit: number, timeoutMs: number): Promise<{ port: number; received: Promise<Received> }> {
  let deliver: (r: Received) => void = () => {};
  const received = new Promise<Received>((resolve) => (deliver = resolve));
  server = createServer((request, response) => {
    const started = Date.now();
    void readBody(request, limit, timeoutMs).then((read) => {
      deliver({ read, request, ms: Date.now() - started });
      response.writeHead("failed" in read ? 400 : 200, { connection: "close" }).end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, received };
}

/** A raw client: sends the head with a declared length and the given part of the body. */
function send(port: number, declared: number, part: string): Socket {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  socket.on("error", () => {});
  socket.write(`POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${declared}\r\n\r\n${part}`);
  return socket;
}

describe("readBody", () => {
  it("reads a whole body within the limit", async () => {
    const { port, received } = await serve(16, 2000);
    send(port, 11, '{"a":"bcd"}');
    const { read } = await received;
    expect("body" in read && read.body.toString("utf8")).toBe('{"a":"bcd"}');
  });

  it("stops at the limit, keeps nothing and pauses the request", async () => {
    const { port, received } = await serve(100, 2000);
    send(port, 1000, "x".repeat(1000));
    const { read, request } = await received;
    expect(read).toEqual({ failed: "body_too_large" });
    expect(request.isPaused()).toBe(true);
    expect(request.listenerCount("data")).toBe(0);
  });

  it("gives up on a body that does not arrive in time", async () => {
    const { port, received } = await serve(1000, 150);
    send(port, 1000, '{"taskId":');
    const { read, ms } = await received;
    expect(read).toEqual({ failed: "body_timeout" });
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ms).toBeLessThan(2000);
  });

  it("reports a client that goes away mid-body", async () => {
    const { port, received } = await serve(1000, 5000);
    const socket = send(port, 1000, '{"taskId":');
    setTimeout(() => socket.destroy(), 50);
    const { read, ms } = await received;
    expect(read).toEqual({ failed: "body_aborted" });
    expect(ms).toBeLessThan(4000);
  });
});
