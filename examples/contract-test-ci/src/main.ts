/**
 * The consumer's export job: turns today's released MES orders into canonical events and writes
 * them as NDJSON, the artifact the contract test in CI validates with `millwright validate`.
 *
 * Run: `pnpm start` (writes out/events.ndjson), then `pnpm test` (the contract test).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serializeEvent } from "@millwright/events";
import { toReleasedEvent, type MesOrderRow } from "./mes-export.js";

const here = import.meta.dirname;
const rows = JSON.parse(readFileSync(join(here, "..", "fixtures", "mes-orders.json"), "utf8")) as MesOrderRow[];
const lines: string[] = [];
let failed = 0;
for (const row of rows) {
  const event = toReleasedEvent(row);
  if (event.isErr()) {
    failed++;
    console.log(`order ${row.order_no}: ${event.error.code}: ${event.error.message}`);
  } else {
    lines.push(serializeEvent(event.value));
    console.log(`order ${row.order_no} → ${event.value.type} ${event.value.id}`);
  }
}
mkdirSync(join(here, "..", "out"), { recursive: true });
writeFileSync(join(here, "..", "out", "events.ndjson"), lines.map((l) => `${l}\n`).join(""));
console.log(`wrote out/events.ndjson (${lines.length} events, ${failed} orders refused)`);
process.exitCode = failed === 0 ? 0 : 1;
