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
export interface Mutex {
  <T>(work: () => Promise<T>): Promise<T>;
  /**
   * Enters at once when nothing holds or waits for the mutex: returns the function that leaves it
   * (later callers wait until then), or undefined when it is taken.
   */
  tryEnter(): (() => void) | undefined;
}

/** Creates a {@link Mutex}. */
export function createMutex(): Mutex {
  let tail: Promise<unknown> = Promise.resolve();
  // Holders and waiters; counted down once each has finished.
  let taken = 0;
  const done = (): void => void taken--;
  const mutex = <T>(work: () => Promise<T>): Promise<T> => {
    taken++;
    const run = tail.then(work, work);
    tail = run.then(done, done);
    return run;
  };
  mutex.tryEnter = (): (() => void) | undefined => {
    if (taken !== 0) return undefined;
    taken++;
    let leave!: () => void;
    tail = new Promise<void>((resolve) => (leave = resolve)).then(done);
    return leave;
  };
  return mutex;
}

/** Whether a value is a promise or another thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as { then?: unknown }).then === "function";
}
