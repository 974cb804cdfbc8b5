// The Redis store's batch forms against the local Redis: claimMany and commitMany on one key
// prefix, claim and commit one by one on a twin prefix, and the two must answer alike and leave
// the same keys behind. Effects are counted in Redis itself.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { permanent, type HandlerError } from "../src/index.js";
import { createRedisStore, type RedisCommander, type RedisTransaction } from "../src/redis.js";
import type { AttemptError, ClaimRequest, ClaimResult, CommitRequest, CommitResult, GuardState, IdempotencyStore } from "../src/store.js";
import { connectRedis, deletePrefix, uniqueSuffix } from "./services.js";

type Client = Awaited<ReturnType<typeof connectRedis>>;
type Store = IdempotencyStore<RedisTransaction>;
type Work = (tx: RedisTransaction) => Promise<HandlerError | undefined>;

let client: Client;
const base = `millwright-test:${uniqueSuffix()}:`;
let twins = 0;

beforeAll(async () => {
  client = await connectRedis();
});

afterAll(async () => {
  await deletePrefix(client, base);
  client.destroy();
});

/** The real client, with every command it sends counted by name. */
function counted(): { commander: RedisCommander; sent: string[] } {
  const sent: string[] = [];
  return { sent, commander: { sendCommand: (args) => (sent.push(args[0]!), client.sendCommand(args)) } };
}

/** The commands sent, without the EVAL that follows an EVALSHA when Redis did not have the script yet. */
const roundTrips = (sent: readonly string[]): string[] => sent.filter((c, i) => !(c === "EVAL" && sent[i - 1] === "EVALSHA"));

/** Two fresh prefixes: `batch` for the batch forms, `single` for one by one. */
function twinPrefixes(): { batch: string; single: string } {
  twins += 1;
  return { batch: `${base}${twins}:b:`, single: `${base}${twins}:s:` };
}

const pairs = (flat: string[] | Record<string, string>): Record<string, string> =>
  Array.isArray(flat) ? Object.fromEntries(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]!]] : []))) : { ...flat };

/** Every key under a prefix (the prefix cut off) with its value and whether it expires. */
async function snapshot(prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let cursor = "0";
  do {
    const [next, keys] = (await client.sendCommand(["SCAN", cursor, "MATCH", `${prefix}*`, "COUNT", "1000"])) as [string, string[]];
    cursor = next;
    for (const key of keys) {
      const type = String(await client.sendCommand(["TYPE", key]));
      const value =
        type === "hash"
          ? pairs((await client.sendCommand(["HGETALL", key])) as string[])
          : type === "list"
            ? await client.sendCommand(["LRANGE", key, "0", "-1"])
            : type === "set"
              ? ((await client.sendCommand(["SMEMBERS", key])) as string[]).sort()
              : await client.sendCommand(["GET", key]);
      out[key.slice(prefix.length)] = { type, value, expires: Number(await client.sendCommand(["PTTL", key])) > 0 };
    }
  } while (cursor !== "0");
  return out;
}

const hset = (key: string, fields: Record<string, string>): Promise<unknown> => client.sendCommand(["HSET", key, ...Object.entries(fields).flat()]);
const padded = (revision: number): string => String(revision).padStart(20, "0");

/** claim() one by one, with the batch's rule for a key claimed earlier in the same batch. */
async function claimOneByOne(store: Store, requests: readonly ClaimRequest[]): Promise<ClaimResult[]> {
  const ours = new Map<string, number>();
  const out: ClaimResult[] = [];
  for (const r of requests) {
    const leaseUntil = ours.get(r.key);
    if (leaseUntil !== undefined) {
      out.push({ kind: "busy", leaseUntil });
      continue;
    }
    const result = await store.claim(r);
    if (result.kind === "claimed") ours.set(r.key, r.now + r.leaseMs);
    out.push(result);
  }
  return out;
}

async function commitOneByOne(store: Store, requests: readonly CommitRequest[], works: readonly Work[]): Promise<CommitResult[]> {
  const out: CommitResult[] = [];
  for (const [i, r] of requests.entries()) out.push(await store.commit(r, works[i]!));
  return out;
}

const ENTRY_STATES = ["none", "live", "expired", "pending", "dead", "processed", "duplicate", "stale"] as const;

describe("redis store: claimMany", () => {
  it("answers and writes as claim() one by one would, for any keys, repeats, leases, dead entries with revive and finished ones", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...ENTRY_STATES), { minLength: 4, maxLength: 4 }),
        fc.array(fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }), { minLength: 2, maxLength: 2 }),
        fc.array(
          fc.record({ key: fc.nat(3), now: fc.integer({ min: 900, max: 1100 }), leaseMs: fc.integer({ min: 1, max: 300 }), revive: fc.boolean(), entity: fc.option(fc.nat(1), { nil: undefined }) }),
          { minLength: 1, maxLength: 12 },
        ),
        async (states, revisions, picks) => {
          const { batch, single } = twinPrefixes();
          for (const prefix of [batch, single]) {
            for (const [k, state] of states.entries()) {
              if (state === "none") continue;
              const status = state === "live" || state === "expired" ? "processing" : state;
              const leaseUntil = state === "expired" ? "500" : "2000";
              await hset(`${prefix}inbox:k${k}`, { status, token: "old", lease_until: leaseUntil, attempts: "2", first_seen: "100", errors: "[]", source: "s", event_id: `k${k}` });
            }
            for (const [e, revision] of revisions.entries()) if (revision !== undefined) await hset(`${prefix}rev:e${e}`, { revision: padded(revision), fingerprint: `f${revision}` });
          }
          const requests: ClaimRequest[] = picks.map((p, i) => ({
            key: `k${p.key}`,
            source: "s",
            eventId: `k${p.key}`,
            token: `t${i}`,
            now: p.now,
            leaseMs: p.leaseMs,
            ...(p.revive ? { revive: true } : {}),
            ...(p.entity === undefined ? {} : { guardKey: `e${p.entity}` }),
          }));
          const batched = await createRedisStore(client, { keyPrefix: batch }).claimMany!(requests);
          const single1 = await claimOneByOne(createRedisStore(client, { keyPrefix: single }), requests);
          expect(batched).toEqual(single1);
          expect(await snapshot(batch)).toEqual(await snapshot(single));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("answers busy, with the lease it took, for a key claimed earlier in the same batch; one command for the batch", async () => {
    const { batch } = twinPrefixes();
    const { commander, sent } = counted();
    const store = createRedisStore(commander, { keyPrefix: batch });
    const request = (token: string, now: number): ClaimRequest => ({ key: "k", source: "s", eventId: "e", token, now, leaseMs: 100 });
    // The second request comes after the first one's lease would have ended: still ours, so busy.
    expect(await store.claimMany!([request("t1", 1000), request("t2", 5000)])).toEqual([
      { kind: "claimed", attempt: 1, firstSeen: 1000 },
      { kind: "busy", leaseUntil: 1100 },
    ]);
    expect(roundTrips(sent)).toEqual(["EVALSHA"]);
    sent.length = 0;
    expect(pairs((await client.sendCommand(["HGETALL", `${batch}inbox:k`])) as string[])).toMatchObject({ status: "processing", token: "t1", lease_until: "1100" });
    expect(await store.claimMany!([])).toEqual([]);
    expect(sent).toEqual([]);
  });
});

interface CommitPick {
  readonly key: number;
  readonly wrongToken: boolean;
  readonly guard: { readonly entity: number; readonly revision: number; readonly fingerprint: string } | undefined;
  readonly fails: boolean;
  readonly outbox: boolean;
}

/** The work of pick `i`: an effect counted in Redis, maybe an outbox record, maybe a failure. */
function workOf(store: Store, prefix: string, pick: CommitPick, i: number, called: number[]): Work {
  return async (tx) => {
    called.push(i);
    tx.call("HINCRBY", `${prefix}effects`, `r${i}`, "1");
    if (pick.outbox) await store.addToOutbox(tx, [{ id: `o${i % 3}`, source: "s", eventId: `r${i}`, partitionKey: "p", payload: `{"i":${i}}`, now: 1000 + i }]);
    return pick.fails ? permanent(`request ${i} failed`) : undefined;
  };
}

const failure = (i: number): AttemptError => ({ attempt: 1, at: 2000, code: "permanent", message: `request ${i} failed`, retryable: false });

describe("redis store: commitMany", () => {
  it("answers, writes and runs works as commit() one by one would: guard in request order, lost leases, failed works, outbox, retention", async () => {
    const pick = fc.record({
      key: fc.nat(4),
      wrongToken: fc.nat(3).map((n) => n === 0),
      guard: fc.option(fc.record({ entity: fc.nat(1), revision: fc.integer({ min: 1, max: 5 }), fingerprint: fc.constantFrom("a", "b") }), { nil: undefined }),
      fails: fc.boolean(),
      outbox: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }), { minLength: 2, maxLength: 2 }),
        fc.array(pick, { minLength: 1, maxLength: 10 }),
        async (revisions, picks) => {
          const { batch, single } = twinPrefixes();
          const answers: CommitResult[][] = [];
          const calls: number[][] = [];
          for (const prefix of [batch, single]) {
            const store = createRedisStore(client, { keyPrefix: prefix, retentionMs: 60_000 });
            for (const [e, revision] of revisions.entries()) if (revision !== undefined) await hset(`${prefix}rev:e${e}`, { revision: padded(revision), fingerprint: "a" });
            const guardStates = new Map<number, GuardState>();
            for (let k = 0; k < 5; k += 1) {
              // Claimed with entity k % 2's revision read along, as the inbox claims.
              const claim = await store.claim({ key: `k${k}`, source: "s", eventId: `k${k}`, token: `t${k}`, now: 1000, leaseMs: 10_000, guardKey: `e${k % 2}` });
              if (claim.kind === "claimed" && claim.guardState !== undefined) guardStates.set(k % 2, claim.guardState);
            }
            const called: number[] = [];
            const requests: CommitRequest[] = picks.map((p, i) => ({
              key: `k${p.key}`,
              token: p.wrongToken ? "wrong" : `t${p.key}`,
              now: 2000,
              guard: p.guard === undefined ? undefined : { entityKey: `e${p.guard.entity}`, revision: String(p.guard.revision), fingerprint: p.guard.fingerprint },
              guardState: p.guard === undefined ? undefined : guardStates.get(p.guard.entity),
            }));
            const works = picks.map((p, i) => workOf(store, prefix, p, i, called));
            const answer = prefix === batch ? await store.commitMany!(requests, works) : await commitOneByOne(store, requests, works);
            answers.push(answer);
            calls.push(called);
            // A failed work left its claim held: release() takes it (once per key).
            for (const [i, a] of answer.entries()) if (a.kind === "handler_failed") await store.release({ key: requests[i]!.key, token: requests[i]!.token, error: failure(i) });
          }
          expect(answers[0]).toEqual(answers[1]);
          expect(calls[0], "the same works ran, in the same order").toEqual(calls[1]);
          const [b, s] = [await snapshot(batch), await snapshot(single)];
          expect(b).toEqual(s);
          // Exactly once: the effect of every processed request, nothing of any other.
          const effects = (b["effects"] as { value: Record<string, string> } | undefined)?.value ?? {};
          const expected = Object.fromEntries(answers[0]!.flatMap((a, i) => (a.kind === "processed" ? [[`r${i}`, "1"]] : [])));
          expect(effects).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("applies the guard in request order within one batch: rising revisions, stale, duplicate, conflict", async () => {
    const { batch } = twinPrefixes();
    const { commander, sent } = counted();
    const store = createRedisStore(commander, { keyPrefix: batch });
    const revisions = [["1", "a"], ["2", "a"], ["3", "a"], ["2", "a"], ["3", "a"], ["3", "b"]] as const;
    for (const [i] of revisions.entries()) await store.claim({ key: `k${i}`, source: "s", eventId: `k${i}`, token: `t${i}`, now: 1000, leaseMs: 10_000 });
    sent.length = 0;
    const called: number[] = [];
    const results = await store.commitMany!(
      revisions.map(([revision, fingerprint], i) => ({ key: `k${i}`, token: `t${i}`, now: 1000, guard: { entityKey: "wo", revision, fingerprint } })),
      revisions.map((_, i) => async (tx) => void (called.push(i), tx.call("HINCRBY", `${batch}effects`, `r${i}`, "1"))),
    );
    expect(results.map((r) => (r.kind === "guarded" ? r.verdict.verdict : r.kind))).toEqual(["processed", "processed", "processed", "stale", "duplicate", "conflict"]);
    // No revision was stored before the batch: every work ran; the script refused the last three's commands.
    expect(called).toEqual([0, 1, 2, 3, 4, 5]);
    expect(roundTrips(sent), "one round trip to read the revisions, one to commit").toEqual(["EVALSHA", "EVALSHA"]);
    expect(pairs((await client.sendCommand(["HGETALL", `${batch}effects`])) as string[])).toEqual({ r0: "1", r1: "1", r2: "1" });
    expect(pairs((await client.sendCommand(["HGETALL", `${batch}rev:wo`])) as string[])).toEqual({ revision: padded(3), fingerprint: "a" });
    const statuses = await Promise.all(revisions.map(async (_, i) => (await store.inboxStatus(`k${i}`))?.status));
    expect(statuses, "a conflict finishes nothing").toEqual(["processed", "processed", "processed", "stale", "duplicate", "processing"]);
  });

  it("skips the work of an event the stored revision already refuses, reading the revisions in one round trip", async () => {
    const { batch } = twinPrefixes();
    const { commander, sent } = counted();
    const store = createRedisStore(commander, { keyPrefix: batch });
    await hset(`${batch}rev:wo`, { revision: padded(5), fingerprint: "a" });
    const revisions = [["4", "a"], ["5", "a"], ["6", "a"]] as const;
    for (const [i] of revisions.entries()) await store.claim({ key: `k${i}`, source: "s", eventId: `k${i}`, token: `t${i}`, now: 1000, leaseMs: 10_000 });
    sent.length = 0;
    const called: number[] = [];
    const results = await store.commitMany!(
      revisions.map(([revision, fingerprint], i) => ({ key: `k${i}`, token: `t${i}`, now: 1000, guard: { entityKey: "wo", revision, fingerprint } })),
      revisions.map((_, i) => async () => void called.push(i)),
    );
    expect(results.map((r) => (r.kind === "guarded" ? r.verdict.verdict : r.kind))).toEqual(["stale", "duplicate", "processed"]);
    expect(called).toEqual([2]);
    expect(roundTrips(sent)).toEqual(["EVALSHA", "EVALSHA"]);
  });

  it("answers lease_lost for a wrong token; a failed work keeps its claim for release(), and the next claim takes it", async () => {
    const { batch } = twinPrefixes();
    const store = createRedisStore(client, { keyPrefix: batch });
    for (const k of ["a", "b", "c"]) await store.claim({ key: k, source: "s", eventId: k, token: `t-${k}`, now: 1000, leaseMs: 10_000 });
    const effect = (name: string): Work => async (tx) => void tx.call("HINCRBY", `${batch}effects`, name, "1");
    const results = await store.commitMany!(
      [
        { key: "a", token: "t-a", now: 1000, guard: undefined },
        { key: "b", token: "not-b", now: 1000, guard: undefined },
        { key: "c", token: "t-c", now: 1000, guard: undefined },
      ],
      [effect("a"), effect("b"), async (tx) => (tx.call("HINCRBY", `${batch}effects`, "c", "1"), permanent("MAT-9 is unknown"))],
    );
    expect(results).toEqual([{ kind: "processed" }, { kind: "lease_lost" }, { kind: "handler_failed", error: permanent("MAT-9 is unknown") }]);
    expect(pairs((await client.sendCommand(["HGETALL", `${batch}effects`])) as string[]), "only the processed request's effect").toEqual({ a: "1" });
    expect((await store.inboxStatus("b"))?.status).toBe("processing");
    expect(pairs((await client.sendCommand(["HGETALL", `${batch}inbox:c`])) as string[])).toMatchObject({ status: "processing", token: "t-c" });
    expect(await store.release({ key: "c", token: "t-c", error: failure(3) })).toBe(true);
    expect(await store.inboxStatus("c")).toEqual({ status: "pending", attempts: 1, errors: [failure(3)] });
    expect(await store.claimMany!([{ key: "c", source: "s", eventId: "c", token: "t-c2", now: 3000, leaseMs: 100 }])).toEqual([{ kind: "claimed", attempt: 2, firstSeen: 1000 }]);
  });

  it("adds the outbox records of processed requests in request order, once per record id", async () => {
    const { batch } = twinPrefixes();
    const store = createRedisStore(client, { keyPrefix: batch });
    for (const k of ["a", "b", "c", "d"]) await store.claim({ key: k, source: "s", eventId: k, token: `t-${k}`, now: 1000, leaseMs: 10_000 });
    const add = (id: string, fails = false): Work => async (tx) => {
      await store.addToOutbox(tx, [{ id, source: "s", eventId: id, partitionKey: "p", payload: `"${id}"`, now: 1000 }]);
      return fails ? permanent("no") : undefined;
    };
    const results = await store.commitMany!(
      ["a", "b", "c", "d"].map((k) => ({ key: k, token: `t-${k}`, now: 1000, guard: undefined })),
      [add("o1"), add("o2", true), add("o3"), add("o1")],
    );
    expect(results.map((r) => r.kind)).toEqual(["processed", "handler_failed", "processed", "processed"]);
    expect((await store.pendingOutbox(10)).map((r) => [r.id, r.seq])).toEqual([
      ["o1", 1],
      ["o3", 2],
    ]);
  });

  it("refuses works that do not match the requests, naming both counts; an empty batch sends nothing", async () => {
    const { commander, sent } = counted();
    const store = createRedisStore(commander, { keyPrefix: twinPrefixes().batch });
    await expect(store.commitMany!([{ key: "a", token: "t", now: 1, guard: undefined }], [])).rejects.toThrow("commitMany needs one work per request, got 1 requests and 0 works");
    expect(await store.commitMany!([], [])).toEqual([]);
    expect(sent).toEqual([]);
  });
});

describe("redis store: batch forms with replicaAcks", () => {
  it("waits once per batch script, and rejects when no replica acknowledged (a single Redis has none)", async () => {
    const { batch } = twinPrefixes();
    const { commander, sent } = counted();
    const store = createRedisStore(commander, { keyPrefix: batch, replicaAcks: { replicas: 1, timeoutMs: 20 } });
    const requests = ["a", "b", "c"].map((k) => ({ key: k, source: "s", eventId: k, token: `t-${k}`, now: 1000, leaseMs: 10_000 }));
    await expect(store.claimMany!(requests)).rejects.toThrow("0 of 1 replicas acknowledged the write");
    expect(roundTrips(sent)).toEqual(["EVALSHA", "WAIT"]);
    sent.length = 0;
    await expect(
      store.commitMany!(
        requests.map((r) => ({ key: r.key, token: r.token, now: 1000, guard: undefined })),
        requests.map(() => async () => undefined),
      ),
    ).rejects.toThrow("0 of 1 replicas acknowledged the write");
    expect(roundTrips(sent)).toEqual(["EVALSHA", "WAIT"]);
    // Applied on the primary, as the message says.
    expect(await Promise.all(requests.map(async (r) => (await store.inboxStatus(r.key))?.status))).toEqual(["processed", "processed", "processed"]);
  });
});
