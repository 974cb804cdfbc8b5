/** What went wrong in a transport; discriminated on `code`. */
export type TransportErrorCode =
  | "connect_failed"
  | "publish_failed"
  | "publish_rejected"
  | "timeout"
  | "closed"
  | "invalid_topic"
  | "subscribe_failed"
  | "store_failed"
  | "invalid_options";

/** A transport error: the code, the operation or value it concerns, a message and the cause. */
export interface TransportError {
  readonly code: TransportErrorCode;
  /** Where the error arose: a topic, a URL, an option or an operation name. */
  readonly path: string;
  readonly message: string;
  readonly value?: unknown;
  readonly cause?: unknown;
}

/**
 * Builds a {@link TransportError}.
 *
 * @param code - the error code
 * @param path - the topic, URL, option or operation concerned
 * @param message - what went wrong, in one sentence
 * @param extra - the offending value and/or the cause
 * @returns the error value
 * @example
 * const e = transportError("timeout", "https://mes.example/hooks", "no response within 5000 ms");
 */
export function transportError(code: TransportErrorCode, path: string, message: string, extra: { readonly value?: unknown; readonly cause?: unknown } = {}): TransportError {
  return { code, path, message, ...extra };
}

/**
 * Reads the message of an unknown thrown value.
 *
 * @param cause - whatever was thrown
 * @returns its message, or its string form
 * @example
 * describeCause(new Error("socket hang up")); // "socket hang up"
 */
export function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
