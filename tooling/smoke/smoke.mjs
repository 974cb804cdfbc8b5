// Loads the BUILT packages the way a user's ESM code does (no source condition, no TypeScript),
// and exercises one real path through each.
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const resolveFrom = (pkg) => new URL(`../../packages/${pkg}/`, import.meta.url);

const model = await import(new URL("dist/index.js", resolveFrom("model")));
const zod = await import(new URL("dist/zod.js", resolveFrom("model")));
const order = JSON.parse(
  require("node:fs").readFileSync(new URL("../../bench/fixtures/work-order-2kb.json", import.meta.url), "utf8"),
);
assert.equal(model.parseWorkOrder(order).isOk(), true);
assert.equal(model.parseWorkOrder({}).isErr(), true);
assert.equal(zod.WorkOrderSchema.safeParse(order).success, true);
assert.deepEqual(model.sumQuantities(Array(10).fill({ value: "0.1", unit: "KGM" }))._unsafeUnwrap(), { value: "1.0", unit: "KGM" });
console.log(`smoke ESM ok on ${process.version}`);

const events = await import(new URL("dist/index.js", resolveFrom("events")));
const created = events.createEvent({
  type: "dev.millwright.workorder.started.v1",
  source: "urn:millwright:sap:S4PCLNT100",
  data: order,
  time: "2026-03-02T06:12:40-08:00",
});
assert.equal(created.isOk(), true);
const text = events.serializeEvent(created._unsafeUnwrap());
assert.equal(events.parseEvent(text)._unsafeUnwrap().id, created._unsafeUnwrap().id);
console.log(`smoke ESM events ok on ${process.version}`);

// The built `millwright` binary validates what the library produced.
const { execFileSync } = await import("node:child_process");
const { mkdtempSync, writeFileSync } = await import("node:fs");
const { tmpdir } = await import("node:os");
const dir = mkdtempSync(`${tmpdir()}/millwright-smoke-`);
writeFileSync(`${dir}/events.ndjson`, `${text}\n${text}\n`);
const bin = new URL("../../packages/cli/dist/cli.js", import.meta.url).pathname;
const output = execFileSync(process.execPath, [bin, "validate", `${dir}/events.ndjson`], { encoding: "utf8" });
assert.equal(output.trim(), "2 records: 2 valid, 0 invalid");
console.log(`smoke CLI ok on ${process.version}`);

// SQLite through the built ESM package, with every driver this Node can load: the optional peer is
// loaded with a require made for the package (a bundler shim once broke this in ESM only).
const sqlite = await import(new URL("dist/sqlite.js", resolveFrom("idempotency")));
const drivers = sqlite.findSqliteDrivers();
assert.ok(drivers.length > 0, "no SQLite driver loads");
for (const driver of drivers) {
  const db = sqlite.openSqliteDatabase(`${dir}/smoke-${driver.replace(":", "-")}.sqlite`, { driver })._unsafeUnwrap();
  db.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (42)");
  assert.equal(db.prepare("SELECT x FROM t").get().x, 42);
  db.close();
}
console.log(`smoke ESM sqlite ok on ${process.version} (${drivers.join(", ")})`);
