import type { CanonicalEvent } from "@millwright/events";
import { describe, expect, it } from "vitest";
import { at, brief, completed, confirmed, counted, holdEnded, holdPlaced, MINUTE, released, run, started, T0 } from "../test/fixtures.js";
import { builtInRules, defaultSystemOf, productionConfirmedRule, qualityHoldClosedRule, workOrderStartedRule } from "./built-in-rules.js";
import { createEngine } from "./engine.js";
import type { AlignmentRule } from "./rule.js";
import type { Finding } from "./finding.js";

const HOUR = 60;

describe("workorder-started (released → started within 4 h)", () => {
  const rules = [workOrderStartedRule()];
  it("on time: no finding, and the key is closed and dropped", () => {
    const engine = createEngine({ rules });
    engine.ingest(released("1000200", 0));
    engine.ingest(started("1000200", 3 * HOUR));
    expect(engine.evaluate(T0 + 10 * HOUR * MINUTE)).toEqual([]);
    expect(engine.store.size()).toEqual({ open: 0, closed: 1 });
  });
  it("late: breached with the lateness and both events as evidence", () => {
    const [finding] = run(rules, [released("1000200", 0), started("1000200", 4 * HOUR + 30)], 10 * HOUR);
    expect(finding).toMatchObject({ kind: "breached", reasons: ["late"], latenessMs: 30 * MINUTE, dueAt: at(4 * HOUR), at: at(10 * HOUR) });
    expect(finding?.evidence.map((e) => [e.type, e.source, e.role])).toEqual([
      ["dev.millwright.workorder.released.v1", "urn:millwright:sap:S4PCLNT100", "trigger"],
      ["dev.millwright.workorder.started.v1", "urn:millwright:mes:line-fab", "fulfilment"],
    ]);
  });
  it("never: waiting before the deadline, breached once after it, resolved when the start arrives", () => {
    const engine = createEngine({ rules });
    engine.ingest(released("1000200", 0));
    expect(engine.evaluate(T0 + 4 * HOUR * MINUTE)).toEqual([]);
    expect(brief(engine.evaluate(T0 + 5 * HOUR * MINUTE))).toEqual([{ kind: "breached", rule: "workorder-started", key: "1000200", latenessMin: 60, reasons: ["missing"] }]);
    expect(engine.evaluate(T0 + 6 * HOUR * MINUTE)).toEqual([]);
    engine.ingest(started("1000200", 6 * HOUR + 15));
    expect(brief(engine.evaluate(T0 + 7 * HOUR * MINUTE))).toEqual([{ kind: "resolved", rule: "workorder-started", key: "1000200", latenessMin: 135, resolution: "fulfilled" }]);
    expect(engine.store.size().open).toBe(0);
  });
  it("out of order: the start before the release gives the same findings", () => {
    const inOrder = run(rules, [released("1000200", 0), started("1000200", 5 * HOUR)], 6 * HOUR);
    const reversed = run(rules, [started("1000200", 5 * HOUR), released("1000200", 0)], 6 * HOUR);
    expect(reversed).toEqual(inOrder);
    expect(brief(reversed)).toEqual([{ kind: "breached", rule: "workorder-started", key: "1000200", latenessMin: 60, reasons: ["late"] }]);
  });
  it("duplicated: repeated events are counted as duplicates and change nothing", () => {
    const engine = createEngine({ rules });
    const r = released("1000200", 0);
    engine.ingest(r);
    expect(engine.ingest(r)._unsafeUnwrap()).toEqual({ matched: 1, duplicates: 1, late: 0 });
    expect(brief(engine.evaluate(T0 + 5 * HOUR * MINUTE))).toHaveLength(1);
    const s = started("1000200", 5 * HOUR);
    engine.ingest(s);
    engine.ingest(s);
    expect(brief(engine.evaluate(T0 + 6 * HOUR * MINUTE)).map((f) => f.kind)).toEqual(["resolved"]);
    // a duplicate after closing is late for the tombstoned key and does not reopen it
    expect(engine.ingest(r)._unsafeUnwrap()).toEqual({ matched: 1, duplicates: 0, late: 1 });
    expect(engine.evaluate(T0 + 20 * HOUR * MINUTE)).toEqual([]);
  });
  it("a start without a release is an orphan, dropped after the retention", () => {
    const engine = createEngine({ rules, retentionMs: HOUR * MINUTE });
    engine.ingest(started("1000200", 0));
    expect(engine.evaluate(T0 + 30 * MINUTE)).toEqual([]);
    expect(engine.store.size().open).toBe(1);
    expect(engine.evaluate(T0 + 2 * HOUR * MINUTE)).toEqual([]);
    expect(engine.store.size()).toEqual({ open: 0, closed: 0 });
  });
});

describe("productionconfirmation-posted (completed → final confirmation within 2 h, yield = counted good)", () => {
  const rules = [productionConfirmedRule()];
  const counts = [counted("1000300", "60", 10), counted("1000300", "40.5", 20, "CUT01")];
  it("on time with equal quantities: no finding", () => {
    const events = [...counts, completed("1000300", 30), confirmed({ orderId: "1000300", n: 1, yieldValue: "100.5", isFinal: true, minutes: 60 })];
    expect(run(rules, events, 10 * HOUR)).toEqual([]);
  });
  it("partial and final confirmations add up", () => {
    const events = [
      ...counts,
      completed("1000300", 30),
      confirmed({ orderId: "1000300", n: 1, yieldValue: "60", isFinal: false, minutes: 40 }),
      confirmed({ orderId: "1000300", n: 2, yieldValue: "40.500", isFinal: true, minutes: 60 }),
    ];
    expect(run(rules, events, 10 * HOUR)).toEqual([]);
  });
  it("on time but yield differs: quantity_mismatch with the exact signed difference", () => {
    const events = [...counts, completed("1000300", 30), confirmed({ orderId: "1000300", n: 1, yieldValue: "98", isFinal: true, minutes: 60 })];
    expect(brief(run(rules, events, 10 * HOUR))).toEqual([
      { kind: "breached", rule: "productionconfirmation-posted", key: "1000300", latenessMin: 0, reasons: ["quantity_mismatch"], diff: "-2.5" },
    ]);
  });
  it("a difference within the tolerance is accepted", () => {
    const events = [...counts, completed("1000300", 30), confirmed({ orderId: "1000300", n: 1, yieldValue: "98", isFinal: true, minutes: 60 })];
    expect(run([productionConfirmedRule({ tolerance: "2.5" })], events, 10 * HOUR)).toEqual([]);
  });
  it("late and wrong: both reasons", () => {
    const events = [...counts, completed("1000300", 30), confirmed({ orderId: "1000300", n: 1, yieldValue: "101", isFinal: true, minutes: 30 + 3 * HOUR })];
    expect(brief(run(rules, events, 10 * HOUR))).toEqual([
      { kind: "breached", rule: "productionconfirmation-posted", key: "1000300", latenessMin: 60, reasons: ["late", "quantity_mismatch"], diff: "0.5" },
    ]);
  });
  it("never: missing after the deadline, then resolved with the quantity check", () => {
    const engine = createEngine({ rules });
    for (const e of [...counts, completed("1000300", 30)]) engine.ingest(e);
    expect(brief(engine.evaluate(T0 + 3 * HOUR * MINUTE))).toEqual([
      { kind: "breached", rule: "productionconfirmation-posted", key: "1000300", latenessMin: 30, reasons: ["missing"] },
    ]);
    engine.ingest(confirmed({ orderId: "1000300", n: 1, yieldValue: "100.5", isFinal: true, minutes: 4 * HOUR }));
    const [resolved] = engine.evaluate(T0 + 5 * HOUR * MINUTE);
    expect(resolved).toMatchObject({ kind: "resolved", latenessMs: 90 * MINUTE, quantityDifference: "0.0", unit: "H87", withinTolerance: true });
  });
  it("a non-final confirmation does not fulfil", () => {
    const events = [...counts, completed("1000300", 30), confirmed({ orderId: "1000300", n: 1, yieldValue: "100.5", isFinal: false, minutes: 40 })];
    expect(run(rules, events, 3 * HOUR).map((f) => f.kind === "breached" && f.reasons)).toEqual([["missing"]]);
  });
  it("out of order and duplicated: the same findings", () => {
    const events = [...counts, completed("1000300", 30), confirmed({ orderId: "1000300", n: 1, yieldValue: "99", isFinal: true, minutes: 60 })];
    const expected = run(rules, events, 10 * HOUR);
    expect(expected).toHaveLength(1);
    expect(run(rules, [...events].reverse(), 10 * HOUR)).toEqual(expected);
    expect(run(rules, [...events, ...events, events[0] as CanonicalEvent], 10 * HOUR)).toEqual(expected);
  });
});

describe("qualityhold-closed (placed → released/rejected/cancelled within 72 h)", () => {
  const rules = [qualityHoldClosedRule()];
  it.each(["released", "rejected", "cancelled"] as const)("on time when %s: no finding", (status) => {
    expect(run(rules, [holdPlaced("010000000500", 0), holdEnded("010000000500", 24 * HOUR, status)], 100 * HOUR)).toEqual([]);
  });
  it("late: breached", () => {
    expect(brief(run(rules, [holdPlaced("010000000500", 0), holdEnded("010000000500", 73 * HOUR)], 100 * HOUR))).toEqual([
      { kind: "breached", rule: "qualityhold-closed", key: "010000000500", latenessMin: 60, reasons: ["late"] },
    ]);
  });
  it("never: breached as missing", () => {
    expect(brief(run(rules, [holdPlaced("010000000500", 0)], 80 * HOUR))).toEqual([
      { kind: "breached", rule: "qualityhold-closed", key: "010000000500", latenessMin: 8 * HOUR, reasons: ["missing"] },
    ]);
  });
  it("out of order and duplicated: the same findings", () => {
    const events = [holdPlaced("010000000500", 0), holdEnded("010000000500", 75 * HOUR)];
    const expected = run(rules, events, 100 * HOUR);
    expect(run(rules, [...events].reverse(), 100 * HOUR)).toEqual(expected);
    expect(run(rules, [...events, ...events], 100 * HOUR)).toEqual(expected);
  });
});

describe("builtInRules", () => {
  it("names every rule once, in report order", () => {
    expect(builtInRules().map((r) => r.name)).toEqual([
      "workorder-started",
      "productionconfirmation-posted",
      "goodsissue-posted",
      "goodsreceipt-posted",
      "qualityhold-blocked-erp",
      "qualityhold-blocked-wms",
      "qualityhold-unblocked-erp",
      "qualityhold-unblocked-wms",
      "qualityhold-closed",
    ]);
  });
  it("applies per-rule options", () => {
    const [started] = builtInRules({ workOrderStarted: { deadlineMs: 1000 } });
    expect(started?.deadlineMs).toBe(1000);
  });
});

describe("defaultSystemOf", () => {
  it("reads the role from the system segment of a Millwright source", () => {
    expect(["urn:millwright:sap:S4PCLNT100", "urn:millwright:wms", "urn:millwright:opcua:opc.tcp://line-4:4840", "urn:millwright:lims:lab-2"].map((s) => defaultSystemOf(s))).toEqual(["erp", "wms", "floor", "quality"]);
    expect(["urn:millwright:SAP:S4", "urn:millwright:sap-x:S4", "urn:millwright:scanner:77", "https://sap.example.com/odata", "sap"].map((s) => defaultSystemOf(s))).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it("gives no role to a system named like a property every object has", () => {
    expect(defaultSystemOf("urn:millwright:constructor:x")).toBeUndefined();
  });
});
