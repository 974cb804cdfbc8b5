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


/**
 * The entries and entities of a batch that the batch step left to the per-event path: a later event
 * of one of them is left to it too, so that it still comes after the earlier one.
 */
export interface LeftBehind {
  /** Whether an earlier event of this entry or this entity was left behind. */
  has(key: string, entityKey: string | undefined): boolean;
  /** Leaves this entry and entity behind. */
  add(key: string, entityKey: string | undefined): void;
}

/** Creates an empty {@link LeftBehind}. */
export function createLeftBehind(): LeftBehind {
  const names = new Set<string>();
  return {
    has: (key, entityKey) => names.has(`k${key}`) || (entityKey !== undefined && names.has(`e${entityKey}`)),
    add: (key, entityKey) => {
      names.add(`k${key}`);
      if (entityKey !== undefined) names.add(`e${entityKey}`);
    },
  };
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
