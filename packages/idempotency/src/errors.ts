/** A value could not be written as RFC 8785 canonical JSON. */
export interface FingerprintError {
  readonly code: "not_canonical_json";
  /** Why: a non-finite number, a lone surrogate, a cycle, or a value JSON cannot hold. */
  readonly message: string;
  readonly value: unknown;
}

/** A store operation failed (connection lost, timeout, constraint, …); nothing was decided. */
export interface StoreError {
  readonly code: "store_failed";
  /** The store operation, such as `inbox.claim` or `outbox.pending`. */
  readonly operation: string;
  readonly message: string;
  readonly cause: unknown;
}

/** A replay could not start. */
export interface ReplayError {
  readonly code: "dead_letter_not_found";
  readonly id: string;
  readonly message: string;
}

/** `inbox.processBatch` was called with options that do not fit its events; nothing was processed. */
export interface BatchOptionsError {
  readonly code: "invalid_batch_options";
  /** The offending option, such as `options.fingerprints`. */
  readonly path: string;
  /** The offending value: for `options.fingerprints`, its length. */
  readonly value: unknown;
  /** What is wrong and the rule it breaks. */
  readonly message: string;
}

/** Errors of the idempotency package, discriminated on `code`. */
export type IdempotencyError = FingerprintError | StoreError | ReplayError | BatchOptionsError;

const PREVIEW = 200;

function tagOf(value: unknown): string {
  try {
    return Object.prototype.toString.call(value);
  } catch {
    return `[${typeof value}]`;
  }
}

/**
 * Describes any thrown or returned value as bounded text, without throwing: an Error's message,
 * a string as it is, anything else through `String`; a value whose conversion throws (an object
 * without prototype, a `toString` that throws) by its tag.
 *
 * @param value - whatever was thrown, rejected or returned
 * @returns at most 200 characters, with the full length when cut
 * @example
 * describeValue(Object.create(null)); // "[object Object] (no text form: converting it to a string threw)"
 */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    text = value instanceof Error ? String(value.message) : typeof value === "string" ? value : String(value);
  } catch {
    text = `${tagOf(value)} (no text form: converting it to a string threw)`;
  }
  return text.length > PREVIEW ? `${text.slice(0, PREVIEW)}… (${text.length} characters)` : text;
}

/**
 * Wraps a rejection of a store operation as a {@link StoreError}.
 *
 * @param operation - the store operation that failed
 * @returns a function from the rejection reason to the error value
 * @example
 * ResultAsync.fromPromise(store.claim(request), toStoreError("inbox.claim"));
 */
export function toStoreError(operation: string): (cause: unknown) => StoreError {
  return (cause) => ({
    code: "store_failed",
    operation,
    message: `${operation} failed: ${describeValue(cause)}`,
    cause,
  });
}
