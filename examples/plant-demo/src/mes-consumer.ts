/**
 * The MES side of the demo: it consumes the canonical events through an inbox on an embedded
 * SQLite store, so a redelivered event (SAP delivers business events at least once) changes
 * nothing twice. The MES's own tables are written in the same transaction as the inbox record.
 */
import { parseMillwrightSource, type CanonicalEvent } from "@millwright/events";
import { createInbox, createOutbox, createOutboxRelay, type InboxOutcome, type Publisher, type RelayReport } from "@millwright/idempotency";
import { createSqliteStore, openSqliteDatabase } from "@millwright/idempotency/sqlite";

/** What the MES knows at a point in time. */
interface MesState {
  orders: number;
  /** Each order the MES knows, with its status. */
  orderStatus: Record<string, string>;
  countedGood: number;
  countedDefective: number;
  holds: Record<string, string>;
  /** Material movements applied, by the system that reported them (`sap`, `mes`, `wms` from the event source). */
  movements: Record<string, number>;
  /** Batches created, as `material/batch` → quantity with unit. */
  batches: Record<string, string>;
  /**
   * The stock type of each batch as each system last reported it (its latest produced or
   * status_changed movement): `material/batch` → system → stock type.
   */
  batchStock: Record<string, Record<string, string>>;
  deadLetters: number;
  outboxUnsent: number;
  /** Dispatches to the floor the MES applied (once per idempotency key), with whether they were withdrawn. */
  dispatches: { dispatchId: string; orderId: string; withdrawn: boolean }[];
  /** Withdrawals the MES applied (once per idempotency key). */
  withdrawals: number;
}

/** What the MES answers a dispatch or a withdrawal: the dispatch, and whether the key had been applied before. */
interface MesDispatchReceipt {
  readonly dispatchId: string;
  readonly orderId: string;
  readonly duplicate: boolean;
}

export interface MesConsumer {
  /** Delivers one event to the MES through its inbox. */
  deliver(event: CanonicalEvent): Promise<InboxOutcome>;
  /**
   * Records a confirmation in the MES and puts its event in the outbox, in one SQLite transaction:
   * either both happen or neither (the transactional outbox).
   */
  confirm(event: CanonicalEvent): Promise<void>;
  /** One round of the outbox relay: publishes what the outbox holds, in order, and marks it sent. */
  relay(publish: Publisher): Promise<RelayReport>;
  /**
   * Takes a work order onto the floor's dispatch list, once per idempotency key: the same key again
   * returns the first dispatch (`duplicate`), so a workflow's retried step dispatches once.
   */
  dispatch(orderId: string, idempotencyKey: string): MesDispatchReceipt;
  /**
   * Takes a dispatch back off the floor's list, once per idempotency key. `undefined`: no such
   * dispatch (a permanent error for the caller).
   */
  withdraw(dispatchId: string, idempotencyKey: string): MesDispatchReceipt | undefined;
  /** Keeps a record that could not be read as an event, with why, in the dead letters. */
  reject(source: string, payload: string, code: string, message: string): Promise<void>;
  /** What the MES now knows: its order book, the parts it has counted, holds, stock facts and dead letters. */
  state(): MesState;
  close(): void;
}

/** Opens (or creates) the MES's database and its inbox. */
export function createMesConsumer(file: string): MesConsumer {
  // better-sqlite3 where its addon loads, else node:sqlite (Node 22.13+): either way no server.
  const opened = openSqliteDatabase(file);
  if (opened.isErr()) throw new Error(`the MES database cannot be opened: ${opened.error.message}`, { cause: opened.error });
  const db = opened.value;
  db.exec(`
    CREATE TABLE IF NOT EXISTS mes_orders (order_id TEXT PRIMARY KEY, status TEXT NOT NULL, revision TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS mes_counts (event_id TEXT PRIMARY KEY, good INTEGER NOT NULL, defective INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS mes_holds (hold_id TEXT PRIMARY KEY, status TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS mes_confirmations (confirmation_id TEXT PRIMARY KEY, event_id TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS mes_movements (event_id TEXT PRIMARY KEY, system TEXT NOT NULL, kind TEXT NOT NULL, material TEXT NOT NULL, batch TEXT, quantity TEXT NOT NULL, unit TEXT NOT NULL, to_stock_type TEXT, occurred_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS mes_dispatches (dispatch_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, withdrawn_by TEXT UNIQUE);
    CREATE TABLE IF NOT EXISTS mes_batches (material TEXT NOT NULL, batch_id TEXT NOT NULL, quantity TEXT, unit TEXT, disposition TEXT NOT NULL, PRIMARY KEY (material, batch_id));
  `);
  const store = createSqliteStore(db);
  const inbox = createInbox(store);
  const outbox = createOutbox(store);
  return {
    deliver: async (event) => {
      const result = await inbox.process(event, (e, { tx }) => {
        const data = e.data as Record<string, any>;
        if (e.type.startsWith("dev.millwright.workorder.")) {
          tx.prepare("INSERT INTO mes_orders (order_id, status, revision) VALUES (?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, revision = excluded.revision")
            .run(data["orderId"], data["status"], data["revision"]);
        } else if (e.type === "dev.millwright.productioncount.counted.v1") {
          tx.prepare("INSERT INTO mes_counts (event_id, good, defective) VALUES (?, ?, ?)").run(
            e.id,
            Number(data["goodQuantity"]["value"]),
            Number(data["defectiveQuantity"]["value"]),
          );
        } else if (e.type.startsWith("dev.millwright.qualityhold.")) {
          tx.prepare("INSERT INTO mes_holds (hold_id, status) VALUES (?, ?) ON CONFLICT (hold_id) DO UPDATE SET status = excluded.status")
            .run(data["holdId"], data["status"]);
        } else if (e.type.startsWith("dev.millwright.materialmovement.")) {
          // The reporting system is the system segment of the source (urn:millwright:<system>:…).
          tx.prepare("INSERT INTO mes_movements (event_id, system, kind, material, batch, quantity, unit, to_stock_type, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").run(
            e.id,
            parseMillwrightSource(e.source)?.system ?? e.source,
            data["kind"],
            data["material"]["id"],
            data["batchId"] ?? null,
            data["quantity"]["value"],
            data["quantity"]["unit"],
            data["to"]?.["stockType"] ?? null,
            data["occurredAt"] ?? `${data["postingDate"]}T00:00:00Z`,
          );
        } else if (e.type.startsWith("dev.millwright.batch.")) {
          tx.prepare("INSERT INTO mes_batches (material, batch_id, quantity, unit, disposition) VALUES (?, ?, ?, ?, ?) ON CONFLICT (material, batch_id) DO UPDATE SET quantity = excluded.quantity, unit = excluded.unit, disposition = excluded.disposition")
            .run(data["material"]["id"], data["batchId"], data["quantity"]?.["value"] ?? null, data["quantity"]?.["unit"] ?? null, data["disposition"]);
        }
      });
      if (result.isErr()) throw new Error(`inbox store failed: ${result.error.message}`);
      return result.value;
    },
    confirm: async (event) => {
      await store.transaction(async (tx) => {
        const data = event.data as unknown as Record<string, unknown>;
        tx.prepare("INSERT INTO mes_confirmations (confirmation_id, event_id) VALUES (?, ?)").run(data["confirmationId"], event.id);
        (await outbox.add(tx, [event]))._unsafeUnwrap();
      });
    },
    relay: async (publish) => {
      const report = await createOutboxRelay(store, { publish }).runOnce();
      if (report.isErr()) throw new Error(`outbox relay failed: ${report.error.message}`);
      return report.value;
    },
    dispatch: (orderId, idempotencyKey) => {
      const known = db.prepare("SELECT dispatch_id, order_id FROM mes_dispatches WHERE idempotency_key = ?").get(idempotencyKey) as { dispatch_id: string; order_id: string } | undefined;
      if (known !== undefined) return { dispatchId: known.dispatch_id, orderId: known.order_id, duplicate: true };
      const n = db.prepare("SELECT count(*) AS n FROM mes_dispatches").get() as { n: number };
      const dispatchId = `D-${String(Number(n.n) + 1).padStart(4, "0")}`;
      db.prepare("INSERT INTO mes_dispatches (dispatch_id, order_id, idempotency_key) VALUES (?, ?, ?)").run(dispatchId, orderId, idempotencyKey);
      return { dispatchId, orderId, duplicate: false };
    },
    withdraw: (dispatchId, idempotencyKey) => {
      const row = db.prepare("SELECT order_id, withdrawn_by FROM mes_dispatches WHERE dispatch_id = ?").get(dispatchId) as { order_id: string; withdrawn_by: string | null } | undefined;
      if (row === undefined) return undefined;
      if (row.withdrawn_by !== null) return { dispatchId, orderId: row.order_id, duplicate: true };
      db.prepare("UPDATE mes_dispatches SET withdrawn_by = ? WHERE dispatch_id = ?").run(idempotencyKey, dispatchId);
      return { dispatchId, orderId: row.order_id, duplicate: false };
    },
    reject: async (source, payload, code, message) => {
      const result = await inbox.reject({ source, payload, code, message });
      if (result.isErr()) throw new Error(`inbox store failed: ${result.error.message}`);
    },
    state: () => {
      const orders = db.prepare("SELECT order_id, status FROM mes_orders ORDER BY order_id").all() as { order_id: string; status: string }[];
      const total = db.prepare("SELECT count(*) AS n FROM mes_orders").get() as { n: number };
      const counted = db.prepare("SELECT coalesce(sum(good), 0) AS g, coalesce(sum(defective), 0) AS d FROM mes_counts").get() as { g: number; d: number };
      const holds = db.prepare("SELECT hold_id, status FROM mes_holds ORDER BY hold_id").all() as { hold_id: string; status: string }[];
      const dead = db.prepare("SELECT count(*) AS n FROM millwright_dead_letters").get() as { n: number };
      const unsent = db.prepare("SELECT count(*) AS n FROM millwright_outbox WHERE sent_at IS NULL").get() as { n: number };
      const movements = db.prepare("SELECT system, count(*) AS n FROM mes_movements GROUP BY system ORDER BY system").all() as { system: string; n: number }[];
      const batches = db.prepare("SELECT material, batch_id, quantity, unit FROM mes_batches ORDER BY material, batch_id").all() as { material: string; batch_id: string; quantity: string | null; unit: string | null }[];
      // Timestamps carry offsets, so order by the instant, not the text.
      const stockFacts = (db.prepare("SELECT system, material, batch, to_stock_type, occurred_at FROM mes_movements WHERE batch IS NOT NULL AND to_stock_type IS NOT NULL AND kind IN ('produced', 'status_changed')").all() as { system: string; material: string; batch: string; to_stock_type: string; occurred_at: string }[])
        .sort((a, b) => Date.parse(a.occurred_at) - Date.parse(b.occurred_at));
      const dispatches = db.prepare("SELECT dispatch_id, order_id, withdrawn_by FROM mes_dispatches ORDER BY dispatch_id").all() as { dispatch_id: string; order_id: string; withdrawn_by: string | null }[];
      const batchStock: Record<string, Record<string, string>> = {};
      for (const f of stockFacts) (batchStock[`${f.material}/${f.batch}`] ??= {})[f.system] = f.to_stock_type;
      return {
        orders: Number(total.n),
        orderStatus: Object.fromEntries(orders.map((o) => [o.order_id, o.status])),
        countedGood: Number(counted.g),
        countedDefective: Number(counted.d),
        holds: Object.fromEntries(holds.map((h) => [h.hold_id, h.status])),
        movements: Object.fromEntries(movements.map((m) => [m.system, Number(m.n)])),
        batches: Object.fromEntries(batches.map((b) => [`${b.material}/${b.batch_id}`, b.quantity === null ? "?" : `${b.quantity} ${b.unit ?? ""}`.trim()])),
        batchStock,
        deadLetters: Number(dead.n),
        outboxUnsent: Number(unsent.n),
        dispatches: dispatches.map((d) => ({ dispatchId: d.dispatch_id, orderId: d.order_id, withdrawn: d.withdrawn_by !== null })),
        withdrawals: dispatches.filter((d) => d.withdrawn_by !== null).length,
      };
    },
    close: () => db.close(),
  };
}
