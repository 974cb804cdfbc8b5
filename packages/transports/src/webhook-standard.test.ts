import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { http as httpBinding } from "@millwright/events";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { effects, workOrderEvents } from "../test/fixtures.js";
import { createWebhookReceiver, createWebhookSender } from "./http.js";
import { createWebhookSecret, parseWebhookSecret, signStandardWebhook, verifyStandardWebhook } from "./webhook-standard.js";

// The example secret of the Standard Webhooks specification, and a second one for rotation.
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const rotated = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const body = '{"specversion":"1.0","id":"e-1","source":"urn:millwright:test","type":"t","data":{"a":1}}';
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** What the `standardwebhooks` package says of a request: the parsed body, or its error message. */
function theirVerdict(key: string, payload: string, headers: Record<string, string>): unknown {
  try {
    return { ok: new Webhook(key).verify(payload, headers) };
  } catch (cause) {
    if (!(cause instanceof WebhookVerificationError)) throw cause;
    return { refused: cause.message };
  }
}

describe("Standard Webhooks: signed here, verified by the standardwebhooks package", () => {
  it("accepts our signature and refuses a tampered body, another key, a changed id and a stale timestamp", () => {
    const headers = { ...signStandardWebhook({ secret, id: "msg_1", timestamp: nowSeconds(), body }) };
    expect(theirVerdict(secret, body, headers)).toEqual({ ok: JSON.parse(body) });
    expect(theirVerdict(secret, body.replace('"a":1', '"a":2'), headers)).toEqual({ refused: "No matching signature found" });
    expect(theirVerdict(rotated, body, headers)).toEqual({ refused: "No matching signature found" });
    expect(theirVerdict(secret, body, { ...headers, "webhook-id": "msg_2" })).toEqual({ refused: "No matching signature found" });
    const stale = signStandardWebhook({ secret, id: "msg_1", timestamp: nowSeconds() - 600, body });
    expect(theirVerdict(secret, body, { ...stale })).toEqual({ refused: "Message timestamp too old" });
  });

  it("signs the specification's example exactly as the package does", () => {
    // The test vector of the specification: id msg_p5jXN8AQM9LWM0D4loKWxJek, timestamp 1614265330.
    const vector = { id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: '{"test": 2432232314}' };
    const ours = signStandardWebhook({ secret, ...vector })["webhook-signature"];
    expect(ours).toBe(new Webhook(secret).sign(vector.id, new Date(vector.timestamp * 1000), vector.body));
    expect(ours).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("a sender with two secrets (rotation) puts both signatures in one header; a receiver knowing either accepts", async () => {
    const seen: { headers: IncomingHttpHeaders; body: string }[] = [];
    const url = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(200).end();
      });
    });
    const [event] = workOrderEvents(1);
    const sender = createWebhookSender({ url, secret: [secret, rotated], retry: { maxAttempts: 1 } });
    expect((await sender.publish([event!]))._unsafeUnwrap()[0]?.outcome).toBe("published");
    const request = seen[0]!;
    const headers = { "webhook-id": String(request.headers["webhook-id"]), "webhook-timestamp": String(request.headers["webhook-timestamp"]), "webhook-signature": String(request.headers["webhook-signature"]) };
    expect(headers["webhook-id"]).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(theirVerdict(secret, request.body, headers)).toHaveProperty("ok");
    expect(theirVerdict(rotated, request.body, headers)).toHaveProperty("ok");
    expect(theirVerdict(createWebhookSecret(), request.body, headers)).toEqual({ refused: "No matching signature found" });
  });

  it("createWebhookSender keeps webhook-id across retries and signs each attempt afresh, every attempt verifiable by the package", async () => {
    const attempts: Record<string, string>[] = [];
    const url = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const headers = Object.fromEntries(["webhook-id", "webhook-timestamp", "webhook-signature"].map((h) => [h, String(req.headers[h])]));
        attempts.push(headers);
        const verdict = theirVerdict(secret, Buffer.concat(chunks).toString("utf8"), headers);
        res.writeHead(attempts.length < 3 ? 503 : "ok" in (verdict as object) ? 200 : 401).end();
      });
    });
    const events = workOrderEvents(3);
    const sender = createWebhookSender({ url, secret, mode: "batch", retry: { baseDelayMs: 5 } });
    const outcomes = (await sender.publish(events))._unsafeUnwrap();
    expect(outcomes.map((o) => o.outcome)).toEqual(["published", "published", "published"]);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a["webhook-id"])).size).toBe(1);
    expect(attempts[0]!["webhook-id"]).toMatch(/^batch_[A-Za-z0-9_-]{32}$/);
  });
});

describe("Standard Webhooks: signed by the standardwebhooks package, verified here", () => {
  it("accepts its signature and refuses a tampered body, a stale or future timestamp and a forged signature", () => {
    const now = nowSeconds();
    const signature = new Webhook(secret).sign("msg_1", new Date(now * 1000), body);
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": signature };
    expect(verifyStandardWebhook({ headers, body, secrets: [secret], now })._unsafeUnwrap()).toEqual({ id: "msg_1", timestamp: now });
    expect(verifyStandardWebhook({ headers, body: `${body} `, secrets: [secret], now })._unsafeUnwrapErr().code).toBe("signature_mismatch");
    expect(verifyStandardWebhook({ headers, body, secrets: [rotated], now })._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "signature_mismatch",
        "message": "no v1 signature matches the body with any configured secret",
        "path": "/headers/webhook-signature",
      }
    `);
    expect(verifyStandardWebhook({ headers, body, secrets: [secret], now: now + 301 })._unsafeUnwrapErr()).toEqual({
      code: "timestamp_stale",
      path: "/headers/webhook-timestamp",
      message: `the signed timestamp ${now} is more than 300 s from now (${now + 301})`,
      value: String(now),
    });
    expect(verifyStandardWebhook({ headers, body, secrets: [secret], now: now - 301 })._unsafeUnwrapErr().code).toBe("timestamp_stale");
    const forged = { ...headers, "webhook-signature": `v1,${Buffer.alloc(32, 7).toString("base64")}` };
    expect(verifyStandardWebhook({ headers: forged, body, secrets: [secret], now })._unsafeUnwrapErr().code).toBe("signature_mismatch");
  });

  it("accepts a header with several signatures when one matches a configured secret (rotation on either side), and skips other versions", () => {
    const now = nowSeconds();
    const theirs = (key: string): string => new Webhook(key).sign("msg_r", new Date(now * 1000), body);
    const unknown = `v1a,${Buffer.alloc(64, 1).toString("base64")}`;
    const headers = { "webhook-id": "msg_r", "webhook-timestamp": String(now), "webhook-signature": `${unknown} ${theirs(createWebhookSecret())} ${theirs(rotated)}` };
    expect(verifyStandardWebhook({ headers, body, secrets: [rotated], now }).isOk()).toBe(true);
    expect(verifyStandardWebhook({ headers, body, secrets: [secret, rotated], now }).isOk()).toBe(true);
    expect(verifyStandardWebhook({ headers, body, secrets: [secret], now }).isErr()).toBe(true);
    // The package agrees on the same header.
    expect(theirVerdict(rotated, body, headers)).toHaveProperty("ok");
  });

  it("names the header that is missing or malformed", () => {
    const now = nowSeconds();
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": new Webhook(secret).sign("msg_1", new Date(now * 1000), body) };
    const refused = (changed: Record<string, string | undefined>): unknown => {
      const error = verifyStandardWebhook({ headers: { ...headers, ...changed }, body, secrets: [secret], now })._unsafeUnwrapErr();
      return `${error.code} ${error.path}`;
    };
    expect(refused({ "webhook-id": undefined })).toBe("signature_missing /headers/webhook-id");
    expect(refused({ "webhook-timestamp": "soon" })).toBe("signature_malformed /headers/webhook-timestamp");
    expect(refused({ "webhook-signature": "v2,abc" })).toBe("signature_malformed /headers/webhook-signature");
    expect(refused({ "webhook-signature": "" })).toBe("signature_missing /headers/webhook-signature");
  });

  it("createWebhookReceiver processes a request signed by the package once, and answers 401 to a tampered or stale one", async () => {
    const fx = effects();
    const receiver = createWebhookReceiver({ secrets: [rotated, secret], inbox: fx.inbox }, fx.handler);
    const url = await listen(receiver.listener);
    const [event] = workOrderEvents(1, { run: "7" });
    const message = httpBinding.structured(event!);
    const text = String(message.body);
    const send = async (payload: string, timestamp: number): Promise<{ status: number; body: Record<string, unknown> }> => {
      const signature = new Webhook(secret).sign(event!.id, new Date(timestamp * 1000), text);
      const response = await fetch(url, {
        method: "POST",
        headers: { ...(message.headers as Record<string, string>), "webhook-id": event!.id, "webhook-timestamp": String(timestamp), "webhook-signature": signature },
        body: payload,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect(await send(text, nowSeconds())).toMatchObject({ status: 200, body: { outcomes: [{ id: event!.id, outcome: "processed" }] } });
    // The same message again (a retry keeps its webhook-id): answered, applied once.
    expect(await send(text, nowSeconds())).toMatchObject({ status: 200, body: { outcomes: [{ id: event!.id, outcome: "duplicate" }] } });
    expect(await send(text.replace(event!.id, "tampered"), nowSeconds())).toMatchObject({ status: 401, body: { code: "signature_mismatch" } });
    expect(await send(text, nowSeconds() - 3600)).toMatchObject({ status: 401, body: { code: "timestamp_stale" } });
    expect(fx.applied).toEqual([event!.id]);
    expect(receiver.stats()).toMatchObject({ received: 2, processed: 1, duplicates: 1 });
  });
});

describe("Standard Webhooks secrets", () => {
  it("are whsec_<base64>; anything else is refused with the way out", () => {
    expect(parseWebhookSecret(secret)._unsafeUnwrap().length).toBe(24);
    expect(parseWebhookSecret(createWebhookSecret())._unsafeUnwrap().length).toBe(32);
    expect(parseWebhookSecret("plant-demo-webhook-secret")._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "secret_malformed",
        "message": "a Standard Webhooks secret is whsec_<base64 key>; use signature: "millwright" for a plain shared secret",
        "path": "/secret",
      }
    `);
    expect(parseWebhookSecret("whsec_not base64!").isErr()).toBe(true);
    expect(parseWebhookSecret("whsec_").isErr()).toBe(true);
    const inbox = effects().inbox;
    expect(() => createWebhookSender({ url: "http://127.0.0.1:1/", secret: "s3cret" })).toThrow(RangeError);
    expect(() => createWebhookReceiver({ secrets: ["s3cret"], inbox }, () => undefined)).toThrow(RangeError);
    expect(() => createWebhookReceiver({ secrets: ["s3cret"], inbox, signature: "millwright" }, () => undefined)).not.toThrow();
  });
});

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
