/** When and how often a failed handler is tried again. */
export interface RetryPolicy {
  /** Attempts in all, the first included; after the last one the event is dead-lettered. */
  readonly maxAttempts: number;
  /** The delay cap of the first retry, in milliseconds. */
  readonly baseDelayMs: number;
  /** The largest delay cap, in milliseconds. */
  readonly maxDelayMs: number;
  /** How much the cap grows per attempt. */
  readonly multiplier: number;
}

/** The default policy: 5 attempts, caps of 100 ms, 200 ms, 400 ms, 800 ms (full jitter). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 30_000, multiplier: 2 });

/**
 * Builds a retry policy from the default and overrides, checking it.
 *
 * @param overrides - the fields to change
 * @returns the frozen policy
 * @example
 * const policy = createRetryPolicy({ maxAttempts: 3, baseDelayMs: 50 });
 */
export function createRetryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) throw new RangeError(`createRetryPolicy: maxAttempts is an integer ≥ 1, got ${policy.maxAttempts}`);
  for (const name of ["baseDelayMs", "maxDelayMs", "multiplier"] as const) {
    if (!Number.isFinite(policy[name]) || policy[name] < 0) throw new RangeError(`createRetryPolicy: ${name} is a finite number ≥ 0, got ${policy[name]}`);
  }
  return Object.freeze(policy);
}

/**
 * The delay before the next attempt: exponential backoff with full jitter, a uniformly random
 * delay between 0 and min(maxDelayMs, baseDelayMs × multiplier^(attempt − 1)).
 *
 * @param policy - the retry policy
 * @param attempt - the attempt that just failed, from 1
 * @param random - a source of numbers in [0, 1), such as Math.random (injectable for tests)
 * @returns the delay in whole milliseconds
 * @example
 * backoffDelay(DEFAULT_RETRY_POLICY, 3, () => 0.5); // 200
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.multiplier ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}

/** Why a handler failed, and whether trying again can help. */
export interface HandlerError {
  readonly code: string;
  readonly message: string;
  /** false for permanent errors (bad data, a rule broken): the event is dead-lettered at once. */
  readonly retryable: boolean;
  readonly cause?: unknown;
}

/**
 * A failure that may pass on another attempt (a timeout, a peer that is down).
 *
 * @param message - what went wrong
 * @param cause - the underlying error, if any
 * @returns a retryable handler error
 * @example
 * return err(retryable("SAP answered 503"));
 */
export function retryable(message: string, cause?: unknown): HandlerError {
  return cause === undefined ? { code: "retryable", message, retryable: true } : { code: "retryable", message, retryable: true, cause };
}

/**
 * A failure no retry can fix (the data breaks a rule): the event goes to the dead letters at once.
 *
 * @param message - what went wrong
 * @param cause - the underlying error, if any
 * @returns a permanent handler error
 * @example
 * return err(permanent("unit ST has no mapping"));
 */
export function permanent(message: string, cause?: unknown): HandlerError {
  return cause === undefined ? { code: "permanent", message, retryable: false } : { code: "permanent", message, retryable: false, cause };
}
