/**
 * `pnpm demo`: the whole product at work in one process. SAP (an EDMX-driven test system), a line
 * on OPC UA (a node-opcua server with the PackML nodeset) and the MES (with its SQLite inbox)
 * agree on order 1000123, and every fact travels as a canonical event.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runPlant } from "./plant.js";
import { publishEvents, transportNames, type TransportName } from "./transport.js";

// One option: --transport mqtt|nats|amqp|http (or MILLWRIGHT_DEMO_TRANSPORT); the default stays in-process.
const flag = process.argv.indexOf("--transport");
const transport = (flag >= 0 ? process.argv[flag + 1] : process.env["MILLWRIGHT_DEMO_TRANSPORT"]) ?? "in-process";
if (!(transportNames as readonly string[]).includes(transport)) {
  console.error(`--transport must be one of ${transportNames.join(", ")}, not ${transport}`);
  process.exit(2);
}

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "out");
mkdirSync(outDir, { recursive: true });
for (const suffix of ["", "-wal", "-shm"]) rmSync(join(outDir, `mes.db${suffix}`), { force: true });

console.log("Millwright plant demo: plant 1710, order 1000123, line FAB\n");
const summary = await runPlant({
  mesDatabase: join(outDir, "mes.db"),
  sapOrder: JSON.parse(readFileSync(join(here, "..", "fixtures", "sap-production-order.json"), "utf8")) as unknown,
  log: (line) => console.log(line),
});
writeFileSync(join(outDir, "events.ndjson"), `${summary.eventLines.join("\n")}\n`);
if (transport !== "in-process") {
  const report = await publishEvents(transport as TransportName, summary.events);
  console.log(`\npublished ${report.published} event(s) over ${report.transport}${report.failed > 0 ? `, ${report.failed} failed` : ""}${report.received === undefined ? "" : `; the webhook receiver applied ${report.received}`}`);
}

console.log("\nWhat each system knows now");
console.log(`  SAP    ${summary.sap.confirmations} confirmation for order 1000123 (yield ${summary.sap.yieldQuantity}, scrap ${summary.sap.scrapQuantity}) after ${summary.sap.confirmationPosts} posts: applied once`);
console.log(`  MES    order(s) released: ${summary.mes.releasedOrders.join(", ")}; counted ${summary.mes.countedGood} good, ${summary.mes.countedDefective} defective; holds: ${Object.entries(summary.mes.holds).map(([id, s]) => `${id} ${s}`).join(", ")}`);
console.log(`         ${summary.mes.delivered} deliveries, ${summary.mes.duplicates} duplicate(s) absorbed, ${summary.mes.deadLetters} record(s) in the dead letters, ${summary.mes.outboxUnsent} unsent in the outbox`);
console.log(`  LINE   made ${summary.line.good} good, ${summary.line.defective} defective; the OPC UA adapter counted ${summary.counted.good} good, ${summary.counted.defective} defective`);
console.log(`\nwrote ${summary.events.length} canonical events to examples/plant-demo/out/events.ndjson;\ncheck them with: npx -y pnpm@10.34.9 --filter plant-demo exec millwright validate out/events.ndjson`);
