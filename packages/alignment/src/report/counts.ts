import type { AlignmentError } from "../errors.js";

/** How many events the report read, used and left out. */
export interface ReportEventCounts {
  readonly read: number;
  /** Events at least one rule reads. */
  readonly used: number;
  /** Events every rule that reads them had seen already (same source and id). */
  readonly duplicates: number;
  /** Events the engine refused (no usable `time`). */
  readonly rejected: number;
  /** Events later than the report time, left out. */
  readonly afterAt: number;
  readonly first?: string;
  readonly last?: string;
}

/** An event the report refused, by id and source, with the reason. */
export interface RejectedEvent {
  readonly id: string;
  readonly source: string;
  readonly error: AlignmentError;
}

/** The running counts of the events a report has read so far: plain data, folded by {@link countEvent}. */
export interface EventTally {
  readonly read: number;
  readonly used: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly afterAt: number;
  /** The earliest and latest event time read, in ms; `Infinity` / `-Infinity` before the first. */
  readonly firstMs: number;
  readonly lastMs: number;
  /** The first refused events, at most {@link MAX_REJECTED}; `rejected` counts them all. */
  readonly rejectedEvents: readonly RejectedEvent[];
}

/** What happened to one event read into a report. */
export type EventStep =
  /** Later than the report time: left out. */
  | { readonly kind: "after_at" }
  /** Refused by the engine. */
  | { readonly kind: "rejected"; readonly event: RejectedEvent }
  /** Taken by the engine: `matched` rules read it, `duplicates` of them had seen it already. */
  | { readonly kind: "ingested"; readonly matched: number; readonly duplicates: number; readonly timeMs: number };

/** How many refused events a report lists. */
const MAX_REJECTED = 20;

/** The tally before the first event. */
export const EMPTY_TALLY: EventTally = {
  read: 0,
  used: 0,
  duplicates: 0,
  rejected: 0,
  afterAt: 0,
  firstMs: Number.POSITIVE_INFINITY,
  lastMs: Number.NEGATIVE_INFINITY,
  rejectedEvents: [],
};

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Counts one event: a pure reducer from the tally so far and what happened to the event to the
 * next tally. An event every matching rule had already seen is a duplicate, not a use; the time
 * range covers every event the engine took, whether or not a rule reads it.
 *
 * @param tally - the counts so far
 * @param step - what happened to the event
 * @returns the counts with the event
 * @example
 * let tally = EMPTY_TALLY;
 * tally = countEvent(tally, { kind: "ingested", matched: 2, duplicates: 0, timeMs: Date.parse("2026-03-02T06:00:00Z") });
 * tally.used; // 1
 */
export function countEvent(tally: EventTally, step: EventStep): EventTally {
  const read = tally.read + 1;
  switch (step.kind) {
    case "after_at":
      return { ...tally, read, afterAt: tally.afterAt + 1 };
    case "rejected": {
      const rejectedEvents = tally.rejectedEvents.length < MAX_REJECTED ? [...tally.rejectedEvents, step.event] : tally.rejectedEvents;
      return { ...tally, read, rejected: tally.rejected + 1, rejectedEvents };
    }
    case "ingested": {
      const { matched, duplicates, timeMs } = step;
      const duplicate = matched > 0 && duplicates === matched;
      return {
        ...tally,
        read,
        used: matched > 0 && !duplicate ? tally.used + 1 : tally.used,
        duplicates: duplicate ? tally.duplicates + 1 : tally.duplicates,
        firstMs: Math.min(tally.firstMs, timeMs),
        lastMs: Math.max(tally.lastMs, timeMs),
      };
    }
  }
}

/**
 * The counts as the report shows them, with the time range as ISO 8601 (absent before the first event).
 *
 * @param tally - the counts
 * @returns the report's event counts
 * @example
 * toEventCounts(EMPTY_TALLY); // { read: 0, used: 0, duplicates: 0, rejected: 0, afterAt: 0 }
 */
export function toEventCounts(tally: EventTally): ReportEventCounts {
  const { read, used, duplicates, rejected, afterAt, firstMs, lastMs } = tally;
  return { read, used, duplicates, rejected, afterAt, ...(Number.isFinite(firstMs) ? { first: iso(firstMs), last: iso(lastMs) } : {}) };
}
