/**
 * `pnpm demo`: the whole product at work in one process. SAP (an EDMX-driven test system), a line
 * on OPC UA (a node-opcua server with the PackML nodeset) and the MES (with its SQLite inbox)
 * agree on order 1000123, and every fact travels as a canonical event.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runPlant } from "./plant.js";

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

console.log("\nWhat each system knows now");
console.log(`  SAP    ${summary.sap.confirmations} confirmation for order 1000123 (yield ${summary.sap.yieldQuantity}, scrap ${summary.sap.scrapQuantity}) after ${summary.sap.confirmationPosts} posts: applied once`);
console.log(`  MES    order(s) released: ${summary.mes.releasedOrders.join(", ")}; counted ${summary.mes.countedGood} good, ${summary.mes.countedDefective} defective; holds: ${Object.entries(summary.mes.holds).map(([id, s]) => `${id} ${s}`).join(", ")}`);
console.log(`         ${summary.mes.delivered} deliveries, ${summary.mes.duplicates} duplicate(s) absorbed, ${summary.mes.deadLetters} record(s) in the dead letters`);
console.log(`  LINE   made ${summary.line.good} good, ${summary.line.defective} defective; the OPC UA adapter counted ${summary.counted.good} good, ${summary.counted.defective} defective`);
console.log(`\nwrote ${summary.events.length} canonical events to examples/plant-demo/out/events.ndjson;\ncheck them with: npx -y pnpm@10.34.9 --filter plant-demo exec millwright validate out/events.ndjson`);
