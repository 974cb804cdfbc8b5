import type { CanonicalEvent } from "@millwright/events";
import { describe, expect, it } from "vitest";
import { completed, confirmed, counted, MINUTE, released, started, T0 } from "../test/fixtures.js";
import { productionConfirmedRule, workOrderStartedRule } from "./built-in-rules.js";
import { createEngine } from "./engine.js";
import { signedDifference } from "./judge.js";
import { toAlignmentRecord } from "./record.js";
import { defineRule } from "./rule.js";

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
    const [finding] = engine.evaluate(T0 + 60 * MINUTE);
    expect(finding?.kind === "breached" && finding.reasons).toEqual(["quantity_unverifiable"]);
    expect(finding?.kind === "breached" && finding.detail).toMatchInlineSnapshot(`"cannot combine KGM with H87; convert one of them first"`);
  });
});

describe("toAlignmentRecord", () => {
  it("wraps a finding as a canonical-looking record with a stable id", () => {
    const engine = createEngine({ rules: [workOrderStartedRule()] });
    engine.ingest(released("1000200", 0));
    engine.ingest(started("1000200", 300));
    const [finding] = engine.evaluate(T0 + 600 * MINUTE);
    if (finding === undefined) throw new Error("expected a finding");
    const record = toAlignmentRecord(finding, "urn:millwright:alignment:plant-1710");
    expect({ ...record, data: { kind: record.data.kind } }).toMatchInlineSnapshot(`
      {
        "data": {
          "kind": "breached",
        },
        "datacontenttype": "application/json",
        "id": "1e03d7aa-b67b-5dd1-a00c-272ef4e95b6a",
        "partitionkey": "workorder-started/1000200",
        "source": "urn:millwright:alignment:plant-1710",
        "specversion": "1.0",
        "subject": "workorder-started/1000200",
        "time": "2026-03-02T16:00:00.000Z",
        "type": "dev.millwright.alignment.breached.v1",
      }
    `);
    expect(toAlignmentRecord({ ...finding, at: "2030-01-01T00:00:00.000Z" }, "urn:millwright:alignment:plant-1710").id).toBe(record.id);
  });
});
