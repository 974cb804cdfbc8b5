// Workflow definitions: typed code checked once, when defined. The runtime only reads them.
import type { BreachedFinding } from "@millwright/alignment";
import type { CanonicalEvent } from "@millwright/events";
import type { HandlerError, RetryPolicy } from "@millwright/idempotency";
import type { EventType } from "@millwright/model";
import { err, ok, type Result, type ResultAsync } from "neverthrow";
import type { DeadlineSpec, DefinitionIssue, Duration, JsonValue, SignalPayload, TraceCarrier, WorkflowError } from "./types.js";

/** Workflow, step, wait and signal names: lower-case letters, digits and `-`, 1 to 100 characters. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,99}$/;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d{1,15})(ms|s|m|h|d)$/;

/** Text of a value for an error message, bounded and never throwing. */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(value) : typeof value === "function" ? "a function" : value === undefined ? "undefined" : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/**
 * Parses a duration: whole milliseconds as a number, or an integer and a unit (`ms`, `s`, `m`,
 * `h`, `d`) as a string.
 *
 * @param value - the duration, such as `"30s"`, `"15m"`, `"4h"` or `1500`
 * @param path - the field it came from, named in the error
 * @returns the duration in milliseconds, or an `invalid_duration` error naming the field, the value and the rule
 * @example
 * parseDuration("15m"); // ok(900000)
 * parseDuration("15 minutes", "deadline.after"); // err({ code: "invalid_duration", path: "deadline.after", … })
 */
export function parseDuration(value: unknown, path = "duration"): Result<number, Extract<WorkflowError, { code: "invalid_duration" }>> {
  const fail = (rule: string) =>
    err({ code: "invalid_duration" as const, path, value, message: `${path} is ${showValue(value)}: ${rule}` });
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) return fail("a number duration is whole milliseconds, an integer ≥ 0");
    return ok(value);
  }
  if (typeof value !== "string") return fail('a duration is a number of milliseconds or a string such as "30s", "15m", "4h"');
  const match = DURATION_PATTERN.exec(value);
  if (match === null) return fail('a duration string is an integer and a unit, ms, s, m, h or d, such as "30s", "15m", "4h"');
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(ms)) return fail("the duration is too long");
  return ok(ms);
}

/** Where step and workflow messages go. */
export interface WorkflowLogger {
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** What a step function gets. */
export interface StepContext<TInput = unknown> {
  readonly workflow: string;
  readonly version: number;
  readonly instanceId: string;
  /** The instance key, such as the hold id. */
  readonly key: string;
  readonly step: string;
  /** UUIDv5 of workflow name, instance key and step name: the same on every attempt and every worker. */
  readonly idempotencyKey: string;
  /** The attempt, from 1. */
  readonly attempt: number;
  readonly input: TInput;
  /** The results of the steps completed so far, by step name. */
  readonly results: Readonly<Record<string, JsonValue>>;
  readonly logger: WorkflowLogger;
  /** The trace context of the event (or caller) that started the instance. */
  readonly trace: TraceCarrier | undefined;
  /** Aborted when the step's timeout passes or the worker loses its lease: stop and return. */
  readonly signal: AbortSignal;
}

/** What a compensation function gets: the step's context, with the compensation's own idempotency key. */
export type CompensationContext<TInput = unknown> = StepContext<TInput>;

/** What a step function may return: a Result (neverthrow) or a plain JSON value, sync or async. */
export type StepReturn<T> = Result<T, HandlerError> | ResultAsync<T, HandlerError> | Promise<Result<T, HandlerError>> | T | Promise<T>;

/** Options of one step. */
export interface StepOptions<T, TInput = unknown> {
  /** Retry policy of the step (and of its compensation unless `compensateRetry` is given). Default: idempotency's DEFAULT_RETRY_POLICY. */
  readonly retry?: RetryPolicy;
  /** How long one attempt may take before it is aborted and counted as a retryable failure. */
  readonly timeout?: Duration;
  /**
   * Undoes the step's effect; runs (durably, retried) when a later step fails for good, a signal
   * rejects, the instance is cancelled or its deadline asks for compensation. Return a Result, or
   * anything else for success; a thrown exception is a permanent failure.
   */
  readonly compensate?: (ctx: CompensationContext<TInput>, result: T) => StepReturn<unknown>;
  /** Retry policy of the compensation. Default: `retry`. */
  readonly compensateRetry?: RetryPolicy;
}

/** How a wait for an event ended. */
export type EventWaitResult<TType extends EventType> = { readonly kind: "event"; readonly event: CanonicalEvent<TType> } | { readonly kind: "timeout" };

/** How a wait for a signal ended. */
export type SignalWaitResult = { readonly kind: "signal"; readonly name: string; readonly payload: SignalPayload } | { readonly kind: "timeout" };

/**
 * The workflow context a body gets. Every call is journaled by its name: on replay the recorded
 * outcome is returned without running anything again. The body must be deterministic (same calls
 * in the same order for the same recorded outcomes): no clock, no randomness, no I/O outside steps.
 */
export interface WorkflowContext<TInput = unknown> {
  readonly workflow: string;
  readonly version: number;
  readonly instanceId: string;
  readonly key: string;
  readonly input: TInput;
  /**
   * Runs a step once (as recorded), retried by its policy. Resolves with its result; rejects with
   * a {@link StepFailedError} when it fails for good (then, unless the body catches it, the
   * instance compensates).
   */
  step<T>(name: string, fn: (ctx: StepContext<TInput>) => ResultAsync<T, HandlerError> | Result<T, HandlerError> | Promise<Result<T, HandlerError>>, options?: StepOptions<T, TInput>): Promise<T>;
  step<T>(name: string, fn: (ctx: StepContext<TInput>) => T | Promise<T>, options?: StepOptions<T, TInput>): Promise<T>;
  /** Waits for every branch (a promise of `wf` calls, or a function returning one) and resolves with their results in order. */
  parallel<const T extends readonly unknown[]>(branches: { readonly [K in keyof T]: PromiseLike<T[K]> | (() => PromiseLike<T[K]>) }): Promise<{ -readonly [K in keyof T]: T[K] }>;
  /** A durable sleep: a due time in the store. `name` defaults to `sleep-<n>` (n counts sleeps in call order). */
  sleep(duration: Duration, options?: { readonly name?: string }): Promise<void>;
  /**
   * Waits for a canonical event of a type that `match` accepts (events received since the instance
   * started count, even before the wait). `name` defaults to `<type>-<n>`.
   */
  waitFor<TType extends EventType>(
    type: TType,
    match: (event: CanonicalEvent<TType>) => boolean,
    options?: { readonly timeout?: Duration; readonly name?: string },
  ): Promise<EventWaitResult<TType>>;
  /**
   * Waits for a person's decision. A `reject` compensates the instance unless `onReject` is
   * `"return"` (then the body gets it). `name` defaults to `<signal>-<n>`.
   */
  waitForSignal(signal: string, options?: { readonly timeout?: Duration; readonly onReject?: "compensate" | "return"; readonly name?: string }): Promise<SignalWaitResult>;
}

/** Starts an instance for a canonical event of one type. */
export interface EventTrigger<TInput = unknown> {
  readonly kind: "event";
  readonly type: EventType;
  /** The instance key, such as the hold id. */
  key(event: CanonicalEvent): string;
  /** The instance input (JSON); default the event's data. */
  input(event: CanonicalEvent): TInput;
  /** Starts only when this says true (default always). */
  when(event: CanonicalEvent): boolean;
}

/** Starts an instance for a breached alignment finding of one rule. */
export interface BreachTrigger<TInput = unknown> {
  readonly kind: "breach";
  readonly rule: string;
  key(finding: BreachedFinding): string;
  input(finding: BreachedFinding): TInput;
}

/** How an instance can start besides `runtime.start`. */
export type WorkflowTrigger<TInput = unknown> = EventTrigger<TInput> | BreachTrigger<TInput>;

/**
 * A trigger that starts an instance for each canonical event of a type.
 *
 * @param type - the event type, such as `dev.millwright.qualityhold.placed.v1`
 * @param options - `key` (the instance key from the event), `input` (default the event's data), `when` (a filter)
 * @returns the trigger, for `start` of {@link defineWorkflow}
 * @example
 * onEvent("dev.millwright.qualityhold.placed.v1", { key: (e) => e.data.holdId });
 */
export function onEvent<TType extends EventType, TInput = CanonicalEvent<TType>["data"]>(
  type: TType,
  options: {
    readonly key: (event: CanonicalEvent<TType>) => string;
    readonly input?: (event: CanonicalEvent<TType>) => TInput;
    readonly when?: (event: CanonicalEvent<TType>) => boolean;
  },
): EventTrigger<TInput> {
  const { key, input, when } = options;
  return Object.freeze({
    kind: "event" as const,
    type,
    key: (event: CanonicalEvent) => key(event as CanonicalEvent<TType>),
    input: (event: CanonicalEvent) => (input === undefined ? (event.data as TInput) : input(event as CanonicalEvent<TType>)),
    when: (event: CanonicalEvent) => event.type === type && (when === undefined || when(event as CanonicalEvent<TType>)),
  });
}

/**
 * A trigger that starts an instance (a remediation) for each breached finding of an alignment rule.
 *
 * @param rule - the alignment rule name, such as `hold-not-reflected-in-wms`
 * @param options - `key` (default the finding's key) and `input` (default the finding)
 * @returns the trigger, for `start` of {@link defineWorkflow}
 * @example
 * onBreach("hold-not-reflected-in-wms", { input: (f) => ({ holdId: f.key }) });
 */
export function onBreach<TInput = BreachedFinding>(
  rule: string,
  options: { readonly key?: (finding: BreachedFinding) => string; readonly input?: (finding: BreachedFinding) => TInput } = {},
): BreachTrigger<TInput> {
  const { key, input } = options;
  return Object.freeze({
    kind: "breach" as const,
    rule,
    key: (finding: BreachedFinding) => (key === undefined ? finding.key : key(finding)),
    input: (finding: BreachedFinding) => (input === undefined ? (finding as unknown as TInput) : input(finding)),
  });
}

/** What {@link defineWorkflow} takes. */
export interface WorkflowSpec<TInput = unknown, TOutput = unknown> {
  /** `[a-z0-9-]+`, at most 100 characters. */
  readonly name: string;
  /** An integer ≥ 1; instances finish on the version they started with. */
  readonly version: number;
  readonly description?: string;
  /** Events and breaches that start an instance; `runtime.start` always can. */
  readonly start?: readonly WorkflowTrigger<TInput>[];
  /** The recovery objective: how long an instance may take, and what happens after. */
  readonly deadline?: DeadlineSpec;
  /** The body: deterministic code over `wf` calls; what it returns (JSON) is the output. */
  run(wf: WorkflowContext<TInput>, input: TInput): Promise<TOutput>;
}

/** A checked workflow definition. */
export interface WorkflowDefinition<TInput = unknown, TOutput = unknown> extends WorkflowSpec<TInput, TOutput> {
  readonly start: readonly WorkflowTrigger<TInput>[];
  /** `deadline.after` in milliseconds, when there is a deadline. */
  readonly deadlineMs?: number;
}

/** A definition of any input and output, as the runtime holds them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the runtime holds definitions of many input types
export type AnyWorkflowDefinition = WorkflowDefinition<any, any>;

/**
 * Checks a workflow specification.
 *
 * @param spec - the specification
 * @returns the frozen definition, or `invalid_definition` with one issue per broken rule (each naming the field, the value and the rule)
 * @example
 * const checked = checkWorkflow({ name: "Quality Hold", version: 0, run: async () => null });
 * if (checked.isErr()) console.log(checked.error.issues.map((i) => i.message));
 */
export function checkWorkflow<TInput, TOutput>(spec: WorkflowSpec<TInput, TOutput>): Result<WorkflowDefinition<TInput, TOutput>, WorkflowError> {
  const issues: DefinitionIssue[] = [];
  const issue = (code: DefinitionIssue["code"], path: string, value: unknown, rule: string) =>
    issues.push({ code, path, value, message: `${path} is ${showValue(value)}: ${rule}` });
  if (typeof spec.name !== "string" || !NAME_PATTERN.test(spec.name)) issue("invalid_name", "name", spec.name, "a workflow name is 1 to 100 of a-z, 0-9 and -, starting with a letter or digit");
  if (!Number.isSafeInteger(spec.version) || spec.version < 1) issue("invalid_version", "version", spec.version, "a version is an integer ≥ 1");
  if (typeof spec.run !== "function") issue("invalid_run", "run", spec.run, "run is the workflow body, an async function (wf, input) => output");
  const start = spec.start ?? [];
  if (!Array.isArray(start)) issue("invalid_trigger", "start", start, "start is an array of onEvent(…) and onBreach(…) triggers");
  else
    start.forEach((trigger: unknown, i) => {
      const kind = (trigger as { kind?: unknown } | null)?.kind;
      if (kind !== "event" && kind !== "breach") issue("invalid_trigger", `start[${i}]`, trigger, "a trigger is made by onEvent(…) or onBreach(…)");
      else if (kind === "event" && typeof (trigger as EventTrigger).type !== "string") issue("invalid_trigger", `start[${i}].type`, (trigger as EventTrigger).type, "an event trigger names an event type");
      else if (kind === "breach" && (typeof (trigger as BreachTrigger).rule !== "string" || (trigger as BreachTrigger).rule === "")) issue("invalid_trigger", `start[${i}].rule`, (trigger as BreachTrigger).rule, "a breach trigger names an alignment rule");
    });
  let deadlineMs: number | undefined;
  if (spec.deadline !== undefined) {
    const after = parseDuration(spec.deadline.after, "deadline.after");
    if (after.isErr()) issues.push({ code: "invalid_duration", path: after.error.path, value: after.error.value, message: after.error.message });
    else if (after.value === 0) issue("invalid_deadline", "deadline.after", spec.deadline.after, "a deadline is longer than 0");
    else deadlineMs = after.value;
    const actions = ["escalate", "compensate", "escalate-and-compensate"];
    if (!actions.includes(spec.deadline.action)) issue("invalid_deadline", "deadline.action", spec.deadline.action, `a deadline action is one of ${actions.join(", ")}`);
  }
  if (issues.length > 0) {
    return err({ code: "invalid_definition", message: `workflow ${showValue(spec.name)} is invalid: ${issues.map((i) => i.message).join("; ")}`, issues });
  }
  return ok(Object.freeze({ ...spec, start: Object.freeze([...start]), ...(deadlineMs === undefined ? {} : { deadlineMs }) }));
}

/**
 * Defines a workflow: its name and version, what starts it, its deadline and its body. Checks the
 * definition at once; an invalid one is a programmer error and throws (use {@link checkWorkflow}
 * for a Result).
 *
 * @param spec - name, version, start triggers, deadline, and the body `run(wf, input)`
 * @returns the checked, frozen definition
 * @throws TypeError naming every invalid field, its value and the rule
 * @example
 * const hold = defineWorkflow({
 *   name: "quality-hold",
 *   version: 1,
 *   start: [onEvent("dev.millwright.qualityhold.placed.v1", { key: (e) => e.data.holdId })],
 *   deadline: { after: "4h", action: "escalate" },
 *   run: async (wf, input) => {
 *     const erp = await wf.step("block-in-erp", async (ctx) => ({ blocked: true, key: ctx.idempotencyKey }));
 *     return { erp };
 *   },
 * });
 */
export function defineWorkflow<TInput = unknown, TOutput = unknown>(spec: WorkflowSpec<TInput, TOutput>): WorkflowDefinition<TInput, TOutput> {
  const checked = checkWorkflow(spec);
  if (checked.isErr()) throw new TypeError(checked.error.message);
  return checked.value;
}

/** A step (or compensation) failed for good: what `wf.step` rejects with. */
export class StepFailedError extends Error {
  override readonly name = "StepFailedError";
  /**
   * @param step - the step's name
   * @param failure - the recorded failure
   */
  constructor(
    readonly step: string,
    readonly failure: { readonly code: string; readonly message: string; readonly stack?: string },
  ) {
    super(`step ${step} failed for good: ${failure.message}`);
  }
}
