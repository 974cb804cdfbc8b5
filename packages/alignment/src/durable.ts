// Durable alignment state: the engine works on an in-memory working set (an AlignmentStore, so it
// stays synchronous and fast); a backend persists what changed, in batches, one transaction each.
import { err, ok, type Result } from "neverthrow";
import type { KeyState } from "./judge.js";
import type { AlignmentStore } from "./store.js";
import { createSlotTable, snapshot as snapshotOf, withWorkingSet } from "./working-set.js";

/** One key of one rule. */
export interface KeyRef {
  readonly rule: string;
  readonly key: string;
}

/** A closed key: late duplicates for it are ignored until the tombstone is purged. */
export interface Tombstone extends KeyRef {
  /** When the key was closed, ms since the epoch (the evaluation time that closed it). */
  readonly closedAtMs: number;
}

/** Everything a backend holds: every open key's state and every tombstone. */
export interface AlignmentSnapshot {
  readonly states: readonly KeyState[];
  readonly tombstones: readonly Tombstone[];
}

/**
 * One batch of changes, coalesced so that each rule + key appears at most once across
 * `upserts`, `closes` and `drops`. A backend applies it in one transaction, in this order:
 * 1. `purgeBeforeMs`: delete tombstones closed before it;
 * 2. `upserts`: write the key's state and delete its tombstone (the key is open);
 * 3. `closes`: delete the key's state and write its tombstone;
 * 4. `drops`: delete the key's state and its tombstone (the key is neither open nor closed).
 */
export interface AlignmentChanges {
  readonly upserts: readonly KeyState[];
  readonly closes: readonly Tombstone[];
  readonly drops: readonly KeyRef[];
  readonly purgeBeforeMs?: number;
}

/** A backend operation failed (connection lost, lock timeout, constraint, …); nothing was written. */
export interface StoreFailedError {
  readonly code: "store_failed";
  /** The operation, such as `sqlite.apply` or `postgres.load`. */
  readonly operation: string;
  readonly message: string;
  readonly cause: unknown;
}

/** A stored row is not a key state (or a tombstone time is not a number); the snapshot was not loaded. */
export interface StateCorruptError {
  readonly code: "state_corrupt";
  readonly operation: string;
  readonly rule: string;
  readonly key: string;
  readonly message: string;
  /** The offending stored value. */
  readonly value: unknown;
  /** The parse error, when there is one. */
  readonly cause?: unknown;
}

/** The backend was used after `close()`. */
export interface StoreClosedError {
  readonly code: "store_closed";
  readonly operation: string;
  readonly message: string;
}

/** Why a durable store operation failed, discriminated on `code`. */
export type AlignmentStoreError = StoreFailedError | StateCorruptError | StoreClosedError;

/**
 * Where a durable store persists its working set. Asynchronous, batched: {@link openDurableStore}
 * calls `load` once and `apply` once per flush. Implementations: `createSqliteBackend` from
 * `@millwright/alignment/sqlite` and `createPostgresBackend` from `@millwright/alignment/postgres`.
 */
export interface AlignmentBackend {
  /** Reads every open key's state and every tombstone. */
  load(): Promise<Result<AlignmentSnapshot, AlignmentStoreError>>;
  /** Applies a batch of changes in one transaction: all of it or, on an error, none of it. */
  apply(changes: AlignmentChanges): Promise<Result<void, AlignmentStoreError>>;
  /** Waits for work in flight, then refuses further calls. Leaves the database or pool open: it is the caller's. */
  close(): Promise<void>;
}

/** What a successful flush wrote. */
export interface FlushOutcome {
  /** How many keys were written (state upserted, tombstone written, or both deleted). */
  readonly written: number;
}

/**
 * An {@link AlignmentStore} (synchronous, for `createEngine({ store })`) whose changes are
 * persisted by `flush()`. Changes are coalesced per rule + key: the last write wins.
 */
export interface DurableAlignmentStore extends AlignmentStore {
  /**
   * Writes every change since the last successful flush in one transaction. Acknowledge broker
   * messages only after it resolves ok: everything ingested before the call is then durable.
   * On an error nothing was written and the changes stay pending for the next flush.
   * Flushes run one after another, never overlapping.
   */
  flush(): Promise<Result<FlushOutcome, AlignmentStoreError>>;
  /** How many keys have changes that are not flushed yet (a pending purge of tombstones is not counted). */
  pending(): number;
}

/**
 * Wraps a rejection or exception of a backend operation as a {@link StoreFailedError}.
 *
 * @param operation - the operation, such as `sqlite.apply`
 * @returns a function from the cause to the error value
 * @example
 * toStoreFailed("postgres.load")(new Error("connection refused"));
 */
export function toStoreFailed(operation: string): (cause: unknown) => StoreFailedError {
  return (cause) => ({
    code: "store_failed",
    operation,
    message: `${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    cause,
  });
}

/**
 * The error of a backend used after `close()`.
 *
 * @param operation - the refused operation
 * @returns the error value
 * @example
 * if (closed) return err(storeClosed("sqlite.apply"));
 */
export function storeClosed(operation: string): StoreClosedError {
  return { code: "store_closed", operation, message: `${operation} refused: the backend is closed` };
}

/**
 * Serializes a key state for a backend: JSON of the whole object, so fields added to
 * {@link KeyState} later are kept without a schema change.
 *
 * @param state - the key state
 * @returns its JSON text
 * @example
 * serializeKeyState({ rule: "workorder-started", key: "1000123", events: [], breached: false });
 */
export function serializeKeyState(state: KeyState): string {
  return JSON.stringify(state);
}

const ROLES: ReadonlySet<unknown> = new Set(["trigger", "fulfilment", "partial", "measure"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isObservedEvent(value: unknown): boolean {
  return (
    isRecord(value) &&
    typeof value["id"] === "string" &&
    typeof value["source"] === "string" &&
    typeof value["type"] === "string" &&
    typeof value["time"] === "string" &&
    typeof value["timeMs"] === "number" &&
    Number.isFinite(value["timeMs"]) &&
    ROLES.has(value["role"])
  );
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** A string as a text column gives it back after a lone surrogate or a NUL went in: U+FFFD, once or per byte. */
const asStored = (text: string): string => text.replace(LONE_SURROGATE, "\ufffd").replace(/\u0000/g, "\ufffd").replace(/\ufffd+/g, "\ufffd");

/**
 * Whether the JSON's rule or key is the column's: equal, or equal but for lone surrogates, which
 * drivers replace when they write a text column (pg by one U+FFFD, better-sqlite3 by three), and
 * NULs, which the PostgreSQL backend replaces (text cannot hold them). The JSON text escapes both,
 * so the state itself keeps the exact string.
 */
function sameText(stored: unknown, column: string): boolean {
  return stored === column || (typeof stored === "string" && asStored(stored) === asStored(column));
}

/**
 * Reads a stored key state back, checking that it is one and that it belongs to the row's rule
 * and key. Fields it does not know are kept as they are.
 *
 * @param row - the row's rule, key and JSON text, and the operation reading it (for the error)
 * @returns the key state, or a `state_corrupt` error
 * @example
 * parseKeyState({ operation: "sqlite.load", rule: "workorder-started", key: "1000123", text });
 */
export function parseKeyState(row: { readonly operation: string; readonly rule: string; readonly key: string; readonly text: unknown }): Result<KeyState, StateCorruptError> {
  const { operation, rule, key, text } = row;
  const corrupt = (why: string, cause?: unknown): StateCorruptError => ({
    code: "state_corrupt",
    operation,
    rule,
    key,
    message: `${operation}: the stored state of ${rule} ${JSON.stringify(key)} ${why}`,
    value: text,
    ...(cause === undefined ? {} : { cause }),
  });
  if (typeof text !== "string") return err(corrupt(`is a ${typeof text}, not JSON text`));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    return err(corrupt(`is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`, cause));
  }
  if (!isRecord(value)) return err(corrupt("is not a JSON object"));
  if (!sameText(value["rule"], rule) || !sameText(value["key"], key)) return err(corrupt(`names another key (${JSON.stringify(value["rule"])}, ${JSON.stringify(value["key"])})`));
  if (typeof value["breached"] !== "boolean") return err(corrupt("has no boolean `breached`"));
  const events = value["events"];
  if (!Array.isArray(events) || !events.every(isObservedEvent)) return err(corrupt("has no valid `events` (each needs id, source, type, time, a finite timeMs and a role)"));
  return ok(value as unknown as KeyState);
}

/**
 * Reads a stored tombstone time (a number, a bigint or a digit string, as drivers return integers).
 *
 * @param row - the row's rule, key and stored time, and the operation reading it
 * @returns the tombstone, or a `state_corrupt` error
 * @example
 * parseTombstone({ operation: "postgres.load", rule: "workorder-started", key: "1000123", closedAtMs: "1772431200000" });
 */
function parseTombstone(row: { readonly operation: string; readonly rule: string; readonly key: string; readonly closedAtMs: unknown }): Result<Tombstone, StateCorruptError> {
  const { operation, rule, key, closedAtMs } = row;
  const ms = typeof closedAtMs === "number" ? closedAtMs : typeof closedAtMs === "bigint" || typeof closedAtMs === "string" ? Number(closedAtMs) : Number.NaN;
  if (!Number.isFinite(ms)) {
    return err({ code: "state_corrupt", operation, rule, key, message: `${operation}: the tombstone of ${rule} ${JSON.stringify(key)} has no valid closing time`, value: closedAtMs });
  }
  return ok({ rule, key, closedAtMs: ms });
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The table names of a SQL backend's prefix; a prefix that is not a plain identifier is a
 * programmer error (it is spliced into SQL).
 *
 * @param caller - the function to name in the error
 * @param tablePrefix - letters, digits and `_`, not starting with a digit
 * @returns the states and tombstones table names
 * @example
 * backendTables("createSqliteBackend", "plant1710_"); // { states: "plant1710_states", tombstones: "plant1710_tombstones" }
 */
export function backendTables(caller: string, tablePrefix: string): { readonly states: string; readonly tombstones: string } {
  if (!IDENTIFIER.test(tablePrefix)) throw new TypeError(`${caller}: tablePrefix must be letters, digits and _ (not starting with a digit), got ${JSON.stringify(tablePrefix)}`);
  return { states: `${tablePrefix}states`, tombstones: `${tablePrefix}tombstones` };
}

function field(row: unknown, name: string): unknown {
  return typeof row === "object" && row !== null ? (row as Record<string, unknown>)[name] : undefined;
}

/**
 * Reads a backend's rows back as a snapshot: state rows with `rule`, `key` and `state` (JSON
 * text), tombstone rows with `rule`, `key` and `closed_at_ms`, each checked as
 * {@link parseKeyState} and {@link parseTombstone} do.
 *
 * @param rows - the operation reading them (for the error) and the rows of both tables
 * @returns the snapshot, or the first `state_corrupt` error
 * @example
 * parseSnapshot({ operation: "sqlite.load", states: [], tombstones: [{ rule: "workorder-started", key: "1000123", closed_at_ms: 5 }] });
 */
export function parseSnapshot(rows: { readonly operation: string; readonly states: readonly unknown[]; readonly tombstones: readonly unknown[] }): Result<AlignmentSnapshot, StateCorruptError> {
  const { operation } = rows;
  const states: KeyState[] = [];
  for (const row of rows.states) {
    const parsed = parseKeyState({ operation, rule: String(field(row, "rule")), key: String(field(row, "key")), text: field(row, "state") });
    if (parsed.isErr()) return err(parsed.error);
    states.push(parsed.value);
  }
  const tombstones: Tombstone[] = [];
  for (const row of rows.tombstones) {
    const parsed = parseTombstone({ operation, rule: String(field(row, "rule")), key: String(field(row, "key")), closedAtMs: field(row, "closed_at_ms") });
    if (parsed.isErr()) return err(parsed.error);
    tombstones.push(parsed.value);
  }
  return ok({ states, tombstones });
}

/**
 * Opens a durable store: loads the backend's snapshot into an in-memory working set and returns
 * a synchronous {@link AlignmentStore} for `createEngine({ store })` that records what changed,
 * plus `flush()` to persist those changes in one transaction.
 *
 * Delivery contract: acknowledge broker messages only after `flush()` resolves ok. After a crash,
 * open the store again and let the broker redeliver what was not acknowledged: events that were
 * flushed but not acknowledged are deduplicated (by source + id within a key's events, and a
 * closed key's tombstone absorbs late duplicates), so the findings are the same as without the
 * crash. Evaluate, then flush, then acknowledge: a crash before the flush makes the restarted
 * engine reach the same evaluation again and report the same findings again (publish them with
 * idempotent ids, as `toAlignmentEvent` makes them). A redelivered event whose key's tombstone
 * was purged since its first delivery counts as new, like any event arriving more than
 * `retentionMs` after its key closed: keep `retentionMs` well above the redelivery delay plus the
 * lateness of events. One process writes one backend (one table prefix) at a time.
 *
 * @param backend - where the state is persisted, such as `createSqliteBackend(db)`
 * @returns the store, or why the snapshot could not be loaded
 * @example
 * import Database from "better-sqlite3";
 * import { builtInRules, createEngine, openDurableStore } from "@millwright/alignment";
 * import { createSqliteBackend } from "@millwright/alignment/sqlite";
 *
 * const opened = await openDurableStore(createSqliteBackend(new Database("alignment.db")));
 * if (opened.isErr()) throw new Error(opened.error.message);
 * const store = opened.value;
 * const engine = createEngine({ rules: builtInRules(), store });
 * // for each batch of messages: ingest them, evaluate, publish the findings, then
 * const flushed = await store.flush();
 * if (flushed.isOk()) {
 *   // acknowledge the batch
 * }
 */
export async function openDurableStore(backend: AlignmentBackend): Promise<Result<DurableAlignmentStore, AlignmentStoreError>> {
  let snapshot: Result<AlignmentSnapshot, AlignmentStoreError>;
  try {
    snapshot = await backend.load();
  } catch (cause) {
    return err(toStoreFailed("load")(cause));
  }
  if (snapshot.isErr()) return err(snapshot.error);

  // What changed since the last flush: only which keys; their values are read at flush time, so
  // the last write wins and nothing is serialized on the engine's hot path.
  let dirty = new Map<string, Set<string>>();
  let dirtyCount = 0;
  let purgeBeforeMs: number | undefined;
  const mark = (rule: string, key: string): void => {
    let keys = dirty.get(rule);
    if (keys === undefined) {
      keys = new Set();
      dirty.set(rule, keys);
    }
    const before = keys.size;
    keys.add(key);
    if (keys.size !== before) dirtyCount += 1;
  };
  // The working set, as in the memory store: slots the engine appends to in place, snapshotted
  // only when a flush (or get/open) needs a key's state. A key is open, closed or neither, never
  // both: opening removes a tombstone, closing the state. Loading marks nothing.
  let loading = true;
  const table = createSlotTable((rule, key) => {
    if (!loading) mark(rule, key);
  }, true);
  for (const state of snapshot.value.states) table.put(state);
  for (const { rule, key, closedAtMs } of snapshot.value.tombstones) {
    if (table.slot(rule, key) !== undefined) continue;
    table.close(rule, key, closedAtMs);
  }
  loading = false;

  // Flushes run one after another: the next takes its batch only when the previous has settled,
  // so a failed batch is back in `dirty` before the next one is taken.
  let tail: Promise<unknown> = Promise.resolve();
  const flushOnce = async (): Promise<Result<FlushOutcome, AlignmentStoreError>> => {
    if (dirtyCount === 0 && purgeBeforeMs === undefined) return ok({ written: 0 });
    const taken = dirty;
    const takenPurge = purgeBeforeMs;
    dirty = new Map();
    dirtyCount = 0;
    purgeBeforeMs = undefined;
    const upserts: KeyState[] = [];
    const closes: Tombstone[] = [];
    const drops: KeyRef[] = [];
    for (const [rule, keys] of taken) {
      for (const key of keys) {
        const slot = table.slot(rule, key);
        if (slot !== undefined) {
          upserts.push(snapshotOf(slot));
          continue;
        }
        const closedAtMs = table.closedAt(rule, key);
        if (closedAtMs !== undefined) closes.push({ rule, key, closedAtMs });
        else drops.push({ rule, key });
      }
    }
    let result: Result<void, AlignmentStoreError>;
    try {
      result = await backend.apply(takenPurge === undefined ? { upserts, closes, drops } : { upserts, closes, drops, purgeBeforeMs: takenPurge });
    } catch (cause) {
      result = err(toStoreFailed("apply")(cause));
    }
    if (result.isErr()) {
      // Nothing was written: these keys are pending again (their current values go in the next batch).
      for (const [rule, keys] of taken) for (const key of keys) mark(rule, key);
      if (takenPurge !== undefined) purgeBeforeMs = Math.max(purgeBeforeMs ?? takenPurge, takenPurge);
      return err(result.error);
    }
    return ok({ written: upserts.length + closes.length + drops.length });
  };

  const store: DurableAlignmentStore = {
    get: table.get,
    put: table.put,
    drop: (rule, key) => {
      if (table.dropState(rule, key)) mark(rule, key);
    },
    close: table.close,
    isClosed: table.isClosed,
    purgeClosed: (beforeMs) => {
      // Replayed on the backend as one statement before the batch's keys, so that keys written
      // after it in the same batch keep their newer tombstones. Without a purged tombstone here,
      // the backend has none to purge either: its untouched keys mirror the working set.
      if (table.purgeClosed(beforeMs)) purgeBeforeMs = Math.max(purgeBeforeMs ?? beforeMs, beforeMs);
    },
    open: table.open,
    size: table.size,
    flush: () => {
      const run = tail.then(flushOnce, flushOnce);
      tail = run.catch(() => undefined);
      return run;
    },
    pending: () => dirtyCount,
  };
  return ok(withWorkingSet(store, table));
}
