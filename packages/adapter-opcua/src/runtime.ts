import { traceContextOf, withTraceContext } from "@millwright/events";
import { context as contextApi, INVALID_SPAN_CONTEXT, isSpanContextValid, ROOT_CONTEXT, SpanKind, trace, type Context, type Span } from "@opentelemetry/api";
import { errAsync, ResultAsync } from "neverthrow";
import type { AdapterConfig } from "./config.js";
import { openConnection, sleep, type Connection, type ConnectionStatus } from "./connection.js";
import type { AdapterError, AdapterIssue } from "./errors.js";
import { applyReadings, EMPTY_LINE_STATE, mergeCounterReadings, type AdapterEvent, type CounterStateStore, type ProcessValue, type SignalReading, type StoredLine, type StoredLineEntry } from "@millwright/adapter-kit";
import { loadNodeOpcua, type NodeOpcuaModule } from "./node-opcua.js";
import packageJson from "../package.json" with { type: "json" };

/** How the adapter runs. */
export interface AdapterOptions {
  readonly config: AdapterConfig;
  /** Durable storage of last counter values and unacknowledged events. */
  readonly store: CounterStateStore;
  /**
   * Receives each event, in order; the next event waits until the returned promise settles
   * (backpressure). A rejection is retried with backoff: delivery is at-least-once with stable ids.
   */
  readonly handler: (event: AdapterEvent) => Promise<void> | void;
  /**
   * Receives bad-status values, unmapped states, counter jumps and other readings that made no
   * event, and warnings about the subscription: a sampling interval the server revised above the
   * one requested (`sampling_interval_revised`) or a queue size it revised below
   * (`queue_size_revised`), reported on every connect.
   */
  readonly onIssue?: (issue: AdapterIssue) => void;
  readonly onProcessValue?: (value: ProcessValue) => void;
  readonly onStatus?: (status: ConnectionStatus, detail?: string) => void;
  /** First and largest reconnect delay in ms (exponential backoff between them). Defaults 250 and 10000. */
  readonly reconnectDelay?: { readonly initial: number; readonly max: number };
  /**
   * When more readings than this wait for a slow handler, intermediate readings of the same counter
   * are merged (counters are cumulative, so no part is lost). Default 10000.
   */
  readonly maxBufferedReadings?: number;
  /**
   * Whether this line shares one client, session and subscription (per publishing interval) with
   * the other adapters of this process on the same endpoint: the same `endpointUrl`, security mode
   * and policy, certificate and key, identity and `reconnectDelay`. Default true: a session per line
   * costs the client a publish loop and keep-alives per line, about ten times the CPU of the
   * notifications themselves at 100 ms. Every line keeps its own monitored items, state, store key
   * and handler; a lost connection is reported to, and recovered for, every line on the endpoint.
   * False gives this line a connection of its own (a fault of one session then touches one line).
   */
  readonly shareConnection?: boolean;
  /** Key of this line in the store; default `<site>/<equipment>`. */
  readonly storeKey?: string;
  /**
   * The trace context of an order (for example `traceContextOf(releasedEvent)` kept by the MES),
   * so that the machine states and counts made while the order runs join the order's trace. Each
   * event is made in a span `opcua.<entity>.<action>` (such as `opcua.productioncount.counted`),
   * a child of this context when it gives one (else the root of a trace of its own), and carries
   * that span as its `traceparent`; the handler runs in that trace context. Without an
   * OpenTelemetry SDK, events carry the order's trace context as given, and none without it.
   */
  readonly traceContextFor?: (orderId: string) => Context | undefined;
}

/** A running adapter. */
export interface OpcuaAdapter {
  /** Current connection status. */
  readonly status: () => ConnectionStatus;
  /** Resolves once every reading received so far has been turned into events and delivered. */
  readonly idle: () => Promise<void>;
  /** Stops monitoring, closes the session and waits for the handler to finish. */
  readonly stop: () => ResultAsync<void, AdapterError>;
}

function toError(code: AdapterError["code"], cause: unknown): AdapterError {
  return { code, message: cause instanceof Error ? cause.message : String(cause), cause };
}

/** The order an adapter event's data names, if any. */
function orderOf(event: AdapterEvent): string | undefined {
  return event.data.order?.orderId;
}

/** The span names by event type, made once: dev.millwright.productioncount.counted.v1 → opcua.productioncount.counted. */
const spanNames = new Map<string, string>();

function spanName(event: AdapterEvent): string {
  const type = event.type;
  let name = spanNames.get(type);
  if (name === undefined) {
    name = `opcua.${type.slice("dev.millwright.".length, type.lastIndexOf(".v"))}`;
    spanNames.set(type, name);
  }
  return name;
}

/**
 * Starts an adapter: connects to the OPC UA server, monitors the configured signals and delivers
 * canonical MachineState-changed and ProductionCount-counted events to the handler. Reconnects with
 * exponential backoff after a lost connection or a server restart, creating a new session and
 * subscription; adapters of one process on the same endpoint share them (see `shareConnection`).
 * The first values after a reconnect are counted from the stored readings, so the
 * parts made while disconnected are caught up and none is counted twice.
 *
 * @param options - configuration, counter store, handler and callbacks
 * @returns the running adapter once the stored state and node-opcua are loaded (connecting continues in the background), a store error, or `connect_failed` when node-opcua cannot be loaded
 * @example
 * ```ts
 * const adapter = await startOpcuaAdapter({
 *   config,
 *   store: createMemoryCounterStore(),
 *   handler: async (event) => { await publish(event); },
 * });
 * // …
 * await adapter._unsafeUnwrap().stop();
 * ```
 */
export function startOpcuaAdapter(options: AdapterOptions): ResultAsync<OpcuaAdapter, AdapterError> {
  return ResultAsync.fromPromise(options.store.load(storeKeyOf(options)), (cause) => toError("store_failed", cause))
    .andThen((loaded) =>
      ResultAsync.fromPromise(loadNodeOpcua(), (cause): AdapterError => ({ code: "connect_failed", message: `cannot load node-opcua: ${cause instanceof Error ? cause.message : String(cause)}`, cause })).map((opcua) => ({ loaded, opcua })),
    )
    .map(({ loaded, opcua }) => run(options, loaded, opcua));
}

function storeKeyOf(options: AdapterOptions): string {
  return options.storeKey ?? `${options.config.equipment.site.id}/${options.config.equipment.id}`;
}

/**
 * One adapter's line in its endpoint's drain loop: its configuration, store key, stored line and
 * the readings waiting to be applied. The loop (`DrainGroup`) applies and saves; the line delivers.
 */
class DrainLine {
  stored: StoredLine;
  buffer: SignalReading[] = [];
  /** The loop of the line's endpoint, joined as soon as the connection is opened (before it connects). */
  group: DrainGroup | undefined;
  /** Delivering through the handler's promise, or retrying it: the loop leaves the line alone meanwhile. */
  delivering = false;
  stopping = false;
  /** Stopped with events left pending after a handler failure: they go to the handler on the next start. */
  halted = false;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly stopWaiters: (() => void)[] = [];
  readonly key: string;
  readonly store: CounterStateStore;
  private readonly maxBuffered: number;
  private readonly initialDelay: number;
  private readonly maxDelay: number;
  // The API's tracer delegates to whichever provider is registered, also one registered later.
  private readonly tracer = trace.getTracer("@millwright/adapter-opcua", packageJson.version);

  constructor(
    private readonly options: AdapterOptions,
    loaded: StoredLine | undefined,
  ) {
    this.stored = loaded ?? { state: EMPTY_LINE_STATE, pending: [] };
    this.key = storeKeyOf(options);
    this.store = options.store;
    this.maxBuffered = options.maxBufferedReadings ?? 10_000;
    this.initialDelay = options.reconnectDelay?.initial ?? 250;
    this.maxDelay = options.reconnectDelay?.max ?? 10_000;
  }

  report(issue: AdapterIssue): void {
    this.options.onIssue?.(issue);
  }

  saveFailed(cause: unknown): void {
    this.report({ code: "store_failed", path: "/store", signal: "store", value: this.store.name, message: `saving counter state failed: ${cause instanceof Error ? cause.message : String(cause)}` });
  }

  push(reading: SignalReading): void {
    this.buffer.push(reading);
    if (this.buffer.length > this.maxBuffered) this.buffer = mergeCounterReadings(this.options.config, this.stored.state.counters, this.buffer);
    this.group?.mark(this);
  }

  /**
   * Applies the waiting readings to the line's state and queues the events they made behind the
   * pending ones, in memory: the loop saves the line before any of them is delivered. Each event's
   * span goes to `spans`, to end once the event is saved.
   */
  apply(spans: Span[]): void {
    const batch = this.buffer;
    this.buffer = [];
    const step = applyReadings(this.options.config, this.stored.state, batch);
    for (const issue of step.issues) this.report(issue);
    const onProcessValue = this.options.onProcessValue;
    if (onProcessValue !== undefined) for (const value of step.processValues) onProcessValue(value);
    // The step's own array becomes the pending events when none is pending and no span changes an event.
    const made = step.events;
    const pending = this.stored.pending;
    let events: AdapterEvent[] | undefined = pending.length === 0 ? undefined : pending.slice();
    for (let i = 0; i < made.length; i++) {
      const event = made[i] as AdapterEvent;
      const stamped = this.stamp(event, spans);
      if (events !== undefined) events.push(stamped);
      else if (stamped !== event) {
        events = made.slice(0, i);
        events.push(stamped);
      }
    }
    this.stored = { state: step.state, pending: events ?? made };
  }

  /**
   * Starts the span an event is made in and puts it on the event: a child of the order's trace
   * context when `traceContextFor` knows the order. The span ends once the event is stored.
   */
  private stamp(event: AdapterEvent, spans: Span[]): AdapterEvent {
    const orderId = orderOf(event);
    // The loop runs for the adapter's lifetime: whatever context started it is no parent.
    const parent = (orderId === undefined ? undefined : this.options.traceContextFor?.(orderId)) ?? ROOT_CONTEXT;
    // Assigned, not a conditional spread (V8 in Node 20 takes a slow path for the latter).
    const attributes: Record<string, string> = {
      "cloudevents.event_id": event.id,
      "cloudevents.event_source": event.source,
      "cloudevents.event_type": event.type,
      "millwright.equipment.id": this.options.config.equipment.id,
    };
    if (orderId !== undefined) attributes["millwright.order.id"] = orderId;
    const span = this.tracer.startSpan(spanName(event), { kind: SpanKind.PRODUCER, attributes }, parent);
    spans.push(span);
    // A span without a valid context (no SDK and no order trace) gives the event no trace context:
    // `withTraceContext` would return it unchanged, so the context is not built.
    // The no-op tracer's spans (no SDK, no parent) share INVALID_SPAN_CONTEXT: known without the regular expressions.
    const spanContext = span.spanContext();
    if (spanContext === INVALID_SPAN_CONTEXT || !isSpanContextValid(spanContext)) return event;
    return withTraceContext(event, trace.setSpan(ROOT_CONTEXT, span));
  }

  /** Runs the handler in the event's trace context, so its spans continue the event's trace. */
  private handle(event: AdapterEvent): Promise<void> | void {
    const handler = this.options.handler;
    return event.traceparent === undefined ? handler(event) : contextApi.with(traceContextOf(event), () => handler(event));
  }

  /**
   * Hands the first pending event to the handler. A synchronous handler that returns acknowledges
   * it here: the event leaves the pending ones in memory and the loop saves that (true). A
   * returned promise, or a failure, continues on the line's own (`deliverSlowly`), and the loop
   * leaves the line until it is done (false).
   */
  deliverFirst(): boolean {
    const event = this.stored.pending[0];
    if (event === undefined) return false;
    let handled: Promise<void> | void;
    try {
      handled = this.handle(event);
    } catch (cause) {
      void this.deliverSlowly(undefined, { cause });
      return false;
    }
    if (handled !== undefined) {
      void this.deliverSlowly(handled, undefined);
      return false;
    }
    this.stored = { state: this.stored.state, pending: this.stored.pending.slice(1) };
    return true;
  }

  /**
   * Delivers the pending events one at a time, awaiting the handler (backpressure) and retrying a
   * failure with backoff; each acknowledged event is saved as delivered before the next one goes.
   * `first` is the handler's promise for the first pending event, `thrown` its synchronous failure.
   */
  private async deliverSlowly(first: Promise<void> | undefined, thrown: { readonly cause: unknown } | undefined): Promise<void> {
    this.delivering = true;
    let attempt = 0;
    let inFlight = first;
    let failed = thrown;
    try {
      while (this.stored.pending.length > 0) {
        const event = this.stored.pending[0];
        if (event === undefined) break;
        try {
          if (failed !== undefined) {
            const { cause } = failed;
            failed = undefined;
            throw cause;
          }
          const handled = inFlight ?? this.handle(event);
          inFlight = undefined;
          // A synchronous handler's result is not awaited: one microtask less per event, same order.
          if (handled !== undefined) await handled;
        } catch (cause) {
          if (this.stopping) {
            this.halted = true;
            return;
          }
          this.report({ code: "handler_failed", path: "/handler", signal: "handler", value: event.id, message: `handler failed, retrying: ${cause instanceof Error ? cause.message : String(cause)}` });
          await sleep(Math.min(this.maxDelay, this.initialDelay * 2 ** attempt++));
          continue;
        }
        attempt = 0;
        this.stored = { state: this.stored.state, pending: this.stored.pending.slice(1) };
        try {
          await this.store.save(this.key, this.stored);
        } catch (cause) {
          this.saveFailed(cause);
        }
      }
    } finally {
      this.delivering = false;
      // The readings that waited meanwhile are applied, and the waiters settled, by the loop.
      if (this.halted) this.settle(false);
      else this.group?.mark(this);
    }
  }

  /** Whether everything received so far is applied, saved and delivered (the loop being between passes). */
  private quiet(passing: boolean): boolean {
    return !passing && !this.delivering && this.buffer.length === 0 && this.stored.pending.length === 0;
  }

  /** Resolves the waiters of `idle` and `finished` once the line is quiet (or, for `finished`, halted). */
  settle(passing: boolean): void {
    const quiet = this.quiet(passing);
    if (quiet && this.idleWaiters.length > 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    if ((quiet || (this.halted && !this.delivering)) && this.stopWaiters.length > 0) for (const resolve of this.stopWaiters.splice(0)) resolve();
  }

  /** Resolves once every reading received so far has been turned into events and delivered. */
  idle(): Promise<void> {
    if (this.group !== undefined && this.quiet(this.group.passing)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.group?.mark(this);
    });
  }

  /** Resolves once the line is stopping and quiet, or halted by a handler failure while stopping. */
  finished(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.stopWaiters.push(resolve);
      if (this.group === undefined) resolve();
      else this.group.mark(this);
    });
  }
}

/** The drain loop of each endpoint, by its connection's token. */
const groups = new WeakMap<object, DrainGroup>();

/**
 * The drain loop of one endpoint: the readings of a publish reach all the endpoint's lines in one
 * turn, and one pass applies them line by line, saves every changed line before any of its
 * events is delivered (one write per store: `saveMany` when the store has it), delivers the first
 * pending event of each line, saves the acknowledged ones (one write per store again), and so on
 * while events are pending. A line whose handler returns a promise, or fails, delivers on its own
 * (`DrainLine.deliverSlowly`), so that a slow handler holds back its own line only.
 */
class DrainGroup {
  private readonly dirty = new Set<DrainLine>();
  private readonly lines = new Set<DrainLine>();
  private wakeLoop: (() => void) | undefined;
  private running = false;
  /** A pass is between its first save and its end. */
  passing = false;

  add(line: DrainLine): void {
    this.lines.add(line);
    line.group = this;
    this.mark(line);
  }

  remove(line: DrainLine): void {
    this.lines.delete(line);
    this.dirty.delete(line);
  }

  /** Puts the line into the next pass, and wakes the loop (started again when it ended). */
  mark(line: DrainLine): void {
    if (!this.lines.has(line)) return;
    this.dirty.add(line);
    const wake = this.wakeLoop;
    if (wake !== undefined) {
      this.wakeLoop = undefined;
      wake();
    } else if (!this.running) {
      // Started after this turn, as a wake-up resumes it: the rest of a publish's readings join the pass.
      this.running = true;
      queueMicrotask(() => void this.loop());
    }
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        if (this.dirty.size === 0) {
          if (this.lines.size === 0) return;
          await new Promise<void>((resolve) => {
            this.wakeLoop = resolve;
          });
          continue;
        }
        const lines = [...this.dirty];
        this.dirty.clear();
        await this.pass(lines);
      }
    } finally {
      this.running = false;
      this.wakeLoop = undefined;
    }
  }

  private async pass(lines: readonly DrainLine[]): Promise<void> {
    this.passing = true;
    try {
      const spans: Span[] = [];
      const applied: DrainLine[] = [];
      for (const line of lines) {
        if (line.delivering || line.halted || line.buffer.length === 0) continue;
        line.apply(spans);
        applied.push(line);
      }
      // A line's state and the events it produced are saved in one write before delivery.
      if (applied.length > 0) await saveLines(applied);
      for (const span of spans) span.end();
      // Each round delivers the first pending event of each line; an acknowledged event is saved
      // as delivered before the next event of its line goes to the handler.
      let round: readonly DrainLine[] = lines;
      while (round.length > 0) {
        const acknowledged: DrainLine[] = [];
        for (const line of round) {
          if (line.delivering || line.halted || line.stored.pending.length === 0) continue;
          if (line.deliverFirst()) acknowledged.push(line);
        }
        if (acknowledged.length === 0) break;
        await saveLines(acknowledged);
        round = acknowledged;
      }
    } finally {
      this.passing = false;
    }
    for (const line of lines) line.settle(false);
  }
}

/**
 * Saves each line's stored line: one write per store (`saveMany`, else `save` per line), the
 * writes to different stores at the same time; a failure is reported to each line it concerns.
 */
async function saveLines(lines: readonly DrainLine[]): Promise<void> {
  const first = lines[0];
  if (first === undefined) return;
  let mixed = false;
  for (const line of lines) if (line.store !== first.store) mixed = true;
  if (!mixed) {
    await writeLines(first.store, lines);
    return;
  }
  const byStore = new Map<CounterStateStore, DrainLine[]>();
  for (const line of lines) {
    const list = byStore.get(line.store);
    if (list === undefined) byStore.set(line.store, [line]);
    else list.push(line);
  }
  const writes: Promise<void>[] = [];
  for (const [store, list] of byStore) writes.push(writeLines(store, list));
  await Promise.all(writes);
}

/** Writes lines of one store: `saveMany` for several when the store has it, else `save` for each. */
function writeLines(store: CounterStateStore, lines: readonly DrainLine[]): Promise<void> {
  if (lines.length > 1 && store.saveMany !== undefined) {
    const entries: StoredLineEntry[] = [];
    for (const line of lines) entries.push({ key: line.key, value: line.stored });
    return settleWrite(() => store.saveMany?.(entries), lines);
  }
  const only = lines.length === 1 ? lines[0] : undefined;
  if (only !== undefined) return settleWrite(() => store.save(only.key, only.stored), lines);
  const writes: Promise<void>[] = [];
  for (const line of lines) writes.push(settleWrite(() => store.save(line.key, line.stored), [line]));
  return Promise.all(writes).then(() => undefined);
}

/** Runs a store write; a failure, thrown or rejected, is reported to the lines it concerns and not passed on. */
function settleWrite(write: () => Promise<void> | undefined, lines: readonly DrainLine[]): Promise<void> {
  const failed = (cause: unknown): void => {
    for (const line of lines) line.saveFailed(cause);
  };
  try {
    return Promise.resolve(write()).then(undefined, failed);
  } catch (cause) {
    failed(cause);
    return Promise.resolve();
  }
}

/** The adapter once its stored state and node-opcua are loaded: delivery here, the connection in connection.ts. */
function run(options: AdapterOptions, loaded: StoredLine | undefined, opcua: NodeOpcuaModule): OpcuaAdapter {
  const line = new DrainLine(options, loaded);
  const connection: Connection = openConnection({
    opcua,
    config: options.config,
    reconnectDelay: { initial: options.reconnectDelay?.initial ?? 250, max: options.reconnectDelay?.max ?? 10_000 },
    share: options.shareConnection ?? true,
    onReading: (reading) => line.push(reading),
    onIssue: (issue) => line.report(issue),
    onStatus: (status, detail) => options.onStatus?.(status, detail),
  });
  // Joined at once, so events left pending by a previous run go to the handler while the connection opens.
  let group = groups.get(connection.endpoint);
  if (group === undefined) {
    group = new DrainGroup();
    groups.set(connection.endpoint, group);
  }
  group.add(line);
  const joined = group;

  const adapter: OpcuaAdapter = {
    status: connection.status,
    idle: () => line.idle(),
    stop: () => {
      if (line.stopping) return errAsync<void, AdapterError>({ code: "already_stopped", message: "the adapter is already stopped" });
      line.stopping = true;
      return ResultAsync.fromPromise(
        (async () => {
          await connection.close();
          await line.finished();
          joined.remove(line);
          connection.markStopped();
        })(),
        (cause) => toError("session_failed", cause),
      );
    },
  };
  return adapter;
}
