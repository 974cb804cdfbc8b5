import type { CanonicalEvent } from "@millwright/events";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildAlignmentReport,
    createReportBuilder,
  formatDuration,
  formatTime,
  productionConfirmedRule,
  qualityHoldClosedRule,
  renderReportText,
  shortType,
  systemOf,
  workOrderStartedRule,
  type AlignmentReport,
} from "../src/index.js";
import { at, completed, confirmed, counted, holdPlacedOnOrder, MINUTE, released, shiftScenario, started, T0 } from "./fixtures.js";

const HOUR = 60 * MINUTE;
// The three rules of the engine core, named one by one so that rules added to builtInRules() do not change these tables.
const RULES = [workOrderStartedRule(), productionConfirmedRule(), qualityHoldClosedRule()];
const report = (events: Iterable<CanonicalEvent>, options: Partial<Parameters<typeof buildAlignmentReport>[0]> = {}): AlignmentReport =>
  buildAlignmentReport({ events, rules: RULES, ...options })._unsafeUnwrap();
const table = (r: AlignmentReport) => r.rules.map(({ rule, open, breached, resolved, worstLatenessMs, worstKey }) => ({ rule, open, breached, resolved, worstLatenessMs, worstKey }));

describe("buildAlignmentReport", () => {
  const shift = report(shiftScenario());

  it("judges a log at its latest event and says so", () => {
    expect(shift.at).toBe(at(9 * 60));
    expect(shift.atSource).toBe("latest-event");
    expect(shift.events).toEqual({ read: 17, used: 17, duplicates: 0, rejected: 0, afterAt: 0, first: at(0), last: at(9 * 60) });
    // Duplicates (a redelivery) change nothing but their count.
    const twice = report([...shiftScenario(), ...shiftScenario().slice(0, 5)]);
    expect(twice.events).toMatchObject({ read: 22, used: 17, duplicates: 5 });
    expect(twice.findings).toEqual(shift.findings);
  });

  it("counts open, breached and resolved per rule, with the worst lateness", () => {
    expect(table(shift)).toEqual([
      { rule: "workorder-started", open: 2, breached: 1, resolved: 1, worstLatenessMs: 4 * HOUR, worstKey: "1000125" },
      { rule: "productionconfirmation-posted", open: 0, breached: 1, resolved: 0, worstLatenessMs: undefined, worstKey: undefined },
      { rule: "qualityhold-closed", open: 1, breached: 0, resolved: 0, worstLatenessMs: undefined, worstKey: undefined },
    ]);
    expect(shift.totals).toEqual({ open: 3, breached: 2, resolved: 1 });
  });

  it("lists findings breached first, with reasons; a still-missing one is as late as the report time makes it", () => {
    expect(shift.findings.map((f) => [f.status, f.finding.rule, f.finding.key, f.reasons, f.finding.latenessMs / MINUTE])).toEqual([
      ["breached", "workorder-started", "1000125", ["missing"], 240],
      ["breached", "productionconfirmation-posted", "1000124", ["quantity_mismatch"], 0],
      ["resolved", "workorder-started", "1000124", ["late"], 65],
    ]);
    const missing = shift.findings[0]?.finding;
    expect(missing).toMatchObject({ kind: "breached", dueAt: at(5 * 60), at: at(9 * 60) });
    expect(shift.findings[1]?.finding).toMatchObject({ quantityDifference: "-2", unit: "H87" });
  });

  it("gives the same verdicts however often the engine is evaluated while reading, and in any order when only at the end", () => {
    const brief = (r: AlignmentReport) => ({ table: table(r), findings: r.findings.map((f) => [f.status, f.finding.rule, f.finding.key, f.finding.latenessMs]) });
    const expected = brief(shift);
    expect(brief(report(shiftScenario(), { checkEveryMs: Infinity }))).toEqual(expected);
    expect(brief(report(shiftScenario(), { checkEveryMs: 1 }))).toEqual(expected);
    expect(brief(report(shiftScenario(), { checkEveryMs: 3 * HOUR }))).toEqual(expected);
    fc.assert(
      fc.property(fc.shuffledSubarray(shiftScenario(), { minLength: 17, maxLength: 17 }), (events) => {
        expect(brief(report(events, { checkEveryMs: Infinity }))).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });

  it("judges at a given time, leaving later events out", () => {
    const early = report(shiftScenario(), { at: new Date(T0 + 4.5 * HOUR) });
    expect(early.atSource).toBe("given");
    expect(early.events).toMatchObject({ read: 17, afterAt: 8 });
    expect(table(early)[0]).toEqual({ rule: "workorder-started", open: 1, breached: 1, resolved: 0, worstLatenessMs: 30 * MINUTE, worstKey: "1000124" });
    const later = report(shiftScenario(), { at: T0 + 24 * HOUR });
    expect(table(later)[0]).toMatchObject({ open: 0, breached: 3, worstLatenessMs: 19 * HOUR, worstKey: "1000125" });
  });

  it("refuses events without a usable time as values, counts and lists them, and reports the rest", () => {
    const { time: _time, ...untimed } = released("1000999", 0);
    const builder = createReportBuilder({ rules: RULES });
    const refused = builder.add(untimed as CanonicalEvent);
    expect(refused._unsafeUnwrapErr().code).toBe("missing_time");
    expect(builder.add({ ...released("1000998", 0), time: "soon" } as CanonicalEvent)._unsafeUnwrapErr().code).toBe("invalid_time");
    expect(builder.add(released("1000997", 0))._unsafeUnwrap()).toEqual({ included: true, matched: 1 });
    const r = builder.finish()._unsafeUnwrap();
    expect(r.events).toMatchObject({ read: 3, used: 1, rejected: 2 });
    expect(r.rejected.map((e) => [e.source, e.error.code, e.error.path])).toEqual([
      ["urn:millwright:sap:S4PCLNT100", "missing_time", "/time"],
      ["urn:millwright:sap:S4PCLNT100", "invalid_time", "/time"],
    ]);
  });

  it("has no time to judge an empty log at, unless one is given", () => {
    expect(buildAlignmentReport({ events: [], rules: RULES })._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "code": "no_time",
        "message": "the log has no event with a usable time (0 read) and no report time (at) was given: there is no time to judge it at",
        "path": "at",
        "value": undefined,
      }
    `);
    expect(buildAlignmentReport({ events: [], rules: RULES, at: T0 })._unsafeUnwrap().totals).toEqual({ open: 0, breached: 0, resolved: 0 });
    expect(buildAlignmentReport({ events: [], rules: RULES, at: new Date("nope") })._unsafeUnwrapErr()).toMatchObject({
      code: "invalid_at",
      path: "at",
      message: "at must be a valid time, got Invalid Date",
    });
  });

  it("counts a key the engine gave up waiting for as breached, not as met", () => {
    const r = report([released("1000600", 0), released("1000601", 10 * 60)], { engine: { giveUpAfterMs: 2 * HOUR } });
    expect(r.findings.map((f) => [f.status, f.finding.key, f.reasons, f.finding.latenessMs / MINUTE])).toEqual([["breached", "1000600", ["missing", "abandoned"], 360]]);
    expect(table(r)[0]).toMatchObject({ open: 1, breached: 1, resolved: 0 });
  });

  it("is plain JSON data", () => {
    expect(JSON.parse(JSON.stringify(shift))).toEqual(shift);
  });
});

describe("timelines", () => {
  const shift = report(shiftScenario());

  it("show every work order, breached first, each with its events and the due times touching it", () => {
    expect(shift.timelines.orders.map((o) => o.orderId)).toEqual(["1000125", "1000124", "1000126", "1000127", "1000123"]);
    const o124 = shift.timelines.orders[1];
    expect(o124?.events.map((e) => `${shortType(e.type)} ${systemOf(e.source).system}`)).toEqual([
      "workorder.released sap",
      "workorder.started mes",
      "productioncount.counted mes",
      "productioncount.counted mes",
      "workorder.completed mes",
      "productionconfirmation.confirmed sap",
      "qualityhold.placed sap",
    ]);
    // The quality hold is keyed by its own id but placed on the order's output: it is on the order's timeline.
    expect(o124?.dues.map((d) => [d.rule, d.key, d.status, d.dueAt])).toEqual([
      ["workorder-started", "1000124", "resolved", at(4 * 60)],
      ["productionconfirmation-posted", "1000124", "breached", at(8 * 60)],
      ["qualityhold-closed", "H-0001", "open", at(6.75 * 60 + 72 * 60)],
    ]);
    expect(shift.timelines).toMatchObject({ maxOrders: 50, maxEventsPerOrder: 40, notShown: 0, dropped: 0, untrackedEvents: 0 });
  });

  it("are capped in number and length, keeping triggers and fulfilments, and say so", () => {
    const counts = Array.from({ length: 30 }, (_, i) => counted("1000300", "1", 10 + i));
    const events = [released("1000300", 0), started("1000300", 5), ...counts, completed("1000300", 50), confirmed({ orderId: "1000300", n: 1, yieldValue: "30", isFinal: true, minutes: 55 }), ...shiftScenario()];
    const r = report(events, { maxOrders: 2, maxEventsPerOrder: 8 });
    expect(r.timelines.orders.map((o) => o.orderId)).toEqual(["1000125", "1000124"]);
    expect(r.timelines.notShown).toBe(4);
    const long = report(events, { maxOrders: 10, maxEventsPerOrder: 8 }).timelines.orders.find((o) => o.orderId === "1000300");
    expect(long?.eventCount).toBe(34);
    expect(long?.events.map((e) => shortType(e.type))).toEqual([
      "workorder.released",
      "workorder.started",
      "productioncount.counted",
      "productioncount.counted",
      "productioncount.counted",
      "productioncount.counted",
      "workorder.completed",
      "productionconfirmation.confirmed",
    ]);
  });

  it("keep memory bounded: timelines of healthy, finished orders are dropped while reading", () => {
    const events: CanonicalEvent[] = [];
    for (let i = 0; i < 200; i++) {
      const id = String(2_000_000 + i);
      events.push(released(id, i * 10), started(id, i * 10 + 5));
    }
    events.push(released("2999999", 2_000 + 10), holdPlacedOnOrder("H-0002", "2999999", 2_011));
    const r = report(events, { maxOrders: 5, maxTrackedOrders: 20 });
    expect(r.timelines.dropped).toBeGreaterThan(150);
    expect(r.timelines.orders[0]?.orderId).toBe("2999999");
    expect(r.totals).toEqual({ open: 2, breached: 0, resolved: 0 });
  });
});

describe("renderReportText", () => {
  it("prints the per-rule table, then the breached and resolved findings with lateness and due time", () => {
    expect(renderReportText(report(shiftScenario()))).toMatchInlineSnapshot(`
      "Millwright alignment report
      Judged at 2026-03-02 15:00 UTC (the latest event in the log)
      Events: 17 read, 17 used by the rules, from 2026-03-02 06:00 UTC to 2026-03-02 15:00 UTC

      Rule                           Deadline  Open  Met  Breached  Resolved  Worst lateness
      workorder-started                   4 h     2    1         1         1  4 h (1000125)
      productionconfirmation-posted       2 h     0    1         1         0  —
      qualityhold-closed                  3 d     1    0         0         0  —

      Breached: 2
      Rule                           Key      Site / line    Reasons            Lateness  Due                   Detail
      workorder-started              1000125  1710           missing                 4 h  2026-03-02 11:00 UTC
      productionconfirmation-posted  1000124  1710 / WELD01  quantity_mismatch   on time  2026-03-02 14:00 UTC  difference -2 H87

      Resolved (breached, then met): 1
      Rule               Key      Site / line  Reasons    Lateness  Due                   Detail
      workorder-started  1000124  1710         late     1 h 05 min  2026-03-02 10:00 UTC

      Rules:
        workorder-started: a work order released in the ERP is started by the MES within the deadline (deadline 4 h)
        productionconfirmation-posted: a work order the floor completed is confirmed in the ERP within the deadline with the counted yield (deadline 2 h, quantity tolerance 0)
        qualityhold-closed: a placed quality hold is released, rejected or cancelled within the deadline (deadline 3 d)"
    `);
  });

  it("prints strings from events without control characters", () => {
    const sneaky = { ...released("1000400", 0), data: { ...released("1000400", 0).data, orderId: "1000400\n\u001b[31mOK" } } as CanonicalEvent;
    const text = renderReportText(report([sneaky], { at: T0 + 5 * HOUR }));
    expect(text).toContain("1000400\\u000a\\u001b[31mOK");
    expect(text).not.toContain("\u001b");
  });

  it("lists at most maxFindings per status and says how many more there are", () => {
    const events = Array.from({ length: 5 }, (_, i) => released(String(1_000_500 + i), i));
    const text = renderReportText(report(events, { at: T0 + 10 * HOUR }), { maxFindings: 2 });
    expect(text).toContain("Breached: 5");
    expect(text).toContain("… and 3 more");
  });
});

describe("formatting", () => {
  it("formats durations and times for people", () => {
    expect([0, 45_000, 12 * MINUTE, 65 * MINUTE, 4 * HOUR, 76 * HOUR, 72 * HOUR].map(formatDuration)).toEqual(["0 s", "45 s", "12 min", "1 h 05 min", "4 h", "3 d 04 h", "3 d"]);
    expect(formatTime(at(0))).toBe("2026-03-02 06:00 UTC");
    expect(formatTime("2026-03-02T06:00:07-08:00")).toBe("2026-03-02 14:00:07 UTC");
    expect(systemOf("https://erp.example.com/sap/opu")).toEqual({ system: "erp.example.com", instance: "/sap/opu" });
    expect(systemOf("plant-7")).toEqual({ system: "plant-7", instance: "" });
    expect(systemOf("urn:millwright:mes:line-fab")).toEqual({ system: "mes", instance: "line-fab" });
    expect(systemOf("urn:millwright:opcua:opc.tcp://line-4:4840")).toEqual({ system: "opcua", instance: "opc.tcp://line-4:4840" });
    expect(systemOf("urn:millwright:wms")).toEqual({ system: "wms", instance: "" });
    // Not the convention (the system segment is lower-case letters and digits): shown whole.
    expect(systemOf("urn:millwright:SAP:S4")).toEqual({ system: "urn:millwright:SAP:S4", instance: "" });
  });
});
