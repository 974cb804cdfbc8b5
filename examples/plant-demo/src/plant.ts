/**
 * The Millwright plant demo: SAP, a line on OPC UA and the MES in one process, with the real
 * adapters and their real test peers (an EDMX-driven SAP system, a node-opcua server running the
 * PackML nodeset). Nothing outside this process is needed.
 *
 *   1. SAP releases order 1000123 and sends its business event, twice (at least once delivery);
 *      the SAP adapter reads the order and makes the canonical event; the MES's inbox applies it once.
 *   2. The MES dispatches the order to line FAB; the line produces; the OPC UA adapter turns its
 *      PackML state and counters into canonical machine-state and production-count events.
 *   3. The MES confirms the counted yield and scrap: the confirmation goes into the SQLite outbox
 *      with the MES's own record, and the relay posts it to SAP; the first post's response is lost
 *      (an injected fault); the retry finds it by its deterministic external id, so SAP stores it once.
 *   4. Quality places the batch on hold and releases it.
 *   5. A malformed record from a handheld scanner is rejected with every issue and kept as a dead letter.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createSapConfig, createSapClient, handleProductionOrderEvent, postConfirmation } from "@millwright/adapter-sap";
import { startTestSapServer, type TestSapServer } from "@millwright/adapter-sap/test-server";
import { createMemoryCounterStore, parseAdapterConfig, startOpcuaAdapter, type AdapterEvent } from "@millwright/adapter-opcua";
import { NODES, SimulatedLine } from "@millwright/adapter-opcua/test-server";
import { createEvent, parseEvent, serializeEvent, type CanonicalEvent } from "@millwright/events";
import {
  parseProductionConfirmation,
  parseQualityHold,
  sumQuantities,
  type ModelIssue,
  type ProductionConfirmation,
  type ProductionCount,
  type Quantity,
} from "@millwright/model";
import { createMesConsumer } from "./mes-consumer.js";

export interface PlantOptions {
  /** Where the MES keeps its SQLite database (inbox, dead letters and its own tables). */
  readonly mesDatabase: string;
  /** The SAP production order the demo system holds (an OData V2 `A_ProductionOrder_2` response). */
  readonly sapOrder: unknown;
  /** Lines of the timeline, as they happen. */
  readonly log: (line: string) => void;
}

/** What each system knows at the end, and what travelled between them. */
export interface PlantSummary {
  readonly sap: { readonly confirmations: number; readonly confirmationPosts: number; readonly yieldQuantity?: string; readonly scrapQuantity?: string };
  readonly mes: ReturnType<ReturnType<typeof createMesConsumer>["state"]> & { readonly delivered: number; readonly duplicates: number };
  readonly line: { readonly good: number; readonly defective: number };
  readonly counted: { readonly good: string; readonly defective: string };
  readonly rejected: readonly ModelIssue[];
  readonly events: readonly CanonicalEvent[];
  readonly eventLines: readonly string[];
}

const SITE = { id: "1710" };
const ORDER = "1000123";
const SAP_SOURCE = "urn:millwright:sap:S4PCLNT100";
const MES_SOURCE = "urn:millwright:mes:line-fab";
const QMS_SOURCE = "urn:millwright:qms:1710";
const PO = "API_PRODUCTION_ORDER_2_SRV";
const CONF = "API_PROD_ORDER_CONFIRMATION_2_SRV";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function stripMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripMetadata);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== "__metadata").map(([k, v]) => [k, stripMetadata(v)]));
}

function edmx(service: string): string {
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve(`@millwright/adapter-sap/metadata/${service}.edmx`), "utf8");
}

/** Runs the whole story and returns what every system knows at the end. */
export async function runPlant(options: PlantOptions): Promise<PlantSummary> {
  const started = Date.now();
  const log = (who: string, text: string) => options.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${who.padEnd(5)} ${text}`);
  const events: CanonicalEvent[] = [];
  const mes = createMesConsumer(options.mesDatabase);
  let delivered = 0;
  let duplicates = 0;
  const deliver = async (event: CanonicalEvent, what: string): Promise<void> => {
    events.push(event);
    const outcome = await mes.deliver(event);
    delivered++;
    if (outcome.outcome === "duplicate") duplicates++;
    log("MES", `${outcome.outcome === "duplicate" ? "absorbed duplicate" : outcome.outcome} ${event.type.replace("dev.millwright.", "")} ${what}`);
  };

  const sap: TestSapServer = await startTestSapServer({ services: [PO, CONF].map((name) => ({ name, edmx: edmx(name) })) });
  const line = new SimulatedLine({ order: "" });
  try {
    // 1. SAP releases the order; its business event arrives twice.
    const order = stripMetadata((options.sapOrder as { d: unknown }).d) as Record<string, unknown>;
    sap.seed(PO, "A_ProductionOrder_2", [order]);
    const config = createSapConfig({ system: "S4PCLNT100", timeZone: "America/Los_Angeles", extensions: { namespace: "sap" } })._unsafeUnwrap();
    const orderClient = createSapClient({ serviceUrl: sap.serviceUrl(PO), baseDelayMs: 20 });
    log("SAP", `order ${ORDER} released; business event ProductionOrder.Released sent`);
    const sapEvent = {
      specversion: "1.0",
      type: "sap.s4.beh.productionorder.v1.ProductionOrder.Released.v1",
      source: "/default/sap.s4.beh/S4PCLNT100",
      id: "a823e884-5edc-4194-a81a-f3a3632417ee",
      time: "2026-03-01T06:15:30Z",
      data: { ManufacturingOrder: ORDER },
    };
    for (const delivery of [sapEvent, { ...sapEvent, id: "b2f7c0de-redelivered" }]) {
      const released = await handleProductionOrderEvent(delivery, { client: orderClient, config, source: SAP_SOURCE, keyProperty: "ManufacturingOrder" });
      if (released.isErr()) throw new Error(`SAP adapter: ${released.error.message}`);
      await deliver(released.value, `order ${released.value.subject} (event ${released.value.id.slice(0, 8)}…)`);
    }

    // 2. The MES dispatches the order to line FAB; the OPC UA adapter counts what the line makes.
    await line.start();
    const lineConfig = parseAdapterConfig({
      endpointUrl: line.endpointUrl,
      sourceSystem: "urn:millwright:opcua:line-fab",
      equipment: { id: "FAB", level: "production_line", site: SITE },
      countObjectNodeId: NODES.admin,
      publishingInterval: 50,
      signals: [
        { role: "machine_state", nodeId: NODES.state, mapping: { kind: "packml" }, samplingInterval: 0 },
        { role: "good_count", nodeId: NODES.good, samplingInterval: 0 },
        { role: "defective_count", nodeId: NODES.defective, samplingInterval: 0 },
        { role: "order_number", nodeId: NODES.order, samplingInterval: 0 },
      ],
    })._unsafeUnwrap();
    const lineEvents: AdapterEvent[] = [];
    const adapter = (
      await startOpcuaAdapter({
        config: lineConfig,
        store: createMemoryCounterStore(),
        handler: async (event) => {
          lineEvents.push(event);
          const data = event.data as Record<string, any>;
          await deliver(
            event,
            event.type === "dev.millwright.machinestate.changed.v1"
              ? `line FAB is ${data["availability"]} (PackML ${data["packmlState"] ?? "?"})`
              : `line FAB made ${data["goodQuantity"]["value"]} good, ${data["defectiveQuantity"]["value"]} defective for order ${data["order"]?.["orderId"] ?? "none"}`,
          );
        },
        reconnectDelay: { initial: 100, max: 500 },
      })
    )._unsafeUnwrap();
    for (let i = 0; adapter.status() !== "connected"; i++) {
      if (i > 200) throw new Error("the OPC UA adapter did not connect to the line");
      await sleep(25);
    }
    log("OPCUA", `adapter connected to ${line.endpointUrl} (PackML nodeset)`);
    line.setOrder(ORDER);
    line.setState(6); // PackML Execute
    log("LINE", `order ${ORDER} dispatched by the MES; line FAB executing`);
    const batches: [number, number][] = [[40, 0], [38, 1], [40, 1]];
    for (const [good, defective] of batches) {
      await sleep(200);
      line.produce(good, defective);
    }
    await sleep(200);
    line.setState(17); // PackML Complete
    await sleep(300);
    await adapter.idle();
    await adapter.stop();
    log("LINE", `order ${ORDER} complete: ${line.made.good} good, ${line.made.defective} defective parts made`);

    // 3. The MES confirms to SAP; the first response is lost; SAP stores the confirmation once.
    const counts = lineEvents.filter((e) => e.type === "dev.millwright.productioncount.counted.v1").map((e) => e.data as ProductionCount);
    const good = sumQuantities(counts.map((c) => c.goodQuantity), "H87")._unsafeUnwrap();
    const defective = sumQuantities(counts.map((c) => c.defectiveQuantity), "H87")._unsafeUnwrap();
    const confirmation = parseProductionConfirmation({
      confirmationId: `MES-${ORDER}-0030-1`,
      order: { orderId: ORDER, operationId: "0030" },
      site: SITE,
      yieldQuantity: good,
      scrapQuantity: defective,
      isFinal: true,
      postingDate: "2026-03-02",
      executionStart: counts[0]?.windowStart ?? "2026-03-02T06:00:00-08:00",
      executionEnd: counts.at(-1)?.windowEnd ?? "2026-03-02T06:00:00-08:00",
      revision: "0",
      sourceRefs: [{ system: "mes-fab", kind: "confirmation", key: `MES-${ORDER}-0030-1` }],
    })._unsafeUnwrap();
    // The MES records the confirmation and puts its event in the outbox in one transaction; the
    // relay then posts it to SAP. The first response is lost; the adapter finds the confirmation by
    // its deterministic external id, so SAP holds it once.
    const confirmed = createEvent({ type: "dev.millwright.productionconfirmation.confirmed.v1", source: MES_SOURCE, time: confirmation.executionEnd ?? "2026-03-02T06:00:00Z", data: confirmation })._unsafeUnwrap();
    events.push(confirmed);
    await mes.confirm(confirmed);
    log("MES", `confirmation ${confirmation.confirmationId} (${good.value} good, ${defective.value} scrap) written to the outbox with the MES record`);
    sap.inject({ kind: "drop-response", method: "POST", pathIncludes: "ProdnOrdConf2", times: 1 });
    const confirmationClient = createSapClient({ serviceUrl: sap.serviceUrl(CONF), baseDelayMs: 20 });
    const relayed = await mes.relay(async (record) => {
      const event = parseEvent(record.payload);
      if (event.isErr()) return event;
      const posted = await postConfirmation(confirmationClient, event.value.data as ProductionConfirmation, config);
      if (posted.isOk()) {
        log("SAP", `confirmation stored (${posted.value.alreadyPosted ? "found by its external id after the lost response" : "first post"}): ExternalSystemConfirmation ${posted.value.externalId}`);
      }
      return posted;
    });
    log("MES", `outbox relay: ${relayed.published} published, ${relayed.failed.length} failed`);

    // 4. Quality places the produced batch on hold, inspects it, and releases it.
    const hold = {
      holdId: "040000001234",
      status: "placed",
      scope: { kind: "batch", batch: { material: { id: "FG126" }, batchId: "B260302A", site: SITE } },
      quantity: good,
      heldStockType: "quality_inspection",
      reason: { text: "First article inspection of order 1000123" },
      placedAt: "2026-03-02T08:05:00-08:00",
      revision: "20260302160500",
      sourceRefs: [{ system: "S4PCLNT100", kind: "A_InspectionLot", key: "InspectionLot=040000001234" }],
    };
    const placed = parseQualityHold(hold)._unsafeUnwrap();
    await deliver(createEvent({ type: "dev.millwright.qualityhold.placed.v1", source: QMS_SOURCE, time: placed.placedAt, data: placed })._unsafeUnwrap(), `batch B260302A held in quality inspection`);
    const releasedHold = parseQualityHold({
      ...hold,
      status: "released",
      disposition: { decision: "use", decidedAt: "2026-03-02T09:40:00-08:00", targetStockType: "unrestricted" },
      revision: "20260302174000",
    })._unsafeUnwrap();
    await deliver(createEvent({ type: "dev.millwright.qualityhold.released.v1", source: QMS_SOURCE, time: "2026-03-02T09:40:00-08:00", data: releasedHold })._unsafeUnwrap(), `batch B260302A released for use`);

    // 5. A malformed record is rejected with every issue and kept as a dead letter.
    const scanned = '{"confirmationId":"SCAN-77","order":{"orderId":"1000123"},"site":{"id":"1710"},"yieldQuantity":{"value":"-3","unit":"KGM"},"scrapQuantity":{"value":"1","unit":"H87"},"isFinal":false,"postingDate":"2026-03-02","revision":"0","sourceRefs":[{"system":"scanner","kind":"scan","key":"77"}]}';
    const parsed = parseProductionConfirmation(JSON.parse(scanned));
    const rejected = parsed.isErr() ? parsed.error.issues : [];
    for (const issue of rejected) log("MES", `rejected scanner record: ${issue.code}: ${issue.message}`);
    if (parsed.isErr()) await mes.reject("urn:millwright:scanner:77", scanned, "invalid_entity", parsed.error.message);

    const sapConfirmations = sap.rows(CONF, "ProdnOrdConf2");
    const stored = sapConfirmations[0];
    return {
      sap: {
        confirmations: sapConfirmations.length,
        confirmationPosts: sap.posts.filter((p) => p.entitySet === "ProdnOrdConf2").length,
        ...(stored === undefined ? {} : { yieldQuantity: String(stored["ConfirmationYieldQuantity"]), scrapQuantity: String(stored["ConfirmationScrapQuantity"]) }),
      },
      mes: { ...mes.state(), delivered, duplicates },
      line: { good: line.made.good, defective: line.made.defective },
      counted: { good: good.value, defective: defective.value },
      rejected,
      events,
      eventLines: events.map((e) => serializeEvent(e)),
    };
  } finally {
    mes.close();
    await line.stop();
    await sap.close();
  }
}

/** The quantity as people read it: "118 H87". */
export function showQuantity(q: Quantity | undefined): string {
  return q === undefined ? "—" : `${q.value} ${q.unit}`;
}
