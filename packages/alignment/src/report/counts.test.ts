import { describe, expect, it } from "vitest";
import { countEvent, EMPTY_TALLY, toEventCounts, type EventStep } from "./counts.js";

const T = Date.parse("2026-03-02T06:00:00Z");
const rejection = (i: number): EventStep => ({
  kind: "rejected",
  event: { id: `e${i}`, source: "urn:millwright:mes:line-1", error: { code: "missing_time", path: "/time", message: "the event has no time" } },
});

describe("countEvent", () => {
  it("counts a use, a duplicate, an unread event, a late one and a refusal, and spans the times taken", () => {
    const steps: EventStep[] = [
      { kind: "ingested", matched: 2, duplicates: 0, timeMs: T + 60_000 },
      { kind: "ingested", matched: 2, duplicates: 2, timeMs: T + 60_000 },
      { kind: "ingested", matched: 2, duplicates: 1, timeMs: T + 120_000 },
      { kind: "ingested", matched: 0, duplicates: 0, timeMs: T },
      { kind: "after_at" },
      rejection(1),
    ];
    const tally = steps.reduce(countEvent, EMPTY_TALLY);
    expect(toEventCounts(tally)).toEqual({
      read: 6,
      used: 2,
      duplicates: 1,
      rejected: 1,
      afterAt: 1,
      first: "2026-03-02T06:00:00.000Z",
      last: "2026-03-02T06:02:00.000Z",
    });
    expect(tally.rejectedEvents.map((e) => e.id)).toEqual(["e1"]);
  });

  it("lists the first 20 refusals and counts them all, leaving the earlier tallies as they were", () => {
    const tallies = [EMPTY_TALLY];
    for (let i = 0; i < 25; i++) tallies.push(countEvent(tallies[tallies.length - 1]!, rejection(i)));
    const last = tallies[tallies.length - 1]!;
    expect(last.rejected).toBe(25);
    expect(last.rejectedEvents.map((e) => e.id)).toEqual(Array.from({ length: 20 }, (_, i) => `e${i}`));
    expect(tallies[3]!.rejectedEvents).toHaveLength(3);
    expect(EMPTY_TALLY.rejectedEvents).toHaveLength(0);
  });

  it("shows no time range before the first event taken", () => {
    expect(toEventCounts(countEvent(EMPTY_TALLY, { kind: "after_at" }))).toEqual({ read: 1, used: 0, duplicates: 0, rejected: 0, afterAt: 1 });
  });
});
