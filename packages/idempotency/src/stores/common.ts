import type { AttemptError, DeadLetterRecord } from "../store.js";

/** Merges a new failure into an existing dead-letter record, or starts one. */
export function mergeDeadLetter(
  existing: DeadLetterRecord | undefined,
  fresh: Omit<DeadLetterRecord, "errors" | "attempts" | "firstSeen" | "lastSeen">,
  errors: readonly AttemptError[],
  attempts: number,
  now: number,
): DeadLetterRecord {
  if (existing === undefined) return { ...fresh, errors, attempts, firstSeen: Math.min(now, ...errors.map((e) => e.at)), lastSeen: now };
  return { ...existing, errors: [...existing.errors, ...errors], attempts: existing.attempts + attempts, lastSeen: now };
}


/** Serializes async critical sections in one process (a SQLite connection allows one transaction at a time). */
export function createMutex(): <T>(work: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work, work);
    tail = run.catch(() => undefined);
    return run;
  };
}
