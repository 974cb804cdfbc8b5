// The working set behind the library's own stores (memory and durable): open keys as mutable
// slots the engine appends to in place, and tombstones. A slot is turned into a KeyState
// (`snapshot`) only when someone outside the engine asks for it (get, open, a durable flush),
// so ingesting an event does O(1) work on the key instead of copying its event list.
//
// One entry per key of a rule, in that rule's table: the key is open (in the open list), closed
// (it has a tombstone time), or both (the memory store, after a state is put on a closed key);
// a key that is neither has no entry. The engine holds each rule's table, so an event costs one
// Map lookup per rule, which also says whether the key is closed; closing a key is done on the
// slot the evaluation holds, without a lookup. Tombstones are also queued in the order they are
// closed, so a purge reads the queue from its head instead of walking every tombstone.
import type { KeyState, ObservedEvent } from "./judge.js";

/** The keys of one rule. */
export interface RuleTable {
  readonly rule: string;
  /** Every key of the rule that is open, closed or both. */
  readonly keys: Map<string, KeySlot>;
}

/**
 * One key as the working set holds it. `events` is in canonical order and owned by the slot
 * unless `shared` (then a snapshot or a state put from outside holds the same array, and the
 * next change copies it first: a state handed out is never mutated afterwards).
 */
export interface KeySlot {
  readonly rule: string;
  readonly key: string;
  /** The rule's table that holds the slot. */
  readonly table: RuleTable;
  events: ObservedEvent[];
  shared: boolean;
  breached: boolean;
  site: string | undefined;
  line: string | undefined;
  /** The KeyState handed out for this version of the slot, if one was. */
  snapshot: KeyState | undefined;
  /** Where the slot is in the list of open keys; -1 when the key is not open. */
  openAt: number;
  /** When the key was closed (its tombstone), or undefined when it has none. */
  closedAtMs: number | undefined;
}

/** The engine's fast path into a store of this library (see {@link WORKING_SET}). */
export interface WorkingSet {
  /** The table of a rule (made on first use, then the same object for the life of the store). */
  table(rule: string): RuleTable;
  /** Opens a key that has no entry in its table, with its first event. */
  create(table: RuleTable, key: string, first: ObservedEvent): void;
  /** Says the engine changed an open slot in place: drops its snapshot (and, durable, marks it for the next flush). */
  changed(slot: KeySlot): void;
  /**
   * Every open key's slot, for the engine's evaluation: the working set's own list, read only.
   * Closing or dropping a slot moves the last slot into its place, so a walk from the end may
   * close the slot it is on.
   */
  slots(): readonly KeySlot[];
  /** Closes an open slot at `closedAtMs`: its events are dropped and its tombstone kept. */
  closeSlot(slot: KeySlot, closedAtMs: number): void;
  /** Drops an open slot without a tombstone. */
  dropSlot(slot: KeySlot): void;
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

/** The events of a key that is not open (shared, so nothing ever appends to it). */
const NO_EVENTS: ObservedEvent[] = [];

/** The slots and tombstones of a store, with a hook called for every key that changes. */
export interface SlotTable extends WorkingSet {
  /** The key's slot if it is open. */
  slot(rule: string, key: string): KeySlot | undefined;
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
  /** The key's tombstone time, for a durable flush. */
  closedAt(rule: string, key: string): number | undefined;
}

/**
 * Creates the table: one Map of keys per rule, a list of the open slots and a queue of
 * tombstones in closing order. Closing a key drops its events and keeps its entry as the tombstone.
 *
 * @param onChange - called with every key whose state or tombstone changed
 * @param openClearsTombstone - whether opening a key removes its tombstone (the durable store's
 *   rule); the memory store keeps both, as it always has
 * @returns the table
 */
export function createSlotTable(onChange: ((rule: string, key: string) => void) | undefined, openClearsTombstone: boolean): SlotTable {
  const tables = new Map<string, RuleTable>();
  const openSlots: KeySlot[] = [];
  let closedCount = 0;
  // Tombstones in the order they were closed: a slot and the time it was closed at then. An entry
  // whose slot has another time now (reopened, or closed again) is stale and skipped. `ordered`
  // while the times never decrease; a purge of an unordered queue sorts it first.
  let queue: KeySlot[] = [];
  let queueAt: number[] = [];
  let head = 0;
  let ordered = true;

  const tableOf = (rule: string): RuleTable => {
    let table = tables.get(rule);
    if (table === undefined) {
      table = { rule, keys: new Map() };
      tables.set(rule, table);
    }
    return table;
  };
  const entry = (rule: string, key: string): KeySlot | undefined => tables.get(rule)?.keys.get(key);
  const addOpen = (slot: KeySlot): void => {
    slot.openAt = openSlots.length;
    openSlots.push(slot);
  };
  /** Takes an open slot out of the open list (the last slot moves into its place). */
  const removeOpen = (slot: KeySlot): void => {
    const at = slot.openAt;
    const last = openSlots.pop() as KeySlot;
    if (last !== slot) {
      openSlots[at] = last;
      last.openAt = at;
    }
    slot.openAt = -1;
    slot.events = NO_EVENTS;
    slot.shared = true;
    slot.snapshot = undefined;
  };
  /** Forgets a slot's tombstone; its entry goes when the key is not open either. */
  const clearTombstone = (slot: KeySlot): void => {
    slot.closedAtMs = undefined;
    closedCount -= 1;
    if (slot.openAt < 0) slot.table.keys.delete(slot.key);
  };
  const compact = (): void => {
    const slots: KeySlot[] = [];
    const times: number[] = [];
    for (let i = head; i < queue.length; i++) {
      const slot = queue[i] as KeySlot;
      const at = queueAt[i] as number;
      if (slot.closedAtMs === at) {
        slots.push(slot);
        times.push(at);
      }
    }
    queue = slots;
    queueAt = times;
    head = 0;
  };
  const enqueue = (slot: KeySlot, closedAtMs: number): void => {
    // Not `<`: a NaN time (never purged, as before) must not sit in an ordered queue's way.
    if (Number.isNaN(closedAtMs) || (queue.length > head && !(closedAtMs >= (queueAt[queueAt.length - 1] as number)))) ordered = false;
    queue.push(slot);
    queueAt.push(closedAtMs);
    // Stale entries (keys reopened and closed again) never outnumber the tombstones by much.
    if (queue.length - head > 2 * closedCount + 1024) compact();
  };
  const closeSlot = (slot: KeySlot, closedAtMs: number): void => {
    if (slot.openAt >= 0) removeOpen(slot);
    if (slot.closedAtMs === undefined) closedCount += 1;
    slot.closedAtMs = closedAtMs;
    enqueue(slot, closedAtMs);
    onChange?.(slot.rule, slot.key);
  };
  const dropSlot = (slot: KeySlot): void => {
    removeOpen(slot);
    if (slot.closedAtMs === undefined) slot.table.keys.delete(slot.key);
    onChange?.(slot.rule, slot.key);
  };
  const newSlot = (table: RuleTable, key: string, events: ObservedEvent[], shared: boolean, breached: boolean, site: string | undefined, line: string | undefined, snapshot: KeyState | undefined): KeySlot => {
    return { rule: table.rule, key, table, events, shared, breached, site, line, snapshot, openAt: -1, closedAtMs: undefined };
  };
  const dropState = (rule: string, key: string): boolean => {
    const slot = entry(rule, key);
    if (slot === undefined || slot.openAt < 0) return false;
    removeOpen(slot);
    if (slot.closedAtMs === undefined) slot.table.keys.delete(key);
    return true;
  };
  return {
    table: tableOf,
    slot: (rule, key) => {
      const slot = entry(rule, key);
      return slot !== undefined && slot.openAt >= 0 ? slot : undefined;
    },
    create: (table, key, first) => {
      const slot = newSlot(table, key, [first], false, false, first.site, first.line, undefined);
      table.keys.set(key, slot);
      addOpen(slot);
      onChange?.(slot.rule, key);
    },
    changed: (slot) => {
      slot.snapshot = undefined;
      onChange?.(slot.rule, slot.key);
    },
    slots: () => openSlots,
    closeSlot,
    dropSlot,
    get: (rule, key) => {
      const slot = entry(rule, key);
      return slot === undefined || slot.openAt < 0 ? undefined : snapshot(slot);
    },
    put: (state) => {
      // The slot keeps the very object for `get` until the engine changes it.
      const table = tableOf(state.rule);
      const events = state.events as ObservedEvent[];
      let slot = table.keys.get(state.key);
      if (slot === undefined) {
        slot = newSlot(table, state.key, events, true, state.breached, state.site, state.line, state);
        table.keys.set(state.key, slot);
      } else {
        slot.events = events;
        slot.shared = true;
        slot.breached = state.breached;
        slot.site = state.site;
        slot.line = state.line;
        slot.snapshot = state;
      }
      // Open first: clearing the tombstone of a key that is not open would remove its entry.
      if (slot.openAt < 0) addOpen(slot);
      if (openClearsTombstone && slot.closedAtMs !== undefined) clearTombstone(slot);
      onChange?.(state.rule, state.key);
    },
    dropState,
    close: (rule, key, closedAtMs) => {
      const table = tableOf(rule);
      let slot = table.keys.get(key);
      if (slot === undefined) {
        slot = newSlot(table, key, NO_EVENTS, true, false, undefined, undefined, undefined);
        table.keys.set(key, slot);
      }
      closeSlot(slot, closedAtMs);
    },
    isClosed: (rule, key) => entry(rule, key)?.closedAtMs !== undefined,
    purgeClosed: (beforeMs) => {
      if (!ordered) {
        compact();
        // NaN last: such a tombstone is never purged, as a walk would never purge it.
        const timeAt = (i: number): number => {
          const at = queueAt[i] as number;
          return Number.isNaN(at) ? Number.POSITIVE_INFINITY : at;
        };
        const order = queue.map((_, i) => i).sort((a, b) => timeAt(a) - timeAt(b) || a - b);
        queue = order.map((i) => queue[i] as KeySlot);
        queueAt = order.map((i) => queueAt[i] as number);
        ordered = true;
      }
      let purged = false;
      while (head < queue.length && (queueAt[head] as number) < beforeMs) {
        const slot = queue[head] as KeySlot;
        if (slot.closedAtMs === queueAt[head]) {
          clearTombstone(slot);
          purged = true;
        }
        head += 1;
      }
      if (head === queue.length) {
        queue = [];
        queueAt = [];
        head = 0;
      } else if (head > 1024 && head * 2 > queue.length) compact();
      return purged;
    },
    open: function* () {
      // A copy of the list: the caller may change keys while it walks them.
      for (const slot of openSlots.slice()) if (slot.openAt >= 0) yield snapshot(slot);
    },
    size: () => ({ open: openSlots.length, closed: closedCount }),
    closedAt: (rule, key) => entry(rule, key)?.closedAtMs,
  };
}
