// The plain data of @millwright/workflows: JSON values, durations, instance states, history
// entries, signals and the error union. No behaviour lives here.

/** A JSON value: what step results, inputs, outputs and signal payloads must be. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * A duration: whole milliseconds as a number, or a string of an integer and a unit, `ms`, `s`,
 * `m`, `h` or `d` (`"500ms"`, `"30s"`, `"15m"`, `"4h"`, `"2d"`).
 */
export type Duration = number | `${number}${"ms" | "s" | "m" | "h" | "d"}`;

/**
 * Where an instance is:
 * - `running`: claimed or due to run its next step;
 * - `waiting`: blocked on a timer, an event, a signal or a retry delay (its `wakeAt` says when it is next due);
 * - `completed`: the body returned; `output` holds what it returned;
 * - `compensating`: a step failed for good, a signal rejected, it was cancelled or its deadline
 *   asked for it: the compensations of the completed steps run in reverse order;
 * - `compensated`: every compensation ran (the workflow failed, but cleanly);
 * - `failed`: a compensation failed for good: the instance is in the dead letters;
 * - `cancelled`: cancelled through the API, after its compensations ran.
 */
export type InstanceState = "running" | "waiting" | "completed" | "compensating" | "compensated" | "failed" | "cancelled";

/** The states an instance never leaves (except `failed`, through `runtime.retry`). */
export const FINAL_STATES: readonly InstanceState[] = Object.freeze(["completed", "compensated", "failed", "cancelled"]);

/** The W3C trace context of the event (or caller) that started an instance. */
export interface TraceCarrier {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** A person's decision given to `wf.waitForSignal`, through the API or the CLI. */
export interface SignalPayload {
  readonly decision: "approve" | "reject";
  readonly reason?: string;
  /** Who decided (a user name), when known. */
  readonly by?: string;
}

/** Why a step, a compensation or the body failed, as it is recorded in the history. */
export interface FailureRecord {
  /** `retryable`, `permanent`, `timeout`, `not_json`, `exception`, or a code the step chose. */
  readonly code: string;
  readonly message: string;
  /** The stack of a thrown exception (a bug, not bad input). */
  readonly stack?: string;
}

/** Why the compensations of an instance run. */
export type CompensationReason =
  | { readonly kind: "step-failed"; readonly step: string; readonly error: FailureRecord }
  | { readonly kind: "rejected"; readonly signal: string; readonly payload: SignalPayload }
  | { readonly kind: "cancelled"; readonly reason: string }
  | { readonly kind: "deadline"; readonly deadlineAt: number }
  | { readonly kind: "error"; readonly error: FailureRecord };

/** How a wait ended, as the body sees it and the history records it. */
export type WaitOutcome =
  | { readonly kind: "event"; readonly event: JsonValue }
  | { readonly kind: "signal"; readonly name: string; readonly payload: SignalPayload }
  | { readonly kind: "timeout" }
  | { readonly kind: "elapsed" };

/**
 * One entry of an instance's history, without its position: the store gives each appended entry
 * the next `seq`. `at` is the runtime clock's time in ms since the epoch.
 */
export type HistoryEntryInput =
  | { readonly type: "started"; readonly at: number; readonly version: number; readonly input: JsonValue; readonly trace?: TraceCarrier }
  | { readonly type: "step-started"; readonly at: number; readonly step: string; readonly attempt: number }
  | { readonly type: "step-completed"; readonly at: number; readonly step: string; readonly attempt: number; readonly result: JsonValue; readonly durationMs: number }
  | {
      readonly type: "step-failed";
      readonly at: number;
      readonly step: string;
      readonly attempt: number;
      readonly error: FailureRecord;
      readonly willRetry: boolean;
      /** When the next attempt is due, if `willRetry`. */
      readonly retryAt?: number;
    }
  | {
      readonly type: "wait-started";
      readonly at: number;
      /** The journal name of the wait. */
      readonly wait: string;
      readonly kind: "sleep" | "event" | "signal";
      /** The event type (`event`) or signal name (`signal`) waited for. */
      readonly target?: string;
      /** When the sleep ends or the wait times out; absent for a wait without timeout. */
      readonly dueAt?: number;
    }
  | { readonly type: "wait-ended"; readonly at: number; readonly wait: string; readonly outcome: WaitOutcome; readonly eventSeq?: number }
  | { readonly type: "signal-received"; readonly at: number; readonly signalSeq: number; readonly name: string; readonly payload: JsonValue }
  | { readonly type: "compensating"; readonly at: number; readonly reason: CompensationReason }
  | { readonly type: "compensation-started"; readonly at: number; readonly step: string; readonly attempt: number }
  | { readonly type: "compensation-completed"; readonly at: number; readonly step: string; readonly attempt: number }
  | {
      readonly type: "compensation-failed";
      readonly at: number;
      readonly step: string;
      readonly attempt: number;
      readonly error: FailureRecord;
      readonly willRetry: boolean;
      readonly retryAt?: number;
    }
  | { readonly type: "deadline-passed"; readonly at: number; readonly deadlineAt: number; readonly action: DeadlineAction }
  | { readonly type: "escalated"; readonly at: number; readonly reason: string }
  | { readonly type: "completed"; readonly at: number; readonly output: JsonValue }
  | { readonly type: "compensated"; readonly at: number }
  | { readonly type: "cancelled"; readonly at: number; readonly reason: string }
  | { readonly type: "failed"; readonly at: number; readonly step: string; readonly error: FailureRecord }
  | { readonly type: "retried"; readonly at: number };

/** One entry of an instance's history as stored: its position (from 1, gapless per instance) and its data. */
export type HistoryEntry = HistoryEntryInput & { readonly seq: number };

/** What happens when a workflow's deadline passes before it ends. */
export type DeadlineAction = "escalate" | "compensate" | "escalate-and-compensate";

/** A workflow's recovery objective: how long it may take, and what happens after. */
export interface DeadlineSpec {
  readonly after: Duration;
  readonly action: DeadlineAction;
}

/** A problem with a workflow definition or a duration, discriminated on `code`; `path` names the field. */
export interface DefinitionIssue {
  readonly code: "invalid_name" | "invalid_version" | "invalid_duration" | "invalid_trigger" | "invalid_deadline" | "invalid_run" | "duplicate_version";
  readonly path: string;
  readonly message: string;
  readonly value: unknown;
}

/** Errors of @millwright/workflows, discriminated on `code`. */
export type WorkflowError =
  | { readonly code: "invalid_definition"; readonly message: string; readonly issues: readonly DefinitionIssue[] }
  | { readonly code: "invalid_duration"; readonly path: string; readonly message: string; readonly value: unknown }
  | { readonly code: "unknown_workflow"; readonly message: string; readonly workflow: string; readonly version?: number }
  | { readonly code: "instance_not_found"; readonly message: string; readonly instanceId: string }
  | { readonly code: "instance_finished"; readonly message: string; readonly instanceId: string; readonly state: InstanceState }
  | { readonly code: "invalid_state"; readonly message: string; readonly instanceId: string; readonly state: InstanceState }
  | { readonly code: "invalid_input"; readonly message: string; readonly path: string; readonly value: unknown }
  | { readonly code: "invalid_signal"; readonly message: string; readonly path: string; readonly value: unknown }
  | { readonly code: "lease_lost"; readonly message: string; readonly instanceId: string; readonly workerId: string }
  | { readonly code: "store_failed"; readonly message: string; readonly operation: string; readonly cause: unknown };
