import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createEvent } from "./create-event.js";
import { createEventFactory } from "./event-factory.js";
import { serializeEvent } from "./serialize.js";

// The count fast path of createEventFactory (equipment and sourceRefs checked once when they are
// deep-frozen, the rest per event): whatever it is given, the factory answers exactly as
// createEvent does, the same event or the same error.

const TYPE = "dev.millwright.productioncount.counted.v1";
const SOURCE = "urn:millwright:opcua:line1";
const TIME = "2026-03-02T06:12:40.125001Z";

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

const EQUIPMENT = deepFreeze({ id: "LINE1", level: "production_line", site: { id: "1710" } });
const SOURCE_REFS = deepFreeze([{ system: "urn:opcua:line1", kind: "PackMLAdminObjectType", key: "ns=3;s=Line1.Admin" }]);

function count(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    equipment: EQUIPMENT,
    goodQuantity: { value: "12", unit: "H87" },
    defectiveQuantity: { value: "1", unit: "H87" },
    windowStart: "2026-03-02T06:12:40.025001Z",
    windowEnd: TIME,
    counters: [
      { signal: "ns=3;s=Line1.Good", role: "good", from: 100, to: 112, reset: false, rollover: false },
      { signal: "ns=3;s=Line1.Defective", role: "defective", from: 7, to: 8, reset: false, rollover: false },
    ],
    revision: "1772431960125001",
    sourceRefs: SOURCE_REFS,
    ...overrides,
  };
}

/** The factory's answer equals createEvent's: the same frozen event (member order, text), or the same error. */
function expectSameAsCreateEvent(factory: ReturnType<typeof countFactory>, data: unknown, time: string = TIME): boolean {
  const made = factory.create(data as never, time);
  const created = createEvent({ type: TYPE, source: SOURCE, data: data as never, time });
  if (created.isOk()) {
    expect(made.isOk()).toBe(true);
    const event = made._unsafeUnwrap();
    expect(event).toStrictEqual(created.value);
    expect(Object.keys(event)).toEqual(Object.keys(created.value));
    expect(serializeEvent(event)).toBe(serializeEvent(created.value));
    expect(Object.isFrozen(event)).toBe(true);
    expect(event.data).toBe(data);
  } else {
    expect(made._unsafeUnwrapErr()).toEqual(created.error);
  }
  return created.isOk();
}

const countFactory = () => createEventFactory(TYPE, { source: SOURCE })._unsafeUnwrap();

describe("createEventFactory, count events", () => {
  it("makes the event createEvent makes, from frozen parts and from parts that are not frozen", () => {
    const factory = countFactory();
    for (let i = 0; i < 3; i++) expect(expectSameAsCreateEvent(factory, count())).toBe(true);
    expect(expectSameAsCreateEvent(factory, count({ equipment: { id: "LINE1", level: "production_line", site: { id: "1710" } } }))).toBe(true);
    expect(expectSameAsCreateEvent(factory, count({ sourceRefs: [{ system: "s", kind: "k", key: "k" }], order: { orderId: "1000123" } }))).toBe(true);
    expect(expectSameAsCreateEvent(factory, count({ counters: undefined, material: { id: "FG-1" } }))).toBe(true);
    // A distinct id per window, the same id for the same window.
    const a = factory.create(count() as never, TIME)._unsafeUnwrap();
    const b = factory.create(count({ windowEnd: "2026-03-02T06:12:40.225001Z", revision: "1772431960225001" }) as never, TIME)._unsafeUnwrap();
    expect(b.id).not.toBe(a.id);
    expect(factory.create(count() as never, "2030-01-01T00:00:00Z")._unsafeUnwrap().id).toBe(a.id);
  });

  it("refuses what createEvent refuses, with its error, also after the same parts were accepted", () => {
    const factory = countFactory();
    expect(factory.create(count() as never, TIME).isOk()).toBe(true);
    const invalid = [
      count({ goodQuantity: { value: "-1", unit: "H87" } }),
      count({ defectiveQuantity: { value: "1", unit: "KGM" } }),
      count({ windowStart: "2026-03-02T06:12:41Z" }),
      count({ windowEnd: "2026-02-30T06:12:40Z" }),
      count({ revision: "01" }),
      count({ counters: [{ signal: "s", role: "good", from: 5, to: 4, reset: false, rollover: false }] }),
      count({ counters: [{ signal: " s", role: "good", from: 4, to: 5, reset: false, rollover: false }] }),
      count({ order: { orderId: "" } }),
      count({ bogus: 1 }),
      count({ equipment: deepFreeze({ id: "LINE1", level: "line", site: { id: "1710" } }) }),
      count({ sourceRefs: deepFreeze([]) }),
    ];
    for (const data of invalid) expect(expectSameAsCreateEvent(factory, data)).toBe(false);
  });

  it("checks again a part that is not frozen, since it may have changed", () => {
    const factory = countFactory();
    const equipment: Record<string, unknown> = { id: "LINE1", level: "production_line", site: { id: "1710" } };
    expect(expectSameAsCreateEvent(factory, count({ equipment }))).toBe(true);
    equipment["id"] = " LINE1";
    expect(expectSameAsCreateEvent(factory, count({ equipment }))).toBe(false);
  });

  it("refuses, as createEvent does, when something enumerable was added to Object.prototype", () => {
    const factory = countFactory();
    expect(factory.create(count() as never, TIME).isOk()).toBe(true);
    Object.defineProperty(Object.prototype, "order", { value: "x", enumerable: true, configurable: true, writable: true });
    try {
      expect(expectSameAsCreateEvent(factory, count())).toBe(false);
    } finally {
      delete (Object.prototype as Record<string, unknown>)["order"];
    }
    expect(factory.create(count() as never, TIME).isOk()).toBe(true);
  });

  it("answers as createEvent for any count-like data (property)", () => {
    /** Mostly a valid value, sometimes one of the others. */
    const mostly = <T,>(valid: fc.Arbitrary<T>, others: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: others });
    const identifier = mostly(fc.constantFrom("LINE1", "ns=3;s=Line1.Good", "a b", "x".repeat(128)), fc.constantFrom<unknown>(" a", "a ", "", "é", "x".repeat(129), "a\u0007b", 7));
    const equipment = mostly(
      fc.constantFrom<unknown>(EQUIPMENT, deepFreeze({ id: "LINE2", level: "work_cell", site: { id: "1710", enterprise: "ACME" }, path: ["A1", "L2"] }), { id: "LINE6", level: "work_cell", site: { id: "1710" } }),
      fc.constantFrom<unknown>(deepFreeze({ id: "LINE3", level: "cell", site: { id: "1710" } }), deepFreeze({ id: " LINE4", level: "work_cell", site: { id: "1710" } }), deepFreeze({ id: "LINE5", level: "work_cell" }), "LINE7"),
    );
    const sourceRefs = mostly(
      fc.constantFrom<unknown>(SOURCE_REFS, deepFreeze([{ system: "s", kind: "k", key: "k1" }, { system: "s", kind: "k", key: "k2" }]), [{ system: "s", kind: "k", key: "k" }]),
      fc.constantFrom<unknown>(deepFreeze([]), deepFreeze([{ system: "s", kind: "k" }]), deepFreeze(Array.from({ length: 17 }, (_, i) => ({ system: "s", kind: "k", key: `k${i}` })))),
    );
    const decimal = mostly(fc.constantFrom("0", "12", "12.5", "1.000000000000001", "9".repeat(31)), fc.constantFrom<unknown>("-0", "-1", "01", "1.", ".5", "1e3", "1.0000000000000001", "9".repeat(32), 12));
    const unit = mostly(fc.constant("H87"), fc.constantFrom<unknown>("KGM", "h87", "X", "ABCD", 87));
    const quantity = mostly(fc.record({ value: decimal, unit }), fc.constantFrom<unknown>(null, "12", [], { value: "1" }, { value: "1", unit: "H87", extra: 1 }));
    const timestamp = mostly(
      fc.constantFrom("2026-03-02T06:12:40.025001Z", TIME, "2026-03-02T07:12:40.125001+01:00", "2026-03-02T06:12:40Z"),
      fc.constantFrom<unknown>("2026-02-30T06:12:40Z", "2026-03-02t06:12:40Z", "2026-03-02T06:12:40", `2026-03-02T06:12:40.${"1".repeat(50)}Z`, "", 1772431960),
    );
    const integer = mostly(fc.integer({ min: -2147483648, max: 4294967295 }), fc.constantFrom<unknown>(-2147483649, 4294967296, 1.5, Number.NaN, "5", -0));
    const reading = mostly(
      fc.oneof(
        // Mostly a counter that rose (or fell, which is valid only on a reset or a rollover).
        fc
          .tuple(identifier, mostly(fc.constantFrom("good", "defective", "processed"), fc.constant("scrap")), fc.integer({ min: -2147483648, max: 4294966295 }), fc.nat(1000), fc.boolean(), fc.boolean(), fc.nat(9))
          .map(([signal, role, from, delta, reset, rollover, fall]) => ({ signal, role, from, to: fall === 0 ? from - delta : from + delta, reset, rollover })),
        fc.record({ signal: identifier, role: fc.constantFrom("good", "defective", "processed"), from: integer, to: integer, reset: fc.boolean(), rollover: fc.boolean() }),
      ),
      fc.oneof(
        fc.record({ signal: identifier, role: fc.constant("good"), from: integer, to: integer, reset: fc.constantFrom<unknown>(false, 0) }, { requiredKeys: ["signal", "role", "from", "to"] }),
        fc.constantFrom<unknown>(null, [], "r"),
      ),
    );
    /** An optional member: absent, or (rarely) present with the given values. */
    const optional = (values: fc.Arbitrary<unknown>, weight = 1): fc.Arbitrary<unknown> => fc.oneof({ weight: 12, arbitrary: fc.constant(ABSENT) }, { weight, arbitrary: values });
    const ABSENT = Symbol("absent");
    const data = fc
      .record({
        equipment: mostly(equipment, fc.constant(ABSENT)),
        order: optional(fc.oneof(fc.record({ orderId: identifier }), fc.constantFrom<unknown>({ orderId: "1000123", operationId: "0010" }, {}, "1000123", undefined)), 3),
        material: optional(fc.constant({ id: "FG-1" })),
        goodQuantity: mostly(quantity, fc.constant(ABSENT)),
        defectiveQuantity: mostly(quantity, fc.constant(ABSENT)),
        windowStart: mostly(timestamp, fc.constant(ABSENT)),
        windowEnd: mostly(timestamp, fc.constant(ABSENT)),
        counters: mostly(fc.oneof({ weight: 8, arbitrary: fc.array(reading, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.array(reading, { minLength: 15, maxLength: 17 }) }), fc.constantFrom<unknown>(ABSENT, undefined, "c", {})),
        revision: mostly(fc.constantFrom("0", "1772431960125001", "1".repeat(20)), fc.constantFrom<unknown>(ABSENT, "01", "", "1".repeat(21), 5)),
        sourceRefs: mostly(sourceRefs, fc.constant(ABSENT)),
        extensions: optional(fc.constant({ acme: { shift: "A" } })),
        bogus: optional(fc.constant(1)),
      })
      .map((members) => Object.fromEntries(Object.entries(members).filter(([, value]) => value !== ABSENT)));
    const factory = countFactory();
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(data, (value) => {
        if (expectSameAsCreateEvent(factory, value)) accepted++;
        else refused++;
        // Again, with what the first call left in the factory's caches.
        expectSameAsCreateEvent(factory, value);
      }),
      { numRuns: 3000 },
    );
    // Both answers were compared, on events and on errors.
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});
