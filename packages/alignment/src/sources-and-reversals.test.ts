// The systems each built-in rule reads its triggers and fulfilments from, the give-up boundary,
// and reversals (SAP 262, 102, cancelled confirmations) netted per movement.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  batchHoldPlaced,
  batchProduced,
  brief,
  completed,
  confirmed,
  consumed,
  counted,
  goodsReceipt,
  MES,
  MINUTE,
  QMS,
  released,
  run,
  SAP,
  started,
  stockStatus,
  T0,
  WMS,
} from "../test/fixtures.js";
import { createEngine } from "./engine.js";
import { builtInRules, goodsIssuePostedRule, goodsReceiptPostedRule, productionConfirmedRule, qualityHoldBlockedRule, qualityHoldClosedRule, workOrderStartedRule } from "./index.js";
import { defineRule } from "./rule.js";

const HOUR = 60;

describe("workorder-started reads the release from the ERP and the start from the floor", () => {
  const rule = workOrderStartedRule();

  it("a status change inside the ERP does not meet 'started by the MES'", () => {
    const findings = brief(run([rule], [released("1000123", 0), started("1000123", 10, SAP)], 5 * HOUR));
    expect(findings).toEqual([{ kind: "breached", rule: "workorder-started", key: "1000123", latenessMin: 60, reasons: ["missing"] }]);
  });

  it("a release from an unknown system does not start the clock", () => {
    expect(run([rule], [released("1000123", 0, "urn:example:planner")], 10 * HOUR)).toEqual([]);
    expect(run([rule], [released("1000123", 0, WMS)], 10 * HOUR)).toEqual([]);
  });

  it("the MES's start meets the ERP's release", () => {
    expect(run([rule], [released("1000123", 0), started("1000123", 10)], 5 * HOUR)).toEqual([]);
  });

  it("a classifier names other systems", () => {
    const custom = workOrderStartedRule({ systems: (source) => (source === "urn:example:planner" ? "erp" : source === MES ? "floor" : undefined) });
    expect(brief(run([custom], [released("1000123", 0, "urn:example:planner")], 5 * HOUR))).toMatchObject([{ reasons: ["missing"] }]);
  });
});

describe("productionconfirmation-posted reads completions and counts from the floor, confirmations from the ERP", () => {
  const rule = productionConfirmedRule();

  it("a confirmation the MES reports itself does not meet the rule", () => {
    const events = [counted("1000123", "30", 10), completed("1000123", 20), confirmed({ orderId: "1000123", n: 1, yieldValue: "30", isFinal: true, minutes: 30, source: MES })];
    expect(brief(run([rule], events, 4 * HOUR))).toMatchObject([{ kind: "breached", reasons: ["missing"] }]);
  });

  it("a completion the ERP reports does not start the clock", () => {
    const fromErp = { ...completed("1000123", 20), source: SAP };
    expect(run([rule], [fromErp], 10 * HOUR)).toEqual([]);
  });
});

describe("hold triggers come from the systems that decide holds", () => {
  it("a hold the WMS reports does not start the blocking rules or qualityhold-closed", () => {
    const fromWms = { ...batchHoldPlaced("040000001234", "B260302A", 0), source: WMS };
    expect(run([qualityHoldBlockedRule({ system: "erp" }), qualityHoldClosedRule()], [fromWms], 100 * HOUR)).toEqual([]);
  });

  it("a hold the QMS places does", () => {
    const findings = run([qualityHoldBlockedRule({ system: "erp" })], [batchHoldPlaced("040000001234", "B260302A", 0)], 2 * HOUR);
    expect(brief(findings)).toMatchObject([{ rule: "qualityhold-blocked-erp", reasons: ["missing"] }]);
    expect(findings[0]?.evidence[0]?.source).toBe(QMS);
  });
});

describe("give-up boundary: a key missing exactly giveUpAfterMs after its due time is abandoned", () => {
  const rule = workOrderStartedRule();
  const due = T0 + 4 * HOUR * MINUTE;
  const giveUpAfterMs = 7 * 24 * HOUR * MINUTE;

  it("one millisecond before, still missing; at the boundary, abandoned", () => {
    const before = createEngine({ rules: [rule] });
    before.ingest(released("1000123", 0));
    expect(before.evaluate(due + giveUpAfterMs - 1).map((f) => f.kind)).toEqual(["breached"]);
    const at = createEngine({ rules: [rule] });
    at.ingest(released("1000123", 0));
    const findings = at.evaluate(due + giveUpAfterMs);
    expect(findings.map((f) => (f.kind === "resolved" ? f.resolution : f.kind))).toEqual(["breached", "abandoned"]);
    expect(findings[1]?.latenessMs).toBe(giveUpAfterMs);
  });

  it("agrees with the entity's abandoned example: lateness equal to the 7-day give-up", () => {
    const example = JSON.parse(readFileSync(join(import.meta.dirname, "../../../schemas/examples/alignment/hold-unblock-abandoned-in-wms.json"), "utf8"));
    expect(example.resolution).toBe("abandoned");
    expect(example.latenessMs).toBe(giveUpAfterMs);
    expect(Date.parse(example.at) - Date.parse(example.dueAt)).toBe(giveUpAfterMs);
  });
});

describe("reversals are netted per movement", () => {
  it("a wrong goods issue corrected by its reversal and the right one is met, with the reversal in the evidence", () => {
    const engine = createEngine({ rules: [goodsIssuePostedRule()] });
    for (const e of [
      consumed({ orderId: "1000123", value: "100", minutes: 0, by: "floor" }),
      consumed({ orderId: "1000123", value: "120", minutes: 10, by: "erp", id: "2026/4900000901/0001" }),
      consumed({ orderId: "1000123", value: "120", minutes: 20, by: "erp", id: "2026/4900000902/0001", reversal: true, reverses: "2026/4900000901/0001" }),
      consumed({ orderId: "1000123", value: "100", minutes: 30, by: "erp", id: "2026/4900000903/0001" }),
    ]) expect(engine.ingest(e).isOk()).toBe(true);
    expect(engine.evaluate(T0 + 3 * HOUR * MINUTE)).toEqual([]);
    expect(engine.outcomes().get("goodsissue-posted")).toMatchObject({ met: 1, breached: 0 });
  });

  it("a reversal without the correcting issue is a mismatch, and the evidence shows the reversal", () => {
    const findings = run(
      [goodsIssuePostedRule()],
      [
        consumed({ orderId: "1000123", value: "100", minutes: 0, by: "floor" }),
        consumed({ orderId: "1000123", value: "100", minutes: 10, by: "erp", id: "2026/4900000901/0001" }),
        consumed({ orderId: "1000123", value: "40", minutes: 20, by: "erp", id: "2026/4900000902/0001", reversal: true, reverses: "2026/4900000901/0001" }),
      ],
      3 * HOUR,
    );
    expect(brief(findings)).toEqual([{ kind: "breached", rule: "goodsissue-posted", key: "1000123/RM10", latenessMin: 0, reasons: ["quantity_mismatch"], diff: "-40" }]);
    const reversal = findings[0]?.evidence.find((e) => e.reversal === true);
    expect(reversal).toMatchObject({ role: "partial", reversal: true, source: SAP });
  });

  it("a 262 without a named original still nets its quantity", () => {
    const findings = run(
      [goodsIssuePostedRule()],
      [
        consumed({ orderId: "1000123", value: "100", minutes: 0, by: "floor" }),
        consumed({ orderId: "1000123", value: "130", minutes: 10, by: "erp" }),
        consumed({ orderId: "1000123", value: "30", minutes: 20, by: "erp", reversal: true }),
      ],
      3 * HOUR,
    );
    expect(findings).toEqual([]);
  });

  it("material the floor returns (a floor reversal) comes off the consumed side", () => {
    const findings = run(
      [goodsIssuePostedRule()],
      [
        consumed({ orderId: "1000123", value: "100", minutes: 0, by: "floor" }),
        consumed({ orderId: "1000123", value: "10", minutes: 5, by: "floor", reversal: true }),
        consumed({ orderId: "1000123", value: "90", minutes: 10, by: "erp" }),
      ],
      3 * HOUR,
    );
    expect(findings).toEqual([]);
  });

  it("a receipt reversed by 102 no longer meets goodsreceipt-posted; the new receipt does, late", () => {
    const findings = run(
      [goodsReceiptPostedRule()],
      [
        batchProduced("B260302A", "118", 0),
        goodsReceipt("B260302A", "118", 10, { id: "2026/4900000950/0001" }),
        goodsReceipt("B260302A", "118", 20, { id: "2026/4900000951/0001", reverses: "2026/4900000950/0001" }),
        goodsReceipt("B260302A", "118", 2 * HOUR + 15, { id: "2026/4900000952/0001" }),
      ],
      5 * HOUR,
    );
    expect(brief(findings)).toEqual([{ kind: "breached", rule: "goodsreceipt-posted", key: "FG126/B260302A", latenessMin: 15, reasons: ["late"], diff: "0" }]);
  });

  it("a receipt reversed and never posted again is missing", () => {
    const findings = run(
      [goodsReceiptPostedRule()],
      [batchProduced("B260302A", "118", 0), goodsReceipt("B260302A", "118", 10, { id: "2026/4900000950/0001" }), goodsReceipt("B260302A", "118", 20, { id: "2026/4900000951/0001", reverses: "2026/4900000950/0001" })],
      3 * HOUR,
    );
    expect(brief(findings)).toEqual([{ kind: "breached", rule: "goodsreceipt-posted", key: "FG126/B260302A", latenessMin: 60, reasons: ["missing"] }]);
  });

  it("a cancelled confirmation comes off the confirmed yield, and a cancelled final confirmation no longer meets the rule", () => {
    const rule = productionConfirmedRule();
    const base = [counted("1000123", "30", 10), completed("1000123", 20)];
    const cancelledFinal = [
      ...base,
      confirmed({ orderId: "1000123", n: 1, yieldValue: "35", isFinal: true, minutes: 30 }),
      confirmed({ orderId: "1000123", n: 2, yieldValue: "35", isFinal: false, minutes: 40, reverses: "1000123/00000001" }),
    ];
    expect(brief(run([rule], cancelledFinal, 3 * HOUR))).toMatchObject([{ kind: "breached", reasons: ["missing"] }]);
    const corrected = [...cancelledFinal, confirmed({ orderId: "1000123", n: 3, yieldValue: "30", isFinal: true, minutes: 50 })];
    expect(run([rule], corrected, 3 * HOUR)).toEqual([]);
  });

  it("the built-in rules keep their system table under a custom classifier", () => {
    const rules = builtInRules({ systems: (source) => (source === SAP ? "erp" : source === MES ? "floor" : source === WMS ? "wms" : source === QMS ? "quality" : undefined) });
    const findings = run(rules, [batchHoldPlaced("040000001234", "B260302A", 0), stockStatus("B260302A", "quality_inspection", 10, "erp"), stockStatus("B260302A", "quality_inspection", 10, "wms")], 30);
    expect(findings).toEqual([]);
  });
});

describe("a reversal is on the fulfilled or expected side", () => {
  it("a rule that reads a reversal as a trigger is a programmer error, named", () => {
    const bad = defineRule({ name: "bad-reversal", description: "x", deadlineMs: 1, observe: (e) => ({ key: e.id, role: "trigger", reversal: true }) });
    const engine = createEngine({ rules: [bad] });
    expect(() => engine.ingest(released("1000123", 0))).toThrow(/rule bad-reversal: a reversal must have the role "partial" or "measure", not "trigger"/);
  });
});

describe("the report says when reversals were netted", () => {
  it("the text report's detail names them", async () => {
    const { buildAlignmentReport, renderReportText } = await import("./index.js");
    const events = [
      consumed({ orderId: "1000123", value: "100", minutes: 0, by: "floor" }),
      consumed({ orderId: "1000123", value: "100", minutes: 10, by: "erp", id: "2026/4900000901/0001" }),
      consumed({ orderId: "1000123", value: "40", minutes: 20, by: "erp", id: "2026/4900000902/0001", reversal: true }),
    ];
    const report = buildAlignmentReport({ events, rules: [goodsIssuePostedRule()], at: new Date(T0 + 3 * HOUR * MINUTE) });
    expect(report.isOk()).toBe(true);
    expect(renderReportText(report._unsafeUnwrap())).toContain("difference -40 MTR; 1 reversal netted");
  });
});
