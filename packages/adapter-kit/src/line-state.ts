import { createEvent, createEventFactory, type CreatedEvent, type EventFactory } from "@millwright/events";
import type { CounterReading, EquipmentRef, MachineState, ProductionCount } from "@millwright/model";
import { computeCounterDelta, isCounterValue, type CounterWidth } from "./counter.js";
import { toMappedState, type StateMapping } from "./state-mapping.js";

/** The role of a signal. */
export type SignalRole = "machine_state" | "good_count" | "defective_count" | "processed_count" | "order_number" | "process_value";

/**
 * One source value the counter core follows. `nodeId` is the signal's address in its source: an
 * OPC UA node id, or a Sparkplug metric path (`<device>/<metric name>`).
 */
export type LineSignal =
  | { readonly role: "machine_state"; readonly nodeId: string; readonly mapping: StateMapping }
  | { readonly role: "good_count" | "defective_count" | "processed_count"; readonly nodeId: string; readonly width: CounterWidth }
  | { readonly role: "order_number"; readonly nodeId: string }
  | { readonly role: "process_value"; readonly nodeId: string; readonly name: string };

/** What the counter core needs to know about a line: its identity and its signals. */
export interface LineConfig {
  /** The source's identifier, used as `sourceRefs[].system` and the CloudEvents source. */
  readonly sourceSystem: string;
  /** The equipment (line or cell) the source represents. */
  readonly equipment: EquipmentRef;
  /** Unit of counted parts, UN/CEFACT Rec. 20. */
  readonly unit: string;
  /** Key of the object that owns the counters, used as the count's single sourceRef; absent: one sourceRef per counter. */
  readonly countObjectNodeId?: string;
  /** Kind of that object's sourceRef (default `PackMLAdminObjectType`). */
  readonly countObjectKind?: string;
  /**
   * The sourceRefs kind of a state or counter signal. Absent: the OPC UA type names
   * (`PackMLBaseStateMachineType`, `MachineryItemState_StateMachineType`, `StateVariable`,
   * `CounterVariable`); a Sparkplug source names its metrics `SparkplugMetric`.
   */
  readonly signalKind?: string;
  readonly signals: readonly LineSignal[];
}

/** Something the counter core noticed and did not turn into an event: reported, never dropped silently. */
export type LineIssue =
  | {
      readonly code: "bad_status" | "invalid_value" | "unmapped_state" | "stale_reading" | "invalid_entity";
      readonly path: string;
      readonly signal: string;
      readonly value: unknown;
      readonly message: string;
    }
  | {
      readonly code: "counter_decreased";
      readonly path: string;
      readonly signal: string;
      readonly value: { readonly from: number; readonly to: number };
      readonly message: string;
    }
  | {
      /** A counter rose by more than its margin between two readings (a preset): nothing counted. */
      readonly code: "counter_jumped";
      readonly path: string;
      readonly signal: string;
      readonly value: { readonly from: number; readonly to: number; readonly margin: number };
      readonly message: string;
    };

/** Quality of a value (OPC UA status severity; Sparkplug quality 192 good, 64 uncertain, 0 bad). */
export type StatusSeverity = "good" | "uncertain" | "bad";

/** One value of a signal as its source reported it. */
export interface SignalReading {
  readonly nodeId: string;
  readonly value: unknown;
  /** Source timestamp in microseconds since the Unix epoch. */
  readonly sourceMicros: number;
  readonly severity: StatusSeverity;
  /** The status's name, e.g. `Good`, `BadSensorFailure`, `Sparkplug quality 0`. */
  readonly status: string;
}

/** The last reading of one counter that a delta was (or will be) computed from. */
export interface StoredCounter {
  readonly value: number;
  readonly micros: number;
}

/** An order that became active at a source time; `orderId` null means no order. */
export interface OrderChange {
  readonly orderId: string | null;
  readonly micros: number;
}

/**
 * Everything the adapter must remember across restarts: last counter readings, the end of the
 * last count window, the last published state, and recent order changes. Plain JSON data.
 */
export interface LineState {
  readonly counters: Readonly<Record<string, StoredCounter>>;
  readonly windowEndMicros: number | null;
  /** Defective parts not yet subtracted from a processed count (processed − defective mode). */
  readonly carry: number;
  readonly lastState: { readonly key: string; readonly micros: number; readonly revision: number } | null;
  readonly orders: readonly OrderChange[];
  /**
   * The last PackML Resetting or Clearing period seen (`untilMicros` null while it lasts): a
   * counter drop in a reading interval that overlaps it is a reset. Absent in state stored by
   * versions that did not track it.
   */
  readonly resetting?: ResettingPeriod | null;
}

/** A period in which the line was in PackML Resetting or Clearing, in µs since the Unix epoch. */
export interface ResettingPeriod {
  readonly sinceMicros: number;
  readonly untilMicros: number | null;
}

/** A canonical event the adapter produced. */
export type AdapterEvent = CreatedEvent<"dev.millwright.machinestate.changed.v1"> | CreatedEvent<"dev.millwright.productioncount.counted.v1">;

/** A process value reading, passed through without a canonical entity. */
export interface ProcessValue {
  readonly name: string;
  readonly nodeId: string;
  readonly value: unknown;
  readonly time: string;
}

/** What one batch of readings produced. */
export interface LineStep {
  readonly state: LineState;
  readonly events: readonly AdapterEvent[];
  readonly issues: readonly LineIssue[];
  readonly processValues: readonly ProcessValue[];
}

/** The state of a line the adapter has never seen. */
export const EMPTY_LINE_STATE: LineState = { counters: {}, windowEndMicros: null, carry: 0, lastState: null, orders: [], resetting: null };

const MAX_ORDERS = 32;
const UNREADABLE_KEY = JSON.stringify(["not_available", null, null]);

/**
 * Formats microseconds since the Unix epoch as an RFC 3339 UTC timestamp with six fraction digits.
 *
 * @param micros - microseconds since the Unix epoch
 * @returns the timestamp, e.g. `2026-03-02T06:12:40.125001Z`
 * @example
 * ```ts
 * microsToTimestamp(1772431960125001); // "2026-03-02T06:12:40.125001Z"
 * ```
 */
export function microsToTimestamp(micros: number): string {
  // The readings of one message share their timestamp: the last one formatted is kept.
  if (micros === lastMicros) return lastTimestamp;
  let text: string;
  if (Number.isSafeInteger(micros)) {
    // Whole µs: the date and time to the second (kept for the last second seen, as consecutive
    // messages mostly share it), then the six fraction digits.
    const second = Math.floor(micros / 1_000_000);
    if (second !== lastSecond) {
      lastSecond = second;
      lastSecondPrefix = new Date(second * 1000).toISOString().slice(0, -4);
    }
    text = `${lastSecondPrefix}${String(micros - second * 1_000_000).padStart(6, "0")}Z`;
  } else {
    const ms = Math.floor(micros / 1000);
    const sub = micros - ms * 1000;
    const iso = new Date(ms).toISOString();
    text = `${iso.slice(0, -1)}${String(sub).padStart(3, "0")}Z`;
  }
  lastMicros = micros;
  lastTimestamp = text;
  return text;
}

let lastMicros = Number.NaN;
let lastTimestamp = "";
/** The last whole second formatted, and its timestamp up to the fraction's dot (`2026-03-02T06:12:40.`). */
let lastSecond = Number.NaN;
let lastSecondPrefix = "";

function orderAt(orders: readonly OrderChange[], micros: number): string | null {
  let active: string | null = null;
  for (const change of orders) {
    if (change.micros <= micros) active = change.orderId;
    else break;
  }
  return active;
}

function rank(signal: LineSignal): number {
  if (signal.role === "order_number") return 0;
  if (signal.role === "machine_state") return 1;
  return 2;
}

/** What applyReadings derives from a configuration, once per configuration object. */
interface ConfigIndex {
  /** Each signal by node id, with its rank at a timestamp tie. */
  readonly bySignal: ReadonlyMap<string, { readonly signal: LineSignal; readonly rank: number }>;
  /** The counter signals, in configuration order. */
  readonly counters: readonly LineSignal[];
  readonly hasProcessed: boolean;
  /**
   * The configuration's equipment as a deep-frozen copy, shared by every event of the line: the
   * event factory checks a frozen part once and then knows it by identity.
   */
  readonly equipment: EquipmentRef;
  /** The sourceRefs of every count event, once made (countSources). */
  countSources?: ProductionCount["sourceRefs"];
  /** The event factories of the configuration's source, once made (makeEvent). */
  factories?: Factories;
}

/** Configurations are immutable (readonly all the way down), so their index is kept with them. */
const indexes = new WeakMap<LineConfig, ConfigIndex>();

type StateType = "dev.millwright.machinestate.changed.v1";
type CountType = "dev.millwright.productioncount.counted.v1";

/** The event factories of a configuration's source, checked once; undefined when the source is invalid. */
interface Factories {
  readonly state: EventFactory<StateType> | undefined;
  readonly count: EventFactory<CountType> | undefined;
}

/**
 * Makes an event through the configuration's factory (the type and source checked once), or
 * through `createEvent` when the source is invalid, so that the error names it.
 */
function makeEvent<TType extends StateType | CountType>(config: LineConfig, index: ConfigIndex, type: TType, data: Parameters<EventFactory<TType>["create"]>[0], time: string): ReturnType<EventFactory<TType>["create"]> {
  // Kept in the configuration's index: one lookup per batch, none per event.
  let known = index.factories;
  if (known === undefined) {
    const state = createEventFactory("dev.millwright.machinestate.changed.v1", { source: config.sourceSystem });
    const count = createEventFactory("dev.millwright.productioncount.counted.v1", { source: config.sourceSystem });
    known = { state: state.isOk() ? state.value : undefined, count: count.isOk() ? count.value : undefined };
    index.factories = known;
  }
  const factory = (type === "dev.millwright.machinestate.changed.v1" ? known.state : known.count) as EventFactory<TType> | undefined;
  return factory !== undefined ? factory.create(data, time) : createEvent({ type, source: config.sourceSystem, data, time });
}

function indexOf(config: LineConfig): ConfigIndex {
  const known = indexes.get(config);
  if (known !== undefined) return known;
  const bySignal = new Map<string, { readonly signal: LineSignal; readonly rank: number }>();
  // As `new Map(entries)`: the last signal of a node id wins.
  for (const signal of config.signals) bySignal.set(signal.nodeId, { signal, rank: rank(signal) });
  const counters = config.signals.filter((signal) => signal.role === "good_count" || signal.role === "defective_count" || signal.role === "processed_count");
  const index: ConfigIndex = { bySignal, counters, hasProcessed: counters.some((signal) => signal.role === "processed_count"), equipment: deepFrozen(structuredClone(config.equipment)) };
  indexes.set(config, index);
  return index;
}

/** Freezes plain data all the way down and returns it. */
function deepFrozen<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const member of Object.values(value)) deepFrozen(member);
    Object.freeze(value);
  }
  return value;
}

interface Sortable {
  readonly reading: SignalReading;
  readonly index: number;
  readonly signal: LineSignal;
  readonly rank: number;
}

function byTimeRankIndex(a: Sortable, b: Sortable): number {
  return a.reading.sourceMicros - b.reading.sourceMicros || a.rank - b.rank || a.index - b.index;
}

/**
 * The readings of configured signals in processing order: source time, then order number, state
 * and the rest at a tie, then arrival. Readings of unknown signals are left out (they are skipped).
 * A batch whose readings share one timestamp, as a Sparkplug message's do, is ordered by a stable
 * partition on the rank, without a comparison sort.
 */
function ordered(index: ConfigIndex, readings: readonly SignalReading[]): Sortable[] {
  const entries: Sortable[] = [];
  let sameTime = true;
  let ranked = true;
  let lastRank = 0;
  for (let i = 0; i < readings.length; i++) {
    const reading = readings[i] as SignalReading;
    const known = index.bySignal.get(reading.nodeId);
    if (known === undefined) continue;
    const first = entries[0];
    if (first !== undefined && reading.sourceMicros !== first.reading.sourceMicros) sameTime = false;
    if (known.rank < lastRank) ranked = false;
    lastRank = known.rank;
    entries.push({ reading, index: i, signal: known.signal, rank: known.rank });
  }
  if (ranked && (sameTime || isTimeOrdered(entries))) return entries;
  if (!sameTime) return entries.sort(byTimeRankIndex);
  const partitioned: Sortable[] = [];
  for (let r = 0; r <= 2; r++) for (const entry of entries) if (entry.rank === r) partitioned.push(entry);
  return partitioned;
}

/** Whether the entries are already in processing order (an ordered input keeps its order). */
function isTimeOrdered(entries: readonly Sortable[]): boolean {
  for (let i = 1; i < entries.length; i++) if (byTimeRankIndex(entries[i - 1] as Sortable, entries[i] as Sortable) > 0) return false;
  return true;
}

function issue(code: "bad_status" | "invalid_value" | "unmapped_state" | "stale_reading" | "invalid_entity", signal: string, value: unknown, message: string): LineIssue {
  return { code, path: `/signals/${signal}`, signal, value, message };
}

/**
 * The line state while a batch is applied. `counters` and `orders` are the input's own objects
 * until the batch changes them (copy on write): a batch that changes nothing there copies nothing.
 */
interface Mutable {
  counters: Readonly<Record<string, StoredCounter>>;
  countersCopied: boolean;
  windowEndMicros: number | null;
  carry: number;
  lastState: LineState["lastState"];
  orders: readonly OrderChange[];
  ordersCopied: boolean;
  resetting: ResettingPeriod | null;
}

function setCounter(s: Mutable, nodeId: string, counter: StoredCounter): void {
  if (!s.countersCopied) {
    s.counters = { ...s.counters };
    s.countersCopied = true;
  }
  (s.counters as Record<string, StoredCounter>)[nodeId] = counter;
}

function writableOrders(s: Mutable): OrderChange[] {
  if (!s.ordersCopied) {
    s.orders = [...s.orders];
    s.ordersCopied = true;
  }
  return s.orders as OrderChange[];
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

interface PendingCounter {
  readonly signal: Extract<LineSignal, { role: "good_count" | "defective_count" | "processed_count" }>;
  readonly reading: CounterReading;
  readonly delta: number;
  readonly fromMicros: number;
}

/**
 * Applies a batch of signal readings to the line's state: a pure, deterministic step. Counter
 * readings with the same source timestamp form one count window; each window gets a unique,
 * increasing window end so count events of one equipment never share a natural key. Readings are
 * processed in source-timestamp order (order number, then state, then counters at a tie). A
 * replayed reading (same value, not newer) makes no event; the same state and readings always make
 * byte-identical events with the same ids.
 *
 * @param config - the validated adapter configuration
 * @param state - the line state before the batch
 * @param readings - the batch, in any order
 * @returns the new state, the events, the reported issues and the process values
 * @example
 * ```ts
 * const step = applyReadings(config, EMPTY_LINE_STATE, [
 *   { nodeId: "ns=2;s=Line1.Good", value: 10, sourceMicros: 1772431960125000, severity: "good", status: "Good" },
 * ]);
 * step.events; // [] — the first reading is the baseline
 * ```
 */
export function applyReadings(config: LineConfig, state: LineState, readings: readonly SignalReading[]): LineStep {
  const index = indexOf(config);
  const sorted = ordered(index, readings);
  const s: Mutable = {
    counters: state.counters,
    countersCopied: false,
    windowEndMicros: state.windowEndMicros,
    carry: state.carry,
    lastState: state.lastState,
    orders: state.orders,
    ordersCopied: false,
    resetting: state.resetting ?? null,
  };
  const events: AdapterEvent[] = [];
  const issues: LineIssue[] = [];
  const processValues: ProcessValue[] = [];
  let window: PendingCounter[] = [];
  let windowMicros = 0;
  for (const { reading, signal } of sorted) {
    if (window.length > 0 && (reading.sourceMicros !== windowMicros || signal.role === "order_number" || signal.role === "machine_state")) {
      closeWindow(config, index, s, window, windowMicros, events, issues);
      window = [];
    }
    switch (signal.role) {
      case "order_number":
        applyOrder(s, signal.nodeId, reading, issues);
        break;
      case "machine_state":
        applyState(config, index, s, signal, reading, events, issues);
        break;
      case "process_value":
        if (reading.severity === "bad") issues.push(issue("bad_status", signal.nodeId, reading.value, `process value ${signal.name} has status ${reading.status}; not passed on`));
        else processValues.push({ name: signal.name, nodeId: signal.nodeId, value: reading.value, time: microsToTimestamp(reading.sourceMicros) });
        break;
      default: {
        const pending = applyCounter(s, signal, reading, issues);
        if (pending !== undefined) {
          window.push(pending);
          windowMicros = reading.sourceMicros;
        }
      }
    }
  }
  if (window.length > 0) closeWindow(config, index, s, window, windowMicros, events, issues);
  return {
    // The counters and orders are the input's own objects when the batch did not change them.
    state: { counters: s.counters, windowEndMicros: s.windowEndMicros, carry: s.carry, lastState: s.lastState, orders: s.orders, resetting: s.resetting },
    events,
    issues,
    processValues,
  };
}

function applyOrder(s: Mutable, nodeId: string, reading: SignalReading, issues: LineIssue[]): void {
  if (reading.severity !== "good") {
    issues.push(issue("bad_status", nodeId, reading.value, `order number has status ${reading.status}; the active order is unchanged`));
    return;
  }
  const raw = reading.value;
  let orderId: string | null;
  if (raw === null || raw === undefined || raw === "") orderId = null;
  else if (typeof raw === "string" || (typeof raw === "number" && Number.isInteger(raw))) orderId = String(raw).trim() || null;
  else {
    issues.push(issue("invalid_value", nodeId, raw, "an order number is a string or an integer"));
    return;
  }
  const last = s.orders[s.orders.length - 1];
  if (last !== undefined && last.orderId === orderId) return;
  if (last !== undefined && reading.sourceMicros < last.micros) {
    issues.push(issue("stale_reading", nodeId, raw, `order number reading at ${microsToTimestamp(reading.sourceMicros)} is older than the active order's change at ${microsToTimestamp(last.micros)}`));
    return;
  }
  const orders = writableOrders(s);
  orders.push({ orderId, micros: reading.sourceMicros });
  if (orders.length > MAX_ORDERS) orders.splice(0, orders.length - MAX_ORDERS);
}

function stateKind(config: LineConfig, signal: Extract<LineSignal, { role: "machine_state" }>): string {
  if (config.signalKind !== undefined) return config.signalKind;
  switch (signal.mapping.kind) {
    case "packml":
      return "PackMLBaseStateMachineType";
    case "machinery":
      return "MachineryItemState_StateMachineType";
    case "custom":
      return "StateVariable";
  }
}

/**
 * The raw value of a Good state reading that mapped to a line's current state: the same value
 * again (the common case, as a Sparkplug birth or data message repeats it) is the same state, so
 * it is neither mapped nor keyed again. Keyed by the `lastState` object it was checked against.
 */
const unchangedStates = new WeakMap<NonNullable<LineState["lastState"]>, { readonly signal: LineSignal; readonly raw: unknown }>();

function applyState(config: LineConfig, index: ConfigIndex, s: Mutable, signal: Extract<LineSignal, { role: "machine_state" }>, reading: SignalReading, events: AdapterEvent[], issues: LineIssue[]): void {
  const current = s.lastState;
  if (current !== null && reading.severity !== "bad") {
    const known = unchangedStates.get(current);
    // toMappedState is a pure function of the mapping and the value: a primitive seen before maps the same.
    if (known !== undefined && known.signal === signal && Object.is(known.raw, reading.value)) return;
  }
  let data: Omit<MachineState, "revision" | "since" | "equipment" | "sourceRefs">;
  if (reading.severity === "bad") {
    issues.push(issue("bad_status", signal.nodeId, reading.value, `machine state has status ${reading.status}; reported as not_available`));
    data = { availability: "not_available" };
  } else {
    const mapped = toMappedState(signal.mapping, reading.value);
    if (mapped === undefined) {
      issues.push(issue("unmapped_state", signal.nodeId, reading.value, `machine state value ${JSON.stringify(reading.value)} has no ${signal.mapping.kind} mapping (composite or unknown state)`));
      return;
    }
    data = mapped;
  }
  const key = JSON.stringify([data.availability, data.packmlState ?? null, data.sourceState?.value ?? null]);
  const last = s.lastState;
  if (last !== null && last.key === key) {
    const raw = reading.value;
    if (reading.severity !== "bad" && (typeof raw !== "object" || raw === null)) unchangedStates.set(last, { signal, raw });
    return;
  }
  // After a Bad value or a lost connection the current value is known again as of now, even when
  // the server's source timestamp is older (the state did not change while it was unreadable).
  if (last !== null && reading.sourceMicros < last.micros && (last.key !== UNREADABLE_KEY || reading.severity === "bad")) {
    issues.push(issue("stale_reading", signal.nodeId, reading.value, `machine state reading at ${microsToTimestamp(reading.sourceMicros)} is older than the last state at ${microsToTimestamp(last.micros)}`));
    return;
  }
  const sinceMicros = last === null ? reading.sourceMicros : Math.max(reading.sourceMicros, last.micros);
  const revision = last === null ? sinceMicros : Math.max(sinceMicros, last.revision + 1);
  const orderId = orderAt(s.orders, sinceMicros);
  const since = microsToTimestamp(sinceMicros);
  const entity: MachineState = {
    equipment: index.equipment,
    ...data,
    since,
    ...(orderId === null ? {} : { order: { orderId } }),
    revision: String(revision),
    sourceRefs: [{ system: config.sourceSystem, kind: stateKind(config, signal), key: signal.nodeId }],
  };
  const created = makeEvent(config, index, "dev.millwright.machinestate.changed.v1", entity, since);
  if (created.isErr()) {
    issues.push(issue("invalid_entity", signal.nodeId, entity, created.error.message));
    return;
  }
  events.push(created.value);
  s.lastState = { key, micros: sinceMicros, revision };
  // PackML Resetting and Clearing are where a PLC zeroes its counters (docs/model/production-count.md).
  const resetting = data.packmlState === "resetting" || data.packmlState === "clearing";
  const open = s.resetting !== null && s.resetting.untilMicros === null;
  if (resetting && !open) s.resetting = { sinceMicros, untilMicros: null };
  else if (!resetting && open && s.resetting !== null) s.resetting = { sinceMicros: s.resetting.sinceMicros, untilMicros: sinceMicros };
}

function applyCounter(s: Mutable, signal: Extract<LineSignal, { role: "good_count" | "defective_count" | "processed_count" }>, reading: SignalReading, issues: LineIssue[]): PendingCounter | undefined {
  if (reading.severity !== "good") {
    issues.push(issue("bad_status", signal.nodeId, reading.value, `counter has status ${reading.status}; not counted (the next good reading catches up)`));
    return undefined;
  }
  if (!isCounterValue(reading.value, signal.width)) {
    issues.push(issue("invalid_value", signal.nodeId, reading.value, `a counter value is an integer from ${Math.min(signal.width.wrapValue, 0)} to ${signal.width.max}`));
    return undefined;
  }
  const to = reading.value;
  const previous = s.counters[signal.nodeId];
  if (previous === undefined) {
    setCounter(s, signal.nodeId, { value: to, micros: reading.sourceMicros });
    return undefined;
  }
  if (to === previous.value) return undefined;
  if (reading.sourceMicros < previous.micros) {
    issues.push(issue("stale_reading", signal.nodeId, to, `counter reading at ${microsToTimestamp(reading.sourceMicros)} is older than the last reading at ${microsToTimestamp(previous.micros)}; not counted`));
    return undefined;
  }
  const period = s.resetting;
  const resetSignalled = period !== null && period.sinceMicros <= reading.sourceMicros && (period.untilMicros === null || period.untilMicros > previous.micros);
  const delta = computeCounterDelta(previous.value, to, signal.width, { resetSignalled });
  setCounter(s, signal.nodeId, { value: to, micros: reading.sourceMicros });
  if (delta.kind === "jumped") {
    issues.push({
      code: "counter_jumped",
      path: `/signals/${signal.nodeId}`,
      signal: signal.nodeId,
      value: { from: previous.value, to, margin: signal.width.margin },
      message: `counter rose from ${previous.value} to ${to}, more than the ${signal.width.margin} parts it can count between two readings (a preset?); not counted, counting continues from ${to}`,
    });
    return undefined;
  }
  if (delta.kind === "decreased") {
    issues.push({
      code: "counter_decreased",
      path: `/signals/${signal.nodeId}`,
      signal: signal.nodeId,
      value: { from: previous.value, to },
      message: `counter fell from ${previous.value} to ${to} without a detectable reset or rollover; counting continues from ${to}`,
    });
    return undefined;
  }
  const role = signal.role === "good_count" ? "good" : signal.role === "defective_count" ? "defective" : "processed";
  return { signal, delta: delta.delta, fromMicros: previous.micros, reading: { signal: signal.nodeId, role, from: previous.value, to, reset: delta.reset, rollover: delta.rollover } };
}

function closeWindow(config: LineConfig, index: ConfigIndex, s: Mutable, window: readonly PendingCounter[], micros: number, events: AdapterEvent[], issues: LineIssue[]): void {
  const startMicros = s.windowEndMicros ?? Math.min(...window.map((p) => p.fromMicros));
  const endMicros = s.windowEndMicros === null ? Math.max(micros, startMicros) : Math.max(micros, s.windowEndMicros + 1);
  let good = 0;
  let defective = 0;
  let processed = 0;
  for (const p of window) {
    if (p.reading.role === "good") good += p.delta;
    else if (p.reading.role === "defective") defective += p.delta;
    else processed += p.delta;
  }
  let carry = s.carry;
  if (index.hasProcessed) {
    const net = processed - defective - carry;
    good = Math.max(0, net);
    carry = Math.max(0, -net);
  }
  const orderId = orderAt(s.orders, micros);
  const windowEnd = microsToTimestamp(endMicros);
  // Built by assignment in the members' order: V8 (Node 20) takes a slow path for a conditional spread.
  const entity: Writable<ProductionCount> = { equipment: index.equipment } as Writable<ProductionCount>;
  if (orderId !== null) entity.order = { orderId };
  entity.goodQuantity = { value: String(good), unit: config.unit };
  entity.defectiveQuantity = { value: String(defective), unit: config.unit };
  entity.windowStart = microsToTimestamp(startMicros);
  entity.windowEnd = windowEnd;
  const counters: CounterReading[] = [];
  for (const p of window) counters.push(p.reading);
  entity.counters = counters;
  entity.revision = String(endMicros);
  entity.sourceRefs = countSources(config, index, window);
  const created = makeEvent(config, index, "dev.millwright.productioncount.counted.v1", entity, windowEnd);
  if (created.isErr()) {
    issues.push(issue("invalid_entity", config.countObjectNodeId ?? window[0]?.signal.nodeId ?? "", entity, created.error.message));
    return;
  }
  events.push(created.value);
  s.windowEndMicros = endMicros;
  s.carry = carry;
}

/**
 * The count object, or each configured counter variable: the same for every window of a
 * configuration, so made once and shared (frozen) by its count events, as `equipment` is.
 */
function countSources(config: LineConfig, index: ConfigIndex, window: readonly PendingCounter[]): ProductionCount["sourceRefs"] {
  if (index.countSources !== undefined) return index.countSources;
  const refs = makeCountSources(config, index, window);
  // Without configured counters the refs name the window's first counter: not shared.
  if (index.counters.length > 0 || config.countObjectNodeId !== undefined) {
    for (const ref of refs) Object.freeze(ref);
    index.countSources = Object.freeze(refs) as ProductionCount["sourceRefs"];
  }
  return refs;
}

function makeCountSources(config: LineConfig, index: ConfigIndex, window: readonly PendingCounter[]): ProductionCount["sourceRefs"] {
  if (config.countObjectNodeId !== undefined) {
    return [{ system: config.sourceSystem, kind: config.countObjectKind ?? "PackMLAdminObjectType", key: config.countObjectNodeId }];
  }
  // Every configured counter, in configuration order, so that all windows name the same sources.
  const [first = window[0]?.signal, ...rest] = index.counters;
  if (first === undefined) throw new TypeError("a count window has at least one counter reading");
  const ref = (signal: LineSignal) => ({ system: config.sourceSystem, kind: config.signalKind ?? "CounterVariable", key: signal.nodeId });
  return [ref(first), ...rest.map(ref)];
}

/**
 * Drops intermediate Good readings of a counter where that changes no count: a reading lying
 * between the last kept value and the next reading, all non-negative and the whole rise within the
 * margin. Readings around a reset, a rollover, a jump or a sign change are kept, and so is the
 * first reading of a counter the state has no value for (its baseline). A runtime uses it when
 * readings pile up behind a slow handler.
 *
 * @param config - the validated adapter configuration
 * @param counters - the stored counter readings the batch continues from
 * @param readings - the waiting readings, in arrival order
 * @returns the readings without the intermediate ones, which count the same parts
 * @example
 * ```ts
 * const waiting = mergeCounterReadings(config, stored.state.counters, buffer);
 * ```
 */
export function mergeCounterReadings(config: LineConfig, counters: LineState["counters"], readings: readonly SignalReading[]): SignalReading[] {
  const widths = new Map(config.signals.flatMap((s) => (s.role === "good_count" || s.role === "defective_count" || s.role === "processed_count" ? [[s.nodeId, s.width.margin] as const] : [])));
  const goodValues = new Map<string, { readonly index: number; readonly value: number }[]>();
  readings.forEach((r, index) => {
    if (!widths.has(r.nodeId) || r.severity !== "good" || typeof r.value !== "number") return;
    const list = goodValues.get(r.nodeId) ?? [];
    list.push({ index, value: r.value });
    goodValues.set(r.nodeId, list);
  });
  const dropped = new Set<number>();
  for (const [nodeId, list] of goodValues) {
    const margin = widths.get(nodeId) ?? 0;
    let kept = counters[nodeId]?.value;
    list.forEach((current, i) => {
      const next = list[i + 1];
      if (kept !== undefined && next !== undefined && kept >= 0 && kept <= current.value && current.value <= next.value && next.value - kept <= margin) dropped.add(current.index);
      else kept = current.value;
    });
  }
  return readings.filter((_, index) => !dropped.has(index));
}
