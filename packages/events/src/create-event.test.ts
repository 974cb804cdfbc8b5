import { describe, expect, expectTypeOf, it } from "vitest";
import { SOURCE, TIME, TYPE, examplesByType, workOrder } from "../test/fixtures.js";
import { createEvent, deriveEventId } from "./create-event.js";
import { parseEvent } from "./parse-event.js";
import { serializeEvent } from "./serialize.js";

describe("createEvent", () => {
  it("builds the canonical envelope of a fact", () => {
    const event = createEvent({ type: TYPE, source: SOURCE, data: workOrder() as never, time: TIME })._unsafeUnwrap();
    const { data, ...attributes } = event;
    expect(data.orderId).toBe("1000098");
    expect(attributes).toMatchInlineSnapshot(`
      {
        "datacontenttype": "application/json",
        "dataschema": "https://schemas.millwright.dev/v1/events/work-order-completed.schema.json",
        "id": "ea46797e-e88e-535f-ac0b-ec2a571fb716",
        "partitionkey": "1710/1000098",
        "sequence": "00000020260225200512",
        "source": "urn:millwright:sap:S4PCLNT100",
        "specversion": "1.0",
        "subject": "1000098",
        "time": "2026-02-25T20:05:12.123456+01:00",
        "type": "dev.millwright.workorder.completed.v1",
      }
    `);
    expect(Object.isFrozen(event)).toBe(true);
    expectTypeOf(event.data.orderId).toEqualTypeOf<string>();
    expectTypeOf(event.partitionkey).toEqualTypeOf<string>();
  });

  it("derives the id from type, source, natural key and revision only", () => {
    const order = workOrder();
    const a = createEvent({ type: TYPE, source: SOURCE, data: order as never, time: TIME })._unsafeUnwrap();
    const b = createEvent({ type: TYPE, source: SOURCE, data: { ...order, priority: 1 } as never, time: "2030-01-01T00:00:00Z" })._unsafeUnwrap();
    expect(b.id).toBe(a.id);
    expect(a.id).toBe(deriveEventId(TYPE, SOURCE, ["1000098"], "20260225200512"));
    const c = createEvent({ type: TYPE, source: SOURCE, data: { ...order, revision: "20260225200513" } as never, time: TIME })._unsafeUnwrap();
    expect(c.id).not.toBe(a.id);
    expect(c.sequence > a.sequence).toBe(true);
    const d = createEvent({ type: TYPE, source: "urn:other", data: order as never, time: TIME })._unsafeUnwrap();
    expect(d.id).not.toBe(a.id);
  });

  it("creates a valid event for every catalog example, which parseEvent reads back byte-exactly", () => {
    const examples = examplesByType();
    expect(examples.length).toBeGreaterThan(10);
    for (const { type, data } of examples) {
      const event = createEvent({ type, source: SOURCE, data: data as never, time: TIME })._unsafeUnwrap();
      const text = serializeEvent(event);
      expect(serializeEvent(parseEvent(text)._unsafeUnwrap())).toBe(text);
    }
  });

  it("takes subject, trace context, an explicit id and extensions", () => {
    const event = createEvent({
      type: TYPE,
      source: SOURCE,
      data: workOrder() as never,
      time: TIME,
      subject: "order 1000098",
      id: "my-id",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      tracestate: "congo=t61rcWkgMzE",
      extensions: { plant: "1710", shift: 2, late: false },
    })._unsafeUnwrap();
    expect(event).toMatchObject({ subject: "order 1000098", id: "my-id", extensions: { plant: "1710", shift: 2, late: false } });
    expect(parseEvent(serializeEvent(event))._unsafeUnwrap()).toEqual(event);
  });

  it("rejects what parseEvent would reject, with the same rules", () => {
    const base = { type: TYPE, source: SOURCE, data: workOrder() as never, time: TIME };
    const code = (input: object): string => {
      const r = createEvent({ ...base, ...input } as never);
      return r.isErr() ? r.error.code : "ok";
    };
    expect(code({})).toBe("ok");
    expect(code({ type: "dev.millwright.nothing.v1" })).toBe("unknown_event_type");
    expect(code({ source: "" })).toBe("invalid_attribute_value");
    expect(code({ source: "a b" })).toBe("invalid_attribute_value");
    expect(code({ time: undefined })).toBe("missing_attribute");
    expect(code({ time: "2026-02-25T20:05:12" })).toBe("invalid_attribute_value");
    expect(code({ traceparent: "nope" })).toBe("invalid_attribute_value");
    expect(code({ subject: "" })).toBe("invalid_attribute_value");
    expect(code({ id: "a\u0000" })).toBe("invalid_character");
    expect(code({ revision: "1" })).toBe("inconsistent_attribute");
    expect(code({ revision: "20260225200512" })).toBe("ok");
    expect(code({ extensions: { Bad: 1 } })).toBe("invalid_attribute_name");
    expect(code({ extensions: { subject: "x" } })).toBe("invalid_attribute_name");
    expect(code({ extensions: { big: 2 ** 31 } })).toBe("out_of_range");
    expect(code({ extensions: { obj: {} } })).toBe("invalid_attribute_type");
    expect(code({ data: { ...workOrder(), status: "planned" } })).toBe("invalid_data");
    const error = createEvent({ ...base, data: { ...workOrder(), status: "planned" } as never })._unsafeUnwrapErr();
    expect(error.code === "invalid_data" && error.cause.issues[0]?.path).toBe("/status");
  });
});
