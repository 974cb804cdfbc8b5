// The one contract every store passes: run by stores.test.ts against memory, SQLite, PostgreSQL and Redis.
import fc from "fast-check";
import { err, ok, type ResultAsync } from "neverthrow";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createInbox,
  systemClock,
  createOutbox,
  createOutboxRelay,
  createRetryPolicy,
  fingerprint,
  inboxKey,
  permanent,
  retryable,
  type Handler,
  type IdempotencyStore,
  type InboxOptions,
  type InboxOutcome,
  type OutboxRecord,
  IDEMPOTENCY_METRICS as M,
} from "../src/index.js";
import { manualClock, workOrderEvent } from "./fixtures.js";
import { createTestSdk } from "./metrics.js";

/** The event without its `sequence`: the revision guard does not apply, only the inbox stands between it and a second effect. */
function unsequenced(order: number): Event {
  const { sequence: _sequence, ...rest } = workOrderEvent(order);
  return rest as Event;
}

/** A promise and the function that resolves it. */
function gate(): { readonly opened: Promise<void>; readonly open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await realSleep(20);
  }
}

/** A store under test plus a way to write and count an effect through its transaction. */
export interface StoreHarness<TTx> {
  readonly store: IdempotencyStore<TTx>;
  /** Records one effect for `id` through the transaction (a row insert, a counter). */
  effect(tx: TTx, id: string): void | Promise<void>;
  /** How often each id's effect was applied. */
  effects(): Promise<Map<string, number>>;
  /**
   * The same store (same tables, keys) over its own connection where the store has connections
   * (a second pool, a second client), so two inboxes race for real; the store itself otherwise.
   */
  peer(): Promise<IdempotencyStore<TTx>>;
  close(): Promise<void>;
}

type Event = ReturnType<typeof workOrderEvent>;

/**
 * Runs the store contract against a store.
 *
 * @param name - the store's name in the test report
 * @param open - opens a fresh, empty store
 */
export function describeStoreContract<TTx>(name: string, open: () => Promise<StoreHarness<TTx>>): void {
  describe(`store contract: ${name}`, () => {
    let h: StoreHarness<TTx>;
    let clock: ReturnType<typeof manualClock>;
    let sleeps: number[];
    const inboxOf = (o: InboxOptions<Event> = {}) =>
      createInbox<TTx, Event>(h.store, {
        clock,
        sleep: async (ms) => void sleeps.push(ms),
        random: () => 0.5,
        retry: createRetryPolicy({ maxAttempts: 3, baseDelayMs: 100 }),
        ...o,
      });
    const apply = (e: Event, { tx }: { tx: TTx }) => h.effect(tx, e.id);

    beforeEach(async () => {
      h = await open();
      clock = manualClock();
      sleeps = [];
    });
    afterEach(async () => h.close());

    it("processes an event once and reports redeliveries as duplicates", async () => {
      const inbox = inboxOf();
      const e = workOrderEvent(1);
      expect((await inbox.process(e, apply))._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 1 });
      expect((await inbox.process(e, apply))._unsafeUnwrap()).toMatchObject({ outcome: "duplicate", reason: "already_processed" });
      expect((await h.effects()).get(e.id)).toBe(1);
      expect(await h.store.inboxStatus(inboxKey(e.source, e.id))).toEqual({ status: "processed", attempts: 1, errors: [] });
    });

    it("applies the effect once when the same event arrives concurrently", async () => {
      const inbox = inboxOf({ sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))), busyPollMs: 2 });
      const e = workOrderEvent(2);
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => inbox.process(e, apply)));
      const kinds = outcomes.map((o) => o._unsafeUnwrap().outcome).sort();
      expect(kinds.filter((k) => k === "processed")).toHaveLength(1);
      expect(kinds.filter((k) => k === "duplicate")).toHaveLength(7);
      expect((await h.effects()).get(e.id)).toBe(1);
    });

    it("guards revisions: applied, stale, duplicate and conflict, each with a reason", async () => {
      const inbox = inboxOf();
      const v2 = workOrderEvent(3, 2);
      const v1 = workOrderEvent(3, 1);
      expect((await inbox.process(v2, apply))._unsafeUnwrap().outcome).toBe("processed");
      expect((await inbox.process(v1, apply))._unsafeUnwrap()).toMatchObject({
        outcome: "stale",
        message: `event ${v1.id}: revision 00000000000000000001 is older than the applied revision 00000000000000000002`,
      });
      // The same fact under another id (another producer path): same revision, same content.
      const again = { ...v2, id: "another-id" };
      expect((await inbox.process(again, apply))._unsafeUnwrap()).toMatchObject({ outcome: "duplicate", reason: "same_revision" });
      // Same revision, different content: the source broke its own rule; never silently dropped.
      const clash = { ...workOrderEvent(3, 2, "9"), id: "clashing-id" };
      const failed = (await inbox.process(clash, apply))._unsafeUnwrap();
      expect(failed).toMatchObject({ outcome: "failed", code: "dead_lettered" });
      if (failed.outcome !== "failed") throw new Error("unreachable");
      expect(failed.deadLetter?.errors.map((e) => e.code)).toEqual(["revision_conflict"]);
      const effects = await h.effects();
      expect([effects.get(v2.id), effects.get(v1.id), effects.get("another-id"), effects.get("clashing-id")]).toEqual([1, undefined, undefined, undefined]);
      // A stale event stays stale on redelivery.
      expect((await inbox.process(v1, apply))._unsafeUnwrap()).toMatchObject({ outcome: "duplicate", reason: "already_stale" });
    });

    it("takes the data's fingerprint from the caller, trusting it, and refuses one that is not 64 hex digits", async () => {
      const inbox = inboxOf();
      const v1 = workOrderEvent(40, 1);
      const given = fingerprint(v1.data)._unsafeUnwrap();
      expect((await inbox.process(v1, apply, { fingerprint: given }))._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 1 });
      // It is the one the inbox computes: the same fact under another id is a duplicate of it.
      expect((await inbox.process({ ...v1, id: "v1-again" }, apply))._unsafeUnwrap()).toMatchObject({ outcome: "duplicate", reason: "same_revision" });
      // The inbox does not check it against the data (the caller's responsibility): changed data
      // with the old fingerprint passes for the same content, a wrong fingerprint for other content.
      const changed = { ...workOrderEvent(40, 1, "9"), id: "v1-changed" };
      expect((await inbox.process(changed, apply, { fingerprint: given }))._unsafeUnwrap()).toMatchObject({ outcome: "duplicate", reason: "same_revision" });
      const wrong = (await inbox.process({ ...v1, id: "v1-wrong" }, apply, { fingerprint: "0".repeat(64) }))._unsafeUnwrap();
      expect(wrong.outcome === "failed" ? wrong.deadLetter?.errors.map((e) => e.code) : wrong).toEqual(["revision_conflict"]);
      // Not a fingerprint at all: dead-lettered without running the handler, the value named.
      const v2 = workOrderEvent(41, 1);
      const refused = (await inbox.process(v2, apply, { fingerprint: "ABC" }))._unsafeUnwrap();
      expect(refused).toMatchObject({ outcome: "failed", code: "dead_lettered" });
      expect(refused.outcome === "failed" ? refused.deadLetter?.errors.map((e) => [e.code, e.message, e.retryable]) : refused).toEqual([
        ["invalid_fingerprint", 'options.fingerprint "ABC" is not a fingerprint: it must be 64 lower-case hex digits (a SHA-256), as fingerprint(event.data) returns', false],
      ]);
      // Without a sequence the guard is skipped, and the option with it.
      expect((await inbox.process(unsequenced(42), apply, { fingerprint: "ABC" }))._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 1 });
      const effects = await h.effects();
      expect([v1.id, "v1-again", "v1-changed", "v1-wrong", v2.id, unsequenced(42).id].map((id) => effects.get(id))).toEqual([1, undefined, undefined, undefined, undefined, 1]);
    });

    it("applies revisions alone through the store", async () => {
      const s = h.store;
      expect((await s.applyRevision({ entityKey: "k", revision: "5", fingerprint: "a" })).verdict).toBe("applied");
      expect((await s.applyRevision({ entityKey: "k", revision: "5", fingerprint: "a" })).verdict).toBe("duplicate");
      expect((await s.applyRevision({ entityKey: "k", revision: "5", fingerprint: "b" })).verdict).toBe("conflict");
      expect((await s.applyRevision({ entityKey: "k", revision: "4", fingerprint: "a" })).verdict).toBe("stale");
      expect((await s.applyRevision({ entityKey: "k", revision: "10", fingerprint: "c" })).verdict).toBe("applied");
      expect((await s.readRevision("k"))?.fingerprint).toBe("c");
    });

    it("retries retryable failures with backoff and rolls back their effects", async () => {
      const inbox = inboxOf();
      const e = workOrderEvent(4);
      let calls = 0;
      const outcome = await inbox.process(e, async (event, ctx) => {
        calls += 1;
        await h.effect(ctx.tx, event.id);
        return calls < 3 ? err(retryable(`peer down (${calls})`)) : ok(undefined);
      });
      expect(outcome._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 3 });
      expect(sleeps).toEqual([50, 100]);
      expect((await h.effects()).get(e.id)).toBe(1);
      const status = await h.store.inboxStatus(inboxKey(e.source, e.id));
      expect(status?.errors.map((x) => [x.attempt, x.message])).toEqual([
        [1, "peer down (1)"],
        [2, "peer down (2)"],
      ]);
    });

    it("retries a handler that is not async: its failed one-transaction attempt is recorded, its effects rolled back", async () => {
      const inbox = inboxOf();
      const e = workOrderEvent(5);
      let calls = 0;
      // A plain function answering with a promise: on SQLite and PostgreSQL the first attempt runs
      // in one transaction with the claim, the later ones on the lease.
      const outcome = await inbox.process(e, (event, ctx) => {
        calls += 1;
        return Promise.resolve(h.effect(ctx.tx, event.id)).then(() => (calls < 3 ? err(retryable(`peer down (${calls})`)) : ok(undefined)));
      });
      expect(outcome._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 3 });
      expect(sleeps).toEqual([50, 100]);
      expect((await h.effects()).get(e.id)).toBe(1);
      const status = await h.store.inboxStatus(inboxKey(e.source, e.id));
      expect(status?.errors.map((x) => [x.attempt, x.message])).toEqual([
        [1, "peer down (1)"],
        [2, "peer down (2)"],
      ]);
    });

    it("takes one transaction for a new event with a handler that is not async, where the store offers it; the lease otherwise", async () => {
      let claims = 0;
      const spied: IdempotencyStore<TTx> = {
        ...h.store,
        claim: (r) => {
          claims += 1;
          return h.store.claim(r);
        },
      };
      const atomic = h.store.claimAndCommit !== undefined;
      const inboxOn = (o: InboxOptions<Event> = {}) => createInbox<TTx, Event>(spied, { clock, sleep: async () => undefined, ...o });
      const counted = async (run: () => ResultAsync<InboxOutcome, unknown>): Promise<number> => {
        claims = 0;
        expect((await run()).isOk()).toBe(true);
        return claims;
      };
      const plain = (e: Event, { tx }: { tx: TTx }) => h.effect(tx, e.id);
      const declaredAsync = async (e: Event, { tx }: { tx: TTx }) => void (await h.effect(tx, e.id));
      expect(await counted(() => inboxOn().process(workOrderEvent(60), plain))).toBe(atomic ? 0 : 1);
      // A redelivery is answered by the same one transaction (the entry is there, finished).
      expect(await counted(() => inboxOn().process(workOrderEvent(60), plain))).toBe(atomic ? 0 : 1);
      expect(await counted(() => inboxOn().process(workOrderEvent(61), declaredAsync))).toBe(1);
      expect(await counted(() => inboxOn({ claimInTransaction: false }).process(workOrderEvent(62), plain))).toBe(1);
      const effects = await h.effects();
      expect([60, 61, 62].map((n) => effects.get(workOrderEvent(n).id))).toEqual([1, 1, 1]);
      for (const n of [60, 61, 62]) expect(await h.store.inboxStatus(inboxKey(workOrderEvent(n).source, workOrderEvent(n).id))).toEqual({ status: "processed", attempts: 1, errors: [] });
    });

    it("dead-letters after the last attempt with every error, and replays", async () => {
      const inbox = inboxOf();
      const e = workOrderEvent(5);
      const outcome = (await inbox.process(e, () => {
        throw new Error("boom");
      }))._unsafeUnwrap();
      expect(outcome).toMatchObject({ outcome: "failed", code: "dead_lettered" });
      const letters = (await inbox.deadLetters())._unsafeUnwrap();
      expect(letters).toHaveLength(1);
      const letter = letters[0]!;
      expect(letter).toMatchObject({ kind: "event", source: e.source, eventId: e.id, attempts: 3, firstSeen: clock.now(), lastSeen: clock.now() });
      expect(letter.errors.map((x) => `${x.attempt} ${x.code}: ${x.message}`)).toMatchInlineSnapshot(`
        [
          "1 handler_threw: handler threw: boom",
          "2 handler_threw: handler threw: boom",
          "3 handler_threw: handler threw: boom",
        ]
      `);
      expect(JSON.parse(letter.payload)).toEqual(JSON.parse(JSON.stringify(e)));
      expect((await inbox.process(e, apply))._unsafeUnwrap()).toMatchObject({ outcome: "duplicate", reason: "dead_lettered" });
      expect((await inbox.replay(letter.id, apply))._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 1 });
      expect((await inbox.deadLetters())._unsafeUnwrap()).toEqual([]);
      expect((await h.effects()).get(e.id)).toBe(1);
      expect((await inbox.replay(letter.id, apply))._unsafeUnwrapErr()).toEqual({ code: "dead_letter_not_found", id: letter.id, message: `no dead-letter record has id ${letter.id}` });
    });

    it("dead-letters a permanent failure at once", async () => {
      const inbox = inboxOf();
      const e = workOrderEvent(6);
      const outcome = (await inbox.process(e, () => err(permanent("unit ST has no mapping"))))._unsafeUnwrap();
      expect(outcome).toMatchObject({ outcome: "failed", code: "dead_lettered", message: `event ${e.id} from ${e.source} was dead-lettered after 1 attempt(s): unit ST has no mapping` });
      expect(sleeps).toEqual([]);
    });

    it("keeps raw payloads that never parsed, counts repeats, and replays them once they parse", async () => {
      const inbox = inboxOf();
      const first = (await inbox.reject({ payload: "{not json", source: "urn:s", code: "unreadable_input", message: "is JSON text" }))._unsafeUnwrap();
      clock.advance(1000);
      const second = (await inbox.reject({ payload: "{not json", source: "urn:s", code: "unreadable_input", message: "is JSON text" }))._unsafeUnwrap();
      expect(second).toMatchObject({ id: first.id, kind: "raw", attempts: 2, firstSeen: clock.now() - 1000, lastSeen: clock.now() });
      const replay = (await inbox.replay(first.id, apply))._unsafeUnwrap();
      expect(replay).toMatchObject({ outcome: "failed", code: "dead_lettered" });
      expect((await inbox.deadLetters())._unsafeUnwrap()[0]?.attempts).toBe(3);
      const e = workOrderEvent(7);
      const good = (await inbox.reject({ payload: JSON.stringify(e), code: "peer_down", message: "schema registry down" }))._unsafeUnwrap();
      expect((await inbox.replay(good.id, apply))._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 1 });
      expect((await inbox.deadLetters())._unsafeUnwrap().map((l) => l.id)).toEqual([first.id]);
    });

    it("counts every concurrent repeat of a raw payload, from two connections", async () => {
      const peer = await h.peer();
      const inboxes = [inboxOf(), createInbox<TTx, Event>(peer, { clock })];
      const records = await Promise.all(
        Array.from({ length: 40 }, (_, i) => inboxes[i % 2]!.reject({ payload: "{torn", source: "urn:s", code: "unreadable_input", message: `copy ${i}` })),
      );
      const id = records[0]!._unsafeUnwrap().id;
      const stored = await h.store.getDeadLetter(id);
      expect(stored?.attempts).toBe(40);
      expect(stored?.errors.map((e) => e.message).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `copy ${i}`).sort());
    });

    it("lists dead letters oldest first, with offset and limit", async () => {
      const inbox = inboxOf();
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push((await inbox.reject({ payload: `p${i}`, code: "bad", message: "bad" }))._unsafeUnwrap().id);
        clock.advance(10);
      }
      expect((await inbox.deadLetters({ limit: 2, offset: 1 }))._unsafeUnwrap().map((l) => l.id)).toEqual(ids.slice(1, 3));
    });

    it("takes over an event whose claim expired, and fences the late worker out", async () => {
      const e = workOrderEvent(8);
      const key = inboxKey(e.source, e.id);
      // A worker claims and dies.
      const crashed = await h.store.claim({ key, source: e.source, eventId: e.id, token: "dead-worker", now: clock.now(), leaseMs: 1000 });
      expect(crashed).toEqual({ kind: "claimed", attempt: 1, firstSeen: clock.now() });
      const impatient = inboxOf({ leaseMs: 1000, busyWaitMs: 0 });
      expect((await impatient.process(e, apply))._unsafeUnwrap()).toMatchObject({ outcome: "failed", code: "claimed_elsewhere" });
      clock.advance(1001);
      expect((await inboxOf({ leaseMs: 1000 }).process(e, apply))._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 2 });
      // The first worker comes back: its commit is refused and writes nothing.
      const late = await h.store.commit({ key, token: "dead-worker", now: clock.now(), guard: undefined }, async (tx) => {
        await h.effect(tx, e.id);
        return undefined;
      });
      expect(late).toEqual({ kind: "lease_lost" });
      expect(await h.store.release({ key, token: "dead-worker", error: { attempt: 1, at: 0, code: "x", message: "x", retryable: true } })).toBe(false);
      expect((await h.effects()).get(e.id)).toBe(1);
    });

    it("waits for another worker's live claim to finish", async () => {
      const e = workOrderEvent(9);
      const key = inboxKey(e.source, e.id);
      await h.store.claim({ key, source: e.source, eventId: e.id, token: "other", now: clock.now(), leaseMs: 60_000 });
      const inbox = inboxOf({
        busyPollMs: 10,
        sleep: async (ms) => {
          sleeps.push(ms);
          // The other worker finishes while this one waits.
          if (sleeps.length === 2) await h.store.commit({ key, token: "other", now: clock.now(), guard: undefined }, async (tx) => void (await h.effect(tx, e.id)));
          clock.advance(ms);
        },
      });
      expect((await inbox.process(e, apply))._unsafeUnwrap()).toMatchObject({ outcome: "duplicate", reason: "already_processed" });
      expect(sleeps).toEqual([10, 10]);
    });

    it("dead-letters an event whose workers kept dying (attempts exhausted)", async () => {
      const e = workOrderEvent(10);
      const key = inboxKey(e.source, e.id);
      for (let i = 0; i < 3; i++) {
        await h.store.claim({ key, source: e.source, eventId: e.id, token: `crash-${i}`, now: clock.now(), leaseMs: 100 });
        clock.advance(101);
      }
      const outcome = (await inboxOf().process(e, apply))._unsafeUnwrap();
      expect(outcome).toMatchObject({ outcome: "failed", code: "dead_lettered" });
      if (outcome.outcome !== "failed") throw new Error("unreachable");
      expect(outcome.deadLetter?.errors.at(-1)?.message).toMatchInlineSnapshot(`"3 attempt(s) ended without an outcome (the worker stopped or its lease expired); maxAttempts is 3"`);
    });

    it("replays only what is dead: the raw record of an event processed since is a duplicate, the handler does not run again", async () => {
      const inbox = inboxOf();
      const e = unsequenced(40);
      const raw = (await inbox.reject({ payload: JSON.stringify(e), code: "peer_down", message: "schema registry down" }))._unsafeUnwrap();
      // The producer sends the event again and this time it is processed.
      expect((await inbox.process(e, apply))._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 1 });
      expect((await inbox.replay(raw.id, apply))._unsafeUnwrap()).toMatchObject({ outcome: "duplicate", reason: "already_processed" });
      expect((await h.effects()).get(e.id)).toBe(1);
      expect(await h.store.inboxStatus(inboxKey(e.source, e.id))).toMatchObject({ status: "processed", attempts: 1 });
      // The record is settled: its event has its effect.
      expect((await inbox.deadLetters())._unsafeUnwrap()).toEqual([]);
    });

    it("overlapping replays of one dead letter on two connections apply the effect once", async () => {
      const peer = await h.peer();
      const e = unsequenced(41);
      const dead = (await inboxOf().process(e, () => err(permanent("SAP rejected the order"))))._unsafeUnwrap();
      if (dead.outcome !== "failed" || dead.deadLetter === undefined) throw new Error(`expected a dead letter, got ${JSON.stringify(dead)}`);
      const id = dead.deadLetter.id;
      // B reads the record before A, having processed the event, removes it; B goes on after that.
      const bRead = gate();
      const aRemoving = gate();
      const storeA: IdempotencyStore<TTx> = {
        ...h.store,
        removeDeadLetter: async (i) => {
          aRemoving.open();
          await bRead.opened;
          return h.store.removeDeadLetter(i);
        },
      };
      const storeB: IdempotencyStore<TTx> = {
        ...peer,
        getDeadLetter: async (i) => {
          const record = await peer.getDeadLetter(i);
          bRead.open();
          await aRemoving.opened;
          return record;
        },
      };
      const options = { clock, sleep: (ms: number) => realSleep(Math.min(ms, 5)), busyPollMs: 2 };
      const a = createInbox<TTx, Event>(storeA, options);
      const b = createInbox<TTx, Event>(storeB, options);
      const [ra, rb] = await Promise.all([a.replay(id, apply), b.replay(id, apply)]);
      expect(ra._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 1 });
      expect(rb._unsafeUnwrap()).toMatchObject({ outcome: "duplicate", reason: "already_processed" });
      expect((await h.effects()).get(e.id)).toBe(1);
      expect((await h.store.listDeadLetters({ limit: 10, offset: 0 })).map((l) => l.id)).toEqual([]);
    });

    it("many concurrent replays of one dead letter, from two connections, apply the effect once", async () => {
      const peer = await h.peer();
      const e = unsequenced(44);
      const dead = (await inboxOf().process(e, () => err(permanent("SAP rejected the order"))))._unsafeUnwrap();
      if (dead.outcome !== "failed" || dead.deadLetter === undefined) throw new Error(`expected a dead letter, got ${JSON.stringify(dead)}`);
      const id = dead.deadLetter.id;
      let runs = 0;
      const slowApply = async (event: Event, { tx }: { tx: TTx }) => {
        runs += 1;
        await realSleep(5);
        await h.effect(tx, event.id);
      };
      const options = { clock, sleep: (ms: number) => realSleep(Math.min(ms, 5)), busyPollMs: 2 };
      const inboxes = [createInbox<TTx, Event>(h.store, options), createInbox<TTx, Event>(peer, options)];
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => inboxes[i % 2]!.replay(id, slowApply)));
      const kinds = results.map((r) => (r.isOk() ? r.value.outcome : r.error.code));
      expect(kinds.filter((k) => k === "processed")).toHaveLength(1);
      expect(kinds.filter((k) => k !== "processed" && k !== "duplicate" && k !== "dead_letter_not_found")).toEqual([]);
      expect(runs).toBe(1);
      expect((await h.effects()).get(e.id)).toBe(1);
    });

    // An async handler takes the lease path; a plain function answering with a promise takes the
    // one-transaction path where the store has one (its transaction then waits for the promise).
    for (const declared of ["async", "plain"] as const) it(
      `abandons a handler that never settles when its lease ends (${declared} handler): other events go on, a later worker takes it over, the late handler's effects are not committed`,
      async () => {
        const peer = await h.peer();
        const e = workOrderEvent(42);
        const f = workOrderEvent(43);
        const leaseMs = 400;
        const wake = gate();
        const takenOver = gate();
        const entered = gate();
        let zombie: "waiting" | "refused" | "wrote" = "waiting";
        const stuck = createInbox<TTx, Event>(h.store, { leaseMs, clock: systemClock, random: () => 0.5, sleep: () => takenOver.opened });
        const hanging = async (event: Event, { tx }: { tx: TTx }): Promise<void> => {
          entered.open();
          await wake.opened;
          try {
            await h.effect(tx, event.id);
            zombie = "wrote";
          } catch {
            zombie = "refused";
          }
        };
        const hung = stuck.process(e, declared === "async" ? hanging : (event, context) => hanging(event, context));
        await entered.opened;
        // Another event on the same store is processed (at the latest once the stuck attempt's lease ends).
        const other = createInbox<TTx, Event>(h.store, { leaseMs, clock: systemClock });
        expect((await other.process(f, apply))._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 1 });
        // At the end of its lease the attempt is abandoned and recorded as a failed, retryable attempt.
        const key = inboxKey(e.source, e.id);
        await eventually(async () => (await h.store.inboxStatus(key))?.status === "pending", 10 * leaseMs, "the stuck attempt to be abandoned");
        const status = await h.store.inboxStatus(key);
        expect(status?.errors.map((x) => [x.attempt, x.code, x.retryable])).toEqual([[1, "lease_expired", true]]);
        expect(status?.errors[0]?.message).toMatchInlineSnapshot(`"the handler had not settled when the lease of 400 ms ended; the attempt was abandoned and its transaction rolled back"`);
        // Another worker takes it over.
        const later = createInbox<TTx, Event>(peer, { leaseMs, clock: systemClock });
        expect((await later.process(e, apply))._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 2 });
        takenOver.open();
        expect((await hung)._unsafeUnwrap()).toMatchObject({ outcome: "duplicate", reason: "already_processed" });
        // The abandoned handler settles late and tries to write through its transaction: nothing of it is kept.
        wake.open();
        await realSleep(100);
        expect(zombie).not.toBe("waiting");
        const effects = await h.effects();
        expect([effects.get(e.id), effects.get(f.id)]).toEqual([1, 1]);
      },
      20_000,
    );

    it("a handler that throws or returns a value with no text form fails as a handler failure, described safely", async () => {
      const inbox = inboxOf({ retry: createRetryPolicy({ maxAttempts: 2, baseDelayMs: 100 }) });
      const hostile = {
        toString(): string {
          throw new Error("no text for you");
        },
      };
      const thrown = (await inbox.process(workOrderEvent(45), () => {
        throw Object.create(null);
      }))._unsafeUnwrap();
      const returned = (await inbox.process(workOrderEvent(46), () => err(hostile as never)))._unsafeUnwrap();
      const erroring = (await inbox.process(workOrderEvent(47), () => {
        const e = new Error("x");
        Object.defineProperty(e, "message", { get: () => { throw new Error("no message"); } });
        throw e;
      }))._unsafeUnwrap();
      const messages = [thrown, returned, erroring].map((o) => (o.outcome === "failed" ? o.errors.map((x) => `${x.attempt} ${x.code}: ${x.message}`) : o.outcome));
      expect(messages).toMatchInlineSnapshot(`
        [
          [
            "1 handler_threw: handler threw: [object Object] (no text form: converting it to a string threw)",
            "2 handler_threw: handler threw: [object Object] (no text form: converting it to a string threw)",
          ],
          [
            "1 handler_failed: handler returned err([object Object] (no text form: converting it to a string threw))",
            "2 handler_failed: handler returned err([object Object] (no text form: converting it to a string threw))",
          ],
          [
            "1 handler_threw: handler threw: [object Error] (no text form: converting it to a string threw)",
            "2 handler_threw: handler threw: [object Error] (no text form: converting it to a string threw)",
          ],
        ]
      `);
    });

    it("outbox: adds in the caller's transaction; the relay publishes in order per partition and marks sent", async () => {
      const outbox = createOutbox<TTx, Event>(h.store, { clock });
      const a = [1, 2, 3].map((r) => workOrderEvent(20, r));
      const b = [1, 2].map((r) => workOrderEvent(21, r));
      await h.store.transaction(async (tx) => (await outbox.add(tx, [a[0]!, b[0]!, a[1]!]))._unsafeUnwrap());
      await h.store.transaction(async (tx) => (await outbox.add(tx, [b[1]!, a[2]!, a[0]!]))._unsafeUnwrap());
      // A transaction that fails adds nothing.
      await expect(
        h.store.transaction(async (tx) => {
          (await outbox.add(tx, [workOrderEvent(22)]))._unsafeUnwrap();
          throw new Error("caller's transaction fails");
        }),
      ).rejects.toThrow("caller's transaction fails");
      const published: OutboxRecord[] = [];
      let failB = true;
      const relay = createOutboxRelay(h.store, {
        clock,
        random: () => 0.5,
        batchSize: 10,
        publish: async (r) => {
          if (failB && r.partitionKey === b[0]!.partitionkey) {
            failB = false;
            throw new Error("broker refused");
          }
          published.push(r);
        },
      });
      const first = (await relay.runOnce())._unsafeUnwrap();
      expect(first).toEqual({ leased: true, published: 3, failed: [{ partitionKey: b[0]!.partitionkey, id: expect.any(String), message: "broker refused" }] });
      // Partition b backs off; a later round after the delay publishes it, still in order.
      expect((await relay.runOnce())._unsafeUnwrap().published).toBe(0);
      clock.advance(1000);
      expect((await relay.runOnce())._unsafeUnwrap().published).toBe(2);
      expect((await relay.runOnce())._unsafeUnwrap().published).toBe(0);
      const order = (key: string) => published.filter((r) => r.partitionKey === key).map((r) => JSON.parse(r.payload).data.revision);
      expect(order(a[0]!.partitionkey)).toEqual(["1", "2", "3"]);
      expect(order(b[0]!.partitionkey)).toEqual(["1", "2"]);
      expect(published.map((r) => r.eventId).sort()).toEqual([...a, ...b].map((e) => e.id).sort());
      expect(published.every((r) => r.seq > 0)).toBe(true);
    });

    it("outbox: a relay whose lease runs out during a round starts no more publishes in it", async () => {
      const outbox = createOutbox<TTx, Event>(h.store, { clock });
      await h.store.transaction(async (tx) => (await outbox.add(tx, [1, 2, 3].map((r) => workOrderEvent(32, r))))._unsafeUnwrap());
      const published: number[] = [];
      const relay = createOutboxRelay(h.store, {
        clock,
        owner: "slow",
        leaseMs: 100,
        publish: async (r) => {
          published.push(Number(JSON.parse(r.payload).data.revision));
          clock.advance(60);
        },
      });
      expect((await relay.runOnce())._unsafeUnwrap()).toEqual({ leased: true, published: 2, failed: [] });
      expect(published).toEqual([1, 2]);
      expect((await relay.runOnce())._unsafeUnwrap()).toEqual({ leased: true, published: 1, failed: [] });
      expect(published).toEqual([1, 2, 3]);
    });

    it("outbox: one relay holds the lease at a time; another resumes after it expires", async () => {
      const outbox = createOutbox<TTx, Event>(h.store, { clock });
      await h.store.transaction(async (tx) => (await outbox.add(tx, [workOrderEvent(30)]))._unsafeUnwrap());
      const sent: string[] = [];
      const one = createOutboxRelay(h.store, { clock, owner: "one", leaseMs: 50, publish: async () => undefined });
      const two = createOutboxRelay(h.store, { clock, owner: "two", leaseMs: 50, publish: async (r) => void sent.push(r.id) });
      expect((await h.store.acquireRelayLease("one", clock.now(), 50))).toBe(true);
      expect((await two.runOnce())._unsafeUnwrap()).toEqual({ leased: false, published: 0, failed: [] });
      await h.store.releaseRelayLease("one");
      expect((await two.runOnce())._unsafeUnwrap().published).toBe(1);
      expect(sent).toHaveLength(1);
      expect((await one.runOnce())._unsafeUnwrap().leased).toBe(false);
    });

    it("metrics: the inbox and the relay count what they did, read through the OpenTelemetry SDK", async () => {
      const sdk = createTestSdk();
      try {
        const meter = sdk.provider.getMeter("test");
        const inbox = inboxOf({ meter });
        const store = { "millwright.store": h.store.name };
        const type = workOrderEvent(0).type;
        // One event delivered four times: one effect, three duplicates.
        const once = workOrderEvent(50);
        const outcomes = [];
        for (let i = 0; i < 4; i++) outcomes.push((await inbox.process(once, apply))._unsafeUnwrap().outcome);
        // Fails twice, then succeeds: two retries, one effect.
        const flaky = workOrderEvent(51);
        let calls = 0;
        await inbox.process(flaky, async (e, ctx) => (++calls < 3 ? err(retryable(`peer down (${calls})`)) : apply(e, ctx)));
        // Throws on every attempt: two retries, then the dead letters.
        const poison = workOrderEvent(52);
        await inbox.process(poison, () => {
          throw new Error("boom");
        });
        // An older revision after a newer one: stale.
        await inbox.process(workOrderEvent(53, 2), apply);
        await inbox.process(workOrderEvent(53, 1), apply);
        // A payload that never parsed: a raw dead letter.
        await inbox.reject({ payload: "{not json", code: "unreadable_input", message: "is JSON text" });

        const effects = await h.effects();
        let m = await sdk.collect();
        expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(3);
        expect(sdk.total(m, M.processed, { ...store, "cloudevents.event_type": type })).toBe([...effects.values()].reduce((a, b) => a + b, 0));
        expect(sdk.total(m, M.processed)).toBe(3);
        expect(m.get(M.duplicates)).toEqual([{ attributes: { ...store, "cloudevents.event_type": type, "millwright.inbox.reason": "already_processed" }, value: 3 }]);
        expect(sdk.total(m, M.stale)).toBe(1);
        expect(m.get(M.retries)).toEqual([
          { attributes: { ...store, "cloudevents.event_type": type, "error.type": "handler_threw" }, value: 2 },
          { attributes: { ...store, "cloudevents.event_type": type, "error.type": "retryable" }, value: 2 },
        ]);
        expect(m.get(M.deadLetters)).toEqual([
          { attributes: { ...store, "millwright.dead_letter.kind": "event", "error.type": "handler_threw" }, value: 1 },
          { attributes: { ...store, "millwright.dead_letter.kind": "raw", "error.type": "unreadable_input" }, value: 1 },
        ]);
        const letters = (await inbox.deadLetters())._unsafeUnwrap();
        expect(letters).toHaveLength(sdk.total(m, M.deadLetters));

        // The outbox: three records added 5 s before the first round; one publish fails. The relay
        // observes the outbox gauges from its creation on.
        const outbox = createOutbox<TTx, Event>(h.store, { clock });
        const added = [1, 2, 3].map((r) => workOrderEvent(54 + r));
        const published: string[] = [];
        let refuse = true;
        const relay = createOutboxRelay(h.store, {
          clock,
          random: () => 0.5,
          meter,
          publish: async (r) => {
            if (refuse && r.eventId === added[1]!.id) {
              refuse = false;
              throw new Error("broker refused");
            }
            published.push(r.eventId);
          },
        });
        m = await sdk.collect();
        expect(m.get(M.pending)).toEqual([{ attributes: store, value: 0 }]);
        expect(m.get(M.oldestAge)).toEqual([{ attributes: store, value: 0 }]);
        await h.store.transaction(async (tx) => (await outbox.add(tx, added))._unsafeUnwrap());
        clock.advance(5000);
        m = await sdk.collect();
        expect(m.get(M.pending)).toEqual([{ attributes: store, value: 3 }]);
        expect(m.get(M.oldestAge)).toEqual([{ attributes: store, value: 5 }]);
        expect((await relay.runOnce())._unsafeUnwrap().published).toBe(2);
        m = await sdk.collect();
        expect(m.get(M.pending)).toEqual([{ attributes: store, value: 1 }]);
        expect(m.get(M.oldestAge)).toEqual([{ attributes: store, value: 5 }]);
        clock.advance(2000);
        expect((await relay.runOnce())._unsafeUnwrap().published).toBe(1);
        m = await sdk.collect();
        expect(sdk.total(m, M.published)).toBe(published.length);
        expect(sdk.total(m, M.publishFailures)).toBe(1);
        // Two records sent 5 s after they were added, one 7 s after.
        expect(m.get(M.lag)).toEqual([{ attributes: store, value: { count: 3, sum: 17 } }]);
        expect(m.get(M.pending)).toEqual([{ attributes: store, value: 0 }]);
        expect(m.get(M.oldestAge)).toEqual([{ attributes: store, value: 0 }]);
      } finally {
        await sdk.shutdown();
      }
    });

    describe("processBatch", () => {
      /** Outcomes' kinds and reasons, in order. */
      const kinds = (outcomes: readonly InboxOutcome[]): string[] =>
        outcomes.map((o) => (o.outcome === "duplicate" ? `duplicate ${o.reason}` : o.outcome === "failed" ? `failed ${o.code}` : o.outcome === "processed" ? `processed ${o.attempts}` : o.outcome));

      it("absorbs duplicates inside the batch and of earlier deliveries; each effect is applied once", async () => {
        const inbox = inboxOf();
        const [a, b, c, d] = [70, 71, 72, 73].map((n) => workOrderEvent(n));
        expect((await inbox.process(a!, apply))._unsafeUnwrap()).toEqual({ outcome: "processed", attempts: 1 });
        const outcomes = (await inbox.processBatch([b!, a!, c!, b!, d!, c!], apply))._unsafeUnwrap();
        expect(kinds(outcomes)).toEqual(["processed 1", "duplicate already_processed", "processed 1", "duplicate already_processed", "processed 1", "duplicate already_processed"]);
        const effects = await h.effects();
        expect([a, b, c, d].map((e) => effects.get(e!.id))).toEqual([1, 1, 1, 1]);
        for (const e of [a, b, c, d]) expect(await h.store.inboxStatus(inboxKey(e!.source, e!.id))).toEqual({ status: "processed", attempts: 1, errors: [] });
        // The whole batch delivered again: all duplicates.
        expect(kinds((await inbox.processBatch([b!, a!, c!, d!], apply))._unsafeUnwrap())).toEqual(Array(4).fill("duplicate already_processed"));
        expect((await h.effects()).get(b!.id)).toBe(1);
      });

      it("guards revisions inside one batch: rising, stale, same revision, and a conflict that is dead-lettered", async () => {
        const inbox = inboxOf();
        const [v1, v2, v3] = [1, 2, 3].map((r) => workOrderEvent(74, r));
        const stale = { ...v1!, id: "stale-id" };
        const again = { ...v3!, id: "same-revision-id" };
        const clash = { ...workOrderEvent(74, 3, "9"), id: "clashing-id" };
        const outcomes = (await inbox.processBatch([v1!, v2!, v3!, stale, again, clash, v2!], apply))._unsafeUnwrap();
        expect(kinds(outcomes)).toEqual(["processed 1", "processed 1", "processed 1", "stale", "duplicate same_revision", "failed dead_lettered", "duplicate already_processed"]);
        expect(outcomes[3]).toMatchObject({ revision: "00000000000000000001", current: "00000000000000000003" });
        const failed = outcomes[5]!;
        if (failed.outcome !== "failed") throw new Error("unreachable");
        expect(failed.deadLetter?.errors.map((e) => e.code)).toEqual(["revision_conflict"]);
        const effects = await h.effects();
        expect([v1, v2, v3, stale, again, clash].map((e) => effects.get(e!.id) ?? 0)).toEqual([1, 1, 1, 0, 0, 0]);
        expect(await h.store.readRevision(JSON.stringify([v3!.source, "dev.millwright.workorder", v3!.subject]))).toMatchObject({ revision: "00000000000000000003" });
        expect((await inbox.process(stale, apply))._unsafeUnwrap()).toMatchObject({ outcome: "duplicate", reason: "already_stale" });
      });

      for (const declared of ["plain", "async"] as const) {
        it(`a failing handler in the middle (${declared}): the others are processed, it is retried with backoff or dead-lettered, attempts counted`, async () => {
          const sdk = createTestSdk();
          try {
            const inbox = inboxOf({ meter: sdk.provider.getMeter("test") });
            const [a, flaky, c, poison, e] = [75, 76, 77, 78, 79].map((n) => workOrderEvent(n));
            const calls = new Map<string, number>();
            const order: string[] = [];
            const body = (event: Event, ctx: { tx: TTx; attempt: number }) => {
              const n = (calls.get(event.id) ?? 0) + 1;
              calls.set(event.id, n);
              order.push(`${event.id === a!.id ? "a" : event.id === flaky!.id ? "flaky" : event.id === c!.id ? "c" : event.id === poison!.id ? "poison" : "e"}@${ctx.attempt}`);
              const effect = h.effect(ctx.tx, event.id);
              if (event.id === poison!.id) throw new Error("boom");
              // Synchronous where the effect is (SQLite): a plain handler answering with a promise ends the one-transaction batch.
              if (event.id === flaky!.id && n < 3) return effect instanceof Promise ? effect.then(() => err(retryable(`peer down (${n})`))) : err(retryable(`peer down (${n})`));
              return effect;
            };
            const handler: Handler<Event, TTx> = declared === "async" ? async (event, ctx) => body(event, ctx) : (event, ctx) => body(event, ctx);
            const outcomes = (await inbox.processBatch([a!, flaky!, c!, poison!, e!], handler))._unsafeUnwrap();
            expect(kinds(outcomes)).toEqual(["processed 1", "processed 3", "processed 1", "failed dead_lettered", "processed 1"]);
            // The batch step ran every handler in event order; the failed ones were tried again after it.
            expect(order.slice(0, 2)).toEqual(["a@1", "flaky@1"]);
            expect(order.filter((x) => x.startsWith("flaky"))).toEqual(["flaky@1", "flaky@2", "flaky@3"]);
            expect(order.filter((x) => x.startsWith("poison"))).toEqual(["poison@1", "poison@2", "poison@3"]);
            // With a batch step, c's handler ran in it, before flaky's second attempt; one by one after it.
            const batched = declared === "plain" && h.store.claimAndCommitMany !== undefined ? true : h.store.claimMany !== undefined && h.store.commitMany !== undefined;
            if (batched) expect(order.indexOf("c@1")).toBeLessThan(order.indexOf("flaky@2"));
            else expect(order.indexOf("c@1")).toBeGreaterThan(order.indexOf("flaky@3"));
            expect(sleeps).toEqual([50, 100, 50, 100]);
            const effects = await h.effects();
            expect([a, flaky, c, poison, e].map((x) => effects.get(x!.id) ?? 0)).toEqual([1, 1, 1, 0, 1]);
            expect((await h.store.inboxStatus(inboxKey(flaky!.source, flaky!.id)))?.errors.map((x) => [x.attempt, x.message])).toEqual([
              [1, "peer down (1)"],
              [2, "peer down (2)"],
            ]);
            const dead = outcomes[3]!;
            if (dead.outcome !== "failed") throw new Error("unreachable");
            expect(dead.deadLetter?.errors.map((x) => `${x.attempt} ${x.code}`)).toEqual(["1 handler_threw", "2 handler_threw", "3 handler_threw"]);
            const m = await sdk.collect();
            expect(sdk.total(m, M.processed)).toBe(4);
            expect(sdk.total(m, M.retries)).toBe(4);
            expect(sdk.total(m, M.deadLetters)).toBe(1);
          } finally {
            await sdk.shutdown();
          }
        });
      }

      it("takes the batch step the store offers: one transaction, two round trips, or one process per event", async () => {
        const calls: Record<string, number> = {};
        const spied = new Proxy(h.store, {
          get(target, property, receiver) {
            const value: unknown = Reflect.get(target, property, receiver);
            if (typeof value !== "function") return value;
            return (...args: unknown[]) => {
              calls[String(property)] = (calls[String(property)] ?? 0) + 1;
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        });
        const inbox = createInbox<TTx, Event>(spied, { clock, sleep: async () => undefined });
        const events = [80, 81, 82, 83].map((n) => workOrderEvent(n));
        expect(kinds((await inbox.processBatch(events, apply))._unsafeUnwrap())).toEqual(Array(4).fill("processed 1"));
        if (h.store.claimAndCommitMany !== undefined) expect(calls).toEqual({ claimAndCommitMany: 1 });
        else if (h.store.claimMany !== undefined && h.store.commitMany !== undefined) expect(calls).toEqual({ claimMany: 1, commitMany: 1 });
        else if (h.store.claimAndCommit !== undefined) expect(calls).toEqual({ claimAndCommit: 4 });
        else expect(calls).toEqual({ claim: 4, commit: 4 });
        expect([...(await h.effects()).values()].reduce((x, y) => x + y, 0)).toBe(4);
        // An empty batch asks the store nothing.
        for (const k of Object.keys(calls)) delete calls[k];
        expect((await inbox.processBatch([], apply))._unsafeUnwrap()).toEqual([]);
        expect(calls).toEqual({});
      });

      it("takes per-event fingerprints, and refuses fingerprints that are not one per event before touching the store", async () => {
        const inbox = inboxOf();
        const [a, b, c] = [84, 85, 86].map((n) => workOrderEvent(n));
        const given = fingerprint(a!.data)._unsafeUnwrap();
        const outcomes = (await inbox.processBatch([a!, b!, c!], apply, { fingerprints: [given, undefined, "not-a-fingerprint"] }))._unsafeUnwrap();
        expect(kinds(outcomes)).toEqual(["processed 1", "processed 1", "failed dead_lettered"]);
        const refused = outcomes[2]!;
        if (refused.outcome !== "failed") throw new Error("unreachable");
        expect(refused.deadLetter?.errors.map((e) => e.code)).toEqual(["invalid_fingerprint"]);
        // The given one is the one the inbox computes: the same fact under another id is a duplicate of it.
        expect((await inbox.process({ ...a!, id: "a-again" }, apply))._unsafeUnwrap()).toMatchObject({ outcome: "duplicate", reason: "same_revision" });

        const [d, e] = [87, 88].map((n) => workOrderEvent(n));
        const misaligned = await inbox.processBatch([d!, e!], apply, { fingerprints: [given] });
        expect(misaligned._unsafeUnwrapErr()).toMatchInlineSnapshot(`
          {
            "code": "invalid_batch_options",
            "message": "options.fingerprints has 1 entries for 2 events: it must have exactly one entry (a fingerprint or undefined) per event",
            "path": "options.fingerprints",
            "value": 1,
          }
        `);
        expect((await inbox.processBatch([], apply, { fingerprints: [given] }))._unsafeUnwrapErr()).toMatchObject({ code: "invalid_batch_options", value: 1 });
        expect(await h.store.inboxStatus(inboxKey(d!.source, d!.id))).toBeUndefined();
        expect((await h.effects()).get(d!.id)).toBeUndefined();
      });

      it("gives the outcomes, effects, store state and backoff of processing the events one by one (property)", async () => {
        let run = 0;
        // One side's copy of an event: its own source (inbox key and entity) and effect id.
        const on = (side: string, e: Event): Event => ({ ...e, source: `urn:millwright:${side}` });
        const effectId = (e: Event): string => `${e.source} ${e.id}`;
        const handlerOf =
          (declared: boolean): Handler<Event, TTx> =>
          (e, ctx) => {
            const effect = () => h.effect(ctx.tx, effectId(e));
            // Fails by the event's id and attempt, the same on both sides.
            const code = [...e.id].reduce((x, ch) => x + ch.charCodeAt(0), 0);
            const fail = code % 5 === 0 ? err(permanent("never")) : code % 3 === 0 && ctx.attempt < 2 ? err(retryable("once")) : undefined;
            if (declared) return (async () => (await effect(), fail ?? ok(undefined)))();
            const done = effect();
            return done instanceof Promise ? done.then(() => fail ?? ok(undefined)) : (fail ?? ok(undefined));
          };
        const normalize = (o: InboxOutcome, side: string) => {
          const text = JSON.stringify(o.outcome === "failed" ? { ...o, deadLetter: o.deadLetter === undefined ? undefined : { attempts: o.deadLetter.attempts, errors: o.deadLetter.errors } } : o);
          return JSON.parse(text.replaceAll(`urn:millwright:${side}`, "urn:side")) as unknown;
        };
        const pick = fc.record({ order: fc.integer({ min: 0, max: 3 }), revision: fc.integer({ min: 1, max: 3 }), scrap: fc.constantFrom("7", "9"), alias: fc.boolean() });
        await fc.assert(
          fc.asyncProperty(fc.array(pick, { maxLength: 10 }), fc.boolean(), async (picks, declared) => {
            run += 1;
            const events = picks.map((p) => {
              const e = workOrderEvent(1000 + run * 10 + p.order, p.revision, p.scrap);
              return p.alias ? { ...e, id: `${e.id}-alias` } : e;
            });
            const handler = handlerOf(declared);
            sleeps = [];
            const batched = (await inboxOf().processBatch(events.map((e) => on("batch", e)), handler))._unsafeUnwrap();
            const batchSleeps = sleeps;
            sleeps = [];
            const single: InboxOutcome[] = [];
            for (const e of events) single.push((await inboxOf().process(on("single", e), handler))._unsafeUnwrap());
            expect(batched.map((o) => normalize(o, "batch"))).toEqual(single.map((o) => normalize(o, "single")));
            expect([...batchSleeps].sort()).toEqual([...sleeps].sort());
            const effects = await h.effects();
            for (const e of events) {
              const [b, s] = [on("batch", e), on("single", e)];
              expect(effects.get(effectId(b))).toBe(effects.get(effectId(s)));
              expect(await h.store.inboxStatus(inboxKey(b.source, b.id))).toEqual(await h.store.inboxStatus(inboxKey(s.source, s.id)));
              const entity = (x: Event) => JSON.stringify([x.source, "dev.millwright.workorder", x.subject]);
              expect(await h.store.readRevision(entity(b))).toEqual(await h.store.readRevision(entity(s)));
            }
          }),
          { numRuns: Number(process.env["BATCH_RUNS"] ?? (h.store.name === "memory" || h.store.name === "sqlite" ? 40 : 12)) },
        );
      }, 60_000);
    });
  });
}
