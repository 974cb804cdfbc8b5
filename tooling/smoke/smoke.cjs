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
