import { createEvent, serializeEvent, type CanonicalEvent } from "@millwright/events";
import { parseEntity, sumQuantities, type EntityName, type EventType, type ModelIssue } from "@millwright/model";
import { createMesConsumer } from "./mes-consumer.js";
import { createSapConfig, mapProductionOrder } from "@millwright/adapter-sap";

export interface DemoInput {
  /** Where the MES keeps its SQLite database (inbox and order book). */
  readonly mesDatabase: string;
  readonly sapOrder: unknown;
  readonly mesLines: readonly string[];
  readonly log: (line: string) => void;
}

export interface DemoSummary {
  readonly accepted: readonly { readonly entity: EntityName; readonly record: unknown }[];
  readonly rejected: readonly { readonly source: string; readonly raw: unknown; readonly issues: readonly ModelIssue[] }[];
  readonly confirmedYield: string;
  /** The accepted records as canonical CloudEvents, in the order they were accepted. */
  readonly events: readonly CanonicalEvent[];
  /** The events as structured JSON, one per line. */
  readonly eventLines: readonly string[];
  /** What the MES knows after consuming every event, redeliveries included. */
  readonly mes: { readonly delivered: number; readonly duplicates: number; readonly orders: number; readonly releasedOrders: readonly string[]; readonly countedGood: number };
}

const PLANT = { logicalSystem: "S4PCLNT100", timeZone: "America/Los_Angeles" } as const;
const SAP = createSapConfig({
  system: PLANT.logicalSystem,
  timeZone: PLANT.timeZone,
  extensions: { namespace: "sap" },
})._unsafeUnwrap();
const SAP_SOURCE = "urn:millwright:sap:S4PCLNT100";
const MES_SOURCE = "urn:millwright:mes:line-fab";

/** SAP's LastChangeDateTime (String 14, YYYYMMDDhhmmss, UTC) as an RFC 3339 instant. */
function sapChangeTime(revision: string): string {
  const r = revision;
  return `${r.slice(0, 4)}-${r.slice(4, 6)}-${r.slice(6, 8)}T${r.slice(8, 10)}:${r.slice(10, 12)}:${r.slice(12, 14)}Z`;
}

/** Which event a record announces, its source, and the time of the fact. */
function eventFor(entity: EntityName, record: Record<string, any>): { type: EventType; source: string; time: string } | undefined {
  switch (entity) {
    case "WorkOrder":
      return record["status"] === "released"
        ? { type: "dev.millwright.workorder.released.v1", source: SAP_SOURCE, time: sapChangeTime(record["revision"]) }
        : undefined;
    case "MachineState":
      return { type: "dev.millwright.machinestate.changed.v1", source: MES_SOURCE, time: record["since"] };
    case "ProductionCount":
      return { type: "dev.millwright.productioncount.counted.v1", source: MES_SOURCE, time: record["windowEnd"] };
    case "ProductionConfirmation":
      return { type: "dev.millwright.productionconfirmation.confirmed.v1", source: MES_SOURCE, time: record["executionEnd"] ?? `${record["postingDate"]}T00:00:00Z` };
    default:
      return undefined;
  }
}
const ENTITIES = new Set<string>(["WorkOrder", "Batch", "MaterialMovement", "QualityHold", "ProductionConfirmation", "MachineState", "ProductionCount"]);

/** Runs the demo's records through the canonical model and reports what each system told us. */
export async function runDemo(input: DemoInput): Promise<DemoSummary> {
  const { log } = input;
  const accepted: { entity: EntityName; record: unknown }[] = [];
  const rejected: { source: string; raw: unknown; issues: readonly ModelIssue[] }[] = [];

  log("Millwright plant demo: plant 1710, order 1000123\n");
  log("SAP S/4HANA  A_ProductionOrder_2('1000123') via OData V2");
  const order = mapProductionOrder(input.sapOrder, SAP);
  if (order.isOk()) {
    const o = order.value;
    accepted.push({ entity: "WorkOrder", record: o });
    log(`  ✓ WorkOrder ${o.orderId}: ${o.plannedQuantity.value} ${o.plannedQuantity.unit} of ${o.material.id}, status ${o.status} (SAP ${o.sourceStatuses?.join(" ")})`);
    log(`    planned ${o.schedule?.plannedStart} → ${o.schedule?.plannedEnd} (plant time zone ${PLANT.timeZone})`);
    for (const op of o.operations) log(`    operation ${op.operationId} at ${op.workCenter?.id}: ${op.description}`);
    for (const c of o.components) log(`    component ${c.material.id}: ${c.requiredQuantity.value} ${c.requiredQuantity.unit} for operation ${c.operationId}`);
  } else {
    rejected.push({ source: "sap", raw: input.sapOrder, issues: "issues" in order.error ? (order.error.issues as readonly ModelIssue[]) : [] });
    log(`  ✗ ${order.error.message}`);
  }

  log("\nMES  records from line FAB");
  input.mesLines.forEach((line, i) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (cause) {
      rejected.push({ source: `mes line ${i + 1}`, raw: line, issues: [] });
      log(`  ✗ line ${i + 1} is not JSON: ${(cause as Error).message}`);
      return;
    }
    const { kind, record } = parsed as { kind?: unknown; record?: unknown };
    if (typeof kind !== "string" || !ENTITIES.has(kind)) {
      log(`  ✗ line ${i + 1}: unknown record kind ${JSON.stringify(kind)}`);
      rejected.push({ source: `mes line ${i + 1}`, raw: parsed, issues: [] });
      return;
    }
    const result = parseEntity(kind as EntityName, record);
    if (result.isOk()) {
      accepted.push({ entity: kind as EntityName, record: result.value });
      log(`  ✓ ${kind} ${describe(kind, result.value)}`);
    } else {
      rejected.push({ source: `mes line ${i + 1}`, raw: record, issues: result.error.issues });
      log(`  ✗ ${kind} rejected, ${result.error.issues.length} issue(s):`);
      for (const issue of result.error.issues) log(`      ${issue.code}: ${issue.message}`);
    }
  });

  log("\nCanonical events (CloudEvents 1.0; ids derived from the fact)");
  const events: CanonicalEvent[] = [];
  for (const { entity, record } of accepted) {
    const spec = eventFor(entity, record as Record<string, any>);
    if (spec === undefined) continue;
    const created = createEvent({ ...spec, data: record as never });
    if (created.isErr()) {
      log(`  ✗ ${spec.type}: ${created.error.message}`);
      continue;
    }
    events.push(created.value);
    log(`  ${created.value.id}  ${spec.type}  subject ${created.value.subject}  partition ${created.value.partitionkey}`);
  }
  log("\nMES  consumes the events through its inbox (SQLite, embedded)");
  const released = events.find((e) => e.type === "dev.millwright.workorder.released.v1");
  // SAP delivers business events at least once: the release arrives again, twice, re-created
  // from the same fact, so with the same id.
  const redelivered = released === undefined ? [] : [released, released].map(
    (e) => createEvent({ type: e.type, source: e.source, time: e.time ?? "", data: e.data as never })._unsafeUnwrap(),
  );
  const mesConsumer = createMesConsumer(input.mesDatabase);
  let delivered = 0;
  let duplicates = 0;
  let mesState: ReturnType<typeof mesConsumer.state>;
  try {
    for (const e of [...events, ...redelivered]) {
      const outcome = await mesConsumer.deliver(e);
      delivered++;
      if (outcome.outcome === "duplicate") duplicates++;
      log(`  ${outcome.outcome.padEnd(9)}  ${e.type}  ${e.id}${outcome.outcome === "duplicate" ? `  (${outcome.reason}: absorbed)` : ""}`);
    }
    mesState = mesConsumer.state();
  } finally {
    mesConsumer.close();
  }
  log(`  MES order book: ${mesState.orders} order(s), released: ${mesState.releasedOrders.join(", ") || "none"}; parts counted: ${mesState.countedGood}`);

  const confirmations = accepted.filter((a) => a.entity === "ProductionConfirmation") as { record: { yieldQuantity: { value: string; unit: string } } }[];
  const total = sumQuantities(confirmations.map((c) => c.record.yieldQuantity), "H87");
  const confirmedYield = total.isOk() ? `${total.value.value} ${total.value.unit}` : total.error.message;
  log("\nSummary");
  log(`  accepted ${accepted.length} canonical records, rejected ${rejected.length} (kept with every issue, nothing dropped)`);
  log(`  confirmed yield for order 1000123 so far: ${confirmedYield} (exact decimal sum)`);
  return {
    accepted,
    rejected,
    confirmedYield,
    events,
    eventLines: events.map((e) => serializeEvent(e)),
    mes: { delivered, duplicates, ...mesState },
  };
}

function describe(kind: string, record: unknown): string {
  const r = record as Record<string, any>;
  switch (kind) {
    case "MachineState":
      return `${r.equipment.id} is ${r.availability} (PackML ${r.packmlState}) since ${r.since}`;
    case "ProductionCount":
      return `${r.equipment.id} made ${r.goodQuantity.value} good, ${r.defectiveQuantity.value} defective ${r.goodQuantity.unit} between ${r.windowStart} and ${r.windowEnd}`;
    case "ProductionConfirmation":
      return `${r.confirmationId}: yield ${r.yieldQuantity.value} ${r.yieldQuantity.unit} on operation ${r.order.operationId}${r.isFinal ? " (final)" : ""}`;
    default:
      return "";
  }
}
