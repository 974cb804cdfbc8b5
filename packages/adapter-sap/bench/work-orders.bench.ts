/**
 * The adapter's numbers from issue 5, medians of several rounds in one process:
 *  1. map 10,000 already-parsed A_ProductionOrder_2 (20 operations, 30 components each) to validated
 *     WorkOrders: orders/s (target ≥ 5,000/s);
 *  2. response text → validated WorkOrders vs bare `JSON.parse` of the same text (target ≤ 2×).
 * Run: `pnpm --filter @millwright/adapter-sap bench` (writes bench/results/sap-work-orders.json at the root).
 * --quick [--out FILE]: the short run of the test command's gate (bench/src/gate.ts): 1,000 orders
 * mapped, 7 interleaved rounds of one 500-order page; CPU time, written to FILE (the ratio is ratioToJsonParse).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSapConfig, mapProductionOrder, unwrapCollection } from "../src/index.js";

const config = createSapConfig({ system: "S4PCLNT100", timeZone: "Europe/Berlin" })._unsafeUnwrap();
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, "..", "test", "fixtures", "production-order-1000123.json"), "utf8")) as {
  d: Record<string, unknown> & { to_ProductionOrderOperation: { results: Record<string, unknown>[] }; to_ProductionOrderComponent: { results: Record<string, unknown>[] } };
};
const header = fixture.d;
const opTemplate = header.to_ProductionOrderOperation.results[1] as Record<string, unknown>;
const compTemplate = header.to_ProductionOrderComponent.results[0] as Record<string, unknown>;

function order(i: number): Record<string, unknown> {
  const operations = Array.from({ length: 20 }, (_, k) => ({
    ...opTemplate,
    OrderIntBillOfOperationsItem: String(k + 1).padStart(8, "0"),
    ManufacturingOrderOperation: String((k + 1) * 10).padStart(4, "0"),
    ManufacturingOrder: String(1_000_000 + i),
  }));
  const components = Array.from({ length: 30 }, (_, k) => ({
    ...compTemplate,
    ReservationItem: String(k + 1).padStart(4, "0"),
    ManufacturingOrderOperation: String(((k % 20) + 1) * 10).padStart(4, "0"),
    Material: `RM-${k}`,
  }));
  return {
    ...header,
    ManufacturingOrder: String(1_000_000 + i),
    to_ProductionOrderOperation: { results: operations },
    to_ProductionOrderComponent: { results: components },
  };
}

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const outAt = argv.indexOf("--out");
const OUT = outAt >= 0 ? argv[outAt + 1] : undefined;
const N = quick ? 1_000 : 10_000;
const PAGES = quick ? 1 : 4;
const orders = Array.from({ length: N }, (_, i) => order(i));
const PAGE = 500;
const pageText = JSON.stringify({ d: { results: orders.slice(0, PAGE) } });

let sink = 0;
function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}
// CPU time of this process (user + system, ms): a machine shared with other jobs disturbs it far
// less than wall time, and both sides of the ratio are measured alike.
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
function time(fn: () => void, rounds: number): number {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = cpuMs();
    fn();
    out.push(cpuMs() - t0);
  }
  return median(out);
}

// Warm up, and prove every order maps.
for (let i = 0; i < 500; i++) mapProductionOrder(orders[i], config)._unsafeUnwrap();

const mapMs = time(() => {
  for (const o of orders) sink += mapProductionOrder(o, config).isOk() ? 1 : 0;
}, quick ? 3 : 5);
// Bare parse and the full path alternate within each round, so load from other processes hits both alike.
const bareRounds: number[] = [];
const fullRounds: number[] = [];
const ratios: number[] = [];
for (let r = 0; r < (quick ? 7 : 9); r++) {
  const bare = time(() => {
    for (let i = 0; i < PAGES; i++) sink += (JSON.parse(pageText) as { d: { results: unknown[] } }).d.results.length;
  }, 1);
  const full = time(() => {
    for (let i = 0; i < PAGES; i++) {
      const page = unwrapCollection(JSON.parse(pageText))._unsafeUnwrap();
      for (const row of page.results) sink += mapProductionOrder(row, config).isOk() ? 1 : 0;
    }
  }, 1);
  bareRounds.push(bare);
  fullRounds.push(full);
  ratios.push(full / bare);
}
const bareMs = median(bareRounds);
const fullMs = median(fullRounds);
const ordersPerSecond = Math.round(N / (mapMs / 1000));
const result = {
  node: process.version,
  date: new Date().toISOString(),
  quick,
  ordersMapped: N,
  operationsPerOrder: 20,
  componentsPerOrder: 30,
  mapMsMedian: Math.round(mapMs),
  ordersPerSecond,
  targetOrdersPerSecond: 5000,
  pageBytes: pageText.length,
  ordersPerRound: PAGES * PAGE,
  bareJsonParsePerRoundMs: Number(bareMs.toFixed(1)),
  textToWorkOrdersPerRoundMs: Number(fullMs.toFixed(1)),
  ratioToJsonParse: Number(median(ratios).toFixed(3)),
  ratios: ratios.map((r) => Number(r.toFixed(3))),
  clock: "CPU time of the process (user + system)",
  targetRatio: 2,
  sink: sink > 0,
};
console.log(JSON.stringify(result, null, 2));
if (OUT !== undefined) writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
if (!quick) writeFileSync(join(import.meta.dirname, "..", "..", "..", "bench", "results", "sap-work-orders.json"), `${JSON.stringify(result, null, 2)}\n`);
