// The durable store over the in-memory test backend: the contract with many generated cases, and
// the store's own behaviour around its backend.
import { err } from "neverthrow";
import { describe, expect, it } from "vitest";
import { builtInRules, createEngine, createMemoryStore, openDurableStore, type AlignmentBackend, type AlignmentChanges } from "../src/index.js";
import { describeDurableContract } from "./durable-contract.js";
import { createMemoryBackend, createMemoryDatabase, type MemoryDatabase } from "./durable-memory.js";
import { completed, confirmed, counted, MINUTE, released, started, T0 } from "./fixtures.js";

describeDurableContract(
  "memory (test backend)",
  async () => {
    const db: MemoryDatabase = createMemoryDatabase();
    return {
      open: async () => createMemoryBackend(db),
      crash: async () => undefined,
      writeRaw: async (rule, key, text) => void db.states.set(JSON.stringify([rule, key]), { rule, key, text }),
      dispose: async () => undefined,
    };
  },
  { roundTrip: 100, crash: 200 },
);

describe("openDurableStore", () => {
  it("writes each key's state as of the flush, never changed by events ingested while the backend writes", async () => {
    const written: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => undefined;
    const applying = new Promise<void>((resolve) => (started = resolve));
    const inner = createMemoryBackend(createMemoryDatabase());
    const backend: AlignmentBackend = {
      load: () => inner.load(),
      apply: async (changes) => {
        const before = JSON.stringify(changes.upserts);
        started();
        await gate;
        // The batch handed over is what it was when the flush took it.
        written.push(before, JSON.stringify(changes.upserts));
        return inner.apply(changes);
      },
      close: () => inner.close(),
    };
    const store = (await openDurableStore(backend))._unsafeUnwrap();
    const engine = createEngine({ rules: builtInRules(), store });
    engine.ingest(completed("4000009", 0));
    engine.ingest(counted("4000009", "5", 1));
    const flushed = store.flush();
    await applying;
    engine.ingest(counted("4000009", "6", 2));
    engine.ingest(confirmed({ orderId: "4000009", n: 1, yieldValue: "11", isFinal: true, minutes: 3 }));
    release();
    expect((await flushed)._unsafeUnwrap()).toEqual({ written: 1 });
    expect(written[1]).toBe(written[0]);
    expect(JSON.parse(written[0] as string)[0].events).toHaveLength(2);
    expect(store.get("productionconfirmation-posted", "4000009")?.events).toHaveLength(4);
    expect(store.pending()).toBe(1);
  });

  it("gives the engine the same findings as the memory store, flushing or not", async () => {
    const log = [
      released("4000001", 0),
      started("4000001", 200),
      released("4000002", 0),
      completed("4000002", 100),
      counted("4000002", "10", 90),
      confirmed({ orderId: "4000002", n: 1, yieldValue: "9", isFinal: true, minutes: 300 }),
      released("4000003", 10),
    ];
    const rules = builtInRules({ workOrderStarted: { deadlineMs: 120 * MINUTE }, productionConfirmed: { deadlineMs: 60 * MINUTE } });
    const memory = createEngine({ rules, store: createMemoryStore() });
    const db = createMemoryDatabase();
    const durable = (await openDurableStore(createMemoryBackend(db)))._unsafeUnwrap();
    const engine = createEngine({ rules, store: durable });
    for (const e of log) {
      memory.ingest(e);
      engine.ingest(e);
    }
    const now = T0 + 600 * MINUTE;
    expect(engine.evaluate(now)).toEqual(memory.evaluate(now));
    expect(durable.pending()).toBe(4);
    (await durable.flush())._unsafeUnwrap();
    const reopened = (await openDurableStore(createMemoryBackend(db)))._unsafeUnwrap();
    expect(reopened.size()).toEqual(memory.store.size());
    // The orders never started stay open with their reported missing start; the other keys are tombstones.
    const keys = (s: Iterable<{ rule: string; key: string; breached: boolean }>) => [...s].map((x) => [x.rule, x.key, x.breached]).sort();
    expect(keys(reopened.open())).toEqual(keys(memory.store.open()));
    expect(keys(reopened.open())).toEqual([["workorder-started", "4000002", true], ["workorder-started", "4000003", true]]);
  });

  it("turns a backend that throws or rejects into store_failed, and keeps the changes pending", async () => {
    const throwing: AlignmentBackend = {
      load: async () => {
        throw new Error("connection reset");
      },
      apply: async () => err({ code: "store_failed", operation: "x", message: "x", cause: undefined }),
      close: async () => undefined,
    };
    const loaded = await openDurableStore(throwing);
    expect(loaded._unsafeUnwrapErr()).toMatchInlineSnapshot(`
      {
        "cause": [Error: connection reset],
        "code": "store_failed",
        "message": "load failed: connection reset",
        "operation": "load",
      }
    `);

    const applied: AlignmentChanges[] = [];
    let fail = true;
    const db = createMemoryDatabase();
    const inner = createMemoryBackend(db);
    const flaky: AlignmentBackend = {
      load: () => inner.load(),
      apply: (changes) => {
        applied.push(changes);
        return fail ? Promise.reject(new Error("socket hang up")) : inner.apply(changes);
      },
      close: () => inner.close(),
    };
    const store = (await openDurableStore(flaky))._unsafeUnwrap();
    store.close("workorder-started", "k", 10);
    store.purgeClosed(11);
    const failed = await store.flush();
    expect(failed._unsafeUnwrapErr().message).toBe("apply failed: socket hang up");
    expect(store.pending()).toBe(1);
    fail = false;
    expect((await store.flush())._unsafeUnwrap()).toEqual({ written: 1 });
    // The retry carries the key's current value (neither open nor closed) and the purge again.
    expect(applied[1]).toEqual({ upserts: [], closes: [], drops: [{ rule: "workorder-started", key: "k" }], purgeBeforeMs: 11 });
  });

  it("skips the backend when nothing changed, and flushes a purge that changed the working set", async () => {
    const db = createMemoryDatabase();
    const inner = createMemoryBackend(db);
    let calls = 0;
    const counting: AlignmentBackend = { load: () => inner.load(), apply: (c) => (calls++, inner.apply(c)), close: () => inner.close() };
    const store = (await openDurableStore(counting))._unsafeUnwrap();
    store.close("workorder-started", "k", 10);
    (await store.flush())._unsafeUnwrap();
    expect(calls).toBe(1);
    store.purgeClosed(5); // purges nothing
    (await store.flush())._unsafeUnwrap();
    expect(calls).toBe(1);
    store.purgeClosed(11);
    expect(store.pending()).toBe(0);
    expect((await store.flush())._unsafeUnwrap()).toEqual({ written: 0 });
    expect(calls).toBe(2);
    expect(db.tombstones.size).toBe(0);
  });
});
