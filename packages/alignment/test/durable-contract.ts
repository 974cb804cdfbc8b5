// The contract every durable backend passes, run by durable.test.ts (memory), sqlite.test.ts
// (better-sqlite3 and node:sqlite) and postgres.test.ts against real databases.
import type { CanonicalEvent } from "@millwright/events";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { openDurableStore, type AlignmentBackend, type DurableAlignmentStore, type KeyState, type ObservedEvent } from "../src/index.js";
import { crashingRun, crashPlan, expectSameAsReference, scenarioLog, type CrashableDatabase, type CrashPlan } from "./durable-scenario.js";
import { released, started } from "./fixtures.js";

/** A fresh database of one backend kind. It rejects any row of the rule `poison` in the middle of a transaction. */
export interface HarnessDatabase extends CrashableDatabase {
  /** Writes a state row as is, past the backend (to see what `load` makes of a corrupt row). */
  writeRaw(rule: string, key: string, text: string): Promise<void>;
  dispose(): Promise<void>;
}

/** How many generated cases the properties run: fewer for a server round trip per statement. */
export interface ContractRuns {
  readonly roundTrip: number;
  readonly crash: number;
}

const observed = (id: string, minute: number, role: ObservedEvent["role"] = "trigger"): ObservedEvent => ({
  id,
  type: "dev.millwright.workorder.released.v1",
  source: "urn:millwright:sap:S4PCLNT100",
  time: new Date(Date.UTC(2026, 2, 2, 6, minute)).toISOString(),
  timeMs: Date.UTC(2026, 2, 2, 6, minute),
  role,
});

const state = (key: string, version: number, rule = "workorder-started"): KeyState => ({
  rule,
  key,
  events: Array.from({ length: version }, (_, i) => observed(`${key}-${i}`, i)),
  breached: version % 2 === 0,
});

const jsonRoundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

// Key states with fields the engine does not know yet (other packages add such fields): they
// must come back as they went in, through JSON.
const extras = fc.dictionary(
  fc.string({ maxLength: 6 }).map((k) => `x_${k}`),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);
const observedArb: fc.Arbitrary<ObservedEvent> = fc
  .record({
    id: fc.string({ minLength: 1, maxLength: 10 }),
    type: fc.constantFrom("dev.millwright.workorder.released.v1", "dev.millwright.productioncount.counted.v1"),
    source: fc.string({ maxLength: 10 }),
    timeMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    role: fc.constantFrom("trigger" as const, "fulfilment" as const, "partial" as const, "measure" as const),
    quantity: fc.option(fc.record({ value: fc.stringMatching(/^[0-9]{1,6}(\.[0-9]{1,3})?$/), unit: fc.constantFrom("H87", "KGM") }), { nil: undefined }),
    site: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
    line: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
  })
  .chain((e) =>
    extras.map((x) => {
      const { quantity, site, line, ...rest } = e;
      return {
        ...x,
        ...rest,
        time: new Date(e.timeMs).toISOString(),
        ...(quantity === undefined ? {} : { quantity }),
        ...(site === undefined ? {} : { site }),
        ...(line === undefined ? {} : { line }),
      };
    }),
  );
const stateArb = (prefix: string): fc.Arbitrary<KeyState> =>
  fc
    .record({
      rule: fc.constantFrom("workorder-started", "qualityhold-closed", "a custom rule ü"),
      key: fc.string({ minLength: 1, maxLength: 12 }).map((k) => `${prefix}${k}`),
      events: fc.array(observedArb, { maxLength: 4 }),
      breached: fc.boolean(),
      site: fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
      line: fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
      // A field of a shape no one has added yet.
      nested: fc.option(fc.record({ id: fc.string({ maxLength: 6 }), at: fc.array(fc.integer(), { maxLength: 2 }) }), { nil: undefined }),
    })
    .chain((s) =>
      extras.map((x) => {
        const { site, line, nested, ...rest } = s;
        return { ...x, ...rest, ...(site === undefined ? {} : { site }), ...(line === undefined ? {} : { line }), ...(nested === undefined ? {} : { x_nested: nested }) };
      }),
    );
const closedAtArb = fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.double({ min: 1, max: 4_102_444_800_000, noNaN: true }));

/**
 * Hand-made cases the crash property runs first, one per kind of crash: an order started on time
 * (its key closes at the first evaluation) and one still waiting, evaluated and flushed after
 * the three events. The tape is read one number per event and one per boundary.
 */
function crashExamples(): [readonly CanonicalEvent[], CrashPlan][] {
  const log = [released("3100000", 0), started("3100000", 10), released("3100001", 5)];
  const plan = (tape: number[]): CrashPlan => ({ every: 3, tape, maxCrashes: 1 });
  return [
    [log, plan([50, 0])], // crash while ingesting the second event
    [log, plan([50, 50, 50, 5])], // crash after evaluating, before the flush
    [log, plan([50, 50, 50, 10])], // the flush fails half-way
    [log, plan([50, 50, 50, 20])], // crash after the flush, before the ack: the redelivered events are late for 3100000, duplicates for 3100001
  ];
}

/**
 * Runs the durable-store contract against one kind of backend.
 *
 * @param name - the backend's name in the report
 * @param fresh - creates a fresh, empty database
 * @param runs - how many generated cases each property runs
 */
export function describeDurableContract(name: string, fresh: () => Promise<HarnessDatabase>, runs: ContractRuns): void {
  describe(`durable store contract: ${name}`, () => {
    const databases: HarnessDatabase[] = [];
    const backends: AlignmentBackend[] = [];
    const freshDatabase = async (): Promise<HarnessDatabase> => {
      const db = await fresh();
      databases.push(db);
      return db;
    };
    const reopen = async (db: HarnessDatabase): Promise<DurableAlignmentStore> => {
      const backend = await db.open();
      backends.push(backend);
      const opened = await openDurableStore(backend);
      if (opened.isErr()) throw new Error(`open failed: ${opened.error.message}`);
      return opened.value;
    };
    afterEach(async () => {
      for (const b of backends.splice(0)) await b.close();
      for (const db of databases.splice(0)) await db.dispose();
    });

    it("loads a fresh database as empty, and a flush with nothing to write writes nothing", async () => {
      const store = await reopen(await freshDatabase());
      expect(store.size()).toEqual({ open: 0, closed: 0 });
      expect([...store.open()]).toEqual([]);
      expect(store.pending()).toBe(0);
      expect((await store.flush())._unsafeUnwrap()).toEqual({ written: 0 });
    });

    it("round-trips key states with fields it does not know, and tombstones with their times", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(stateArb("s:"), { selector: (s) => `${s.rule}\u0000${s.key}`, maxLength: 8 }),
          fc.uniqueArray(fc.record({ rule: fc.constantFrom("workorder-started", "qualityhold-closed"), key: fc.string({ maxLength: 8 }).map((k) => `t:${k}`), closedAtMs: closedAtArb }), {
            selector: (t) => `${t.rule}\u0000${t.key}`,
            maxLength: 6,
          }),
          async (states, tombstones) => {
            const db = await freshDatabase();
            const store = await reopen(db);
            for (const s of states) store.put(s);
            for (const t of tombstones) store.close(t.rule, t.key, t.closedAtMs);
            expect(store.pending()).toBe(states.length + tombstones.length);
            expect((await store.flush())._unsafeUnwrap()).toEqual({ written: states.length + tombstones.length });
            expect(store.pending()).toBe(0);

            const again = await reopen(db);
            expect(again.size()).toEqual({ open: states.length, closed: tombstones.length });
            for (const s of states) expect(again.get(s.rule, s.key)).toEqual(jsonRoundTrip(s));
            for (const t of tombstones) expect(again.isClosed(t.rule, t.key)).toBe(true);
            const backend = await db.open();
            backends.push(backend);
            const snapshot = (await backend.load())._unsafeUnwrap();
            const order = (a: { rule: string; key: string }, b: { rule: string; key: string }): number => (a.rule + "\u0000" + a.key < b.rule + "\u0000" + b.key ? -1 : 1);
            expect([...snapshot.tombstones].sort(order)).toEqual([...tombstones].sort(order));
          },
        ),
        { numRuns: runs.roundTrip },
      );
    }, 120_000);

    it("round-trips keys in any script, quotes and backslashes included", async () => {
      const db = await freshDatabase();
      const store = await reopen(db);
      const keys = ["Grüße 🏭", 'say "hi"', "back\\slash", "'; DROP TABLE x; --", "多言語", " lead and trail "];
      for (const k of keys) store.put(state(k, 1));
      store.close("qualityhold-closed", "Ünïcödé 🔒", 7);
      (await store.flush())._unsafeUnwrap();
      const again = await reopen(db);
      for (const k of keys) expect(again.get("workorder-started", k)).toEqual(state(k, 1));
      expect(again.isClosed("qualityhold-closed", "Ünïcödé 🔒")).toBe(true);
    });

    it("loads a state whose key has a lone surrogate or a NUL, which a key column may not hold exactly", async () => {
      const db = await freshDatabase();
      const store = await reopen(db);
      const keys = ["lone \ud800 surrogate", "nul \u0000 inside"];
      for (const k of keys) store.put(state(k, 1));
      store.close("workorder-started", "closed \u0000 nul", 5);
      (await store.flush())._unsafeUnwrap();
      const again = await reopen(db);
      for (const k of keys) expect(again.get("workorder-started", k)).toEqual(state(k, 1));
      expect(again.size()).toEqual({ open: 2, closed: 1 });
    });

    it("coalesces changes per key: the last write wins, a put reopens a closed key", async () => {
      const db = await freshDatabase();
      const store = await reopen(db);
      store.put(state("a", 1));
      store.put(state("a", 2));
      store.put(state("b", 1));
      store.close("workorder-started", "b", 100);
      store.close("workorder-started", "c", 50);
      store.put(state("c", 3));
      store.put(state("d", 1));
      store.drop("workorder-started", "d");
      expect(store.pending()).toBe(4);
      expect((await store.flush())._unsafeUnwrap()).toEqual({ written: 4 });

      const second = await reopen(db);
      expect(second.get("workorder-started", "a")).toEqual(state("a", 2));
      expect(second.get("workorder-started", "b")).toBeUndefined();
      expect(second.isClosed("workorder-started", "b")).toBe(true);
      expect(second.get("workorder-started", "c")).toEqual(state("c", 3));
      expect(second.isClosed("workorder-started", "c")).toBe(false);
      expect(second.get("workorder-started", "d")).toBeUndefined();
      expect(second.isClosed("workorder-started", "d")).toBe(false);
      expect(second.size()).toEqual({ open: 2, closed: 1 });

      // Over stored rows: a reopened stored tombstone that is then dropped leaves neither row;
      // a drop after a close keeps the tombstone; a drop of a key that is not open changes nothing.
      second.close("workorder-started", "a", 200);
      second.put(state("a", 3));
      second.put(state("b", 2));
      second.drop("workorder-started", "b");
      second.close("workorder-started", "c", 300);
      second.drop("workorder-started", "c");
      second.drop("workorder-started", "nobody");
      expect(second.pending()).toBe(3);
      (await second.flush())._unsafeUnwrap();

      const third = await reopen(db);
      expect(third.get("workorder-started", "a")).toEqual(state("a", 3));
      expect(third.isClosed("workorder-started", "a")).toBe(false);
      expect(third.get("workorder-started", "b")).toBeUndefined();
      expect(third.isClosed("workorder-started", "b")).toBe(false);
      expect(third.isClosed("workorder-started", "c")).toBe(true);
      expect(third.size()).toEqual({ open: 1, closed: 1 });
    });

    it("closes a key, reopens it and closes it again across flushes", async () => {
      const db = await freshDatabase();
      const store = await reopen(db);
      store.put(state("k", 1));
      (await store.flush())._unsafeUnwrap();
      store.close("workorder-started", "k", 10);
      (await store.flush())._unsafeUnwrap();
      const closed = await reopen(db);
      expect(closed.isClosed("workorder-started", "k")).toBe(true);
      expect(closed.get("workorder-started", "k")).toBeUndefined();

      closed.put(state("k", 2));
      (await closed.flush())._unsafeUnwrap();
      const reopened = await reopen(db);
      expect(reopened.isClosed("workorder-started", "k")).toBe(false);
      expect(reopened.get("workorder-started", "k")).toEqual(state("k", 2));

      reopened.close("workorder-started", "k", 20);
      (await reopened.flush())._unsafeUnwrap();
      const backend = await db.open();
      backends.push(backend);
      expect((await backend.load())._unsafeUnwrap()).toEqual({ states: [], tombstones: [{ rule: "workorder-started", key: "k", closedAtMs: 20 }] });
    });

    it("purges tombstones closed before a time and keeps those closed after the purge in the same batch", async () => {
      const db = await freshDatabase();
      const store = await reopen(db);
      store.close("workorder-started", "a", 1);
      store.close("workorder-started", "b", 2);
      store.close("qualityhold-closed", "c", 3);
      (await store.flush())._unsafeUnwrap();
      store.purgeClosed(3);
      expect(store.size()).toEqual({ open: 0, closed: 1 });
      (await store.flush())._unsafeUnwrap();
      const purged = await reopen(db);
      expect(["a", "b"].map((k) => purged.isClosed("workorder-started", k))).toEqual([false, false]);
      expect(purged.isClosed("qualityhold-closed", "c")).toBe(true);

      purged.close("workorder-started", "d", 5);
      purged.purgeClosed(10);
      purged.close("workorder-started", "e", 7);
      expect(purged.size()).toEqual({ open: 0, closed: 1 });
      (await purged.flush())._unsafeUnwrap();
      const last = await reopen(db);
      expect(last.isClosed("qualityhold-closed", "c")).toBe(false);
      expect(last.isClosed("workorder-started", "d")).toBe(false);
      expect(last.isClosed("workorder-started", "e")).toBe(true);
      expect(last.size()).toEqual({ open: 0, closed: 1 });
    });

    it("a flush that fails in the middle writes nothing and keeps its changes pending", async () => {
      const db = await freshDatabase();
      const store = await reopen(db);
      store.put(state("a", 1));
      store.close("workorder-started", "b", 5);
      store.put(state("c", 1));
      (await store.flush())._unsafeUnwrap();

      // The poisoned state is the batch's last upsert: the others are written before it fails.
      store.put(state("a", 2));
      store.close("workorder-started", "c", 9);
      store.purgeClosed(6);
      store.put(state("d", 1));
      store.put(state("x", 1, "poison"));
      const failed = await store.flush();
      expect(failed.isErr() && failed.error.code).toBe("store_failed");
      expect(store.pending()).toBe(4);
      const before = await reopen(db);
      expect(before.get("workorder-started", "a")).toEqual(state("a", 1));
      expect(before.isClosed("workorder-started", "b")).toBe(true);
      expect(before.get("workorder-started", "c")).toEqual(state("c", 1));
      expect(before.get("workorder-started", "d")).toBeUndefined();
      expect(before.size()).toEqual({ open: 2, closed: 1 });

      // The same changes, less the poison, go through on the next flush.
      store.drop("poison", "x");
      expect((await store.flush())._unsafeUnwrap()).toEqual({ written: 4 });
      const after = await reopen(db);
      expect(after.get("workorder-started", "a")).toEqual(state("a", 2));
      expect(after.isClosed("workorder-started", "b")).toBe(false);
      expect(after.isClosed("workorder-started", "c")).toBe(true);
      expect(after.get("workorder-started", "d")).toEqual(state("d", 1));

      // A poisoned tombstone fails the batch after its state upserts were written.
      store.put(state("e", 1));
      store.close("poison", "y", 1);
      expect((await store.flush()).isErr()).toBe(true);
      expect((await reopen(db)).get("workorder-started", "e")).toBeUndefined();
    });

    it("runs flushes one after another; what changes during a flush goes in the next", async () => {
      const db = await freshDatabase();
      const store = await reopen(db);
      store.put(state("a", 1));
      const first = store.flush();
      store.put(state("a", 2));
      store.put(state("b", 1));
      const second = store.flush();
      expect((await first)._unsafeUnwrap().written).toBeGreaterThanOrEqual(1);
      expect((await second).isOk()).toBe(true);
      expect(store.pending()).toBe(0);
      const again = await reopen(db);
      expect(again.get("workorder-started", "a")).toEqual(state("a", 2));
      expect(again.get("workorder-started", "b")).toEqual(state("b", 1));
    });

    it("refuses work once closed: load, apply and flush say store_closed", async () => {
      const db = await freshDatabase();
      const backend = await db.open();
      const store = (await openDurableStore(backend))._unsafeUnwrap();
      await backend.close();
      store.put(state("a", 1));
      const flushed = await store.flush();
      expect(flushed.isErr() && flushed.error.code).toBe("store_closed");
      expect(store.pending()).toBe(1);
      const loaded = await openDurableStore(backend);
      expect(loaded.isErr() && loaded.error.code).toBe("store_closed");
      const applied = await backend.apply({ upserts: [], closes: [], drops: [] });
      expect(applied.isErr() && applied.error.code).toBe("store_closed");
      await db.crash(backend);
    });

    it("refuses to load a stored row that is not a key state, naming the rule and key", async () => {
      const db = await freshDatabase();
      const store = await reopen(db);
      store.put(state("fine", 1));
      (await store.flush())._unsafeUnwrap();
      await db.writeRaw("workorder-started", "broken", JSON.stringify({ rule: "workorder-started", key: "broken", events: [{ id: "x" }], breached: false }));
      const backend = await db.open();
      backends.push(backend);
      const loaded = await openDurableStore(backend);
      expect(loaded.isErr()).toBe(true);
      const error = loaded._unsafeUnwrapErr();
      expect(error).toMatchObject({ code: "state_corrupt", rule: "workorder-started", key: "broken" });
      expect(error.message).toContain("has no valid `events`");

      await db.writeRaw("workorder-started", "broken", JSON.stringify(state("another", 1)));
      const other = await db.open();
      backends.push(other);
      const mismatch = (await openDurableStore(other))._unsafeUnwrapErr();
      expect(mismatch.message).toContain('names another key ("workorder-started", "another")');
    });

    it("gives the findings of an uninterrupted run when it crashes anywhere and the broker redelivers", async () => {
      const seen = { ingest: 0, "crash-before-flush": 0, "flush-fails": 0, "crash-after-flush": 0, duplicates: 0, late: 0 };
      await fc.assert(
        fc.asyncProperty(scenarioLog, crashPlan, async (log, plan) => {
          const db = await freshDatabase();
          const outcome = await crashingRun(db, log, plan);
          await expectSameAsReference(db, log, plan, outcome);
          for (const [k, n] of Object.entries(outcome.crashes)) seen[k as keyof typeof seen] += n;
          seen.duplicates += outcome.absorbed.duplicates;
          seen.late += outcome.absorbed.late;
          await db.dispose();
          databases.splice(databases.indexOf(db), 1);
        }),
        { numRuns: runs.crash, examples: crashExamples() },
      );
      // Not vacuous: every kind of crash happened, and redelivered events were absorbed both as
      // duplicates of open keys and by the tombstones of closed ones (the examples make sure).
      for (const [kind, n] of Object.entries(seen)) expect(n, kind).toBeGreaterThan(0);
    }, 300_000);
  });
}
