// The one contract every workflow store passes: run by test/stores.test.ts for memory and SQLite,
// and by the PostgreSQL store's tests.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { instanceIdOf } from "../src/ids.js";
import type { Lease, NewInstance, WorkflowStore } from "../src/store.js";

/** A store under test and how to release it. */
export interface StoreUnderTest {
  readonly store: WorkflowStore;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 11, 7, 6, 0, 0);

function newInstance(key: string, now = T0, overrides: Partial<NewInstance> = {}): NewInstance {
  return {
    id: instanceIdOf("conformance", key),
    workflow: "conformance",
    version: 1,
    key,
    input: { key, list: [1, 2, { deep: true }] },
    deadlineAt: null,
    now,
    ...overrides,
  };
}

/**
 * Runs the workflow store contract against a store.
 *
 * @param name - the store's name, shown in the test titles
 * @param makeStore - makes an empty store for each test, and how to close it
 * @returns nothing; declares a `describe` block
 * @example
 * describeStoreConformance("memory", async () => ({ store: createMemoryWorkflowStore(), close: async () => {} }));
 */
export function describeStoreConformance(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`workflow store conformance: ${name}`, () => {
    let under: StoreUnderTest;
    let store: WorkflowStore;
    beforeEach(async () => {
      under = await makeStore();
      store = under.store;
    });
    afterEach(async () => {
      await under.close();
    });

    async function claimOne(workerId: string, now: number, leaseMs = 30_000): Promise<Lease> {
      const claims = await store.claimDue({ workerId, now, leaseMs, limit: 10 });
      expect(claims).toHaveLength(1);
      return claims[0]!.lease;
    }

    it("creates one instance per id, with its started entry, due at once", async () => {
      const first = await store.createInstance(newInstance("a", T0, { trace: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } }));
      expect(first.created).toBe(true);
      expect(first.instance).toMatchObject({ state: "running", wakeAt: T0, leaseOwner: null, leaseToken: 0, version: 1, key: "a", createdAt: T0 });
      expect(first.instance.trace?.traceparent).toMatch(/^00-/);
      const second = await store.createInstance(newInstance("a", T0 + 5, { version: 2, input: "other" }));
      expect(second.created).toBe(false);
      expect(second.instance).toMatchObject({ version: 1, input: { key: "a" } });
      const snapshot = await store.load(first.instance.id);
      expect(snapshot?.history).toEqual([expect.objectContaining({ seq: 1, type: "started", version: 1, at: T0, input: { key: "a", list: [1, 2, { deep: true }] } })]);
      expect(await store.load("00000000-0000-5000-8000-000000000000")).toBeUndefined();
    });

    it("claims only due instances, oldest wake time first, up to the limit, and never one leased by a live worker", async () => {
      await store.createInstance(newInstance("late", T0 + 3000));
      await store.createInstance(newInstance("early", T0 + 1000));
      await store.createInstance(newInstance("middle", T0 + 2000));
      expect(await store.claimDue({ workerId: "w1", now: T0, leaseMs: 1000, limit: 10 })).toEqual([]);
      const claims = await store.claimDue({ workerId: "w1", now: T0 + 5000, leaseMs: 1000, limit: 2 });
      expect(claims.map((c) => c.instance.key)).toEqual(["early", "middle"]);
      expect(claims[0]!.lease).toEqual({ instanceId: instanceIdOf("conformance", "early"), workerId: "w1", token: 1, until: T0 + 6000 });
      expect(claims[0]!.instance).toMatchObject({ leaseOwner: "w1", leaseUntil: T0 + 6000, leaseToken: 1 });
      // Leased ones are not handed to another worker while the lease lives.
      const other = await store.claimDue({ workerId: "w2", now: T0 + 5500, leaseMs: 1000, limit: 10 });
      expect(other.map((c) => c.instance.key)).toEqual(["late"]);
      expect(await store.claimDue({ workerId: "w3", now: T0 + 5999, leaseMs: 1000, limit: 10 })).toEqual([]);
    });

    it("hands a dead worker's instance to another once the lease expires, and fences the old lease", async () => {
      await store.createInstance(newInstance("a"));
      const dead = await claimOne("w1", T0, 1000);
      const alive = await claimOne("w2", T0 + 1000, 1000);
      expect(alive.token).toBe(dead.token + 1);
      const stale = await store.appendHistory(dead, [{ type: "step-started", at: T0 + 1001, step: "s", attempt: 1 }], { state: "completed" }, T0 + 1001);
      expect(stale).toEqual({ ok: false, code: "lease_lost", owner: "w2" });
      expect(await store.renewLease(dead, T0 + 1001, 1000)).toBeUndefined();
      const snapshot = await store.load(alive.instanceId);
      expect(snapshot?.history.map((e) => e.type)).toEqual(["started"]);
      expect(snapshot?.instance.state).toBe("running");
      // The same worker id claiming again gets a new token: a write with its old lease is fenced too.
      const again = await store.claimDue({ workerId: "w2", now: T0 + 5000, leaseMs: 1000, limit: 1 });
      expect(again[0]?.lease.token).toBe(alive.token + 1);
      expect((await store.appendHistory(alive, [], {}, T0 + 5001)).ok).toBe(false);
    });

    it("creates an instance already leased when asked: its writes go through with that lease, no claim takes it before the lease ends, and a recovery after then is fenced from it", async () => {
      const created = await store.createInstance(newInstance("leased", T0, { lease: { workerId: "starter", until: T0 + 1000 } }));
      expect(created.created).toBe(true);
      expect(created.lease).toEqual({ instanceId: instanceIdOf("conformance", "leased"), workerId: "starter", token: 1, until: T0 + 1000 });
      expect(created.instance).toMatchObject({ state: "running", wakeAt: T0, leaseOwner: "starter", leaseUntil: T0 + 1000, leaseToken: 1 });
      expect(await store.claimDue({ workerId: "w2", now: T0 + 999, leaseMs: 1000, limit: 10 })).toEqual([]);
      const lease = created.lease!;
      expect(await store.appendHistory(lease, [{ type: "step-started", at: T0 + 1, step: "s", attempt: 1 }], { state: "running" }, T0 + 1)).toEqual({ ok: true, lastSeq: 2 });
      // The starter died: its lease ends, another worker recovers the instance and fences it.
      const [recovered] = await store.claimDue({ workerId: "w2", now: T0 + 1000, leaseMs: 1000, limit: 10 });
      expect(recovered?.lease.token).toBe(2);
      expect(recovered?.recovered).toBe(true);
      expect(await store.appendHistory(lease, [], { state: "running" }, T0 + 1001)).toEqual({ ok: false, code: "lease_lost", owner: "w2" });
      // An existing instance is returned as it is, with no lease.
      const again = await store.createInstance(newInstance("leased", T0 + 2000, { lease: { workerId: "starter", until: T0 + 3000 } }));
      expect(again.created).toBe(false);
      expect(again.lease).toBeUndefined();
      expect(again.instance.leaseOwner).toBe("w2");
    });

    it("never gives one instance to two concurrent claims", async () => {
      for (let i = 0; i < 30; i++) await store.createInstance(newInstance(`k${i}`));
      const batches = await Promise.all(["w1", "w2", "w3", "w4"].map((workerId) => store.claimDue({ workerId, now: T0 + 1, leaseMs: 10_000, limit: 10 })));
      const ids = batches.flat().map((c) => c.instance.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(30);
    });

    it("appends gapless history with the instance update in one fenced write, and renews leases", async () => {
      const { instance } = await store.createInstance(newInstance("a"));
      const lease = await claimOne("w1", T0, 1000);
      const renewed = await store.renewLease(lease, T0 + 500, 1000);
      expect(renewed).toEqual({ ...lease, until: T0 + 1500 });
      // Still not claimable: the renewed lease lives until T0 + 1500.
      expect(await store.claimDue({ workerId: "w2", now: T0 + 1200, leaseMs: 1000, limit: 1 })).toEqual([]);
      const outcome = await store.appendHistory(
        lease,
        [
          { type: "step-started", at: T0 + 10, step: "one", attempt: 1 },
          { type: "step-completed", at: T0 + 20, step: "one", attempt: 1, result: { n: 1 }, durationMs: 10 },
          { type: "wait-started", at: T0 + 20, wait: "sleep-1", kind: "sleep", dueAt: T0 + 60_000 },
        ],
        { state: "waiting", wakeAt: T0 + 60_000, waitingFor: ["dev.millwright.qualityhold.released.v1"], release: true },
        T0 + 20,
      );
      expect(outcome).toEqual({ ok: true, lastSeq: 4 });
      const snapshot = await store.load(instance.id);
      expect(snapshot?.history.map((e) => [e.seq, e.type])).toEqual([
        [1, "started"],
        [2, "step-started"],
        [3, "step-completed"],
        [4, "wait-started"],
      ]);
      expect(snapshot?.history[2]).toMatchObject({ result: { n: 1 }, durationMs: 10 });
      expect(snapshot?.instance).toMatchObject({ state: "waiting", wakeAt: T0 + 60_000, waitingFor: ["dev.millwright.qualityhold.released.v1"], leaseOwner: null, leaseUntil: 0, updatedAt: T0 + 20 });
      // A released lease cannot write any more.
      expect((await store.appendHistory(lease, [], { state: "running" }, T0 + 30)).ok).toBe(false);
      // The timer is a due time: nothing before it, the instance at it.
      expect(await store.claimDue({ workerId: "w2", now: T0 + 59_999, leaseMs: 1000, limit: 1 })).toEqual([]);
      const next = await claimOne("w2", T0 + 60_000);
      const done = await store.appendHistory(next, [{ type: "completed", at: T0 + 60_001, output: ["x"] }], { state: "completed", wakeAt: null, waitingFor: [], output: ["x"], release: true }, T0 + 60_001);
      expect(done).toEqual({ ok: true, lastSeq: 5 });
      const final = await store.load(instance.id);
      expect(final?.instance).toMatchObject({ state: "completed", output: ["x"], wakeAt: null, waitingFor: [] });
      expect(await store.claimDue({ workerId: "w3", now: T0 + 10_000_000, leaseMs: 1000, limit: 10 })).toEqual([]);
    });

    it("keeps signals per instance until consumed, wakes the instance, and refuses finished ones", async () => {
      const { instance } = await store.createInstance(newInstance("a"));
      expect(await store.deliverSignal({ instanceId: instanceIdOf("conformance", "nope"), name: "approval", payload: null }, T0)).toBe("not_found");
      const lease = await claimOne("w1", T0);
      await store.appendHistory(lease, [], { state: "waiting", wakeAt: null, release: true }, T0 + 1);
      expect(await store.claimDue({ workerId: "w1", now: T0 + 100, leaseMs: 1000, limit: 1 })).toEqual([]);
      expect(await store.deliverSignal({ instanceId: instance.id, name: "approval", payload: { decision: "approve", by: "ana" } }, T0 + 200)).toBe("delivered");
      expect(await store.deliverSignal({ instanceId: instance.id, name: "other", payload: 2 }, T0 + 300)).toBe("delivered");
      const snapshot = await store.load(instance.id);
      expect(snapshot?.instance.wakeAt).toBe(T0 + 200);
      expect(snapshot?.signals.map((s) => [s.name, s.payload, s.deliveredAt])).toEqual([
        ["approval", { decision: "approve", by: "ana" }, T0 + 200],
        ["other", 2, T0 + 300],
      ]);
      expect(snapshot!.signals[0]!.seq).toBeLessThan(snapshot!.signals[1]!.seq);
      const next = await claimOne("w2", T0 + 300);
      await store.appendHistory(next, [], { consumedSignals: [snapshot!.signals[0]!.seq], state: "failed", wakeAt: null, failure: { code: "permanent", message: "m" }, release: true }, T0 + 301);
      const after = await store.load(instance.id);
      expect(after?.signals.map((s) => s.name)).toEqual(["other"]);
      expect(after?.instance.failure).toEqual({ code: "permanent", message: "m" });
      // A failed instance takes only $retry, which makes it due.
      expect(await store.deliverSignal({ instanceId: instance.id, name: "approval", payload: null }, T0 + 400)).toBe("finished");
      expect(await store.deliverSignal({ instanceId: instance.id, name: "$retry", payload: null }, T0 + 400)).toBe("delivered");
      const retried = await claimOne("w3", T0 + 400);
      await store.appendHistory(retried, [], { state: "completed", wakeAt: null, failure: null, release: true }, T0 + 401);
      expect((await store.load(instance.id))?.instance.failure).toBeUndefined();
      expect(await store.deliverSignal({ instanceId: instance.id, name: "$retry", payload: null }, T0 + 500)).toBe("finished");
    });

    it("keeps a wake that arrives while a worker holds the lease when the worker writes its next due time", async () => {
      const { instance } = await store.createInstance(newInstance("a"));
      const lease = await claimOne("w1", T0);
      expect((await store.load(instance.id))?.instance.wokenAt).toBeNull();
      await store.appendHistory(lease, [], { state: "waiting", waitingFor: ["dev.millwright.batch.created.v1"] }, T0 + 1);
      // Arrives after the worker looked, before it released: without wokenAt the wake would be lost.
      await store.deliverEvent({ source: "urn:test", id: "e1", type: "dev.millwright.batch.created.v1", event: { id: "e1" } }, T0 + 2);
      await store.deliverSignal({ instanceId: instance.id, name: "approval", payload: null }, T0 + 3);
      expect((await store.load(instance.id))?.instance.wokenAt).toBe(T0 + 2);
      await store.appendHistory(lease, [], { state: "waiting", wakeAt: T0 + 60_000, release: true }, T0 + 4);
      expect((await store.load(instance.id))?.instance.wakeAt).toBe(T0 + 2);
      const next = await claimOne("w2", T0 + 5);
      expect((await store.load(instance.id))?.instance.wokenAt).toBeNull();
      await store.appendHistory(next, [], { state: "waiting", wakeAt: null, release: true }, T0 + 6);
      expect((await store.load(instance.id))?.instance.wakeAt).toBeNull();
      // A finished instance is not kept due by an earlier wake.
      await store.deliverSignal({ instanceId: instance.id, name: "approval", payload: null }, T0 + 7);
      const last = await claimOne("w3", T0 + 8);
      await store.deliverSignal({ instanceId: instance.id, name: "approval", payload: null }, T0 + 9);
      await store.appendHistory(last, [], { state: "completed", wakeAt: null, release: true }, T0 + 10);
      expect((await store.load(instance.id))?.instance).toMatchObject({ state: "completed", wakeAt: null });
    });

    it("leaves an instance due when an event of a waited-for type arrived after the run read the events and before it suspended", async () => {
      const type = "dev.millwright.materialmovement.posted.v1";
      const event = (id: string, t: string) => ({ source: "urn:test", id, type: t, event: { id } });
      const { instance } = await store.createInstance(newInstance("gap"));
      const lease = await claimOne("w1", T0);
      await store.deliverEvent(event("old", type), T0 + 1);
      const read = await store.eventsFor(instance.id, type); // the run looks: one event, not a match
      const seenSeq = Math.max(...read.map((e) => e.seq));
      // Arrives now: no wait row routes it here yet, and the lease is held.
      expect(await store.deliverEvent(event("new", type), T0 + 2)).toEqual({ stored: true, woken: 0 });
      await store.deliverEvent(event("other-type", "dev.millwright.batch.created.v1"), T0 + 3);
      await store.appendHistory(lease, [], { state: "waiting", wakeAt: T0 + 60_000, waitingFor: [type], eventsSeen: { [type]: seenSeq }, release: true }, T0 + 4);
      expect((await store.load(instance.id))?.instance.wakeAt).toBe(T0 + 4);
      // Nothing new since the read: the timeout stays the wake time (an event of another type does not count).
      const again = await claimOne("w2", T0 + 5);
      const all = await store.eventsFor(instance.id, type);
      await store.appendHistory(again, [], { state: "waiting", wakeAt: T0 + 60_000, waitingFor: [type], eventsSeen: { [type]: Math.max(...all.map((e) => e.seq)) }, release: true }, T0 + 6);
      expect((await store.load(instance.id))?.instance.wakeAt).toBe(T0 + 60_000);
    });

    it("keeps events by type once per (source, id), wakes only instances waiting for the type, and shows each instance the events since it started", async () => {
      const event = (id: string, type: string) => ({ source: "urn:test", id, type, event: { id, type, data: { batch: "B1" } } });
      await store.deliverEvent(event("before", "dev.millwright.materialmovement.posted.v1"), T0 - 10);
      const { instance: waiting } = await store.createInstance(newInstance("waiting"));
      const { instance: other } = await store.createInstance(newInstance("other"));
      const waits: Record<string, readonly string[]> = { waiting: ["dev.millwright.materialmovement.posted.v1"], other: ["dev.millwright.batch.created.v1"] };
      const claims = await store.claimDue({ workerId: "w1", now: T0, leaseMs: 1000, limit: 5 });
      expect(claims.map((c) => c.instance.key).sort()).toEqual(["other", "waiting"]);
      for (const claim of claims) await store.appendHistory(claim.lease, [], { state: "waiting", wakeAt: null, waitingFor: waits[claim.instance.key]!, release: true }, T0);
      expect(await store.deliverEvent(event("e1", "dev.millwright.materialmovement.posted.v1"), T0 + 10)).toEqual({ stored: true, woken: 1 });
      expect(await store.deliverEvent(event("e1", "dev.millwright.materialmovement.posted.v1"), T0 + 11)).toEqual({ stored: false, woken: 0 });
      expect((await store.load(waiting.id))?.instance.wakeAt).toBe(T0 + 10);
      expect((await store.load(other.id))?.instance.wakeAt).toBeNull();
      const seen = await store.eventsFor(waiting.id, "dev.millwright.materialmovement.posted.v1");
      expect(seen.map((e) => [e.id, e.receivedAt, e.event])).toEqual([["e1", T0 + 10, { id: "e1", type: "dev.millwright.materialmovement.posted.v1", data: { batch: "B1" } }]]);
      // Another instance created later sees the event only if it came after it started.
      await store.deliverEvent(event("e2", "dev.millwright.materialmovement.posted.v1"), T0 + 20);
      const { instance: later } = await store.createInstance(newInstance("later", T0 + 15));
      expect((await store.eventsFor(later.id, "dev.millwright.materialmovement.posted.v1")).map((e) => e.id)).toEqual(["e2"]);
      expect(await store.eventsFor(other.id, "dev.millwright.batch.created.v1")).toEqual([]);
      // Pruning keeps what an unfinished instance can still see.
      expect(await store.pruneEvents(T0 + 1000)).toBe(1);
      expect((await store.eventsFor(waiting.id, "dev.millwright.materialmovement.posted.v1")).map((e) => e.id)).toEqual(["e1", "e2"]);
    });

    it("lists newest first with filters, counts by state, and keeps dead letters with their history", async () => {
      await store.createInstance(newInstance("one", T0));
      await store.createInstance(newInstance("two", T0 + 1));
      await store.createInstance(newInstance("three", T0 + 2, { workflow: "other", id: instanceIdOf("other", "three") }));
      expect((await store.list()).map((r) => r.key)).toEqual(["three", "two", "one"]);
      expect((await store.list({ workflow: "conformance" })).map((r) => r.key)).toEqual(["two", "one"]);
      expect((await store.list({ limit: 1 })).map((r) => r.key)).toEqual(["three"]);
      const [claim] = await store.claimDue({ workerId: "w1", now: T0 + 5, leaseMs: 1000, limit: 1 });
      const history = (await store.load(claim!.lease.instanceId))!.history;
      const letter = {
        instanceId: claim!.instance.id,
        workflow: claim!.instance.workflow,
        version: 1,
        key: claim!.instance.key,
        step: "block",
        error: { code: "permanent", message: "refused" },
        history,
        at: T0 + 6,
      };
      await store.appendHistory(claim!.lease, [{ type: "failed", at: T0 + 6, step: "block", error: letter.error }], { state: "failed", wakeAt: null, deadLetter: letter, release: true }, T0 + 6);
      expect(await store.countByState()).toEqual({ running: 2, failed: 1 });
      expect((await store.list({ state: "failed" })).map((r) => r.key)).toEqual(["one"]);
      expect(await store.deadLetters()).toEqual([letter]);
      await store.deliverSignal({ instanceId: claim!.instance.id, name: "$retry", payload: null }, T0 + 7);
      const again = (await store.claimDue({ workerId: "w1", now: T0 + 7, leaseMs: 1000, limit: 10 })).find((c) => c.instance.key === "one");
      expect(again?.instance.state).toBe("failed");
      await store.appendHistory(again!.lease, [{ type: "retried", at: T0 + 8 }], { state: "compensating", deadLetter: null }, T0 + 8);
      expect(await store.deadLetters()).toEqual([]);
    });

    it("keeps 2,000 waiting instances as rows and claims only the due ones", async () => {
      for (let i = 0; i < 2000; i++) await store.createInstance(newInstance(`w${i}`, T0));
      for (;;) {
        const claims = await store.claimDue({ workerId: "w1", now: T0, leaseMs: 1000, limit: 500 });
        if (claims.length === 0) break;
        for (const { lease, instance } of claims) {
          const n = Number(instance.key.slice(1));
          await store.appendHistory(lease, [], { state: "waiting", wakeAt: T0 + 3_600_000 + n, release: true }, T0);
        }
      }
      const due = await store.claimDue({ workerId: "w2", now: T0 + 3_600_000 + 9, leaseMs: 1000, limit: 100 });
      expect(due.map((c) => c.instance.key)).toEqual(["w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9"]);
      expect(await store.countByState()).toEqual({ waiting: 2000 });
    }, 60_000);
  });
}
