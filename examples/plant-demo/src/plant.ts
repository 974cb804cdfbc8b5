/**
 * The Millwright plant demo: SAP, a line on OPC UA, a WMS and the MES in one process, with the real
 * adapters and their real test peers (an EDMX-driven SAP system, a node-opcua server running the
 * PackML nodeset, the test WMS with signed webhooks). Nothing outside this process is needed.
 *
 *   1. SAP releases order 1000123 and sends its business event, twice (at least once delivery);
 *      the SAP adapter reads the order and makes the canonical event; the MES's inbox applies it once.
 *      The order's components go to the WMS as a staging request; the WMS picks and stages them at
 *      line FAB and confirms each task with a signed webhook, which the WMS adapter maps.
 *   2. The MES dispatches the order to line FAB; the line produces; the OPC UA adapter turns its
 *      PackML state and counters into canonical machine-state and production-count events. The MES
 *      reports what the line consumed and creates the produced batch B260302A.
 *   3. The MES confirms the counted yield and scrap: the confirmation goes into the SQLite outbox
 *      with the MES's own record, and the relay posts it to SAP; the first post's response is lost
 *      (an injected fault); the retry finds it by its deterministic external id, so SAP stores it once.
 *      SAP posts the confirmation's goods movements (backflush 261, goods receipt 101) and the WMS
 *      receives the pallet.
 *   4. Quality places the batch on hold: SAP moves it to quality-inspection stock (322) and the WMS
 *      blocks it. Quality releases it: SAP moves it back (321), but the unblock request to the WMS is
 *      lost (an injected fault), so the WMS keeps the batch blocked.
 *   5. A malformed record from a handheld scanner is rejected with every issue and kept as a dead letter.
 *   6. The alignment monitor finds the lost unblock at noon; the breach starts the quality-hold
 *      workflow, which sends the unblock again under its own idempotency key; the WMS applies it.
 *
 * The workflows (@millwright/workflows, on a SQLite file) carry the order release: SAP confirms too
 * little of a component, so the order-release workflow waits for a planner's approval before it
 * dispatches to the MES and asks the WMS to stage; a second order, which the WMS refuses to stage
 * for good, has its MES dispatch withdrawn (the workflow's compensation).
 *
 * Every new fact carries its time in the story (2026-03-02, plant time UTC−8), in `AT` below.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createSapConfig, createSapClient, handleMaterialDocumentEvent, handleProductionOrderEvent, mapProductionConfirmation, postConfirmation } from "@millwright/adapter-sap";
import { startTestSapServer, type TestSapServer } from "@millwright/adapter-sap/test-server";
import { createMemoryCounterStore, parseAdapterConfig, startOpcuaAdapter, type AdapterEvent } from "@millwright/adapter-opcua";
import { NODES, SimulatedLine } from "@millwright/adapter-opcua/test-server";
import { createStagingRequest, gs1CheckDigit, toHoldRequest } from "@millwright/adapter-wms";
import { builtInRules, createEngine, type AlignmentRule, type BreachedFinding } from "@millwright/alignment";
import { createEvent, parseEvent, serializeEvent, traceContextOf, withTraceContext, type CanonicalEvent } from "@millwright/events";
import { ROOT_CONTEXT, trace, type Context } from "@opentelemetry/api";
import {
  addQuantities,
  parseBatch,
  parseWorkOrder,
  parseMaterialMovement,
  parseProductionConfirmation,
  parseQualityHold,
  sumQuantities,
  type MaterialMovement,
  type ModelIssue,
  type ProductionConfirmation,
  type ProductionCount,
  type QualityHold,
  type Quantity,
  type WorkOrder,
} from "@millwright/model";
import { createMesConsumer } from "./mes-consumer.js";
import { toMaterialDocument, toMaterialDocumentCreated, toSapDecimal, type DocumentInput } from "./sap-documents.js";
import { startPlantWms, WMS_SOURCE, WMS_SYSTEM, type PlantWms, type VendorPlace, type VendorTask } from "./wms.js";
import { instanceIdOf, type InstanceSnapshot } from "@millwright/workflows";
import { plantClock, startPlantWorkflows, timelineOf, type PlantWorkflows } from "./workflows.js";

export interface PlantOptions {
  /** Where the MES keeps its SQLite database (inbox, dead letters and its own tables). */
  readonly mesDatabase: string;
  /** Where the workflow runtime keeps its SQLite store (instances, history, signals, timers). */
  readonly workflowsDatabase: string;
  /** The SAP production order the demo system holds (an OData V2 `A_ProductionOrder_2` response). */
  readonly sapOrder: unknown;
  /** Lines of the timeline, as they happen. */
  readonly log: (line: string) => void;
}

/** What each system knows at the end, and what travelled between them. */
export interface PlantSummary {
  readonly sap: {
    readonly confirmations: number;
    readonly confirmationPosts: number;
    readonly yieldQuantity?: string;
    readonly scrapQuantity?: string;
    /** The goods movements SAP's material documents hold (the lines users entered): "261 RM20 120.000 ST". */
    readonly goodsMovements: readonly string[];
    /** The stock type of batch B260302A after SAP's last movement of it. */
    readonly batchStock?: string;
  };
  readonly mes: ReturnType<ReturnType<typeof createMesConsumer>["state"]> & { readonly delivered: number; readonly duplicates: number };
  /** What the workflows did: one instance per behaviour, with its history as a timeline. */
  readonly workflows: {
    /** The SQLite file of the workflow store. */
    readonly database: string;
    /** Order 1000123: components short, the planner approved, dispatched and staged. */
    readonly approval: WorkflowRun & { readonly decision: { readonly decision: string; readonly by?: string; readonly reason?: string } | undefined; readonly signalsRecorded: number };
    /** Order 1000124: the WMS refused staging for good; the MES dispatch was withdrawn. */
    readonly compensation: WorkflowRun;
    /** The alignment breach for the lost unblock, remediated by the quality-hold workflow. */
    readonly remediation: WorkflowRun & { readonly rule: string; readonly findingKey: string; readonly requestId?: string };
  };
  readonly line: { readonly good: number; readonly defective: number };
  readonly wms: {
    /** The types of the requests the test WMS received, in order. */
    readonly requests: readonly string[];
    /** The requests the test WMS applied (once per request id), in order. */
    readonly applied: readonly { readonly requestId: string; readonly type: string }[];
    /** The requests the test WMS refused for good. */
    readonly refused: readonly { readonly requestId: string; readonly reason: string }[];
    /** Requests sent to the WMS that never reached it (the injected fault), by request id. */
    readonly lost: readonly string[];
    /** Task confirmations the WMS sent (webhooks the receiver accepted). */
    readonly confirmedTasks: number;
    /** The stock status of batch B260302A in the WMS. */
    readonly batchStock?: string;
    /** Webhooks the receiver refused. */
    readonly rejectedWebhooks: readonly string[];
  };
  readonly counted: { readonly good: string; readonly defective: string };
  readonly rejected: readonly ModelIssue[];
  readonly events: readonly CanonicalEvent[];
  readonly eventLines: readonly string[];
}

/** A workflow instance as the demo reports it. */
interface WorkflowRun {
  readonly workflow: string;
  readonly instanceId: string;
  readonly key: string;
  readonly state: string;
  readonly output?: unknown;
  /** Its history, one line per entry (plant time). */
  readonly timeline: readonly string[];
}

const SITE = { id: "1710" };
const ORDER = "1000123";
/** A second order, released in the morning; the WMS cannot stage it. */
const REFUSED_ORDER = "1000124";
const SAP_SOURCE = "urn:millwright:sap:S4PCLNT100";
const MES_SOURCE = "urn:millwright:mes:line-fab";
const QMS_SOURCE = "urn:millwright:qms:1710";
const PO = "API_PRODUCTION_ORDER_2_SRV";
const CONF = "API_PROD_ORDER_CONFIRMATION_2_SRV";
const MD = "API_MATERIAL_DOCUMENT_SRV";
const BATCH = { material: "FG126", batchId: "B260302A" };
/** Line-side bin at line FAB where the WMS stages components (SAP storage location 171D). */
const LINE_SIDE = { site: SITE, storageLocation: "171D", bin: "FAB-IN" };
/** Where the WMS puts the produced pallet away (SAP storage location 171A). */
const FG_BIN: VendorPlace = { plant: SITE.id, sloc: "171A", whse: "W171", bin: "FG-01-03" };
/** The pallet's SSCC (GS1 documentation company prefix 0614141). */
const SSCC = `00614141000000001${gs1CheckDigit("00614141000000001")}`;

/**
 * When the new facts happen, plant time on 2026-03-02 (America/Los_Angeles, UTC−8): the order was
 * released the evening before, production starts at 06:00 and ends at 07:30, the hold is placed at
 * 08:05 and released at 09:40. SAP times are `HH:MM:SS` (its CreationTime), the others RFC 3339.
 */
const AT = {
  staged: "2026-03-02T05:40:00-08:00",
  lineReady: "2026-03-02T05:55:00-08:00",
  dispatched: "2026-03-02T06:00:00-08:00",
  produced: ["2026-03-02T06:25:00-08:00", "2026-03-02T06:50:00-08:00", "2026-03-02T07:15:00-08:00"],
  completed: "2026-03-02T07:25:00-08:00",
  confirmed: "2026-03-02T07:27:00-08:00",
  consumed: "2026-03-02T07:28:00-08:00",
  batchCreated: "2026-03-02T07:30:00-08:00",
  goodsMovementsPosted: "07:33:12",
  palletReceived: "2026-03-02T07:45:00-08:00",
  holdPlaced: "2026-03-02T08:05:00-08:00",
  movedToInspection: "08:06:30",
  wmsBlocked: "2026-03-02T08:07:10-08:00",
  holdReleased: "2026-03-02T09:40:00-08:00",
  movedToUnrestricted: "09:41:05",
  /** The planner approves order 1000123 although SAP confirms too few flanges. */
  approved: "2026-03-02T05:30:00-08:00",
  /** SAP releases order 1000124; the WMS cannot stage it. */
  secondRelease: "2026-03-02T05:45:00-08:00",
  /** When the alignment monitor looks at the day: noon, plant time. */
  monitor: "2026-03-02T12:00:00-08:00",
  /** The quality-hold workflow sends the unblock again. */
  remediated: "2026-03-02T12:01:00-08:00",
  /** The alignment report after the remediation. */
  report: "2026-03-02T12:15:00-08:00",
} as const;
const STORY_DAY = "2026-03-02";

/** When the alignment monitor judges the story: noon on the story day, plant time. */
export const MONITOR_AT = AT.monitor;
/** When the final alignment report judges the story, after the remediation. */
export const REPORT_AT = AT.report;
/** The planner's decision the demo gives to the order-release workflow. */
export const PLANNER_DECISION = { decision: "approve", by: "M. Okafor (planner, line FAB)", reason: "450 of 500 RM20 confirmed; today's run needs 120" } as const;

/**
 * The alignment monitor's rules for this plant: the built-in ones, with MES given 36 h to start an
 * order, since SAP releases orders the day before their shift.
 *
 * @returns the rules
 */
export function plantRules(): readonly AlignmentRule[] {
  return builtInRules({ workOrderStarted: { deadlineMs: 36 * 3_600_000 } });
}
/** A work order revision for a time of the story: the UTC instant as digits, like SAP's LastChangeDateTime. */
const revisionAt = (time: string): string => new Date(Date.parse(time)).toISOString().replace(/[^0-9]/g, "").slice(0, 14);
/** A plant-local time of the story day (`HH:MM:SS`) in UTC, as SAP's business events carry it. */
const utc = (local: string) => new Date(Date.parse(`${STORY_DAY}T${local}-08:00`)).toISOString().replace(".000Z", "Z");

/** A movement as people read it: "RM20 120 H87 consumed for order 1000123". */
function describeMovement(m: MaterialMovement, system: string): string {
  const what = `${m.material.id}${m.batchId === undefined ? "" : ` batch ${m.batchId}`} ${showQuantity(m.quantity)}`;
  const place = (p: MaterialMovement["from"]) => (p === undefined ? "?" : [p.storageLocation, p.warehouse, p.bin].filter((x) => x !== undefined).join("/") || "(no bin given)");
  const how = m.sourceMovementType ?? (m.extensions?.["wms"] as { type?: string } | undefined)?.type ?? m.kind;
  switch (m.kind) {
    case "consumed":
      return `${what} consumed for order ${m.order?.orderId ?? "?"} from ${place(m.from)} (${system} ${how})`;
    case "produced":
      return `${what} ${system === "SAP" ? "received from" : "put away for"} order ${m.order?.orderId ?? "?"} into ${place(m.to)}, ${m.to?.stockType ?? "?"} (${system} ${how})`;
    case "status_changed":
      return `${what} at ${place(m.to)}: ${m.from?.stockType ?? "?"} → ${m.to?.stockType ?? "?"} (${system} ${how})`;
    default:
      return `${what} ${place(m.from)} → ${place(m.to)} (${system} ${how})`;
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The MES's tracer: a no-op until the application registers an OpenTelemetry SDK (main.ts does). */
const mesTracer = () => trace.getTracer("plant-demo-mes");

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
  let workflows: PlantWorkflows | undefined;
  const deliver = async (event: CanonicalEvent, what: string): Promise<void> => {
    events.push(event);
    const outcome = await mes.deliver(event);
    delivered++;
    if (outcome.outcome === "duplicate") duplicates++;
    log("MES", `${outcome.outcome === "duplicate" ? "absorbed duplicate" : outcome.outcome} ${event.type.replace("dev.millwright.", "")} ${what}`);
    // The workflows hear the facts they start on or wait for: releases and stock movements. The hold
    // events are not given to them: in this story the hold is carried out as the plant does it
    // today, and the quality-hold workflow only remediates what the alignment monitor finds.
    if (event.type === "dev.millwright.workorder.released.v1" || event.type === "dev.millwright.materialmovement.posted.v1") workflows?.hear(event);
  };
  /** The story's time for the workflow runtime (its timers and history), ms since the epoch. */
  let storyNow = Date.parse("2026-03-01T06:15:30Z");
  const snapshot = async (id: string): Promise<InstanceSnapshot> => {
    const got = await (workflows?.runtime.get(id) ?? Promise.reject(new Error("no workflow runtime")));
    if (got.isErr()) throw new Error(`workflow instance ${id}: ${got.error.message}`);
    return got.value;
  };
  const runOf = (s: InstanceSnapshot): WorkflowRun => ({
    workflow: s.instance.workflow,
    instanceId: s.instance.id,
    key: s.instance.key,
    state: s.instance.state,
    ...(s.instance.output === undefined ? {} : { output: s.instance.output }),
    timeline: timelineOf(s),
  });
  const deliverMovement = (event: CanonicalEvent, system: string) => deliver(event, describeMovement(event.data as MaterialMovement, system));

  const sap: TestSapServer = await startTestSapServer({ services: [PO, CONF, MD].map((name) => ({ name, edmx: edmx(name) })) });
  const line = new SimulatedLine({ order: "" });
  let plantWms: PlantWms | undefined;
  try {
    // 1. SAP releases the order; its business event arrives twice.
    const order = stripMetadata((options.sapOrder as { d: unknown }).d) as Record<string, unknown>;
    // SAP confirms all 255 MTR of RM10 but only 450 of the 500 flanges RM20 as available; order
    // 1000124 (the same product, 300 ST) is fully available.
    sap.seed(PO, "A_ProductionOrder_2", [withAvailability(order, { RM10: "255.000", RM20: "450.000" }), secondOrder(order)]);
    // H87 (piece) comes from SAP's ST and PC alike: the order is in ST, so confirmations go back in ST.
    const config = createSapConfig({ system: "S4PCLNT100", timeZone: "America/Los_Angeles", extensions: { namespace: "sap" }, outboundUnits: { H87: "ST" } })._unsafeUnwrap();
    const orderClient = createSapClient({ serviceUrl: sap.serviceUrl(PO), baseDelayMs: 20 });
    const documentClient = createSapClient({ serviceUrl: sap.serviceUrl(MD), baseDelayMs: 20 });

    // The WMS (it cannot stage order 1000124: the test WMS's `refuseStagingFor`) and the workflow
    // runtime on its SQLite file, on the story's clock.
    const wmsSide = await startPlantWms({ startAt: Date.parse(AT.staged), onEvent: (event) => deliverMovement(event, "WMS"), faults: { refuseStagingFor: [REFUSED_ORDER] } });
    plantWms = wmsSide;
    let heldForRemediation: QualityHold | undefined;
    const flow = startPlantWorkflows({
      database: options.workflowsDatabase,
      sap: { orders: orderClient, materialDocuments: documentClient, config },
      mes,
      wms: { url: `${wmsSide.wms.url}/requests`, system: WMS_SYSTEM, idle: () => wmsSide.wms.idle() },
      lineSide: () => LINE_SIDE,
      releasedHold: (finding: BreachedFinding) => {
        if (heldForRemediation === undefined || finding.key !== `${BATCH.material}/${BATCH.batchId}`) throw new Error(`no released hold for ${finding.key}`);
        return heldForRemediation;
      },
      now: () => storyNow,
      log,
    });
    workflows = flow;
    log("SAP", `order ${ORDER} released; business event ProductionOrder.Released sent`);
    const sapEvent = {
      specversion: "1.0",
      type: "sap.s4.beh.productionorder.v1.ProductionOrder.Released.v1",
      source: "/default/sap.s4.beh/S4PCLNT100",
      id: "a823e884-5edc-4194-a81a-f3a3632417ee",
      time: "2026-03-01T06:15:30Z",
      data: { ManufacturingOrder: ORDER },
    };
    let workOrder: WorkOrder | undefined;
    let orderContext: Context | undefined;
    for (const delivery of [sapEvent, { ...sapEvent, id: "b2f7c0de-redelivered" }]) {
      const released = await handleProductionOrderEvent(delivery, { client: orderClient, config, source: SAP_SOURCE, keyProperty: "ManufacturingOrder" });
      if (released.isErr()) throw new Error(`SAP adapter: ${released.error.message}`);
      workOrder ??= released.value.data as WorkOrder;
      // The MES continues the order's trace from the released event (SAP → MES → line → SAP).
      orderContext ??= traceContextOf(released.value);
      await deliver(released.value, `order ${released.value.subject} (event ${released.value.id.slice(0, 8)}…)`);
    }

    // The released order's components go to the WMS, which picks and stages them at line FAB before
    // the shift and confirms every task with a signed webhook. The line's OPC UA server starts meanwhile.
    // The line stamps its values with the story's clock (its source timestamps), so its events fall
    // on the story day like every other fact.
    let lineTime = Date.parse(AT.lineReady);
    line.clock = () => new Date(lineTime);
    const lineStarted = line.start();
    lineStarted.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    if (workOrder === undefined) throw new Error("no released work order");
    const releasedOrder: WorkOrder = workOrder;

    // The order-release workflow checks the order against SAP's record: SAP confirms too few
    // flanges, so it waits for the planner (signal planner-approval) before anything reaches the floor.
    await flow.drive();
    const releaseId = instanceIdOf("order-release", `${SITE.id}/${ORDER}`);
    const checked = await snapshot(releaseId);
    const references = checked.history.find((h) => h.type === "step-completed" && h.step === "check-references");
    const short = ((references?.type === "step-completed" ? references.result : null) as { shortComponents?: { material: string; open: string; available: string }[] } | null)?.shortComponents ?? [];
    log("WF", `order-release ${releaseId}: references checked in SAP; short: ${short.map((c) => `${c.material} (open ${c.open}, SAP confirms ${c.available})`).join(", ") || "none"}; ${checked.instance.state}, for signal planner-approval`);
    storyNow = Date.parse(AT.approved);
    const approved = await flow.runtime.signal(releaseId, "planner-approval", PLANNER_DECISION);
    if (approved.isErr()) throw new Error(`planner approval: ${approved.error.message}`);
    log("PLAN", `${PLANNER_DECISION.by} approves order ${ORDER} through the runtime API: "${PLANNER_DECISION.reason}"`);
    await flow.drive();
    const releaseRun = await snapshot(releaseId);
    const releaseOutput = releaseRun.instance.output as { outcome?: string; stagingRequestId?: string } | undefined;
    log("WF", `order-release ${releaseId} ${releaseRun.instance.state} (${releaseOutput?.outcome ?? "?"}): dispatched to the MES, staging request ${releaseOutput?.stagingRequestId ?? "?"} (its idempotency key) accepted by the WMS`);

    // Order 1000124: released at 05:45, dispatched, but the WMS refuses to stage it for good. The
    // workflow reports it and compensates: the MES dispatch is withdrawn. (This order only passes
    // through the workflows; the story and its event log follow order 1000123.)
    storyNow = Date.parse(AT.secondRelease);
    const secondReleased = await handleProductionOrderEvent(
      { ...sapEvent, id: "c41d9e2a-1000124-released", time: utc("05:45:00"), data: { ManufacturingOrder: REFUSED_ORDER } },
      { client: orderClient, config, source: SAP_SOURCE, keyProperty: "ManufacturingOrder" },
    );
    if (secondReleased.isErr()) throw new Error(`SAP adapter: ${secondReleased.error.message}`);
    log("SAP", `order ${REFUSED_ORDER} released; the order-release workflow takes it`);
    flow.hear(secondReleased.value);
    const refusedId = instanceIdOf("order-release", `${SITE.id}/${REFUSED_ORDER}`);
    await flow.drive();
    const refusedRun = await snapshot(refusedId);
    log("WF", `order-release ${refusedId} ${refusedRun.instance.state}: staging refused for good by the WMS, so the dispatch was compensated (withdrawn)`);

    // 2. The MES dispatches the order to line FAB; the OPC UA adapter counts what the line makes.
    await lineStarted;
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
    let dispatchContext: Context | undefined;
    const adapter = (
      await startOpcuaAdapter({
        config: lineConfig,
        store: createMemoryCounterStore(),
        traceContextFor: (orderId) => (orderId === ORDER ? dispatchContext : undefined),
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
    lineTime = Date.parse(AT.dispatched);
    // The MES dispatches in a span of the order's trace; the line's events for the order join it.
    const dispatch = mesTracer().startSpan("mes.order.dispatch", { attributes: { "millwright.order": ORDER } }, orderContext ?? ROOT_CONTEXT);
    dispatchContext = trace.setSpan(orderContext ?? ROOT_CONTEXT, dispatch);
    line.setOrder(ORDER);
    line.setState(6); // PackML Execute
    log("LINE", `order ${ORDER} dispatched by the MES; line FAB executing`);
    const orderAs = (status: "in_progress" | "completed", time: string): WorkOrder =>
      parseWorkOrder({ ...releasedOrder, status, revision: revisionAt(time) })._unsafeUnwrap();
    await deliver(
      withTraceContext(createEvent({ type: "dev.millwright.workorder.started.v1", source: MES_SOURCE, time: AT.dispatched, data: orderAs("in_progress", AT.dispatched) })._unsafeUnwrap(), dispatchContext),
      `order ${ORDER} started on line FAB`,
    );
    const batches: [number, number][] = [[40, 0], [38, 1], [40, 1]];
    for (const [i, [good, defective]] of batches.entries()) {
      await sleep(200);
      lineTime = Date.parse(AT.produced[i] ?? AT.completed);
      line.produce(good, defective);
    }
    await sleep(200);
    lineTime = Date.parse(AT.completed);
    line.setState(17); // PackML Complete
    await sleep(300);
    await adapter.idle();
    await adapter.stop();
    log("LINE", `order ${ORDER} complete: ${line.made.good} good, ${line.made.defective} defective parts made`);
    await deliver(
      withTraceContext(createEvent({ type: "dev.millwright.workorder.completed.v1", source: MES_SOURCE, time: AT.completed, data: orderAs("completed", AT.completed) })._unsafeUnwrap(), dispatchContext),
      `order ${ORDER} completed on line FAB`,
    );
    dispatch.end();

    // The MES reports what the line consumed (one flange RM20 per part made, good or not: 500 for
    // 500 in the order's bill of materials) and creates the batch of what it produced.
    const counts = lineEvents.filter((e) => e.type === "dev.millwright.productioncount.counted.v1").map((e) => e.data as ProductionCount);
    const good = sumQuantities(counts.map((c) => c.goodQuantity), "H87")._unsafeUnwrap();
    const defective = sumQuantities(counts.map((c) => c.defectiveQuantity), "H87")._unsafeUnwrap();
    const consumption = parseMaterialMovement({
      movementId: `MES-${ORDER}-0020-RM20-1`,
      kind: "consumed",
      postingDate: STORY_DAY,
      occurredAt: AT.consumed,
      material: { id: "RM20" },
      quantity: addQuantities(good, defective)._unsafeUnwrap(),
      from: { ...LINE_SIDE, stockType: "unrestricted" },
      order: { orderId: ORDER, operationId: "0020", componentItemId: "0000045678/0002" },
      revision: "0",
      sourceRefs: [{ system: "mes-fab", kind: "consumption", key: `MES-${ORDER}-0020-RM20-1` }],
    })._unsafeUnwrap();
    await deliverMovement(createEvent({ type: "dev.millwright.materialmovement.posted.v1", source: MES_SOURCE, time: AT.consumed, data: consumption })._unsafeUnwrap(), "MES");
    const batch = parseBatch({
      batchId: BATCH.batchId,
      material: { id: BATCH.material },
      site: SITE,
      disposition: "unrestricted",
      quantity: good,
      manufacturedOn: STORY_DAY,
      originOrder: { orderId: ORDER },
      revision: "20260302153000",
      sourceRefs: [{ system: "mes-fab", kind: "batch", key: `${BATCH.material}/${BATCH.batchId}` }],
    })._unsafeUnwrap();
    await deliver(
      createEvent({ type: "dev.millwright.batch.created.v1", source: MES_SOURCE, time: AT.batchCreated, data: batch })._unsafeUnwrap(),
      `batch ${batch.batchId} of ${batch.material.id}: ${showQuantity(batch.quantity)} made for order ${ORDER}`,
    );

    // 3. The MES confirms to SAP; the first response is lost; SAP stores the confirmation once.
    const confirmation = parseProductionConfirmation({
      confirmationId: `MES-${ORDER}-0030-1`,
      order: { orderId: ORDER, operationId: "0030" },
      site: SITE,
      yieldQuantity: good,
      scrapQuantity: defective,
      isFinal: true,
      postingDate: STORY_DAY,
      executionStart: counts[0]?.windowStart ?? "2026-03-02T06:00:00-08:00",
      executionEnd: counts.at(-1)?.windowEnd ?? "2026-03-02T06:00:00-08:00",
      revision: "0",
      sourceRefs: [{ system: "mes-fab", kind: "confirmation", key: `MES-${ORDER}-0030-1` }],
    })._unsafeUnwrap();
    // The MES records the confirmation and puts its event in the outbox in one transaction; the
    // relay then posts it to SAP. The first response is lost; the adapter finds the confirmation by
    // its deterministic external id, so SAP holds it once.
    const confirming = mesTracer().startSpan("mes.order.confirm", { attributes: { "millwright.order": ORDER } }, orderContext ?? ROOT_CONTEXT);
    const confirmed = withTraceContext(
      createEvent({ type: "dev.millwright.productionconfirmation.confirmed.v1", source: MES_SOURCE, time: AT.confirmed, data: confirmation })._unsafeUnwrap(),
      trace.setSpan(orderContext ?? ROOT_CONTEXT, confirming),
    );
    confirming.end();
    events.push(confirmed);
    await mes.confirm(confirmed);
    log("MES", `confirmation ${confirmation.confirmationId} (${good.value} good, ${defective.value} scrap) written to the outbox with the MES record`);
    sap.inject({ kind: "drop-response", method: "POST", pathIncludes: "ProdnOrdConf2", times: 1 });
    const confirmationClient = createSapClient({ serviceUrl: sap.serviceUrl(CONF), baseDelayMs: 20 });
    let sapConfirmation: CanonicalEvent | undefined;
    const relayed = await mes.relay(async (record) => {
      const event = parseEvent(record.payload);
      if (event.isErr()) return event;
      // The post is a child of the confirmation event's span: the order's trace ends in SAP.
      const posted = await postConfirmation(confirmationClient, event.value.data as ProductionConfirmation, config, { event: event.value });
      if (posted.isOk()) {
        log("SAP", `confirmation stored (${posted.value.alreadyPosted ? "found by its external id after the lost response" : "first post"}): ExternalSystemConfirmation ${posted.value.externalId}`);
        // What SAP itself now holds, as SAP says it: the ERP's side of the confirmation, which the
        // alignment monitor compares with the line's counts.
        const stored = mapProductionConfirmation(posted.value.entity, config);
        if (stored.isErr()) return stored;
        const recorded = createEvent({ type: "dev.millwright.productionconfirmation.confirmed.v1", source: SAP_SOURCE, time: AT.confirmed, data: stored.value });
        if (recorded.isErr()) return recorded;
        sapConfirmation = recorded.value;
      }
      return posted;
    });
    if (sapConfirmation !== undefined) {
      const stored = sapConfirmation.data as ProductionConfirmation;
      await deliver(sapConfirmation, `${stored.confirmationId} as SAP holds it: ${stored.yieldQuantity.value} ${stored.yieldQuantity.unit} yield, final`);
    }
    log("MES", `outbox relay: ${relayed.published} published, ${relayed.failed.length} failed`);

    // SAP posts the goods movements of the final confirmation: the backflush of RM20 (261) and the
    // automatic goods receipt of batch B260302A (101), from the quantities SAP stored. Each material
    // document is announced by a thin business event; the SAP adapter reads it and maps every item.
    const postDocument = async (input: Omit<DocumentInput, "year" | "postingDate" | "createdBy" | "plant">, what: string, eventId: string): Promise<void> => {
      const document = toMaterialDocument({ ...input, year: "2026", postingDate: STORY_DAY, createdBy: "MILLWRIGHT", plant: SITE.id });
      sap.seed(MD, "A_MaterialDocumentHeader", [...sap.rows(MD, "A_MaterialDocumentHeader"), document]);
      log("SAP", `${what}: material document ${input.document}; business event MaterialDocument.Created sent`);
      const sapDocumentEvent = toMaterialDocumentCreated({ document: input.document, year: "2026", system: "S4PCLNT100", id: eventId, time: utc(input.createdAt) });
      const mapped = await handleMaterialDocumentEvent(sapDocumentEvent, { client: documentClient, config, source: SAP_SOURCE });
      if (mapped.isErr()) throw new Error(`SAP adapter: ${mapped.error.message}`);
      for (const event of mapped.value) await deliverMovement(event, "SAP");
    };
    const storedConfirmation = sap.rows(CONF, "ProdnOrdConf2")[0] ?? {};
    const sapYield = { value: String(storedConfirmation["ConfirmationYieldQuantity"]), unit: "H87" };
    const sapScrap = { value: String(storedConfirmation["ConfirmationScrapQuantity"] ?? "0"), unit: "H87" };
    const backflushed = addQuantities(sapYield, sapScrap)._unsafeUnwrap();
    await postDocument(
      {
        document: "4900000301",
        createdAt: AT.goodsMovementsPosted,
        goodsMovementCode: "03",
        items: [
          { movementType: "261", material: "RM20", storageLocation: "171D", stockType: "01", quantity: toSapDecimal(backflushed.value), unit: "ST", order: ORDER, reservation: { reservation: "45678", item: "2" } },
          { movementType: "101", material: BATCH.material, storageLocation: "171A", batch: BATCH.batchId, stockType: "01", quantity: toSapDecimal(sapYield.value), unit: "ST", order: ORDER, refDocType: "F" },
        ],
      },
      `goods movements of the final confirmation posted (backflush 261 RM20 ${backflushed.value} ST, goods receipt 101 ${BATCH.material} batch ${BATCH.batchId} ${sapYield.value} ST)`,
      "5d0e2b1a-7c43-4f2e-9a61-0c2f8e4b3301",
    );

    // The WMS receives the pallet from line FAB and puts it away. (The test WMS has no goods
    // receipts and confirms no block: for those two tasks the demo sends the WMS's confirmation.)
    const confirmAsWms = async (task: VendorTask): Promise<void> => {
      const status = await wmsSide.confirmAsWms(task);
      if (status !== 200) throw new Error(`the webhook receiver answered ${status} to WMS task ${task.taskId}: ${wmsSide.rejected.at(-1) ?? ""}`);
    };
    wmsSide.setClock(Date.parse(AT.palletReceived));
    log("WMS", `pallet ${SSCC} (${BATCH.material} batch ${BATCH.batchId}, ${good.value} PC) received from line FAB and put away in ${FG_BIN.whse}/${FG_BIN.bin}`);
    await confirmAsWms({
      taskId: "R-000001",
      taskType: "RECEIVE",
      sku: BATCH.material,
      lot: BATCH.batchId,
      qty: good.value,
      uom: "PC",
      dst: FG_BIN,
      orderNo: ORDER,
      hu: SSCC,
      confirmedAt: new Date(Date.parse(AT.palletReceived)).toISOString(),
    });

    // 4. Quality places the produced batch on hold: SAP moves it to quality-inspection stock and the
    // WMS blocks it. Quality releases it: SAP moves it back; the unblock request to the WMS is lost.
    const hold = {
      holdId: "040000001234",
      status: "placed",
      scope: { kind: "batch", batch: { material: { id: BATCH.material }, batchId: BATCH.batchId, site: SITE } },
      quantity: good,
      heldStockType: "quality_inspection",
      reason: { text: "First article inspection of order 1000123" },
      placedAt: AT.holdPlaced,
      revision: "20260302160500",
      sourceRefs: [{ system: "S4PCLNT100", kind: "A_InspectionLot", key: "InspectionLot=040000001234" }],
    };
    const placed = parseQualityHold(hold)._unsafeUnwrap();
    await deliver(createEvent({ type: "dev.millwright.qualityhold.placed.v1", source: QMS_SOURCE, time: placed.placedAt, data: placed })._unsafeUnwrap(), `batch ${BATCH.batchId} held in quality inspection`);
    // A transfer posting between stock types: the issuing line's InventoryStockType, and the
    // receiving one on the line SAP adds automatically.
    const holdMove = (movementType: "322" | "321", issuing: string, receiving: string) =>
      ({ movementType, material: BATCH.material, storageLocation: "171A", batch: BATCH.batchId, stockType: issuing, partnerStockType: receiving, quantity: toSapDecimal(good.value), unit: "ST" }) as const;
    const block = toHoldRequest(placed);
    if (block.isErr()) throw new Error(`WMS block request: ${block.error.message}`);
    await postDocument(
      { document: "4900000302", createdAt: AT.movedToInspection, goodsMovementCode: "04", headerText: `Hold ${placed.holdId}`, items: [holdMove("322", "01", "02")] },
      `batch ${BATCH.batchId} moved to quality-inspection stock (322) for hold ${placed.holdId}`,
      "5d0e2b1a-7c43-4f2e-9a61-0c2f8e4b3302",
    );
    // The block request; the WMS applies it and confirms the stock status change (AV → BL) itself.
    wmsSide.setClock(Date.parse(AT.wmsBlocked) - 1000);
    const blockSent = await wmsSide.send(block.value);
    if (blockSent.isErr()) throw new Error(`WMS: ${blockSent.error.message}`);
    log("WMS", `block request ${block.value.requestId} accepted (HTTP ${blockSent.value})`);

    const releasedHold = parseQualityHold({
      ...hold,
      status: "released",
      disposition: { decision: "use", decidedAt: AT.holdReleased, targetStockType: "unrestricted" },
      revision: "20260302174000",
    })._unsafeUnwrap();
    heldForRemediation = releasedHold;
    await deliver(createEvent({ type: "dev.millwright.qualityhold.released.v1", source: QMS_SOURCE, time: AT.holdReleased, data: releasedHold })._unsafeUnwrap(), `batch ${BATCH.batchId} released for use`);
    const unblock = toHoldRequest(releasedHold);
    if (unblock.isErr()) throw new Error(`WMS unblock request: ${unblock.error.message}`);
    wmsSide.setClock(Date.parse(AT.holdReleased));
    // Injected fault: something between Millwright and the WMS acknowledges the request and drops it.
    const lost: string[] = [];
    const dropped: typeof fetch = async () => {
      lost.push(unblock.value.requestId);
      return new Response(JSON.stringify({ status: "accepted" }), { status: 202, headers: { "content-type": "application/json" } });
    };
    await wmsSide.send(unblock.value, dropped);
    log("WMS", `unblock request ${unblock.value.requestId} LOST (injected fault: acknowledged on the way, never delivered); the WMS keeps batch ${BATCH.batchId} blocked`);
    await postDocument(
      { document: "4900000303", createdAt: AT.movedToUnrestricted, goodsMovementCode: "04", headerText: `Hold ${releasedHold.holdId}`, items: [holdMove("321", "02", "01")] },
      `usage decision: batch ${BATCH.batchId} moved back to unrestricted stock (321)`,
      "5d0e2b1a-7c43-4f2e-9a61-0c2f8e4b3303",
    );

    // 5. A malformed record is rejected with every issue and kept as a dead letter.
    const scanned = '{"confirmationId":"SCAN-77","order":{"orderId":"1000123"},"site":{"id":"1710"},"yieldQuantity":{"value":"-3","unit":"KGM"},"scrapQuantity":{"value":"1","unit":"H87"},"isFinal":false,"postingDate":"2026-03-02","revision":"0","sourceRefs":[{"system":"scanner","kind":"scan","key":"77"}]}';
    const parsed = parseProductionConfirmation(JSON.parse(scanned));
    const rejected = parsed.isErr() ? parsed.error.issues : [];
    for (const issue of rejected) log("MES", `rejected scanner record: ${issue.code}: ${issue.message}`);
    if (parsed.isErr()) await mes.reject("urn:millwright:scanner:77", scanned, "invalid_entity", parsed.error.message);

    // 6. Noon: the alignment monitor judges the day and finds the lost unblock. Its breach starts
    // the quality-hold workflow (onBreach), which sends the unblock to the WMS again, under the
    // step's idempotency key, and waits for the WMS to confirm the stock status change.
    const monitor = createEngine({ rules: plantRules() });
    for (const e of events) {
      const ingested = monitor.ingest(e);
      if (ingested.isErr()) throw new Error(`alignment: ${ingested.error.message}`);
    }
    const breaches = monitor.evaluate(Date.parse(AT.monitor)).filter((f): f is BreachedFinding => f.kind === "breached");
    storyNow = Date.parse(AT.remediated);
    wmsSide.setClock(Date.parse(AT.remediated));
    const remediationIds: string[] = [];
    for (const breach of breaches) {
      log("ALIGN", `${plantClock(Date.parse(AT.monitor))} breach ${breach.rule} for ${breach.key}: ${breach.reasons.join(", ")}, ${Math.round(breach.latenessMs / 60_000)} min late`);
      const started = await flow.runtime.deliverFinding(breach);
      if (started.isErr()) throw new Error(`workflow runtime: ${started.error.message}`);
      for (const instance of started.value.started) {
        remediationIds.push(instance.id);
        log("WF", `${instance.workflow} instance ${instance.id} started by the breach (key ${instance.key})`);
      }
    }
    await flow.drive();
    const remediationId = remediationIds[0];
    if (remediationId === undefined) throw new Error("the breach started no remediation");
    const remediationRun = await snapshot(remediationId);
    const remediated = remediationRun.instance.output as { outcome?: string; wms?: { key?: string; by?: string } } | undefined;
    log("WF", `${remediationRun.instance.workflow} ${remediationId} ${remediationRun.instance.state} (${remediated?.outcome ?? "?"}): unblock request ${remediated?.wms?.key ?? "?"} applied by the WMS, confirmed by its ${remediated?.wms?.by ?? "?"}`);
    const approvalRun = await snapshot(releaseId);
    const signalEntries = approvalRun.history.filter((h) => h.type === "signal-received" && h.name === "planner-approval");
    const decision = signalEntries[0]?.type === "signal-received" ? (signalEntries[0].payload as { decision: string; by?: string; reason?: string }) : undefined;
    const workflowSummary: PlantSummary["workflows"] = {
      database: options.workflowsDatabase,
      approval: { ...runOf(approvalRun), decision, signalsRecorded: signalEntries.length },
      compensation: runOf(await snapshot(refusedId)),
      remediation: {
        ...runOf(remediationRun),
        rule: breaches[0]?.rule ?? "",
        findingKey: breaches[0]?.key ?? "",
        ...(remediated?.wms?.key === undefined ? {} : { requestId: remediated.wms.key }),
      },
    };

    const sapConfirmations = sap.rows(CONF, "ProdnOrdConf2");
    const stored = sapConfirmations[0];
    const sapItems = sap
      .rows(MD, "A_MaterialDocumentHeader")
      .flatMap((d) => (d["to_MaterialDocumentItem"] as { results: Record<string, unknown>[] }).results)
      .filter((i) => i["IsAutomaticallyCreated"] !== "X");
    // The stock type of the batch after a system's last movement of it, as that system reported it.
    const batchStock = (source: string) =>
      events
        .filter((e) => e.source === source && e.type === "dev.millwright.materialmovement.posted.v1")
        .map((e) => e.data as MaterialMovement)
        .filter((m) => m.material.id === BATCH.material && m.batchId === BATCH.batchId && m.to !== undefined)
        .at(-1)?.to?.stockType;
    const sapBatchStock = batchStock(SAP_SOURCE);
    const wmsBatchStock = batchStock(WMS_SOURCE);
    return {
      sap: {
        confirmations: sapConfirmations.length,
        confirmationPosts: sap.posts.filter((p) => p.entitySet === "ProdnOrdConf2").length,
        ...(stored === undefined ? {} : { yieldQuantity: String(stored["ConfirmationYieldQuantity"]), scrapQuantity: String(stored["ConfirmationScrapQuantity"]) }),
        goodsMovements: sapItems.map((i) => `${String(i["GoodsMovementType"])} ${String(i["Material"])}${i["Batch"] === "" ? "" : ` ${String(i["Batch"])}`} ${String(i["QuantityInEntryUnit"])} ${String(i["EntryUnit"])}`),
        ...(sapBatchStock === undefined ? {} : { batchStock: sapBatchStock }),
      },
      mes: { ...mes.state(), delivered, duplicates },
      workflows: workflowSummary,
      line: { good: line.made.good, defective: line.made.defective },
      counted: { good: good.value, defective: defective.value },
      wms: {
        requests: wmsSide.wms.received.map((r) => String((r as { type?: unknown }).type)),
        applied: wmsSide.wms.applied.map((a) => ({ requestId: a.requestId, type: a.type })),
        refused: wmsSide.wms.refused.map((r) => ({ requestId: r.requestId, reason: r.reason })),
        lost,
        confirmedTasks: events.filter((e) => e.source === WMS_SOURCE).length,
        ...(wmsBatchStock === undefined ? {} : { batchStock: wmsBatchStock }),
        rejectedWebhooks: wmsSide.rejected,
      },
      rejected,
      events,
      eventLines: events.map((e) => serializeEvent(e)),
    };
  } finally {
    await workflows?.close();
    mes.close();
    await plantWms?.close();
    await line.stop();
    await sap.close();
  }
}

/** The SAP order row with `ConfirmedAvailableQuantity` set for the components named (by material). */
function withAvailability(order: Record<string, unknown>, available: Readonly<Record<string, string>>): Record<string, unknown> {
  const components = (order["to_ProductionOrderComponent"] as { results: Record<string, unknown>[] }).results;
  return {
    ...order,
    to_ProductionOrderComponent: { results: components.map((c) => (available[String(c["Material"])] === undefined ? c : { ...c, ConfirmedAvailableQuantity: available[String(c["Material"])] })) },
  };
}

/** Order 1000124 as SAP holds it: the same product and routing, 300 ST, every component available. */
function secondOrder(order: Record<string, unknown>): Record<string, unknown> {
  const renumber = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(renumber);
    if (typeof value !== "object" || value === null) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === "ManufacturingOrder" ? REFUSED_ORDER : renumber(v)]));
  };
  const copy = renumber(order) as Record<string, unknown>;
  const components = (copy["to_ProductionOrderComponent"] as { results: Record<string, unknown>[] }).results;
  return {
    ...copy,
    TotalQuantity: "300.000",
    LastChangeDateTime: "20260302134500",
    to_ProductionOrderComponent: { results: components.map((c) => ({ ...c, RequiredQuantity: c["Material"] === "RM20" ? "300.000" : c["RequiredQuantity"], ConfirmedAvailableQuantity: c["Material"] === "RM20" ? "300.000" : c["RequiredQuantity"] })) },
  };
}

/** The quantity as people read it: "118 H87". */
function showQuantity(q: Quantity | undefined): string {
  return q === undefined ? "—" : `${q.value} ${q.unit}`;
}
