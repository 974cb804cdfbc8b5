import type { KeyState } from "./judge.js";

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
 * tombstones of the retention window, not by the length of the log.
 *
 * @returns a fresh, empty store
 * @example
 * const engine = createEngine({ rules: builtInRules(), store: createMemoryStore() });
 */
export function createMemoryStore(): AlignmentStore {
  // Nested Maps (rule → key) avoid building a composite string key for every lookup.
  const states = new Map<string, Map<string, KeyState>>();
  const closed = new Map<string, Map<string, number>>();
  const within = <T>(maps: Map<string, Map<string, T>>, rule: string): Map<string, T> => {
    let map = maps.get(rule);
    if (map === undefined) {
      map = new Map();
      maps.set(rule, map);
    }
    return map;
  };
  let openCount = 0;
  let closedCount = 0;
  const drop = (rule: string, key: string): void => {
    if (states.get(rule)?.delete(key) === true) openCount -= 1;
  };
  return {
    get: (rule, key) => states.get(rule)?.get(key),
    put: (state) => {
      const map = within(states, state.rule);
      if (!map.has(state.key)) openCount += 1;
      map.set(state.key, state);
    },
    drop,
    close: (rule, key, closedAtMs) => {
      drop(rule, key);
      const map = within(closed, rule);
      if (!map.has(key)) closedCount += 1;
      map.set(key, closedAtMs);
    },
    isClosed: (rule, key) => closed.get(rule)?.has(key) === true,
    purgeClosed: (beforeMs) => {
      for (const map of closed.values()) {
        for (const [key, at] of map) {
          if (at < beforeMs) {
            map.delete(key);
            closedCount -= 1;
          }
        }
      }
    },
    open: function* () {
      for (const map of states.values()) yield* map.values();
    },
    size: () => ({ open: openCount, closed: closedCount }),
  };
}
