// A consumer process for the SQLite batch fault test: reads its deliveries (JSON lines) and hands
// them to inbox.processBatch in batches, each effect a row written through the batch's
// transaction. With `killAt`, it SIGKILLs itself inside the handler of that delivery, before the
// batch's COMMIT.
import { readFileSync } from "node:fs";
import { createInbox, type InboxEvent } from "../../src/index.js";
import { createSqliteStore, openSqliteDatabase } from "../../src/sqlite.js";

interface Config {
  readonly file: string;
  readonly deliveries: string;
  readonly batch: number;
  /** The index of the delivery whose handler kills the process. */
  readonly killAt?: number;
}

const config = JSON.parse(process.env["FAULT_CONFIG"] ?? "{}") as Config;
const deliveries = readFileSync(config.deliveries, "utf8").trim().split("\n").map((line) => JSON.parse(line) as InboxEvent);
const opened = openSqliteDatabase(config.file);
if (opened.isErr()) throw new Error(opened.error.message);
const db = opened.value;
db.exec("CREATE TABLE IF NOT EXISTS effects (event_id TEXT NOT NULL)");
const inbox = createInbox(createSqliteStore(db));
const counts: Record<string, number> = {};
for (let first = 0; first < deliveries.length; first += config.batch) {
  const batch = deliveries.slice(first, first + config.batch);
  const result = await inbox.processBatch(batch, (e, { tx }) => {
    tx.prepare("INSERT INTO effects (event_id) VALUES (?)").run(e.id);
    if (config.killAt !== undefined && first + batch.indexOf(e) >= config.killAt) {
      process.stdout.write(`killing ${first + batch.indexOf(e)}\n`);
      process.kill(process.pid, "SIGKILL");
    }
  });
  if (result.isErr()) throw new Error(result.error.message);
  for (const o of result.value) counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;
  process.stdout.write(`progress ${first + batch.length}\n`);
}
db.close();
process.stdout.write(`done ${JSON.stringify(counts)}\n`);
