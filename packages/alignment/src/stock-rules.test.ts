// Scenario tests of the stock rules: goods issue, goods receipt, blocking and unblocking in ERP and WMS.
// Each rule: on time, late, never, out of order, duplicated.
import type { CanonicalEvent } from "@millwright/events";
import { describe, expect, it } from "vitest";
import {
  batchHoldPlaced,
  batchHoldReleased,
  batchProduced,
  brief,
  consumed,
  goodsReceipt,
  MINUTE,
  run,
  stockStatus,
  T0,
} from "../test/fixtures.js";
// Through the public entry point, so every rule is exported.
import { builtInRules, defaultSystemOf, goodsIssuePostedRule, goodsReceiptPostedRule, qualityHoldBlockedRule, qualityHoldUnblockedRule } from "./index.js";
import { createEngine } from "./engine.js";
import type { Finding } from "./finding.js";
import type { AlignmentRule } from "./rule.js";

const HOUR = 60;

/** {@link brief} without a zero quantity difference, so one expectation fits rules with and without quantities. */
const timing = (findings: readonly Finding[]) => brief(findings).map(({ diff, ...rest }) => (diff === undefined || /^-?0(\.0+)?$/.test(diff) ? rest : { ...rest, diff }));

/** The five scenarios every rule must pass, given its trigger and fulfilment at a time in minutes. */
function scenarios(name: string, rule: AlignmentRule, key: string, trigger: (m: number) => CanonicalEvent, fulfil: (m: number) => CanonicalEvent, deadline: number): void {
  describe(`${name}: the five scenarios`, () => {
    it("on time: no finding", () => {
      expect(run([rule], [trigger(0), fulfil(deadline - 5)], deadline * 3)).toEqual([]);
    });
    it("late: breached with the lateness", () => {
      expect(timing(run([rule], [trigger(0), fulfil(deadline + 7)], deadline * 3))).toEqual([{ kind: "breached", rule: rule.name, key, latenessMin: 7, reasons: ["late"] }]);
    });
    it("never: missing once, then resolved when it comes", () => {
      const engine = createEngine({ rules: [rule] });
      engine.ingest(trigger(0));
      expect(engine.evaluate(T0 + deadline * MINUTE)).toEqual([]);
      expect(timing(engine.evaluate(T0 + (deadline + 30) * MINUTE))).toEqual([{ kind: "breached", rule: rule.name, key, latenessMin: 30, reasons: ["missing"] }]);
      expect(engine.evaluate(T0 + (deadline + 40) * MINUTE)).toEqual([]);
      engine.ingest(fulfil(deadline + 45));
      expect(timing(engine.evaluate(T0 + (deadline + 50) * MINUTE))).toEqual([{ kind: "resolved", rule: rule.name, key, latenessMin: 45, resolution: "fulfilled" }]);
    });
    it("out of order: the fulfilment first gives the same findings", () => {
      const events = [trigger(0), fulfil(deadline + 7)];
      const inOrder = run([rule], events, deadline * 3);
      expect(inOrder).toHaveLength(1);
      expect(run([rule], [...events].reverse(), deadline * 3)).toEqual(inOrder);
    });
    it("duplicated: the same findings", () => {
      const events = [trigger(0), fulfil(deadline + 7)];
      expect(run([rule], [...events, ...events, ...events], deadline * 3)).toEqual(run([rule], events, deadline * 3));
    });
  });
}

scenarios("goodsissue-posted", goodsIssuePostedRule(), "1000123/RM10", (m) => consumed({ orderId: "1000123", value: "12.5", minutes: m, by: "floor" }), (m) => consumed({ orderId: "1000123", value: "12.5", minutes: m, by: "erp" }), 2 * HOUR);
scenarios("goodsreceipt-posted", goodsReceiptPostedRule(), "FG126/B260302A", (m) => batchProduced("B260302A", "118", m), (m) => goodsReceipt("B260302A", "118", m), 2 * HOUR);
for (const system of ["erp", "wms"] as const) {
  scenarios(`qualityhold-blocked-${system}`, qualityHoldBlockedRule({ system }), "FG126/B260302A", (m) => batchHoldPlaced("040000001234", "B260302A", m), (m) => stockStatus("B260302A", "quality_inspection", m, system), HOUR);
  scenarios(`qualityhold-unblocked-${system}`, qualityHoldUnblockedRule({ system }), "FG126/B260302A", (m) => batchHoldReleased("040000001234", "B260302A", m), (m) => stockStatus("B260302A", "unrestricted", m, system), HOUR);
}

describe("goodsissue-posted quantities", () => {
  const rule = goodsIssuePostedRule();
  it("sums the floor's consumption and the ERP's issues, compared at the deadline", () => {
    const engine = createEngine({ rules: [rule] });
    for (const e of [
      consumed({ orderId: "1000123", value: "10", minutes: 0, by: "floor" }),
      consumed({ orderId: "1000123", value: "10", minutes: 5, by: "erp" }),
      consumed({ orderId: "1000123", value: "2.5", minutes: 30, by: "floor" }),
    ]) engine.ingest(e);
    // Fulfilled early: judged at the deadline, when all reports in the window are in.
    expect(engine.evaluate(T0 + 60 * MINUTE)).toEqual([]);
    engine.ingest(consumed({ orderId: "1000123", value: "2.500", minutes: 40, by: "erp" }));
    expect(engine.evaluate(T0 + 121 * MINUTE)).toEqual([]);
    expect(engine.store.size().open).toBe(0);
  });
  it("reports an issue short of the consumption with the exact signed difference", () => {
    const events = [consumed({ orderId: "1000123", value: "12.5", minutes: 0, by: "floor" }), consumed({ orderId: "1000123", value: "12", minutes: 5, by: "erp" })];
    expect(brief(run([rule], events, 3 * HOUR))).toEqual([{ kind: "breached", rule: "goodsissue-posted", key: "1000123/RM10", latenessMin: 0, reasons: ["quantity_mismatch"], diff: "-0.5" }]);
  });
  it("keys by order and material, and ignores sources it cannot place", () => {
    const other = { ...consumed({ orderId: "1000123", material: "RM20", value: "1", minutes: 0, by: "floor" }) };
    const unknown = { ...consumed({ orderId: "1000123", value: "1", minutes: 0, by: "floor" }), id: "x", source: "urn:example:scanner" } as CanonicalEvent;
    const findings = run([rule], [other, unknown], 3 * HOUR);
    expect(brief(findings)).toEqual([{ kind: "breached", rule: "goodsissue-posted", key: "1000123/RM20", latenessMin: 60, reasons: ["missing"] }]);
    expect(findings[0]?.site).toBe("1710");
  });
  it("takes a classifier for sources named otherwise", () => {
    const systems = (source: string) => (source === "urn:example:scanner" ? ("floor" as const) : defaultSystemOf(source));
    const unknown = { ...consumed({ orderId: "1000123", value: "1", minutes: 0, by: "floor" }), id: "x", source: "urn:example:scanner" } as CanonicalEvent;
    expect(run([goodsIssuePostedRule({ systems })], [unknown], 3 * HOUR)).toHaveLength(1);
  });
});

describe("goodsreceipt-posted quantities", () => {
  it("compares the receipt with the batch's quantity when the batch gives one", () => {
    expect(brief(run([goodsReceiptPostedRule()], [batchProduced("B260302A", "120", 0), goodsReceipt("B260302A", "118", 10)], 3 * HOUR))).toEqual([
      { kind: "breached", rule: "goodsreceipt-posted", key: "FG126/B260302A", latenessMin: 0, reasons: ["quantity_mismatch"], diff: "-2" },
    ]);
    expect(run([goodsReceiptPostedRule()], [batchProduced("B260302A", undefined, 0), goodsReceipt("B260302A", "118", 10)], 3 * HOUR)).toEqual([]);
  });
});

describe("blocking rules", () => {
  it("the ERP's block does not count for the WMS, and a move to unrestricted is not a block", () => {
    const events = [batchHoldPlaced("040000001234", "B260302A", 0), stockStatus("B260302A", "blocked", 10, "erp"), stockStatus("B260302A", "unrestricted", 20, "wms")];
    expect(brief(run([qualityHoldBlockedRule({ system: "erp" }), qualityHoldBlockedRule({ system: "wms" })], events, 3 * HOUR))).toEqual([
      { kind: "breached", rule: "qualityhold-blocked-wms", key: "FG126/B260302A", latenessMin: 120, reasons: ["missing"] },
    ]);
  });
  it("a rejected hold expects no unblock", () => {
    expect(run([qualityHoldUnblockedRule({ system: "wms" })], [batchHoldReleased("040000001234", "B260302A", 0, "rejected")], 10 * HOUR)).toEqual([]);
  });
});

describe("give-up policy", () => {
  it("a key missing for longer than the give-up time is resolved as abandoned and forgotten", () => {
    const engine = createEngine({ rules: [qualityHoldUnblockedRule({ system: "wms" })], giveUpAfterMs: 24 * HOUR * MINUTE });
    engine.ingest(batchHoldReleased("040000001234", "B260302A", 0));
    expect(brief(engine.evaluate(T0 + 2 * HOUR * MINUTE)).map((f) => f.kind)).toEqual(["breached"]);
    expect(engine.evaluate(T0 + 24 * HOUR * MINUTE)).toEqual([]);
    expect(brief(engine.evaluate(T0 + 26 * HOUR * MINUTE))).toEqual([
      { kind: "resolved", rule: "qualityhold-unblocked-wms", key: "FG126/B260302A", latenessMin: 25 * HOUR, resolution: "abandoned" },
    ]);
    expect(engine.store.size()).toEqual({ open: 0, closed: 1 });
    // A late unblock for the forgotten key does not reopen it.
    expect(engine.ingest(stockStatus("B260302A", "unrestricted", 27 * HOUR, "wms"))._unsafeUnwrap()).toMatchObject({ late: 1 });
  });
  it("an evaluation that jumps past the give-up time reports the breach before its abandonment", () => {
    const rule = { ...qualityHoldUnblockedRule({ system: "erp" }), giveUpAfterMs: 60 * MINUTE };
    const findings = run([rule], [batchHoldReleased("040000001234", "B260302A", 0)], 10 * HOUR);
    expect(findings.map((f) => (f.kind === "breached" ? f.reasons.join() : f.resolution))).toEqual(["missing", "abandoned"]);
    expect(findings.every((f) => f.revision === String(T0 + HOUR * MINUTE))).toBe(true);
  });
});

describe("labels", () => {
  it("a key's site and line come from its events in canonical order, whatever the arrival order", () => {
    const rules = builtInRules();
    const events = [consumed({ orderId: "1000123", value: "1", minutes: 0, by: "floor" })];
    const [finding] = run(rules, events, 3 * HOUR);
    expect(finding).toMatchObject({ rule: "goodsissue-posted", site: "1710" });
  });
});
