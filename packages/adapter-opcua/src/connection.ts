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
  /**
   * Share the client, session and subscription with the other lines of this process on the same
   * endpoint (see `endpointKey`). Default true; false gives this line a connection of its own.
   */
  readonly share?: boolean;
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
  /**
   * Deletes this line's monitored items; no reading is handed over after it. The last line on an
   * endpoint also stops reconnecting and closes the subscription, the session and the client.
   */
  readonly close: () => Promise<void>;
  /** Reports `stopped`, once the owner has finished with the readings it was handed. */
  readonly markStopped: () => void;
  /**
   * The endpoint the line's readings come from, as a token: lines with the same token share a
   * session and subscriptions, so the readings of one publish reach all of them at once.
   */
  readonly endpoint: object;
}

/**
 * What makes two lines' connections interchangeable: the same URL, security mode and policy,
 * client certificate and key, user identity and reconnect backoff. Lines with equal keys share
 * one client, session and subscription (per publishing interval).
 *
 * @param config - the line's configuration
 * @param reconnectDelay - the line's backoff
 * @returns the key of the endpoint in the pool
 */
function endpointKey(config: AdapterConfig, reconnectDelay: { readonly initial: number; readonly max: number }): string {
  const id = config.identity.type === "username" ? ["username", config.identity.userName, config.identity.password] : ["anonymous"];
  return JSON.stringify([config.endpointUrl, config.securityMode, config.securityPolicy, config.certificateFile ?? null, config.privateKeyFile ?? null, id, reconnectDelay.initial, reconnectDelay.max]);
}

/** One line on a shared endpoint: its signals, callbacks and status. */
interface Line {
  readonly config: AdapterConfig;
  readonly onReading: (reading: SignalReading) => void;
  readonly onIssue: (issue: AdapterIssue) => void;
  readonly onStatus: (status: ConnectionStatus, detail?: string) => void;
  /** Order numbers first, so the first counter values are attributed to the running order. */
  readonly signals: readonly Signal[];
  readonly stateSignal: Signal | undefined;
  status: ConnectionStatus;
  closed: boolean;
  /** Counts this line's monitoring attempts: readings of an older attempt (or session) are dropped. */
  attempt: number;
  /** The endpoint generation whose subscription carries this line's items, or -1. */
  monitoredGen: number;
  /** The endpoint generation on which this line's items are being created, or -1. */
  monitoringGen: number;
  items: ClientMonitoredItem[];
}

/** Endpoints in use in this process, by `endpointKey`. */
const endpoints = new Map<string, Endpoint>();
let unshared = 0;

/**
 * Connects to the configured server in the background, monitors the configured signals and
 * reconnects with exponential backoff after a lost connection or a server restart, each time with a
 * new client, session and subscription. Readings of an older session are dropped. Lines on the same
 * endpoint (`endpointKey`) share one client, session and subscription per publishing interval; the
 * notifications reach each line through its own monitored items, and a lost connection is reported
 * to, and recovered for, every line on it.
 *
 * @param options - node-opcua, configuration, backoff and the callbacks
 * @returns the connection, already connecting
 */
export function openConnection(options: ConnectionOptions): Connection {
  const { config } = options;
  const key = options.share === false ? `unshared:${++unshared}` : endpointKey(config, options.reconnectDelay);
  let endpoint = endpoints.get(key);
  if (endpoint === undefined) {
    endpoint = new Endpoint(key, options.opcua, config, options.reconnectDelay);
    endpoints.set(key, endpoint);
  }
  const line: Line = {
    config,
    onReading: options.onReading,
    onIssue: options.onIssue,
    onStatus: options.onStatus,
    signals: [...config.signals].sort((a, b) => (a.role === "order_number" ? -1 : 0) - (b.role === "order_number" ? -1 : 0)),
    stateSignal: config.signals.find((s) => s.role === "machine_state"),
    status: "connecting",
    closed: false,
    attempt: 0,
    monitoredGen: -1,
    monitoringGen: -1,
    items: [],
  };
  const ep = endpoint;
  ep.attach(line);
  return {
    status: () => line.status,
    close: () => ep.detach(line),
    markStopped: () => setLineStatus(line, "stopped"),
    endpoint: ep,
  };
}

function setLineStatus(line: Line, next: ConnectionStatus, detail?: string): void {
  if (line.status === next) return;
  line.status = next;
  line.onStatus(next, detail);
}

/**
 * Reports what the server granted below what was asked: a longer sampling interval merges the
 * changes between two samples, so the parts made just before a counter reset are lost and a
 * short state (PackML Resetting) can go unseen; a shorter queue drops changes in a burst.
 * A requested interval of 0 asks for the fastest rate the server supports, so any answer meets it.
 */
function warnIfRevised(onIssue: (issue: AdapterIssue) => void, signal: Signal, item: ClientMonitoredItem): void {
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
}

/**
 * One client and session on one endpoint, with a subscription per publishing interval, carrying
 * the monitored items of every line attached to it. The connection is per endpoint (one reconnect
 * loop for all its lines); the monitoring is per line (a line whose items cannot be created retries
 * on its own, without disturbing the others).
 */
class Endpoint {
  private readonly lines = new Set<Line>();
  private closing = false;
  // Each connect attempt has a generation: events and readings of an older one are ignored.
  private generation = 0;
  /** The generation whose session is open and takes monitored items, or -1. */
  private readyGen = -1;
  private client: OPCUAClient | undefined;
  private session: ClientSession | undefined;
  private readonly subscriptions = new Map<number, ClientSubscription>();

  constructor(
    private readonly key: string,
    private readonly opcua: NodeOpcuaModule,
    /** The first line's configuration: every line on the endpoint has the same connection settings. */
    private readonly config: AdapterConfig,
    private readonly delay: { readonly initial: number; readonly max: number },
  ) {}

  attach(line: Line): void {
    this.lines.add(line);
    if (this.lines.size === 1 && this.generation === 0) {
      void this.reconnect("starting");
      return;
    }
    // As a line of its own would: disconnected until its items are monitored.
    setLineStatus(line, "disconnected", "starting");
    setLineStatus(line, "connecting");
    if (this.readyGen === this.generation) void this.monitorLine(line, this.generation);
  }

  async detach(line: Line): Promise<void> {
    if (line.closed) return;
    line.closed = true;
    line.attempt++;
    this.lines.delete(line);
    const items = line.items;
    line.items = [];
    if (this.lines.size === 0) {
      this.closing = true;
      this.generation++;
      if (endpoints.get(this.key) === this) endpoints.delete(this.key);
      await this.teardown();
      return;
    }
    if (line.monitoredGen === this.generation && this.readyGen === this.generation) {
      await Promise.all(items.map((item) => item.terminate().catch(() => undefined)));
    }
  }

  private async teardown(): Promise<void> {
    const c = this.client;
    const subs = [...this.subscriptions.values()];
    const sess = this.session;
    this.client = undefined;
    this.subscriptions.clear();
    this.session = undefined;
    this.readyGen = -1;
    for (const line of this.lines) {
      line.items = [];
      line.monitoredGen = -1;
      line.monitoringGen = -1;
    }
    for (const sub of subs) await sub.terminate().catch(() => undefined);
    await sess?.close().catch(() => undefined);
    await c?.disconnect().catch(() => undefined);
  }

  private lost = (gen: number): (() => void) => () => {
    if (gen === this.generation && !this.closing) void this.reconnect("connection lost");
  };

  private subscriptionFor(publishingInterval: number, session: ClientSession, gen: number): ClientSubscription {
    const existing = this.subscriptions.get(publishingInterval);
    if (existing !== undefined) return existing;
    const sub = this.opcua.ClientSubscription.create(session, {
      requestedPublishingInterval: publishingInterval,
      requestedLifetimeCount: 100,
      requestedMaxKeepAliveCount: 10,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 10,
    });
    this.subscriptions.set(publishingInterval, sub);
    const lost = this.lost(gen);
    sub.on("terminated", lost);
    sub.on("internal_error", lost);
    return sub;
  }

  private async monitor(sub: ClientSubscription, line: Line, signal: Signal, gen: number, attempt: number): Promise<ClientMonitoredItem> {
    const { AttributeIds, DataChangeFilter, DataChangeTrigger, DeadbandType, TimestampsToReturn } = this.opcua;
    const filter =
      signal.role === "process_value" && signal.deadband > 0
        ? new DataChangeFilter({ trigger: DataChangeTrigger.StatusValue, deadbandType: DeadbandType.Absolute, deadbandValue: signal.deadband })
        : new DataChangeFilter({ trigger: DataChangeTrigger.StatusValueTimestamp, deadbandType: DeadbandType.None });
    const item = await sub.monitor(
      { nodeId: signal.nodeId, attributeId: AttributeIds.Value },
      { samplingInterval: signal.samplingInterval, queueSize: signal.queueSize, discardOldest: true, filter },
      TimestampsToReturn.Both,
    );
    const nodeId = signal.nodeId;
    const onReading = line.onReading;
    item.on("changed", (dv: DataValue) => {
      if (gen === this.generation && attempt === line.attempt) onReading(toSignalReading(nodeId, dv, Date.now()));
    });
    warnIfRevised(line.onIssue, signal, item);
    return item;
  }

  /**
   * Creates a line's monitored items on the session of `gen`. On failure the line alone reports
   * `disconnected` and retries with backoff in the background while that session lasts.
   */
  private async monitorLine(line: Line, gen: number, failures = 0): Promise<void> {
    if (line.closed || gen !== this.generation || this.readyGen !== gen || line.monitoredGen === gen || line.monitoringGen === gen) return;
    const session = this.session;
    if (session === undefined) return;
    line.monitoringGen = gen;
    const attempt = ++line.attempt;
    const sub = this.subscriptionFor(line.config.publishingInterval, session, gen);
    const items: ClientMonitoredItem[] = [];
    const current = (): boolean => !line.closed && gen === this.generation && attempt === line.attempt;
    try {
      for (const signal of line.signals) items.push(await this.monitor(sub, line, signal, gen, attempt));
    } catch (cause) {
      if (line.monitoringGen === gen) line.monitoringGen = -1;
      if (gen === this.generation) await Promise.all(items.map((item) => item.terminate().catch(() => undefined)));
      if (!current()) return;
      setLineStatus(line, "disconnected", cause instanceof Error ? cause.message : String(cause));
      void sleep(Math.min(this.delay.max, this.delay.initial * 2 ** failures)).then(() => {
        if (line.closed || gen !== this.generation) return;
        setLineStatus(line, "connecting");
        return this.monitorLine(line, gen, failures + 1);
      });
      return;
    }
    if (line.monitoringGen === gen) line.monitoringGen = -1;
    if (!current()) {
      // Closed (or superseded) while its items were being created: they go again.
      if (gen === this.generation) await Promise.all(items.map((item) => item.terminate().catch(() => undefined)));
      return;
    }
    line.items = items;
    line.monitoredGen = gen;
    setLineStatus(line, "connected");
  }

  private async connectOnce(gen: number): Promise<void> {
    const { opcua, config } = this;
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
    this.client = c;
    const lost = this.lost(gen);
    c.on("connection_lost", lost);
    c.on("start_reconnection", lost);
    c.on("close", lost);
    await c.connect(config.endpointUrl);
    const sess = await c.createSession(identity(opcua, config));
    this.session = sess;
    sess.on("session_closed", lost);
    if (gen !== this.generation || this.closing) return;
    this.readyGen = gen;
    // One line after the other; a line attached meanwhile is monitored by `attach` (readyGen is set).
    for (const line of this.lines) await this.monitorLine(line, gen);
  }

  private async reconnect(reason: string): Promise<void> {
    const gen = ++this.generation;
    this.readyGen = -1;
    for (const line of this.lines) {
      line.attempt++;
      // A lost connection makes the machine state unknown: reported as not_available at detection time.
      if (line.status === "connected" && line.stateSignal !== undefined) {
        line.onReading({ nodeId: line.stateSignal.nodeId, value: null, sourceMicros: Date.now() * 1000, severity: "bad", status: "BadNoCommunication" });
      }
      setLineStatus(line, "disconnected", reason);
    }
    await this.teardown();
    let attempt = 0;
    while (!this.closing && gen === this.generation) {
      for (const line of this.lines) setLineStatus(line, "connecting");
      try {
        await this.connectOnce(gen);
        return;
      } catch (cause) {
        if (gen !== this.generation || this.closing) return;
        const detail = cause instanceof Error ? cause.message : String(cause);
        this.readyGen = -1;
        for (const line of this.lines) setLineStatus(line, "disconnected", detail);
        await this.teardown();
        await sleep(Math.min(this.delay.max, this.delay.initial * 2 ** attempt++));
      }
    }
  }
}
