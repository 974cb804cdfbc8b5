// One order's path is one trace: SAP releases order 1000123 (its business event carries SAP's
// traceparent) → the SAP adapter reads the order and makes the canonical released event → the MES
// continues from the event's trace context and dispatches the order to the line → the OPC UA
// adapter emits the line's machine states and counts for the order in that trace → the MES
// confirms → postConfirmation sends the confirmation to SAP with the traceparent header.
// The real pieces run: the EDMX-driven SAP test server, a node-opcua server with the PackML line,
// and an OpenTelemetry SDK (BasicTracerProvider, in-memory exporter, AsyncLocalStorage contexts).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createSapClient, createSapConfig, handleProductionOrderEvent, postConfirmation } from "@millwright/adapter-sap";
import { startTestSapServer, type TestSapServer } from "@millwright/adapter-sap/test-server";
import { createEvent, traceContextOf, withTraceContext, type CanonicalEvent } from "@millwright/events";
import { parseProductionConfirmation, sumQuantities, type ProductionCount } from "@millwright/model";
import { context, trace, type Context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAdapterConfig } from "../src/config.js";
import type { AdapterEvent } from "@millwright/adapter-kit";
import { startOpcuaAdapter } from "../src/runtime.js";
import { createMemoryCounterStore } from "@millwright/adapter-kit";
import { delay, NODES, SimulatedLine } from "../src/test-server/index.js";

const ORDER = "1000123";
const PO = "API_PRODUCTION_ORDER_2_SRV";
const CONF = "API_PROD_ORDER_CONFIRMATION_2_SRV";
const SAP_SOURCE = "urn:millwright:sap:S4PCLNT100";
const MES_SOURCE = "urn:millwright:mes:line-fab";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
// The MES's tracer: spans of the consumer that continues the order's trace.
const mes = () => trace.getTracer("plant-mes");

function edmx(service: string): string {
  return readFileSync(createRequire(import.meta.url).resolve(`@millwright/adapter-sap/metadata/${service}.edmx`), "utf8");
}

function stripMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripMetadata);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== "__metadata").map(([k, v]) => [k, stripMetadata(v)]));
}

const traceIdOf = (traceparent: string | undefined): string | undefined => traceparent?.split("-")[1];
const spanIdOf = (traceparent: string | undefined): string | undefined => traceparent?.split("-")[2];

let sap: TestSapServer;
let line: SimulatedLine;

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
  sap = await startTestSapServer({ services: [PO, CONF].map((name) => ({ name, edmx: edmx(name) })) });
  line = new SimulatedLine({ order: "" });
  await line.start();
});

afterAll(async () => {
  await line.stop();
  await sap.close();
  await provider.shutdown();
  trace.disable();
  context.disable();
});

describe("one order's path SAP → MES → line → SAP is one trace", () => {
  /** Every canonical event of the order, in the order they were made. */
  const events: CanonicalEvent[] = [];
  /** The line's events, and the span context their handler ran in. */
  const lineEvents: { readonly event: AdapterEvent; readonly handlerTraceId: string | undefined }[] = [];
  let sapRootTraceparent = "";

  it("runs the order through the real adapters", async () => {
    const config = createSapConfig({ system: "S4PCLNT100", timeZone: "America/Los_Angeles", extensions: { namespace: "sap" }, outboundUnits: { H87: "ST" } })._unsafeUnwrap();
    const fixture = JSON.parse(readFileSync(new URL("./fixtures/sap-production-order.json", import.meta.url), "utf8")) as { d: unknown };
    sap.seed(PO, "A_ProductionOrder_2", [stripMetadata(fixture.d) as Record<string, unknown>]);

    // 1. SAP releases the order; its business event carries SAP's trace context.
    const sapSpan = trace.getTracer("sap-event-mesh").startSpan("sap.productionorder.released");
    sapRootTraceparent = `00-${sapSpan.spanContext().traceId}-${sapSpan.spanContext().spanId}-01`;
    sapSpan.end();
    const sapEvent = {
      specversion: "1.0",
      type: "sap.s4.beh.productionorder.v1.ProductionOrder.Released.v1",
      source: "/default/sap.s4.beh/S4PCLNT100",
      id: "a823e884-5edc-4194-a81a-f3a3632417ee",
      time: "2026-03-01T06:15:30Z",
      traceparent: sapRootTraceparent,
      data: { ManufacturingOrder: ORDER },
    };
    const orderClient = createSapClient({ serviceUrl: sap.serviceUrl(PO), baseDelayMs: 20 });
    const released = (await handleProductionOrderEvent(sapEvent, { client: orderClient, config, source: SAP_SOURCE, keyProperty: "ManufacturingOrder" }))._unsafeUnwrap();
    events.push(released);

    // 2. The MES continues from the released event and dispatches the order to the line; the
    //    OPC UA adapter emits the line's events for the order in the dispatch's trace context.
    const orderContexts = new Map<string, Context>();
    const adapter = (
      await startOpcuaAdapter({
        config: parseAdapterConfig({
          endpointUrl: line.endpointUrl,
          sourceSystem: "urn:millwright:opcua:line-fab",
          equipment: { id: "FAB", level: "production_line", site: { id: "1710" } },
          countObjectNodeId: NODES.admin,
          publishingInterval: 50,
          signals: [
            { role: "machine_state", nodeId: NODES.state, mapping: { kind: "packml" }, samplingInterval: 0 },
            { role: "good_count", nodeId: NODES.good, samplingInterval: 0 },
            { role: "defective_count", nodeId: NODES.defective, samplingInterval: 0 },
            { role: "order_number", nodeId: NODES.order, samplingInterval: 0 },
          ],
        })._unsafeUnwrap(),
        store: createMemoryCounterStore(),
        traceContextFor: (orderId) => orderContexts.get(orderId),
        // The MES applies each line event in a span of its own: a child of the event's span.
        handler: (event) =>
          mes().startActiveSpan("mes.line-event.apply", (span) => {
            lineEvents.push({ event, handlerTraceId: trace.getSpanContext(context.active())?.traceId });
            span.end();
          }),
        reconnectDelay: { initial: 100, max: 500 },
      })
    )._unsafeUnwrap();
    for (let i = 0; adapter.status() !== "connected"; i++) {
      if (i > 200) throw new Error("the OPC UA adapter did not connect to the line");
      await delay(25);
    }
    await mes().startActiveSpan("mes.order.dispatch", { attributes: { "millwright.order.id": ORDER } }, traceContextOf(released), async (span) => {
      orderContexts.set(ORDER, context.active());
      line.setOrder(ORDER);
      line.setState(6); // PackML Execute
      for (const [good, defective] of [[40, 0], [38, 1]] as const) {
        await delay(200);
        line.produce(good, defective);
      }
      await delay(200);
      line.setState(17); // PackML Complete
      await delay(300);
      await adapter.idle();
      span.end();
    });
    (await adapter.stop())._unsafeUnwrap();
    events.push(...lineEvents.map((l) => l.event));

    // 3. The MES confirms the counted yield, in the order's trace; the confirmation goes to SAP.
    const counts = lineEvents.map((l) => l.event).filter((e) => e.type === "dev.millwright.productioncount.counted.v1").map((e) => e.data as ProductionCount);
    expect(counts.length).toBeGreaterThan(0);
    const confirmation = parseProductionConfirmation({
      confirmationId: `MES-${ORDER}-0030-1`,
      order: { orderId: ORDER, operationId: "0030" },
      site: { id: "1710" },
      yieldQuantity: sumQuantities(counts.map((c) => c.goodQuantity), "H87")._unsafeUnwrap(),
      scrapQuantity: sumQuantities(counts.map((c) => c.defectiveQuantity), "H87")._unsafeUnwrap(),
      isFinal: true,
      postingDate: "2026-03-02",
      revision: "0",
      sourceRefs: [{ system: "mes-fab", kind: "confirmation", key: `MES-${ORDER}-0030-1` }],
    })._unsafeUnwrap();
    const confirmed = mes().startActiveSpan("mes.order.confirm", {}, traceContextOf(released), (span) => {
      const event = withTraceContext(createEvent({ type: "dev.millwright.productionconfirmation.confirmed.v1", source: MES_SOURCE, time: "2026-03-02T06:00:00-08:00", data: confirmation })._unsafeUnwrap());
      span.end();
      return event;
    });
    events.push(confirmed);
    const confirmationClient = createSapClient({ serviceUrl: sap.serviceUrl(CONF), baseDelayMs: 20 });
    const posted = await postConfirmation(confirmationClient, confirmed.data as typeof confirmation, config, { event: confirmed });
    expect(posted._unsafeUnwrap().alreadyPosted).toBe(false);
  }, 30_000);

  it("every span of the order shares one trace id, with the right parents", () => {
    const spans = exporter.getFinishedSpans();
    const traceId = traceIdOf(sapRootTraceparent) as string;
    const byName = (name: string): ReadableSpan[] => spans.filter((s) => s.name === name);
    const one = (name: string): ReadableSpan => {
      const found = byName(name);
      expect(found, name).toHaveLength(1);
      return found[0] as ReadableSpan;
    };
    const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

    const sapRead = one("sap.productionorder.read");
    const dispatch = one("mes.order.dispatch");
    const confirm = one("mes.order.confirm");
    const post = one("sap.productionconfirmation.post");
    expect(parentOf(sapRead)).toBe(spanIdOf(sapRootTraceparent));
    expect(sapRead.parentSpanContext?.isRemote).toBe(true);
    expect(sapRead.attributes).toMatchObject({ "millwright.order.id": ORDER, "cloudevents.event_type": "sap.s4.beh.productionorder.v1.ProductionOrder.Released.v1" });
    expect(sapRead.instrumentationScope.name).toBe("@millwright/adapter-sap");
    expect(parentOf(dispatch)).toBe(sapRead.spanContext().spanId);
    expect(parentOf(confirm)).toBe(sapRead.spanContext().spanId);
    expect(parentOf(post)).toBe(confirm.spanContext().spanId);

    // The line's spans for the order are children of the dispatch; the MES's handler spans are children of theirs.
    const lineSpans = spans.filter((s) => s.name.startsWith("opcua.") && s.attributes["millwright.order.id"] === ORDER);
    expect(new Set(lineSpans.map((s) => s.name))).toEqual(new Set(["opcua.machinestate.changed", "opcua.productioncount.counted"]));
    for (const span of lineSpans) {
      expect(parentOf(span)).toBe(dispatch.spanContext().spanId);
      expect(span.instrumentationScope.name).toBe("@millwright/adapter-opcua");
    }
    const applied = byName("mes.line-event.apply").filter((s) => s.spanContext().traceId === traceId);
    expect(applied.map(parentOf).sort()).toEqual(lineSpans.map((s) => s.spanContext().spanId).sort());

    // Everything on the order's path is in one trace. The only other traces are those of line
    // events made before the order was dispatched (a machine state of an idle line has no order).
    const orderPath = spans.filter((s) => !(s.name.startsWith("opcua.") && s.attributes["millwright.order.id"] === undefined));
    expect(new Set(orderPath.filter((s) => s.name !== "mes.line-event.apply").map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
    for (const span of spans.filter((s) => s.spanContext().traceId !== traceId)) {
      expect(["opcua.machinestate.changed", "mes.line-event.apply"]).toContain(span.name);
      expect(span.attributes["millwright.order.id"]).toBeUndefined();
    }
  });

  it("every canonical event of the order carries that trace id, naming the span that made it", () => {
    const traceId = traceIdOf(sapRootTraceparent);
    const spans = exporter.getFinishedSpans();
    const spanOf = (traceparent: string | undefined) => spans.find((s) => s.spanContext().spanId === spanIdOf(traceparent));
    const ofOrder = events.filter((e) => e.type.startsWith("dev.millwright.workorder.") || e.type.startsWith("dev.millwright.productionconfirmation.") || (e.data as { order?: { orderId?: string } }).order?.orderId === ORDER);
    expect(ofOrder.map((e) => e.type)).toEqual(expect.arrayContaining(["dev.millwright.workorder.released.v1", "dev.millwright.machinestate.changed.v1", "dev.millwright.productioncount.counted.v1", "dev.millwright.productionconfirmation.confirmed.v1"]));
    for (const event of ofOrder) {
      expect(traceIdOf(event.traceparent), event.type).toBe(traceId);
      expect(spanOf(event.traceparent)?.name, event.type).toBe(
        event.type === "dev.millwright.workorder.released.v1"
          ? "sap.productionorder.read"
          : event.type === "dev.millwright.productionconfirmation.confirmed.v1"
            ? "mes.order.confirm"
            : `opcua.${event.type.slice("dev.millwright.".length, -".v1".length)}`,
      );
    }
    // The MES's handler ran in the trace of each line event it applied.
    for (const { event, handlerTraceId } of lineEvents) expect(handlerTraceId).toBe(traceIdOf(event.traceparent));
  });

  it("SAP received the traceparent of the post span with the confirmation", () => {
    const post = exporter.getFinishedSpans().find((s) => s.name === "sap.productionconfirmation.post");
    const confirmations = sap.posts.filter((p) => p.entitySet === "ProdnOrdConf2");
    expect(confirmations).toHaveLength(1);
    expect(confirmations[0]?.status).toBe(201);
    expect(confirmations[0]?.traceparent).toBe(`00-${post?.spanContext().traceId}-${post?.spanContext().spanId}-01`);
    expect(traceIdOf(confirmations[0]?.traceparent)).toBe(traceIdOf(sapRootTraceparent));
  });

  it("an SAP event without a traceparent starts a new trace", async () => {
    const config = createSapConfig({ system: "S4PCLNT100", timeZone: "America/Los_Angeles" })._unsafeUnwrap();
    const client = createSapClient({ serviceUrl: sap.serviceUrl(PO), baseDelayMs: 20 });
    const sapEvent = { type: "sap.s4.beh.productionorder.v1.ProductionOrder.Released.v1", time: "2026-03-01T06:15:30Z", data: { ManufacturingOrder: ORDER } };
    const released = (await handleProductionOrderEvent(sapEvent, { client, config, source: SAP_SOURCE, keyProperty: "ManufacturingOrder" }))._unsafeUnwrap();
    const span = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === spanIdOf(released.traceparent));
    expect(span?.name).toBe("sap.productionorder.read");
    expect(span?.parentSpanContext).toBeUndefined();
    expect(traceIdOf(released.traceparent)).not.toBe(traceIdOf(sapRootTraceparent));
  });
});
