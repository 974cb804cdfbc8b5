// The Redis store's batch forms on a Redis Cluster of six local processes: with a hash tag in the
// key prefix every key is in one slot and claimMany/commitMany work as on one Redis (guard,
// outbox, effects on tagged keys), a queued key outside the tag rejects the whole batch before
// anything of it runs; with event slots the store has no batch forms.
import { createCluster } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisClusterStore } from "../../src/redis.js";
import type { ClaimRequest, CommitRequest } from "../../src/store.js";
import { uniqueSuffix } from "../services.js";
import { startRedisCluster, type RedisClusterHarness } from "./redis-cluster-harness.js";

const newCluster = (urls: string[]) => createCluster({ rootNodes: urls.map((url) => ({ url })), defaults: { socket: { connectTimeout: 2000 } } });
type Cluster = ReturnType<typeof newCluster>;

let harness: RedisClusterHarness;
let client: Cluster;

beforeAll(async () => {
  harness = await startRedisCluster();
  client = newCluster(harness.nodes.map((n) => `redis://127.0.0.1:${n.port}`));
  client.on("error", () => undefined);
  await client.connect();
}, 60_000);

afterAll(async () => {
  client?.destroy();
  await harness?.stop();
});

const claims = (keys: readonly string[], guardKey?: string): ClaimRequest[] =>
  keys.map((k) => ({ key: k, source: "s", eventId: k, token: `t-${k}`, now: 1000, leaseMs: 10_000, ...(guardKey === undefined ? {} : { guardKey }) }));

describe("redis cluster store: claimMany and commitMany", () => {
  it("work in the partition slot (keyPrefix with a hash tag): guard in request order, outbox, tagged effects", async () => {
    const prefix = `{b-${uniqueSuffix()}}:`;
    const store = createRedisClusterStore(client, { keyPrefix: prefix });
    const keys = ["a", "b", "c", "d"];
    const claimed = await store.claimMany!(claims(keys, "wo"));
    expect(claimed.map((c) => c.kind)).toEqual(["claimed", "claimed", "claimed", "claimed"]);
    const requests: CommitRequest[] = keys.map((k, i) => ({
      key: k,
      token: `t-${k}`,
      now: 1000,
      guard: { entityKey: "wo", revision: String([1, 2, 2, 3][i]), fingerprint: "f" },
      guardState: claimed[i]!.kind === "claimed" ? claimed[i]!.guardState : undefined,
    }));
    const results = await store.commitMany!(
      requests,
      keys.map((k) => async (tx) => {
        tx.call("HINCRBY", `${prefix}effects`, k, "1");
        await store.addToOutbox(tx, [{ id: `o-${k}`, source: "s", eventId: k, partitionKey: "p", payload: "{}", now: 1000 }]);
        return undefined;
      }),
    );
    expect(results.map((r) => (r.kind === "guarded" ? r.verdict.verdict : r.kind))).toEqual(["processed", "processed", "duplicate", "processed"]);
    const effects = await client.sendCommand(`${prefix}effects`, true, ["HMGET", `${prefix}effects`, ...keys]);
    expect(effects, "the duplicate's effect did not run").toEqual(["1", "1", null, "1"]);
    expect((await store.pendingOutbox(10)).map((r) => r.id)).toEqual(["o-a", "o-b", "o-d"]);
    expect(await store.readRevision("wo")).toEqual({ revision: "3".padStart(20, "0"), fingerprint: "f" });
  });

  it("rejects the whole batch, before any of it runs, when a queued key does not carry the tag", async () => {
    const prefix = `{b-${uniqueSuffix()}}:`;
    const store = createRedisClusterStore(client, { keyPrefix: prefix });
    await store.claimMany!(claims(["a", "b"]));
    const outcome = store.commitMany!(
      ["a", "b"].map((k) => ({ key: k, token: `t-${k}`, now: 1000, guard: undefined })),
      [async (tx) => void tx.call("INCR", `${prefix}own`), async (tx) => void tx.call("INCR", "elsewhere:stock")],
    );
    await expect(outcome).rejects.toThrow(`key "elsewhere:stock" does not carry this transaction's hash tag`);
    expect(await client.sendCommand(`${prefix}own`, true, ["EXISTS", `${prefix}own`]), "the first request's command did not run").toBe(0);
    expect((await store.inboxStatus("a"))?.status).toBe("processing");
    expect((await store.inboxStatus("b"))?.status).toBe("processing");
  });

  it("are absent with event slots (keyPrefix without a hash tag), whose events' keys are in many slots", () => {
    const store = createRedisClusterStore(client, { keyPrefix: `ev-${uniqueSuffix()}:` });
    expect(store.claimMany).toBeUndefined();
    expect(store.commitMany).toBeUndefined();
  });
});
