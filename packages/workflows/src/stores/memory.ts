import type {
  AppendOutcome,
  Claim,
  InstanceFilter,
  InstanceRecord,
  InstanceSnapshot,
  InstanceUpdate,
  Lease,
  NewInstance,
  PendingSignal,
  SignalOutcome,
  StoredEvent,
  WorkflowDeadLetter,
  WorkflowStore,
} from "../store.js";
import { isFinishedState } from "../store.js";
import type { HistoryEntry, HistoryEntryInput, InstanceState, JsonValue } from "../types.js";

/** States after which only `$retry` (to a `failed` instance) makes an instance due again. */

/** Deep copy of stored JSON, so callers never share objects with the store. */
function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/**
 * Creates a workflow store in this process's memory: for tests and demos. Nothing survives the
 * process; every waiting instance is an object in memory (use SQLite or PostgreSQL for many).
 *
 * @returns the store
 * @example
 * const runtime = createWorkflowRuntime({ store: createMemoryWorkflowStore(), workflows: [hold] });
 */
export function createMemoryWorkflowStore(): WorkflowStore {
  const instances = new Map<string, InstanceRecord>();
  const histories = new Map<string, HistoryEntry[]>();
  const signals = new Map<string, PendingSignal[]>();
  const events: StoredEvent[] = [];
  const eventKeys = new Set<string>();
  const deadLetters = new Map<string, WorkflowDeadLetter>();
  let signalSeq = 0;
  let eventSeq = 0;

  const holds = (lease: Lease): InstanceRecord | undefined => {
    const row = instances.get(lease.instanceId);
    return row !== undefined && row.leaseOwner === lease.workerId && row.leaseToken === lease.token ? row : undefined;
  };
  const wakeNow = (row: InstanceRecord, now: number): InstanceRecord => ({
    ...row,
    wakeAt: row.wakeAt === null ? now : Math.min(row.wakeAt, now),
    wokenAt: row.wokenAt === null ? now : Math.min(row.wokenAt, now),
  });

  return {
    createInstance(input: NewInstance) {
      const existing = instances.get(input.id);
      if (existing !== undefined) return Promise.resolve({ instance: copy(existing), created: false });
      const row: InstanceRecord = {
        id: input.id,
        workflow: input.workflow,
        version: input.version,
        key: input.key,
        input: copy(input.input),
        state: "running",
        ...(input.trace === undefined ? {} : { trace: copy(input.trace) }),
        wakeAt: input.now,
        wokenAt: null,
        deadlineAt: input.deadlineAt,
        waitingFor: [],
        leaseOwner: input.lease?.workerId ?? null,
        leaseUntil: input.lease?.until ?? 0,
        leaseToken: input.lease === undefined ? 0 : 1,
        createdAt: input.now,
        updatedAt: input.now,
      };
      instances.set(row.id, row);
      const started: HistoryEntryInput = {
        type: "started",
        at: input.now,
        version: input.version,
        input: copy(input.input),
        ...(input.trace === undefined ? {} : { trace: copy(input.trace) }),
      };
      histories.set(row.id, [{ ...started, seq: 1 }]);
      return Promise.resolve({
        instance: copy(row),
        created: true,
        ...(input.lease === undefined ? {} : { lease: { instanceId: row.id, workerId: input.lease.workerId, token: 1, until: input.lease.until } }),
      });
    },

    claimDue({ workerId, now, leaseMs, limit }) {
      const due = [...instances.values()]
        .filter((row) => row.wakeAt !== null && row.wakeAt <= now && (row.leaseOwner === null || row.leaseUntil <= now))
        .sort((a, b) => (a.wakeAt as number) - (b.wakeAt as number) || (a.id < b.id ? -1 : 1))
        .slice(0, Math.max(0, limit));
      const claims: Claim[] = due.map((row) => {
        const claimed: InstanceRecord = { ...row, leaseOwner: workerId, leaseUntil: now + leaseMs, leaseToken: row.leaseToken + 1, wokenAt: null };
        instances.set(row.id, claimed);
        return { lease: { instanceId: row.id, workerId, token: claimed.leaseToken, until: claimed.leaseUntil }, instance: copy(claimed), recovered: row.leaseOwner !== null };
      });
      return Promise.resolve(claims);
    },

    renewLease(lease, now, leaseMs) {
      const row = holds(lease);
      if (row === undefined) return Promise.resolve(undefined);
      instances.set(row.id, { ...row, leaseUntil: now + leaseMs });
      return Promise.resolve({ ...lease, until: now + leaseMs });
    },

    appendHistory(lease, entries, update: InstanceUpdate, now): Promise<AppendOutcome> {
      const row = holds(lease);
      if (row === undefined) return Promise.resolve({ ok: false, code: "lease_lost", owner: instances.get(lease.instanceId)?.leaseOwner ?? null });
      const history = histories.get(row.id) ?? [];
      for (const entry of entries) history.push({ ...copy(entry), seq: history.length + 1 });
      histories.set(row.id, history);
      let next: InstanceRecord = { ...row, updatedAt: now };
      if (update.state !== undefined) next = { ...next, state: update.state };
      if (update.wakeAt !== undefined) {
        const woken = isFinishedState(next.state) ? null : next.wokenAt;
        next = { ...next, wakeAt: woken === null ? update.wakeAt : Math.min(update.wakeAt ?? woken, woken) };
      }
      if (update.waitingFor !== undefined) next = { ...next, waitingFor: [...update.waitingFor] };
      if (update.eventsSeen !== undefined && !isFinishedState(next.state)) {
        const seen = update.eventsSeen;
        const missed = events.some((e) => seen[e.type] !== undefined && e.seq > (seen[e.type] as number) && e.receivedAt >= row.createdAt);
        if (missed) next = { ...next, wakeAt: next.wakeAt === null ? now : Math.min(next.wakeAt, now) };
      }
      if (update.output !== undefined) next = { ...next, output: copy(update.output) };
      if (update.failure !== undefined) {
        const { failure: _failure, ...rest } = next;
        next = update.failure === null ? rest : { ...rest, failure: copy(update.failure) };
      }
      if (update.release === true) next = { ...next, leaseOwner: null, leaseUntil: 0 };
      instances.set(row.id, next);
      if (update.consumedSignals !== undefined && update.consumedSignals.length > 0) {
        const consumed = new Set(update.consumedSignals);
        signals.set(row.id, (signals.get(row.id) ?? []).filter((s) => !consumed.has(s.seq)));
      }
      if (update.deadLetter === null) deadLetters.delete(row.id);
      else if (update.deadLetter !== undefined) deadLetters.set(row.id, copy(update.deadLetter));
      return Promise.resolve({ ok: true, lastSeq: history.length });
    },

    load(instanceId): Promise<InstanceSnapshot | undefined> {
      const row = instances.get(instanceId);
      if (row === undefined) return Promise.resolve(undefined);
      return Promise.resolve({ instance: copy(row), history: copy(histories.get(instanceId) ?? []), signals: copy(signals.get(instanceId) ?? []) });
    },

    list(filter: InstanceFilter = {}) {
      const rows = [...instances.values()]
        .filter((row) => (filter.state === undefined || row.state === filter.state) && (filter.workflow === undefined || row.workflow === filter.workflow))
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1))
        .slice(0, filter.limit ?? 100);
      return Promise.resolve(rows.map(copy));
    },

    countByState() {
      const counts: Partial<Record<InstanceState, number>> = {};
      for (const row of instances.values()) counts[row.state] = (counts[row.state] ?? 0) + 1;
      return Promise.resolve(counts);
    },

    deliverSignal({ instanceId, name, payload }, now): Promise<SignalOutcome> {
      const row = instances.get(instanceId);
      if (row === undefined) return Promise.resolve("not_found");
      if (isFinishedState(row.state) && !(row.state === "failed" && name === "$retry")) return Promise.resolve("finished");
      const list = signals.get(instanceId) ?? [];
      list.push({ seq: ++signalSeq, instanceId, name, payload: copy(payload), deliveredAt: now });
      signals.set(instanceId, list);
      instances.set(instanceId, wakeNow(row, now));
      return Promise.resolve("delivered");
    },

    deliverEvent(event: { readonly source: string; readonly id: string; readonly type: string; readonly event: JsonValue }, now) {
      const identity = `${event.source}\u0000${event.id}`;
      if (eventKeys.has(identity)) return Promise.resolve({ stored: false, woken: 0 });
      eventKeys.add(identity);
      events.push({ seq: ++eventSeq, source: event.source, id: event.id, type: event.type, event: copy(event.event), receivedAt: now });
      let woken = 0;
      for (const row of instances.values()) {
        if (!isFinishedState(row.state) && row.waitingFor.includes(event.type)) {
          instances.set(row.id, wakeNow(row, now));
          woken += 1;
        }
      }
      return Promise.resolve({ stored: true, woken });
    },

    eventsFor(instanceId, type) {
      const row = instances.get(instanceId);
      if (row === undefined) return Promise.resolve([]);
      return Promise.resolve(events.filter((e) => e.type === type && e.receivedAt >= row.createdAt).map(copy));
    },

    pruneEvents(before) {
      let oldest = before;
      for (const row of instances.values()) if (!isFinishedState(row.state)) oldest = Math.min(oldest, row.createdAt);
      const keep = events.filter((e) => e.receivedAt >= oldest);
      const removed = events.length - keep.length;
      for (const e of events) if (e.receivedAt < oldest) eventKeys.delete(`${e.source}\u0000${e.id}`);
      events.splice(0, events.length, ...keep);
      return Promise.resolve(removed);
    },

    deadLetters(limit = 100) {
      return Promise.resolve([...deadLetters.values()].sort((a, b) => a.at - b.at).slice(0, limit).map(copy));
    },
  };
}
