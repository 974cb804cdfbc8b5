/**
 * The adapter's numbers from issue 5, medians of several rounds in one process:
 *  1. map 10,000 already-parsed A_ProductionOrder_2 (20 operations, 30 components each) to validated
 *     WorkOrders: orders/s (target ≥ 5,000/s);
 *  2. response text → validated WorkOrders vs bare `JSON.parse` of the same text (target ≤ 2×).
 * Run: `pnpm --filter @millwright/adapter-sap bench`.
 */
import { readFileSync } from "node:fs";
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

const N = 10_000;
const orders = Array.from({ length: N }, (_, i) => order(i));
const PAGE = 500;
const pageText = JSON.stringify({ d: { results: orders.slice(0, PAGE) } });

let sink = 0;
function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}
function time(fn: () => void, rounds: number): number {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return median(out);
}

// Warm up, and prove every order maps.
for (let i = 0; i < 500; i++) mapProductionOrder(orders[i], config)._unsafeUnwrap();

const mapMs = time(() => {
  for (const o of orders) sink += mapProductionOrder(o, config).isOk() ? 1 : 0;
}, 5);
// Bare parse and the full path alternate within each round, so load from other processes hits both alike.
const bareRounds: number[] = [];
const fullRounds: number[] = [];
const ratios: number[] = [];
for (let r = 0; r < 9; r++) {
  const bare = time(() => {
    for (let i = 0; i < 4; i++) sink += (JSON.parse(pageText) as { d: { results: unknown[] } }).d.results.length;
  }, 1);
  const full = time(() => {
    for (let i = 0; i < 4; i++) {
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
console.log(JSON.stringify({
  ordersMapped: N,
  operationsPerOrder: 20,
  componentsPerOrder: 30,
  mapMsMedian: Math.round(mapMs),
  ordersPerSecond,
  targetOrdersPerSecond: 5000,
  pageBytes: pageText.length,
  bareJsonParsePer2000OrdersMs: Math.round(bareMs),
  textToWorkOrdersPer2000OrdersMs: Math.round(fullMs),
  ratioToJsonParse: Number(median(ratios).toFixed(2)),
  targetRatio: 2,
  sink: sink > 0,
}, null, 2));
