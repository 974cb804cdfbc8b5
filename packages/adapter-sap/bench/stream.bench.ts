/**
 * Memory while streaming a 100,000-order paged read from the test SAP system: the client follows
 * `__next` page by page and each order is mapped and dropped, so the heap must stay flat.
 * Run: `node --conditions=@millwright/source --import tsx --expose-gc bench/stream.bench.ts`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createSapClient, createSapConfig, mapProductionOrder } from "../src/index.js";
import { startTestSapServer } from "../src/test-server/index.js";

const ORDERS = Number(process.env["ORDERS"] ?? 100_000);
const root = join(import.meta.dirname, "..");
const config = createSapConfig({ system: "S4PCLNT100", timeZone: "Europe/Berlin" })._unsafeUnwrap();
const { __metadata: _m, ...header } = (JSON.parse(readFileSync(join(root, "test", "fixtures", "production-order-1000123.json"), "utf8")) as { d: Record<string, unknown> }).d;
const sap = await startTestSapServer({
  services: [{ name: "API_PRODUCTION_ORDER_2_SRV", edmx: readFileSync(join(root, "metadata", "API_PRODUCTION_ORDER_2_SRV.edmx"), "utf8") }],
  pageSize: 1000,
});
sap.seed("API_PRODUCTION_ORDER_2_SRV", "A_ProductionOrder_2", {
  count: ORDERS,
  row: (i) => ({ ...header, ManufacturingOrder: String(2_000_000 + i) }),
});
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  return process.memoryUsage().heapUsed;
};
const client = createSapClient({ serviceUrl: sap.serviceUrl("API_PRODUCTION_ORDER_2_SRV"), timeoutMs: 60_000 });
let mapped = 0;
let failed = 0;
let early = 0;
let peak = 0;
const t0 = performance.now();
for await (const row of client.list("A_ProductionOrder_2", { expand: ["to_ProductionOrderOperation", "to_ProductionOrderComponent", "to_ProductionOrderStatus"] })) {
  if (row.andThen((r) => mapProductionOrder(r, config)).isOk()) mapped += 1;
  else failed += 1;
  if ((mapped + failed) % 10_000 === 0) {
    const h = heap();
    if (early === 0) early = h;
    peak = Math.max(peak, h);
  }
}
const seconds = (performance.now() - t0) / 1000;
await sap.close();
console.log(JSON.stringify({
  orders: ORDERS,
  mapped,
  failed,
  seconds: Number(seconds.toFixed(1)),
  ordersPerSecond: Math.round(ORDERS / seconds),
  heapAfter10kMB: Number((early / 2 ** 20).toFixed(1)),
  heapPeakAfterGcMB: Number((peak / 2 ** 20).toFixed(1)),
  growthMB: Number(((peak - early) / 2 ** 20).toFixed(1)),
  gcExposed: gc !== undefined,
}, null, 2));
