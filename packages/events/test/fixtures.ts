import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { entityCatalog, eventCatalog, eventTypes, parseEventData, type EventType } from "@millwright/model";
import { createEvent, type CreatedEvent } from "../src/index.js";

const SCHEMAS = join(import.meta.dirname, "..", "..", "..", "schemas");

/** Valid data per event type, from schemas/examples/ (types without a fitting example are left out). */
export function examplesByType(): { type: EventType; data: unknown }[] {
  const out: { type: EventType; data: unknown }[] = [];
  for (const type of eventTypes) {
    const entity = eventCatalog[type].entity;
    const dir = join(SCHEMAS, "examples", entityCatalog[entity].file.replace(/^entities\//, "").replace(/\.schema\.json$/, ""));
    for (const file of readdirSync(dir).sort()) {
      const data = JSON.parse(readFileSync(join(dir, file), "utf8")) as unknown;
      if (parseEventData(type, data).isOk()) out.push({ type, data });
    }
  }
  return out;
}

/** A released work order from the examples. */
export function workOrder(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMAS, "examples/work-order/completed-order-with-confirmed-yield-and-scrap.json"), "utf8")) as Record<string, unknown>;
}

export const TYPE: "dev.millwright.workorder.completed.v1" = "dev.millwright.workorder.completed.v1";
export const SOURCE = "urn:millwright:sap:S4PCLNT100";
export const TIME = "2026-02-25T20:05:12.123456+01:00";

/** A created event of the completed work order. */
export function sampleEvent(): CreatedEvent<typeof TYPE> {
  return createEvent({ type: TYPE, source: SOURCE, data: workOrder() as never, time: TIME })._unsafeUnwrap();
}

/** The sample event as a plain JSON object in the structured format. */
export function sampleJson(): Record<string, unknown> {
  const e = sampleEvent();
  return JSON.parse(JSON.stringify({ ...e })) as Record<string, unknown>;
}
