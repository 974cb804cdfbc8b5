// An in-memory AlignmentBackend for the tests: it keeps states as JSON text (so it exercises the
// same serialization as the SQL backends) and, like the test databases, rejects the rule
// `poison` in the middle of a batch, leaving nothing of that batch behind.
import { err, ok } from "neverthrow";
import { parseKeyState, serializeKeyState } from "../src/durable.js";
import type { AlignmentBackend, AlignmentStoreError, KeyState, Tombstone } from "../src/index.js";

/** The "database" a memory backend writes to; it outlives the backends opened over it. */
export interface MemoryDatabase {
  states: Map<string, { rule: string; key: string; text: string }>;
  tombstones: Map<string, Tombstone>;
}

export function createMemoryDatabase(): MemoryDatabase {
  return { states: new Map(), tombstones: new Map() };
}

const id = (rule: string, key: string): string => JSON.stringify([rule, key]);

/**
 * A backend over a memory database.
 *
 * @param db - the database
 * @returns the backend
 */
export function createMemoryBackend(db: MemoryDatabase): AlignmentBackend {
  let closed = false;
  const refused = (operation: string): AlignmentStoreError => ({ code: "store_closed", operation, message: `${operation} refused: the backend is closed` });
  return {
    load: async () => {
      if (closed) return err(refused("memory.load"));
      const states: KeyState[] = [];
      for (const { rule, key, text } of db.states.values()) {
        const parsed = parseKeyState({ operation: "memory.load", rule, key, text });
        if (parsed.isErr()) return err(parsed.error);
        states.push(parsed.value);
      }
      return ok({ states, tombstones: [...db.tombstones.values()] });
    },
    apply: async (changes) => {
      if (closed) return err(refused("memory.apply"));
      // Work on copies and swap at the end: all or nothing.
      const states = new Map(db.states);
      const tombstones = new Map(db.tombstones);
      const poison = (rule: string): void => {
        if (rule === "poison") throw new Error("the rule poison is rejected");
      };
      try {
        if (changes.purgeBeforeMs !== undefined) {
          for (const [k, t] of tombstones) if (t.closedAtMs < changes.purgeBeforeMs) tombstones.delete(k);
        }
        for (const state of changes.upserts) {
          poison(state.rule);
          states.set(id(state.rule, state.key), { rule: state.rule, key: state.key, text: serializeKeyState(state) });
          tombstones.delete(id(state.rule, state.key));
        }
        for (const t of changes.closes) {
          states.delete(id(t.rule, t.key));
          poison(t.rule);
          tombstones.set(id(t.rule, t.key), { rule: t.rule, key: t.key, closedAtMs: t.closedAtMs });
        }
        for (const { rule, key } of changes.drops) {
          states.delete(id(rule, key));
          tombstones.delete(id(rule, key));
        }
      } catch (cause) {
        return err({ code: "store_failed", operation: "memory.apply", message: `memory.apply failed: ${String(cause)}`, cause });
      }
      db.states = states;
      db.tombstones = tombstones;
      return ok(undefined);
    },
    close: async () => void (closed = true),
  };
}
