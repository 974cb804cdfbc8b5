import type { LineIssue } from "@millwright/adapter-kit";

/** Codes of configuration errors. */
export type ConfigErrorCode = "not_an_object" | "missing_field" | "invalid_type" | "invalid_value" | "duplicate_signal";

/** One reason a configuration was rejected: which field, what value, which rule. */
export interface ConfigIssue {
  readonly code: ConfigErrorCode;
  /** JSON Pointer of the offending field, e.g. `/lines/0/signals/1/metric`. */
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

/** Codes of what the host noticed about a Sparkplug session. */
export type SessionIssueCode =
  | "invalid_payload"
  | "sequence_gap"
  | "unknown_alias"
  | "unknown_metric"
  | "data_before_birth"
  | "stale_death"
  | "unmapped_metric"
  | "handler_failed"
  | "store_failed"
  | "processing_failed";

/**
 * Something the host noticed and did not turn into an event: the counter core's issues (`path`
 * `/signals/<metric>`) and the session's (`path` the topic, or `/store`, `/handler`). Reported,
 * never dropped silently.
 */
export type HostIssue =
  | LineIssue
  | {
      readonly code: SessionIssueCode;
      readonly path: string;
      /** The line (`<edge node>[/<device>]`) or metric the issue is about. */
      readonly signal: string;
      readonly value: unknown;
      readonly message: string;
    };

/** Codes of host and edge node I/O errors. */
export type SparkplugErrorCode = "connect_failed" | "store_failed" | "publish_failed" | "invalid_fact" | "invalid_payload" | "stopped";

/** An MQTT, store or encoding failure at the adapter's edge. */
export interface SparkplugError {
  readonly code: SparkplugErrorCode;
  readonly message: string;
  readonly cause?: unknown;
}
