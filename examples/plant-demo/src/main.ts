/**
 * `pnpm demo`: the whole product at work in one process. SAP (an EDMX-driven test system), a line
 * on OPC UA (a node-opcua server with the PackML nodeset), a WMS (the test WMS with signed webhooks)
 * and the MES (with its SQLite inbox) work on order 1000123, and every fact travels as a canonical
 * event. One fact does not arrive: the WMS never hears that the hold was released. The workflows
 * (@millwright/workflows on a SQLite file) release the order after a planner's approval, withdraw
 * the dispatch of an order the WMS cannot stage, and remediate the lost unblock when the alignment
 * monitor finds it.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildAlignmentReport, renderReportHtml, renderReportText } from "@millwright/alignment";
import { parseMillwrightSource } from "@millwright/events";
import { plantRules, REPORT_AT, runPlant } from "./plant.js";
import { checkPlantProfile, readPlant1710Profile } from "./profile.js";
import { runSparkplugLine } from "./sparkplug-line.js";
import { renderMetrics, startMetrics } from "./metrics.js";
import { orderTrace, startTracing } from "./tracing.js";
import { publishEvents, transportNames, type TransportName } from "./transport.js";

// One option: --transport mqtt|nats|amqp|http (or MILLWRIGHT_DEMO_TRANSPORT); the default stays in-process.
const flag = process.argv.indexOf("--transport");
const transport = (flag >= 0 ? process.argv[flag + 1] : process.env["MILLWRIGHT_DEMO_TRANSPORT"]) ?? "in-process";
if (!(transportNames as readonly string[]).includes(transport)) {
  console.error(`--transport must be one of ${transportNames.join(", ")}, not ${transport}`);
  process.exit(2);
}

// --sparkplug (or MILLWRIGHT_DEMO_SPARKPLUG=1): a second line, PKG, speaks MQTT Sparkplug B through a
// broker (MILLWRIGHT_MQTT_URL, default mqtt://127.0.0.1:1883). Off by default: the story itself needs
// no broker.
const sparkplug = process.argv.includes("--sparkplug") || process.env["MILLWRIGHT_DEMO_SPARKPLUG"] === "1";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "out");
mkdirSync(outDir, { recursive: true });
// A fresh story every run: the MES's database and the workflow store start empty.
for (const file of ["mes.db", "workflows.db"]) for (const suffix of ["", "-wal", "-shm"]) rmSync(join(outDir, `${file}${suffix}`), { force: true });

console.log("Millwright plant demo: plant 1710, order 1000123, line FAB\n");
const tracing = startTracing();
const demoMetrics = startMetrics();
const summary = await runPlant({
  mesDatabase: join(outDir, "mes.db"),
  workflowsDatabase: join(outDir, "workflows.db"),
  sapOrder: JSON.parse(readFileSync(join(here, "..", "fixtures", "sap-production-order.json"), "utf8")) as unknown,
  log: (line) => console.log(line),
});
writeFileSync(join(outDir, "events.ndjson"), `${summary.eventLines.join("\n")}\n`);
if (transport !== "in-process") {
  const report = await publishEvents(transport as TransportName, summary.events);
  console.log(`\npublished ${report.published} event(s) over ${report.transport}${report.failed > 0 ? `, ${report.failed} failed` : ""}${report.received === undefined ? "" : `; the webhook receiver applied ${report.received}`}`);
}

console.log("\nWhat each system knows now");
console.log(`  SAP    ${summary.sap.confirmations} confirmation for order 1000123 (yield ${summary.sap.yieldQuantity}, scrap ${summary.sap.scrapQuantity}) after ${summary.sap.confirmationPosts} post${summary.sap.confirmationPosts === 1 ? "" : "s"} and a lost response: applied once`);
console.log(`         goods movements: ${summary.sap.goodsMovements.join("; ")}; batch FG126/B260302A now ${summary.sap.batchStock ?? "unknown"}`);
console.log(`  MES    orders: ${Object.entries(summary.mes.orderStatus).map(([id, s]) => `${id} ${s}`).join(", ")}; counted ${summary.mes.countedGood} good, ${summary.mes.countedDefective} defective; holds: ${Object.entries(summary.mes.holds).map(([id, s]) => `${id} ${s}`).join(", ")}`);
console.log(`         batches: ${Object.entries(summary.mes.batches).map(([b, q]) => `${b} ${q}`).join(", ")}; stock movements by system: ${Object.entries(summary.mes.movements).map(([s, n]) => `${s} ${n}`).join(", ")}`);
console.log(`         stock of FG126/B260302A as reported: ${Object.entries(summary.mes.batchStock["FG126/B260302A"] ?? {}).map(([s, t]) => `${s} ${t}`).join(", ")}`);
console.log(`         ${summary.mes.delivered} deliveries, ${summary.mes.duplicates} duplicate(s) absorbed, ${summary.mes.deadLetters} record(s) in the dead letters, ${summary.mes.outboxUnsent} unsent in the outbox`);
console.log(`  LINE   made ${summary.line.good} good, ${summary.line.defective} defective; the OPC UA adapter counted ${summary.counted.good} good, ${summary.counted.defective} defective`);
console.log(`  WMS    requests received: ${summary.wms.requests.join(", ")}; ${summary.wms.confirmedTasks} task confirmations; batch FG126/B260302A ${summary.wms.batchStock ?? "unknown"}`);
if (summary.wms.lost.length > 0) {
  const again = summary.workflows.remediation.requestId;
  console.log(`         never received: ${summary.wms.lost.join(", ")} (lost on the way)${again === undefined ? "" : `; the unblock sent again by the quality-hold workflow, ${again}, was applied`}`);
}
if (summary.wms.refused.length > 0) console.log(`         refused for good: ${summary.wms.refused.map((r) => `${r.requestId} (${r.reason})`).join(", ")}`);

if (sparkplug) {
  // Line PKG's facts are its own: they are shown and validated here, and kept out of the story's
  // MES and alignment totals.
  const brokerUrl = process.env["MILLWRIGHT_MQTT_URL"] ?? "mqtt://127.0.0.1:1883";
  console.log(`\nLine PKG speaks MQTT Sparkplug B (${brokerUrl}); the Millwright host application maps it`);
  const seen = new Set<string>();
  const pkg = await runSparkplugLine({
    brokerUrl,
    orderId: "1000123",
    site: { id: "1710" },
    deliver: async (event, what) => {
      seen.add(event.id);
      console.log(`  EVENT ${event.type.replace("dev.millwright.", "")} ${what}`);
    },
    log: (who, text) => console.log(`  ${who.padEnd(5)} ${text}`),
  });
  console.log(`  LINE   PKG made ${pkg.made} good; the Sparkplug host counted ${pkg.counted} in ${pkg.events} events (${seen.size} distinct ids), ${pkg.rebirthsRequested} rebirth(s) requested`);
}

// What the workflows did, each with its history as the runtime recorded it.
const { approval, compensation, remediation } = summary.workflows;
const store = "examples/plant-demo/out/workflows.db";
console.log(`\nWorkflows (@millwright/workflows), on SQLite: ${store}`);
console.log(`  approval      ${approval.workflow} ${approval.instanceId} (${approval.key}): ${approval.state}; SAP confirms too few RM20, so it waited for the planner:`);
for (const line of approval.timeline) console.log(`                  ${line}`);
console.log(`  compensation  ${compensation.workflow} ${compensation.instanceId} (${compensation.key}): ${compensation.state}; the WMS refused staging for good:`);
for (const line of compensation.timeline.slice(compensation.timeline.findIndex((l) => l.includes("request-staging")))) console.log(`                  ${line}`);
console.log(`  remediation   ${remediation.workflow} ${remediation.instanceId} (${remediation.key}): ${remediation.state}; started by the breach ${remediation.rule} ${remediation.findingKey}:`);
for (const line of remediation.timeline) console.log(`                  ${line}`);
console.log(`  inspect an instance and its timeline in the store:\n    npx -y pnpm@10.34.9 millwright workflows show ${approval.instanceId} --store ${store}`);
console.log(`\nwrote ${summary.events.length} canonical events to examples/plant-demo/out/events.ndjson;\ncheck them with: npx -y pnpm@10.34.9 millwright validate examples/plant-demo/out/events.ndjson`);

// Plant 1710's profile (profiles/plant-1710.profile.json): its own fields and stricter rules on top
// of the global contract. Every event is read back with it; docs/federation.md explains profiles.
const profiled = checkPlantProfile(summary.eventLines, readPlant1710Profile());
if (profiled.isErr()) {
  console.error(`plant profile: ${profiled.error.message}`);
  process.exit(1);
}
const p = profiled.value;
console.log(`\nPlant profile ${p.profile} (profiles/plant-1710.profile.json), applied with parseEvent(line, { profile })`);
console.log(`  ${p.accepted} of ${p.events} events pass the global contract and the profile${p.rejected.length > 0 ? `; rejected: ${p.rejected.join("; ")}` : ""}`);
console.log(`  requirement shift-model-at-1710: ${p.workOrders} work-order events of site 1710 carry SAP's ZZ1_ShiftModel_ORD (${[...new Set(p.shiftModels)].join(", ")}) in extensions.sap`);
console.log(`  without it, an order is ${p.withoutShiftModel.globallyValid ? "still valid globally" : "INVALID globally"} but rejected by the profile: ${p.withoutShiftModel.profileIssue ?? "(not rejected)"}`);

// One order's path is one trace: SAP → MES → line → SAP.
const story = orderTrace(tracing.spans(), summary.events, "1000123");
await tracing.shutdown();
if (story !== undefined) {
  const systems = [...new Set(story.events.map((e) => parseMillwrightSource(e.source)?.system ?? e.source))];
  console.log(`\nOrder 1000123 is one trace, ${story.traceId}: ${story.spans.length} spans (${[...new Set(story.spans)].join(", ")}),`);
  console.log(`  ${story.events.length} canonical events from ${systems.join(", ")} carry it in their traceparent`);
}

// The alignment monitor after the remediation: which flows were out of step between the systems,
// how late, and which of them are in step again.
const report = buildAlignmentReport({ events: summary.events, rules: plantRules(), at: Date.parse(REPORT_AT) });
if (report.isErr()) {
  console.error(`alignment report: ${report.error.message}`);
  process.exit(1);
}
console.log(`\nAlignment at ${REPORT_AT} (plant time), after the remediation, by @millwright/alignment\n`);
console.log(renderReportText(report.value));
for (const finding of report.value.findings.filter((f) => f.status === "resolved" && f.finding.rule === remediation.rule && f.finding.key === remediation.findingKey)) {
  console.log(`RESOLVED ${finding.finding.rule} ${finding.finding.key}: breached at noon (the lost unblock), remediated by workflow ${remediation.workflow} instance ${remediation.instanceId} (unblock request ${remediation.requestId ?? "?"})\n`);
}
// The same model underneath: the OpenTelemetry metrics of the run, the alignment engine's beside
// the MES inbox's and outbox's and the workflows' (docs/metrics.md lists them).
const points = await demoMetrics.collect(summary.events, plantRules(), Date.parse(REPORT_AT));
await demoMetrics.shutdown();
const shown = points.filter((p) => /^millwright\.(alignment|inbox|outbox|workflows)\./.test(p.name) && p.value !== 0);
console.log("Metrics (OpenTelemetry) at the end of the run: business alignment beside the messaging underneath");
for (const line of renderMetrics(shown)) console.log(`  ${line}`);
console.log("");
writeFileSync(join(outDir, "alignment.html"), renderReportHtml(report.value, { title: "Plant 1710: alignment on 2026-03-02" }));
console.log(`wrote examples/plant-demo/out/alignment.html; the same report from the log:\n  npx -y pnpm@10.34.9 millwright align --at ${REPORT_AT} examples/plant-demo/out/events.ndjson`);
