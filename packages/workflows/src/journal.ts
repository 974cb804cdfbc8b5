// The pure part of the runtime: what an instance's history says has happened, by journal name.
import type { CompensationReason, FailureRecord, HistoryEntry, JsonValue, WaitOutcome } from "./types.js";

/** What the history says about one step. */
interface StepJournal {
  /** Attempts started (a worker lost mid-attempt counts). */
  attempts: number;
  completed?: { readonly result: JsonValue };
  /** The step failed for good. */
  failed?: FailureRecord;
  /** The last failed attempt, when a retry is due. */
  retry?: { readonly retryAt: number };
}

/** What the history says about one wait. */
interface WaitJournal {
  started?: { readonly dueAt?: number };
  ended?: { readonly outcome: WaitOutcome };
}

/** What the history says about one compensation, since the last `retried`. */
interface CompensationJournal {
  attempts: number;
  completed: boolean;
  failed?: FailureRecord;
  retry?: { readonly retryAt: number };
}

/** An instance's history, read by journal name. */
export interface Journal {
  readonly steps: Map<string, StepJournal>;
  /** Step names in the order they completed. */
  readonly completedOrder: string[];
  readonly results: Map<string, JsonValue>;
  readonly waits: Map<string, WaitJournal>;
  /** Event `seq`s consumed by waits. */
  readonly consumedEvents: Set<number>;
  readonly compensations: Map<string, CompensationJournal>;
  compensating?: CompensationReason;
  deadlinePassed: boolean;
}

/**
 * Reads a history into a journal.
 *
 * @param history - the entries, by `seq`
 * @returns the journal
 * @example
 * readJournal(snapshot.history).steps.get("block-in-erp")?.completed;
 */
export function readJournal(history: readonly HistoryEntry[]): Journal {
  const journal: Journal = {
    steps: new Map(),
    completedOrder: [],
    results: new Map(),
    waits: new Map(),
    consumedEvents: new Set(),
    compensations: new Map(),
    deadlinePassed: false,
  };
  const step = (name: string): StepJournal => {
    let found = journal.steps.get(name);
    if (found === undefined) journal.steps.set(name, (found = { attempts: 0 }));
    return found;
  };
  const wait = (name: string): WaitJournal => {
    let found = journal.waits.get(name);
    if (found === undefined) journal.waits.set(name, (found = {}));
    return found;
  };
  const compensation = (name: string): CompensationJournal => {
    let found = journal.compensations.get(name);
    if (found === undefined) journal.compensations.set(name, (found = { attempts: 0, completed: false }));
    return found;
  };
  for (const entry of history) {
    switch (entry.type) {
      case "step-started":
        step(entry.step).attempts = Math.max(step(entry.step).attempts, entry.attempt);
        break;
      case "step-completed": {
        const s = step(entry.step);
        s.completed = { result: entry.result };
        delete s.retry;
        journal.completedOrder.push(entry.step);
        journal.results.set(entry.step, entry.result);
        break;
      }
      case "step-failed": {
        const s = step(entry.step);
        if (entry.willRetry) s.retry = { retryAt: entry.retryAt ?? entry.at };
        else {
          s.failed = entry.error;
          delete s.retry;
        }
        break;
      }
      case "wait-started":
        wait(entry.wait).started = entry.dueAt === undefined ? {} : { dueAt: entry.dueAt };
        break;
      case "wait-ended":
        wait(entry.wait).ended = { outcome: entry.outcome };
        if (entry.eventSeq !== undefined) journal.consumedEvents.add(entry.eventSeq);
        break;
      case "compensating":
        journal.compensating = entry.reason;
        break;
      case "compensation-started":
        compensation(entry.step).attempts = Math.max(compensation(entry.step).attempts, entry.attempt);
        break;
      case "compensation-completed": {
        const c = compensation(entry.step);
        c.completed = true;
        delete c.retry;
        break;
      }
      case "compensation-failed": {
        const c = compensation(entry.step);
        if (entry.willRetry) c.retry = { retryAt: entry.retryAt ?? entry.at };
        else {
          c.failed = entry.error;
          delete c.retry;
        }
        break;
      }
      case "retried":
        // A retry after a dead letter starts the failed compensation's attempts afresh.
        for (const c of journal.compensations.values()) {
          if (c.completed) continue;
          c.attempts = 0;
          delete c.failed;
          delete c.retry;
        }
        break;
      case "deadline-passed":
        journal.deadlinePassed = true;
        break;
      default:
        break;
    }
  }
  return journal;
}
