import type { CanonicalEvent } from "@millwright/events";
import type { Quantity } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";
import type { AlignmentError } from "./errors.js";
import { toEvidenceItem, type BreachedFinding, type BreachReason, type Evidence, type Finding, type ResolvedFinding } from "./finding.js";
import { checkObservation, compareObserved, judgeKey, labelsOf, type KeyState, type ObservedEvent, type Verdict } from "./judge.js";
import type { AlignmentRule, ObservationRole } from "./rule.js";
import { createMemoryStore, type AlignmentStore } from "./store.js";
import { parseTime } from "./time.js";
import { WORKING_SET, type KeySlot, type RuleTable, type WorkingSet } from "./working-set.js";

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
  /**
   * How long after its due time a missing fulfilment is waited for (default 7 days) when the rule
   * does not say: then the breach is reported resolved as `abandoned` and the key is forgotten, so
   * keys that never resolve do not hold memory forever.
   */
  readonly giveUpAfterMs?: number;
}

/** What one event did: how many rules used it, and how many saw it as a duplicate or as late for a closed key. */
export interface IngestOutcome {
  readonly matched: number;
  readonly duplicates: number;
  readonly late: number;
}

/** What the engine's evaluations decided for one rule, counted since the engine was created. */
export interface RuleOutcomes {
  /** Keys fulfilled on time with agreeing quantities: closed without a finding. */
  readonly met: number;
  /** Breached findings reported. */
  readonly breached: number;
  /** Breaches resolved because their fulfilment came. */
  readonly resolved: number;
  /** Breaches given up on (resolved as abandoned). */
  readonly abandoned: number;
}

/** The alignment engine: feed it events in any order, then ask it what is out of alignment at a time. */
export interface AlignmentEngine {
  /**
   * Takes one canonical event. Duplicates (same source and id) are ignored; order does not matter.
   * Only an event without a usable `time` is refused.
   */
  readonly ingest: (event: CanonicalEvent) => Result<IngestOutcome, AlignmentError>;
  /**
   * Evaluates every open key at `now` (the injected clock), on the events whose time is not after
   * `now`: reports breaches and resolutions, closes fulfilled and abandoned keys, drops stale
   * orphans and purges old tombstones.
   */
  readonly evaluate: (now: Date | number) => readonly Finding[];
  /** Per rule, in rule order: what the evaluations decided so far (for reports, SLO ratios and metrics). */
  readonly outcomes: () => ReadonlyMap<string, RuleOutcomes>;
  readonly store: AlignmentStore;
}

const DAY_MS = 86_400_000;
const MAX_SHARED_SOURCES = 4096;
/** The most events a finding carries as evidence (the schema's bound). */
const MAX_EVIDENCE = 1000;

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

/**
 * Adds an event to a slot in canonical order, in place (copying the list first only when a
 * snapshot shares it); false for a duplicate. The labels are recomputed only when the event
 * names a site or a line (the first that name them, in canonical order).
 */
function append(slot: KeySlot, next: ObservedEvent): boolean {
  const events = slot.events;
  let at = events.length;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i] as ObservedEvent;
    if (e.id === next.id && e.source === next.source) return false;
    if (compareObserved(e, next) > 0) at = i;
  }
  if (slot.shared) {
    const out = events.slice(0, at);
    out.push(next);
    for (let i = at; i < events.length; i++) out.push(events[i] as ObservedEvent);
    slot.events = out;
    slot.shared = false;
  } else if (at === events.length) events.push(next);
  else events.splice(at, 0, next);
  if (next.site !== undefined || next.line !== undefined) {
    const { site, line } = labelsOf(slot.events);
    slot.site = site;
    slot.line = line;
  }
  return true;
}

/**
 * One event as a key keeps it. Optional fields only when present, always in this order: states
 * are compared and persisted as plain data. The combinations the built-in rules produce are
 * object literals, so every field sits inside the object (fields added one by one past the
 * literal's own would take a second allocation per event).
 */
function observedEvent(
  id: string,
  type: string,
  source: string,
  time: string,
  timeMs: number,
  role: ObservationRole,
  quantity: Quantity | undefined,
  site: string | undefined,
  line: string | undefined,
  fact: string | undefined,
  reversal: boolean,
  reverses: string | undefined,
): ObservedEvent {
  if (!reversal && reverses === undefined) {
    if (fact === undefined) {
      if (line === undefined) {
        if (quantity === undefined) return site === undefined ? { id, type, source, time, timeMs, role } : { id, type, source, time, timeMs, role, site };
        if (site !== undefined) return { id, type, source, time, timeMs, role, quantity, site };
      } else if (quantity !== undefined && site !== undefined) return { id, type, source, time, timeMs, role, quantity, site, line };
    } else if (line === undefined) {
      if (quantity !== undefined) return site === undefined ? { id, type, source, time, timeMs, role, quantity, fact } : { id, type, source, time, timeMs, role, quantity, site, fact };
      if (site !== undefined) return { id, type, source, time, timeMs, role, site, fact };
    }
  }
  const observed: Writable<ObservedEvent> = { id, type, source, time, timeMs, role };
  if (quantity !== undefined) observed.quantity = quantity;
  if (site !== undefined) observed.site = site;
  if (line !== undefined) observed.line = line;
  if (fact !== undefined) observed.fact = fact;
  if (reversal) observed.reversal = true;
  if (reverses !== undefined) observed.reverses = reverses;
  return observed;
}

/** One rule as the engine holds it: its table in the working set (addressed once, not by name per event) and its counts. */
interface RuleEntry {
  readonly rule: AlignmentRule;
  readonly table: RuleTable | undefined;
  readonly counts: { met: number; breached: number; resolved: number; abandoned: number };
}

/** The working set of a store of this library, if it is one. */
function workingSetOf(store: AlignmentStore): WorkingSet | undefined {
  return (store as { readonly [WORKING_SET]?: WorkingSet })[WORKING_SET];
}

function toEvidence(events: readonly ObservedEvent[]): readonly Evidence[] {
  const kept = events.length > MAX_EVIDENCE ? events.slice(0, MAX_EVIDENCE) : events;
  return kept.map(toEvidenceItem);
}

/** A key's state with the given labels; optional fields only when present (states are persisted as plain data). */
function withLabels(rule: string, key: string, events: readonly ObservedEvent[], breached: boolean, site: string | undefined, line: string | undefined): KeyState {
  if (site === undefined) return line === undefined ? { rule, key, events, breached } : { rule, key, events, breached, line };
  return line === undefined ? { rule, key, events, breached, site } : { rule, key, events, breached, site, line };
}

/** A key's state with its labels recomputed from its events. */
function stateOf(rule: string, key: string, events: readonly ObservedEvent[], breached: boolean): KeyState {
  const { site, line } = labelsOf(events);
  return withLabels(rule, key, events, breached, site, line);
}

const iso = (ms: number): string => new Date(ms).toISOString();

const KEEP = { findings: [], next: "keep" } as const;
type Writable<T> = { -readonly [K in keyof T]: T[K] };
/** The outcomes of events that are neither duplicates nor late, made once (frozen, shared by every call). */
const COMMON_OUTCOMES: readonly Result<IngestOutcome, AlignmentError>[] = Array.from({ length: 16 }, (_, matched) => Object.freeze(ok(Object.freeze({ matched, duplicates: 0, late: 0 }))));
const MET = { findings: [], next: "close" } as const;

function findingsFor(state: KeyState, verdict: Verdict, at: string): { readonly findings: readonly Finding[]; readonly next: "keep" | "breached" | "close" } {
  // The common cases first, without allocating: not due yet, or a missing key already reported.
  if (verdict.status === "orphan" || verdict.status === "waiting" || (verdict.status === "missing" && state.breached)) return KEEP;
  // Fulfilled on time with agreeing quantities (most keys): closed without building a finding.
  if (verdict.status === "fulfilled" && !state.breached && verdict.latenessMs <= 0 && (verdict.quantity === undefined || (verdict.quantity.ok && verdict.quantity.withinTolerance))) return MET;
  const base = {
    rule: state.rule,
    key: state.key,
    ...(state.site === undefined ? {} : { site: state.site }),
    ...(state.line === undefined ? {} : { line: state.line }),
    dueAt: iso(verdict.dueMs),
    latenessMs: verdict.latenessMs,
    evidence: toEvidence(state.events),
    at,
    revision: String(verdict.dueMs),
  };
  const missing: BreachedFinding = { kind: "breached", ...base, reasons: ["missing"] };
  switch (verdict.status) {
    case "missing":
      return { findings: [missing], next: "breached" };
    case "abandoned": {
      // A key never seen missing (the evaluation jumped past the give-up time) is reported breached
      // first, so every resolution follows its breach.
      const abandoned: ResolvedFinding = { kind: "resolved", ...base, resolution: "abandoned" };
      return { findings: state.breached ? [abandoned] : [missing, abandoned], next: "close" };
    }
    case "fulfilled": {
      const q = verdict.quantity;
      const quantity = q?.ok === true ? { quantityDifference: q.difference, unit: q.unit, withinTolerance: q.withinTolerance } : {};
      if (state.breached) {
        const resolved: ResolvedFinding = { kind: "resolved", ...base, ...quantity, resolution: "fulfilled" };
        return { findings: [resolved], next: "close" };
      }
      const reasons: BreachReason[] = [];
      if (verdict.latenessMs > 0) reasons.push("late");
      if (q?.ok === true && !q.withinTolerance) reasons.push("quantity_mismatch");
      if (q?.ok === false) reasons.push("quantity_unverifiable");
      if (reasons.length === 0) return { findings: [], next: "close" };
      const breached: BreachedFinding = { kind: "breached", ...base, ...quantity, reasons, ...(q?.ok === false ? { detail: q.detail } : {}) };
      return { findings: [breached], next: "close" };
    }
  }
}

/**
 * The key as it stood at `nowMs`: only events whose time is not after it. An evaluation never
 * sees facts from its future (clock skew, or a log read ahead), so evaluating at a watermark gives
 * the same findings however the events before it arrived.
 */
function asOf(state: KeyState, nowMs: number): KeyState {
  const { events } = state;
  const last = events[events.length - 1];
  if (last === undefined || last.timeMs <= nowMs) return state;
  let end = events.length - 1;
  while (end > 0 && (events[end - 1] as ObservedEvent).timeMs > nowMs) end -= 1;
  const kept = events.slice(0, end);
  return stateOf(state.rule, state.key, kept, state.breached);
}

function compareFindings(order: ReadonlyMap<string, number>): (a: Finding, b: Finding) => number {
  return (a, b) => {
    const ra = order.get(a.rule) ?? 0;
    const rb = order.get(b.rule) ?? 0;
    if (ra !== rb) return ra - rb;
    if (a.key !== b.key) return a.key < b.key ? -1 : 1;
    // A breach precedes its resolution.
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
  // Rules by the event types they read (in the rules' order), built as types are first seen: an
  // event visits only the rules that read its type, and the rules that read every type.
  // Each type is kept once, as first seen: the kept events share that string instead of each
  // holding the copy JSON.parse made (fewer live bytes for the young-generation GC to copy).
  const byType = new Map<string, { readonly type: string; readonly rules: readonly RuleEntry[] }>();
  const rulesFor = (type: string): { readonly type: string; readonly rules: readonly RuleEntry[] } => {
    let entry = byType.get(type);
    if (entry === undefined) {
      entry = { type, rules: entries.filter(({ rule: r }) => r.types === undefined || r.types.includes(type)) };
      byType.set(type, entry);
    }
    return entry;
  };
  // Sources likewise (bounded: a stream of distinct sources cannot grow it).
  const sources = new Map<string, string>();
  let lastSource = "";
  const sourceOf = (source: string): string => {
    // Consecutive events often share a source: compared first, without a lookup.
    if (source === lastSource) return lastSource;
    lastSource = sourceOfNew(source);
    return lastSource;
  };
  const sourceOfNew = (source: string): string => {
    const known = sources.get(source);
    if (known !== undefined) return known;
    if (sources.size >= MAX_SHARED_SOURCES) sources.clear();
    sources.set(source, source);
    return source;
  };
  const order = new Map(rules.map((r, i) => [r.name, i] as const));
  const store = options.store ?? createMemoryStore();
  // The library's stores let the engine append to a key in place; any other store gets a new
  // state (copy on write) per event.
  const ws = workingSetOf(store);
  const entries: readonly RuleEntry[] = rules.map((rule) => ({ rule, table: ws?.table(rule.name), counts: { met: 0, breached: 0, resolved: 0, abandoned: 0 } }));
  const byName = new Map(entries.map((e) => [e.rule.name, e] as const));
  const retentionMs = options.retentionMs ?? DAY_MS;
  const giveUpAfterMs = options.giveUpAfterMs ?? 7 * DAY_MS;
  if (!Number.isFinite(retentionMs) || retentionMs < 0) throw new TypeError(`createEngine: retentionMs must be a finite number ≥ 0, got ${String(retentionMs)}`);
  if (!Number.isFinite(giveUpAfterMs) || giveUpAfterMs < 0) throw new TypeError(`createEngine: giveUpAfterMs must be a finite number ≥ 0, got ${String(giveUpAfterMs)}`);

  const ingest = (event: CanonicalEvent): Result<IngestOutcome, AlignmentError> => {
    if (event.time === undefined) return err({ code: "missing_time", path: "/time", message: `event ${event.id} from ${event.source} has no time; alignment needs when each fact happened`, value: undefined });
    const timeMs = parseTime(event.time);
    if (Number.isNaN(timeMs)) return err({ code: "invalid_time", path: "/time", message: `${JSON.stringify(event.time)} is not a time`, value: event.time });
    let matched = 0;
    let duplicates = 0;
    let late = 0;
    const typed = rulesFor(event.type);
    let source: string | undefined;
    for (const { rule, table } of typed.rules) {
      const observation = rule.observe(event);
      if (observation === undefined) continue;
      matched += 1;
      // In one of the library's stores, one lookup finds the key open, closed (a tombstone, which
      // the memory store may keep next to an open state) or new.
      let slot: KeySlot | undefined;
      if (table !== undefined) {
        slot = table.keys.get(observation.key);
        if (slot !== undefined && slot.closedAtMs !== undefined) {
          late += 1;
          continue;
        }
      } else if (store.isClosed(rule.name, observation.key)) {
        late += 1;
        continue;
      }
      const { id, time } = event;
      const type = typed.type;
      source ??= sourceOf(event.source);
      const { role, quantity, site, line, fact, reversal, reverses } = observation;
      if (reversal === true) checkObservation(rule.name, observation);
      const observed = observedEvent(id, type, source, time, timeMs, role, quantity, site, line, fact, reversal === true, reverses);
      if (table !== undefined) {
        if (slot === undefined) (ws as WorkingSet).create(table, observation.key, observed);
        else if (append(slot, observed)) (ws as WorkingSet).changed(slot);
        else duplicates += 1;
        continue;
      }
      const current = store.get(rule.name, observation.key);
      if (current === undefined) {
        store.put(stateOf(rule.name, observation.key, [observed], false));
        continue;
      }
      const events = insert(current.events, observed);
      if (events === undefined) duplicates += 1;
      // An event without labels cannot change the key's labels (the first that name them).
      else if (site === undefined && line === undefined) store.put(withLabels(current.rule, current.key, events, current.breached, current.site, current.line));
      else store.put(stateOf(current.rule, current.key, events, current.breached));
    }
    return duplicates === 0 && late === 0 && matched < COMMON_OUTCOMES.length ? (COMMON_OUTCOMES[matched] as Result<IngestOutcome, AlignmentError>) : ok({ matched, duplicates, late });
  };

  /** Counts a key's findings (or its closing without one) for `outcomes`. */
  const count = (counts: RuleEntry["counts"], judged: { readonly findings: readonly Finding[]; readonly next: string }): void => {
    if (judged.findings.length === 0 && judged.next === "close") counts.met += 1;
    for (const f of judged.findings) {
      if (f.kind === "breached") counts.breached += 1;
      else if (f.resolution === "abandoned") counts.abandoned += 1;
      else counts.resolved += 1;
    }
  };

  const evaluate = (now: Date | number): readonly Finding[] => {
    const nowMs = typeof now === "number" ? now : now.getTime();
    const at = iso(nowMs);
    const findings: Finding[] = [];
    if (ws !== undefined) {
      // The library's stores: the open slots are walked from the end, each read as the key's state
      // (nothing keeps it, so no snapshot is made) and changed in place. Closing or dropping a slot
      // moves the last slot, one already judged, into its place.
      const slots = ws.slots();
      for (let i = slots.length - 1; i >= 0; i--) {
        const slot = slots[i] as KeySlot;
        const entry = byName.get(slot.rule);
        if (entry === undefined) continue;
        const state = slot as unknown as KeyState;
        const visible = asOf(state, nowMs);
        const verdict = judgeKey(entry.rule, visible, nowMs, giveUpAfterMs);
        if (verdict.status === "orphan") {
          const last = state.events[state.events.length - 1];
          if (last !== undefined && last.timeMs + retentionMs < nowMs) ws.dropSlot(slot);
          continue;
        }
        const judged = findingsFor(visible, verdict, at);
        for (const f of judged.findings) findings.push(f);
        count(entry.counts, judged);
        if (judged.next === "breached") {
          slot.breached = true;
          ws.changed(slot);
        } else if (judged.next === "close") ws.closeSlot(slot, nowMs);
      }
      store.purgeClosed(nowMs - retentionMs);
      return findings.sort(compareFindings(order));
    }
    const changes: { state: KeyState; next: "breached" | "close" | "drop" }[] = [];
    for (const state of store.open()) {
      const entry = byName.get(state.rule);
      if (entry === undefined) continue;
      const visible = asOf(state, nowMs);
      const verdict = judgeKey(entry.rule, visible, nowMs, giveUpAfterMs);
      if (verdict.status === "orphan") {
        const last = state.events[state.events.length - 1];
        if (last !== undefined && last.timeMs + retentionMs < nowMs) changes.push({ state, next: "drop" });
        continue;
      }
      const judged = findingsFor(visible, verdict, at);
      findings.push(...judged.findings);
      count(entry.counts, judged);
      const next = judged.next;
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

  const outcomes = (): ReadonlyMap<string, RuleOutcomes> => new Map(entries.map(({ rule, counts }) => [rule.name, { ...counts }]));

  return { ingest, evaluate, outcomes, store };
}
