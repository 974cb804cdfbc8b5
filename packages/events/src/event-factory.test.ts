import { describe, expect, it } from "vitest";
import { SOURCE, TIME, TYPE, examplesByType, workOrder } from "../test/fixtures.js";
import { createEvent } from "./create-event.js";
import { createEventFactory } from "./event-factory.js";
import { serializeEvent } from "./serialize.js";

describe("createEventFactory", () => {
  it("makes, for every catalog example, the event createEvent makes, member for member", () => {
    for (const { type, data } of examplesByType()) {
      const factory = createEventFactory(type, { source: SOURCE })._unsafeUnwrap();
      const made = factory.create(data as never, TIME)._unsafeUnwrap();
      const created = createEvent({ type, source: SOURCE, data: data as never, time: TIME })._unsafeUnwrap();
      expect(made).toStrictEqual(created);
      expect(Object.keys(made)).toEqual(Object.keys(created));
      expect(serializeEvent(made)).toBe(serializeEvent(created));
      expect(Object.isFrozen(made)).toBe(true);
    }
  });

  it("checks the type and the source once, with createEvent's errors", () => {
    expect(createEventFactory("dev.millwright.nothing.v1" as never, { source: SOURCE })._unsafeUnwrapErr()).toMatchObject({ code: "unknown_event_type", path: "/type" });
    const bad = createEventFactory(TYPE, { source: "a b" })._unsafeUnwrapErr();
    expect(bad).toEqual(createEvent({ type: TYPE, source: "a b", data: workOrder() as never, time: TIME })._unsafeUnwrapErr());
    expect(bad).toMatchObject({ code: "invalid_attribute_value", path: "/source" });
    expect(createEventFactory(TYPE, { source: "" })._unsafeUnwrapErr()).toMatchObject({ path: "/source" });
  });

  it("still checks the data and the time of every event, giving the error createEvent gives", () => {
    const factory = createEventFactory(TYPE, { source: SOURCE })._unsafeUnwrap();
    const invalid = { ...workOrder(), orderId: 42 };
    expect(factory.create(invalid as never, TIME)._unsafeUnwrapErr()).toEqual(createEvent({ type: TYPE, source: SOURCE, data: invalid as never, time: TIME })._unsafeUnwrapErr());
    expect(factory.create(invalid as never, TIME)._unsafeUnwrapErr().path).toMatch(/^\/data/);
    // A time accepted once does not let a different, invalid one through.
    expect(factory.create(workOrder() as never, TIME).isOk()).toBe(true);
    for (const time of ["2026-02-25 20:05:12", "", "2026-02-25T20:05:12Z\u0000", undefined]) {
      const made = factory.create(workOrder() as never, time as never)._unsafeUnwrapErr();
      expect(made).toEqual(createEvent({ type: TYPE, source: SOURCE, data: workOrder() as never, time: time as never })._unsafeUnwrapErr());
      expect(made.path).toBe("/time");
    }
    // Data whose getter throws is reported, never thrown.
    const hostile = Object.defineProperty({ ...workOrder() }, "revision", { enumerable: true, get: () => { throw new Error("boom"); } });
    expect(factory.create(hostile as never, TIME)._unsafeUnwrapErr().code).toBe(createEvent({ type: TYPE, source: SOURCE, data: hostile as never, time: TIME })._unsafeUnwrapErr().code);
  });

  it("derives a distinct id per fact and the same id for the same fact", () => {
    const factory = createEventFactory(TYPE, { source: SOURCE })._unsafeUnwrap();
    const a = factory.create(workOrder() as never, TIME)._unsafeUnwrap();
    const b = factory.create({ ...workOrder(), revision: "20260225200513" } as never, TIME)._unsafeUnwrap();
    expect(factory.create(workOrder() as never, "2030-01-01T00:00:00Z")._unsafeUnwrap().id).toBe(a.id);
    expect(b.id).not.toBe(a.id);
  });
});
