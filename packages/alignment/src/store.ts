import type { KeyState } from "./judge.js";
import { createSlotTable, withWorkingSet } from "./working-set.js";

/**
 * Where the engine keeps per-key state. Small on purpose, so a SQLite or PostgreSQL store can
 * implement it: open keys with their events, and closed keys as tombstones (rule, key, closing
 * time) that keep late duplicates from reopening a key until they are purged.
 */
export interface AlignmentStore {
  get(rule: string, key: string): KeyState | undefined;
  put(state: KeyState): void;
  /** Drops an open key without a tombstone (an orphan that never got a trigger). */
  drop(rule: string, key: string): void;
  /** Drops an open key and remembers it as closed at `closedAtMs`. */
  close(rule: string, key: string, closedAtMs: number): void;
  isClosed(rule: string, key: string): boolean;
  /** Forgets tombstones closed before `beforeMs`. */
  purgeClosed(beforeMs: number): void;
  /** Every open key's state, in no particular order. */
  open(): Iterable<KeyState>;
  /** How many keys are open and how many tombstones are kept. */
  size(): { readonly open: number; readonly closed: number };
}

/**
 * Creates the in-memory store: Maps per rule, so memory is bounded by the open keys plus the
 * tombstones of the retention window, not by the length of the log. The engine appends to its
 * keys in place; `get` and `open` hand out snapshots that are never mutated afterwards.
 *
 * @returns a fresh, empty store
 * @example
 * const engine = createEngine({ rules: builtInRules(), store: createMemoryStore() });
 */
export function createMemoryStore(): AlignmentStore {
  const table = createSlotTable(undefined, false);
  const store: AlignmentStore = {
    get: table.get,
    put: table.put,
    drop: (rule, key) => {
      table.dropState(rule, key);
    },
    close: table.close,
    isClosed: table.isClosed,
    purgeClosed: (beforeMs) => {
      table.purgeClosed(beforeMs);
    },
    open: table.open,
    size: table.size,
  };
  return withWorkingSet(store, table);
}
