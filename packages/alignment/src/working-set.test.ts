import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { KeyState } from "./judge.js";
import { createSlotTable } from "./working-set.js";

/**
 * The tombstones and open keys as the nested Maps before the slot table kept them: the model the
 * table (one entry per key, an open list and a queue of tombstones purged from its head) must match.
 */
function model(openClearsTombstone: boolean) {
  const states = new Map<string, KeyState>();
  const closed = new Map<string, number>();
  const id = (rule: string, key: string): string => `${rule}\u0000${key}`;
  return {
    put: (state: KeyState): void => {
      if (openClearsTombstone) closed.delete(id(state.rule, state.key));
      states.set(id(state.rule, state.key), state);
    },
    dropState: (rule: string, key: string): boolean => states.delete(id(rule, key)),
    close: (rule: string, key: string, at: number): void => {
      states.delete(id(rule, key));
      closed.set(id(rule, key), at);
    },
    purgeClosed: (before: number): boolean => {
      let purged = false;
      for (const [k, at] of closed) {
        if (at < before) {
          closed.delete(k);
          purged = true;
        }
      }
      return purged;
    },
    get: (rule: string, key: string): KeyState | undefined => states.get(id(rule, key)),
    closedAt: (rule: string, key: string): number | undefined => closed.get(id(rule, key)),
    size: () => ({ open: states.size, closed: closed.size }),
  };
}

const rules = ["workorder-started", "qualityhold-closed"] as const;
const keys = ["a", "b", "c", "d"] as const;
const ref = fc.record({ rule: fc.constantFrom(...rules), key: fc.constantFrom(...keys) });
const op = fc.oneof(
  ref.map((r) => ({ op: "put" as const, ...r })),
  ref.map((r) => ({ op: "drop" as const, ...r })),
  fc.tuple(ref, fc.integer({ min: 0, max: 20 })).map(([r, at]) => ({ op: "close" as const, ...r, at })),
  fc.integer({ min: 0, max: 22 }).map((before) => ({ op: "purge" as const, before })),
);

describe("slot table", () => {
  it("keeps open keys and tombstones as the nested Maps did, with tombstones closed in any order, reopened and closed again", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { maxLength: 60 }), (openClearsTombstone, ops) => {
        const table = createSlotTable(undefined, openClearsTombstone);
        const expected = model(openClearsTombstone);
        ops.forEach((o, i) => {
          if (o.op === "put") {
            const state: KeyState = { rule: o.rule, key: o.key, events: [], breached: i % 2 === 0 };
            table.put(state);
            expected.put(state);
          } else if (o.op === "drop") expect(table.dropState(o.rule, o.key)).toBe(expected.dropState(o.rule, o.key));
          else if (o.op === "close") {
            table.close(o.rule, o.key, o.at);
            expected.close(o.rule, o.key, o.at);
          } else expect(table.purgeClosed(o.before)).toBe(expected.purgeClosed(o.before));
          expect(table.size()).toEqual(expected.size());
          for (const rule of rules) {
            for (const key of keys) {
              expect(table.get(rule, key)).toBe(expected.get(rule, key));
              expect(table.closedAt(rule, key)).toBe(expected.closedAt(rule, key));
              expect(table.isClosed(rule, key)).toBe(expected.closedAt(rule, key) !== undefined);
            }
          }
          expect([...table.open()].length).toBe(expected.size().open);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("purges a long run of tombstones from the queue's head, and sorts the queue once when closing times go back", () => {
    const table = createSlotTable(undefined, false);
    for (let i = 0; i < 5000; i++) table.close("workorder-started", `k${i}`, i);
    // A tombstone older than the last one (a durable store loads them in any order).
    table.close("workorder-started", "early", 10);
    expect(table.purgeClosed(2500)).toBe(true);
    expect(table.size()).toEqual({ open: 0, closed: 2500 });
    expect(table.isClosed("workorder-started", "early")).toBe(false);
    expect(table.isClosed("workorder-started", "k2499")).toBe(false);
    expect(table.isClosed("workorder-started", "k2500")).toBe(true);
    // Closed again later: the earlier queue entry is stale and purges nothing.
    table.close("workorder-started", "k2500", 9000);
    expect(table.purgeClosed(6000)).toBe(true);
    expect(table.size()).toEqual({ open: 0, closed: 1 });
    expect(table.closedAt("workorder-started", "k2500")).toBe(9000);
    expect(table.purgeClosed(9000)).toBe(false);
    expect(table.purgeClosed(9001)).toBe(true);
    expect(table.size()).toEqual({ open: 0, closed: 0 });
  });
});
