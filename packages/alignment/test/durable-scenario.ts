// Scenario logs and a broker-fed consumer for the durable-store tests: the consumer ingests a log,
// evaluates and flushes every N events, acknowledges after the flush, and can crash anywhere.
import type { CanonicalEvent } from "@millwright/events";
import fc from "fast-check";
import { expect } from "vitest";
import { builtInRules, createEngine, openDurableStore, type AlignmentBackend, type AlignmentStore, type Finding } from "../src/index.js";
import { completed, confirmed, counted, holdEnded, holdPlaced, MINUTE, released, started, T0 } from "./fixtures.js";

const scenarioRules = builtInRules({
  workOrderStarted: { deadlineMs: 120 * MINUTE },
  productionConfirmed: { deadlineMs: 60 * MINUTE, tolerance: "5" },
  qualityHoldClosed: { deadlineMs: 180 * MINUTE },
});
/** The final evaluation time, well after every event. */
const END = T0 + 2000 * MINUTE;

const offset = fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined });
const orderStory = fc.record({
  releasedAt: offset,
  startedAt: offset,
  completedAt: offset,
  counts: fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 50 })), { maxLength: 3 }),
  confirmations: fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 100 }), fc.boolean()), { maxLength: 2 }),
});
const holdStory = fc.record({ placedAt: offset, endedAt: offset, status: fc.constantFrom("released" as const, "rejected" as const, "cancelled" as const) });

/**
 * A log of work orders and quality holds with random facts at random times (minutes 0–600),
 * as a broker would deliver it: mostly in time order, or in the order the stories were told.
 */
export const scenarioLog: fc.Arbitrary<readonly CanonicalEvent[]> = fc
  .tuple(fc.array(orderStory, { maxLength: 6 }), fc.array(holdStory, { maxLength: 3 }), fc.boolean())
  .map(([orders, holds, timeOrdered]) => {
    const log: CanonicalEvent[] = [];
    orders.forEach((o, i) => {
      const id = String(3000000 + i);
      if (o.releasedAt !== undefined) log.push(released(id, o.releasedAt));
      if (o.startedAt !== undefined) log.push(started(id, o.startedAt));
      if (o.completedAt !== undefined) log.push(completed(id, o.completedAt));
      o.counts.forEach(([m, q], k) => log.push(counted(id, String(q), m + k / 1000)));
      o.confirmations.forEach(([m, q, isFinal], k) => log.push(confirmed({ orderId: id, n: k + 1, yieldValue: String(q), isFinal, minutes: m })));
    });
    holds.forEach((h, i) => {
      const id = `02000000${String(i).padStart(4, "0")}`;
      if (h.placedAt !== undefined) log.push(holdPlaced(id, h.placedAt));
      if (h.endedAt !== undefined) log.push(holdEnded(id, h.endedAt, h.status));
    });
    return timeOrdered ? log.sort((a, b) => Date.parse(a.time ?? "") - Date.parse(b.time ?? "")) : log;
  });

/** What can happen at a flush boundary. */
type BoundaryFate = "ok" | "crash-before-flush" | "flush-fails" | "crash-after-flush";

/** Where a run crashes: a tape of numbers 0–99 read one per event and one per boundary. */
export interface CrashPlan {
  /** Evaluate, flush and acknowledge every `every` events. */
  readonly every: number;
  readonly tape: readonly number[];
  /** No crash after this many. */
  readonly maxCrashes: number;
}

export const crashPlan: fc.Arbitrary<CrashPlan> = fc.record({
  every: fc.integer({ min: 1, max: 8 }),
  tape: fc.array(fc.integer({ min: 0, max: 99 }), { minLength: 1, maxLength: 64 }),
  maxCrashes: fc.integer({ min: 0, max: 8 }),
});

/**
 * The steps of a run: one per event, then a last step without an event that evaluates at END.
 * The evaluation time at each boundary is the latest event time delivered so far; only the last
 * step jumps past the retention, so tombstones expire only where nothing is redelivered after
 * them (see the delivery contract of openDurableStore).
 */
function clocks(log: readonly CanonicalEvent[]): number[] {
  const out = [T0];
  let clock = T0;
  for (const e of log) {
    clock = Math.max(clock, Date.parse(e.time ?? ""));
    out.push(clock);
  }
  out.push(END);
  return out;
}

/** Boundaries: every `every` events, after the last event, and the END step. */
const isBoundary = (offset: number, every: number, length: number): boolean => offset >= length || (offset > 0 && offset % every === 0);

/** What a consumer run published and counted. */
export interface RunOutcome {
  /** Every finding published, as JSON, in order; after a crash some are published again. */
  readonly published: readonly string[];
  readonly crashes: Readonly<Record<"ingest" | Exclude<BoundaryFate, "ok">, number>>;
  /** Redelivered events that were already flushed: absorbed as duplicates or by a tombstone. */
  readonly absorbed: { readonly duplicates: number; readonly late: number };
}

/**
 * The uninterrupted run: a plain in-memory engine over the log, with the same boundaries.
 *
 * @param log - the events in delivery order
 * @param every - evaluate every `every` events
 * @returns the findings as JSON and the engine's store
 */
function referenceRun(log: readonly CanonicalEvent[], every: number): { findings: string[]; store: AlignmentStore } {
  const engine = createEngine({ rules: scenarioRules });
  const at = clocks(log);
  const findings: string[] = [];
  for (let offset = 0; ; ) {
    if (offset < log.length) engine.ingest(log[offset] as CanonicalEvent);
    offset += 1;
    if (isBoundary(offset, every, log.length)) {
      for (const f of engine.evaluate(at[offset] as number)) findings.push(JSON.stringify(f));
      if (offset === log.length + 1) return { findings, store: engine.store };
    }
  }
}

/** A database under test: opens a backend over it as a restarted process would. */
export interface CrashableDatabase {
  open(): Promise<AlignmentBackend>;
  /** The process died: its connection goes with it. */
  crash(backend: AlignmentBackend): Promise<void>;
}

/**
 * Runs the consumer over the log against a durable store, crashing as the plan says. After each
 * crash it reopens the store from the database and the broker redelivers from the last
 * acknowledged offset. A flush that is made to fail writes a state of the rule `poison`, which
 * the test databases reject in the middle of the transaction.
 *
 * @param database - the database, fresh
 * @param log - the events in delivery order
 * @param plan - where to crash
 * @returns what was published and how often each crash happened
 */
export async function crashingRun(database: CrashableDatabase, log: readonly CanonicalEvent[], plan: CrashPlan): Promise<RunOutcome> {
  const at = clocks(log);
  const published: string[] = [];
  const crashes = { ingest: 0, "crash-before-flush": 0, "flush-fails": 0, "crash-after-flush": 0 };
  const absorbed = { duplicates: 0, late: 0 };
  let tape = 0;
  let crashCount = 0;
  const roll = (): number => (crashCount >= plan.maxCrashes ? 99 : (plan.tape[tape++ % plan.tape.length] as number));
  let acked = 0;
  let flushedUpTo = 0;
  for (;;) {
    const backend = await database.open();
    const opened = await openDurableStore(backend);
    if (opened.isErr()) throw new Error(`reopen failed: ${opened.error.message}`);
    const store = opened.value;
    const engine = createEngine({ rules: scenarioRules, store });
    const crash = async (kind: keyof typeof crashes): Promise<void> => {
      crashes[kind] += 1;
      crashCount += 1;
      await database.crash(backend);
    };
    let offset = acked;
    session: for (;;) {
      if (offset < log.length) {
        if (roll() < 3) {
          await crash("ingest");
          break session;
        }
        const outcome = engine.ingest(log[offset] as CanonicalEvent)._unsafeUnwrap();
        if (offset < flushedUpTo) {
          absorbed.duplicates += outcome.duplicates;
          absorbed.late += outcome.late;
        }
      }
      offset += 1;
      if (!isBoundary(offset, plan.every, log.length)) continue;
      for (const f of engine.evaluate(at[offset] as number)) published.push(JSON.stringify(f));
      const dice = roll();
      if (dice < 8) {
        await crash("crash-before-flush");
        break session;
      }
      if (dice < 16) {
        store.put({ rule: "poison", key: `at-${offset}`, events: [], breached: false });
        const failed = await store.flush();
        expect(failed.isErr() && failed.error.code).toBe("store_failed");
        await crash("flush-fails");
        break session;
      }
      const flushed = await store.flush();
      if (flushed.isErr()) throw new Error(`flush failed: ${flushed.error.message}`);
      expect(store.pending()).toBe(0);
      flushedUpTo = Math.max(flushedUpTo, offset);
      if (dice < 24) {
        await crash("crash-after-flush");
        break session;
      }
      acked = offset;
      if (offset === log.length + 1) {
        await backend.close();
        return { published, crashes, absorbed };
      }
    }
  }
}

/**
 * Checks a crashing run against the uninterrupted one: the same findings (each at least once, no
 * other), and the database holds what the in-memory engine holds at the end.
 *
 * @param database - the database the crashing run used
 * @param log - the events
 * @param plan - the plan the crashing run followed
 * @param outcome - what it published
 */
export async function expectSameAsReference(database: CrashableDatabase, log: readonly CanonicalEvent[], plan: CrashPlan, outcome: RunOutcome): Promise<void> {
  const reference = referenceRun(log, plan.every);
  expect(new Set(reference.findings).size).toBe(reference.findings.length);
  expect([...new Set(outcome.published)].sort()).toEqual([...reference.findings].sort());

  const backend = await database.open();
  const reopened = (await openDurableStore(backend))._unsafeUnwrap();
  const byKey = (s: AlignmentStore): string[] => [...s.open()].map((x) => JSON.stringify(x)).sort();
  expect(byKey(reopened)).toEqual(byKey(reference.store));
  expect(reopened.size()).toEqual(reference.store.size());
  for (const rule of scenarioRules) {
    for (const e of log) {
      const key = rule.observe(e)?.key;
      if (key !== undefined) expect(reopened.isClosed(rule.name, key)).toBe(reference.store.isClosed(rule.name, key));
    }
  }
  await backend.close();
  await database.crash(backend);
}
