// The order-release workflow against the test SAP system (the order's record), a tiny MES over HTTP
// and the test WMS: dispatches, withdrawals and staging requests are counted at the peers.
import { readFileSync } from "node:fs";
import { mapProductionOrder } from "@millwright/adapter-sap";
import { createEvent, type CanonicalEvent } from "@millwright/events";
import { createRetryPolicy } from "@millwright/idempotency";
import type { WorkOrder } from "@millwright/model";
import { afterEach, describe, expect, it } from "vitest";
import { createOrderReleaseWorkflow, type Escalation, type OrderReleaseOutcome } from "../../src/builtin/index.js";
import { createMemoryWorkflowStore, createWorkflowRuntime, type WorkflowRuntime } from "../../src/index.js";
import type { JsonValue } from "../../src/types.js";
import { callMes, startTestMes, type TestMes } from "./mes-endpoint.js";
import { ORDERS, startPeers, type Peers } from "./peers.js";

const fixture = (JSON.parse(readFileSync(new URL("../../../adapter-sap/test/fixtures/production-order-1000123.json", import.meta.url), "utf8")) as { d: Record<string, unknown> }).d;

/** The SAP row with ConfirmedAvailableQuantity of component RM-CAST-22 set (or not). */
function sapOrder(available?: string): Record<string, unknown> {
  const components = (fixture["to_ProductionOrderComponent"] as { results: Record<string, unknown>[] }).results;
  return {
    ...fixture,
    to_ProductionOrderComponent: { results: components.map((c) => (c["Material"] === "RM-CAST-22" && available !== undefined ? { ...c, ConfirmedAvailableQuantity: available } : c)) },
  };
}

interface Setup {
  readonly peers: Peers;
  readonly mes: TestMes;
  readonly runtime: WorkflowRuntime;
  readonly reports: Escalation[];
  readonly order: WorkOrder;
  advance(ms: number): void;
  drive(): Promise<void>;
}

const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closing.splice(0)) await close();
});

async function setup(options: { readonly available?: string; readonly refuseStaging?: boolean; readonly approval?: boolean } = {}): Promise<Setup> {
  const peers = await startPeers(options.refuseStaging === true ? { wmsFaults: { refuseStagingFor: ["1000123"] } } : {});
  closing.push(() => peers.close());
  const mes = await startTestMes();
  closing.push(() => mes.close());
  peers.sap.seed(ORDERS, "A_ProductionOrder_2", [sapOrder(options.available)]);
  const order: WorkOrder = { ...mapProductionOrder(fixture, peers.sapConfig)._unsafeUnwrap(), status: "released" };
  const reports: Escalation[] = [];
  let now = Date.parse("2026-03-02T05:00:00Z");
  const workflow = createOrderReleaseWorkflow({
    sap: { client: peers.clients.orders, config: peers.sapConfig },
    mes: {
      dispatch: (call) => callMes(`${mes.url}/dispatch`, { orderId: call.order.orderId }, call.idempotencyKey),
      withdraw: (call) => callMes(`${mes.url}/withdraw`, { orderId: call.order.orderId, dispatchId: String((call.receipt as { dispatchId?: JsonValue }).dispatchId) }, call.idempotencyKey),
    },
    wms: { url: `${peers.wms.url}/requests`, destination: (o) => ({ site: o.site, storageLocation: "171A", bin: "LINE-1" }) },
    ...(options.approval === true ? { approval: { timeout: "2h" } } : {}),
    retry: createRetryPolicy({ maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 }),
    report: (r) => void reports.push(r),
  });
  const runtime = createWorkflowRuntime({ store: createMemoryWorkflowStore(), workflows: [workflow], clock: { now: () => now }, logger: { info: () => {}, warn: () => {}, error: () => {} } });
  const drive = async () => {
    for (let round = 0; round < 40; round++) {
      const ran = (await runtime.runDue())._unsafeUnwrap();
      await peers.collect();
      if (ran === 0) return;
    }
    throw new Error("the workflow did not come to rest in 40 rounds");
  };
  return { peers, mes, runtime, reports, order, advance: (ms) => void (now += ms), drive };
}

const releasedEvent = (order: WorkOrder): CanonicalEvent =>
  createEvent({ type: "dev.millwright.workorder.released.v1", source: "urn:millwright:sap:S4PCLNT100", time: "2026-03-02T06:00:00+01:00", data: order }).match((e) => e as CanonicalEvent, (e) => { throw new Error(e.message); });

async function release(s: Setup): Promise<string> {
  const delivered = (await s.runtime.deliver(releasedEvent(s.order)))._unsafeUnwrap();
  expect(delivered.started).toHaveLength(1);
  return delivered.started[0]?.id ?? "";
}

async function stateOf(s: Setup, id: string) {
  const snapshot = (await s.runtime.get(id))._unsafeUnwrap();
  return { state: snapshot.instance.state, output: snapshot.instance.output as unknown as OrderReleaseOutcome, history: snapshot.history };
}

const staging = (peers: Peers) => peers.wms.applied.filter((a) => a.type === "staging_request");

describe("order release against the test SAP system, a MES endpoint and the test WMS", () => {
  it("checks the references in SAP, dispatches once, requests staging once", async () => {
    const s = await setup();
    const id = await release(s);
    await s.drive();
    const { state, output } = await stateOf(s, id);
    expect(state).toBe("completed");
    expect(output).toMatchObject({ outcome: "staged", references: { orderId: "1000123", material: "FG-4711", operations: ["0010", "0020"], shortComponents: [] } });
    expect(s.mes.dispatched).toHaveLength(1);
    expect(s.mes.withdrawn).toEqual([]);
    expect(staging(s.peers)).toEqual([{ requestId: output.stagingRequestId, type: "staging_request" }]);
  });

  it("staging refused for good: reported, and the dispatch is withdrawn exactly once (its compensation)", async () => {
    const s = await setup({ refuseStaging: true });
    const id = await release(s);
    await s.drive();
    const { state, history } = await stateOf(s, id);
    expect(s.peers.wms.refused).toHaveLength(1);
    expect(state).toBe("compensated");
    expect(s.mes.dispatched).toHaveLength(1);
    expect(s.mes.withdrawn).toEqual([{ orderId: "1000123", key: expect.any(String), dispatchId: s.mes.dispatched[0]?.dispatchId }]);
    expect(staging(s.peers)).toEqual([]);
    expect(s.reports).toHaveLength(1);
    expect(s.reports[0]?.summary).toContain("refused staging for good");
    expect(history.filter((h) => h.type === "compensation-completed").map((h) => (h as { step: string }).step)).toEqual(["dispatch-to-mes"]);
  });

  it("a MES that answers 503 once: the retry carries the same key, one dispatch", async () => {
    const s = await setup();
    s.mes.failNext(1);
    const id = await release(s);
    await s.drive();
    expect((await stateOf(s, id)).output).toMatchObject({ outcome: "staged" });
    expect(s.mes.requests["/dispatch"]).toBe(2);
    expect(s.mes.dispatched).toHaveLength(1);
  });

  it("short components wait for the planner; an approval releases the order", async () => {
    const s = await setup({ available: "100", approval: true });
    const id = await release(s);
    await s.drive();
    const waiting = await stateOf(s, id);
    expect(waiting.state).toBe("waiting");
    expect(s.mes.dispatched).toEqual([]);
    (await s.runtime.signal(id, "planner-approval", { decision: "approve", by: "planner-1" }))._unsafeUnwrap();
    await s.drive();
    const { output } = await stateOf(s, id);
    expect(output).toMatchObject({ outcome: "staged", approval: { decision: "approve", by: "planner-1" }, references: { shortComponents: [{ material: "RM-CAST-22", open: "380", available: "100" }] } });
    expect(s.mes.dispatched).toHaveLength(1);
    expect(staging(s.peers)).toHaveLength(1);
  });

  it("short components rejected by the planner: nothing dispatched, nothing staged, reported", async () => {
    const s = await setup({ available: "100", approval: true });
    const id = await release(s);
    await s.drive();
    (await s.runtime.signal(id, "planner-approval", { decision: "reject", reason: "castings on QI hold" }))._unsafeUnwrap();
    await s.drive();
    const { state, output } = await stateOf(s, id);
    expect(state).toBe("completed");
    expect(output).toMatchObject({ outcome: "not-approved", approval: { decision: "reject", reason: "castings on QI hold" } });
    expect(s.mes.dispatched).toEqual([]);
    expect(s.peers.wms.received).toEqual([]);
    expect(s.reports).toHaveLength(1);
  });

  it("a release whose material is not SAP's fails the reference check: no dispatch, no staging", async () => {
    const s = await setup();
    // SAP's record of the order names another material than the release carries.
    s.peers.sap.seed(ORDERS, "A_ProductionOrder_2", [{ ...sapOrder(), Material: "FG-9999" }]);
    const id = await release(s);
    await s.drive();
    const { state, history } = await stateOf(s, id);
    expect(state).toBe("compensated");
    const failed = history.find((h) => h.type === "step-failed");
    expect(failed).toMatchObject({ step: "check-references", willRetry: false, error: { message: expect.stringContaining('material "FG-4711" of the release is not the ERP\'s material "FG-9999"') } });
    expect(s.mes.requests).toEqual({});
    expect(s.peers.wms.received).toEqual([]);
  });
});
