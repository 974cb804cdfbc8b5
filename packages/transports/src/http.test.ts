import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import { connect as connectTcp, type AddressInfo, type Socket } from "node:net";
import { http as httpBinding, serializeEvent } from "@millwright/events";
import { afterEach, describe, expect, it } from "vitest";
import { effects, waitFor, workOrderEvents } from "../test/fixtures.js";
import { startTcpProxy, type TcpProxy } from "../test/tcp-proxy.js";
import type { DeliveryOutcome } from "./core.js";
import { createWebhookReceiver, createWebhookSender, signStandardWebhook, signWebhook, verifyStandardWebhook, verifyWebhook, SIGNATURE_HEADER } from "./http.js";

// A Standard Webhooks secret for the default scheme, and a plain one for the millwright scheme.
const secret = "whsec_dGhlIG1pbGx3cmlnaHQgdGVzdCBrZXkh";
const legacy = "millwright-test-secret";
const servers: Server[] = [];

async function listen(listener: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe("webhook signatures", () => {
  const body = '{"a":1}';
  it("verifies its own signature and refuses tampering, staleness and malformed headers", () => {
    const header = signWebhook({ secret: legacy, timestamp: 1_700_000_000, body, nonce: "n1" });
    expect(verifyWebhook({ header, body, secrets: [legacy], now: 1_700_000_010 })._unsafeUnwrap().timestamp).toBe(1_700_000_000);
    expect(verifyWebhook({ header, body: '{"a":2}', secrets: [legacy], now: 1_700_000_010 })._unsafeUnwrapErr().code).toBe("signature_mismatch");
    expect(verifyWebhook({ header, body, secrets: ["other"], now: 1_700_000_010 })._unsafeUnwrapErr().code).toBe("signature_mismatch");
    expect(verifyWebhook({ header, body, secrets: ["old", legacy], now: 1_700_000_010 }).isOk()).toBe(true);
    expect(verifyWebhook({ header, body, secrets: [legacy], now: 1_700_000_301 })._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "timestamp_stale",
        "message": "the signed timestamp 1700000000 is more than 300 s from now (1700000301)",
        "path": "/headers/millwright-signature",
        "value": "1700000000",
      }
    `);
    expect(verifyWebhook({ header: header.replace("t=1700000000", "t=1700000001"), body, secrets: [legacy], now: 1_700_000_010 })._unsafeUnwrapErr().code).toBe("signature_mismatch");
    expect(verifyWebhook({ header: header.replace("n=n1", "n=n2"), body, secrets: [legacy], now: 1_700_000_010 })._unsafeUnwrapErr().code).toBe("signature_mismatch");
    expect(verifyWebhook({ header: "v1=zz", body, secrets: [legacy], now: 1 })._unsafeUnwrapErr().code).toBe("signature_malformed");
    expect(verifyWebhook({ header: undefined, body, secrets: [legacy], now: 1 })._unsafeUnwrapErr().code).toBe("signature_missing");
  });
});

/** A request over node:http: the status and headers received, or what went wrong instead. */
function post(url: string, options: { headers: Record<string, string>; body: string | Buffer; timeoutMs?: number }): Promise<{ status: number; headers: IncomingHttpHeaders; text: string } | { failed: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: "POST", headers: options.headers, timeout: options.timeoutMs ?? 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (e) => resolve({ failed: `response: ${e.message}` }));
    });
    req.on("timeout", () => {
      req.destroy();
      resolve({ failed: "no answer" });
    });
    req.on("error", (e) => resolve({ failed: e.message }));
    req.end(options.body);
  });
}

/** A client on a raw socket that sends the head and part of a body, then nothing: the status it is answered, if any. */
function slowClient(url: string, headers: Record<string, string>, sent: string): { socket: Socket; status: Promise<number | undefined> } {
  const u = new URL(url);
  const socket = connectTcp(Number(u.port), u.hostname);
  const head = [`POST ${u.pathname} HTTP/1.1`, `host: ${u.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), "", ""].join("\r\n");
  socket.write(head + sent);
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

function within<T>(promise: Promise<T>, ms: number): Promise<T | "no answer"> {
  return Promise.race([promise, new Promise<"no answer">((r) => setTimeout(() => r("no answer"), ms))]);
}

describe("webhook receiver under hostile clients", () => {
  const signedHeaders = (body: string): Record<string, string> => ({
    "content-type": "application/cloudevents+json",
    ...signStandardWebhook({ secret, id: `msg_${body.length}`, timestamp: Math.floor(Date.now() / 1000), body }),
  });

  it("answers 400 to a signed body of deeply nested JSON, with a bounded reply", async () => {
    const fx = effects();
    const url = await listen(createWebhookReceiver({ secrets: [secret], inbox: fx.inbox }, fx.handler).listener);
    const body = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const answer = await post(url, { headers: signedHeaders(body), body });
    expect(answer).toMatchObject({ status: 400 });
    const reply = JSON.parse((answer as { text: string }).text) as Record<string, string>;
    expect(reply["code"]).toBeTypeOf("string");
    expect(JSON.stringify(reply).length).toBeLessThan(1000);
    expect(fx.applied).toEqual([]);
  });

  it("shows a bounded preview without control characters of an offending value, never the raw input", async () => {
    const fx = effects();
    const url = await listen(createWebhookReceiver({ secrets: [secret], inbox: fx.inbox }, fx.handler).listener);
    const [event] = workOrderEvents(1);
    const body = JSON.stringify({ ...JSON.parse(serializeEvent(event!)), subject: "\u0085\u009b[2J".repeat(5000) });
    const answer = await post(url, { headers: signedHeaders(body), body });
    expect(answer).toMatchObject({ status: 400 });
    const text = (answer as { text: string }).text;
    expect(text.length).toBeLessThan(1500);
    expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    const reply = JSON.parse(text) as Record<string, string>;
    expect(reply["message"]!.length).toBeLessThanOrEqual(300);
    if (reply["value"] !== undefined) expect(reply["value"].length).toBeLessThanOrEqual(120);
  });

  it.each([
    ["announced by Content-Length", true],
    ["sent chunked", false],
  ])("answers 413 with Connection: close to an oversized body %s, instead of resetting the connection", async (_name, announced) => {
    const fx = effects();
    const url = await listen(createWebhookReceiver({ secrets: [secret], inbox: fx.inbox, maxBodyBytes: 1024 }, fx.handler).listener);
    const body = "x".repeat(4 * 1024 * 1024);
    const headers = { ...signedHeaders(body), ...(announced ? { "content-length": String(body.length) } : { "transfer-encoding": "chunked" }) };
    const answer = await post(url, { headers, body });
    expect(answer).toMatchObject({ status: 413, headers: { connection: "close" } });
    expect(JSON.parse((answer as { text: string }).text)).toEqual({ code: "body_too_large", message: "the body exceeds 1024 bytes" });
  });

  it("serves signed requests while more slow unsigned clients than its concurrency are connected, and answers those 401 at once", async () => {
    const fx = effects();
    // A deadline longer than the test: only refusing unsigned requests before their body frees the slots.
    const receiver = createWebhookReceiver({ secrets: [secret], inbox: fx.inbox, concurrency: 2, bodyTimeoutMs: 60_000 }, fx.handler);
    const url = await listen(receiver.listener);
    const slow = Array.from({ length: 10 }, () => slowClient(url, { "content-type": "application/cloudevents+json", "content-length": "1000" }, '{"specversion":'));
    const sender = createWebhookSender({ url, secret, retry: { maxAttempts: 1 } });
    const events = workOrderEvents(3);
    const outcomes = (await sender.publish(events))._unsafeUnwrap();
    expect(outcomes.map((o) => o.outcome)).toEqual(["published", "published", "published"]);
    expect(fx.applied).toEqual(events.map((e) => e.id));
    expect(await within(Promise.all(slow.map((c) => c.status)), 5000)).toEqual(Array.from({ length: 10 }, () => 401));
    for (const c of slow) c.socket.destroy();
  });

  it("answers 408 to a signed request whose body does not arrive within bodyTimeoutMs, and frees its slot", async () => {
    const fx = effects();
    const receiver = createWebhookReceiver({ secrets: [secret], inbox: fx.inbox, concurrency: 1, bodyTimeoutMs: 500 }, fx.handler);
    const url = await listen(receiver.listener);
    const forged = signedHeaders('{"specversion":"1.0"}');
    const slow = slowClient(url, { ...forged, "content-length": "1000" }, '{"specversion":');
    await waitFor(() => receiver.stats().inFlight === 1, 5000, () => "the slow request to take the slot");
    const started = Date.now();
    expect(await within(slow.status, 5000)).toBe(408);
    expect(Date.now() - started).toBeLessThan(4000);
    slow.socket.destroy();
    const [event] = workOrderEvents(1);
    expect((await createWebhookSender({ url, secret, retry: { maxAttempts: 1 } }).publish([event!]))._unsafeUnwrap()[0]?.outcome).toBe("published");
    expect(fx.applied).toEqual([event!.id]);
  });
});

describe("webhook sender and redirects", () => {
  /** A server that records every request it gets, and answers with `answer`. */
  async function recording(answer: (path: string) => { status: number; location?: string }): Promise<{ url: string; got: { path: string; headers: IncomingHttpHeaders; body: string }[] }> {
    const got: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const url = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        got.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        const a = answer(req.url ?? "");
        res.writeHead(a.status, a.location === undefined ? {} : { location: a.location }).end();
      });
    });
    return { url, got };
  }

  it.each([301, 302, 303, 307, 308])("does not follow a %d to another origin: the other server receives nothing", async (status) => {
    const other = await recording(() => ({ status: 200 }));
    const first = await recording(() => ({ status, location: other.url }));
    const [event] = workOrderEvents(1);
    for (const followSameOriginRedirects of [false, true]) {
      const sender = createWebhookSender({ url: first.url, secret, headers: { authorization: "Bearer t0ken", "x-api-key": "k3y" }, followSameOriginRedirects, retry: { maxAttempts: 3, baseDelayMs: 5 } });
      const [outcome] = (await sender.publish([event!]))._unsafeUnwrap();
      expect(outcome).toMatchObject({ outcome: "failed", attempts: 1, error: { code: "publish_rejected", value: status } });
    }
    expect(first.got).toHaveLength(2);
    expect(other.got).toEqual([]);
  });

  it("follows a 307/308 to the same origin only when allowed, with the body and signature", async () => {
    const server = await recording((path) => (path === "/hooks" ? { status: 308, location: "/hooks/v2" } : { status: 200 }));
    const [event] = workOrderEvents(1);
    const refused = (await createWebhookSender({ url: server.url, secret }).publish([event!]))._unsafeUnwrap()[0];
    expect(refused).toMatchObject({ outcome: "failed", attempts: 1, error: { code: "publish_rejected", value: 308 } });
    expect(server.got.map((g) => g.path)).toEqual(["/hooks"]);
    const followed = (await createWebhookSender({ url: server.url, secret, followSameOriginRedirects: true }).publish([event!]))._unsafeUnwrap()[0];
    expect(followed).toMatchObject({ outcome: "published", attempts: 1 });
    expect(server.got.map((g) => g.path)).toEqual(["/hooks", "/hooks", "/hooks/v2"]);
    const target = server.got[2]!;
    expect(target.body).toBe(serializeEvent(event!));
    expect(verifyStandardWebhook({ headers: target.headers, body: target.body, secrets: [secret], now: Date.now() / 1000 }).isOk()).toBe(true);
  });

  it("refuses a same-origin 302 even when allowed: it would turn the POST into a GET", async () => {
    const server = await recording((path) => (path === "/hooks" ? { status: 302, location: "/elsewhere" } : { status: 200 }));
    const [event] = workOrderEvents(1);
    const outcome = (await createWebhookSender({ url: server.url, secret, followSameOriginRedirects: true }).publish([event!]))._unsafeUnwrap()[0];
    expect(outcome).toMatchObject({ outcome: "failed", error: { code: "publish_rejected", value: 302 } });
    expect(server.got.map((g) => g.path)).toEqual(["/hooks"]);
  });
});

describe("webhook sender and receiver over node:http", () => {
  it.each((["structured", "binary", "batch"] as const).flatMap((mode) => (["standard", "millwright"] as const).map((signature) => [mode, signature] as const)))(
    "delivers in %s mode signed by the %s scheme and applies each effect once, also when sent twice",
    async (mode, signature) => {
      const fx = effects();
      const key = signature === "standard" ? secret : legacy;
      const receiver = createWebhookReceiver({ secrets: [key], inbox: fx.inbox, signature }, fx.handler);
      const url = await listen(receiver.listener);
      const sender = createWebhookSender({ url, secret: key, mode, signature });
      const events = workOrderEvents(20);
      const first = (await sender.publish(events))._unsafeUnwrap();
      expect(first.every((o) => o.outcome === "published")).toBe(true);
      expect(first.map((o) => o.id)).toEqual(events.map((e) => e.id));
      (await sender.publish(events))._unsafeUnwrap();
      expect(fx.applied).toHaveLength(20);
      expect(new Set(fx.applied).size).toBe(20);
      expect(receiver.stats()).toMatchObject({ received: 40, processed: 20, duplicates: 20 });
      (await sender.close())._unsafeUnwrap();
      (await receiver.close())._unsafeUnwrap();
    },
  );

  it("millwright scheme: a sender with two secrets signs with both (t=…,n=…,v1=…,v1=…); a receiver knowing either accepts", async () => {
    const fx = effects();
    const [event] = workOrderEvents(1);
    for (const known of [legacy, "rotated-secret"]) {
      const url = await listen(createWebhookReceiver({ secrets: [known], inbox: fx.inbox, signature: "millwright" }, fx.handler).listener);
      const sender = createWebhookSender({ url, secret: [legacy, "rotated-secret"], signature: "millwright", retry: { maxAttempts: 1 } });
      expect((await sender.publish([event!]))._unsafeUnwrap()[0]?.outcome).toBe("published");
    }
    const unknown = await listen(createWebhookReceiver({ secrets: ["another"], inbox: fx.inbox, signature: "millwright" }, fx.handler).listener);
    const refused = (await createWebhookSender({ url: unknown, secret: [legacy, "rotated-secret"], signature: "millwright", retry: { maxAttempts: 1 } }).publish([event!]))._unsafeUnwrap()[0];
    expect(refused).toMatchObject({ outcome: "failed", error: { value: 401, message: expect.stringContaining("signature_mismatch") } });
    expect(fx.applied).toEqual([event!.id]);
  });

  it("a receiver of one scheme refuses requests signed by the other before reading the body", async () => {
    const fx = effects();
    const [event] = workOrderEvents(1);
    const standard = await listen(createWebhookReceiver({ secrets: [secret], inbox: fx.inbox }, fx.handler).listener);
    const millwright = await listen(createWebhookReceiver({ secrets: [legacy], inbox: fx.inbox, signature: "millwright" }, fx.handler).listener);
    const toStandard = (await createWebhookSender({ url: standard, secret: legacy, signature: "millwright", retry: { maxAttempts: 1 } }).publish([event!]))._unsafeUnwrap()[0];
    expect(toStandard).toMatchObject({ outcome: "failed", error: { code: "publish_rejected", value: 401, message: expect.stringContaining("signature_missing") } });
    const toMillwright = (await createWebhookSender({ url: millwright, secret, retry: { maxAttempts: 1 } }).publish([event!]))._unsafeUnwrap()[0];
    expect(toMillwright).toMatchObject({ outcome: "failed", error: { code: "publish_rejected", value: 401, message: expect.stringContaining("millwright-signature") } });
    expect(fx.applied).toEqual([]);
  });

  it("millwright scheme: refuses a replayed request, a stale timestamp and a bad signature, and keeps an unreadable body as a dead letter", async () => {
    const fx = effects();
    const now = Date.now();
    const receiver = createWebhookReceiver({ secrets: [legacy], inbox: fx.inbox, now: () => now, signature: "millwright" }, fx.handler);
    const url = await listen(receiver.listener);
    const [event] = workOrderEvents(1);
    const { headers, body } = httpBinding.structured(event!);
    const signed = (timestamp: number, text = body as string): Record<string, string> => ({ ...(headers as Record<string, string>), [SIGNATURE_HEADER]: signWebhook({ secret: legacy, timestamp, body: text }) });
    const t = Math.floor(now / 1000);
    const once = signed(t);
    expect((await fetch(url, { method: "POST", headers: once, body: body as string })).status).toBe(200);
    const replay = await fetch(url, { method: "POST", headers: once, body: body as string });
    expect(replay.status).toBe(409);
    expect((await fetch(url, { method: "POST", headers: signed(t - 301), body: body as string })).status).toBe(401);
    expect((await fetch(url, { method: "POST", headers: { ...once, [SIGNATURE_HEADER]: `t=${t},n=x,v1=${"0".repeat(64)}` }, body: body as string })).status).toBe(401);
    const garbage = JSON.stringify({ ...JSON.parse(serializeEvent(event!)), specversion: "0.3" });
    const bad = await fetch(url, { method: "POST", headers: signed(t, garbage), body: garbage });
    expect(bad.status).toBe(400);
    expect(fx.applied).toEqual([event!.id]);
    expect((await fx.inbox.deadLetters())._unsafeUnwrap()).toHaveLength(1);
  });

  it("retries 503s with backoff, gives up on a 400 at once, and times out a silent receiver", async () => {
    let calls = 0;
    const flaky = await listen((_req, res) => {
      calls++;
      res.writeHead(calls < 3 ? 503 : 200).end();
    });
    const [event] = workOrderEvents(1);
    const retried = (await createWebhookSender({ url: flaky, secret, retry: { baseDelayMs: 5 } }).publish([event!]))._unsafeUnwrap();
    expect(retried).toEqual([{ id: event!.id, outcome: "published", attempts: 3 }]);
    const refusing = await listen((_req, res) => void res.writeHead(400).end("no"));
    const refused = (await createWebhookSender({ url: refusing, secret, retry: { baseDelayMs: 5 } }).publish([event!]))._unsafeUnwrap()[0];
    expect(refused).toMatchObject({ outcome: "failed", attempts: 1, error: { code: "publish_rejected", value: 400 } });
    const silent = await listen(() => undefined);
    const timedOut = (await createWebhookSender({ url: silent, secret, timeoutMs: 100, retry: { maxAttempts: 2, baseDelayMs: 5 } }).publish([event!]))._unsafeUnwrap()[0];
    expect(timedOut).toMatchObject({ outcome: "failed", attempts: 2, error: { code: "timeout" } });
  });

  it("answers 503 beyond its concurrency and while closing, and close waits for requests in flight", async () => {
    const fx = effects();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const receiver = createWebhookReceiver({ secrets: [secret], inbox: fx.inbox, concurrency: 1 }, async (event, ctx) => {
      await gate;
      fx.handler(event, ctx);
    });
    const url = await listen(receiver.listener);
    const events = workOrderEvents(2);
    const sender = createWebhookSender({ url, secret, retry: { maxAttempts: 1 } });
    const slow = sender.publish([events[0]!]);
    await waitFor(() => receiver.stats().inFlight === 1, 5000, () => "the first request");
    expect((await sender.publish([events[1]!]))._unsafeUnwrap()[0]).toMatchObject({ outcome: "failed", error: { value: 503 } });
    const closed = receiver.close();
    release();
    (await closed)._unsafeUnwrap();
    expect((await slow)._unsafeUnwrap()[0]?.outcome).toBe("published");
    expect(fx.applied).toEqual([events[0]!.id]);
  });

  it("fault: 2,000 events through a proxy that is cut twice: connections cut, the sender retried, every effect exactly once, none lost", async () => {
    const fx = effects();
    let proxy: TcpProxy | undefined;
    const cutting: Promise<number>[] = [];
    let processed = 0;
    // The cuts are made while the 400th and the 1,200th effect's request is in the receiver, so
    // that request's answer is lost at least, and the sender must send it again.
    const onOutcome = (o: DeliveryOutcome): void => {
      if (o.action !== "ack" || !("outcome" in o) || o.outcome.outcome !== "processed") return;
      processed++;
      if ((processed === 400 || processed === 1200) && proxy !== undefined) {
        const p = proxy;
        cutting.push(p.cut().then(async (destroyed) => {
          await new Promise((r) => setTimeout(r, 200));
          await p.reopen();
          return destroyed;
        }));
      }
    };
    const receiver = createWebhookReceiver({ secrets: [secret], inbox: fx.inbox, concurrency: 64, onOutcome }, fx.handler);
    const url = new URL(await listen(receiver.listener));
    proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(url.port) });
    const sender = createWebhookSender({ url: `http://127.0.0.1:${proxy.port}/hooks`, secret, concurrency: 16, timeoutMs: 2000, retry: { maxAttempts: 20, baseDelayMs: 20, maxDelayMs: 200 } });
    const events = workOrderEvents(2000);
    const outcomes = (await sender.publish(events))._unsafeUnwrap();
    const cut = await Promise.all(cutting);
    await proxy.close();
    // The fault happened: two cuts, each destroying live connections, and the clients reconnected.
    expect(cut).toHaveLength(2);
    expect(cut.every((n) => n > 0)).toBe(true);
    expect(proxy.cuts()).toBe(cut[0]! + cut[1]!);
    expect(proxy.connections()).toBeGreaterThan(proxy.cuts());
    // Its consequence: the requests whose answers were lost were sent again, and the receiver
    // absorbed the copies: each effect exactly once.
    expect(outcomes.filter((o) => o.outcome !== "published")).toEqual([]);
    const retries = outcomes.reduce((n, o) => n + o.attempts - 1, 0);
    expect(retries).toBeGreaterThanOrEqual(2);
    expect(fx.counts.size).toBe(2000);
    expect([...fx.counts.values()].every((n) => n === 1)).toBe(true);
    const stats = receiver.stats();
    expect(stats.processed).toBe(2000);
    expect(stats.duplicates).toBeGreaterThanOrEqual(2);
    expect(stats.duplicates).toBeLessThanOrEqual(retries);
    expect(stats.received).toBe(2000 + stats.duplicates);
  }, 120_000);
});
