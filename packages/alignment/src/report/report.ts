import type { CanonicalEvent } from "@millwright/events";
import { err, ok, type Result } from "neverthrow";
import { createEngine, type EngineOptions } from "../engine.js";
import type { AlignmentError } from "../errors.js";
import { toEvidenceItem, type Evidence, type Finding } from "../finding.js";
import { judgeKey, type KeyState } from "../judge.js";
import type { AlignmentRule } from "../rule.js";
import { countEvent, EMPTY_TALLY, toEventCounts, type RejectedEvent, type ReportEventCounts } from "./counts.js";
import { createTimelineState, flagOrders, toReportTimelines, trackEvent, type KeyEvents, type PlacedDue, type ReportTimelines } from "./timelines.js";

/**
 * Where a finding stands in the report. `breached`: still out of alignment at the report time
 * (the fulfilment is missing, or the quantities disagree). `resolved`: the expectation was
 * breached but has been met since (the fulfilment came after the deadline, or it was abandoned).
 */
export type ReportStatus = "breached" | "resolved";

/** One finding of the report, with its status and the reasons in words a reader can act on. */
export interface ReportFinding {
  readonly status: ReportStatus;
  /**
   * Why: the breach reasons (`missing`, `late`, `quantity_mismatch`, `quantity_unverifiable`) and,
   * for resolutions other than fulfilment, the resolution (such as `abandoned`).
   */
  readonly reasons: readonly string[];
  /** The engine's finding, as it stood at the report time. */
  readonly finding: Finding;
}

/** One row of the per-rule table. */
export interface RuleSummary {
  readonly rule: string;
  readonly description: string;
  readonly deadlineMs: number;
  readonly tolerance?: string;
  /** Keys whose deadline has not passed yet and whose fulfilment has not come. */
  readonly open: number;
  /** Keys fulfilled on time with agreeing quantities. */
  readonly met: number;
  readonly breached: number;
  readonly resolved: number;
  /** The largest lateness among the rule's breached and resolved findings, in ms; absent when none was late. */
  readonly worstLatenessMs?: number;
  /** The key with that lateness. */
  readonly worstKey?: string;
}

/** What {@link buildAlignmentReport} and {@link createReportBuilder} produce: plain data, JSON-safe. */
export interface AlignmentReport {
  /** The time the log was judged at (ISO 8601, UTC). */
  readonly at: string;
  /** `given`: passed as `at`; `latest-event`: the latest event time in the log. */
  readonly atSource: "given" | "latest-event";
  /** How often, in event time, the engine was evaluated while reading; absent when only at the end. */
  readonly checkEveryMs?: number;
  readonly events: ReportEventCounts;
  readonly rules: readonly RuleSummary[];
  readonly totals: { readonly open: number; readonly breached: number; readonly resolved: number };
  /** Breached first, then by rule, lateness (worst first) and key. */
  readonly findings: readonly ReportFinding[];
  readonly timelines: ReportTimelines;
  /** The first refused events (at most 20); `events.rejected` counts them all. */
  readonly rejected: readonly RejectedEvent[];
}

/** Why a report could not be made. */
export interface ReportError {
  readonly code: "invalid_at" | "no_time";
  readonly path: string;
  readonly message: string;
  readonly value?: unknown;
}

/** What a report is built from. */
export interface ReportOptions {
  readonly rules: readonly AlignmentRule[];
  /** The time to judge the log at. Default: the latest event time in the log. Later events are left out. */
  readonly at?: Date | number;
  /**
   * Also evaluate the engine every `checkEveryMs` of event time while reading (at the latest event
   * time so far), as a live monitor polling at that interval would. This bounds memory by the open
   * keys on very large logs, but needs a log in rough time order: an event that arrives long
   * after the log's clock has passed its time is judged late. Default `Infinity`: evaluate once,
   * at the report time, so the verdicts depend only on the set of events, not on their order.
   */
  readonly checkEveryMs?: number;
  /** The rest of the engine's options (store, retention, give-up time), passed through. */
  readonly engine?: Omit<EngineOptions, "rules">;
  /** How many work order timelines the report shows (default 50). */
  readonly maxOrders?: number;
  /** How many events a timeline keeps (default 40). */
  readonly maxEventsPerOrder?: number;
  /** How many work orders are tracked while reading before quiet ones are dropped (default 2,000). */
  readonly maxTrackedOrders?: number;
}

/** What adding one event did. */
export interface AddOutcome {
  /** False when the event is later than the report time and was left out. */
  readonly included: boolean;
  /** How many rules read it. */
  readonly matched: number;
}

/** The incremental form: add events one at a time (memory stays bounded), then finish. */
export interface ReportBuilder {
  /** Takes one event; refuses only an event without a usable `time` (and counts it). */
  readonly add: (event: CanonicalEvent) => Result<AddOutcome, AlignmentError>;
  /** Evaluates at the report time and returns the report. Call once. */
  readonly finish: () => Result<AlignmentReport, ReportError>;
}

const ruleKey = (rule: string, key: string): string => `${rule}\u0000${key}`;
const iso = (ms: number): string => new Date(ms).toISOString();

/** Reads an optional field that other parts of the package may add to findings, without trusting its type. */
function extraField(finding: Finding, name: string): unknown {
  return (finding as unknown as Readonly<Record<string, unknown>>)[name];
}

/**
 * Classifies an engine finding for the report, independently of how often the engine was evaluated:
 * a fulfilment after the deadline is `resolved` whether the engine first reported it `missing`
 * or only saw it `late`; a missing one (also when the engine gave up waiting: `abandoned`) or one
 * with disagreeing quantities is `breached`. Returns undefined for a resolution on time (an
 * earlier `missing` that only reflected arrival order).
 */
function classify(finding: Finding): ReportFinding | undefined {
  if (finding.kind === "breached") {
    const reasons = [...finding.reasons];
    const status: ReportStatus = reasons.every((r) => r === "late") ? "resolved" : "breached";
    return { status, reasons, finding };
  }
  // An abandoned key never got its fulfilment: the engine only stopped waiting for it.
  const resolution = extraField(finding, "resolution");
  if (typeof resolution === "string" && resolution !== "fulfilled") return { status: "breached", reasons: ["missing", resolution], finding };
  const reasons: string[] = [];
  if (finding.latenessMs > 0) reasons.push("late");
  if (finding.withinTolerance === false) reasons.push("quantity_mismatch");
  if (reasons.length === 0) return undefined;
  return { status: finding.withinTolerance === false ? "breached" : "resolved", reasons, finding };
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`createReportBuilder: ${name} must be an integer ≥ 0, got ${String(value)}`);
  return value;
}

/**
 * Creates the incremental report builder: `add` each event of a log as it is read (nothing but
 * the engine's per-key state and the bounded timelines is kept), then `finish` to judge the log at
 * `at` (default: its latest event) and get the report.
 *
 * @param options - the rules, the report time and the bounds of the timelines
 * @returns the builder
 * @example
 * const builder = createReportBuilder({ rules: builtInRules() });
 * for (const event of events) builder.add(event);
 * const report = builder.finish();
 * if (report.isOk()) console.log(renderReportText(report.value));
 */
export function createReportBuilder(options: ReportOptions): ReportBuilder {
  const { rules } = options;
  const engine = createEngine({ ...options.engine, rules });
  const byName = new Map(rules.map((r) => [r.name, r] as const));
  const ruleOrder = new Map(rules.map((r, i) => [r.name, i] as const));
  const checkEveryMs = options.checkEveryMs ?? Number.POSITIVE_INFINITY;
  if (!(checkEveryMs > 0)) throw new TypeError(`createReportBuilder: checkEveryMs must be > 0, got ${String(checkEveryMs)}`);
  const maxOrders = positiveInteger("maxOrders", options.maxOrders, 50);
  const maxEventsPerOrder = Math.max(2, positiveInteger("maxEventsPerOrder", options.maxEventsPerOrder, 40));
  const maxTrackedOrders = Math.max(maxOrders, positiveInteger("maxTrackedOrders", options.maxTrackedOrders, 2_000));
  const givenAt = options.at === undefined ? undefined : typeof options.at === "number" ? options.at : options.at.getTime();
  const atMs = givenAt !== undefined && Number.isFinite(givenAt) ? givenAt : undefined;

  // Findings per rule and key: a `missing` breach is replaced by its resolution.
  const findings = new Map<string, Finding[]>();
  const timelines = createTimelineState(rules, { maxOrders, maxEventsPerOrder, maxTrackedOrders });
  let tally = EMPTY_TALLY;
  let lastCheck: number | undefined;
  let finished = false;

  const record = (finding: Finding): void => {
    const k = ruleKey(finding.rule, finding.key);
    const list = findings.get(k);
    if (list === undefined) {
      findings.set(k, [finding]);
    } else {
      const last = list[list.length - 1];
      if (finding.kind === "resolved" && last?.kind === "breached" && last.reasons.includes("missing")) list[list.length - 1] = finding;
      else list.push(finding);
    }
    flagOrders(timelines, { key: finding.key, events: finding.evidence });
  };

  // The open keys not (yet) fulfilled on time with matching quantities: their orders' timelines stay.
  function* unhealthyKeys(nowMs: number): Iterable<KeyEvents> {
    for (const state of engine.store.open()) {
      const rule = byName.get(state.rule);
      const verdict = rule === undefined ? undefined : judgeKey(rule, state, nowMs);
      const quantity = verdict?.status === "fulfilled" ? verdict.quantity : undefined;
      const healthy = verdict?.status === "fulfilled" && verdict.latenessMs === 0 && (quantity === undefined || (quantity.ok && quantity.withinTolerance));
      if (!healthy) yield state;
    }
  }

  const add = (event: CanonicalEvent): Result<AddOutcome, AlignmentError> => {
    if (finished) throw new TypeError("ReportBuilder.add: the report is already finished");
    const timeMs = event.time === undefined ? Number.NaN : Date.parse(event.time);
    if (atMs !== undefined && timeMs > atMs) {
      tally = countEvent(tally, { kind: "after_at" });
      return ok({ included: false, matched: 0 });
    }
    const ingested = engine.ingest(event);
    if (ingested.isErr()) {
      tally = countEvent(tally, { kind: "rejected", event: { id: event.id, source: event.source, error: ingested.error } });
      return err(ingested.error);
    }
    const { matched, duplicates } = ingested.value;
    tally = countEvent(tally, { kind: "ingested", matched, duplicates, timeMs });
    trackEvent(timelines, event, timeMs, unhealthyKeys);
    if (Number.isFinite(checkEveryMs)) {
      const { lastMs } = tally;
      if (lastCheck === undefined) lastCheck = lastMs;
      else if (lastMs - lastCheck >= checkEveryMs) {
        for (const finding of engine.evaluate(lastMs)) record(finding);
        lastCheck = lastMs;
      }
    }
    return ok({ included: true, matched });
  };

  const finish = (): Result<AlignmentReport, ReportError> => {
    if (finished) throw new TypeError("ReportBuilder.finish: the report is already finished");
    if (givenAt !== undefined && atMs === undefined) {
      return err({ code: "invalid_at", path: "at", message: `at must be a valid time, got ${String(options.at)}`, value: options.at });
    }
    const reportMs = atMs ?? (Number.isFinite(tally.lastMs) ? tally.lastMs : undefined);
    if (reportMs === undefined) {
      return err({ code: "no_time", path: "at", message: `the log has no event with a usable time (${tally.read} read) and no report time (at) was given: there is no time to judge it at`, value: undefined });
    }
    finished = true;
    for (const finding of engine.evaluate(reportMs)) record(finding);

    // Keys still open after the last evaluation: waiting ones are `open`; missing ones get their
    // lateness and evidence as of the report time (the engine reports a missing breach only once).
    const open = new Map<string, number>();
    const openDues: { readonly state: KeyState; readonly dueMs: number }[] = [];
    for (const state of engine.store.open()) {
      const rule = byName.get(state.rule);
      if (rule === undefined) continue;
      const verdict = judgeKey(rule, state, reportMs);
      if (verdict.status === "waiting") {
        open.set(state.rule, (open.get(state.rule) ?? 0) + 1);
        openDues.push({ state, dueMs: verdict.dueMs });
      } else if (verdict.status === "missing") {
        const list = findings.get(ruleKey(state.rule, state.key));
        const last = list?.[list.length - 1];
        if (list !== undefined && last?.kind === "breached" && last.reasons.includes("missing")) {
          const evidence: Evidence[] = state.events.map(toEvidenceItem);
          list[list.length - 1] = { ...last, latenessMs: verdict.latenessMs, at: iso(reportMs), evidence };
        }
      }
    }

    const reportFindings: ReportFinding[] = [];
    for (const list of findings.values()) {
      for (const finding of list) {
        const classified = classify(finding);
        if (classified !== undefined) reportFindings.push(classified);
      }
    }
    reportFindings.sort((a, b) => {
      if (a.status !== b.status) return a.status === "breached" ? -1 : 1;
      const ra = ruleOrder.get(a.finding.rule) ?? rules.length;
      const rb = ruleOrder.get(b.finding.rule) ?? rules.length;
      if (ra !== rb) return ra - rb;
      if (a.finding.latenessMs !== b.finding.latenessMs) return b.finding.latenessMs - a.finding.latenessMs;
      return a.finding.key < b.finding.key ? -1 : a.finding.key > b.finding.key ? 1 : a.finding.dueAt < b.finding.dueAt ? -1 : 1;
    });

    const summaries: RuleSummary[] = rules.map((rule) => {
      const mine = reportFindings.filter((f) => f.finding.rule === rule.name);
      let worst: ReportFinding | undefined;
      for (const f of mine) if (f.finding.latenessMs > (worst?.finding.latenessMs ?? 0)) worst = f;
      return {
        rule: rule.name,
        description: rule.description,
        deadlineMs: rule.deadlineMs,
        ...(rule.tolerance === undefined ? {} : { tolerance: rule.tolerance }),
        open: open.get(rule.name) ?? 0,
        met: engine.outcomes().get(rule.name)?.met ?? 0,
        breached: mine.filter((f) => f.status === "breached").length,
        resolved: mine.filter((f) => f.status === "resolved").length,
        ...(worst === undefined ? {} : { worstLatenessMs: worst.finding.latenessMs, worstKey: worst.finding.key }),
      };
    });

    // Timelines: the due times of every finding and open key touching each kept order.
    const dues: PlacedDue[] = [];
    for (const f of reportFindings) {
      const { rule, key, dueAt, latenessMs } = f.finding;
      dues.push({ due: { rule, key, dueAt, status: f.status, latenessMs, reasons: f.reasons }, keyEvents: { key, events: f.finding.evidence } });
    }
    for (const { state, dueMs } of openDues) {
      dues.push({ due: { rule: state.rule, key: state.key, dueAt: iso(dueMs), status: "open", latenessMs: 0, reasons: [] }, keyEvents: state });
    }

    const count = (status: ReportStatus): number => reportFindings.filter((f) => f.status === status).length;
    return ok({
      at: iso(reportMs),
      atSource: atMs === undefined ? "latest-event" : "given",
      ...(Number.isFinite(checkEveryMs) ? { checkEveryMs } : {}),
      events: toEventCounts(tally),
      rules: summaries,
      totals: { open: [...open.values()].reduce((a, b) => a + b, 0), breached: count("breached"), resolved: count("resolved") },
      findings: reportFindings,
      timelines: toReportTimelines(timelines, dues),
      rejected: tally.rejectedEvents,
    });
  };

  return { add, finish };
}

/** What {@link buildAlignmentReport} needs: the events and the report options. */
export interface BuildReportInput extends ReportOptions {
  readonly events: Iterable<CanonicalEvent>;
}

/**
 * Builds the alignment report of a log: runs the engine over the events and judges them at `at`
 * (default: the latest event time, so a historical log is judged as of its own end). Events
 * without a usable time are counted and listed in `rejected`, never thrown.
 *
 * @param input - the events, the rules and the report options
 * @returns the report, or why there is no time to judge the log at
 * @example
 * const report = buildAlignmentReport({ events, rules: builtInRules() });
 * if (report.isOk()) console.log(renderReportText(report.value));
 */
export function buildAlignmentReport(input: BuildReportInput): Result<AlignmentReport, ReportError> {
  const { events, ...options } = input;
  const builder = createReportBuilder(options);
  for (const event of events) builder.add(event);
  return builder.finish();
}
