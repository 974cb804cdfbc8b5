import fc from "fast-check";
import { createEvent, parseEvent } from "@millwright/events";
import { entityNames, eventTypes, parseEntity } from "@millwright/model";
import { describe, expect, test } from "vitest";
import "./vitest.js";
import { entity, event } from "./arbitraries.js";
import { buildEntity, buildQualityHold, buildWorkOrder } from "./index.js";
import { toBeCanonical, toBeCanonicalEvent } from "./matchers.js";

describe("arbitraries generate only valid data", () => {
  test.each(entityNames)("%s", (name) => {
    fc.assert(
      fc.property(entity(name), (value) => {
        const result = parseEntity(name, value);
        expect(result.isOk() ? [] : result.error.issues.map((i) => i.message)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  test.each(eventTypes)("%s", (type) => {
    fc.assert(
      fc.property(event(type), (e) => {
        expect(e.type).toBe(type);
        expect(parseEvent(JSON.parse(JSON.stringify(e))).isOk()).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});

// Generation builds the envelope itself (it does not validate its data again): it must be exactly
// what createEvent makes of the same type, source, time and data.
describe("event(type) gives the event createEvent makes of its data", () => {
  test.each(eventTypes)("%s", (type) => {
    fc.assert(
      fc.property(event(type, { source: "urn:millwright:sap:S4PCLNT100" }), (e) => {
        const created = createEvent({ type, source: e.source, time: e.time!, data: e.data as never });
        expect(created.isOk() ? created.value : created.error).toStrictEqual(e);
        expect(Object.isFrozen(e)).toBe(true);
        expect(Object.keys(e)).toEqual(Object.keys(created._unsafeUnwrap()));
      }),
      { numRuns: 50 },
    );
  });

  test("a source createEvent refuses is reported when generating, naming the rule", () => {
    expect(() => fc.sample(event("dev.millwright.workorder.released.v1", { source: "" }), 1)).toThrow(/event\(dev\.millwright\.workorder\.released\.v1\): .*source/);
  });
});

describe("seeds and shrinking", () => {
  test.each(entityNames)("%s: a seed gives the same values again", (name) => {
    expect(fc.sample(entity(name), { numRuns: 30, seed: 42 })).toEqual(fc.sample(entity(name), { numRuns: 30, seed: 42 }));
  });

  test("a seed gives the same events again, from a new arbitrary too", () => {
    const type = "dev.millwright.workorder.started.v1";
    const first = fc.sample(event(type), { numRuns: 30, seed: 42 });
    expect(fc.sample(event(type), { numRuns: 30, seed: 42 })).toEqual(first);
    expect(fc.sample(event(type, { source: "urn:millwright:mes:line-fab" }), { numRuns: 30, seed: 42 }).map((e) => e.data)).toEqual(first.map((e) => e.data));
  });

  test("a failing property shrinks to a small valid counterexample", () => {
    const run = fc.check(
      fc.property(entity("WorkOrder"), (order) => order.components.length < 2),
      { seed: 7 },
    );
    expect(run.failed).toBe(true);
    const [order] = run.counterexample!;
    expect(parseEntity("WorkOrder", order).isOk()).toBe(true);
    expect(order.components).toHaveLength(2);
    expect(order.operations).toEqual([]);
    expect(order.orderId).toBe("A");
    expect(order.plannedQuantity.value).toBe("0");
    expect(order.components.map((c) => c.itemId.length)).toEqual([1, 1]);
  });
});

// A consumer's property test runs 100 events under vitest's default 5 s timeout; generation must
// leave almost all of that to the consumer's own code, on a loaded CI machine too.
describe("a property over 100 generated events fits a default 5 s test", () => {
  test.each(eventTypes)("%s", { timeout: 5_000 }, (type) => {
    const start = performance.now();
    fc.assert(
      fc.property(event(type), (e) => parseEvent(e).isOk()),
      { numRuns: 100 },
    );
    expect(performance.now() - start).toBeLessThan(1_500);
  });
});

describe("builders", () => {
  test("every entity has a valid default", () => {
    for (const name of entityNames) expect(parseEntity(name, buildEntity(name)).isOk()).toBe(true);
  });

  test("overrides merge objects and replace arrays", () => {
    const order = buildWorkOrder({ status: "in_progress", plannedQuantity: { value: "250" }, operations: [] , components: [] });
    expect(order.plannedQuantity).toEqual({ value: "250", unit: "H87" });
    expect(order.operations).toEqual([]);
  });

  test("an invalid fixture is a bug in the test and says why", () => {
    expect(() => buildQualityHold({ status: "released" })).toThrowErrorMatchingInlineSnapshot(`
      [TypeError: buildEntity(QualityHold): the fixture is not valid:
        - missing_disposition: /disposition is required when status is "released"]
    `);
  });
});

describe("matchers", () => {
  test("pass and fail with messages that name the field, the value and the rule", () => {
    const order = buildWorkOrder();
    expect(order).toBeCanonical("WorkOrder");
    const bad = { ...order, plannedQuantity: { value: "1e3", unit: "H87" } };
    expect(bad).not.toBeCanonical("WorkOrder");
    expect(toBeCanonical(bad, "WorkOrder").message()).toMatchInlineSnapshot(`
      "expected a valid WorkOrder, but it has 1 issue(s):
        - invalid_format: /plannedQuantity/value: "1e3" is not in the required format (Decimal: pattern ^-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,15})?$)"
    `);
  });

  test("events, by type", () => {
    const e = fc.sample(event("dev.millwright.workorder.released.v1"), { numRuns: 1, seed: 7 })[0]!;
    expect(e).toBeCanonicalEvent("dev.millwright.workorder.released.v1");
    expect(JSON.stringify(e)).toBeCanonicalEvent();
    expect(e).not.toBeCanonicalEvent("dev.millwright.workorder.closed.v1");
    expect(toBeCanonicalEvent({ ...e, specversion: "0.3" }).message()).toMatchInlineSnapshot(`
      "expected a valid canonical event, but:
        - unsupported_specversion: /specversion: is exactly "1.0" (got "0.3")"
    `);
  });
});
