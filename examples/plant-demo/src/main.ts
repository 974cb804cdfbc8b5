/**
 * The Millwright plant demo. Stage 1 of the story: records from SAP (OData V2) and from the MES
 * become canonical entities, or are rejected with every issue named; nothing crashes, nothing
 * vanishes. Later stages add events, the line on OPC UA, the WMS and the round trip to SAP.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runDemo } from "./demo.js";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "out");
mkdirSync(outDir, { recursive: true });
// A fresh MES database each run, so the story reads the same every time.
for (const suffix of ["", "-wal", "-shm"]) rmSync(join(outDir, `mes.db${suffix}`), { force: true });
const summary = await runDemo({
  mesDatabase: join(outDir, "mes.db"),
  sapOrder: JSON.parse(readFileSync(join(here, "..", "fixtures", "sap-production-order.json"), "utf8")) as unknown,
  mesLines: readFileSync(join(here, "..", "fixtures", "mes-records.ndjson"), "utf8").split("\n").filter((l) => l.trim() !== ""),
  log: (line) => console.log(line),
});
writeFileSync(join(outDir, "canonical.ndjson"), summary.accepted.map((a) => JSON.stringify(a)).join("\n") + "\n");
writeFileSync(join(outDir, "rejected.ndjson"), summary.rejected.map((r) => JSON.stringify(r)).join("\n") + "\n");
writeFileSync(join(outDir, "events.ndjson"), summary.eventLines.join("\n") + "\n");
console.log(`\nwrote ${summary.events.length} canonical events to examples/plant-demo/out/events.ndjson`);
console.log(`wrote ${summary.accepted.length} canonical records to examples/plant-demo/out/canonical.ndjson`);
console.log(`wrote ${summary.rejected.length} rejected records, with their issues, to examples/plant-demo/out/rejected.ndjson`);
