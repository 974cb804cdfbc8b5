import type { CanonicalEvent } from "@millwright/events";
import { event } from "@millwright/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { completed, confirmed, counted, holdEnded, holdPlaced, MINUTE, released, started, T0 } from "../test/fixtures.js";
import { builtInRules } from "./built-in-rules.js";
import { createEngine } from "./engine.js";
import type { Finding } from "./finding.js";

/** One order's or hold's story: which facts happen and when (minutes after T0); undefined: never. */
const offset = fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined });
const orderStory = fc.record({
  releasedAt: offset,
  startedAt: offset,
  completedAt: offset,
  counts: fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 50 })), { maxLength: 3 }),
  confirmations: fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 100 }), fc.boolean()), { maxLength: 2 }),
});
const holdStory = fc.record({ placedAt: offset, endedAt: offset, status: fc.constantFrom("released" as const, "rejected" as const, "cancelled" as const) });

const toLog = ([orders, holds]: readonly [readonly (typeof orderStory extends fc.Arbitrary<infer T> ? T : never)[], readonly (typeof holdStory extends fc.Arbitrary<infer T> ? T : never)[]]): CanonicalEvent[] => {
  const log: CanonicalEvent[] = [];
  orders.forEach((o, i) => {
    const id = String(2000000 + i);
    if (o.releasedAt !== undefined) log.push(released(id, o.releasedAt));
    if (o.startedAt !== undefined) log.push(started(id, o.startedAt));
    if (o.completedAt !== undefined) log.push(completed(id, o.completedAt));
    o.counts.forEach(([m, q], k) => log.push(counted(id, String(q), m + k / 1000)));
    o.confirmations.forEach(([m, q, isFinal], k) => log.push(confirmed({ orderId: id, n: k + 1, yieldValue: String(q), isFinal, minutes: m })));
  });
  holds.forEach((h, i) => {
    const id = `01000000${String(i).padStart(4, "0")}`;
    if (h.placedAt !== undefined) log.push(holdPlaced(id, h.placedAt));
    if (h.endedAt !== undefined) log.push(holdEnded(id, h.endedAt, h.status));
  });
  return log;
};

const log = fc.tuple(fc.array(orderStory, { maxLength: 8 }), fc.array(holdStory, { maxLength: 4 })).map(toLog);
const rules = builtInRules({ workOrderStarted: { deadlineMs: 120 * MINUTE }, productionConfirmed: { deadlineMs: 60 * MINUTE, tolerance: "5" }, qualityHoldClosed: { deadlineMs: 180 * MINUTE } });
const END = T0 + 2000 * MINUTE;

function findings(events: readonly CanonicalEvent[], now = END): readonly Finding[] {
  const engine = createEngine({ rules });
  for (const e of events) engine.ingest(e);
  return engine.evaluate(now);
}

describe("properties", () => {
  it("the generated logs are not vacuous: they breach every rule in several ways", () => {
    const seen = new Set<string>();
    for (const events of fc.sample(log, { numRuns: 200, seed: 1 })) {
      for (const f of findings(events)) seen.add(`${f.rule}:${f.kind === "breached" ? f.reasons.join("+") : f.kind}`);
    }
    expect([...seen]).toEqual(
      expect.arrayContaining([
        "workorder-started:missing",
        "workorder-started:late",
        "productionconfirmation-posted:missing",
        "productionconfirmation-posted:quantity_mismatch",
        "qualityhold-closed:missing",
        "qualityhold-closed:late",
      ]),
    );
  });

  it("replaying the same log gives the same findings, in a fresh engine and into the same engine", () => {
    fc.assert(
      fc.property(log, (events) => {
        const once = findings(events);
        expect(findings(events)).toEqual(once);
        expect(findings([...events, ...events])).toEqual(once);
      }),
      { numRuns: 150 },
    );
  });

  it("any permutation of the log, with deadlines evaluated at the end, gives the same findings", () => {
    fc.assert(
      fc.property(
        log.chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }))),
        ([events, permuted]) => {
          expect(findings(permuted)).toEqual(findings(events));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("duplicates anywhere in the log, in any order, change no finding", () => {
    fc.assert(
      fc.property(
        log.chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray([...events, ...events], { minLength: 0, maxLength: events.length * 2 }))),
        ([events, extra]) => {
          expect(findings([...extra, ...events, ...extra])).toEqual(findings(events));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("no generated canonical event makes the engine throw, and every key closes or stays bounded", () => {
    const types = [
      "dev.millwright.workorder.released.v1",
      "dev.millwright.workorder.started.v1",
      "dev.millwright.workorder.completed.v1",
      "dev.millwright.productionconfirmation.confirmed.v1",
      "dev.millwright.productioncount.counted.v1",
      "dev.millwright.qualityhold.placed.v1",
      "dev.millwright.qualityhold.released.v1",
    ] as const;
    const anyEvent = fc.oneof(...types.map((t) => event(t))) as fc.Arbitrary<CanonicalEvent>;
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 20 }), (events) => {
        const engine = createEngine({ rules });
        for (const e of events) expect(engine.ingest(e).isOk()).toBe(true);
        const first = engine.evaluate(Date.parse("2100-01-01T00:00:00Z"));
        expect(first.every((f) => f.kind === "breached")).toBe(true);
        expect(engine.store.size().open).toBeLessThanOrEqual(events.length);
      }),
      { numRuns: 25 },
    );
  }, 30_000);
});
