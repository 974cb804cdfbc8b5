import { createEvent } from "@millwright/events";
import { parseWorkOrder } from "@millwright/model";
import { describe, expect, test } from "vitest";
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
