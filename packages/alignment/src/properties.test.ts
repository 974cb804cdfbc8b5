import type { CanonicalEvent } from "@millwright/events";
import { event } from "@millwright/testing/arbitraries";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  batchHoldPlaced,
  batchHoldReleased,
  batchProduced,
  completed,
  confirmed,
  consumed,
  counted,
  goodsReceipt,
  holdEnded,
  holdPlaced,
  MINUTE,
  released,
  started,
  stockStatus,
  T0,
} from "../test/fixtures.js";
import { builtInRules } from "./built-in-rules.js";
import { createEngine } from "./engine.js";
import type { Finding } from "./finding.js";
import type { KeyState } from "./judge.js";
import { createMemoryStore } from "./store.js";

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
/** One batch's stock story: consumption and issues, production and receipt, a hold and the stock moves of ERP and WMS. */
const stockStory = fc.record({
  consumed: fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 1, max: 20 }), fc.constantFrom("floor" as const, "erp" as const)), { maxLength: 4 }),
  producedAt: offset,
  receivedAt: offset,
  receivedQuantity: fc.constantFrom("118", "120"),
  placedAt: offset,
  releasedAt: offset,
  stock: fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.constantFrom("blocked" as const, "quality_inspection" as const, "unrestricted" as const), fc.constantFrom("erp" as const, "wms" as const)), { maxLength: 4 }),
});
type Story<A> = A extends fc.Arbitrary<infer T> ? T : never;

const toLog = ([orders, holds, stocks]: readonly [readonly Story<typeof orderStory>[], readonly Story<typeof holdStory>[], readonly Story<typeof stockStory>[]]): CanonicalEvent[] => {
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
  stocks.forEach((b, i) => {
    const batch = `B${String(i).padStart(4, "0")}`;
    const order = String(3000000 + i);
    b.consumed.forEach(([m, q, by], k) => log.push(consumed({ orderId: order, value: String(q), minutes: m + k / 1000, by })));
    if (b.producedAt !== undefined) log.push(batchProduced(batch, "118", b.producedAt, order));
    if (b.receivedAt !== undefined) log.push(goodsReceipt(batch, b.receivedQuantity, b.receivedAt));
    if (b.placedAt !== undefined) log.push(batchHoldPlaced(`04${String(i).padStart(10, "0")}`, batch, b.placedAt));
    if (b.releasedAt !== undefined) log.push(batchHoldReleased(`04${String(i).padStart(10, "0")}`, batch, b.releasedAt));
    b.stock.forEach(([m, to, by], k) => log.push(stockStatus(batch, to, m + k / 1000, by)));
  });
  return log;
};

const log = fc.tuple(fc.array(orderStory, { maxLength: 8 }), fc.array(holdStory, { maxLength: 4 }), fc.array(stockStory, { maxLength: 4 })).map(toLog);
const rules = builtInRules({
  workOrderStarted: { deadlineMs: 120 * MINUTE },
  productionConfirmed: { deadlineMs: 60 * MINUTE, tolerance: "5" },
  goodsIssuePosted: { deadlineMs: 90 * MINUTE },
  goodsReceiptPosted: { deadlineMs: 90 * MINUTE },
  qualityHoldBlocked: { deadlineMs: 60 * MINUTE },
  qualityHoldUnblocked: { deadlineMs: 60 * MINUTE },
  qualityHoldClosed: { deadlineMs: 180 * MINUTE },
});
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
        "goodsissue-posted:missing",
        "goodsissue-posted:quantity_mismatch",
        "goodsreceipt-posted:late",
        "goodsreceipt-posted:quantity_mismatch",
        "qualityhold-blocked-erp:missing",
        "qualityhold-blocked-wms:late",
        "qualityhold-unblocked-wms:missing",
        "qualityhold-unblocked-erp:late",
      ]),
    );
  }, 60_000);

  it("replaying the same log gives the same findings, in a fresh engine and into the same engine", () => {
    fc.assert(
      fc.property(log, (events) => {
        const once = findings(events);
        expect(findings(events)).toEqual(once);
        expect(findings([...events, ...events])).toEqual(once);
      }),
      { numRuns: 150 },
    );
  }, 60_000);

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
  }, 60_000);

  it("a stream permuted within the lateness window, evaluated at watermarks, gives the findings of the ordered stream", () => {
    // Each event arrives up to W after its time; the monitor evaluates every 30 min at the
    // watermark (the latest arrival minus W), by which time every earlier fact has arrived.
    const W = 45 * MINUTE;
    const GRID = 30 * MINUTE;
    const evaluations = (arrivals: readonly { readonly event: CanonicalEvent; readonly arrival: number }[], lag: number): Finding[] => {
      const engine = createEngine({ rules });
      const queue = [...arrivals].sort((a, b) => a.arrival - b.arrival);
      const out: Finding[] = [];
      let next = 0;
      for (let g = T0; g <= END; g += GRID) {
        while (next < queue.length && (queue[next]?.arrival ?? 0) <= g + lag) engine.ingest((queue[next++] as { event: CanonicalEvent }).event);
        out.push(...engine.evaluate(g));
      }
      return out;
    };
    fc.assert(
      fc.property(
        log.chain((events) => fc.tuple(fc.constant(events), fc.array(fc.integer({ min: 0, max: W }), { minLength: events.length, maxLength: events.length }))),
        ([events, delays]) => {
          const timeOf = (e: CanonicalEvent) => Date.parse(e.time ?? "");
          // In order: each event arrives at its time, and the monitor evaluates at once.
          const inOrder = evaluations(events.map((event) => ({ event, arrival: timeOf(event) })), 0);
          // Late by up to W, in any order: the monitor evaluates W behind.
          const permuted = evaluations(events.map((event, i) => ({ event, arrival: timeOf(event) + (delays[i] ?? 0) })), W);
          expect(permuted).toEqual(inOrder);
        },
      ),
      { numRuns: 100 },
    );
  }, 60_000);

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
  }, 60_000);

  it("the in-place working set gives the findings and states of the copy-on-write path, and never changes a state it handed out", () => {
    // A store wrapped by spread has no working set: the engine takes the copy-on-write path on it.
    fc.assert(
      fc.property(
        log.chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray([...events, ...events], { minLength: 0, maxLength: events.length * 2 }))),
        ([events, extra]) => {
          const fast = createEngine({ rules });
          const plain = createMemoryStore();
          const slow = createEngine({ rules, store: { ...plain, get: plain.get, put: plain.put } });
          const handedOut: { readonly state: KeyState; readonly json: string }[] = [];
          const stream = [...extra, ...events, ...extra];
          for (const [i, e] of stream.entries()) {
            expect(fast.ingest(e)).toEqual(slow.ingest(e));
            if (i % 7 === 3) {
              const at = T0 + i * 10 * MINUTE;
              expect(fast.evaluate(at)).toEqual(slow.evaluate(at));
              for (const state of fast.store.open()) handedOut.push({ state, json: JSON.stringify(state) });
            }
          }
          expect(fast.evaluate(END)).toEqual(slow.evaluate(END));
          const byKey = (a: KeyState, b: KeyState) => (a.rule + a.key < b.rule + b.key ? -1 : 1);
          expect(JSON.stringify([...fast.store.open()].sort(byKey))).toBe(JSON.stringify([...slow.store.open()].sort(byKey)));
          for (const { state, json } of handedOut) expect(JSON.stringify(state)).toBe(json);
        },
      ),
      { numRuns: 100 },
    );
  }, 60_000);

  it("no generated canonical event makes the engine throw, and every key closes or stays bounded", () => {
    const types = [
      "dev.millwright.workorder.released.v1",
      "dev.millwright.workorder.started.v1",
      "dev.millwright.workorder.completed.v1",
      "dev.millwright.productionconfirmation.confirmed.v1",
      "dev.millwright.productioncount.counted.v1",
      "dev.millwright.qualityhold.placed.v1",
      "dev.millwright.qualityhold.released.v1",
      "dev.millwright.materialmovement.posted.v1",
      "dev.millwright.batch.created.v1",
    ] as const;
    const anyEvent = fc.oneof(...types.map((t) => event(t))) as fc.Arbitrary<CanonicalEvent>;
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 20 }), (events) => {
        const engine = createEngine({ rules });
        for (const e of events) expect(engine.ingest(e).isOk()).toBe(true);
        const first = engine.evaluate(Date.parse("2100-01-01T00:00:00Z"));
        // Far past every give-up time: each resolution is an abandonment that follows its breach.
        for (const [i, f] of first.entries()) {
          if (f.kind === "resolved") {
            expect(f.resolution).toBe("abandoned");
            expect(first[i - 1]).toMatchObject({ kind: "breached", rule: f.rule, key: f.key });
          }
        }
        expect(engine.store.size().open).toBeLessThanOrEqual(events.length);
      }),
      { numRuns: 25 },
    );
  }, 30_000);
});
