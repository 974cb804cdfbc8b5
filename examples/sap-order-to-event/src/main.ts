/**
 * SAP production order → canonical work-order event.
 *
 * SAP S/4HANA sends a thin business event (the order number only). The SAP adapter reads the order
 * from API_PRODUCTION_ORDER_2_SRV with its operations, components and statuses, maps it to a
 * canonical WorkOrder (validated by @millwright/model), and builds the CloudEvent for its status.
 * SAP here is the adapter's test system: a local OData V2 server driven by SAP's own EDMX, serving
 * the adapter's fixture order 1000123. Point `serviceUrl` at your S/4HANA system instead.
 *
 * Run: `pnpm start` (writes out/events.ndjson and prints what happened).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createSapClient, createSapConfig, handleProductionOrderEvent, type SapBusinessEvent } from "@millwright/adapter-sap";
import { startTestSapServer } from "@millwright/adapter-sap/test-server";
import { serializeEvent, type CreatedEvent } from "@millwright/events";
import type { WorkOrder } from "@millwright/model";

const SERVICE = "API_PRODUCTION_ORDER_2_SRV";
const here = import.meta.dirname;

/** The service's `$metadata`, shipped with the adapter. */
function edmx(service: string): string {
  return readFileSync(createRequire(import.meta.url).resolve(`@millwright/adapter-sap/metadata/${service}.edmx`), "utf8");
}

/** An OData V2 response's entity without `__metadata` (the test system adds its own when it serves the row). */
function withoutMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== "__metadata").map(([k, v]) => [k, withoutMetadata(v)]));
}

/** The thin event SAP sends when an order changes: type, time and the key, nothing else. */
function sapEvent(order: string, id: string): SapBusinessEvent {
  return {
    specversion: "1.0",
    type: "sap.s4.beh.productionorder.v1.ProductionOrder.Changed.v1",
    source: "/default/sap.s4.beh/S4PCLNT100",
    id,
    time: "2026-03-02T07:15:30Z",
    data: { ManufacturingOrder: order },
  };
}

function describeOrder(order: WorkOrder): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  return `order ${order.orderId}: ${order.material.id} at site ${order.site.id}, ${order.status}, planned ${order.plannedQuantity.value} ${order.plannedQuantity.unit}, ${count(order.operations?.length ?? 0, "operation")}, ${count(order.components?.length ?? 0, "component")}`;
}

async function main(): Promise<number> {
  // The OData response SAP Gateway returns for GET A_ProductionOrder_2('1000123')?$expand=… (the adapter's test fixture).
  const response = JSON.parse(readFileSync(join(here, "..", "fixtures", "production-order-1000123.json"), "utf8")) as { d: Record<string, unknown> };
  const order = withoutMetadata(response.d) as Record<string, unknown>;
  // A second order in a unit the plant's configuration does not know: the adapter reports it, it does not guess.
  const unknownUnit = { ...order, ManufacturingOrder: "1000124", ProductionUnit: "KAR", ProductionUnitISOCode: "", ProductionUnitSAPCode: "KAR" };

  const sap = await startTestSapServer({ services: [{ name: SERVICE, edmx: edmx(SERVICE) }] });
  try {
    sap.seed(SERVICE, "A_ProductionOrder_2", [order, unknownUnit]);
    console.log(`SAP test system at ${sap.origin}, serving ${SERVICE} from its EDMX`);

    const config = createSapConfig({ system: "S4PCLNT100", timeZone: "Europe/Berlin" });
    if (config.isErr()) throw new Error(`configuration: ${config.error.message}`);
    const client = createSapClient({ serviceUrl: sap.serviceUrl(SERVICE), baseDelayMs: 20 });
    const options = { client, config: config.value, source: "urn:millwright:sap:S4PCLNT100", keyProperty: "ManufacturingOrder" };

    const events: CreatedEvent[] = [];
    // SAP's event mesh delivers at least once: the same change arrives twice, with two SAP event ids.
    for (const id of ["a823e884-5edc-4194-a81a-f3a3632417ee", "b2f7c0de-0c1e-4d5e-9a6f-3e2d1c0b9a87"]) {
      const event = await handleProductionOrderEvent(sapEvent("1000123", id), options);
      if (event.isErr()) {
        console.log(`SAP event ${id}: error ${event.error.code}: ${event.error.message}`);
        return 1;
      }
      console.log(`SAP event ${id} → ${event.value.type} subject ${event.value.subject} id ${event.value.id}`);
      console.log(`  ${describeOrder(event.value.data as WorkOrder)}`);
      events.push(event.value);
    }
    const [first, second] = events;
    console.log(`redelivery: ${first?.id === second?.id ? "same canonical id, a consumer's inbox applies it once" : "DIFFERENT canonical ids"}`);

    const rejected = await handleProductionOrderEvent(sapEvent("1000124", "c41d9e2a-1000124"), options);
    if (rejected.isOk()) {
      console.log(`order 1000124: unexpectedly mapped to ${rejected.value.type}`);
      return 1;
    }
    const issues = "issues" in rejected.error ? rejected.error.issues : [rejected.error];
    console.log(`order 1000124 rejected (${rejected.error.code}):`);
    for (const i of issues) console.log(`  ${i.code}: ${i.message}`);

    const out = join(here, "..", "out");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "events.ndjson"), `${serializeEvent(first as CreatedEvent)}\n`);
    console.log(`wrote out/events.ndjson (1 event; the redelivery is the same event)`);
    return 0;
  } finally {
    await sap.close();
  }
}

process.exitCode = await main();
