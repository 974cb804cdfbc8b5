import { traceContextOf, withTraceContext } from "@millwright/events";
import { context as contextApi, ROOT_CONTEXT, SpanKind, trace, type Context, type Span } from "@opentelemetry/api";
import { errAsync, ResultAsync } from "neverthrow";
import {
  AttributeIds,
  ClientSubscription,
  DataChangeFilter,
  DataChangeTrigger,
  DeadbandType,
  MessageSecurityMode,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  type ClientMonitoredItem,
  type ClientSession,
  type DataValue,
  type UserIdentityInfo,
} from "node-opcua";
import type { AdapterConfig, Signal } from "./config.js";
import type { AdapterError, AdapterIssue } from "./errors.js";
import { applyReadings, EMPTY_LINE_STATE, mergeCounterReadings, type AdapterEvent, type ProcessValue, type SignalReading, type StatusSeverity } from "./line-state.js";
import type { CounterStateStore, StoredLine } from "./state-store.js";
import packageJson from "../package.json" with { type: "json" };

/** Connection states the adapter reports. */
export type ConnectionStatus = "connecting" | "connected" | "disconnected" | "stopped";

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

function toSeverity(dv: DataValue): { readonly severity: StatusSeverity; readonly status: string } {
  const code = dv.statusCode;
  return { severity: code.isGood() ? "good" : code.isBad() ? "bad" : "uncertain", status: code.name };
}

function toPlain(value: unknown): unknown {
  if (value !== null && typeof value === "object" && "text" in value && "locale" in value) return (value as { text: unknown }).text;
  return value;
}

/**
 * Converts a node-opcua DataValue of a signal to a reading: the source timestamp (with its
 * picoseconds) in microseconds, else the server timestamp, else the receive time.
 *
 * @param nodeId - the signal's node id as configured
 * @param dv - the DataValue from a monitored item
 * @param receivedMs - when the client received it, ms since the Unix epoch
 * @returns the reading for {@link applyReadings}
 * @example
 * ```ts
 * item.on("changed", (dv) => readings.push(toSignalReading("ns=3;s=Line1.Good", dv, Date.now())));
 * ```
 */
export function toSignalReading(nodeId: string, dv: DataValue, receivedMs: number): SignalReading {
  const source = dv.sourceTimestamp ?? dv.serverTimestamp;
  const ms = source === null ? receivedMs : source.getTime();
  const pico = dv.sourceTimestamp === null ? 0 : dv.sourcePicoseconds;
  const micros = ms * 1000 + Math.floor(pico / 1_000_000);
  return { nodeId, value: toPlain(dv.value.value), sourceMicros: micros, ...toSeverity(dv) };
}

function securityMode(config: AdapterConfig): MessageSecurityMode {
  return config.securityMode === "Sign" ? MessageSecurityMode.Sign : config.securityMode === "SignAndEncrypt" ? MessageSecurityMode.SignAndEncrypt : MessageSecurityMode.None;
}

function securityPolicy(config: AdapterConfig): SecurityPolicy {
  switch (config.securityPolicy) {
    case "None":
      return SecurityPolicy.None;
    case "Basic256Sha256":
      return SecurityPolicy.Basic256Sha256;
    case "Aes128_Sha256_RsaOaep":
      return SecurityPolicy.Aes128_Sha256_RsaOaep;
    case "Aes256_Sha256_RsaPss":
      return SecurityPolicy.Aes256_Sha256_RsaPss;
  }
}

function identity(config: AdapterConfig): UserIdentityInfo {
  return config.identity.type === "username"
    ? { type: UserTokenType.UserName, userName: config.identity.userName, password: config.identity.password }
    : { type: UserTokenType.Anonymous };
}

function toError(code: AdapterError["code"], cause: unknown): AdapterError {
  return { code, message: cause instanceof Error ? cause.message : String(cause), cause };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The order an adapter event's data names, if any. */
function orderOf(event: AdapterEvent): string | undefined {
  return event.data.order?.orderId;
}

function spanName(event: AdapterEvent): string {
  // dev.millwright.productioncount.counted.v1 → opcua.productioncount.counted
  return `opcua.${event.type.slice("dev.millwright.".length, event.type.lastIndexOf(".v"))}`;
}

/**
 * Starts an adapter: connects to the OPC UA server, monitors the configured signals and delivers
 * canonical MachineState-changed and ProductionCount-counted events to the handler. Reconnects with
 * exponential backoff after a lost connection or a server restart, creating a new session and
 * subscription; the first values after a reconnect are counted from the stored readings, so the
 * parts made while disconnected are caught up and none is counted twice.
 *
 * @param options - configuration, counter store, handler and callbacks
 * @returns the running adapter once the stored state is loaded (connecting continues in the background), or a store error
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
  const { config, store, handler } = options;
  const key = options.storeKey ?? `${config.equipment.site.id}/${config.equipment.id}`;
  const initialDelay = options.reconnectDelay?.initial ?? 250;
  const maxDelay = options.reconnectDelay?.max ?? 10_000;
  const maxBuffered = options.maxBufferedReadings ?? 10_000;
  return ResultAsync.fromPromise(store.load(key), (cause) => toError("store_failed", cause)).andThen((loaded) => {
    let stored: StoredLine = loaded ?? { state: EMPTY_LINE_STATE, pending: [] };
    let status: ConnectionStatus = "connecting";
    let stopping = false;
    let generation = 0;
    let client: OPCUAClient | undefined;
    let session: ClientSession | undefined;
    let subscription: ClientSubscription | undefined;
    let buffer: SignalReading[] = [];
    let draining: Promise<void> | undefined;
    let wake: (() => void) | undefined;
    const idleWaiters: (() => void)[] = [];

    const setStatus = (next: ConnectionStatus, detail?: string): void => {
      if (status === next) return;
      status = next;
      options.onStatus?.(next, detail);
    };

    const report = (issue: AdapterIssue): void => {
      options.onIssue?.(issue);
    };

    const save = async (): Promise<void> => {
      try {
        await store.save(key, stored);
      } catch (cause) {
        report({ code: "store_failed", path: "/store", signal: "store", value: store.name, message: `saving counter state failed: ${cause instanceof Error ? cause.message : String(cause)}` });
      }
    };

    /**
     * Starts the span an event is made in and puts it on the event: a child of the order's trace
     * context when `traceContextFor` knows the order. The span ends once the event is stored.
     */
    const stamp = (event: AdapterEvent, spans: Span[]): AdapterEvent => {
      const orderId = orderOf(event);
      // The drain loop runs for the adapter's lifetime: whatever context started it is no parent.
      const parent = (orderId === undefined ? undefined : options.traceContextFor?.(orderId)) ?? ROOT_CONTEXT;
      const attributes = {
        "cloudevents.event_id": event.id,
        "cloudevents.event_source": event.source,
        "cloudevents.event_type": event.type,
        "millwright.equipment.id": config.equipment.id,
        ...(orderId === undefined ? {} : { "millwright.order.id": orderId }),
      };
      const span = trace.getTracer("@millwright/adapter-opcua", packageJson.version).startSpan(spanName(event), { kind: SpanKind.PRODUCER, attributes }, parent);
      spans.push(span);
      return withTraceContext(event, trace.setSpan(ROOT_CONTEXT, span));
    };

    /** Runs the handler in the event's trace context, so its spans continue the event's trace. */
    const handle = (event: AdapterEvent): Promise<void> | void =>
      event.traceparent === undefined ? handler(event) : contextApi.with(traceContextOf(event), () => handler(event));

    const deliverPending = async (): Promise<void> => {
      let attempt = 0;
      while (stored.pending.length > 0) {
        const [event, ...rest] = stored.pending;
        if (event === undefined) break;
        try {
          await handle(event);
        } catch (cause) {
          if (stopping) return;
          report({ code: "handler_failed", path: "/handler", signal: "handler", value: event.id, message: `handler failed, retrying: ${cause instanceof Error ? cause.message : String(cause)}` });
          await sleep(Math.min(maxDelay, initialDelay * 2 ** attempt++));
          continue;
        }
        attempt = 0;
        stored = { state: stored.state, pending: rest };
        await save();
      }
    };

    const drain = async (): Promise<void> => {
      for (;;) {
        await deliverPending();
        if (stopping && stored.pending.length > 0) return;
        if (buffer.length === 0) {
          for (const resolve of idleWaiters.splice(0)) resolve();
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
        stored = { state: step.state, pending: [...stored.pending, ...events] };
        await save();
        for (const span of spans) span.end();
      }
    };

    const push = (reading: SignalReading): void => {
      buffer.push(reading);
      if (buffer.length > maxBuffered) buffer = mergeCounterReadings(config, stored.state.counters, buffer);
      wake?.();
    };

    const teardown = async (): Promise<void> => {
      const c = client;
      const sub = subscription;
      const sess = session;
      client = undefined;
      subscription = undefined;
      session = undefined;
      await sub?.terminate().catch(() => undefined);
      await sess?.close().catch(() => undefined);
      await c?.disconnect().catch(() => undefined);
    };

    /**
     * Reports what the server granted below what was asked: a longer sampling interval merges the
     * changes between two samples, so the parts made just before a counter reset are lost and a
     * short state (PackML Resetting) can go unseen; a shorter queue drops changes in a burst.
     * A requested interval of 0 asks for the fastest rate the server supports, so any answer meets it.
     */
    const warnIfRevised = (signal: Signal, item: ClientMonitoredItem): void => {
      const revisedInterval = item.result?.revisedSamplingInterval;
      if (revisedInterval !== undefined && signal.samplingInterval > 0 && revisedInterval > signal.samplingInterval) {
        report({
          code: "sampling_interval_revised",
          path: `/signals/${signal.nodeId}/samplingInterval`,
          signal: signal.nodeId,
          value: { requested: signal.samplingInterval, revised: revisedInterval },
          message: `the server revised the sampling interval of ${signal.nodeId} from ${signal.samplingInterval} ms to ${revisedInterval} ms; changes within ${revisedInterval} ms are merged (parts made just before a counter reset may be lost, short states missed)`,
        });
      }
      const revisedQueue = item.result?.revisedQueueSize;
      if (revisedQueue !== undefined && revisedQueue < signal.queueSize) {
        report({
          code: "queue_size_revised",
          path: `/signals/${signal.nodeId}/queueSize`,
          signal: signal.nodeId,
          value: { requested: signal.queueSize, revised: revisedQueue },
          message: `the server revised the queue size of ${signal.nodeId} from ${signal.queueSize} to ${revisedQueue}; a burst of more changes between two publishes drops the oldest`,
        });
      }
    };

    const monitor = async (sub: ClientSubscription, signal: Signal, gen: number): Promise<ClientMonitoredItem> => {
      const filter =
        signal.role === "process_value" && signal.deadband > 0
          ? new DataChangeFilter({ trigger: DataChangeTrigger.StatusValue, deadbandType: DeadbandType.Absolute, deadbandValue: signal.deadband })
          : new DataChangeFilter({ trigger: DataChangeTrigger.StatusValueTimestamp, deadbandType: DeadbandType.None });
      const item = await sub.monitor(
        { nodeId: signal.nodeId, attributeId: AttributeIds.Value },
        { samplingInterval: signal.samplingInterval, queueSize: signal.queueSize, discardOldest: true, filter },
        TimestampsToReturn.Both,
      );
      item.on("changed", (dv: DataValue) => {
        if (gen === generation) push(toSignalReading(signal.nodeId, dv, Date.now()));
      });
      warnIfRevised(signal, item);
      return item;
    };

    const connectOnce = async (gen: number): Promise<void> => {
      const c = OPCUAClient.create({
        endpointMustExist: false,
        securityMode: securityMode(config),
        securityPolicy: securityPolicy(config),
        ...(config.certificateFile === undefined ? {} : { certificateFile: config.certificateFile }),
        ...(config.privateKeyFile === undefined ? {} : { privateKeyFile: config.privateKeyFile }),
        connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
        keepSessionAlive: true,
        requestedSessionTimeout: 20_000,
      });
      client = c;
      const lost = (): void => {
        if (gen === generation && !stopping) void reconnect("connection lost");
      };
      c.on("connection_lost", lost);
      c.on("start_reconnection", lost);
      c.on("close", lost);
      await c.connect(config.endpointUrl);
      const sess = await c.createSession(identity(config));
      session = sess;
      sess.on("session_closed", lost);
      const sub = ClientSubscription.create(sess, {
        requestedPublishingInterval: config.publishingInterval,
        requestedLifetimeCount: 100,
        requestedMaxKeepAliveCount: 10,
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 10,
      });
      subscription = sub;
      sub.on("terminated", lost);
      sub.on("internal_error", lost);
      // Order numbers first, so the first counter values are attributed to the running order.
      const ordered = [...config.signals].sort((a, b) => (a.role === "order_number" ? -1 : 0) - (b.role === "order_number" ? -1 : 0));
      for (const signal of ordered) await monitor(sub, signal, gen);
    };

    const stateSignal = config.signals.find((s) => s.role === "machine_state");
    const reconnect = async (reason: string): Promise<void> => {
      const gen = ++generation;
      // A lost connection makes the machine state unknown: reported as not_available at detection time.
      if (status === "connected" && stateSignal !== undefined) {
        push({ nodeId: stateSignal.nodeId, value: null, sourceMicros: Date.now() * 1000, severity: "bad", status: "BadNoCommunication" });
      }
      setStatus("disconnected", reason);
      await teardown();
      let attempt = 0;
      while (!stopping && gen === generation) {
        setStatus("connecting");
        try {
          await connectOnce(gen);
          if (gen !== generation || stopping) return;
          setStatus("connected");
          return;
        } catch (cause) {
          if (gen !== generation || stopping) return;
          setStatus("disconnected", cause instanceof Error ? cause.message : String(cause));
          await teardown();
          await sleep(Math.min(maxDelay, initialDelay * 2 ** attempt++));
        }
      }
    };

    draining = drain();
    void reconnect("starting");

    const adapter: OpcuaAdapter = {
      status: () => status,
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
        generation++;
        return ResultAsync.fromPromise(
          (async () => {
            await teardown();
            wake?.();
            await draining;
            setStatus("stopped");
          })(),
          (cause) => toError("session_failed", cause),
        );
      },
    };
    return ResultAsync.fromSafePromise(Promise.resolve(adapter));
  });
}
