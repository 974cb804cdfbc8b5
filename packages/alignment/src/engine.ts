import type { CanonicalEvent } from "@millwright/events";
import { err, ok, type Result } from "neverthrow";
import type { AlignmentError } from "./errors.js";
import type { BreachedFinding, BreachReason, Evidence, Finding, ResolvedFinding } from "./finding.js";
import { compareObserved, judgeKey, type KeyState, type ObservedEvent, type Verdict } from "./judge.js";
import type { AlignmentRule } from "./rule.js";
import { createMemoryStore, type AlignmentStore } from "./store.js";

/** What {@link createEngine} needs. */
export interface EngineOptions {
  readonly rules: readonly AlignmentRule[];
  /** Where per-key state lives; a fresh in-memory store by default. */
  readonly store?: AlignmentStore;
  /**
   * How long, in ms, tombstones of closed keys and keys without a trigger are kept (default 24 h).
   * Events for a key arriving more than this after it closed are treated as new.
   */
  readonly retentionMs?: number;
}

/** What one event did: how many rules used it, and how many saw it as a duplicate or as late for a closed key. */
export interface IngestOutcome {
  readonly matched: number;
  readonly duplicates: number;
  readonly late: number;
}

/** The alignment engine: feed it events in any order, then ask it what is out of alignment at a time. */
export interface AlignmentEngine {
  /**
   * Takes one canonical event. Duplicates (same source and id) are ignored; order does not matter.
   * Only an event without a usable `time` is refused.
   */
  readonly ingest: (event: CanonicalEvent) => Result<IngestOutcome, AlignmentError>;
  /**
   * Evaluates every open key at `now` (the injected clock): reports breaches and resolutions,
   * closes fulfilled keys, drops stale orphans and purges old tombstones.
   */
  readonly evaluate: (now: Date | number) => readonly Finding[];
  readonly store: AlignmentStore;
}

const DAY_MS = 86_400_000;

function insert(events: readonly ObservedEvent[], next: ObservedEvent): readonly ObservedEvent[] | undefined {
  let at = events.length;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i] as ObservedEvent;
    if (e.id === next.id && e.source === next.source) return undefined;
    if (compareObserved(e, next) > 0) at = i;
  }
  // Copy on write: states handed to a store are never mutated afterwards.
  const out = events.slice(0, at);
  out.push(next);
  for (let i = at; i < events.length; i++) out.push(events[i] as ObservedEvent);
  return out;
}

function toEvidence(events: readonly ObservedEvent[]): readonly Evidence[] {
  return events.map(({ id, type, source, time, role }) => ({ id, type, source, time, role }));
}

const iso = (ms: number): string => new Date(ms).toISOString();

function findingFor(state: KeyState, verdict: Verdict, at: string): { readonly finding?: Finding; readonly next: "keep" | "breached" | "close" } {
  switch (verdict.status) {
    case "orphan":
    case "waiting":
      return { next: "keep" };
    case "missing": {
      if (state.breached) return { next: "keep" };
      const finding: BreachedFinding = {
        kind: "breached",
        rule: state.rule,
        key: state.key,
        reasons: ["missing"],
        dueAt: iso(verdict.dueMs),
        latenessMs: verdict.latenessMs,
        evidence: toEvidence(state.events),
        at,
      };
      return { finding, next: "breached" };
    }
    case "fulfilled": {
      const base = { rule: state.rule, key: state.key, dueAt: iso(verdict.dueMs), latenessMs: verdict.latenessMs, evidence: toEvidence(state.events), at };
      const q = verdict.quantity;
      const quantity = q?.ok === true ? { quantityDifference: q.difference, unit: q.unit } : {};
      if (state.breached) {
        const resolved: ResolvedFinding = { kind: "resolved", ...base, ...quantity, ...(q?.ok === true ? { withinTolerance: q.withinTolerance } : {}) };
        return { finding: resolved, next: "close" };
      }
      const reasons: BreachReason[] = [];
      if (verdict.latenessMs > 0) reasons.push("late");
      if (q?.ok === true && !q.withinTolerance) reasons.push("quantity_mismatch");
      if (q?.ok === false) reasons.push("quantity_unverifiable");
      if (reasons.length === 0) return { next: "close" };
      const breached: BreachedFinding = { kind: "breached", ...base, ...quantity, reasons, ...(q?.ok === false ? { detail: q.detail } : {}) };
      return { finding: breached, next: "close" };
    }
  }
}

function compareFindings(order: ReadonlyMap<string, number>): (a: Finding, b: Finding) => number {
  return (a, b) => {
    const ra = order.get(a.rule) ?? 0;
    const rb = order.get(b.rule) ?? 0;
    if (ra !== rb) return ra - rb;
    if (a.key !== b.key) return a.key < b.key ? -1 : 1;
    return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
  };
}

/**
 * Creates an alignment engine over a set of rules. Findings depend only on the set of events
 * ingested before each evaluation, not on their order or on duplicates.
 *
 * @param options - the rules, an optional store and the retention of closed keys
 * @returns the engine
 * @example
 * const engine = createEngine({ rules: builtInRules() });
 * for (const event of events) engine.ingest(event);
 * const findings = engine.evaluate(new Date("2026-03-02T00:00:00Z"));
 */
export function createEngine(options: EngineOptions): AlignmentEngine {
  const { rules } = options;
  const names = new Set<string>();
  for (const rule of rules) {
    if (names.has(rule.name)) throw new TypeError(`createEngine: two rules are named ${JSON.stringify(rule.name)}`);
    names.add(rule.name);
  }
  const byName = new Map(rules.map((r) => [r.name, r] as const));
  const order = new Map(rules.map((r, i) => [r.name, i] as const));
  const store = options.store ?? createMemoryStore();
  const retentionMs = options.retentionMs ?? DAY_MS;

  const ingest = (event: CanonicalEvent): Result<IngestOutcome, AlignmentError> => {
    if (event.time === undefined) return err({ code: "missing_time", path: "/time", message: `event ${event.id} from ${event.source} has no time; alignment needs when each fact happened`, value: undefined });
    const timeMs = Date.parse(event.time);
    if (Number.isNaN(timeMs)) return err({ code: "invalid_time", path: "/time", message: `${JSON.stringify(event.time)} is not a time`, value: event.time });
    let matched = 0;
    let duplicates = 0;
    let late = 0;
    for (const rule of rules) {
      const observation = rule.observe(event);
      if (observation === undefined) continue;
      matched += 1;
      if (store.isClosed(rule.name, observation.key)) {
        late += 1;
        continue;
      }
      const { id, type, source, time } = event;
      const observed: ObservedEvent =
        observation.quantity === undefined
          ? { id, type, source, time, timeMs, role: observation.role }
          : { id, type, source, time, timeMs, role: observation.role, quantity: observation.quantity };
      const current = store.get(rule.name, observation.key);
      if (current === undefined) {
        store.put({ rule: rule.name, key: observation.key, events: [observed], breached: false });
        continue;
      }
      const events = insert(current.events, observed);
      if (events === undefined) duplicates += 1;
      else store.put({ rule: current.rule, key: current.key, events, breached: current.breached });
    }
    return ok({ matched, duplicates, late });
  };

  const evaluate = (now: Date | number): readonly Finding[] => {
    const nowMs = typeof now === "number" ? now : now.getTime();
    const at = iso(nowMs);
    const findings: Finding[] = [];
    const changes: { state: KeyState; next: "breached" | "close" | "drop" }[] = [];
    for (const state of store.open()) {
      const rule = byName.get(state.rule);
      if (rule === undefined) continue;
      const verdict = judgeKey(rule, state, nowMs);
      if (verdict.status === "orphan") {
        const last = state.events[state.events.length - 1];
        if (last !== undefined && last.timeMs + retentionMs < nowMs) changes.push({ state, next: "drop" });
        continue;
      }
      const { finding, next } = findingFor(state, verdict, at);
      if (finding !== undefined) findings.push(finding);
      if (next !== "keep") changes.push({ state, next });
    }
    for (const { state, next } of changes) {
      if (next === "breached") store.put({ ...state, breached: true });
      else if (next === "close") store.close(state.rule, state.key, nowMs);
      else store.drop(state.rule, state.key);
    }
    store.purgeClosed(nowMs - retentionMs);
    return findings.sort(compareFindings(order));
  };

  return { ingest, evaluate, store };
}
