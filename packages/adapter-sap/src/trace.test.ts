// Trace context through the SAP adapter with @opentelemetry/api alone (no SDK registered): the
// trace an incoming SAP event names is carried on, and nothing is added when there is none. The
// spans themselves are checked with an SDK in adapter-opcua/test/trace.integration.test.ts.
import type { ProductionConfirmation } from "@millwright/model";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { clone, fixture, testConfig } from "../test/helpers.js";
import { startSap } from "../test/sap-system.js";
import { handleProductionOrderEvent } from "./business-event.js";
import { createSapClient } from "./client.js";
import { postConfirmation } from "./post.js";
import type { TestSapServer } from "./test-server/index.js";

const PO = "API_PRODUCTION_ORDER_2_SRV";
const CONF = "API_PROD_ORDER_CONFIRMATION_2_SRV";
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const sapEvent = {
  specversion: "1.0",
  type: "sap.s4.beh.productionorder.v1.ProductionOrder.Released.v1",
  source: "/default/sap.s4.beh/S4PCLNT100",
  id: "a823e884-5edc-4194-a81a-f3a3632417ee",
  time: "2026-03-02T06:15:30Z",
  data: { ManufacturingOrder: "1000123" },
};
const confirmation: ProductionConfirmation = {
  confirmationId: "MES-1000123-0010-1",
  order: { orderId: "1000123", operationId: "0010" },
  site: { id: "1710" },
  yieldQuantity: { value: "120.000", unit: "KGM" },
  isFinal: false,
  postingDate: "2026-03-02",
  revision: "0",
  sourceRefs: [{ system: "MES", kind: "confirmation", key: "MES-1000123-0010-1" }],
};

let sap: TestSapServer | undefined;
afterEach(async () => {
  await sap?.close();
  sap = undefined;
});

async function withOrder(): Promise<TestSapServer> {
  const server = await startSap();
  const { __metadata: _m, ...row } = clone((fixture("production-order-1000123.json") as { d: Record<string, unknown> }).d);
  server.seed(PO, "A_ProductionOrder_2", [row]);
  return server;
}

describe("trace context without an SDK", () => {
  it("carries the SAP event's traceparent on to the canonical event", async () => {
    sap = await withOrder();
    const options = { client: createSapClient({ serviceUrl: sap.serviceUrl(PO), baseDelayMs: 1 }), config: testConfig(), source: "urn:millwright:sap:S4PCLNT100", keyProperty: "ManufacturingOrder" };
    // The API's no-op tracer makes no span of its own: the child is the incoming span context.
    const traced = (await handleProductionOrderEvent({ ...sapEvent, traceparent: TRACEPARENT, tracestate: "congo=t61rcWkgMzE" }, options))._unsafeUnwrap();
    expect([traced.traceparent, traced.tracestate]).toEqual([TRACEPARENT, "congo=t61rcWkgMzE"]);
    // An invalid traceparent is ignored (W3C Trace Context), and no trace context means none on the event.
    for (const event of [sapEvent, { ...sapEvent, traceparent: "00-garbage" }]) {
      const plain = (await handleProductionOrderEvent(event, options))._unsafeUnwrap();
      expect(plain.traceparent).toBeUndefined();
      expect(plain.id).toBe(traced.id);
    }
    // A caller's context is the fallback parent.
    const context = trace.setSpanContext(ROOT_CONTEXT, { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 });
    const fromCaller = (await handleProductionOrderEvent(sapEvent, { ...options, context }))._unsafeUnwrap();
    expect(fromCaller.traceparent).toBe("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  });

  it("sends the confirmation event's traceparent to SAP with the post, and nothing without one", async () => {
    sap = await startSap();
    const client = createSapClient({ serviceUrl: sap.serviceUrl(CONF), baseDelayMs: 1 });
    (await postConfirmation(client, confirmation, testConfig(), { event: { traceparent: TRACEPARENT } }))._unsafeUnwrap();
    (await postConfirmation(client, { ...confirmation, confirmationId: "MES-1000123-0010-2" }, testConfig()))._unsafeUnwrap();
    expect(sap.posts.map((p) => [p.status, p.traceparent])).toEqual([
      [201, TRACEPARENT],
      [201, undefined],
    ]);
  });

  it("lets no extra header replace the client's own", async () => {
    sap = await withOrder();
    const seen: Headers[] = [];
    const client = createSapClient({
      serviceUrl: sap.serviceUrl(PO),
      credentials: () => ({ kind: "basic", username: "u", password: "p" }),
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers));
        return fetch(input, init);
      },
    });
    await client.getEntity("A_ProductionOrder_2", "'1000123'", undefined, { headers: { traceparent: TRACEPARENT, Authorization: "Bearer stolen", Accept: "text/html" } });
    expect(seen[0]?.get("traceparent")).toBe(TRACEPARENT);
    expect(seen[0]?.get("authorization")).toBe(`Basic ${Buffer.from("u:p").toString("base64")}`);
    expect(seen[0]?.get("accept")).toBe("application/json");
  });
});
