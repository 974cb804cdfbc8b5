// Loads the BUILT packages the way a user's CommonJS code does, and exercises one real path.
const assert = require("node:assert/strict");
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const model = require(join(__dirname, "../../packages/model/dist/index.cjs"));
const zod = require(join(__dirname, "../../packages/model/dist/zod.cjs"));
const order = JSON.parse(readFileSync(join(__dirname, "../../bench/fixtures/work-order-2kb.json"), "utf8"));
assert.equal(model.parseWorkOrder(order).isOk(), true);
assert.equal(model.parseWorkOrder(null).isErr(), true);
assert.equal(zod.WorkOrderSchema.safeParse(order).success, true);
assert.equal(model.canTransition("released", "in_progress"), true);
console.log(`smoke CJS ok on ${process.version}`);

const events = require(join(__dirname, "../../packages/events/dist/index.cjs"));
const created = events.createEvent({
  type: "dev.millwright.workorder.started.v1",
  source: "urn:millwright:sap:S4PCLNT100",
  data: order,
  time: "2026-03-02T06:12:40-08:00",
})._unsafeUnwrap();
const message = events.http.binary(created);
assert.equal(events.http.toEvent(message)._unsafeUnwrap().id, created.id);
console.log(`smoke CJS events ok on ${process.version}`);

// SQLite through the built CommonJS package, with every driver this Node can load.
const sqlite = require(join(__dirname, "../../packages/idempotency/dist/sqlite.cjs"));
const { mkdtempSync } = require("node:fs");
const { tmpdir } = require("node:os");
const sqliteDir = mkdtempSync(join(tmpdir(), "millwright-smoke-cjs-"));
const drivers = sqlite.findSqliteDrivers();
assert.ok(drivers.length > 0, "no SQLite driver loads");
for (const driver of drivers) {
  const db = sqlite.openSqliteDatabase(join(sqliteDir, `smoke-${driver.replace(":", "-")}.sqlite`), { driver })._unsafeUnwrap();
  db.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (42)");
  assert.equal(db.prepare("SELECT x FROM t").get().x, 42);
  db.close();
}
console.log(`smoke CJS sqlite ok on ${process.version} (${drivers.join(", ")})`);
