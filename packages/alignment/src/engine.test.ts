import { deriveEventId, parseEvent, serializeEvent, type CanonicalEvent } from "@millwright/events";
import { compareQuantities, parseAlignment, sumQuantities } from "@millwright/model";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { completed, confirmed, counted, MINUTE, released, started, T0 } from "../test/fixtures.js";
import { builtInRules, productionConfirmedRule, workOrderStartedRule } from "./built-in-rules.js";
import { createEngine } from "./engine.js";
import { judgeKey, signedDifference } from "./judge.js";
import { toAlignmentEvent } from "./record.js";
import { defineRule } from "./rule.js";
import { createMemoryStore } from "./store.js";

describe("ingest", () => {
  it("refuses an event without a time", () => {
    const engine = createEngine({ rules: [workOrderStartedRule()] });
    const { time: _time, ...untimed } = released("1000200", 0);
    const result = engine.ingest(untimed as CanonicalEvent);
    expect(result._unsafeUnwrapErr().code).toBe("missing_time");
    expect(result._unsafeUnwrapErr().message).toMatchInlineSnapshot(`"event b973d1e3-1293-5ca4-b759-3b69ae8ba285 from urn:millwright:sap:S4PCLNT100 has no time; alignment needs when each fact happened"`);
  });
  it("refuses an unreadable time", () => {
    const engine = createEngine({ rules: [workOrderStartedRule()] });
    const result = engine.ingest({ ...released("1000200", 0), time: "yesterday" } as CanonicalEvent);
    expect(result._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "invalid_time",
        "message": ""yesterday" is not a time",
        "path": "/time",
        "value": "yesterday",
      }
    `);
  });
  it("ignores events no rule reads", () => {
    const engine = createEngine({ rules: [workOrderStartedRule()] });
    expect(engine.ingest(completed("1000200", 0))._unsafeUnwrap()).toEqual({ matched: 0, duplicates: 0, late: 0 });
    expect(engine.store.size()).toEqual({ open: 0, closed: 0 });
  });
  it("hands an event only to the rules that read its type, and to the rules without types", () => {
    const seen: string[] = [];
    const spy = (name: string, types?: readonly string[]) =>
      defineRule({ name, description: name, deadlineMs: MINUTE, ...(types === undefined ? {} : { types }), observe: (e) => void seen.push(`${name} ${e.type}`) });
    const engine = createEngine({ rules: [spy("reads-released", ["dev.millwright.workorder.released.v1"]), spy("reads-all"), spy("reads-started", ["dev.millwright.workorder.started.v1"])] });
    engine.ingest(released("1000200", 0))._unsafeUnwrap();
    engine.ingest(started("1000200", 1))._unsafeUnwrap();
    engine.ingest(released("1000201", 2))._unsafeUnwrap();
    expect(seen).toEqual([
      "reads-released dev.millwright.workorder.released.v1",
      "reads-all dev.millwright.workorder.released.v1",
      "reads-all dev.millwright.workorder.started.v1",
      "reads-started dev.millwright.workorder.started.v1",
      "reads-released dev.millwright.workorder.released.v1",
      "reads-all dev.millwright.workorder.released.v1",
    ]);
    expect(() => spy("reads-none", [])).toThrowErrorMatchingInlineSnapshot(`[TypeError: defineRule(reads-none): types must list at least one event type, got []]`);
  });
});

describe("rules in typed code", () => {
  const customRule = defineRule({
    name: "custom-pairing",
    description: "a test rule: a completed order is followed by a start within 1 h",
    deadlineMs: 60 * MINUTE,
    observe: (e) =>
      e.type === "dev.millwright.workorder.completed.v1"
        ? { key: e.data.orderId, role: "trigger" }
        : e.type === "dev.millwright.workorder.started.v1"
          ? { key: e.data.orderId, role: "fulfilment" }
          : undefined,
  });
  it("run on the same engine beside the built-in rules, findings in rule order", () => {
    const engine = createEngine({ rules: [workOrderStartedRule(), customRule] });
    engine.ingest(completed("1000400", 0));
    engine.ingest(released("1000400", 0));
    expect(engine.evaluate(T0 + 5 * 60 * MINUTE).map((f) => f.rule)).toEqual(["workorder-started", "custom-pairing"]);
  });
  it("are checked when defined", () => {
    expect(() => defineRule({ ...customRule, deadlineMs: -1 })).toThrowErrorMatchingInlineSnapshot(`[TypeError: defineRule(custom-pairing): deadlineMs must be a finite number ≥ 0, got -1]`);
    expect(() => defineRule({ ...customRule, tolerance: "1e3" })).toThrowErrorMatchingInlineSnapshot(`[TypeError: defineRule(custom-pairing): tolerance must be a non-negative decimal string, got "1e3"]`);
    expect(() => createEngine({ rules: [customRule, customRule] })).toThrowErrorMatchingInlineSnapshot(`[TypeError: createEngine: two rules are named "custom-pairing"]`);
  });
});

describe("quantities", () => {
  it("signedDifference is exact and signed", () => {
    expect(signedDifference({ value: "0.3", unit: "KGM" }, { value: "0.1", unit: "KGM" })._unsafeUnwrap()).toBe("0.2");
    expect(signedDifference({ value: "98", unit: "H87" }, { value: "100.0", unit: "H87" })._unsafeUnwrap()).toBe("-2.0");
  });
  it("a unit that cannot be compared is reported as quantity_unverifiable", () => {
    const engine = createEngine({ rules: [productionConfirmedRule()] });
    const count = counted("1000500", "5", 0);
    const otherUnit = { ...count, id: "other", data: { ...count.data, goodQuantity: { value: "5", unit: "KGM" } } } as CanonicalEvent;
    for (const e of [count, otherUnit, completed("1000500", 10), confirmed({ orderId: "1000500", n: 1, yieldValue: "10", isFinal: true, minutes: 20 })]) engine.ingest(e);
    // Fulfilled before the deadline: quantity rules are judged at the deadline (10 min + 2 h).
    expect(engine.evaluate(T0 + 60 * MINUTE)).toEqual([]);
    const [finding] = engine.evaluate(T0 + 131 * MINUTE);
    expect(finding?.kind === "breached" && finding.reasons).toEqual(["quantity_unverifiable"]);
    expect(finding?.kind === "breached" && finding.detail).toMatchInlineSnapshot(`"cannot combine KGM with H87; convert one of them first"`);
  });
});

describe("toAlignmentEvent", () => {
  const source = "urn:millwright:alignment:plant-1710";
  const breachedAndResolved = () => {
    const engine = createEngine({ rules: [workOrderStartedRule()] });
    engine.ingest(released("1000200", 0));
    const [breached] = engine.evaluate(T0 + 300 * MINUTE);
    engine.ingest(started("1000200", 320));
    const [resolved] = engine.evaluate(T0 + 330 * MINUTE);
    if (breached === undefined || resolved === undefined) throw new Error("expected a breach and its resolution");
    return { breached, resolved };
  };
  it("wraps a finding as a canonical event that parses, with an id derived from rule, key and due time", () => {
    const { breached, resolved } = breachedAndResolved();
    const event = toAlignmentEvent(breached, source)._unsafeUnwrap();
    expect(parseEvent(serializeEvent(event)).isOk()).toBe(true);
    expect(parseAlignment(event.data).isOk()).toBe(true);
    expect(event).toMatchObject({
      type: "dev.millwright.alignment.breached.v1",
      source,
      subject: "1000200",
      partitionkey: "workorder-started/1000200",
      time: "2026-03-02T11:00:00.000Z",
      data: { kind: "breached", rule: "workorder-started", key: "1000200", site: "1710", reasons: ["missing"], revision: String(T0 + 240 * MINUTE) },
    });
    expect(event.id).toBe(deriveEventId(event.type, source, ["workorder-started", "1000200"], String(T0 + 240 * MINUTE)));
    // Evaluated again later, or replayed: the same id, so consumers deduplicate.
    expect(toAlignmentEvent({ ...breached, at: "2030-01-01T00:00:00.000Z", latenessMs: 1 }, source)._unsafeUnwrap().id).toBe(event.id);
    const closing = toAlignmentEvent(resolved, source)._unsafeUnwrap();
    expect(closing).toMatchObject({ type: "dev.millwright.alignment.resolved.v1", partitionkey: event.partitionkey, data: { resolution: "fulfilled", latenessMs: 80 * MINUTE } });
    expect(closing.id).not.toBe(event.id);
  });
  it("refuses a finding that does not make a valid event, naming the field", () => {
    const { breached } = breachedAndResolved();
    const error = toAlignmentEvent({ ...breached, evidence: [] }, source)._unsafeUnwrapErr();
    expect(error.message).toContain("/evidence");
  });
});

describe("outcomes", () => {
  it("counts, per rule, the keys met on time, the breaches, the resolutions and the abandonments", () => {
    const engine = createEngine({ rules: [workOrderStartedRule(), productionConfirmedRule()], giveUpAfterMs: 10 * 60 * MINUTE });
    for (const e of [released("1000600", 0), started("1000600", 60), released("1000601", 0), started("1000601", 300), released("1000602", 0), released("1000603", 0)]) engine.ingest(e);
    // At 250 min: 1000600 met; 1000601 (its start at 300 min is not yet seen), 1000602 and 1000603 missing.
    engine.evaluate(T0 + 250 * MINUTE);
    engine.ingest(started("1000603", 260));
    // At 20 h: 1000601 and 1000603 resolved; 1000602 abandoned (missing for more than 10 h).
    engine.evaluate(T0 + 20 * 60 * MINUTE);
    expect(Object.fromEntries(engine.outcomes())).toEqual({
      "workorder-started": { met: 1, breached: 3, resolved: 2, abandoned: 1 },
      "productionconfirmation-posted": { met: 0, breached: 0, resolved: 0, abandoned: 0 },
    });
  });
});

describe("memory store", () => {
  it("keeps a key closed when a state is put on its tombstone: its events count as late", () => {
    const store = createMemoryStore();
    const engine = createEngine({ rules: builtInRules(), store });
    engine.ingest(released("5000001", 0));
    engine.ingest(started("5000001", 10));
    engine.evaluate(T0 + 60 * MINUTE);
    expect(store.isClosed("workorder-started", "5000001")).toBe(true);
    expect(engine.ingest(started("5000001", 20))._unsafeUnwrap()).toEqual({ matched: 1, duplicates: 0, late: 1 });
    store.put({ rule: "workorder-started", key: "5000001", events: [], breached: false });
    expect(store.size()).toEqual({ open: 1, closed: 1 });
    expect(engine.ingest(started("5000001", 30))._unsafeUnwrap()).toEqual({ matched: 1, duplicates: 0, late: 1 });
    expect(store.get("workorder-started", "5000001")?.events).toEqual([]);
  });
});

describe("quantity check", () => {
  it("the integer fast path agrees exactly with decimal arithmetic", () => {
    const decimalArb = fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.integer({ min: 0, max: 6 })).map(([n, scale]) => {
      const digits = n.toString().padStart(scale + 1, "0");
      return scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    });
    // Large values and scales too: past 15 digits the fast path sums BigInts instead of doubles.
    const largeArb = fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 26n }), fc.integer({ min: 0, max: 9 })).map(([n, scale]) => {
      const digits = n.toString().padStart(scale + 1, "0");
      return scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    });
    const anyDecimal = fc.oneof({ arbitrary: decimalArb, weight: 3 }, { arbitrary: largeArb, weight: 1 });
    const rule = defineRule({ name: "q", description: "q", deadlineMs: 0, tolerance: "0", observe: () => undefined });
    fc.assert(
      fc.property(fc.array(anyDecimal, { minLength: 1, maxLength: 4 }), fc.array(anyDecimal, { minLength: 1, maxLength: 4 }), anyDecimal, (done, expected, tolerance) => {
        const ev = (role: "trigger" | "fulfilment" | "partial" | "measure", value: string, i: number) => ({ id: `${role}${i}`, type: "t", source: "s", time: "", timeMs: i, role, quantity: { value, unit: "KGM" } });
        const events = [ev("trigger", expected[0] as string, 0), ...expected.slice(1).map((v, i) => ev("measure", v, i + 1)), ev("fulfilment", done[0] as string, 10), ...done.slice(1).map((v, i) => ev("partial", v, i + 11))];
        const verdict = judgeKey({ ...rule, tolerance }, { rule: "q", key: "k", events, breached: false }, 100);
        const sum = (values: string[]) => sumQuantities(values.map((value) => ({ value, unit: "KGM" })), "KGM")._unsafeUnwrap();
        const difference = signedDifference(sum(done), sum(expected))._unsafeUnwrap();
        const magnitude = difference.replace("-", "");
        const within = compareQuantities({ value: magnitude, unit: "KGM" }, { value: tolerance, unit: "KGM" })._unsafeUnwrap() <= 0;
        expect(verdict).toMatchObject({ status: "fulfilled", quantity: { ok: true, difference, unit: "KGM", withinTolerance: within } });
      }),
      { numRuns: 1000 },
    );
    // A difference exactly at the tolerance is within it, at any scale.
    const rule2 = defineRule({ name: "q", description: "q", deadlineMs: 0, tolerance: "0.50", observe: () => undefined });
    const at = (role: "trigger" | "fulfilment", value: string, timeMs: number) => ({ id: role, type: "t", source: "s", time: "", timeMs, role, quantity: { value, unit: "KGM" } });
    expect(judgeKey(rule2, { rule: "q", key: "k", events: [at("trigger", "10", 0), at("fulfilment", "10.5", 1)], breached: false }, 100)).toMatchObject({
      quantity: { difference: "0.5", withinTolerance: true },
    });
  });
});
