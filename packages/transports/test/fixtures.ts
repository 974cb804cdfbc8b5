import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createEvent, type CanonicalEvent } from "@millwright/events";
import { createInbox, createMemoryStore, type Inbox, type MemoryTransaction } from "@millwright/idempotency";

const SCHEMAS = join(import.meta.dirname, "..", "..", "..", "schemas");
const workOrder = JSON.parse(readFileSync(join(SCHEMAS, "examples/work-order/completed-order-with-confirmed-yield-and-scrap.json"), "utf8")) as Record<string, unknown>;
const machineState = JSON.parse(readFileSync(join(SCHEMAS, "examples/machine-state/packml-line-executing.json"), "utf8")) as Record<string, unknown>;

/**
 * `count` distinct work-order events over `partitions` orders, each order's revisions increasing,
 * so the events of one partition have an order to keep.
 */
export function workOrderEvents(count: number, options: { readonly partitions?: number; readonly run?: string } = {}): CanonicalEvent[] {
  const partitions = options.partitions ?? count;
  const run = options.run ?? "0";
  const out: CanonicalEvent[] = [];
  for (let i = 0; i < count; i++) {
    const order = String(1_000_000 + (i % partitions));
    const revision = String(20_260_225_200_512 + Math.floor(i / partitions) + Number(run) * 1_000_000);
    const data = { ...workOrder, orderId: order, revision };
    out.push(createEvent({ type: "dev.millwright.workorder.completed.v1", source: `urn:millwright:test:${run}`, data: data as never, time: "2026-02-25T20:05:12+01:00" })._unsafeUnwrap());
  }
  return out;
}

/**
 * For each partition of {@link workOrderEvents} (event `i` is in partition `i % partitions`), the
 * publish positions of `ids` in that partition, in the order `ids` lists them: a partition's
 * effects kept their order when its list is ascending.
 */
export function positionsByPartition(events: readonly CanonicalEvent[], ids: readonly string[], partitions: number): number[][] {
  const position = new Map(events.map((e, i) => [e.id, i]));
  const out: number[][] = Array.from({ length: partitions }, () => []);
  for (const id of ids) {
    const i = position.get(id);
    if (i === undefined) throw new Error(`${id} is not one of the published events`);
    out[i % partitions]!.push(i);
  }
  return out;
}

/** A machine-state event of a line, at a revision. */
export function machineStateEvent(revision: number, availability = "executing"): CanonicalEvent {
  const data = { ...machineState, availability, revision: String(1_772_820_133_482_000 + revision) };
  return createEvent({ type: "dev.millwright.machinestate.changed.v1" as never, source: "urn:millwright:test:opcua", data: data as never, time: "2026-03-06T10:02:13.482-08:00" })._unsafeUnwrap();
}

/** An inbox over a memory store and a record of every effect applied, by event id, in order. */
export function effects(): { inbox: Inbox<CanonicalEvent, MemoryTransaction>; applied: string[]; counts: Map<string, number>; handler: (event: CanonicalEvent, ctx: { tx: MemoryTransaction }) => void } {
  const inbox = createInbox<MemoryTransaction, CanonicalEvent>(createMemoryStore());
  const applied: string[] = [];
  const counts = new Map<string, number>();
  return {
    inbox,
    applied,
    counts,
    handler: (event, { tx }) => {
      tx.defer(() => {
        applied.push(event.id);
        counts.set(event.id, (counts.get(event.id) ?? 0) + 1);
      });
    },
  };
}

/** Unique names for broker objects of one test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Polls until `check` holds or `ms` pass; fails loudly with `what`. */
export async function waitFor(check: () => boolean, ms: number, what: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
