import { traceContextOf, withTraceContext } from "@millwright/events";
import { context as contextApi, INVALID_SPAN_CONTEXT, isSpanContextValid, ROOT_CONTEXT, SpanKind, trace, type Context, type Span } from "@opentelemetry/api";
import { errAsync, ResultAsync } from "neverthrow";
import type { AdapterConfig } from "./config.js";
import { openConnection, sleep, type Connection, type ConnectionStatus } from "./connection.js";
import type { AdapterError, AdapterIssue } from "./errors.js";
import { applyReadings, EMPTY_LINE_STATE, mergeCounterReadings, type AdapterEvent, type CounterStateStore, type ProcessValue, type SignalReading, type StoredLine } from "@millwright/adapter-kit";
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

/** The adapter once its stored state and node-opcua are loaded: delivery here, the connection in connection.ts. */
function run(options: AdapterOptions, loaded: StoredLine | undefined, opcua: NodeOpcuaModule): OpcuaAdapter {
  const { config, store, handler } = options;
  const key = storeKeyOf(options);
  const initialDelay = options.reconnectDelay?.initial ?? 250;
  const maxDelay = options.reconnectDelay?.max ?? 10_000;
  const maxBuffered = options.maxBufferedReadings ?? 10_000;
  let stored: StoredLine = loaded ?? { state: EMPTY_LINE_STATE, pending: [] };
  let stopping = false;
  let buffer: SignalReading[] = [];
  let wake: (() => void) | undefined;
  const idleWaiters: (() => void)[] = [];

  const report = (issue: AdapterIssue): void => {
    options.onIssue?.(issue);
  };

  // Awaited where it is called (`try { await store.save(…) } catch …`), not through an async
  // wrapper: a wrapper costs a promise and two microtask turns more per save, two saves per publish.
  const saveFailed = (cause: unknown): void => {
    report({ code: "store_failed", path: "/store", signal: "store", value: store.name, message: `saving counter state failed: ${cause instanceof Error ? cause.message : String(cause)}` });
  };

  /**
   * Starts the span an event is made in and puts it on the event: a child of the order's trace
   * context when `traceContextFor` knows the order. The span ends once the event is stored.
   */
  // The API's tracer delegates to whichever provider is registered, also one registered later.
  const tracer = trace.getTracer("@millwright/adapter-opcua", packageJson.version);
  const stamp = (event: AdapterEvent, spans: Span[]): AdapterEvent => {
    const orderId = orderOf(event);
    // The drain loop runs for the adapter's lifetime: whatever context started it is no parent.
    const parent = (orderId === undefined ? undefined : options.traceContextFor?.(orderId)) ?? ROOT_CONTEXT;
    // Assigned, not a conditional spread (V8 in Node 20 takes a slow path for the latter).
    const attributes: Record<string, string> = {
      "cloudevents.event_id": event.id,
      "cloudevents.event_source": event.source,
      "cloudevents.event_type": event.type,
      "millwright.equipment.id": config.equipment.id,
    };
    if (orderId !== undefined) attributes["millwright.order.id"] = orderId;
    const span = tracer.startSpan(spanName(event), { kind: SpanKind.PRODUCER, attributes }, parent);
    spans.push(span);
    // A span without a valid context (no SDK and no order trace) gives the event no trace context:
    // `withTraceContext` would return it unchanged, so the context is not built.
    // The no-op tracer's spans (no SDK, no parent) share INVALID_SPAN_CONTEXT: known without the regular expressions.
    const spanContext = span.spanContext();
    if (spanContext === INVALID_SPAN_CONTEXT || !isSpanContextValid(spanContext)) return event;
    return withTraceContext(event, trace.setSpan(ROOT_CONTEXT, span));
  };

  /** Runs the handler in the event's trace context, so its spans continue the event's trace. */
  const handle = (event: AdapterEvent): Promise<void> | void =>
    event.traceparent === undefined ? handler(event) : contextApi.with(traceContextOf(event), () => handler(event));

  const deliverPending = async (): Promise<void> => {
    let attempt = 0;
    while (stored.pending.length > 0) {
      const event = stored.pending[0];
      if (event === undefined) break;
      try {
        // A synchronous handler's result is not awaited: one microtask less per event, same order.
        const handled = handle(event);
        if (handled !== undefined) await handled;
      } catch (cause) {
        if (stopping) return;
        report({ code: "handler_failed", path: "/handler", signal: "handler", value: event.id, message: `handler failed, retrying: ${cause instanceof Error ? cause.message : String(cause)}` });
        await sleep(Math.min(maxDelay, initialDelay * 2 ** attempt++));
        continue;
      }
      attempt = 0;
      stored = { state: stored.state, pending: stored.pending.slice(1) };
      try {
        await store.save(key, stored);
      } catch (cause) {
        saveFailed(cause);
      }
    }
  };

  const drain = async (): Promise<void> => {
    for (;;) {
      if (stored.pending.length > 0) await deliverPending();
      if (stopping && stored.pending.length > 0) return;
      if (buffer.length === 0) {
        if (idleWaiters.length > 0) for (const resolve of idleWaiters.splice(0)) resolve();
        if (stopping) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
        continue;
      }
      const batch = buffer;
      buffer = [];
      const step = applyReadings(config, stored.state, batch);
      for (const issue of step.issues) report(issue);
      for (const value of step.processValues) options.onProcessValue?.(value);
      // State and the events it produced are saved in one write before delivery.
      const spans: Span[] = [];
      const events = step.events.map((event) => stamp(event, spans));
      stored = { state: step.state, pending: stored.pending.length === 0 ? events : [...stored.pending, ...events] };
      try {
        await store.save(key, stored);
      } catch (cause) {
        saveFailed(cause);
      }
      for (const span of spans) span.end();
    }
  };

  const push = (reading: SignalReading): void => {
    buffer.push(reading);
    if (buffer.length > maxBuffered) buffer = mergeCounterReadings(config, stored.state.counters, buffer);
    wake?.();
  };

  // The drain loop starts first, so events left pending by a previous run go to the handler while the connection opens.
  const draining = drain();
  const connection: Connection = openConnection({
    opcua,
    config,
    reconnectDelay: { initial: initialDelay, max: maxDelay },
    share: options.shareConnection ?? true,
    onReading: push,
    onIssue: report,
    onStatus: (status, detail) => options.onStatus?.(status, detail),
  });

  const adapter: OpcuaAdapter = {
    status: connection.status,
    idle: () =>
      buffer.length === 0 && stored.pending.length === 0 && wake !== undefined
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            idleWaiters.push(resolve);
            wake?.();
          }),
    stop: () => {
      if (stopping) return errAsync<void, AdapterError>({ code: "already_stopped", message: "the adapter is already stopped" });
      stopping = true;
      return ResultAsync.fromPromise(
        (async () => {
          await connection.close();
          wake?.();
          await draining;
          connection.markStopped();
        })(),
        (cause) => toError("session_failed", cause),
      );
    },
  };
  return adapter;
}
