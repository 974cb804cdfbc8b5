import type { LineIssue } from "@millwright/adapter-kit";

/** Codes of configuration errors. */
export type ConfigErrorCode =
  | "not_an_object"
  | "missing_field"
  | "invalid_type"
  | "invalid_value"
  | "duplicate_signal"
  | "missing_signal"
  | "inconsistent_security";

/** One reason a configuration was rejected: which field, what value, which rule. */
export interface ConfigIssue {
  readonly code: ConfigErrorCode;
  /** JSON Pointer of the offending field, e.g. `/signals/0/nodeId`. */
  readonly path: string;
  /** The rule the value breaks. */
  readonly rule: string;
  readonly value?: unknown;
}

/** A rejected configuration with every issue found. */
export interface ConfigError {
  readonly code: "invalid_config";
  readonly message: string;
  readonly issues: readonly ConfigIssue[];
}

/**
 * Something the adapter noticed and did not turn into an event: reported, never dropped silently.
 * The counter core's issues plus the subscription's and the runtime's.
 */
export type AdapterIssue =
  | LineIssue
  | {
      /**
       * The server revised a signal's sampling interval above the one requested: changes between
       * two samples are merged, so parts made just before a counter reset may be lost.
       */
      readonly code: "sampling_interval_revised";
      readonly path: string;
      readonly signal: string;
      readonly value: { readonly requested: number; readonly revised: number };
      readonly message: string;
    }
  | {
      /** The server revised a signal's queue size below the one requested: a burst of changes may drop some. */
      readonly code: "queue_size_revised";
      readonly path: string;
      readonly signal: string;
      readonly value: { readonly requested: number; readonly revised: number };
      readonly message: string;
    }
  | {
      /** The handler rejected an event; it is retried with backoff. `value` is the event id. */
      readonly code: "handler_failed";
      readonly path: string;
      readonly signal: string;
      readonly value: unknown;
      readonly message: string;
    }
  | {
      /** Saving the counter state failed; the events are still delivered. */
      readonly code: "store_failed";
      readonly path: string;
      readonly signal: string;
      readonly value: unknown;
      readonly message: string;
    };

/** Codes of runtime (I/O) errors. */
export type AdapterErrorCode = "connect_failed" | "session_failed" | "store_failed" | "already_stopped";

/** An OPC UA or store failure at the adapter's edge. */
export interface AdapterError {
  readonly code: AdapterErrorCode;
  readonly message: string;
  readonly cause?: unknown;
}
