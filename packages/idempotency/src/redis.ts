// @millwright/idempotency/redis: the store over node-redis (`redis`, an optional peer dependency).
import { createHash } from "node:crypto";
import type { HandlerError } from "./retry.js";
import { decideRevision, type RevisionInput, type RevisionState } from "./revision-guard.js";
import type { AttemptError, ClaimRequest, ClaimResult, CommitRequest, CommitResult, DeadLetterRecord, IdempotencyStore, InboxStatus, OutboxRecord } from "./store.js";

/**
 * What the store needs of a Redis client: one raw command, arguments as strings. A node-redis
 * client (`createClient()`, v5 or v6) has it; for ioredis pass
 * `{ sendCommand: ([name, ...args]) => client.call(name, ...args) }`.
 */
export interface RedisCommander {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * The transaction of the Redis store: commands are queued and run in one Lua script, atomically
 * with the inbox's "processed" (or with each other, in `store.transaction`).
 */
export interface RedisTransaction {
  /** Queues a command, such as `tx.call("HINCRBY", "stock", "MAT-1", "5")`. */
  call(...args: string[]): void;
  /**
   * The hash tag every key of this transaction must carry on a Redis Cluster, such as
   * `{8d3c…}` (the event's slot) or `{line-7}` (a key prefix's tag), so that the commit's script
   * touches one slot: `tx.call("INCR", `count:${tx.hashTag}`)`. Empty on a single Redis
   * ({@link createRedisStore}), where any key works.
   */
  readonly hashTag: string;
}

/**
 * What the cluster store needs of a Redis Cluster client: one raw command routed by a key, as
 * node-redis's `createCluster()` (v5 or v6) has it. The client follows MOVED and ASK redirects.
 */
export interface RedisClusterCommander {
  /** Sends `args` to the primary serving `firstKey`'s slot (any node when undefined), following MOVED and ASK. */
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
}

/**
 * Waits for replicas after every write (Redis `WAIT numreplicas timeout`), so that a write the
 * store reports as done survives a failover that promotes one of those replicas. A write that
 * fewer replicas acknowledged in time rejects (the inbox answers with a `StoreError`, and the
 * broker delivers again): it was applied on the primary but may be lost.
 */
export interface ReplicaAcks {
  /** How many replicas must have the write, at least 1. */
  readonly replicas: number;
  /** How long to wait for them, in ms, at least 1. */
  readonly timeoutMs: number;
}

/** How the Redis store is set up. */
export interface RedisStoreOptions {
  /** Prefix of every key the store writes, such as `millwright:plant1:`. Default `millwright:`. */
  readonly keyPrefix?: string;
  /** How long finished inbox entries (and so deduplication) are kept, in ms. Default: forever. */
  readonly retentionMs?: number;
  /** Waits for this many replicas after every write; default: no waiting (asynchronous replication). */
  readonly replicaAcks?: ReplicaAcks;
}

// Shared Lua: runs queued commands; `__outbox` is the outbox's own command (dedupe, sequence, append);
// `ob` is the outbox keys' prefix.
const APPLY = `
local function append_json(list, item)
  if not list or list == '[]' then return '[' .. item .. ']' end
  return string.sub(list, 1, -2) .. ',' .. item .. ']'
end
local function tag_of(k)
  local s = string.find(k, '{', 1, true)
  if not s then return nil end
  local e = string.find(k, '}', s + 1, true)
  if not e or e == s + 1 then return nil end
  return string.sub(k, s + 1, e - 1)
end
-- On a cluster (tag ~= ''): the first key of the queued commands that does not carry the tag, before anything runs.
local function outside(argv, i, ob, tag)
  if tag == '' then return nil end
  local n = tonumber(argv[i]); i = i + 1
  for c = 1, n do
    local argc = tonumber(argv[i]); i = i + 1
    local cmd = {}
    for a = 1, argc do cmd[a] = argv[i]; i = i + 1 end
    if cmd[1] == '__outbox' then
      if tag_of(ob) ~= tag then return ob .. 'log' end
    else
      local ok, keys = pcall(redis.call, 'COMMAND', 'GETKEYS', unpack(cmd))
      if ok then
        for _, k in ipairs(keys) do if tag_of(k) ~= tag then return k end end
      elseif not string.find(tostring(keys.err or keys), 'no key arguments', 1, true) then
        return cmd[1] .. ': ' .. tostring(keys.err or keys)
      end
    end
  end
  return nil
end
local function apply(argv, i, ob)
  local n = tonumber(argv[i]); i = i + 1
  for c = 1, n do
    local argc = tonumber(argv[i]); i = i + 1
    local cmd = {}
    for a = 1, argc do cmd[a] = argv[i]; i = i + 1 end
    if cmd[1] == '__outbox' then
      if redis.call('SADD', ob .. 'ids', cmd[2]) == 1 then
        local seq = redis.call('INCR', ob .. 'seq')
        redis.call('RPUSH', ob .. 'log', '{"seq":' .. seq .. ',' .. string.sub(cmd[3], 2))
      end
    else
      redis.call(unpack(cmd))
    end
  end
  return i
end
`;

// One claim: k the inbox entry, rk the revision (optional: read with the claim, for the commit's
// early look), revive '1': a dead entry is claimable, afresh.
const CLAIM_ONE = `
local function claimed(rk, a, first)
  if rk then
    local cur = redis.call('HMGET', rk, 'revision', 'fingerprint')
    return {'claimed', a, first, cur[1], cur[2]}
  end
  return {'claimed', a, first}
end
local function claim_one(k, rk, token, now, lease_until, source, event_id, revive)
  local s = redis.call('HMGET', k, 'status', 'lease_until', 'first_seen')
  if not s[1] then
    redis.call('HSET', k, 'status', 'processing', 'token', token, 'lease_until', lease_until, 'attempts', 1, 'first_seen', now, 'errors', '[]', 'source', source, 'event_id', event_id)
    return claimed(rk, '1', now)
  end
  if s[1] == 'dead' and revive == '1' then
    redis.call('HSET', k, 'status', 'processing', 'token', token, 'lease_until', lease_until, 'attempts', 1, 'errors', '[]')
    return claimed(rk, '1', s[3])
  end
  if s[1] == 'processed' or s[1] == 'duplicate' or s[1] == 'stale' or s[1] == 'dead' then return {'done', s[1]} end
  if s[1] == 'processing' and tonumber(s[2]) > tonumber(now) then return {'busy', s[2]} end
  local a = redis.call('HINCRBY', k, 'attempts', 1)
  redis.call('HSET', k, 'status', 'processing', 'token', token, 'lease_until', lease_until)
  return claimed(rk, tostring(a), s[3])
end
`;

// KEYS: inbox, revision (optional). ARGV: token, now, lease_until, source, event_id, revive.
const CLAIM = `${CLAIM_ONE}
return claim_one(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
`;

// KEYS: per request the inbox entry, then its revision when it has one. ARGV: n, then per
// request 7 values: has revision ('1'/'0'), token, now, lease_until, source, event_id, revive.
// Claims in request order; a key claimed earlier in the batch answers busy (the lease is ours).
const CLAIM_MANY = `${CLAIM_ONE}
local out, mine, k = {}, {}, 1
for r = 1, tonumber(ARGV[1]) do
  local a = 2 + (r - 1) * 7
  local ik, rk = KEYS[k], nil
  k = k + 1
  if ARGV[a] == '1' then rk = KEYS[k]; k = k + 1 end
  if mine[ik] then
    out[r] = {'busy', mine[ik]}
  else
    out[r] = claim_one(ik, rk, ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6])
    if out[r][1] == 'claimed' then mine[ik] = ARGV[a + 3] end
  end
end
return out
`;

// The commit of one held claim: k the inbox entry, rk the revision (k when unguarded), guard
// '1': apply the revision guard to rev/fp, the queued commands at argv[i], retention in ms ('0': keep).
const COMMIT_ONE = `${APPLY}
local function held(k, token)
  local st = redis.call('HMGET', k, 'status', 'token')
  return st[1] == 'processing' and st[2] == token
end
local function finish(k, status, retention)
  redis.call('HSET', k, 'status', status)
  redis.call('HDEL', k, 'token')
  if retention ~= '0' then redis.call('PEXPIRE', k, retention) end
end
local function commit_held(k, rk, guard, rev, fp, ob, retention, argv, i)
  if guard == '1' then
    local cur = redis.call('HMGET', rk, 'revision', 'fingerprint')
    if cur[1] and cur[1] >= rev then
      if cur[1] > rev then finish(k, 'stale', retention)
      elseif cur[2] == fp then finish(k, 'duplicate', retention) end
      return {'guard', cur[1], cur[2]}
    end
  end
  apply(argv, i, ob)
  if guard == '1' then redis.call('HSET', rk, 'revision', rev, 'fingerprint', fp) end
  finish(k, 'processed', retention)
  return {'processed'}
end
`;

// KEYS: inbox, revision. ARGV: token, guard?, revision, fingerprint, outbox prefix, retentionMs, hash tag ('' on one Redis), commands…
const COMMIT = `${COMMIT_ONE}
if not held(KEYS[1], ARGV[1]) then return {'lease_lost'} end
local away = outside(ARGV, 8, ARGV[5], ARGV[7])
if away then return {'cross_slot', away} end
return commit_held(KEYS[1], KEYS[2], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV, 8)
`;

// KEYS: per request the inbox entry and the revision (the entry again when unguarded). ARGV:
// outbox prefix, retentionMs, hash tag, n, then per request: token, guard?, revision,
// fingerprint, commands… Every queued key is checked before anything runs; then each request
// commits in order, so the guard sees the revisions the earlier requests stored.
const COMMIT_MANY = `${COMMIT_ONE}
local n = tonumber(ARGV[4])
local starts, i = {}, 5
for r = 1, n do
  starts[r] = i
  i = i + 4
  local c = tonumber(ARGV[i]); i = i + 1
  for _ = 1, c do i = i + 1 + tonumber(ARGV[i]) end
end
if ARGV[3] ~= '' then
  for r = 1, n do
    if held(KEYS[2 * r - 1], ARGV[starts[r]]) then
      local away = outside(ARGV, starts[r] + 4, ARGV[1], ARGV[3])
      if away then return {'cross_slot', away} end
    end
  end
end
local out = {}
for r = 1, n do
  local a, k = starts[r], KEYS[2 * r - 1]
  if held(k, ARGV[a]) then
    out[r] = commit_held(k, KEYS[2 * r], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[1], ARGV[2], ARGV, a + 4)
  else
    out[r] = {'lease_lost'}
  end
end
return out
`;

// KEYS: revisions. The stored revision and fingerprint of each, for commitMany's early look.
const READ_REVISIONS = `
local out = {}
for r, k in ipairs(KEYS) do out[r] = redis.call('HMGET', k, 'revision', 'fingerprint') end
return out
`;

// ARGV: outbox prefix, hash tag, commands…
const EXEC = `${APPLY}
local away = outside(ARGV, 3, ARGV[1], ARGV[2])
if away then return {'cross_slot', away} end
apply(ARGV, 3, ARGV[1])
return 1
`;

const RELEASE = `${APPLY}
local st = redis.call('HMGET', KEYS[1], 'status', 'token', 'errors')
if st[1] ~= 'processing' or st[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', 'pending', 'errors', append_json(st[3], ARGV[2]))
redis.call('HDEL', KEYS[1], 'token')
return 1
`;

// KEYS: dead-letter hash, index. ARGV: id, kind, source, event_id, payload, errors (JSON array), attempts, first_seen, now.
const PUT_DEAD = `
local function put(k, idx, a)
  if redis.call('EXISTS', k) == 0 then
    redis.call('HSET', k, 'id', a[1], 'kind', a[2], 'source', a[3], 'event_id', a[4], 'payload', a[5], 'errors', a[6], 'attempts', a[7], 'first_seen', a[8], 'last_seen', a[9])
    redis.call('ZADD', idx, a[8], a[1])
  else
    local e = redis.call('HGET', k, 'errors')
    redis.call('HSET', k, 'errors', string.sub(e, 1, -2) .. ',' .. string.sub(a[6], 2), 'last_seen', a[9])
    redis.call('HINCRBY', k, 'attempts', a[7])
  end
end
`;

const RAW_DEAD = `${PUT_DEAD}
put(KEYS[1], KEYS[2], ARGV)
return 1
`;

// KEYS: inbox, dead-letter hash, index. ARGV: token, error, id, source, event_id, payload, now.
const DEAD = `${APPLY}${PUT_DEAD}
local st = redis.call('HMGET', KEYS[1], 'status', 'token', 'errors', 'attempts', 'first_seen')
if st[1] ~= 'processing' or st[2] ~= ARGV[1] then return 0 end
local errs = append_json(st[3], ARGV[2])
redis.call('HSET', KEYS[1], 'status', 'dead', 'errors', errs)
redis.call('HDEL', KEYS[1], 'token')
local first = st[5]
if tonumber(ARGV[7]) < tonumber(first) then first = ARGV[7] end
put(KEYS[2], KEYS[3], {ARGV[3], 'event', ARGV[4], ARGV[5], ARGV[6], errs, st[4], first, ARGV[7]})
return 1
`;

// KEYS: inbox. ARGV: token, errors (JSON array). The inbox half of DEAD, for a cluster's event slots.
const MARK_DEAD = `
local st = redis.call('HMGET', KEYS[1], 'status', 'token')
if st[1] ~= 'processing' or st[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', 'dead', 'errors', ARGV[2])
redis.call('HDEL', KEYS[1], 'token')
return 1
`;

// KEYS: dead-letter hash, index. ARGV: id. The record and its index entry go together.
const REMOVE_DEAD = `
local removed = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return removed
`;

const APPLY_REVISION = `
local cur = redis.call('HMGET', KEYS[1], 'revision', 'fingerprint')
if not cur[1] or cur[1] < ARGV[1] then redis.call('HSET', KEYS[1], 'revision', ARGV[1], 'fingerprint', ARGV[2]) end
if not cur[1] then return {} end
return {cur[1], cur[2]}
`;

const LEASE = `
local o = redis.call('GET', KEYS[1])
if not o or o == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]); return 1 end
return 0
`;

const UNLEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

// KEYS: log, sent. ARGV: limit.
const PENDING = `
local out = {}
local limit = tonumber(ARGV[1])
local start = 0
while #out < limit do
  local chunk = redis.call('LRANGE', KEYS[1], start, start + 199)
  if #chunk == 0 then break end
  for _, entry in ipairs(chunk) do
    local id = cjson.decode(entry).id
    if redis.call('SISMEMBER', KEYS[2], id) == 0 then
      out[#out + 1] = entry
      if #out >= limit then break end
    end
  end
  start = start + 200
end
return out
`;

// KEYS: log, sent. ARGV: ids. Trims the sent prefix of the log.
const MARK_SENT = `
for _, id in ipairs(ARGV) do redis.call('SADD', KEYS[2], id) end
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  local id = cjson.decode(head).id
  if redis.call('SISMEMBER', KEYS[2], id) == 0 then break end
  redis.call('LPOP', KEYS[1])
  redis.call('SREM', KEYS[2], id)
end
return 1
`;

// KEYS: log, sent. The sent set holds only ids still in the log, and MARK_SENT trims the sent
// prefix, so the head of the log is the oldest unsent record.
const BACKLOG = `
local pending = redis.call('LLEN', KEYS[1]) - redis.call('SCARD', KEYS[2])
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then head = '' end
return {pending, head}
`;

const DEAD_FIELDS = ["id", "kind", "source", "event_id", "payload", "errors", "attempts", "first_seen", "last_seen"];

function toDeadLetter(values: unknown): DeadLetterRecord | undefined {
  const v = values as (string | null)[];
  if (!Array.isArray(v) || v[0] === null || v[0] === undefined) return undefined;
  const text = (i: number): string => String(v[i] ?? "");
  return {
    id: text(0),
    kind: text(1) === "raw" ? "raw" : "event",
    source: text(2) === "" ? undefined : text(2),
    eventId: text(3) === "" ? undefined : text(3),
    payload: text(4),
    errors: JSON.parse(text(5)) as AttemptError[],
    attempts: Number(text(6)),
    firstSeen: Number(text(7)),
    lastSeen: Number(text(8)),
  };
}

/** CLAIM's arguments after the keys: token, now, lease end, source, event id, revive. */
function claimArgs(r: ClaimRequest): string[] {
  return [r.token, String(r.now), String(r.now + r.leaseMs), r.source, r.eventId, r.revive === true ? "1" : "0"];
}

/** A claim script's answer for one request; `withGuard` when the revision was read with it. */
function toClaimResult(v: readonly (string | null)[], withGuard: boolean): ClaimResult {
  if (v[0] === "claimed") {
    const claimed = { kind: "claimed", attempt: Number(v[1]), firstSeen: Number(v[2]) } as const;
    if (!withGuard) return claimed;
    return { ...claimed, guardState: { current: v[3] === null || v[3] === undefined ? undefined : { revision: String(v[3]), fingerprint: String(v[4]) } } };
  }
  if (v[0] === "busy") return { kind: "busy", leaseUntil: Number(v[1]) };
  return { kind: "done", status: v[1] as "processed" | "duplicate" | "stale" | "dead" };
}

/** The request's guard with its revision zero-padded to 20 digits, so that Lua compares it as text. */
function paddedGuard(r: CommitRequest): RevisionInput | undefined {
  return r.guard === undefined ? undefined : { ...r.guard, revision: r.guard.revision.padStart(20, "0") };
}

/** A commit script's answer for one request. */
function toCommitResult(v: readonly (string | null)[], guard: RevisionInput | undefined): CommitResult {
  if (v[0] === "lease_lost") return { kind: "lease_lost" };
  if (v[0] === "processed") return { kind: "processed" };
  if (guard === undefined) throw new Error(`redis store: the commit script answered ${JSON.stringify(v)} for a commit without a revision guard`);
  const verdict = decideRevision({ revision: String(v[1]), fingerprint: String(v[2]) }, guard);
  if (verdict.verdict === "applied") throw new Error("redis store: the commit script and decideRevision disagree");
  return { kind: "guarded", verdict };
}

function encodeCommands(commands: readonly (readonly string[])[]): string[] {
  const out = [String(commands.length)];
  for (const c of commands) out.push(String(c.length), ...c);
  return out;
}

/** How the cluster store is set up: as for one Redis. A hash tag in `keyPrefix` chooses the partition layout. */
export type RedisClusterStoreOptions = RedisStoreOptions;

/**
 * Creates the store over a Redis client: for many processes, fast, memory-bound. Every state
 * change is one Lua script, so it is atomic. Handler effects are Redis commands queued on the
 * {@link RedisTransaction} and run in the same script as "processed". Like MULTI, a script does
 * not roll back when one of its commands fails: queue only commands that cannot fail on their
 * keys' types. Uses keys outside `KEYS` in scripts, so it needs a single Redis; for a Redis
 * Cluster use {@link createRedisClusterStore}. Has the batch forms `claimMany` and `commitMany`
 * (one script each for all the events of `inbox.processBatch`).
 *
 * @param client - a connected node-redis client (or any {@link RedisCommander})
 * @param options - key prefix, retention and replica acknowledgement
 * @returns the store
 * @example
 * const client = await createClient({ url: "redis://127.0.0.1:6379" }).connect();
 * const inbox = createInbox(createRedisStore(client, { keyPrefix: "plant1:" }));
 * await inbox.process(event, (e, { tx }) => tx.call("HINCRBY", "plant1:stock", e.data.material, "1"));
 */
export function createRedisStore(client: RedisCommander, options: RedisStoreOptions = {}): IdempotencyStore<RedisTransaction> {
  const p = options.keyPrefix ?? "millwright:";
  return buildStore((_key, args) => client.sendCommand(args), singleLayout(p, undefined), options);
}

/**
 * Creates the store over a Redis Cluster client. Every script touches one hash slot, in one of
 * two layouts chosen by `keyPrefix`:
 *
 * - **event slots** (a prefix without a hash tag, such as `millwright:`): the keys of one event
 *   carry the event's inbox key as hash tag, `millwright:inbox:{<key>}`, so events spread over
 *   every slot and primary. Handler effects must carry {@link RedisTransaction.hashTag}; the
 *   revision guard and `outbox.add` inside a handler are refused (their keys live in other slots:
 *   create the inbox with `entityKey: () => undefined`). Dead letters and the outbox have one
 *   slot each; a dead letter is written before its entry is marked dead.
 * - **partition slot** (a prefix with a hash tag, such as `{line-7}:`): every key of the store is
 *   in that one slot, and everything works as on one Redis (guard, outbox, effects on shared keys
 *   carrying the tag). Scale out with one store per partition.
 *
 * A queued command whose key does not carry the tag makes the commit reject before any of its
 * commands runs (in `commitMany`, the whole batch). Only the partition layout has the batch forms
 * `claimMany` and `commitMany`: one script cannot span the slots of several events.
 *
 * @param client - a connected node-redis cluster (`createCluster`), or any {@link RedisClusterCommander}
 * @param options - key prefix (and so the layout), retention and replica acknowledgement
 * @returns the store
 * @example
 * const cluster = await createCluster({ rootNodes: [{ url: "redis://10.0.0.1:7000" }] }).connect();
 * const inbox = createInbox(createRedisClusterStore(cluster), { entityKey: () => undefined });
 * await inbox.process(event, (e, { tx }) => tx.call("INCR", `seen:${tx.hashTag}`));
 */
export function createRedisClusterStore(client: RedisClusterCommander, options: RedisClusterStoreOptions = {}): IdempotencyStore<RedisTransaction> {
  const p = options.keyPrefix ?? "millwright:";
  const tag = hashTagOf(p);
  return buildStore((key, args) => client.sendCommand(key, false, args), tag === undefined ? eventLayout(p) : singleLayout(p, tag), options);
}

/** The content of a key's hash tag as Redis Cluster reads it: between the first `{` and the next `}`, when not empty. */
function hashTagOf(key: string): string | undefined {
  const open = key.indexOf("{");
  if (open < 0) return undefined;
  const close = key.indexOf("}", open + 1);
  return close <= open + 1 ? undefined : key.slice(open + 1, close);
}

interface Layout {
  readonly inbox: (key: string) => string;
  readonly revision: (entityKey: string) => string;
  readonly dead: (id: string) => string;
  readonly deadIndex: string;
  /** Prefix of the outbox keys `ids`, `seq`, `log`, `sent`, `relay`. */
  readonly outbox: string;
  /** The hash tag content the keys of an event's commit carry; '' on one Redis (no check). */
  readonly eventTag: (key: string) => string;
  readonly outboxTag: string;
  /** Event slots: the revision, dead letters and outbox are in other slots than the event. */
  readonly split: boolean;
}

function singleLayout(p: string, tag: string | undefined): Layout {
  return {
    inbox: (key) => `${p}inbox:${key}`,
    revision: (entityKey) => `${p}rev:${entityKey}`,
    dead: (id) => `${p}dl:${id}`,
    deadIndex: `${p}dl:index`,
    outbox: `${p}outbox:`,
    eventTag: () => tag ?? "",
    outboxTag: tag ?? "",
    split: false,
  };
}

function eventLayout(p: string): Layout {
  return {
    inbox: (key) => `${p}inbox:{${key}}`,
    revision: (entityKey) => `${p}rev:{${entityKey}}`,
    dead: (id) => `${p}{${p}dl}:${id}`,
    deadIndex: `${p}{${p}dl}:index`,
    outbox: `${p}{${p}outbox}:`,
    eventTag: (key) => key,
    outboxTag: `${p}outbox`,
    split: true,
  };
}

function buildStore(send: (routeKey: string, args: string[]) => Promise<unknown>, layout: Layout, options: RedisStoreOptions): IdempotencyStore<RedisTransaction> {
  const retention = String(Math.max(0, Math.floor(options.retentionMs ?? 0)));
  const acks = options.replicaAcks;
  if (acks !== undefined && (!Number.isInteger(acks.replicas) || acks.replicas < 1 || !Number.isFinite(acks.timeoutMs) || acks.timeoutMs < 1)) {
    throw new RangeError(`redis store: replicaAcks must be { replicas: an integer >= 1, timeoutMs: >= 1 }, got ${JSON.stringify(acks)}`);
  }
  const shas = new Map<string, string>();
  const { inbox: inboxKeyOf, revision: revisionKey, dead: deadKey, deadIndex } = layout;
  const log = `${layout.outbox}log`;
  const sent = `${layout.outbox}sent`;
  const relayKey = `${layout.outbox}relay`;
  const braced = (tag: string): string => (tag === "" ? "" : `{${tag}}`);

  async function replicated(routeKey: string): Promise<void> {
    if (acks === undefined) return;
    const timeout = String(Math.ceil(acks.timeoutMs));
    const got = Number(await send(routeKey, ["WAIT", String(acks.replicas), timeout]));
    if (got < acks.replicas) {
      throw new Error(`redis store: ${got} of ${acks.replicas} replicas acknowledged the write to ${routeKey} within ${timeout} ms (replicaAcks); it is applied on the primary but a failover may lose it`);
    }
  }

  async function script(source: string, keys: readonly string[], args: readonly string[], write = true): Promise<unknown> {
    let sha = shas.get(source);
    if (sha === undefined) shas.set(source, (sha = createHash("sha1").update(source).digest("hex")));
    const route = keys[0] ?? log;
    let result: unknown;
    try {
      result = await send(route, ["EVALSHA", sha, String(keys.length), ...keys, ...args]);
    } catch (cause) {
      if (!(cause instanceof Error) || !cause.message.includes("NOSCRIPT")) throw cause;
      result = await send(route, ["EVAL", source, String(keys.length), ...keys, ...args]);
    }
    if (Array.isArray(result) && result[0] === "cross_slot") {
      throw new Error(`redis cluster store: key "${String(result[1])}" does not carry this transaction's hash tag, so it may be in another slot; nothing of the transaction ran (use tx.hashTag in every key)`);
    }
    if (write) await replicated(route);
    return result;
  }

  const readDead = async (id: string): Promise<DeadLetterRecord | undefined> => toDeadLetter(await send(deadKey(id), ["HMGET", deadKey(id), ...DEAD_FIELDS]));
  const readRevision = async (entityKey: string): Promise<RevisionState | undefined> => {
    const v = (await send(revisionKey(entityKey), ["HMGET", revisionKey(entityKey), "revision", "fingerprint"])) as (string | null)[];
    return v[0] === null || v[0] === undefined ? undefined : { revision: String(v[0]), fingerprint: String(v[1]) };
  };
  const queue = (hashTag: string): { tx: RedisTransaction; commands: string[][] } => {
    const commands: string[][] = [];
    return { commands, tx: { hashTag, call: (...args) => void commands.push(args.map(String)) } };
  };

  // The batch forms: one script for all claims, one for all commits. Event slots put each
  // event's keys in its own slot, which one script cannot span, so that layout has none.
  const claimMany = async (requests: readonly ClaimRequest[]): Promise<ClaimResult[]> => {
    if (requests.length === 0) return [];
    const keys: string[] = [];
    const args = [String(requests.length)];
    for (const r of requests) {
      keys.push(inboxKeyOf(r.key));
      if (r.guardKey !== undefined) keys.push(revisionKey(r.guardKey));
      args.push(r.guardKey === undefined ? "0" : "1", ...claimArgs(r));
    }
    const v = (await script(CLAIM_MANY, keys, args)) as (string | null)[][];
    return requests.map((r, i) => toClaimResult(v[i]!, r.guardKey !== undefined));
  };

  const commitMany = async (requests: readonly CommitRequest[], works: readonly ((tx: RedisTransaction) => Promise<HandlerError | undefined>)[]): Promise<CommitResult[]> => {
    if (works.length !== requests.length) {
      throw new RangeError(`redis store: commitMany needs one work per request, got ${requests.length} requests and ${works.length} works`);
    }
    const guards = requests.map(paddedGuard);
    // The early look's revisions: the ones read with the claims, the others in one round trip.
    const unread = [...new Set(requests.flatMap((r, i) => (guards[i] !== undefined && r.guardState === undefined ? [guards[i].entityKey] : [])))];
    const read = new Map<string, RevisionState | undefined>();
    if (unread.length > 0) {
      const v = (await script(READ_REVISIONS, unread.map(revisionKey), [], false)) as (string | null)[][];
      unread.forEach((entityKey, i) => {
        const [revision, fingerprint] = v[i] ?? [];
        read.set(entityKey, revision === null || revision === undefined ? undefined : { revision: String(revision), fingerprint: String(fingerprint) });
      });
    }
    // The partition's tag (or '' on one Redis): the same for every key, so any key answers it.
    const tag = layout.eventTag("");
    const results: CommitResult[] = [];
    const committing: number[] = [];
    const keys: string[] = [];
    const args = [layout.outbox, retention, tag, "0"];
    for (const [i, r] of requests.entries()) {
      const guard = guards[i];
      const before = guard === undefined ? undefined : decideRevision(r.guardState !== undefined ? r.guardState.current : read.get(guard.entityKey), guard);
      const ran = before === undefined || before.verdict === "applied";
      const { tx, commands } = queue(braced(tag));
      if (ran) {
        const error = await works[i]!(tx);
        if (error !== undefined) {
          // Not sent: its claim stays ours for release().
          results[i] = { kind: "handler_failed", error };
          continue;
        }
      }
      committing.push(i);
      keys.push(inboxKeyOf(r.key), guard === undefined ? inboxKeyOf(r.key) : revisionKey(guard.entityKey));
      args.push(r.token, guard === undefined ? "0" : "1", guard?.revision ?? "", guard?.fingerprint ?? "", ...encodeCommands(ran ? commands : []));
    }
    if (committing.length > 0) {
      args[3] = String(committing.length);
      const v = (await script(COMMIT_MANY, keys, args)) as (string | null)[][];
      committing.forEach((index, j) => (results[index] = toCommitResult(v[j]!, guards[index])));
    }
    return results;
  };

  return {
    name: "redis",
    claim: async (r) => {
      // The revision is read in the same script where it lives in the event's slot.
      const keys = r.guardKey === undefined || layout.split ? [inboxKeyOf(r.key)] : [inboxKeyOf(r.key), revisionKey(r.guardKey)];
      const v = (await script(CLAIM, keys, claimArgs(r))) as (string | null)[];
      return toClaimResult(v, keys.length === 2);
    },
    commit: async (r, work) => {
      if (layout.split && r.guard !== undefined) {
        throw new Error(
          "redis cluster store: the revision guard needs the inbox entry and the entity's revision in one slot; with event slots create the inbox with entityKey: () => undefined, or put a hash tag in keyPrefix (such as \"{line-7}:\")",
        );
      }
      const guard = paddedGuard(r);
      const keys = [inboxKeyOf(r.key), guard === undefined ? inboxKeyOf(r.key) : revisionKey(guard.entityKey)];
      const tag = layout.eventTag(r.key);
      const head = [r.token, guard === undefined ? "0" : "1", guard?.revision ?? "", guard?.fingerprint ?? "", layout.outbox, retention, tag];
      const { tx, commands } = queue(braced(tag));
      // A cheap look first, so the handler does not run for an event the guard will refuse.
      const before = guard === undefined ? undefined : decideRevision(r.guardState !== undefined ? r.guardState.current : await readRevision(guard.entityKey), guard);
      if (before === undefined || before.verdict === "applied") {
        const error = await work(tx);
        if (error !== undefined) {
          // Nothing ran: the commands were only queued. The claim stays ours for release().
          return { kind: "handler_failed", error };
        }
      }
      const ran = before === undefined || before.verdict === "applied";
      const v = (await script(COMMIT, keys, [...head, ...encodeCommands(ran ? commands : [])])) as (string | null)[];
      return toCommitResult(v, guard);
    },
    release: async (r) => (await script(RELEASE, [inboxKeyOf(r.key)], [r.token, JSON.stringify(r.error)])) === 1,
    deadLetter: async (r) => {
      if (!layout.split) {
        const done = await script(DEAD, [inboxKeyOf(r.key), deadKey(r.id), deadIndex], [r.token, JSON.stringify(r.error), r.id, r.source, r.eventId, r.payload, String(r.now)]);
        return done === 1 ? readDead(r.id) : undefined;
      }
      // Event slots: the record first (its own slot), then the entry, so a crash between leaves a
      // record to replay (a duplicate if the event was processed meanwhile), never a dead entry without one.
      const entry = inboxKeyOf(r.key);
      const st = (await send(entry, ["HMGET", entry, "status", "token", "errors", "attempts", "first_seen"])) as (string | null)[];
      if (st[0] !== "processing" || st[1] !== r.token) return undefined;
      const errors = JSON.stringify([...(JSON.parse(String(st[2] ?? "[]")) as AttemptError[]), r.error]);
      const first = Math.min(Number(st[4] ?? r.now), r.now);
      await script(RAW_DEAD, [deadKey(r.id), deadIndex], [r.id, "event", r.source, r.eventId, r.payload, errors, String(st[3] ?? "1"), String(first), String(r.now)]);
      return (await script(MARK_DEAD, [entry], [r.token, errors])) === 1 ? readDead(r.id) : undefined;
    },
    putRawDeadLetter: async (r) => {
      await script(RAW_DEAD, [deadKey(r.id), deadIndex], [r.id, "raw", r.source ?? "", "", r.payload, JSON.stringify([r.error]), "1", String(r.now), String(r.now)]);
      return (await readDead(r.id))!;
    },
    getDeadLetter: readDead,
    listDeadLetters: async ({ limit, offset }) => {
      if (limit <= 0) return [];
      const ids = (await send(deadIndex, ["ZRANGE", deadIndex, String(offset), String(offset + limit - 1)])) as string[];
      const records = await Promise.all(ids.map(readDead));
      return records.filter((r): r is DeadLetterRecord => r !== undefined);
    },
    removeDeadLetter: async (id) => Number(await script(REMOVE_DEAD, [deadKey(id), deadIndex], [id])) > 0,
    inboxStatus: async (key) => {
      const v = (await send(inboxKeyOf(key), ["HMGET", inboxKeyOf(key), "status", "attempts", "errors"])) as (string | null)[];
      if (v[0] === null || v[0] === undefined) return undefined;
      return { status: v[0] as InboxStatus, attempts: Number(v[1]), errors: JSON.parse(String(v[2] ?? "[]")) as AttemptError[] };
    },
    applyRevision: async (input) => {
      const padded = input.revision.padStart(20, "0");
      const v = (await script(APPLY_REVISION, [revisionKey(input.entityKey)], [padded, input.fingerprint])) as string[];
      return decideRevision(v.length === 0 ? undefined : { revision: String(v[0]), fingerprint: String(v[1]) }, input);
    },
    readRevision,
    ...(layout.split ? {} : { claimMany, commitMany }),
    transaction: async (work) => {
      const { tx, commands } = queue(braced(layout.outboxTag));
      const value = await work(tx);
      if (commands.length > 0) await script(EXEC, [], [layout.outbox, layout.outboxTag, ...encodeCommands(commands)]);
      return value;
    },
    addToOutbox: async (tx, records) => {
      for (const r of records) {
        tx.call("__outbox", r.id, JSON.stringify({ id: r.id, source: r.source, eventId: r.eventId, partitionKey: r.partitionKey, payload: r.payload, addedAt: r.now }));
      }
    },
    acquireRelayLease: async (owner, _now, leaseMs) => (await script(LEASE, [relayKey], [owner, String(Math.max(1, Math.floor(leaseMs)))])) === 1,
    releaseRelayLease: async (owner) => void (await script(UNLEASE, [relayKey], [owner])),
    pendingOutbox: async (limit) => {
      const entries = (await script(PENDING, [log, sent], [String(limit)], false)) as string[];
      return entries.map((e) => JSON.parse(e) as OutboxRecord);
    },
    markSent: async (ids) => {
      if (ids.length > 0) await script(MARK_SENT, [log, sent], [...ids]);
    },
    outboxBacklog: async () => {
      const [pending, head] = (await script(BACKLOG, [log, sent], [], false)) as [number, string];
      return { pending: Number(pending), oldestAddedAt: head === "" ? undefined : (JSON.parse(head) as OutboxRecord).addedAt };
    },
  };
}
