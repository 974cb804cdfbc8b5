import { createEvent, type CreatedEvent } from "@millwright/events";
import type { CounterReading, MachineState, ProductionCount } from "@millwright/model";
import type { AdapterConfig, Signal } from "./config.js";
import { computeCounterDelta, isCounterValue } from "./counter.js";
import type { AdapterIssue } from "./errors.js";
import { toMappedState } from "./state-mapping.js";

/** OPC UA status severity of a value. */
export type StatusSeverity = "good" | "uncertain" | "bad";

/** One value of a monitored signal as the server reported it. */
export interface SignalReading {
  readonly nodeId: string;
  readonly value: unknown;
  /** Source timestamp in microseconds since the Unix epoch. */
  readonly sourceMicros: number;
  readonly severity: StatusSeverity;
  /** The status code's name, e.g. `Good`, `BadSensorFailure`. */
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
  readonly issues: readonly AdapterIssue[];
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
  const ms = Math.floor(micros / 1000);
  const sub = micros - ms * 1000;
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${String(sub).padStart(3, "0")}Z`;
}

function orderAt(orders: readonly OrderChange[], micros: number): string | null {
  let active: string | null = null;
  for (const change of orders) {
    if (change.micros <= micros) active = change.orderId;
    else break;
  }
  return active;
}

function rank(signal: Signal | undefined): number {
  if (signal === undefined) return 9;
  if (signal.role === "order_number") return 0;
  if (signal.role === "machine_state") return 1;
  return 2;
}

function issue<TCode extends AdapterIssue["code"]>(code: TCode, signal: string, value: unknown, message: string): AdapterIssue {
  return { code, path: `/signals/${signal}`, signal, value, message } as AdapterIssue;
}

interface Mutable {
  counters: Record<string, StoredCounter>;
  windowEndMicros: number | null;
  carry: number;
  lastState: LineState["lastState"];
  orders: OrderChange[];
  resetting: ResettingPeriod | null;
}

interface PendingCounter {
  readonly signal: Extract<Signal, { role: "good_count" | "defective_count" | "processed_count" }>;
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
export function applyReadings(config: AdapterConfig, state: LineState, readings: readonly SignalReading[]): LineStep {
  const bySignal = new Map<string, Signal>(config.signals.map((s) => [s.nodeId, s]));
  const sorted = readings
    .map((reading, index) => ({ reading, index, signal: bySignal.get(reading.nodeId) }))
    .sort((a, b) => a.reading.sourceMicros - b.reading.sourceMicros || rank(a.signal) - rank(b.signal) || a.index - b.index);
  const s: Mutable = {
    counters: { ...state.counters },
    windowEndMicros: state.windowEndMicros,
    carry: state.carry,
    lastState: state.lastState,
    orders: [...state.orders],
    resetting: state.resetting ?? null,
  };
  const events: AdapterEvent[] = [];
  const issues: AdapterIssue[] = [];
  const processValues: ProcessValue[] = [];
  let window: PendingCounter[] = [];
  let windowMicros = 0;
  const flush = (): void => {
    if (window.length > 0) closeWindow(config, s, window, windowMicros, events, issues);
    window = [];
  };
  for (const { reading, signal } of sorted) {
    if (signal === undefined) continue;
    if (window.length > 0 && (reading.sourceMicros !== windowMicros || signal.role === "order_number" || signal.role === "machine_state")) flush();
    switch (signal.role) {
      case "order_number":
        applyOrder(s, signal.nodeId, reading, issues);
        break;
      case "machine_state":
        applyState(config, s, signal, reading, events, issues);
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
  flush();
  return {
    state: { counters: s.counters, windowEndMicros: s.windowEndMicros, carry: s.carry, lastState: s.lastState, orders: s.orders, resetting: s.resetting },
    events,
    issues,
    processValues,
  };
}

function applyOrder(s: Mutable, nodeId: string, reading: SignalReading, issues: AdapterIssue[]): void {
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
  s.orders.push({ orderId, micros: reading.sourceMicros });
  if (s.orders.length > MAX_ORDERS) s.orders.splice(0, s.orders.length - MAX_ORDERS);
}

function stateKind(signal: Extract<Signal, { role: "machine_state" }>): string {
  switch (signal.mapping.kind) {
    case "packml":
      return "PackMLBaseStateMachineType";
    case "machinery":
      return "MachineryItemState_StateMachineType";
    case "custom":
      return "StateVariable";
  }
}

function applyState(config: AdapterConfig, s: Mutable, signal: Extract<Signal, { role: "machine_state" }>, reading: SignalReading, events: AdapterEvent[], issues: AdapterIssue[]): void {
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
  if (last !== null && last.key === key) return;
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
    equipment: config.equipment,
    ...data,
    since,
    ...(orderId === null ? {} : { order: { orderId } }),
    revision: String(revision),
    sourceRefs: [{ system: config.sourceSystem, kind: stateKind(signal), key: signal.nodeId }],
  };
  const created = createEvent({ type: "dev.millwright.machinestate.changed.v1", source: config.sourceSystem, data: entity, time: since });
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

function applyCounter(s: Mutable, signal: Extract<Signal, { role: "good_count" | "defective_count" | "processed_count" }>, reading: SignalReading, issues: AdapterIssue[]): PendingCounter | undefined {
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
    s.counters[signal.nodeId] = { value: to, micros: reading.sourceMicros };
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
  s.counters[signal.nodeId] = { value: to, micros: reading.sourceMicros };
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

function closeWindow(config: AdapterConfig, s: Mutable, window: readonly PendingCounter[], micros: number, events: AdapterEvent[], issues: AdapterIssue[]): void {
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
  if (config.signals.some((sig) => sig.role === "processed_count")) {
    const net = processed - defective - carry;
    good = Math.max(0, net);
    carry = Math.max(0, -net);
  }
  const orderId = orderAt(s.orders, micros);
  const windowEnd = microsToTimestamp(endMicros);
  const entity: ProductionCount = {
    equipment: config.equipment,
    ...(orderId === null ? {} : { order: { orderId } }),
    goodQuantity: { value: String(good), unit: config.unit },
    defectiveQuantity: { value: String(defective), unit: config.unit },
    windowStart: microsToTimestamp(startMicros),
    windowEnd,
    counters: window.map((p) => p.reading),
    revision: String(endMicros),
    sourceRefs: countSources(config, window),
  };
  const created = createEvent({ type: "dev.millwright.productioncount.counted.v1", source: config.sourceSystem, data: entity, time: windowEnd });
  if (created.isErr()) {
    issues.push(issue("invalid_entity", config.countObjectNodeId ?? window[0]?.signal.nodeId ?? "", entity, created.error.message));
    return;
  }
  events.push(created.value);
  s.windowEndMicros = endMicros;
  s.carry = carry;
}

/** The count object, or each counter variable when the counters are plain variables. */
function countSources(config: AdapterConfig, window: readonly PendingCounter[]): ProductionCount["sourceRefs"] {
  if (config.countObjectNodeId !== undefined) {
    return [{ system: config.sourceSystem, kind: config.countObjectKind ?? "PackMLAdminObjectType", key: config.countObjectNodeId }];
  }
  // Every configured counter, in configuration order, so that all windows name the same sources.
  const counters = config.signals.filter((signal) => signal.role === "good_count" || signal.role === "defective_count" || signal.role === "processed_count");
  const [first = window[0]?.signal, ...rest] = counters;
  if (first === undefined) throw new TypeError("a count window has at least one counter reading");
  const ref = (signal: Signal) => ({ system: config.sourceSystem, kind: "CounterVariable", key: signal.nodeId });
  return [ref(first), ...rest.map(ref)];
}

/**
 * Drops intermediate Good readings of a counter where that changes no count: a reading lying
 * between the last kept value and the next reading, all non-negative and the whole rise within the
 * margin. Readings around a reset, a rollover, a jump or a sign change are kept, and so is the
 * first reading of a counter the state has no value for (its baseline). The runtime uses it when
 * readings pile up behind a slow handler; internal, not part of the public API.
 *
 * @param config - the validated adapter configuration
 * @param counters - the stored counter readings the batch continues from
 * @param readings - the waiting readings, in arrival order
 * @returns the readings without the intermediate ones, which count the same parts
 */
export function mergeCounterReadings(config: AdapterConfig, counters: LineState["counters"], readings: readonly SignalReading[]): SignalReading[] {
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
