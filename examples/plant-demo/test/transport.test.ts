import { createEvent } from "@millwright/events";
import { parseMaterialMovement, parseQualityHold, parseWorkOrder } from "@millwright/model";
import { describe, expect, test } from "vitest";
import { topicValuesOf } from "@millwright/transports/mqtt";
import { publishEvents } from "../src/transport.js";

// The demo's --transport option against the real local brokers (started by .ci/run): a missing
// broker fails this test, it never skips.
const order = parseWorkOrder({
  orderId: "1000123",
  site: { id: "1710" },
  material: { id: "FG126" },
  status: "released",
  plannedQuantity: { value: "500", unit: "H87" },
  operations: [],
  components: [],
  revision: "20260301061530",
  sourceRefs: [{ system: "S4PCLNT100", kind: "A_ProductionOrder_2", key: "ManufacturingOrder=1000123" }],
})._unsafeUnwrap();
const events = [createEvent({ type: "dev.millwright.workorder.released.v1", source: `urn:millwright:demo-test:${process.pid}`, time: "2026-03-01T06:15:30Z", data: order })._unsafeUnwrap()];

describe("the demo publishes its events over any transport with one option", () => {
  test.each(["mqtt", "nats", "amqp", "http"] as const)("%s", async (name) => {
    const report = await publishEvents(name, events);
    expect(report).toMatchObject({ transport: name, published: 1, failed: 0 });
    if (name === "http") expect(report.received).toBe(1);
  }, 30_000);
});

test("stock and hold facts get their site in the MQTT topic from their location or scope", () => {
  const refs = [{ system: "S4PCLNT100", kind: "A_MaterialDocumentItem", key: "MaterialDocumentYear=2026,MaterialDocument=4900000302,MaterialDocumentItem=0001" }];
  const movement = parseMaterialMovement({
    movementId: "2026/4900000302/0001",
    kind: "status_changed",
    postingDate: "2026-03-02",
    material: { id: "FG126" },
    batchId: "B260302A",
    quantity: { value: "118", unit: "H87" },
    from: { site: { id: "1710" }, storageLocation: "171A", stockType: "unrestricted" },
    to: { site: { id: "1710" }, storageLocation: "171A", stockType: "quality_inspection" },
    revision: "0",
    sourceRefs: refs,
  })._unsafeUnwrap();
  const hold = parseQualityHold({
    holdId: "040000001234",
    status: "placed",
    scope: { kind: "batch", batch: { material: { id: "FG126" }, batchId: "B260302A", site: { id: "1710" } } },
    heldStockType: "quality_inspection",
    reason: { text: "First article inspection" },
    placedAt: "2026-03-02T08:05:00-08:00",
    revision: "20260302160500",
    sourceRefs: [{ system: "S4PCLNT100", kind: "A_InspectionLot", key: "InspectionLot=040000001234" }],
  })._unsafeUnwrap();
  const source = "urn:millwright:demo-test:topics";
  const moved = createEvent({ type: "dev.millwright.materialmovement.posted.v1", source, time: "2026-03-02T08:06:30-08:00", data: movement })._unsafeUnwrap();
  const held = createEvent({ type: "dev.millwright.qualityhold.placed.v1", source, time: "2026-03-02T08:05:00-08:00", data: hold })._unsafeUnwrap();
  // The transports' default topic values: stock and hold facts take the site of the stock they are about.
  expect(topicValuesOf(moved, "millwright")).toMatchObject({ enterprise: "millwright", site: "1710", entity: "materialmovement", action: "posted" });
  expect(topicValuesOf(held, "millwright")).toMatchObject({ site: "1710", entity: "qualityhold", action: "placed" });
  expect(topicValuesOf(events[0]!, "millwright")).toMatchObject({ site: "1710", entity: "workorder", action: "released" });
});
