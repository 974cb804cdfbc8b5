// The adapter's connection to the server: client, session, subscription and monitored items, and
// reconnecting with backoff. It only hands readings over; what they mean is the pure reducer's
// (applyReadings in @millwright/adapter-kit) and what becomes of the events is the runtime's (runtime.ts).
import type { ClientMonitoredItem, ClientSession, ClientSubscription, DataValue, MessageSecurityMode, OPCUAClient, SecurityPolicy, UserIdentityInfo } from "node-opcua";
import type { AdapterConfig, Signal } from "./config.js";
import type { AdapterIssue } from "./errors.js";
import type { SignalReading, StatusSeverity } from "@millwright/adapter-kit";
import type { NodeOpcuaModule } from "./node-opcua.js";

/** Connection states the adapter reports. */
export type ConnectionStatus = "connecting" | "connected" | "disconnected" | "stopped";

function toSeverity(code: DataValue["statusCode"]): StatusSeverity {
  return code.isGood() ? "good" : code.isBad() ? "bad" : "uncertain";
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
 * @returns the reading for `applyReadings`
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
  // One object per notification, its members assigned (no spread of a second object).
  const code = dv.statusCode;
  return { nodeId, value: toPlain(dv.value.value), sourceMicros: micros, severity: toSeverity(code), status: code.name };
}

function securityMode(opcua: NodeOpcuaModule, config: AdapterConfig): MessageSecurityMode {
  const { MessageSecurityMode: Mode } = opcua;
  return config.securityMode === "Sign" ? Mode.Sign : config.securityMode === "SignAndEncrypt" ? Mode.SignAndEncrypt : Mode.None;
}

function securityPolicy(opcua: NodeOpcuaModule, config: AdapterConfig): SecurityPolicy {
  const { SecurityPolicy: Policy } = opcua;
  switch (config.securityPolicy) {
    case "None":
      return Policy.None;
    case "Basic256Sha256":
      return Policy.Basic256Sha256;
    case "Aes128_Sha256_RsaOaep":
      return Policy.Aes128_Sha256_RsaOaep;
    case "Aes256_Sha256_RsaPss":
      return Policy.Aes256_Sha256_RsaPss;
  }
}

function identity(opcua: NodeOpcuaModule, config: AdapterConfig): UserIdentityInfo {
  const { UserTokenType } = opcua;
  return config.identity.type === "username"
    ? { type: UserTokenType.UserName, userName: config.identity.userName, password: config.identity.password }
    : { type: UserTokenType.Anonymous };
}

/**
 * Waits `ms` milliseconds.
 *
 * @param ms - how long
 * @returns a promise that resolves after `ms`
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What a connection needs: the loaded node-opcua module, the configuration and where to report. */
export interface ConnectionOptions {
  readonly opcua: NodeOpcuaModule;
  readonly config: AdapterConfig;
  /** First and largest reconnect delay in ms (exponential backoff between them). */
  readonly reconnectDelay: { readonly initial: number; readonly max: number };
  /** Receives every reading of the current session, and a Bad reading of the machine state when a connection is lost. */
  readonly onReading: (reading: SignalReading) => void;
  /** Receives warnings about the subscription (revised sampling intervals and queue sizes). */
  readonly onIssue: (issue: AdapterIssue) => void;
  /** Receives every change of the status. */
  readonly onStatus: (status: ConnectionStatus, detail?: string) => void;
}

/** A connection that keeps itself open until closed. */
export interface Connection {
  /** Current status. */
  readonly status: () => ConnectionStatus;
  /** Stops reconnecting and closes the subscription, the session and the client; no reading is handed over after it. */
  readonly close: () => Promise<void>;
  /** Reports `stopped`, once the owner has finished with the readings it was handed. */
  readonly markStopped: () => void;
}

/**
 * Connects to the configured server in the background, monitors the configured signals and
 * reconnects with exponential backoff after a lost connection or a server restart, each time with a
 * new client, session and subscription. Readings of an older session are dropped.
 *
 * @param options - node-opcua, configuration, backoff and the callbacks
 * @returns the connection, already connecting
 */
export function openConnection(options: ConnectionOptions): Connection {
  const { opcua, config, onReading, onIssue } = options;
  const { initial: initialDelay, max: maxDelay } = options.reconnectDelay;
  let status: ConnectionStatus = "connecting";
  let closing = false;
  // Each connect attempt has a generation: events and readings of an older one are ignored.
  let generation = 0;
  let client: OPCUAClient | undefined;
  let session: ClientSession | undefined;
  let subscription: ClientSubscription | undefined;

  const setStatus = (next: ConnectionStatus, detail?: string): void => {
    if (status === next) return;
    status = next;
    options.onStatus(next, detail);
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
      onIssue({
        code: "sampling_interval_revised",
        path: `/signals/${signal.nodeId}/samplingInterval`,
        signal: signal.nodeId,
        value: { requested: signal.samplingInterval, revised: revisedInterval },
        message: `the server revised the sampling interval of ${signal.nodeId} from ${signal.samplingInterval} ms to ${revisedInterval} ms; changes within ${revisedInterval} ms are merged (parts made just before a counter reset may be lost, short states missed)`,
      });
    }
    const revisedQueue = item.result?.revisedQueueSize;
    if (revisedQueue !== undefined && revisedQueue < signal.queueSize) {
      onIssue({
        code: "queue_size_revised",
        path: `/signals/${signal.nodeId}/queueSize`,
        signal: signal.nodeId,
        value: { requested: signal.queueSize, revised: revisedQueue },
        message: `the server revised the queue size of ${signal.nodeId} from ${signal.queueSize} to ${revisedQueue}; a burst of more changes between two publishes drops the oldest`,
      });
    }
  };

  const monitor = async (sub: ClientSubscription, signal: Signal, gen: number): Promise<ClientMonitoredItem> => {
    const { AttributeIds, DataChangeFilter, DataChangeTrigger, DeadbandType, TimestampsToReturn } = opcua;
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
      if (gen === generation) onReading(toSignalReading(signal.nodeId, dv, Date.now()));
    });
    warnIfRevised(signal, item);
    return item;
  };

  const connectOnce = async (gen: number): Promise<void> => {
    const c = opcua.OPCUAClient.create({
      endpointMustExist: false,
      securityMode: securityMode(opcua, config),
      securityPolicy: securityPolicy(opcua, config),
      ...(config.certificateFile === undefined ? {} : { certificateFile: config.certificateFile }),
      ...(config.privateKeyFile === undefined ? {} : { privateKeyFile: config.privateKeyFile }),
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
      keepSessionAlive: true,
      requestedSessionTimeout: 20_000,
    });
    client = c;
    const lost = (): void => {
      if (gen === generation && !closing) void reconnect("connection lost");
    };
    c.on("connection_lost", lost);
    c.on("start_reconnection", lost);
    c.on("close", lost);
    await c.connect(config.endpointUrl);
    const sess = await c.createSession(identity(opcua, config));
    session = sess;
    sess.on("session_closed", lost);
    const sub = opcua.ClientSubscription.create(sess, {
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
      onReading({ nodeId: stateSignal.nodeId, value: null, sourceMicros: Date.now() * 1000, severity: "bad", status: "BadNoCommunication" });
    }
    setStatus("disconnected", reason);
    await teardown();
    let attempt = 0;
    while (!closing && gen === generation) {
      setStatus("connecting");
      try {
        await connectOnce(gen);
        if (gen !== generation || closing) return;
        setStatus("connected");
        return;
      } catch (cause) {
        if (gen !== generation || closing) return;
        setStatus("disconnected", cause instanceof Error ? cause.message : String(cause));
        await teardown();
        await sleep(Math.min(maxDelay, initialDelay * 2 ** attempt++));
      }
    }
  };

  void reconnect("starting");

  return {
    status: () => status,
    close: async () => {
      closing = true;
      generation++;
      await teardown();
    },
    markStopped: () => setStatus("stopped"),
  };
}
