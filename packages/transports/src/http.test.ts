import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { http as httpBinding, serializeEvent } from "@millwright/events";
import { afterEach, describe, expect, it } from "vitest";
import { effects, waitFor, workOrderEvents } from "../test/fixtures.js";
import { startTcpProxy } from "../test/tcp-proxy.js";
import { createWebhookReceiver, createWebhookSender, signWebhook, verifyWebhook, SIGNATURE_HEADER } from "./http.js";

const secret = "whsec-test";
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
    const header = signWebhook({ secret, timestamp: 1_700_000_000, body, nonce: "n1" });
    expect(verifyWebhook({ header, body, secrets: [secret], now: 1_700_000_010 })._unsafeUnwrap().timestamp).toBe(1_700_000_000);
    expect(verifyWebhook({ header, body: '{"a":2}', secrets: [secret], now: 1_700_000_010 })._unsafeUnwrapErr().code).toBe("signature_mismatch");
    expect(verifyWebhook({ header, body, secrets: ["other"], now: 1_700_000_010 })._unsafeUnwrapErr().code).toBe("signature_mismatch");
    expect(verifyWebhook({ header, body, secrets: ["old", secret], now: 1_700_000_010 }).isOk()).toBe(true);
    expect(verifyWebhook({ header, body, secrets: [secret], now: 1_700_000_301 })._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "timestamp_stale",
        "message": "the signed timestamp 1700000000 is more than 300 s from now (1700000301)",
        "path": "/headers/millwright-signature",
        "value": "1700000000",
      }
    `);
    expect(verifyWebhook({ header: header.replace("t=1700000000", "t=1700000001"), body, secrets: [secret], now: 1_700_000_010 })._unsafeUnwrapErr().code).toBe("signature_mismatch");
    expect(verifyWebhook({ header: header.replace("n=n1", "n=n2"), body, secrets: [secret], now: 1_700_000_010 })._unsafeUnwrapErr().code).toBe("signature_mismatch");
    expect(verifyWebhook({ header: "v1=zz", body, secrets: [secret], now: 1 })._unsafeUnwrapErr().code).toBe("signature_malformed");
    expect(verifyWebhook({ header: undefined, body, secrets: [secret], now: 1 })._unsafeUnwrapErr().code).toBe("signature_missing");
  });
});

describe("webhook sender and receiver over node:http", () => {
  it.each(["structured", "binary", "batch"] as const)("delivers in %s mode and applies each effect once, also when sent twice", async (mode) => {
    const fx = effects();
    const receiver = createWebhookReceiver({ secrets: [secret], inbox: fx.inbox }, fx.handler);
    const url = await listen(receiver.listener);
    const sender = createWebhookSender({ url, secret, mode });
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
  });

  it("refuses a replayed request, a stale timestamp and a bad signature, and keeps an unreadable body as a dead letter", async () => {
    const fx = effects();
    const now = Date.now();
    const receiver = createWebhookReceiver({ secrets: [secret], inbox: fx.inbox, now: () => now }, fx.handler);
    const url = await listen(receiver.listener);
    const [event] = workOrderEvents(1);
    const { headers, body } = httpBinding.structured(event!);
    const signed = (timestamp: number, text = body as string): Record<string, string> => ({ ...(headers as Record<string, string>), [SIGNATURE_HEADER]: signWebhook({ secret, timestamp, body: text }) });
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

  it("fault: 2,000 events through a proxy that is cut twice: every effect exactly once, none lost", async () => {
    const fx = effects();
    const receiver = createWebhookReceiver({ secrets: [secret], inbox: fx.inbox, concurrency: 64 }, fx.handler);
    const url = new URL(await listen(receiver.listener));
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(url.port) });
    const sender = createWebhookSender({ url: `http://127.0.0.1:${proxy.port}/hooks`, secret, concurrency: 16, timeoutMs: 2000, retry: { maxAttempts: 20, baseDelayMs: 20, maxDelayMs: 200 } });
    const events = workOrderEvents(2000);
    const sending = sender.publish(events);
    for (const at of [400, 1200]) {
      await waitFor(() => fx.applied.length >= at, 20_000, () => `${at} effects (have ${fx.applied.length})`);
      await proxy.cut();
      await new Promise((r) => setTimeout(r, 200));
      await proxy.reopen();
    }
    const outcomes = (await sending)._unsafeUnwrap();
    // The clients really reconnected through the reopened proxy.
    expect(proxy.connections()).toBeGreaterThanOrEqual(3);
    await proxy.close();
    expect(outcomes.filter((o) => o.outcome !== "published")).toEqual([]);
    expect(fx.counts.size).toBe(2000);
    expect([...fx.counts.values()].every((n) => n === 1)).toBe(true);
  });
});
