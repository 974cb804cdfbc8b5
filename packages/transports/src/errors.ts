import { boundedText } from "@millwright/adapter-kit";

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

/**
 * Renders untrusted input for an error reply or a log line: at most `max` characters, control
 * characters shown as `\uXXXX`, and nested values summarised rather than serialised (serialising
 * a deeply nested value can throw, and a large one costs as much as the input).
 *
 * @param value - the offending value
 * @param max - the longest preview. Default 120
 * @returns a printable, bounded preview
 * @example
 * previewValue("a\u0000b".repeat(100)); // "\"a\\u0000ba\\u0000b…"
 */
export function previewValue(value: unknown, max = 120): string {
  let text: string;
  if (typeof value === "string") text = JSON.stringify(value.slice(0, max + 1));
  else if (value === null || typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") text = String(value);
  else if (Array.isArray(value)) text = `[array of ${value.length}]`;
  else if (typeof value === "object") text = "[object]";
  else text = `[${typeof value}]`;
  return boundedText(text, max);
}
