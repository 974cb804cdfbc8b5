import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createWebhookVerifier, signWebhook } from "./webhook.js";

const secret = "s3cret";
const body = '{"taskId":"T-1"}';
const t0 = 1_772_400_000;

describe("signed webhooks", () => {
  it("accepts a fresh, correctly signed body once and rejects its replay", () => {
    const verifier = createWebhookVerifier({ secret, now: () => t0 * 1000 });
    const headers = signWebhook({ secret, body, timestamp: t0 - 10 });
    expect(verifier.verify(headers, body)._unsafeUnwrap()).toBe(body);
    expect(verifier.verify(headers, body)._unsafeUnwrapErr().code).toBe("replayed");
    // A sender's retry is signed anew: it passes; the inbox deduplicates the event itself.
    expect(verifier.verify(signWebhook({ secret, body, timestamp: t0 - 5 }), body).isOk()).toBe(true);
  });

  it("rejects a changed body, a wrong secret, stale and future timestamps and missing headers", () => {
    const verifier = createWebhookVerifier({ secret, now: () => t0 * 1000, toleranceSeconds: 60 });
    const headers = signWebhook({ secret, body, timestamp: t0 });
    expect(verifier.verify(headers, '{"taskId":"T-2"}')._unsafeUnwrapErr().code).toBe("invalid_signature");
    expect(verifier.verify(signWebhook({ secret: "other", body, timestamp: t0 }), body)._unsafeUnwrapErr().code).toBe("invalid_signature");
    expect(verifier.verify({ ...headers, "x-wms-signature": "v1=00" }, body)._unsafeUnwrapErr().code).toBe("invalid_signature");
    expect(verifier.verify(signWebhook({ secret, body, timestamp: t0 - 61 }), body)._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "stale_timestamp",
        "header": "x-wms-timestamp",
        "message": "x-wms-timestamp "1772399939" is more than 60 s from now (1772400000)",
        "value": ""1772399939"",
      }
    `);
    expect(verifier.verify(signWebhook({ secret, body, timestamp: t0 + 61 }), body)._unsafeUnwrapErr().code).toBe("stale_timestamp");
    expect(verifier.verify({}, body)._unsafeUnwrapErr().code).toBe("missing_header");
  });

  it("verifies raw bytes as well as text", () => {
    const verifier = createWebhookVerifier({ secret, now: () => t0 * 1000 });
    const bytes = new TextEncoder().encode(body);
    expect(verifier.verify(signWebhook({ secret, body: bytes, timestamp: t0 }), bytes)._unsafeUnwrap()).toBe(body);
  });
});

/** A request over node:http: the status and headers received, or what went wrong instead. */
function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; headers: IncomingHttpHeaders; text: string } | { failed: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: "POST", headers, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("timeout", () => {
      req.destroy();
      resolve({ failed: "no answer" });
    });
    req.on("error", (e) => resolve({ failed: e.message }));
    req.end(body);
  });
}

/** A client on a raw socket that sends the head and part of a body, then nothing: the status it is answered, if any. */
function slowClient(port: number, headers: Record<string, string>): { socket: Socket; status: Promise<number | undefined> } {
  const socket = connect(port, "127.0.0.1");
  socket.write([`POST /webhooks HTTP/1.1`, `host: 127.0.0.1:${port}`, "content-length: 1000", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), "", '{"taskId":'].join("\r\n"));
  let received = "";
  const status = new Promise<number | undefined>((resolve) => {
    socket.on("data", (c: Buffer) => {
      received += c.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (m) resolve(Number(m[1]));
    });
    socket.on("close", () => resolve(undefined));
    socket.on("error", () => resolve(undefined));
  });
  return { socket, status };
}

const STATUS: Record<string, number> = { missing_header: 401, invalid_signature: 401, stale_timestamp: 401, replayed: 409, body_too_large: 413, body_timeout: 408 };

describe("receiving webhooks over node:http", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  /** A receiver as the docs show it, that handles one request at a time at most `slots` at once. */
  async function receiver(options: { slots: number; bodyTimeoutMs?: number; maxBodyBytes?: number }): Promise<{ port: number; url: string; bodies: string[] }> {
    const verifier = createWebhookVerifier({ secret, ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: options.bodyTimeoutMs }), ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }) });
    const bodies: string[] = [];
    let inFlight = 0;
    const server = createServer((req, res) => {
      if (inFlight >= options.slots) return void res.writeHead(503, { connection: "close" }).end();
      inFlight++;
      void verifier.receive(req).then((body) => {
        inFlight--;
        if (body.isErr()) return void res.writeHead(STATUS[body.error.code] ?? 400, { connection: "close", "content-type": "application/json" }).end(JSON.stringify(body.error));
        bodies.push(body.value);
        res.writeHead(200).end();
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return { port, url: `http://127.0.0.1:${port}/webhooks`, bodies };
  }

  const signed = (text: string): Record<string, string> => ({ "content-type": "application/json", ...signWebhook({ secret, body: text, timestamp: Date.now() / 1000 }) });

  it("answers slow unsigned clients 401 before their body, and serves signed webhooks while they are connected", async () => {
    const r = await receiver({ slots: 2, bodyTimeoutMs: 60_000 });
    const slow = Array.from({ length: 8 }, () => slowClient(r.port, { "content-type": "application/json" }));
    for (const n of [1, 2, 3]) expect(await post(r.url, signed(`{"taskId":"T-${n}"}`), `{"taskId":"T-${n}"}`)).toMatchObject({ status: 200 });
    expect(r.bodies).toEqual(['{"taskId":"T-1"}', '{"taskId":"T-2"}', '{"taskId":"T-3"}']);
    expect(await Promise.all(slow.map((c) => c.status))).toEqual(Array.from({ length: 8 }, () => 401));
    for (const c of slow) c.socket.destroy();
  });

  it("answers a signed webhook whose body does not arrive within bodyTimeoutMs 408", async () => {
    const r = await receiver({ slots: 1, bodyTimeoutMs: 300 });
    const slow = slowClient(r.port, signed('{"taskId":"T-1"}'));
    expect(await slow.status).toBe(408);
    slow.socket.destroy();
    expect(await post(r.url, signed('{"taskId":"T-2"}'), '{"taskId":"T-2"}')).toMatchObject({ status: 200 });
  });

  it("answers an oversized body 413 with Connection: close, also when its length is not announced", async () => {
    const r = await receiver({ slots: 4, maxBodyBytes: 1024 });
    const body = "x".repeat(4 * 1024 * 1024);
    expect(await post(r.url, signed(body), body)).toMatchObject({ status: 413, headers: { connection: "close" } });
    expect(await post(r.url, { ...signed(body), "transfer-encoding": "chunked" }, body)).toMatchObject({ status: 413, headers: { connection: "close" } });
    expect(r.bodies).toEqual([]);
  });
});

describe("error values", () => {
  it("show a header value as a bounded preview, never raw", () => {
    const verifier = createWebhookVerifier({ secret, now: () => t0 * 1000 });
    const long = `v1=${"ab\u0085".repeat(3000)}`;
    const error = verifier.verify({ "x-wms-timestamp": String(t0), "x-wms-signature": long }, body)._unsafeUnwrapErr();
    expect(error.code).toBe("invalid_signature");
    expect(String(error.value).length).toBeLessThanOrEqual(80);
    expect(String(error.value)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(verifier.checkHeaders({ "x-wms-timestamp": "1".repeat(5000), "x-wms-signature": `v1=${"0".repeat(64)}` })._unsafeUnwrapErr().message.length).toBeLessThan(200);
  });
});
