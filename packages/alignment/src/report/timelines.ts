import type { CanonicalEvent } from "@millwright/events";
import type { AlignmentRule } from "../rule.js";
import type { ReportStatus } from "./report.js";

/** One event on a work order's timeline. */
export interface TimelineEvent {
  readonly id: string;
  readonly time: string;
  readonly type: string;
  /** The CloudEvents `source`: the system that said it. */
  readonly source: string;
}

/** A due time on a work order's timeline: an expectation of a rule, and where it stands. */
export interface TimelineDue {
  readonly rule: string;
  readonly key: string;
  readonly dueAt: string;
  /** `open`: not due yet and not fulfilled. */
  readonly status: ReportStatus | "open";
  readonly latenessMs: number;
  readonly reasons: readonly string[];
}

/** The timeline of one work order: its events (bounded) and the due times of the rules touching it. */
export interface OrderTimeline {
  readonly orderId: string;
  /** In time order; at most `maxEventsPerOrder`, keeping triggers and fulfilments first. */
  readonly events: readonly TimelineEvent[];
  /** How many events of the order were read (more than `events.length` when capped). */
  readonly eventCount: number;
  readonly dues: readonly TimelineDue[];
}

/** The work order timelines and how they were bounded. */
export interface ReportTimelines {
  /** Breached orders first (worst lateness first), then resolved, then open, then the rest by time. */
  readonly orders: readonly OrderTimeline[];
  readonly maxOrders: number;
  readonly maxEventsPerOrder: number;
  /** Work orders whose timelines were kept but not shown, beyond `maxOrders`. */
  readonly notShown: number;
  /** Healthy work orders (no finding, every key met on time) whose timelines were dropped while reading, to bound memory. */
  readonly dropped: number;
  /** Events of work orders that were not tracked because too many orders were open or had findings. */
  readonly untrackedEvents: number;
}

/** An event named by source and id, as findings and key states carry them. */
interface EventRef {
  readonly id: string;
  readonly source: string;
}

/** A rule key and the events behind it: how a finding or an open key is tied to work orders. */
export interface KeyEvents {
  readonly key: string;
  readonly events: readonly EventRef[];
}

interface TrackedEvent extends TimelineEvent {
  readonly timeMs: number;
  /** 2: a trigger or fulfilment of some rule; 1: read by some rule; 0: read by none. */
  readonly priority: number;
}

interface TrackedOrder {
  readonly orderId: string;
  readonly events: TrackedEvent[];
  eventCount: number;
  firstMs: number;
  flagged: boolean;
}

/** The bounds of the timelines: how many are shown, how many events each keeps, how many are tracked. */
export interface TimelineLimits {
  readonly maxOrders: number;
  readonly maxEventsPerOrder: number;
  readonly maxTrackedOrders: number;
}

/**
 * The work order timelines kept while a log is read. No I/O and no engine: the report feeds it
 * events and findings. It is updated in place (maps of orders and events), unlike the event tally,
 * so that each event costs O(1) on logs of millions of events.
 */
export interface TimelineState {
  readonly rules: readonly AlignmentRule[];
  readonly limits: TimelineLimits;
  readonly tracked: Map<string, TrackedOrder>;
  /** Event source+id → orderId, for the kept timeline events. */
  readonly index: Map<string, string>;
  dropped: number;
  untrackedEvents: number;
  /** The tracked-order count at which quiet orders are dropped next. */
  nextShrink: number;
}

const eventKey = (source: string, id: string): string => `${source}\u0000${id}`;
const iso = (ms: number): string => new Date(ms).toISOString();

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The work order an event is about: `data.orderId`, `data.order.orderId` or `data.scope.order.orderId`. */
function orderIdOf(event: CanonicalEvent): string | undefined {
  const data: unknown = event.data;
  if (!isRecord(data)) return undefined;
  if (typeof data["orderId"] === "string") return data["orderId"];
  const order = data["order"];
  if (isRecord(order) && typeof order["orderId"] === "string") return order["orderId"];
  const scope = data["scope"];
  const scoped = isRecord(scope) ? scope["order"] : undefined;
  if (isRecord(scoped) && typeof scoped["orderId"] === "string") return scoped["orderId"];
  return undefined;
}

/** 2 for a trigger or fulfilment of some rule, 1 for an event some rule reads, 0 otherwise. */
function priorityOf(rules: readonly AlignmentRule[], event: CanonicalEvent): number {
  let priority = 0;
  for (const rule of rules) {
    const role = rule.observe(event)?.role;
    if (role === "trigger" || role === "fulfilment") return 2;
    if (role !== undefined) priority = 1;
  }
  return priority;
}

/**
 * Creates the empty timelines of a report.
 *
 * @param rules - the report's rules (they rank the events a capped timeline keeps)
 * @param limits - the bounds of the timelines
 * @returns the state before the first event
 * @example
 * const timelines = createTimelineState(builtInRules(), { maxOrders: 50, maxEventsPerOrder: 40, maxTrackedOrders: 2_000 });
 */
export function createTimelineState(rules: readonly AlignmentRule[], limits: TimelineLimits): TimelineState {
  return { rules, limits, tracked: new Map(), index: new Map(), dropped: 0, untrackedEvents: 0, nextShrink: limits.maxTrackedOrders };
}

/**
 * The tracked work orders a rule key touches: the key itself when it is an order id, and the
 * orders of its kept events.
 *
 * @param state - the timelines
 * @param keyEvents - the key and its events
 * @returns the order ids
 * @example
 * ordersOf(timelines, { key: finding.key, events: finding.evidence });
 */
function ordersOf(state: TimelineState, keyEvents: KeyEvents): Set<string> {
  const orders = new Set<string>();
  if (state.tracked.has(keyEvents.key)) orders.add(keyEvents.key);
  for (const e of keyEvents.events) {
    const order = state.index.get(eventKey(e.source, e.id));
    if (order !== undefined) orders.add(order);
  }
  return orders;
}

/**
 * Marks the work orders a finding touches, so that their timelines are never dropped.
 *
 * @param state - the timelines
 * @param keyEvents - the finding's key and evidence
 * @example
 * flagOrders(timelines, { key: finding.key, events: finding.evidence });
 */
export function flagOrders(state: TimelineState, keyEvents: KeyEvents): void {
  for (const order of ordersOf(state, keyEvents)) {
    const t = state.tracked.get(order);
    if (t !== undefined) t.flagged = true;
  }
}

// Drops the timelines of orders that are healthy so far: no finding yet, and every key touching
// them closed or fulfilled on time with matching quantities. Runs when the tracked orders reach
// the limit, and again only after a quarter of the limit more, so it costs O(open keys) rarely.
function shrink(state: TimelineState, unhealthyKeys: Iterable<KeyEvents>): void {
  const live = new Set<string>();
  for (const keyEvents of unhealthyKeys) for (const order of ordersOf(state, keyEvents)) live.add(order);
  for (const order of [...state.tracked.values()]) {
    if (!order.flagged && !live.has(order.orderId)) {
      forget(state, order);
      state.dropped += 1;
    }
  }
  state.nextShrink = state.tracked.size + Math.max(1, Math.ceil(state.limits.maxTrackedOrders / 4));
}

function forget(state: TimelineState, order: TrackedOrder): void {
  for (const e of order.events) state.index.delete(eventKey(e.source, e.id));
  state.tracked.delete(order.orderId);
}

/**
 * Adds an event to its work order's timeline (events without an order id are not tracked). A
 * timeline over `maxEventsPerOrder` loses its least important event nearest the middle; when
 * `maxTrackedOrders` orders are tracked, the quiet ones are dropped first, and past twice that
 * the event is only counted as untracked.
 *
 * @param state - the timelines
 * @param event - the event, already taken by the engine
 * @param timeMs - its time in ms
 * @param unhealthyKeys - the open keys that are not (yet) fulfilled on time with agreeing
 *   quantities, as of `timeMs`; called only when quiet orders must be dropped
 * @example
 * trackEvent(timelines, event, Date.parse(event.time), (nowMs) => unhealthyOpenKeys(nowMs));
 */
export function trackEvent(state: TimelineState, event: CanonicalEvent, timeMs: number, unhealthyKeys: (nowMs: number) => Iterable<KeyEvents>): void {
  const orderId = orderIdOf(event);
  if (orderId === undefined) return;
  const { maxTrackedOrders, maxEventsPerOrder } = state.limits;
  let order = state.tracked.get(orderId);
  if (order === undefined) {
    if (state.tracked.size >= maxTrackedOrders && state.tracked.size >= state.nextShrink) shrink(state, unhealthyKeys(timeMs));
    if (state.tracked.size >= maxTrackedOrders * 2) {
      state.untrackedEvents += 1;
      return;
    }
    order = { orderId, events: [], eventCount: 0, firstMs: timeMs, flagged: false };
    state.tracked.set(orderId, order);
  }
  const k = eventKey(event.source, event.id);
  if (state.index.has(k)) return; // a duplicate
  order.eventCount += 1;
  order.firstMs = Math.min(order.firstMs, timeMs);
  const next: TrackedEvent = { id: event.id, time: event.time ?? iso(timeMs), type: event.type, source: event.source, timeMs, priority: priorityOf(state.rules, event) };
  let i = order.events.length;
  while (i > 0 && (order.events[i - 1] as TrackedEvent).timeMs > timeMs) i--;
  order.events.splice(i, 0, next);
  state.index.set(k, orderId);
  if (order.events.length > maxEventsPerOrder) {
    // Drop the least important event nearest the middle: the start and the end of a work order
    // and its triggers and fulfilments stay visible.
    const lowest = Math.min(...order.events.map((e) => e.priority));
    const middle = (order.events.length - 1) / 2;
    let victim = -1;
    for (let j = 0; j < order.events.length; j++) {
      if ((order.events[j] as TrackedEvent).priority !== lowest) continue;
      if (victim === -1 || Math.abs(j - middle) < Math.abs(victim - middle)) victim = j;
    }
    const [gone] = order.events.splice(victim, 1);
    if (gone !== undefined) state.index.delete(eventKey(gone.source, gone.id));
  }
}

/** A due time and the key and events that tie it to work orders. */
export interface PlacedDue {
  readonly due: TimelineDue;
  readonly keyEvents: KeyEvents;
}

/**
 * The timelines as the report shows them: each kept order with the due times touching it, breached
 * orders first (worst lateness first), then resolved, then open, then the rest by first event time;
 * at most `maxOrders`.
 *
 * @param state - the timelines after the last event
 * @param dues - the due times of every finding and open key
 * @returns the report's timelines
 * @example
 * const shown = toReportTimelines(timelines, dues);
 */
export function toReportTimelines(state: TimelineState, dues: Iterable<PlacedDue>): ReportTimelines {
  const { maxOrders, maxEventsPerOrder } = state.limits;
  const byOrder = new Map<string, TimelineDue[]>();
  for (const { due, keyEvents } of dues) {
    for (const order of ordersOf(state, keyEvents)) {
      const list = byOrder.get(order) ?? [];
      list.push(due);
      byOrder.set(order, list);
    }
  }
  const rank = (order: TrackedOrder): readonly [number, number] => {
    const list = byOrder.get(order.orderId) ?? [];
    const worst = (status: TimelineDue["status"]): number => Math.max(-1, ...list.filter((d) => d.status === status).map((d) => d.latenessMs));
    if (list.some((d) => d.status === "breached")) return [0, -worst("breached")];
    if (list.some((d) => d.status === "resolved")) return [1, -worst("resolved")];
    if (list.some((d) => d.status === "open")) return [2, order.firstMs];
    return [3, order.firstMs];
  };
  const ranked = [...state.tracked.values()]
    .map((order) => ({ order, rank: rank(order) }))
    .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || a.order.firstMs - b.order.firstMs || (a.order.orderId < b.order.orderId ? -1 : 1));
  const orders: OrderTimeline[] = ranked.slice(0, maxOrders).map(({ order }) => ({
    orderId: order.orderId,
    events: order.events.map(({ id, time, type, source }) => ({ id, time, type, source })),
    eventCount: order.eventCount,
    dues: (byOrder.get(order.orderId) ?? []).sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : 0)),
  }));
  return { orders, maxOrders, maxEventsPerOrder, notShown: Math.max(0, state.tracked.size - orders.length), dropped: state.dropped, untrackedEvents: state.untrackedEvents };
}
