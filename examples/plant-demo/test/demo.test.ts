import { execFileSync } from "node:child_process";
import { createReadStream, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateNdjson } from "@millwright/cli";
import { parseEvent, type CanonicalEvent } from "@millwright/events";
import { compareQuantities, type Batch, type MaterialMovement, type Quantity } from "@millwright/model";
import { beforeAll, describe, expect, test } from "vitest";
import { buildAlignmentReport, createEngine } from "@millwright/alignment";
import { MONITOR_AT, PLANNER_DECISION, plantRules, REPORT_AT, runPlant, type PlantSummary } from "../src/plant.js";
import { startMetrics, type MetricPoint } from "../src/metrics.js";
import { orderTrace, startTracing, type StoryTrace } from "../src/tracing.js";
import { checkPlantProfile, readPlant1710Profile } from "../src/profile.js";

const fixtures = join(import.meta.dirname, "..", "fixtures");
const SAP = "urn:millwright:sap:S4PCLNT100";
const MES = "urn:millwright:mes:line-fab";
const WMS = "urn:millwright:wms:test-wms";
const QMS = "urn:millwright:qms:1710";
const MINUTE = 60_000;

let summary: PlantSummary;
let lines: string[];
let elapsedMs: number;
let dir: string;
let story: StoryTrace | undefined;
let points: MetricPoint[];

beforeAll(async () => {
  lines = [];
  dir = mkdtempSync(join(tmpdir(), "millwright-demo-"));
  const started = Date.now();
  const tracing = startTracing();
  const demoMetrics = startMetrics();
  summary = await runPlant({
    mesDatabase: join(dir, "mes.db"),
    workflowsDatabase: join(dir, "workflows.db"),
    sapOrder: JSON.parse(readFileSync(join(fixtures, "sap-production-order.json"), "utf8")),
    log: (l) => lines.push(l),
  });
  elapsedMs = Date.now() - started;
  story = orderTrace(tracing.spans(), summary.events, "1000123");
  await tracing.shutdown();
  points = await demoMetrics.collect(summary.events, plantRules(), Date.parse(REPORT_AT));
  await demoMetrics.shutdown();
}, 60_000);

const movements = (source: string): MaterialMovement[] =>
  summary.events.filter((e) => e.source === source && e.type === "dev.millwright.materialmovement.posted.v1").map((e) => e.data as MaterialMovement);
const one = <T>(items: readonly T[], what: string): T => {
  expect(items, what).toHaveLength(1);
  return items[0] as T;
};
const same = (a: Quantity, b: Quantity) => compareQuantities(a, b)._unsafeUnwrap();
const at = (e: CanonicalEvent | undefined) => Date.parse(e?.time ?? "");
const eventOf = (source: string, match: (m: MaterialMovement) => boolean) =>
  summary.events.find((e) => e.source === source && e.type === "dev.millwright.materialmovement.posted.v1" && match(e.data as MaterialMovement));

describe("the plant demo", () => {
  test("every system ends up agreeing on the order, every fact applied once", () => {
    expect(elapsedMs).toBeLessThan(30_000);
    // SAP: one confirmation and one post, although the first response was lost: the relay looked the
    // confirmation up by its key before posting again, and found it.
    expect(summary.sap).toMatchObject({ confirmations: 1, confirmationPosts: 1, yieldQuantity: "118", scrapQuantity: "2" });
    // The line made 118 good and 2 defective parts; the OPC UA adapter counted exactly that.
    expect(summary.line).toEqual({ good: 118, defective: 2 });
    expect(summary.counted).toEqual({ good: "118", defective: "2" });
    // The MES: the release applied once (its redelivery absorbed), counts, the hold placed then released,
    // and the malformed scanner record kept as a dead letter with its issues.
    expect(summary.mes).toMatchObject({
      orderStatus: { "1000123": "completed" },
      countedGood: 118,
      countedDefective: 2,
      holds: { "040000001234": "released" },
      batches: { "FG126/B260302A": "118 H87" },
      duplicates: 1,
      deadLetters: 1,
      outboxUnsent: 0,
    });
    expect(lines.join("\n")).toContain("outbox relay: 1 published, 0 failed");
    expect(summary.rejected.map((i) => i.code)).toEqual(["negative_quantity", "unit_mismatch"]);
    expect(lines.join("\n")).toContain("absorbed duplicate workorder.released.v1");
  });

  test("the events per type and source", () => {
    const count = (type: string, source?: string) => summary.events.filter((e) => e.type === `dev.millwright.${type}` && (source === undefined || e.source === source)).length;
    expect(count("workorder.released.v1", SAP)).toBe(2);
    expect(count("materialmovement.posted.v1", SAP)).toBe(4); // 261, 101, 322, 321
    expect(count("materialmovement.posted.v1", MES)).toBe(1); // consumption
    expect(count("materialmovement.posted.v1", WMS)).toBe(7); // 2 picks, 2 stagings, the pallet received, the block, the remediated unblock
    expect(count("materialmovement.posted.v1")).toBe(12);
    expect(count("materialmovement.reversed.v1")).toBe(0);
    expect(count("batch.created.v1", MES)).toBe(1);
    expect(count("qualityhold.placed.v1", QMS)).toBe(1);
    expect(count("qualityhold.released.v1", QMS)).toBe(1);
    expect(count("productionconfirmation.confirmed.v1", MES)).toBe(1);
    // SAP's own record of it, read back after the post: the ERP side the alignment monitor compares.
    expect(count("productionconfirmation.confirmed.v1", SAP)).toBe(1);
    expect(count("productioncount.counted.v1")).toBeGreaterThanOrEqual(3);
    expect(summary.mes.movements).toEqual({ mes: 1, sap: 4, wms: 7 });
    // Every event the MES got went through its inbox (the confirmation goes out through the outbox).
    expect(summary.mes.delivered).toBe(summary.events.length - 1);
    expect(summary.sap.goodsMovements).toEqual([
      "261 RM20 120.000 ST",
      "101 FG126 B260302A 118.000 ST",
      "322 FG126 B260302A 118.000 ST",
      "321 FG126 B260302A 118.000 ST",
    ]);
    expect(summary.wms.rejectedWebhooks).toEqual([]);
  });

  test("the goods issue, goods receipt, batch and pallet agree on order, material, batch and quantity", () => {
    const kinds = (source: string) => movements(source).map((m) => `${m.kind}${m.sourceMovementType === undefined ? "" : ` ${m.sourceMovementType}`}`);
    expect(kinds(SAP)).toEqual(["consumed 261", "produced 101", "status_changed 322", "status_changed 321"]);
    expect(kinds(MES)).toEqual(["consumed"]);
    expect(kinds(WMS)).toEqual(["transferred", "transferred", "transferred", "transferred", "produced", "status_changed", "status_changed"]);

    // Consumption: what the line used (118 good + 2 defective parts, one RM20 each) = SAP's goods issue.
    const consumed = one(movements(MES).filter((m) => m.kind === "consumed"), "MES consumption");
    const issued = one(movements(SAP).filter((m) => m.kind === "consumed"), "SAP goods issue");
    for (const m of [consumed, issued]) {
      expect(m.order?.orderId).toBe("1000123");
      expect(m.order?.componentItemId).toBe("0000045678/0002");
      expect(m.material.id).toBe("RM20");
    }
    expect(consumed.quantity).toEqual({ value: "120", unit: "H87" });
    expect(same(issued.quantity, consumed.quantity)).toBe(0);

    // Production: the counted good parts = the MES batch = SAP's goods receipt = the WMS's pallet = the hold.
    const batch = one(summary.events.filter((e) => e.type === "dev.millwright.batch.created.v1"), "batch").data as Batch;
    expect(batch).toMatchObject({ batchId: "B260302A", material: { id: "FG126" }, originOrder: { orderId: "1000123" } });
    const received = one(movements(SAP).filter((m) => m.kind === "produced"), "SAP goods receipt");
    const putAway = one(movements(WMS).filter((m) => m.kind === "produced"), "WMS receipt");
    for (const m of [received, putAway]) {
      expect(m).toMatchObject({ material: { id: "FG126" }, batchId: "B260302A", order: { orderId: "1000123" }, to: { stockType: "unrestricted" } });
      expect(same(m.quantity, { value: summary.counted.good, unit: "H87" })).toBe(0);
    }
    expect(same(batch.quantity ?? { value: "0", unit: "H87" }, received.quantity)).toBe(0);
    const hold = summary.events.find((e) => e.type === "dev.millwright.qualityhold.placed.v1")?.data as { quantity: Quantity };
    expect(same(hold.quantity, received.quantity)).toBe(0);

    // What the WMS staged at the line covers what the line consumed.
    const staged = movements(WMS).filter((m) => m.extensions?.["wms"]?.["type"] === "stage_to_line" && m.material.id === "RM20");
    expect(same(one(staged, "RM20 staged").quantity, consumed.quantity)).toBe(1);
    expect(one(staged, "RM20 staged").to?.bin).toBe(consumed.from?.bin);
  });

  test("the hold reaches SAP stock and the WMS; the release reaches SAP, and the WMS only through the remediation", () => {
    const toStock = (m: MaterialMovement) => `${m.from?.stockType ?? "-"} → ${m.to?.stockType ?? "-"}`;
    const heldBatch = (m: MaterialMovement) => m.kind === "status_changed" && m.material.id === "FG126" && m.batchId === "B260302A";
    expect(movements(SAP).filter(heldBatch).map(toStock)).toEqual(["unrestricted → quality_inspection", "quality_inspection → unrestricted"]);
    // The WMS blocked the batch; its unblock request was lost on the way, and the one the
    // quality-hold workflow sent after the breach unblocked it.
    expect(movements(WMS).filter(heldBatch).map(toStock)).toEqual(["unrestricted → blocked", "blocked → unrestricted"]);
    expect(summary.wms).toMatchObject({ requests: ["staging_request", "staging_request", "block", "unblock"], lost: ["040000001234/unblock/20260302174000"], batchStock: "unrestricted" });
    expect(summary.sap.batchStock).toBe("unrestricted");
    expect(summary.mes.batchStock).toEqual({ "FG126/B260302A": { sap: "unrestricted", wms: "unrestricted" } });
    expect(lines.join("\n")).toMatch(/WMS\s+unblock request 040000001234\/unblock\/20260302174000 LOST \(injected fault/);
  });

  test("the stock facts happen on time in the story, except the WMS unblock, which happens only after noon's breach", () => {
    const placed = summary.events.find((e) => e.type === "dev.millwright.qualityhold.placed.v1");
    const released = summary.events.find((e) => e.type === "dev.millwright.qualityhold.released.v1");
    const consumed = eventOf(MES, (m) => m.kind === "consumed");
    const issued = eventOf(SAP, (m) => m.kind === "consumed");
    const batch = summary.events.find((e) => e.type === "dev.millwright.batch.created.v1");
    const receivedSap = eventOf(SAP, (m) => m.kind === "produced");
    const receivedWms = eventOf(WMS, (m) => m.kind === "produced");
    const toInspection = eventOf(SAP, (m) => m.to?.stockType === "quality_inspection");
    const blocked = eventOf(WMS, (m) => m.to?.stockType === "blocked");
    const toUnrestricted = eventOf(SAP, (m) => m.kind === "status_changed" && m.to?.stockType === "unrestricted");
    const unblocked = eventOf(WMS, (m) => m.kind === "status_changed" && m.to?.stockType === "unrestricted");

    expect(placed?.time).toBe("2026-03-02T08:05:00-08:00");
    expect(released?.time).toBe("2026-03-02T09:40:00-08:00");
    // Production runs 06:00–07:30 plant time: consumption during it, the goods issue minutes after.
    expect(consumed?.time).toBe("2026-03-02T07:28:00-08:00");
    expect(at(issued) - at(consumed)).toBeGreaterThan(0);
    expect(at(issued) - at(consumed)).toBeLessThanOrEqual(10 * MINUTE);
    // The batch when the order completes, the goods receipt after it, the pallet in the WMS after that.
    expect(at(receivedSap) - at(batch)).toBeGreaterThan(0);
    expect(at(receivedSap) - at(batch)).toBeLessThanOrEqual(10 * MINUTE);
    expect(at(receivedWms) - at(receivedSap)).toBeGreaterThan(0);
    expect(at(receivedWms) - at(receivedSap)).toBeLessThanOrEqual(30 * MINUTE);
    // Hold placed: SAP and the WMS follow within minutes. Hold released: SAP follows, the WMS never.
    for (const follower of [toInspection, blocked]) {
      expect(at(follower) - at(placed)).toBeGreaterThan(0);
      expect(at(follower) - at(placed)).toBeLessThanOrEqual(5 * MINUTE);
    }
    expect(at(toUnrestricted) - at(released)).toBeGreaterThan(0);
    expect(at(toUnrestricted) - at(released)).toBeLessThanOrEqual(5 * MINUTE);
    // The unblock lost at 09:40 happens at 12:01, after the monitor found the breach at noon.
    expect(unblocked?.time).toBe("2026-03-02T20:01:01.000Z");
    expect(at(unblocked)).toBeGreaterThan(Date.parse(MONITOR_AT));
    // Every new fact is on 2026-03-02.
    for (const e of [consumed, issued, batch, receivedSap, receivedWms, toInspection, blocked, toUnrestricted]) {
      expect(new Date(at(e)).toISOString().slice(0, 10)).toBe("2026-03-02");
    }
  });

  test("every event the demo writes is a valid canonical event, and `millwright validate` accepts the file", async () => {
    for (const line of summary.eventLines) expect(parseEvent(line).isOk()).toBe(true);
    const file = join(dir, "events.ndjson");
    writeFileSync(file, `${summary.eventLines.join("\n")}\n`);
    const results = [];
    for await (const r of validateNdjson(createReadStream(file), file, {})) results.push(r);
    expect(results.length).toBe(summary.events.length);
    expect(results.filter((r) => !r.valid)).toEqual([]);
  });
  test("plant 1710's profile: every event passes it end to end; the shift model from SAP's ZZ1_ field is required, and without it an order is globally valid but rejected", () => {
    const report = checkPlantProfile(summary.eventLines, readPlant1710Profile())._unsafeUnwrap();
    expect(report.profile).toBe("plant-1710@1.0.0");
    expect(report.rejected).toEqual([]);
    expect(report.accepted).toBe(summary.eventLines.length);
    // The order released by SAP twice (1000123, 1000124), then started and completed by the MES.
    const orderEvents = summary.events.filter((e) => e.type.startsWith("dev.millwright.workorder.")).length;
    expect(orderEvents).toBeGreaterThanOrEqual(4);
    expect(report.workOrders).toBe(orderEvents);
    expect(new Set(report.shiftModels)).toEqual(new Set(["2-SHIFT"]));
    expect(report.withoutShiftModel.globallyValid).toBe(true);
    expect(report.withoutShiftModel.profileIssue).toBe(
      '/extensions/sap/ZZ1_ShiftModel_ORD is required but missing (profile plant-1710@1.0.0 requirement shift-model-at-1710: /extensions/sap/ZZ1_ShiftModel_ORD is required when /site/id is "1710")',
    );
  });

  test("at noon the alignment monitor finds the one misalignment: the WMS never unblocked the released batch", () => {
    // What the monitor saw at noon: every rule had its work; each key closed on time, except the WMS unblock, still open.
    const engine = createEngine({ rules: plantRules() });
    for (const e of summary.events.filter((e) => at(e) <= Date.parse(MONITOR_AT))) expect(engine.ingest(e).isOk()).toBe(true);
    const findings = engine.evaluate(Date.parse(MONITOR_AT));
    expect(engine.store.size()).toEqual({ open: 1, closed: 8 });
    expect(findings.map((f) => ({ kind: f.kind, rule: f.rule, key: f.key, site: f.site, latenessMin: f.latenessMs / MINUTE, reasons: f.kind === "breached" ? f.reasons : [] }))).toEqual([
      { kind: "breached", rule: "qualityhold-unblocked-wms", key: "FG126/B260302A", site: "1710", latenessMin: 80, reasons: ["missing"] },
    ]);
    // The evidence is the release, from the quality system.
    expect(findings[0]?.evidence.map((e) => [e.type, e.source, e.role])).toEqual([["dev.millwright.qualityhold.released.v1", QMS, "trigger"]]);
    const report = buildAlignmentReport({ events: summary.events, rules: plantRules(), at: Date.parse(MONITOR_AT) })._unsafeUnwrap();
    expect(report.totals).toEqual({ open: 0, breached: 1, resolved: 0 });
  });

  test("remediation: the breach starts the quality-hold workflow, the WMS applies its unblock once, and the final report shows the breach RESOLVED", () => {
    const { remediation } = summary.workflows;
    expect(remediation).toMatchObject({ workflow: "quality-hold", rule: "qualityhold-unblocked-wms", findingKey: "FG126/B260302A", state: "completed" });
    expect(remediation.key).toMatch(/^040000001234\/released\/remediation-/);
    expect(remediation.output).toMatchObject({ action: "unblock", outcome: "confirmed", erp: { skipped: true }, wms: { confirmed: true, by: "event", resent: false } });
    // At the WMS: the lost request never arrived; the workflow's unblock, keyed by its step's
    // idempotency key, was applied exactly once. SAP got no second posting.
    const unblocks = summary.wms.applied.filter((a) => a.type === "unblock");
    expect(unblocks).toEqual([{ requestId: remediation.requestId, type: "unblock" }]);
    expect(unblocks[0]?.requestId).not.toBe("040000001234/unblock/20260302174000");
    expect(summary.sap.goodsMovements).toHaveLength(4);
    // The final report: the breach is resolved, nothing is breached or open.
    const report = buildAlignmentReport({ events: summary.events, rules: plantRules(), at: Date.parse(REPORT_AT) })._unsafeUnwrap();
    expect(report.totals).toEqual({ open: 0, breached: 0, resolved: 1 });
    expect(report.findings.map((f) => [f.status, f.finding.rule, f.finding.key])).toEqual([["resolved", "qualityhold-unblocked-wms", "FG126/B260302A"]]);
    expect(lines.join("\n")).toContain(`quality-hold instance ${remediation.instanceId} started by the breach`);
  });

  test("compensation: the WMS refuses to stage order 1000124 for good, and its MES dispatch is withdrawn once", () => {
    const { compensation } = summary.workflows;
    expect(compensation).toMatchObject({ workflow: "order-release", key: "1710/1000124", state: "compensated" });
    expect(summary.wms.refused).toEqual([{ requestId: expect.any(String), reason: "order 1000124 cannot be staged" }]);
    // At the MES: one dispatch of each order; only 1000124's is withdrawn, once.
    expect(summary.mes.dispatches).toEqual([
      { dispatchId: "D-0001", orderId: "1000123", withdrawn: false },
      { dispatchId: "D-0002", orderId: "1000124", withdrawn: true },
    ]);
    expect(summary.mes.withdrawals).toBe(1);
    expect(compensation.timeline.filter((l) => l.includes("compensation of dispatch-to-mes completed"))).toHaveLength(1);
    expect(compensation.timeline.some((l) => /step request-staging FAILED for good/.test(l))).toBe(true);
    expect(lines.join("\n")).toMatch(/dispatch D-0002 of order 1000124 WITHDRAWN from line FAB/);
  });

  test("approval: components short, order 1000123 waits for planner-approval; the decision is recorded once and the order is dispatched and staged once", () => {
    const { approval } = summary.workflows;
    expect(approval).toMatchObject({ workflow: "order-release", key: "1710/1000123", state: "completed", signalsRecorded: 1 });
    expect(approval.decision).toEqual(PLANNER_DECISION);
    expect(approval.output).toMatchObject({
      outcome: "staged",
      approval: PLANNER_DECISION,
      references: { shortComponents: [{ material: "RM20", open: "500.000", available: "450.000" }] },
    });
    const signalLine = approval.timeline.findIndex((l) => l.includes("signal planner-approval: approve"));
    expect(approval.timeline[signalLine]).toContain(PLANNER_DECISION.reason);
    // Nothing reached the floor before the decision: the dispatch step starts after it.
    expect(approval.timeline.findIndex((l) => l.includes("step dispatch-to-mes started"))).toBeGreaterThan(signalLine);
    // At the WMS: one staging request applied, the workflow's, under its idempotency key.
    const staged = summary.wms.applied.filter((a) => a.type === "staging_request");
    expect(staged).toEqual([{ requestId: (approval.output as { stagingRequestId: string }).stagingRequestId, type: "staging_request" }]);
  });

  test("the workflows run on a SQLite file, and `millwright workflows show <id> --store <file>` prints an instance's timeline", () => {
    const file = summary.workflows.database;
    expect(file).toBe(join(dir, "workflows.db"));
    expect(existsSync(file)).toBe(true);
    const root = join(import.meta.dirname, "..", "..", "..");
    const shown = execFileSync(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", join(root, "packages", "cli", "src", "cli.ts"), "workflows", "show", summary.workflows.approval.instanceId, "--store", file], {
      cwd: root,
      encoding: "utf8",
      timeout: 90_000,
    });
    expect(shown).toContain(summary.workflows.approval.instanceId);
    expect(shown).toContain("planner-approval");
    expect(shown).toContain("completed");
  }, 120_000);
  test("the metrics dump shows the alignment beside the MES's inbox and outbox, each equal to what the run did", () => {
    const total = (name: string, match: Record<string, unknown> = {}) =>
      points.filter((p) => p.name === name && Object.entries(match).every(([k, v]) => p.attributes[k] === v)).reduce((sum, p) => sum + p.value, 0);
    // The MES inbox: every delivery is processed once, its one redelivery counted as a duplicate, the
    // malformed scanner record as a dead letter.
    expect(total("millwright.inbox.duplicates", { "millwright.store": "sqlite" })).toBe(summary.mes.duplicates);
    expect(total("millwright.inbox.processed", { "millwright.store": "sqlite" })).toBe(summary.mes.delivered - summary.mes.duplicates);
    expect(total("millwright.inbox.dead_letters", { "millwright.store": "sqlite" })).toBe(summary.mes.deadLetters);
    expect(total("millwright.outbox.published")).toBe(1);
    // The alignment engine over the same events: what the report says.
    const report = buildAlignmentReport({ events: summary.events, rules: plantRules(), at: Date.parse(REPORT_AT) })._unsafeUnwrap();
    // Judged once, at the report's time: the remediated unblock is a breach by lateness of its rule.
    const remediated = summary.workflows.remediation.rule;
    expect(report.findings.some((f) => f.finding.rule === remediated)).toBe(true);
    expect(total("millwright.alignment.breaches", { rule: remediated, reason: "late" })).toBe(1);
    expect(total("millwright.alignment.lateness", { rule: remediated })).toBe(1);
  });

  test("the order's path SAP → MES → line → SAP is one trace, carried by its events", () => {
    expect(story).toBeDefined();
    const spans = new Set(story?.spans);
    for (const name of ["sap.productionorder.read", "mes.order.dispatch", "opcua.productioncount.counted", "mes.order.confirm", "sap.productionconfirmation.post"]) expect(spans).toContain(name);
    const carried = (story?.events ?? []).map((e) => `${e.type.replace("dev.millwright.", "")} ${e.source.split(":")[2]}`);
    expect(carried).toEqual(
      expect.arrayContaining(["workorder.released.v1 sap", "workorder.started.v1 mes", "productioncount.counted.v1 opcua", "workorder.completed.v1 mes", "productionconfirmation.confirmed.v1 mes"]),
    );
    expect(carried.filter((c) => c.startsWith("productioncount.counted")).length).toBe(summary.events.filter((e) => e.type === "dev.millwright.productioncount.counted.v1").length);
  });
});
