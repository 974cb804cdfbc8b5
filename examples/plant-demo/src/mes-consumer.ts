/**
 * The MES side of the demo: it consumes the canonical events through an inbox on an embedded
 * SQLite store, so a redelivered event (SAP delivers business events at least once) changes
 * nothing twice. The MES's own tables are written in the same transaction as the inbox record.
 */
import { createRequire } from "node:module";
import type { CanonicalEvent } from "@millwright/events";
import { createInbox, type InboxOutcome } from "@millwright/idempotency";
import { createSqliteStore, type SqliteDatabase } from "@millwright/idempotency/sqlite";

interface Database extends SqliteDatabase {
  prepare(sql: string): {
    run(...args: unknown[]): { readonly changes: number };
    get(...args: unknown[]): unknown;
    all(...args: unknown[]): unknown[];
  };
  close(): void;
}

/** node:sqlite where Node has it (22.13+), else better-sqlite3 12: either way no server. */
function openDatabase(file: string): Database {
  const require = createRequire(import.meta.url);
  try {
    const { DatabaseSync } = require("node:sqlite") as { DatabaseSync: new (file: string) => Database };
    return new DatabaseSync(file);
  } catch {
    const BetterSqlite = require("better-sqlite3") as new (file: string) => Database;
    return new BetterSqlite(file);
  }
}

export interface MesConsumer {
  /** Delivers one event to the MES through its inbox. */
  deliver(event: CanonicalEvent): Promise<InboxOutcome>;
  /** What the MES now knows: its order book and the parts it has counted. */
  state(): { orders: number; releasedOrders: string[]; countedGood: number };
  close(): void;
}

/** Opens (or creates) the MES's database and its inbox. */
export function createMesConsumer(file: string): MesConsumer {
  const db = openDatabase(file);
  db.exec(`
    CREATE TABLE IF NOT EXISTS mes_orders (order_id TEXT PRIMARY KEY, status TEXT NOT NULL, revision TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS mes_counts (event_id TEXT PRIMARY KEY, good INTEGER NOT NULL);
  `);
  const inbox = createInbox(createSqliteStore(db));
  return {
    deliver: async (event) => {
      const result = await inbox.process(event, (e, { tx }) => {
        const data = e.data as Record<string, any>;
        if (e.type.startsWith("dev.millwright.workorder.")) {
          tx.prepare("INSERT INTO mes_orders (order_id, status, revision) VALUES (?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, revision = excluded.revision")
            .run(data["orderId"], data["status"], data["revision"]);
        } else if (e.type === "dev.millwright.productioncount.counted.v1") {
          tx.prepare("INSERT INTO mes_counts (event_id, good) VALUES (?, ?)").run(e.id, Number(data["goodQuantity"]["value"]));
        }
      });
      if (result.isErr()) throw new Error(`inbox store failed: ${result.error.message}`);
      return result.value;
    },
    state: () => {
      const orders = db.prepare("SELECT order_id FROM mes_orders WHERE status = 'released' ORDER BY order_id").all() as { order_id: string }[];
      const total = db.prepare("SELECT count(*) AS n FROM mes_orders").get() as { n: number };
      const good = db.prepare("SELECT coalesce(sum(good), 0) AS g FROM mes_counts").get() as { g: number };
      return { orders: Number(total.n), releasedOrders: orders.map((o) => o.order_id), countedGood: Number(good.g) };
    },
    close: () => db.close(),
  };
}
