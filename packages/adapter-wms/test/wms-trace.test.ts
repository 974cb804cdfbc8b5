// Trace context across the WMS boundary with @opentelemetry/api alone: the staging request sends
// the order's traceparent, the (traced) test WMS sends it back on its webhooks, and the events
// the receiver makes from them carry it.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createEvent, traceContextOf, withTraceContext } from "@millwright/events";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestWms, testWmsMapping, type TestWms } from "../src/test-server.js";
import { createWebhookVerifier, webhookTraceContext } from "../src/webhook.js";
import { sendWmsRequest } from "../src/wms-client.js";
import { createStagingRequest, toMaterialMovement } from "../src/wms-contract.js";
import { applyVendorMapping, createVendorMapping } from "../src/wms-mapping.js";
import { releasedOrder } from "./fixtures/canonical-records.js";

const secret = "trace-secret";
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const received: IncomingHttpHeaders[] = [];
const traceparents: (string | undefined)[] = [];
let receiver: Server;
let wms: TestWms;

beforeAll(async () => {
  const verifier = createWebhookVerifier({ secret });
  const mapping = createVendorMapping({ name: "test-wms", template: testWmsMapping })._unsafeUnwrap();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        received.push(req.headers);
        const body = verifier.verify(req.headers, Buffer.concat(chunks))._unsafeUnwrap();
        const movement = (await applyVendorMapping(mapping, JSON.parse(body) as unknown)).andThen((e) => toMaterialMovement(e, { system: "TEST-WMS" }))._unsafeUnwrap();
        const created = createEvent({ type: "dev.millwright.materialmovement.posted.v1", source: "urn:millwright:wms:test-wms", time: movement.occurredAt ?? `${movement.postingDate}T00:00:00Z`, data: movement })._unsafeUnwrap();
        traceparents.push(withTraceContext(created, webhookTraceContext(req.headers)).traceparent);
        res.writeHead(200).end();
      })();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  wms = await startTestWms({ secret, webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks` });
});

afterAll(async () => {
  await wms.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe("WMS trace context", () => {
  it("a staging request sent in an order's trace comes back on the webhooks, and onto the events", async () => {
    const request = createStagingRequest(releasedOrder, { destination: { site: { id: "1710" }, bin: "LINE-1" }, requestedAt: "2026-03-02T05:00:00+01:00" })._unsafeUnwrap();
    // The order's trace, as a consumer gets it from the released event.
    const context = traceContextOf({ traceparent: TRACEPARENT });
    expect((await sendWmsRequest(request, { url: `${wms.url}/requests`, context }))._unsafeUnwrap()).toBe(202);
    await wms.idle();
    expect(received.length).toBeGreaterThan(0);
    // Without an SDK the request's span is the order's span context itself.
    expect(new Set(received.map((h) => h["traceparent"]))).toEqual(new Set([TRACEPARENT]));
    expect(new Set(traceparents)).toEqual(new Set([TRACEPARENT]));
  });

  it("sends no traceparent outside a trace, and a webhook without one gives the base context", async () => {
    const request = createStagingRequest({ ...releasedOrder, revision: "20990101000000" }, { destination: { site: { id: "1710" }, bin: "LINE-1" }, requestedAt: "2026-03-02T05:00:00+01:00" })._unsafeUnwrap();
    const before = received.length;
    expect((await sendWmsRequest(request, { url: `${wms.url}/requests` }))._unsafeUnwrap()).toBe(202);
    await wms.idle();
    expect(received.slice(before).map((h) => h["traceparent"])).toEqual(received.slice(before).map(() => undefined));
    expect(webhookTraceContext({})).toBe(ROOT_CONTEXT);
    expect(trace.getSpanContext(webhookTraceContext({ traceparent: TRACEPARENT, tracestate: "congo=1" }))).toMatchObject({ spanId: "b7ad6b7169203331", isRemote: true });
  });
});
