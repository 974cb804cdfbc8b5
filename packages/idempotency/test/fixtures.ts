import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createEvent, type CreatedEvent } from "@millwright/events";

const SCHEMAS = join(import.meta.dirname, "..", "..", "..", "schemas");
const TYPE = "dev.millwright.workorder.completed.v1" as const;
const base = JSON.parse(readFileSync(join(SCHEMAS, "examples/work-order/completed-order-with-confirmed-yield-and-scrap.json"), "utf8")) as Record<string, unknown>;

/** A completed work order event: `order` picks the order number, `revision` the revision, `scrap` varies the content. */
export function workOrderEvent(order: number, revision = 1, scrap = "7"): CreatedEvent<typeof TYPE> {
  const data = {
    ...base,
    orderId: String(1_000_000 + order),
    revision: String(revision),
    confirmedScrapQuantity: { value: scrap, unit: "H87" },
  };
  return createEvent({ type: TYPE, source: "urn:millwright:sap:S4PCLNT100", data: data as never, time: "2026-02-25T20:05:12+01:00" })._unsafeUnwrap();
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_767_225_600_000): { now(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}
