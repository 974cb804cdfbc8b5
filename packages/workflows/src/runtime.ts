// The I/O shell of the workflow runtime: claims due instances, replays their bodies against their
// journals (journal.ts), runs the next steps, waits and compensations, and writes every outcome to
// the store before anything depends on it.
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { BreachedFinding, Finding } from "@millwright/alignment";
import type { CanonicalEvent } from "@millwright/events";
import { DEFAULT_RETRY_POLICY, backoffDelay, systemClock, timerSleep, type Clock, type HandlerError, type RetryPolicy, type Sleep } from "@millwright/idempotency";
import type { Meter, Tracer } from "@opentelemetry/api";
import { ResultAsync, err, errAsync, ok, okAsync } from "neverthrow";
import {
  NAME_PATTERN,
  StepFailedError,
  parseDuration,
  showValue,
  type AnyWorkflowDefinition,
  type SignalWaitResult,
  type StepContext,
  type StepOptions,
  type WorkflowContext,
  type WorkflowDefinition,
  type WorkflowLogger,
} from "./define.js";
import { instanceIdOf, stepIdempotencyKey } from "./ids.js";
import { readJournal, type Journal } from "./journal.js";
import { toJsonValue } from "./json.js";
import type { Claim, InstanceRecord, InstanceSnapshot, InstanceUpdate, Lease, NewInstance, PendingSignal, WorkflowDeadLetter, WorkflowStore } from "./store.js";
import { createInstruments, type WorkflowInstruments } from "./telemetry.js";
import type {
  CompensationReason,
  FailureRecord,
  HistoryEntry,
  HistoryEntryInput,
  InstanceState,
  JsonValue,
  SignalPayload,
  TraceCarrier,
  WaitOutcome,
  WorkflowError,
} from "./types.js";

/** An escalation: a workflow's deadline passed with an `escalate` action. */
export interface Escalation {
  readonly instanceId: string;
  readonly workflow: string;
  readonly version: number;
  readonly key: string;
  readonly deadlineAt: number;
  readonly reason: string;
}

/** How {@link createWorkflowRuntime} is set up. */
export interface WorkflowRuntimeOptions {
  readonly store: WorkflowStore;
  /** The definitions this runtime runs; several versions of one name may be given. */
  readonly workflows: readonly AnyWorkflowDefinition[];
  /** The clock of due times and history entries. Default the system clock. */
  readonly clock?: Clock;
  /** This worker's id in leases. Default `<hostname>:<pid>:<random>`. */
  readonly workerId?: string;
  /** How long a claim lasts unless renewed (renewed every third of it while the instance runs). Default 30 000. */
  readonly leaseMs?: number;
  /** How often the worker looks for due instances when idle, in ms. Default 200. */
  readonly pollMs?: number;
  /** Instances run at once. Default 8. */
  readonly concurrency?: number;
  /** Retry delays up to this many ms are waited in the worker; longer ones become due times. Default 1000. */
  readonly inlineRetryMs?: number;
  /** How in-worker retry delays are waited. Default a timer. */
  readonly sleep?: Sleep;
  /** Source of jitter for retry delays. Default Math.random. */
  readonly random?: () => number;
  readonly tracer?: Tracer;
  readonly meter?: Meter;
  /** Where runtime and step messages go. Default: warnings and errors to the console. */
  readonly logger?: WorkflowLogger;
  /** Called (after the write) for every instance sent to the dead letters. */
  readonly onDeadLetter?: (letter: WorkflowDeadLetter) => void | Promise<void>;
  /**
   * Called (after the write, after `onDeadLetter`) with the finding of every compensation that
   * failed for good: hand it to whatever shows alignment findings (see {@link toBreachedFinding}).
   */
  readonly onFinding?: (finding: WorkflowFinding) => void | Promise<void>;
  /** Called (after the write) for every deadline that passed with an escalate action. */
  readonly onEscalate?: (escalation: Escalation) => void | Promise<void>;
}

/** An instance as `start` and `deliver` report it. */
export interface InstanceRef {
  readonly id: string;
  readonly workflow: string;
  readonly version: number;
  readonly key: string;
  readonly state: InstanceState;
  /** false when the instance existed already (start is idempotent per workflow and key). */
  readonly created: boolean;
}

/** What `deliver` and `deliverFinding` did. */
export interface DeliveryOutcome {
  readonly started: readonly InstanceRef[];
  /** Instances woken because they wait for the event's type. */
  readonly woken: number;
}

/** The workflow runtime. */
export interface WorkflowRuntime {
  readonly workerId: string;
  /** Starts an instance of a registered definition for a key, or finds the one that exists. */
  start(definition: WorkflowDefinition<never, unknown> | AnyWorkflowDefinition, key: string, input: unknown, options?: { readonly trace?: TraceCarrier }): ResultAsync<InstanceRef, WorkflowError>;
  /** Starts instances for the event's `onEvent` triggers (newest version of each workflow) and wakes waits for its type. */
  deliver(event: CanonicalEvent): ResultAsync<DeliveryOutcome, WorkflowError>;
  /** Starts instances for a breached finding's `onBreach` triggers; a resolved finding starts nothing. */
  deliverFinding(finding: Finding): ResultAsync<DeliveryOutcome, WorkflowError>;
  /**
   * Starts many instances of one definition at once (one store transaction per batch where the
   * store has `createInstances`); idempotent per key like `start`. The refs come in the order given.
   */
  startMany(
    definition: WorkflowDefinition<never, unknown> | AnyWorkflowDefinition,
    items: readonly { readonly key: string; readonly input: unknown; readonly trace?: TraceCarrier }[],
  ): ResultAsync<InstanceRef[], WorkflowError>;
  /** Delivers a person's decision to an instance; a wait for it (now or later) takes it. */
  signal(instanceId: string, name: string, payload: SignalPayload): ResultAsync<void, WorkflowError>;
  /** Cancels an instance: its completed steps are compensated in reverse order, then it is `cancelled`. */
  cancel(instanceId: string, reason: string): ResultAsync<void, WorkflowError>;
  /** Runs a `failed` (dead-lettered) instance's compensations again. */
  retry(instanceId: string): ResultAsync<void, WorkflowError>;
  /** An instance with its history and pending signals. */
  get(instanceId: string): ResultAsync<InstanceSnapshot, WorkflowError>;
  list(filter?: { readonly state?: InstanceState; readonly workflow?: string; readonly limit?: number }): ResultAsync<InstanceRecord[], WorkflowError>;
  deadLetters(limit?: number): ResultAsync<WorkflowDeadLetter[], WorkflowError>;
  /** Runs everything due now, until nothing is due; resolves with how many instance runs it made. */
  runDue(): ResultAsync<number, WorkflowError>;
  /** Starts the background loop that runs due instances. */
  startWorker(): void;
  /** Stops the loop and waits for the instances it is running. */
  stop(): Promise<void>;
}

/** What `wf.waitForSignal` rejects with when a person rejects (and `onReject` is `compensate`). */
export class SignalRejectedError extends Error {
  override readonly name = "SignalRejectedError";
  /**
   * @param signal - the signal name
   * @param payload - the decision
   */
  constructor(
    readonly signal: string,
    readonly payload: SignalPayload,
  ) {
    super(`signal ${signal} rejected${payload.reason === undefined ? "" : `: ${payload.reason}`}`);
  }
}

/** The rule name of a {@link WorkflowFinding}. */
export const COMPENSATION_FAILED_RULE = "workflow-compensation-failed";

/**
 * An alignment-style finding for a compensation that failed for good: the systems are left out of
 * step (a step's effect stands that the workflow meant to undo) until someone acts. It has the
 * fields of `@millwright/alignment`'s `BreachedFinding` where they apply — `kind`, `rule`, `key`,
 * `dueAt`, `latenessMs`, `evidence`, `at`, `revision`, `reasons`, `detail` — and what identifies
 * the instance. `toBreachedFinding` turns it into a `BreachedFinding` the alignment report shows.
 */
export interface WorkflowFinding {
  readonly kind: "breached";
  /** Always {@link COMPENSATION_FAILED_RULE}. */
  readonly rule: typeof COMPENSATION_FAILED_RULE;
  /** `<workflow>/<instance key>`: one finding per instance, as the alignment monitor has one per rule and key. */
  readonly key: string;
  /** When the compensation failed for good (ISO 8601, UTC): the undo was due then and did not happen. */
  readonly dueAt: string;
  /** How long the finding stood when it was made: 0 (it is reported at once). */
  readonly latenessMs: number;
  /** No canonical events: the evidence is the instance's history in the dead letter. */
  readonly evidence: readonly [];
  /** When the finding was made (ISO 8601, UTC). */
  readonly at: string;
  /** The failure time in ms since the epoch, as digits. */
  readonly revision: string;
  readonly reasons: readonly ["compensation_failed"];
  /** What failed, why, and what is left to do, in one sentence. */
  readonly detail: string;
  readonly workflow: string;
  readonly version: number;
  readonly instanceId: string;
  readonly instanceKey: string;
  /** The step whose compensation failed. */
  readonly step: string;
  readonly error: FailureRecord;
}

/**
 * The finding of a dead letter (a compensation that failed for good).
 *
 * @param letter - the dead letter, from `onDeadLetter` or `store.deadLetters()`
 * @returns the finding
 * @example
 * const findings = (await store.deadLetters()).map(workflowFindingOf);
 */
export function workflowFindingOf(letter: WorkflowDeadLetter): WorkflowFinding {
  const at = new Date(letter.at).toISOString();
  return {
    kind: "breached",
    rule: COMPENSATION_FAILED_RULE,
    key: `${letter.workflow}/${letter.key}`,
    dueAt: at,
    latenessMs: 0,
    evidence: [],
    at,
    revision: String(letter.at),
    reasons: ["compensation_failed"],
    detail: `workflow ${letter.workflow} v${letter.version} ${letter.key}: the compensation of step ${letter.step} failed for good (${letter.error.code}: ${letter.error.message}); its effect stands until someone undoes it or retries the instance (instance ${letter.instanceId})`,
    workflow: letter.workflow,
    version: letter.version,
    instanceId: letter.instanceId,
    instanceKey: letter.key,
    step: letter.step,
    error: letter.error,
  };
}

/**
 * The finding as `@millwright/alignment`'s `BreachedFinding`, for its report: reason `missing`
 * (the undo is missing), the explanation in `detail`.
 *
 * @param finding - a workflow finding
 * @returns a breached finding with the same rule, key, times and detail
 * @example
 * const breached = toBreachedFinding(workflowFindingOf(letter)); // a Finding, as the alignment report takes it
 */
export function toBreachedFinding(finding: WorkflowFinding): BreachedFinding {
  return {
    kind: "breached",
    rule: finding.rule,
    key: finding.key,
    dueAt: finding.dueAt,
    latenessMs: finding.latenessMs,
    evidence: [],
    at: finding.at,
    revision: finding.revision,
    reasons: ["missing"],
    detail: finding.detail,
  };
}

const CONSOLE_LOGGER: WorkflowLogger = {
  info: () => {},
  warn: (message, fields) => console.warn(`[workflows] ${message}`, fields ?? ""),
  error: (message, fields) => console.error(`[workflows] ${message}`, fields ?? ""),
};

function storeFailed(operation: string): (cause: unknown) => WorkflowError {
  return (cause) => ({ code: "store_failed", operation, message: `${operation} failed: ${cause instanceof Error ? cause.message : showValue(cause)}`, cause });
}

function isResult(value: unknown): value is { isOk(): boolean; isErr(): boolean; value?: unknown; error?: unknown } {
  return typeof value === "object" && value !== null && typeof (value as { isOk?: unknown }).isOk === "function" && typeof (value as { isErr?: unknown }).isErr === "function";
}

function toFailure(error: unknown): { readonly failure: FailureRecord; readonly retryable: boolean } {
  const e = error as Partial<HandlerError> | null;
  if (typeof e === "object" && e !== null && typeof e.message === "string" && typeof e.retryable === "boolean") {
    return { failure: { code: typeof e.code === "string" ? e.code : e.retryable ? "retryable" : "permanent", message: e.message }, retryable: e.retryable };
  }
  return { failure: { code: "permanent", message: `the step returned err(${showValue(error)}), not a HandlerError` }, retryable: false };
}

function exceptionOf(error: unknown): FailureRecord {
  if (error instanceof Error) return { code: "exception", message: `${error.name}: ${error.message}`, ...(error.stack === undefined ? {} : { stack: error.stack }) };
  return { code: "exception", message: `threw ${showValue(error)}` };
}

function isSignalPayload(value: unknown): value is SignalPayload {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (v["decision"] === "approve" || v["decision"] === "reject") && (v["reason"] === undefined || typeof v["reason"] === "string") && (v["by"] === undefined || typeof v["by"] === "string");
}

/** The outcome of one attempt of a step or compensation. */
type AttemptOutcome = { readonly ok: true; readonly value: JsonValue } | { readonly ok: false; readonly failure: FailureRecord; readonly retryable: boolean };

/**
 * Serialized, fenced writes of one activation, with the history as written so far.
 *
 * Entries given to `defer` are not written on their own: they go with the next write (in the same
 * transaction, before its entries), or — for a completion, when nothing else writes first — two event-loop turns
 * later. A step's completion is deferred, so it commits with the next step's `step-started` (one
 * transaction per step), and the last one with the instance's `completed`; no step function starts
 * before the records of the earlier steps are written (the next write carries them).
 */
class Writer {
  lost = false;
  /** Record each step attempt in a write of its own before it runs (set for a recovered claim: see `Claim.recovered`). */
  eagerAttempts = false;
  private chain: Promise<unknown> = Promise.resolve();
  private pending: HistoryEntryInput[] = [];
  private flushScheduled = false;
  readonly history: HistoryEntry[];
  constructor(
    private readonly store: WorkflowStore,
    public lease: Lease,
    history: readonly HistoryEntry[],
    private readonly now: () => number,
    private readonly onLost: (why: string) => void,
    /** The instance's `waitingFor` as claimed: only this lease's writes change it. */
    private waitingFor: readonly string[] = [],
  ) {
    this.history = [...history];
  }

  /** Appends entries with an update; false when the lease was lost or the store failed (the activation stops). */
  write(given: readonly HistoryEntryInput[], requested: InstanceUpdate = {}): Promise<boolean> {
    const entries = this.pending.length === 0 ? given : [...this.pending, ...given];
    this.pending = [];
    let update = requested;
    if (update.waitingFor !== undefined) {
      // Clearing waits the instance does not have changes nothing: left out, the store skips the waits rows.
      if (update.waitingFor.length === 0 && this.waitingFor.length === 0) {
        const { waitingFor: _, ...rest } = update;
        update = rest;
      } else this.waitingFor = update.waitingFor;
    }
    const next = this.chain.then(async () => {
      if (this.lost) return false;
      try {
        const outcome = await this.store.appendHistory(this.lease, entries, update, this.now());
        if (!outcome.ok) {
          this.lost = true;
          this.onLost(`lease lost to ${outcome.owner ?? "nobody"}`);
          return false;
        }
        const first = outcome.lastSeq - entries.length + 1;
        entries.forEach((entry, i) => this.history.push({ ...entry, seq: first + i } as HistoryEntry));
        return true;
      } catch (cause) {
        this.lost = true;
        this.onLost(`store failed: ${cause instanceof Error ? cause.message : showValue(cause)}`);
        return false;
      }
    });
    this.chain = next;
    return next;
  }

  /**
   * Keeps entries for the next write (see the class). With `soon` (a step's completion), they are
   * written alone two event-loop turns later if no write comes; without (a first attempt's
   * `step-started`), they wait for the next write, which the step's own outcome makes.
   */
  defer(entries: readonly HistoryEntryInput[], soon = true): void {
    this.pending.push(...entries);
    if (!soon || this.flushScheduled) return;
    this.flushScheduled = true;
    // Two turns: the body's own continuation (and the activation's final write) get to run first.
    setImmediate(() =>
      setImmediate(() => {
        this.flushScheduled = false;
        if (this.pending.length > 0 && !this.lost) void this.write([], { state: "running" }); // only step records are deferred
      }),
    );
  }

  /** Whether entries wait for the next write. */
  hasDeferred(): boolean {
    return this.pending.length > 0;
  }
}

interface Block {
  readonly wakeAt?: number;
  readonly waitingFor?: string;
  /** With waitingFor: the highest event seq this wait read for its type (0: none). */
  readonly seenSeq?: number;
}

interface Compensator {
  readonly fn: (ctx: StepContext, result: never) => unknown;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number | undefined;
}

type BodyOutcome = { readonly kind: "returned"; readonly value: unknown } | { readonly kind: "threw"; readonly error: unknown } | { readonly kind: "suspended"; readonly blocks: readonly Block[] } | { readonly kind: "abandoned" };

/** The shared machinery of the runtime an activation needs. */
interface Engine {
  readonly store: WorkflowStore;
  readonly clock: Clock;
  readonly logger: WorkflowLogger;
  readonly instruments: WorkflowInstruments;
  readonly sleep: Sleep;
  readonly random: () => number;
  readonly inlineRetryMs: number;
}

/**
 * One replay of a body against its journal. In `execute` mode the first unrecorded steps and waits
 * run (and are recorded); in `collect` mode nothing new runs: the replay only gathers the
 * compensations of the recorded steps.
 */
class BodyRun {
  private busy = 0;
  private settled: BodyOutcome | undefined;
  private finished = false;
  private resolveDone!: (outcome: BodyOutcome) => void;
  readonly done: Promise<BodyOutcome> = new Promise((resolve) => (this.resolveDone = resolve));
  /** Step idempotency keys (a UUID v5, a hash each) by step: computed once per step, not per use. */
  private readonly idempotencyKeys = new Map<string, string>();
  private readonly blocks: Block[] = [];
  readonly compensators = new Map<string, Compensator>();
  private readonly names = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly signals: PendingSignal[];

  constructor(
    private readonly engine: Engine,
    private readonly definition: AnyWorkflowDefinition,
    private readonly instance: InstanceRecord,
    private readonly journal: Journal,
    signals: readonly PendingSignal[],
    private readonly writer: Writer,
    private readonly abort: AbortSignal,
    private readonly mode: "execute" | "collect",
  ) {
    this.signals = signals.filter((s) => !s.name.startsWith("$"));
  }

  start(): Promise<BodyOutcome> {
    const wf = this.context();
    Promise.resolve()
      .then(() => this.definition.run(wf, this.instance.input))
      .then(
        (value: unknown) => (this.settled = { kind: "returned", value }),
        (error: unknown) => (this.settled = { kind: "threw", error }),
      )
      .finally(() => this.check());
    this.check();
    return this.done;
  }

  private check(): void {
    // After a macrotask every microtask continuation of the body has run: if nothing is in
    // flight then, the body has settled or is blocked on waits that need a later activation.
    setImmediate(() => {
      if (this.finished || this.busy > 0) return;
      if (this.settled === undefined && this.busy === 0) {
        this.finished = true;
        this.resolveDone(this.writer.lost ? { kind: "abandoned" } : { kind: "suspended", blocks: this.blocks });
        return;
      }
      this.finished = true;
      this.resolveDone(this.writer.lost ? { kind: "abandoned" } : (this.settled as BodyOutcome));
    });
  }

  private track(work: Promise<void>): void {
    this.busy += 1;
    work
      .catch((cause: unknown) => this.engine.logger.error("workflow runtime fault", { instanceId: this.instance.id, error: showValue(cause) }))
      .finally(() => {
        this.busy -= 1;
        this.check();
      });
  }

  private block(block: Block): void {
    this.blocks.push(block);
  }

  private now(): number {
    return this.engine.clock.now();
  }

  private claimName(name: string | undefined, kind: string): string {
    let resolved = name;
    if (resolved === undefined) {
      const n = (this.counters.get(kind) ?? 0) + 1;
      this.counters.set(kind, n);
      resolved = `${kind}-${n}`;
    } else if (!NAME_PATTERN.test(resolved)) {
      throw new TypeError(`workflow ${this.definition.name}: the name ${showValue(resolved)} is invalid: a step or wait name is 1 to 100 of a-z, 0-9 and -`);
    }
    if (this.names.has(resolved)) throw new TypeError(`workflow ${this.definition.name}: the name ${showValue(resolved)} is used twice in one run: each step and wait needs its own name`);
    this.names.add(resolved);
    return resolved;
  }

  private duration(value: unknown, path: string): number | undefined {
    if (value === undefined) return undefined;
    const parsed = parseDuration(value, path);
    if (parsed.isErr()) throw new TypeError(`workflow ${this.definition.name}: ${parsed.error.message}`);
    return parsed.value;
  }

  private readonly loggers = new Map<string, WorkflowLogger>();

  /** The logger of a step (made once per step and run). */
  private stepLogger(step: string): WorkflowLogger {
    let made = this.loggers.get(step);
    if (made === undefined) this.loggers.set(step, (made = this.makeStepLogger(step)));
    return made;
  }

  private makeStepLogger(step: string): WorkflowLogger {
    const base = { workflow: this.definition.name, instanceId: this.instance.id, key: this.instance.key, step };
    const { logger } = this.engine;
    return {
      info: (message, fields) => logger.info(message, { ...base, ...fields }),
      warn: (message, fields) => logger.warn(message, { ...base, ...fields }),
      error: (message, fields) => logger.error(message, { ...base, ...fields }),
    };
  }

  /** The context a step or compensation function gets for one attempt. */
  /** The step's idempotency key (see `stepIdempotencyKey`), computed once per step and kind. */
  idempotencyKeyOf(step: string, kind: "step" | "compensation"): string {
    const slot = `${kind}\u0000${step}`;
    let key = this.idempotencyKeys.get(slot);
    if (key === undefined) this.idempotencyKeys.set(slot, (key = stepIdempotencyKey(this.definition.name, this.instance.key, step, kind)));
    return key;
  }

  stepContext(step: string, attempt: number, kind: "step" | "compensation", signal: AbortSignal): StepContext {
    return Object.freeze({
      workflow: this.definition.name,
      version: this.instance.version,
      instanceId: this.instance.id,
      key: this.instance.key,
      step,
      idempotencyKey: this.idempotencyKeyOf(step, kind),
      attempt,
      input: this.instance.input,
      results: Object.freeze(Object.fromEntries(this.journal.results)),
      logger: this.stepLogger(step),
      trace: this.instance.trace,
      signal,
    });
  }

  private context(): WorkflowContext {
    const run = this;
    const wf: WorkflowContext = {
      workflow: this.definition.name,
      version: this.instance.version,
      instanceId: this.instance.id,
      key: this.instance.key,
      input: this.instance.input,
      step(name: string, fn: (ctx: StepContext) => unknown, options?: StepOptions<unknown>): Promise<never> {
        return run.step(name, fn, options) as Promise<never>;
      },
      parallel(branches: readonly (PromiseLike<unknown> | (() => PromiseLike<unknown>))[]) {
        return Promise.all(branches.map((branch) => (typeof branch === "function" ? branch() : branch))) as never;
      },
      sleep: (duration, options) => run.sleep(duration, options?.name),
      waitFor: (type, match, options) => run.waitForEvent(type, match as (event: CanonicalEvent) => boolean, options?.timeout, options?.name) as never,
      waitForSignal: (signal, options) => run.waitForSignal(signal, options?.timeout, options?.onReject ?? "compensate", options?.name),
    } as WorkflowContext;
    return wf;
  }

  private step(name: string, fn: (ctx: StepContext) => unknown, options: StepOptions<unknown> | undefined): Promise<unknown> {
    if (!NAME_PATTERN.test(name)) throw new TypeError(`workflow ${this.definition.name}: the step name ${showValue(name)} is invalid: a step name is 1 to 100 of a-z, 0-9 and -`);
    this.claimName(name, "step");
    const retry = options?.retry ?? DEFAULT_RETRY_POLICY;
    const timeoutMs = this.duration(options?.timeout, `${name}.timeout`);
    if (options?.compensate !== undefined) {
      this.compensators.set(name, { fn: options.compensate as Compensator["fn"], retry: options.compensateRetry ?? retry, timeoutMs });
    }
    const recorded = this.journal.steps.get(name);
    if (recorded?.completed !== undefined) return Promise.resolve(recorded.completed.result);
    if (recorded?.failed !== undefined) return Promise.reject(new StepFailedError(name, recorded.failed));
    return new Promise((resolve, reject) => {
      if (this.mode === "collect" || this.writer.lost) return;
      this.track(this.executeStep(name, fn, retry, timeoutMs, resolve, reject));
    });
  }

  private async executeStep(
    name: string,
    fn: (ctx: StepContext) => unknown,
    policy: RetryPolicy,
    timeoutMs: number | undefined,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
  ): Promise<void> {
    const recorded = this.journal.steps.get(name);
    let attempts = recorded?.attempts ?? 0;
    let retryAt = recorded?.retry?.retryAt;
    for (;;) {
      if (retryAt !== undefined && retryAt > this.now()) {
        const delay = retryAt - this.now();
        if (delay > this.engine.inlineRetryMs) return this.block({ wakeAt: retryAt });
        await this.engine.sleep(delay);
        if (this.abort.aborted) return;
      }
      if (attempts >= policy.maxAttempts) {
        // Every attempt allowed began and none recorded an outcome: the worker died (or lost its
        // lease) in each. Running it again could kill the next worker too: it fails for good.
        const failure: FailureRecord = {
          code: "crash_loop",
          message: `step ${name} was started ${attempts} times without an outcome (the worker died or lost its lease each time): the retry policy allows ${policy.maxAttempts} attempts`,
        };
        if (this.engine.instruments.metering) this.engine.instruments.stepDuration(0, { workflow: this.definition.name, step: name, kind: "step", outcome: "failed" });
        const entry: HistoryEntryInput = { type: "step-failed", at: this.now(), step: name, attempt: attempts, error: failure, willRetry: false };
        if (!(await this.writer.write([entry], { state: "running" }))) return;
        this.stepLogger(name).error(failure.message);
        this.journal.steps.set(name, { attempts, failed: failure });
        reject(new StepFailedError(name, failure));
        return;
      }
      const attempt = attempts + 1;
      attempts = attempt;
      // The attempt is recorded before the function runs, in one transaction with the deferred
      // records of the earlier steps, so attempts that kill their worker count against
      // maxAttempts. Only the first attempt of the first step of a clean run (nothing deferred, no
      // worker died in the instance's last run) goes with its own completion instead: a crash
      // loop is then caught one attempt later (at most maxAttempts + 1 runs), and a step costs
      // one transaction.
      const startedEntry: HistoryEntryInput = { type: "step-started", at: this.now(), step: name, attempt };
      if (attempt > 1 || this.writer.eagerAttempts || this.writer.hasDeferred()) {
        if (!(await this.writer.write([startedEntry], { state: "running" }))) return;
      } else this.writer.defer([startedEntry], false);
      const started = performance.now();
      const outcome = await runAttempt({
        engine: this.engine,
        fn: (signal) => fn(this.stepContext(name, attempt, "step", signal)),
        name,
        what: "step",
        timeoutMs,
        abort: this.abort,
        span: this.engine.instruments.tracing()
          ? {
              name: `workflow.step ${this.definition.name}/${name}`,
              trace: this.instance.trace,
              attributes: {
                "millwright.workflow.name": this.definition.name,
                "millwright.workflow.version": this.instance.version,
                "millwright.workflow.instance_id": this.instance.id,
                "millwright.workflow.step": name,
                "millwright.workflow.attempt": attempt,
                "millwright.workflow.idempotency_key": this.idempotencyKeyOf(name, "step"),
              },
            }
          : undefined,
        logger: () => this.stepLogger(name),
      });
      if (this.abort.aborted && !outcome.ok && outcome.failure.code === "lease_lost") return;
      const seconds = (performance.now() - started) / 1000;
      const { instruments } = this.engine;
      const metric = instruments.metering ? { workflow: this.definition.name, step: name, kind: "step" } : undefined;
      if (outcome.ok) {
        if (metric !== undefined) instruments.stepDuration(seconds, { ...metric, outcome: "completed" });
        const entry: HistoryEntryInput = { type: "step-completed", at: this.now(), step: name, attempt, result: outcome.value, durationMs: Math.round(seconds * 1000) };
        // Committed with the next write (the next step's start, a wait, the instance's end) or one
        // event-loop turn later: never after anything that depends on it has started.
        this.writer.defer([entry]);
        if (this.writer.lost) return;
        this.journal.results.set(name, outcome.value);
        this.journal.completedOrder.push(name);
        this.journal.steps.set(name, { attempts: attempt, completed: { result: outcome.value } });
        resolve(outcome.value);
        return;
      }
      const willRetry = outcome.retryable && attempt < policy.maxAttempts;
      if (metric !== undefined) instruments.stepDuration(seconds, { ...metric, outcome: willRetry ? "retry" : "failed" });
      const now = this.now();
      retryAt = willRetry ? now + backoffDelay(policy, attempt, this.engine.random) : undefined;
      const entry: HistoryEntryInput = { type: "step-failed", at: now, step: name, attempt, error: outcome.failure, willRetry, ...(retryAt === undefined ? {} : { retryAt }) };
      if (!(await this.writer.write([entry], { state: "running" }))) return;
      if (!willRetry) {
        this.journal.steps.set(name, { attempts: attempt, failed: outcome.failure });
        reject(new StepFailedError(name, outcome.failure));
        return;
      }
      if (metric !== undefined) instruments.retry(metric);
      // The delay is waited at the top of the loop (in the worker, or as a due time).
      if (retryAt !== undefined && retryAt <= this.now()) retryAt = undefined;
      else if (retryAt !== undefined && retryAt - this.now() <= this.engine.inlineRetryMs) {
        await this.engine.sleep(retryAt - this.now());
        if (this.abort.aborted) return;
        retryAt = undefined;
      }
    }
  }

  private sleep(duration: unknown, name: string | undefined): Promise<void> {
    const ms = this.duration(duration, "sleep");
    const journalName = this.claimName(name, "sleep");
    const recorded = this.journal.waits.get(journalName);
    if (recorded?.ended !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.mode === "collect" || this.writer.lost) return;
      this.track(
        (async () => {
          let dueAt = recorded?.started?.dueAt;
          if (recorded?.started === undefined) {
            dueAt = this.now() + (ms ?? 0);
            // Goes with the wait's end or the instance's suspension, whichever comes first.
            this.writer.defer([{ type: "wait-started", at: this.now(), wait: journalName, kind: "sleep", dueAt }], false);
          }
          if (dueAt === undefined || this.now() >= dueAt) {
            if (!(await this.writer.write([{ type: "wait-ended", at: this.now(), wait: journalName, outcome: { kind: "elapsed" } }], { state: "running" }))) return;
            resolve();
            return;
          }
          this.block({ wakeAt: dueAt });
        })(),
      );
    });
  }

  private waitForEvent(type: string, match: (event: CanonicalEvent) => boolean, timeout: unknown, name: string | undefined): Promise<unknown> {
    const timeoutMs = this.duration(timeout, "waitFor.timeout");
    const journalName = this.claimName(name, `wait-${type}`);
    const recorded = this.journal.waits.get(journalName);
    const ended = recorded?.ended?.outcome;
    if (ended !== undefined) return Promise.resolve(ended.kind === "event" ? { kind: "event", event: ended.event } : { kind: "timeout" });
    return new Promise((resolve) => {
      if (this.mode === "collect" || this.writer.lost) return;
      this.track(
        (async () => {
          let dueAt = recorded?.started?.dueAt;
          if (recorded?.started === undefined) {
            dueAt = timeoutMs === undefined ? undefined : this.now() + timeoutMs;
            const entry: HistoryEntryInput = { type: "wait-started", at: this.now(), wait: journalName, kind: "event", target: type, ...(dueAt === undefined ? {} : { dueAt }) };
            this.writer.defer([entry], false); // with the wait's end or the suspension
          }
          const events = await this.engine.store.eventsFor(this.instance.id, type);
          for (const stored of events) {
            if (this.journal.consumedEvents.has(stored.seq)) continue;
            let matched = false;
            try {
              matched = match(stored.event as unknown as CanonicalEvent) === true;
            } catch (cause) {
              this.stepLogger(journalName).error("a waitFor match function threw: the event counts as not matching", { error: exceptionOf(cause) });
            }
            if (!matched) continue;
            this.journal.consumedEvents.add(stored.seq);
            const outcome: WaitOutcome = { kind: "event", event: stored.event };
            if (!(await this.writer.write([{ type: "wait-ended", at: this.now(), wait: journalName, outcome, eventSeq: stored.seq }], { state: "running" }))) return;
            resolve({ kind: "event", event: stored.event });
            return;
          }
          if (dueAt !== undefined && this.now() >= dueAt) {
            if (!(await this.writer.write([{ type: "wait-ended", at: this.now(), wait: journalName, outcome: { kind: "timeout" } }], { state: "running" }))) return;
            resolve({ kind: "timeout" });
            return;
          }
          const seenSeq = events.reduce((max, e) => Math.max(max, e.seq), 0);
          this.block({ waitingFor: type, seenSeq, ...(dueAt === undefined ? {} : { wakeAt: dueAt }) });
        })(),
      );
    });
  }

  private waitForSignal(signal: string, timeout: unknown, onReject: "compensate" | "return", name: string | undefined): Promise<SignalWaitResult> {
    if (!NAME_PATTERN.test(signal)) throw new TypeError(`workflow ${this.definition.name}: the signal name ${showValue(signal)} is invalid: a signal name is 1 to 100 of a-z, 0-9 and -`);
    const timeoutMs = this.duration(timeout, "waitForSignal.timeout");
    const journalName = this.claimName(name, signal);
    const recorded = this.journal.waits.get(journalName);
    const ended = recorded?.ended?.outcome;
    const settle = (outcome: WaitOutcome): Promise<SignalWaitResult> => {
      if (outcome.kind !== "signal") return Promise.resolve({ kind: "timeout" });
      if (outcome.payload.decision === "reject" && onReject === "compensate") return Promise.reject(new SignalRejectedError(signal, outcome.payload));
      return Promise.resolve({ kind: "signal", name: outcome.name, payload: outcome.payload });
    };
    if (ended !== undefined) return settle(ended);
    return new Promise((resolve, reject) => {
      if (this.mode === "collect" || this.writer.lost) return;
      this.track(
        (async () => {
          let dueAt = recorded?.started?.dueAt;
          if (recorded?.started === undefined) {
            dueAt = timeoutMs === undefined ? undefined : this.now() + timeoutMs;
            const entry: HistoryEntryInput = { type: "wait-started", at: this.now(), wait: journalName, kind: "signal", target: signal, ...(dueAt === undefined ? {} : { dueAt }) };
            this.writer.defer([entry], false); // with the wait's end or the suspension
          }
          const index = this.signals.findIndex((s) => s.name === signal);
          if (index >= 0) {
            const [taken] = this.signals.splice(index, 1) as [PendingSignal];
            const payload: SignalPayload = isSignalPayload(taken.payload) ? taken.payload : { decision: "reject", reason: `the signal's payload ${showValue(taken.payload)} is not a decision` };
            const outcome: WaitOutcome = { kind: "signal", name: signal, payload };
            const entries: HistoryEntryInput[] = [
              { type: "signal-received", at: this.now(), signalSeq: taken.seq, name: signal, payload: taken.payload },
              { type: "wait-ended", at: this.now(), wait: journalName, outcome },
            ];
            if (!(await this.writer.write(entries, { state: "running", consumedSignals: [taken.seq] }))) return;
            settle(outcome).then(resolve, reject);
            return;
          }
          if (dueAt !== undefined && this.now() >= dueAt) {
            if (!(await this.writer.write([{ type: "wait-ended", at: this.now(), wait: journalName, outcome: { kind: "timeout" } }], { state: "running" }))) return;
            resolve({ kind: "timeout" });
            return;
          }
          this.block(dueAt === undefined ? {} : { wakeAt: dueAt });
        })(),
      );
    });
  }
}

/** Runs one attempt of a step or compensation function: timeout, abort, span, Result or value, JSON check. */
async function runAttempt(options: {
  readonly engine: Engine;
  readonly fn: (signal: AbortSignal) => unknown;
  readonly name: string;
  readonly what: "step" | "compensation";
  readonly timeoutMs: number | undefined;
  readonly abort: AbortSignal;
  /** The attempt's span, when spans are recorded (see `WorkflowInstruments.tracing`): nothing is built for it otherwise. */
  readonly span: { readonly name: string; readonly trace: TraceCarrier | undefined; readonly attributes: Record<string, string | number> } | undefined;
  /** Where a throw is logged (made only then). */
  readonly logger: () => WorkflowLogger;
}): Promise<AttemptOutcome> {
  const { engine, name, what, timeoutMs } = options;
  // Without a timeout the attempt's signal is the activation's own (aborted with a LeaseLost when
  // the lease is lost), and so is the promise it races: nothing to set up per attempt.
  let controller: AbortController | undefined;
  let signal = options.abort;
  const onLeaseLost = () => controller?.abort(new LeaseLost());
  if (timeoutMs !== undefined) {
    controller = new AbortController();
    signal = controller.signal;
    if (options.abort.aborted) onLeaseLost();
    else options.abort.addEventListener("abort", onLeaseLost, { once: true });
  }
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller?.abort(new AttemptTimeout(timeoutMs)), timeoutMs);
  const span = options.span === undefined ? undefined : engine.instruments.startAttempt(options.span.name, options.span.trace, options.span.attributes);
  let outcome: AttemptOutcome;
  try {
    // A function that returns at once (not a promise) on a live lease needs no race: nothing can
    // abort it while it runs. Otherwise its promise races the signal, as does the call itself
    // when the signal has already aborted (the attempt then ends lease_lost or timed out).
    await undefined; // the function starts in a later microtask, as it always has
    const raw = signal.aborted ? await Promise.race([Promise.resolve().then(() => options.fn(signal)), abortedPromise(signal)]) : options.fn(signal);
    const resolved = raw !== null && typeof raw === "object" && typeof (raw as PromiseLike<unknown>).then === "function" ? await Promise.race([raw as PromiseLike<unknown>, abortedPromise(signal)]) : raw;
    if (isResult(resolved)) {
      if (resolved.isOk()) outcome = checkJson(resolved.value, name, what);
      else outcome = { ok: false, ...toFailure(resolved.error) };
    } else outcome = checkJson(resolved, name, what);
  } catch (cause) {
    if (cause instanceof AttemptTimeout) outcome = { ok: false, failure: { code: "timeout", message: `${what} ${name} timed out after ${cause.ms} ms` }, retryable: true };
    else if (cause instanceof LeaseLost) outcome = { ok: false, failure: { code: "lease_lost", message: `the worker lost the lease while ${what} ${name} ran` }, retryable: true };
    else {
      const failure = exceptionOf(cause);
      options.logger().error(`${what} ${name} threw: recorded as a permanent failure (a bug, not bad input)`, { error: failure.message, stack: failure.stack });
      outcome = { ok: false, failure, retryable: false };
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (controller !== undefined) options.abort.removeEventListener("abort", onLeaseLost);
  }
  if (span !== undefined) engine.instruments.endAttempt(span, outcome.ok ? undefined : outcome.failure);
  return outcome;
}

const abortedPromises = new WeakMap<AbortSignal, Promise<never>>();

/** A promise that rejects with the signal's reason when it aborts: one per signal, shared by the attempts that race it. */
function abortedPromise(signal: AbortSignal): Promise<never> {
  let promise = abortedPromises.get(signal);
  if (promise === undefined) {
    promise = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    promise.catch(() => {});
    abortedPromises.set(signal, promise);
  }
  return promise;
}

class AttemptTimeout extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

class LeaseLost extends Error {
  constructor() {
    super("lease lost");
  }
}

function checkJson(value: unknown, name: string, what: "step" | "compensation"): AttemptOutcome {
  const checked = toJsonValue(value, "result");
  if (checked.ok) return { ok: true, value: checked.value };
  return { ok: false, failure: { code: "not_json", message: `${what} ${name} returned a result that is not JSON: ${checked.path}: ${checked.problem}` }, retryable: false };
}

function reasonOf(error: unknown): CompensationReason {
  if (error instanceof StepFailedError) return { kind: "step-failed", step: error.step, error: error.failure };
  if (error instanceof SignalRejectedError) return { kind: "rejected", signal: error.signal, payload: error.payload };
  return { kind: "error", error: exceptionOf(error) };
}

/**
 * Creates a workflow runtime over a store: starts instances, delivers events, signals and
 * cancellations, and runs due instances (with `runDue()` by hand, or `startWorker()` in the
 * background). Several runtimes (processes) may share one store: leases make sure an instance is
 * run by one of them at a time.
 *
 * @param options - the store, the definitions, and the clock, lease, telemetry and hooks
 * @returns the runtime
 * @throws TypeError when two definitions have the same name and version
 * @example
 * const runtime = createWorkflowRuntime({ store: createMemoryWorkflowStore(), workflows: [holdWorkflow] });
 * await runtime.start(holdWorkflow, "QH-1001", { holdId: "QH-1001" });
 * runtime.startWorker();
 */
export function createWorkflowRuntime(options: WorkflowRuntimeOptions): WorkflowRuntime {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? CONSOLE_LOGGER;
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? 200;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const engine: Engine = {
    store,
    clock,
    logger,
    instruments: createInstruments(store, { tracer: options.tracer, meter: options.meter }),
    sleep: options.sleep ?? timerSleep,
    random: options.random ?? Math.random,
    inlineRetryMs: options.inlineRetryMs ?? 1000,
  };

  const definitions = new Map<string, Map<number, AnyWorkflowDefinition>>();
  for (const definition of options.workflows) {
    let versions = definitions.get(definition.name);
    if (versions === undefined) definitions.set(definition.name, (versions = new Map()));
    if (versions.has(definition.version)) throw new TypeError(`createWorkflowRuntime: workflow ${definition.name} version ${definition.version} is given twice`);
    versions.set(definition.version, definition);
  }
  const latest = (): AnyWorkflowDefinition[] =>
    [...definitions.values()].map((versions) => [...versions.values()].reduce((a, b) => (b.version > a.version ? b : a)));

  // ---- the leases of the running activations: one timer renews them all ----

  /** An activation's lease, renewed while it runs. */
  interface KeptLease {
    renew(): void;
  }
  const kept = new Set<KeptLease>();
  let keeper: ReturnType<typeof setInterval> | undefined;
  /**
   * Renews the lease every third of its length while the activation runs (the first renewal comes
   * at most that long after the claim, as with a timer per activation), on one timer for all.
   */
  function keepLease(lease: KeptLease): void {
    kept.add(lease);
    if (keeper !== undefined) return;
    keeper = setInterval(() => {
      for (const each of kept) each.renew();
    }, Math.max(10, Math.floor(leaseMs / 3)));
    keeper.unref?.();
  }
  function releaseLease(lease: KeptLease): void {
    kept.delete(lease);
    if (kept.size > 0 || keeper === undefined) return;
    clearInterval(keeper);
    keeper = undefined;
  }

  // ---- one activation of a claimed instance ----

  async function activate(claim: Claim): Promise<void> {
    const controller = new AbortController();
    let writer: Writer | undefined;
    let lease = claim.lease;
    const kept: KeptLease = {
      renew: () => {
        store.renewLease(lease, clock.now(), leaseMs).then(
          (renewed) => {
            if (renewed === undefined) controller.abort(new LeaseLost());
            else {
              lease = renewed;
              if (writer !== undefined) writer.lease = renewed;
            }
          },
          (cause: unknown) => logger.warn("could not renew a lease", { instanceId: claim.instance.id, error: showValue(cause) }),
        );
      },
    };
    keepLease(kept);
    try {
      // A normal run may turn into compensation, and a retry of a failed one too: a few rounds at most.
      for (let round = 0; round < 4; round++) {
        // The first round starts from what the claim read (when the store gives it), later rounds
        // from the store: the instance changed in the round before.
        const snapshot =
          round === 0 && claim.history !== undefined && claim.signals !== undefined ? { instance: claim.instance, history: claim.history, signals: claim.signals } : await store.load(claim.instance.id);
        if (snapshot === undefined) return;
        writer = new Writer(
          store,
          lease,
          snapshot.history,
          () => clock.now(),
          (why) => {
            logger.warn("instance run stopped", { instanceId: claim.instance.id, why });
            controller.abort(new LeaseLost());
          },
          snapshot.instance.waitingFor,
        );
        writer.eagerAttempts = claim.recovered === true;
        const again = await round1(snapshot, writer, controller.signal);
        if (!again) return;
      }
    } finally {
      releaseLease(kept);
    }
  }

  /** One round of an activation; true when the instance must be looked at again at once. */
  async function round1(snapshot: InstanceSnapshot, writer: Writer, abort: AbortSignal): Promise<boolean> {
    const { instance } = snapshot;
    const control = snapshot.signals.filter((s) => s.name.startsWith("$"));
    const cancel = control.find((s) => s.name === "$cancel");
    const definition = definitions.get(instance.workflow)?.get(instance.version);
    if (definition === undefined) {
      logger.error(`this runtime has no workflow ${instance.workflow} version ${instance.version}: the instance is left for a runtime that has it`, { instanceId: instance.id });
      await writer.write([], { wakeAt: clock.now() + Math.max(leaseMs, 60_000), release: true });
      return false;
    }
    const journal = readJournal(snapshot.history);
    switch (instance.state) {
      case "completed":
      case "compensated":
      case "cancelled":
        await writer.write([], { wakeAt: null, consumedSignals: control.map((s) => s.seq), release: true });
        return false;
      case "failed": {
        const retry = control.find((s) => s.name === "$retry");
        if (retry === undefined) {
          await writer.write([], { wakeAt: null, release: true });
          return false;
        }
        return writer.write([{ type: "retried", at: clock.now() }], { state: "compensating", failure: null, deadLetter: null, consumedSignals: control.map((s) => s.seq) });
      }
      case "compensating":
        return compensate(definition, snapshot, journal, writer, abort);
      default:
        break;
    }
    if (cancel !== undefined) {
      const reason = (cancel.payload as { reason?: unknown } | null)?.reason;
      const entry: HistoryEntryInput = { type: "compensating", at: clock.now(), reason: { kind: "cancelled", reason: typeof reason === "string" ? reason : "cancelled" } };
      return writer.write([entry], { state: "compensating", waitingFor: [], consumedSignals: [cancel.seq] });
    }
    if (definition.deadline !== undefined && instance.deadlineAt !== null && !journal.deadlinePassed && clock.now() >= instance.deadlineAt) {
      const { action } = definition.deadline;
      const at = clock.now();
      const reason = `workflow ${definition.name} ${instance.key} passed its deadline (${showValue(definition.deadline.after)})`;
      const entries: HistoryEntryInput[] = [{ type: "deadline-passed", at, deadlineAt: instance.deadlineAt, action }];
      if (action !== "compensate") entries.push({ type: "escalated", at, reason });
      const compensating = action !== "escalate";
      if (compensating) entries.push({ type: "compensating", at, reason: { kind: "deadline", deadlineAt: instance.deadlineAt } });
      if (!(await writer.write(entries, compensating ? { state: "compensating", waitingFor: [] } : {}))) return false;
      engine.instruments.deadline({ workflow: definition.name, action });
      if (action !== "compensate") {
        logger.warn(reason, { instanceId: instance.id });
        await hook(() => options.onEscalate?.({ instanceId: instance.id, workflow: instance.workflow, version: instance.version, key: instance.key, deadlineAt: instance.deadlineAt as number, reason }));
      }
      if (compensating) return true;
      journal.deadlinePassed = true;
    }
    const run = new BodyRun(engine, definition, instance, journal, snapshot.signals, writer, abort, "execute");
    const outcome = await run.start();
    switch (outcome.kind) {
      case "abandoned":
        return false;
      case "returned": {
        const output = toJsonValue(outcome.value, "output");
        if (!output.ok) {
          const error: FailureRecord = { code: "not_json", message: `workflow ${definition.name} returned an output that is not JSON: ${output.path}: ${output.problem}` };
          return writer.write([{ type: "compensating", at: clock.now(), reason: { kind: "error", error } }], { state: "compensating", waitingFor: [] });
        }
        await writer.write([{ type: "completed", at: clock.now(), output: output.value }], { state: "completed", output: output.value, wakeAt: null, waitingFor: [], release: true });
        return false;
      }
      case "threw": {
        const reason = reasonOf(outcome.error);
        if (reason.kind === "error") logger.error(`workflow ${definition.name} body threw: compensating (a bug, not bad input)`, { instanceId: instance.id, error: reason.error.message, stack: reason.error.stack });
        return writer.write([{ type: "compensating", at: clock.now(), reason }], { state: "compensating", waitingFor: [] });
      }
      case "suspended": {
        let wakeAt: number | null = null;
        for (const block of outcome.blocks) if (block.wakeAt !== undefined) wakeAt = wakeAt === null ? block.wakeAt : Math.min(wakeAt, block.wakeAt);
        if (instance.deadlineAt !== null && !journal.deadlinePassed) wakeAt = wakeAt === null ? instance.deadlineAt : Math.min(wakeAt, instance.deadlineAt);
        const waitingFor = [...new Set(outcome.blocks.flatMap((b) => (b.waitingFor === undefined ? [] : [b.waitingFor])))];
        // An event that arrived after a wait read the events and before this write is routed by
        // no wait row yet: the store compares with what each wait saw and leaves the instance due.
        const eventsSeen: Record<string, number> = {};
        for (const b of outcome.blocks) {
          if (b.waitingFor === undefined) continue;
          const seen = b.seenSeq ?? 0;
          eventsSeen[b.waitingFor] = Math.min(eventsSeen[b.waitingFor] ?? seen, seen);
        }
        await writer.write([], { state: "waiting", wakeAt, waitingFor, eventsSeen, release: true });
        return false;
      }
    }
  }

  async function hook(call: () => void | Promise<void> | undefined): Promise<void> {
    try {
      await call();
    } catch (cause) {
      logger.error("a workflow runtime hook threw", { error: exceptionOf(cause).message });
    }
  }

  async function compensate(definition: AnyWorkflowDefinition, snapshot: InstanceSnapshot, journal: Journal, writer: Writer, abort: AbortSignal): Promise<boolean> {
    const { instance } = snapshot;
    const cancels = snapshot.signals.filter((s) => s.name === "$cancel").map((s) => s.seq);
    // Replay without running anything new, to learn each recorded step's compensation.
    const collector = new BodyRun(engine, definition, instance, journal, snapshot.signals, writer, abort, "collect");
    await collector.start();
    const order = [...journal.completedOrder].reverse();
    for (const step of order) {
      const compensator = collector.compensators.get(step);
      if (compensator === undefined) continue;
      const recorded = journal.compensations.get(step) ?? { attempts: 0, completed: false };
      if (recorded.completed) continue;
      let attempts = recorded.attempts;
      let retryAt = recorded.retry?.retryAt;
      const result = journal.results.get(step) ?? null;
      for (;;) {
        if (retryAt !== undefined && retryAt > clock.now()) {
          const delay = retryAt - clock.now();
          if (delay > engine.inlineRetryMs) {
            await writer.write([], { state: "compensating", wakeAt: retryAt, consumedSignals: cancels, release: true });
            return false;
          }
          await engine.sleep(delay);
          if (abort.aborted) return false;
        }
        // Every allowed attempt began and none recorded an outcome (each killed its worker or lost
        // its lease): the compensation fails for good instead of looping.
        const crashLoop = attempts >= compensator.retry.maxAttempts;
        const attempt = crashLoop ? attempts : attempts + 1;
        attempts = attempt;
        if (!crashLoop && !(await writer.write([{ type: "compensation-started", at: clock.now(), step, attempt }], { consumedSignals: cancels }))) return false;
        const started = performance.now();
        const outcome: AttemptOutcome = crashLoop
          ? {
              ok: false,
              retryable: false,
              failure: {
                code: "crash_loop",
                message: `compensation ${step} was started ${attempts} times without an outcome (the worker died or lost its lease each time): the retry policy allows ${compensator.retry.maxAttempts} attempts`,
              },
            }
          : await runAttempt({
              engine,
              fn: (signal) => compensator.fn(collector.stepContext(step, attempt, "compensation", signal), result as never),
              name: step,
              what: "compensation",
              timeoutMs: compensator.timeoutMs,
              abort,
              span: engine.instruments.tracing()
                ? {
                    name: `workflow.compensation ${definition.name}/${step}`,
                    trace: instance.trace,
                    attributes: {
                      "millwright.workflow.name": definition.name,
                      "millwright.workflow.version": instance.version,
                      "millwright.workflow.instance_id": instance.id,
                      "millwright.workflow.step": step,
                      "millwright.workflow.attempt": attempt,
                      "millwright.workflow.idempotency_key": stepIdempotencyKey(definition.name, instance.key, step, "compensation"),
                    },
                  }
                : undefined,
              logger: () => logger,
            });
        if (abort.aborted) return false;
        const seconds = (performance.now() - started) / 1000;
        const metric = { workflow: definition.name, step, kind: "compensation" };
        if (outcome.ok) {
          engine.instruments.stepDuration(seconds, { ...metric, outcome: "completed" });
          if (!(await writer.write([{ type: "compensation-completed", at: clock.now(), step, attempt }]))) return false;
          engine.instruments.compensation({ workflow: definition.name, step, outcome: "completed" });
          break;
        }
        const willRetry = outcome.retryable && attempt < compensator.retry.maxAttempts;
        engine.instruments.stepDuration(seconds, { ...metric, outcome: willRetry ? "retry" : "failed" });
        const now = clock.now();
        retryAt = willRetry ? now + backoffDelay(compensator.retry, attempt, engine.random) : undefined;
        const failedEntry: HistoryEntryInput = { type: "compensation-failed", at: now, step, attempt, error: outcome.failure, willRetry, ...(retryAt === undefined ? {} : { retryAt }) };
        if (willRetry) {
          engine.instruments.retry(metric);
          if (!(await writer.write([failedEntry]))) return false;
          continue;
        }
        // Failed for good: the instance goes to the dead letters with its whole history.
        const finalEntries: HistoryEntryInput[] = [failedEntry, { type: "failed", at: now, step, error: outcome.failure }];
        const history = [...writer.history, ...finalEntries.map((e, i) => ({ ...e, seq: writer.history.length + i + 1 }) as HistoryEntry)];
        const letter: WorkflowDeadLetter = { instanceId: instance.id, workflow: instance.workflow, version: instance.version, key: instance.key, step, error: outcome.failure, history, at: now };
        if (!(await writer.write(finalEntries, { state: "failed", failure: outcome.failure, wakeAt: null, waitingFor: [], deadLetter: letter, release: true }))) return false;
        engine.instruments.compensation({ workflow: definition.name, step, outcome: "failed" });
        engine.instruments.deadLetter({ workflow: definition.name });
        logger.error(`compensation ${step} of workflow ${definition.name} ${instance.key} failed for good: the instance is in the dead letters`, { instanceId: instance.id, error: outcome.failure.message });
        await hook(() => options.onDeadLetter?.(letter));
        await hook(() => options.onFinding?.(workflowFindingOf(letter)));
        return false;
      }
    }
    const reason = journal.compensating;
    const final: InstanceState = reason?.kind === "cancelled" ? "cancelled" : "compensated";
    const entry: HistoryEntryInput = reason?.kind === "cancelled" ? { type: "cancelled", at: clock.now(), reason: reason.reason } : { type: "compensated", at: clock.now() };
    await writer.write([entry], { state: final, wakeAt: null, waitingFor: [], consumedSignals: cancels, release: true });
    return false;
  }

  async function activateSafely(claim: Claim): Promise<void> {
    try {
      await activate(claim);
    } catch (cause) {
      logger.error("an instance run failed; its lease will expire and another run will pick it up", { instanceId: claim.instance.id, error: showValue(cause instanceof Error ? cause.message : cause), stack: cause instanceof Error ? cause.stack : undefined });
    }
  }

  // ---- the public API ----

  function unknownWorkflow(definition: AnyWorkflowDefinition): WorkflowError {
    return { code: "unknown_workflow", workflow: definition.name, version: definition.version, message: `workflow ${showValue(definition.name)} version ${definition.version} is not registered with this runtime` };
  }

  function lookup(definition: AnyWorkflowDefinition): ResultAsync<AnyWorkflowDefinition, WorkflowError> {
    const found = definitions.get(definition.name)?.get(definition.version);
    return found === undefined ? errAsync(unknownWorkflow(definition)) : okAsync(found);
  }

  function startInstance(definition: AnyWorkflowDefinition, key: string, input: unknown, trace: TraceCarrier | undefined): ResultAsync<InstanceRef, WorkflowError> {
    if (typeof key !== "string" || key === "" || key.length > 500) {
      return errAsync({ code: "invalid_input", path: "key", value: key, message: `key is ${showValue(key)}: an instance key is a non-empty string of at most 500 characters` });
    }
    const checked = toJsonValue(input, "input");
    if (!checked.ok) return errAsync({ code: "invalid_input", path: checked.path, value: input, message: `${checked.path}: ${checked.problem}` });
    const found = definitions.get(definition.name)?.get(definition.version);
    if (found === undefined) return errAsync(unknownWorkflow(definition));
    const now = clock.now();
    // With the background worker running and a free slot, the instance is created leased to this
    // worker and run here at once: no claim, no read of what was just written, no wait for the
    // next poll. Its lease expires as a claim's does if this process dies.
    const handOver = running && active.size + reserved < concurrency;
    if (handOver) reserved += 1;
    // One promise from the store's to the caller's (a start is on the hot path of every event).
    const created = store
      .createInstance({
        id: instanceIdOf(found.name, key),
        workflow: found.name,
        version: found.version,
        key,
        input: checked.value,
        ...(trace === undefined ? {} : { trace }),
        deadlineAt: found.deadlineMs === undefined ? null : now + found.deadlineMs,
        now,
        ...(handOver ? { lease: { workerId, until: now + leaseMs } } : {}),
      })
      .then(
        ({ instance, created: isNew, lease }) => {
          if (handOver) reserved -= 1;
          if (isNew && lease !== undefined) {
            // The history as the store holds it (its own copy of the input: the body gets the instance's).
            const started: HistoryEntry = { type: "started", at: now, version: found.version, input: JSON.parse(JSON.stringify(checked.value)) as JsonValue, ...(trace === undefined ? {} : { trace }), seq: 1 };
            runHere({ lease, instance, recovered: false, history: [started], signals: [] });
          }
          return ok<InstanceRef, WorkflowError>({ id: instance.id, workflow: instance.workflow, version: instance.version, key: instance.key, state: instance.state, created: isNew });
        },
        (cause: unknown) => {
          if (handOver) reserved -= 1;
          return err<InstanceRef, WorkflowError>(storeFailed("workflows.start")(cause));
        },
      );
    return new ResultAsync(created);
  }

  function startMany(definition: AnyWorkflowDefinition, items: readonly { readonly key: string; readonly input: unknown; readonly trace?: TraceCarrier }[]): ResultAsync<InstanceRef[], WorkflowError> {
    return lookup(definition).andThen((found) => {
      const now = clock.now();
      const rows: NewInstance[] = [];
      for (const [i, item] of items.entries()) {
        if (typeof item.key !== "string" || item.key === "" || item.key.length > 500) {
          return errAsync<InstanceRef[], WorkflowError>({ code: "invalid_input", path: `items[${i}].key`, value: item.key, message: `items[${i}].key is ${showValue(item.key)}: an instance key is a non-empty string of at most 500 characters` });
        }
        const checked = toJsonValue(item.input, `items[${i}].input`);
        if (!checked.ok) return errAsync<InstanceRef[], WorkflowError>({ code: "invalid_input", path: checked.path, value: item.input, message: `${checked.path}: ${checked.problem}` });
        rows.push({
          id: instanceIdOf(found.name, item.key),
          workflow: found.name,
          version: found.version,
          key: item.key,
          input: checked.value,
          ...(item.trace === undefined ? {} : { trace: item.trace }),
          deadlineAt: found.deadlineMs === undefined ? null : now + found.deadlineMs,
          now,
        });
      }
      const create = async () => {
        if (store.createInstances !== undefined) return store.createInstances(rows);
        const created: { readonly instance: InstanceRecord; readonly created: boolean }[] = [];
        for (const row of rows) created.push(await store.createInstance(row));
        return created;
      };
      return ResultAsync.fromPromise(create(), storeFailed("workflows.startMany")).map((created) =>
        created.map(({ instance, created: isNew }) => ({ id: instance.id, workflow: instance.workflow, version: instance.version, key: instance.key, state: instance.state, created: isNew })),
      );
    });
  }

  function startAll(starts: readonly (() => ResultAsync<InstanceRef | undefined, WorkflowError>)[]): ResultAsync<InstanceRef[], WorkflowError> {
    return starts.reduce<ResultAsync<InstanceRef[], WorkflowError>>((acc, next) => acc.andThen((refs) => next().map((ref) => (ref === undefined ? refs : [...refs, ref]))), okAsync([]));
  }

  /** Runs a trigger's functions (user code): a throw is an `invalid_input` naming the workflow, not an escape. */
  function callTrigger(
    definition: AnyWorkflowDefinition,
    make: () => { readonly key: string; readonly input: unknown } | undefined,
  ): { readonly kind: "start"; readonly key: string; readonly input: unknown } | { readonly kind: "skip" } | { readonly kind: "failed"; readonly error: WorkflowError } {
    try {
      const made = make();
      return made === undefined ? { kind: "skip" } : { kind: "start", ...made };
    } catch (cause) {
      const failure = exceptionOf(cause);
      logger.error(`a start trigger of workflow ${definition.name} threw`, { error: failure.message, stack: failure.stack });
      return { kind: "failed", error: { code: "invalid_input", path: `${definition.name}.start`, value: undefined, message: `a start trigger of workflow ${definition.name} threw: ${failure.message}` } };
    }
  }

  function control(instanceId: string, name: string, payload: JsonValue): ResultAsync<void, WorkflowError> {
    return ResultAsync.fromPromise(store.deliverSignal({ instanceId, name, payload }, clock.now()), storeFailed("workflows.signal")).andThen((outcome) => {
      if (outcome === "delivered") return okAsync(undefined);
      if (outcome === "not_found") return errAsync<void, WorkflowError>({ code: "instance_not_found", instanceId, message: `no workflow instance ${showValue(instanceId)}` });
      return ResultAsync.fromPromise(store.load(instanceId), storeFailed("workflows.signal")).andThen((snapshot) =>
        errAsync<void, WorkflowError>({ code: "instance_finished", instanceId, state: snapshot?.instance.state ?? "completed", message: `workflow instance ${instanceId} is ${snapshot?.instance.state ?? "finished"}: it takes no signal` }),
      );
    });
  }

  let running = false;
  let loop: Promise<void> | undefined;
  let wakeLoop: (() => void) | undefined;
  const active = new Set<Promise<void>>();
  /** Starts asked to be handed to this worker whose store call has not answered yet. */
  let reserved = 0;

  /** Runs a claim in the background worker's pool. */
  function runHere(claim: Claim): void {
    const activation = activateSafely(claim).finally(() => {
      active.delete(activation);
      wakeLoop?.();
    });
    active.add(activation);
  }

  async function workerLoop(): Promise<void> {
    let lastPrune = 0;
    while (running) {
      const free = concurrency - active.size - reserved;
      let claimed = 0;
      if (free > 0) {
        try {
          const claims = await store.claimDue({ workerId, now: clock.now(), leaseMs, limit: free });
          claimed = claims.length;
          for (const claim of claims) runHere(claim);
        } catch (cause) {
          logger.error("claiming due instances failed", { error: showValue(cause instanceof Error ? cause.message : cause) });
        }
      }
      if (Date.now() - lastPrune > 60_000) {
        lastPrune = Date.now();
        await store.pruneEvents(clock.now()).catch((cause: unknown) => logger.warn("pruning events failed", { error: showValue(cause) }));
      }
      if (claimed === 0 || active.size >= concurrency) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wakeLoop = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeLoop = undefined;
      }
    }
    // Every activation, with those of starts handed over while the loop stopped (their writes
    // were under way: they join the pool when they answer).
    while (active.size > 0 || reserved > 0) {
      if (active.size > 0) await Promise.all(active);
      else await new Promise<void>((resolve) => setTimeout(resolve, 1));
    }
  }

  return {
    workerId,
    start: (definition, key, input, startOptions) => startInstance(definition as AnyWorkflowDefinition, key, input, startOptions?.trace),
    startMany: (definition, items) => startMany(definition as AnyWorkflowDefinition, items),

    deliver(event) {
      const trace = event.traceparent === undefined ? undefined : { traceparent: event.traceparent, ...(event.tracestate === undefined ? {} : { tracestate: event.tracestate }) };
      const starts: (() => ResultAsync<InstanceRef | undefined, WorkflowError>)[] = [];
      for (const definition of latest()) {
        for (const trigger of definition.start) {
          if (trigger.kind !== "event") continue;
          starts.push(() => {
            const made = callTrigger(definition, () => (trigger.when(event) ? { key: trigger.key(event), input: trigger.input(event) } : undefined));
            if (made.kind === "failed") return errAsync(made.error);
            if (made.kind === "skip") return okAsync(undefined);
            return startInstance(definition, made.key, made.input, trace);
          });
        }
      }
      return ResultAsync.fromPromise(store.deliverEvent({ source: event.source, id: event.id, type: event.type, event: event as unknown as JsonValue }, clock.now()), storeFailed("workflows.deliver")).andThen(
        ({ woken }) => startAll(starts).map((started) => ({ started, woken })),
      );
    },

    deliverFinding(finding) {
      if (finding.kind !== "breached") return okAsync({ started: [], woken: 0 });
      const breach: BreachedFinding = finding;
      const starts: (() => ResultAsync<InstanceRef | undefined, WorkflowError>)[] = [];
      for (const definition of latest()) {
        for (const trigger of definition.start) {
          if (trigger.kind !== "breach" || trigger.rule !== breach.rule) continue;
          starts.push(() => {
            const made = callTrigger(definition, () => ({ key: trigger.key(breach), input: trigger.input(breach) }));
            if (made.kind === "failed") return errAsync(made.error);
            if (made.kind === "skip") return okAsync(undefined);
            return startInstance(definition, made.key, made.input, undefined);
          });
        }
      }
      return startAll(starts).map((started) => ({ started, woken: 0 }));
    },

    signal(instanceId, name, payload) {
      if (typeof name !== "string" || !NAME_PATTERN.test(name)) return errAsync({ code: "invalid_signal", path: "name", value: name, message: `name is ${showValue(name)}: a signal name is 1 to 100 of a-z, 0-9 and -` });
      if (!isSignalPayload(payload)) {
        return errAsync({ code: "invalid_signal", path: "payload", value: payload, message: `payload is ${showValue(payload)}: a decision is { decision: "approve" | "reject", reason?: string, by?: string }` });
      }
      const checked = toJsonValue(payload, "payload");
      if (!checked.ok) return errAsync({ code: "invalid_signal", path: checked.path, value: payload, message: `${checked.path}: ${checked.problem}` });
      return control(instanceId, name, checked.value);
    },

    cancel(instanceId, reason) {
      return control(instanceId, "$cancel", { reason: String(reason) });
    },

    retry(instanceId) {
      return ResultAsync.fromPromise(store.load(instanceId), storeFailed("workflows.retry")).andThen((snapshot) => {
        if (snapshot === undefined) return errAsync<void, WorkflowError>({ code: "instance_not_found", instanceId, message: `no workflow instance ${showValue(instanceId)}` });
        if (snapshot.instance.state !== "failed") {
          return errAsync<void, WorkflowError>({ code: "invalid_state", instanceId, state: snapshot.instance.state, message: `workflow instance ${instanceId} is ${snapshot.instance.state}: only a failed instance can be retried` });
        }
        return control(instanceId, "$retry", null);
      });
    },

    get(instanceId) {
      return ResultAsync.fromPromise(store.load(instanceId), storeFailed("workflows.get")).andThen((snapshot) =>
        snapshot === undefined ? errAsync<InstanceSnapshot, WorkflowError>({ code: "instance_not_found", instanceId, message: `no workflow instance ${showValue(instanceId)}` }) : okAsync(snapshot),
      );
    },

    list: (filter) => ResultAsync.fromPromise(store.list(filter), storeFailed("workflows.list")),
    deadLetters: (limit) => ResultAsync.fromPromise(store.deadLetters(limit), storeFailed("workflows.deadLetters")),

    runDue() {
      return ResultAsync.fromPromise(
        (async () => {
          let runs = 0;
          // Bounded: an instance that keeps making itself due again cannot hold runDue forever.
          for (let round = 0; round < 10_000; round++) {
            const claims = await store.claimDue({ workerId, now: clock.now(), leaseMs, limit: concurrency });
            if (claims.length === 0) break;
            await Promise.all(claims.map(activateSafely));
            runs += claims.length;
          }
          return runs;
        })(),
        storeFailed("workflows.runDue"),
      );
    },

    startWorker() {
      if (running) return;
      running = true;
      loop = workerLoop();
    },

    async stop() {
      running = false;
      wakeLoop?.();
      await loop;
      loop = undefined;
    },
  };
}

