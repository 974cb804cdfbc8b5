import { describe, expect, test } from "vitest";
import { clone, validExamples } from "../test/fixtures.js";
import { isEventType, parseEventData } from "./event-data.js";
import { eventCatalog, eventTypes } from "./generated/events.js";

describe("parseEventData", () => {
  test("the catalog covers the issue's list of facts", () => {
    expect(eventTypes).toEqual(
      expect.arrayContaining([
        "dev.millwright.workorder.created.v1", "dev.millwright.workorder.released.v1", "dev.millwright.workorder.started.v1",
        "dev.millwright.workorder.held.v1", "dev.millwright.workorder.resumed.v1", "dev.millwright.workorder.completed.v1",
        "dev.millwright.workorder.closed.v1", "dev.millwright.workorder.cancelled.v1",
        "dev.millwright.productionconfirmation.confirmed.v1", "dev.millwright.productioncount.counted.v1",
        "dev.millwright.machinestate.changed.v1", "dev.millwright.batch.created.v1", "dev.millwright.batch.statuschanged.v1",
        "dev.millwright.materialmovement.posted.v1", "dev.millwright.materialmovement.reversed.v1",
        "dev.millwright.qualityhold.placed.v1", "dev.millwright.qualityhold.released.v1",
      ]),
    );
    expect(isEventType("dev.millwright.workorder.released.v1")).toBe(true);
    expect(isEventType("dev.millwright.workorder.released.v2")).toBe(false);
  });

  test("data must fit the type, not only the entity", () => {
    const order = clone(validExamples("WorkOrder").find((e) => (e.json as { status: string }).status === "in_progress")!.json);
    expect(parseEventData("dev.millwright.workorder.started.v1", order).isOk()).toBe(true);
    const error = parseEventData("dev.millwright.workorder.released.v1", order)._unsafeUnwrapErr();
    expect(error.issues.map((i) => i.message)).toMatchInlineSnapshot(`
      [
        "/status: "in_progress" does not fit event type dev.millwright.workorder.released.v1, whose data has /status in "released"",
      ]
    `);
  });

  test("entity rules still apply", () => {
    expect(parseEventData("dev.millwright.batch.created.v1", { batchId: "" })._unsafeUnwrapErr().issues.length).toBeGreaterThan(1);
  });

  test("every catalog entry names an entity and pointers", () => {
    for (const entry of Object.values(eventCatalog)) {
      expect(entry.subject.startsWith("/")).toBe(true);
      expect(entry.partitionKey.length).toBeGreaterThan(0);
    }
  });
});
