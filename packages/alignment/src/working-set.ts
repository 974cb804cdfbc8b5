// The working set behind the library's own stores (memory and durable): open keys as mutable
// slots the engine appends to in place, and tombstones. A slot is turned into a KeyState
// (`snapshot`) only when someone outside the engine asks for it (get, open, a durable flush),
// so ingesting an event does O(1) work on the key instead of copying its event list.
import type { KeyState, ObservedEvent } from "./judge.js";

/**
 * One open key as the working set holds it. `events` is in canonical order and owned by the
 * slot unless `shared` (then a snapshot or a state put from outside holds the same array, and
 * the next change copies it first: a state handed out is never mutated afterwards).
 */
export interface KeySlot {
  readonly rule: string;
  readonly key: string;
  events: ObservedEvent[];
  shared: boolean;
  breached: boolean;
  site: string | undefined;
  line: string | undefined;
  /** The KeyState handed out for this version of the slot, if one was. */
  snapshot: KeyState | undefined;
}

/** The engine's fast path into a store of this library (see {@link WORKING_SET}). */
export interface WorkingSet {
  slot(rule: string, key: string): KeySlot | undefined;
  /** Opens a key with its first event; the engine calls it only for a key that is not closed. */
  create(rule: string, key: string, first: ObservedEvent): void;
  /**
   * Whether an open key never has a tombstone, so a key found open is not closed. Always for the
   * durable store; for the memory store until a state is put on a closed key (it keeps both).
   */
  exclusive(): boolean;
  /** Says the engine changed a slot in place: drops its snapshot (and, durable, marks it for the next flush). */
  changed(slot: KeySlot): void;
  /** Every open key's slot, for the engine's evaluation (read only, never kept). */
  slots(): readonly KeySlot[];
}

/** Where a store of this library exposes its {@link WorkingSet}; stores written elsewhere have none and get the copy-on-write path. */
export const WORKING_SET: unique symbol = Symbol("millwright.alignment.workingSet");

/**
 * Gives a store its working set as a non-enumerable property: a store wrapped with `{ ...store,
 * put }` does not inherit it, so the engine calls the wrapper's methods, not the table behind them.
 *
 * @param store - a store of this library
 * @param table - its working set
 * @returns the store
 */
export function withWorkingSet<S extends object>(store: S, table: WorkingSet): S {
  Object.defineProperty(store, WORKING_SET, { value: table, enumerable: false });
  return store;
}

/** A key's state as plain data, optional fields only when present (it is compared and persisted as such). */
function plainState(rule: string, key: string, events: readonly ObservedEvent[], breached: boolean, site: string | undefined, line: string | undefined): KeyState {
  if (site === undefined) return line === undefined ? { rule, key, events, breached } : { rule, key, events, breached, line };
  return line === undefined ? { rule, key, events, breached, site } : { rule, key, events, breached, site, line };
}

/** The slot's current state; made once per version, and its events are never mutated afterwards. */
export function snapshot(slot: KeySlot): KeyState {
  if (slot.snapshot !== undefined) return slot.snapshot;
  slot.shared = true;
  slot.snapshot = plainState(slot.rule, slot.key, slot.events, slot.breached, slot.site, slot.line);
  return slot.snapshot;
}

/** A slot holding a state put from outside: it keeps the very object for `get` until the engine changes it. */
function slotOf(state: KeyState): KeySlot {
  return { rule: state.rule, key: state.key, events: state.events as ObservedEvent[], shared: true, breached: state.breached, site: state.site, line: state.line, snapshot: state };
}

function within<T>(maps: Map<string, Map<string, T>>, rule: string): Map<string, T> {
  let map = maps.get(rule);
  if (map === undefined) {
    map = new Map();
    maps.set(rule, map);
  }
  return map;
}

/** The slots and tombstones of a store, with a hook called for every key that changes. */
export interface SlotTable extends WorkingSet {
  get(rule: string, key: string): KeyState | undefined;
  put(state: KeyState): void;
  /** Removes an open key; true when there was one. */
  dropState(rule: string, key: string): boolean;
  close(rule: string, key: string, closedAtMs: number): void;
  isClosed(rule: string, key: string): boolean;
  /** Forgets tombstones closed before `beforeMs`; true when any was. */
  purgeClosed(beforeMs: number): boolean;
  open(): Iterable<KeyState>;
  size(): { readonly open: number; readonly closed: number };
  /** The slot's tombstone time, for a durable flush. */
  closedAt(rule: string, key: string): number | undefined;
}

/**
 * Creates the table: nested Maps (rule → key), which avoid building a composite key per lookup.
 * Closing a key removes its slot.
 *
 * @param onChange - called with every key whose state or tombstone changed
 * @param openClearsTombstone - whether opening a key removes its tombstone (the durable store's
 *   rule); the memory store keeps both, as it always has
 * @returns the table
 */
export function createSlotTable(onChange: ((rule: string, key: string) => void) | undefined, openClearsTombstone: boolean): SlotTable {
  const states = new Map<string, Map<string, KeySlot>>();
  const closed = new Map<string, Map<string, number>>();
  let openCount = 0;
  let closedCount = 0;
  let exclusive = true;
  const setSlot = (slot: KeySlot): void => {
    const map = within(states, slot.rule);
    if (!map.has(slot.key)) openCount += 1;
    map.set(slot.key, slot);
    if (openClearsTombstone && closed.get(slot.rule)?.delete(slot.key) === true) closedCount -= 1;
    onChange?.(slot.rule, slot.key);
  };
  const dropState = (rule: string, key: string): boolean => {
    if (states.get(rule)?.delete(key) !== true) return false;
    openCount -= 1;
    return true;
  };
  return {
    slot: (rule, key) => states.get(rule)?.get(key),
    create: (rule, key, first) => setSlot({ rule, key, events: [first], shared: false, breached: false, site: first.site, line: first.line, snapshot: undefined }),
    changed: (slot) => {
      slot.snapshot = undefined;
      onChange?.(slot.rule, slot.key);
    },
    slots: () => {
      // An array, not a generator: cheaper per key, and the engine changes keys only after the walk.
      const out: KeySlot[] = [];
      for (const map of states.values()) for (const slot of map.values()) out.push(slot);
      return out;
    },
    get: (rule, key) => {
      const slot = states.get(rule)?.get(key);
      return slot === undefined ? undefined : snapshot(slot);
    },
    put: (state) => {
      if (!openClearsTombstone && closed.get(state.rule)?.has(state.key) === true) exclusive = false;
      setSlot(slotOf(state));
    },
    exclusive: () => exclusive,
    dropState,
    close: (rule, key, closedAtMs) => {
      dropState(rule, key);
      const map = within(closed, rule);
      if (!map.has(key)) closedCount += 1;
      map.set(key, closedAtMs);
      onChange?.(rule, key);
    },
    isClosed: (rule, key) => closed.get(rule)?.has(key) === true,
    purgeClosed: (beforeMs) => {
      let purged = false;
      for (const map of closed.values()) {
        for (const [key, at] of map) {
          if (at < beforeMs) {
            map.delete(key);
            closedCount -= 1;
            purged = true;
          }
        }
      }
      return purged;
    },
    open: function* () {
      for (const map of states.values()) for (const slot of map.values()) yield snapshot(slot);
    },
    size: () => ({ open: openCount, closed: closedCount }),
    closedAt: (rule, key) => closed.get(rule)?.get(key),
  };
}
