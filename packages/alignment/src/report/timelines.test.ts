import { describe, expect, it } from "vitest";
import { completed, MINUTE, released, started } from "../../test/fixtures.js";
import { defineRule } from "../rule.js";
import { createTimelineState, flagOrders, toReportTimelines, trackEvent, type KeyEvents } from "./timelines.js";

const timeOf = (e: { readonly time?: string | undefined }): number => Date.parse(e.time ?? "");
const none = (): Iterable<KeyEvents> => [];

describe("trackEvent", () => {
  it("caps a timeline by dropping the least important event nearest the middle, keeping the order's start and end", () => {
    const state = createTimelineState([], { maxOrders: 5, maxEventsPerOrder: 3, maxTrackedOrders: 10 });
    const events = [0, 1, 2, 3, 4].map((m) => released("1000123", m));
    for (const e of events) trackEvent(state, e, timeOf(e), none);
    const [order] = toReportTimelines(state, []).orders;
    expect(order?.eventCount).toBe(5);
    expect(order?.events.map((e) => e.id)).toEqual([events[0]!.id, events[3]!.id, events[4]!.id]);
  });

  it("keeps the triggers and fulfilments of the rules over the events no rule reads", () => {
    const rule = defineRule({
      name: "workorder-completed",
      description: "a started work order completes within 8 h",
      deadlineMs: 8 * 60 * MINUTE,
      observe: (e) =>
        e.type === "dev.millwright.workorder.started.v1" ? { key: e.data.orderId, role: "trigger" }
        : e.type === "dev.millwright.workorder.completed.v1" ? { key: e.data.orderId, role: "fulfilment" }
        : undefined,
    });
    const state = createTimelineState([rule], { maxOrders: 5, maxEventsPerOrder: 2, maxTrackedOrders: 10 });
    const trigger = started("1000123", 0);
    const unread = released("1000123", 10);
    const fulfilment = completed("1000123", 30);
    for (const e of [trigger, unread, fulfilment]) trackEvent(state, e, timeOf(e), none);
    expect(toReportTimelines(state, []).orders[0]?.events.map((e) => e.id)).toEqual([trigger.id, fulfilment.id]);
  });

  it("drops the timelines of quiet orders at the limit, but not those a finding or an unhealthy key touches", () => {
    const state = createTimelineState([], { maxOrders: 5, maxEventsPerOrder: 5, maxTrackedOrders: 3 });
    const a = released("A", 0);
    const b = released("B", 1);
    const c = released("C", 2);
    for (const e of [a, b, c]) trackEvent(state, e, timeOf(e), none);
    flagOrders(state, { key: "A", events: [] });
    const asked: number[] = [];
    const d = released("D", 3);
    trackEvent(state, d, timeOf(d), (nowMs) => {
      asked.push(nowMs);
      return [{ key: "other", events: [{ id: b.id, source: b.source }] }];
    });
    const shown = toReportTimelines(state, []);
    expect(asked).toEqual([timeOf(d)]);
    expect(shown.orders.map((o) => o.orderId).sort()).toEqual(["A", "B", "D"]);
    expect(shown.dropped).toBe(1);
  });

  it("ranks breached orders first, then resolved, open and the rest by time, and shows at most maxOrders", () => {
    const state = createTimelineState([], { maxOrders: 3, maxEventsPerOrder: 5, maxTrackedOrders: 10 });
    for (const [order, m] of [["A", 0], ["B", 1], ["C", 2], ["D", 3]] as const) {
      const e = released(order, m);
      trackEvent(state, e, timeOf(e), none);
    }
    const due = (key: string, status: "breached" | "resolved" | "open", latenessMs: number) => ({
      due: { rule: "workorder-started", key, dueAt: new Date(0).toISOString(), status, latenessMs, reasons: [] },
      keyEvents: { key, events: [] },
    });
    const shown = toReportTimelines(state, [due("D", "open", 0), due("C", "resolved", 5 * MINUTE), due("B", "breached", MINUTE)]);
    expect(shown.orders.map((o) => o.orderId)).toEqual(["B", "C", "D"]);
    expect(shown.notShown).toBe(1);
  });
});
