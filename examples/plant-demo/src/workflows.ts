/**
 * The workflows of the demo (@millwright/workflows): the built-in order-release and quality-hold
 * workflows on the embedded SQLite store, against the demo's own peers: the test SAP system, the
 * MES's dispatch list and the test WMS. The runtime runs on the story's clock: `drive()` runs what
 * is due, lets the WMS deliver its webhooks, and repeats until nothing is left to do.
 */
import type { SapAdapterConfig, SapClient } from "@millwright/adapter-sap";
import type { BreachedFinding } from "@millwright/alignment";
import type { CanonicalEvent } from "@millwright/events";
import { createRetryPolicy, permanent } from "@millwright/idempotency";
import type { QualityHold, WorkOrder } from "@millwright/model";
import { createWorkflowRuntime, type HistoryEntry, type InstanceSnapshot, type JsonValue, type WorkflowRuntime } from "@millwright/workflows";
import { createOrderReleaseWorkflow, createQualityHoldWorkflow, type Escalation } from "@millwright/workflows/builtin";
import { createSqliteWorkflowStore, openSqliteDatabase } from "@millwright/workflows/sqlite";
import { err, ok } from "neverthrow";
import type { MesConsumer } from "./mes-consumer.js";

/** What the demo's workflows need. */
export interface PlantWorkflowOptions {
  /** The SQLite file of the workflow store (instances, history, signals, timers). */
  readonly database: string;
  readonly sap: { readonly orders: SapClient; readonly materialDocuments: SapClient; readonly config: SapAdapterConfig };
  readonly mes: MesConsumer;
  /** The WMS's request endpoint, and the `sourceRefs` system its movements carry. */
  readonly wms: { readonly url: string; readonly system: string; readonly idle: () => Promise<void> };
  /** Where the line-side components of an order go. */
  readonly lineSide: (order: WorkOrder) => { readonly site: { readonly id: string }; readonly storageLocation?: string; readonly bin?: string };
  /** The hold a breach of `qualityhold-unblocked-wms` is about (the demo has one). */
  readonly releasedHold: (finding: BreachedFinding) => QualityHold;
  /** The story's clock, ms since the epoch. */
  readonly now: () => number;
  /** Lines of the timeline. */
  readonly log: (who: string, text: string) => void;
}

/** The running workflows. */
export interface PlantWorkflows {
  readonly runtime: WorkflowRuntime;
  /** Reports the workflows made (staging refused, escalations), in order. */
  readonly reports: readonly Escalation[];
  /**
   * Hands a canonical event to the workflows: it starts instances (`onEvent`) and wakes waits for
   * its type at the next {@link drive} round.
   */
  hear(event: CanonicalEvent): void;
  /** Runs everything due, and the WMS's webhooks it causes, until the workflows rest. */
  drive(): Promise<void>;
  close(): Promise<void>;
}

/** Plant time (UTC−8) of an instant: `HH:MM:SS` on the story day (2026-03-02), `MM-DD HH:MM:SS` on another. */
export function plantClock(ms: number): string {
  const local = new Date(ms - 8 * 3_600_000).toISOString();
  return local.startsWith("2026-03-02") ? local.slice(11, 19) : `${local.slice(5, 10)} ${local.slice(11, 19)}`;
}

/**
 * Starts the workflow runtime of the demo on a SQLite file.
 *
 * @param options - the store's file, the peers and the story's clock
 * @returns the runtime and its drive loop
 * @example
 * const workflows = startPlantWorkflows({ database: "out/workflows.db", sap, mes, wms, lineSide, releasedHold, now: () => storyNow, log });
 */
export function startPlantWorkflows(options: PlantWorkflowOptions): PlantWorkflows {
  const opened = openSqliteDatabase(options.database);
  if (opened.isErr()) throw new Error(`the workflow database cannot be opened: ${opened.error.message}`, { cause: opened.error });
  const db = opened.value;
  const store = createSqliteWorkflowStore(db);
  const reports: Escalation[] = [];
  const report = (e: Escalation) => {
    reports.push(e);
    options.log("WF", `report: ${e.summary}`);
  };
  // Short delays: the demo's peers are in this process; a production policy waits longer.
  const retry = createRetryPolicy({ maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 });
  const { mes } = options;
  const release = createOrderReleaseWorkflow({
    sap: { client: options.sap.orders, config: options.sap.config },
    mes: {
      dispatch: (call) => {
        const receipt = mes.dispatch(call.order.orderId, call.idempotencyKey);
        options.log("MES", `dispatch ${receipt.dispatchId}: order ${receipt.orderId} on the list for line FAB${receipt.duplicate ? " (same key again: the first dispatch)" : ""}`);
        return ok({ dispatchId: receipt.dispatchId });
      },
      withdraw: (call) => {
        const dispatchId = String((call.receipt as { dispatchId?: JsonValue }).dispatchId);
        const receipt = mes.withdraw(dispatchId, call.idempotencyKey);
        if (receipt === undefined) return err(permanent(`the MES has no dispatch ${dispatchId}`));
        options.log("MES", `dispatch ${dispatchId} of order ${receipt.orderId} WITHDRAWN from line FAB${receipt.duplicate ? " (already withdrawn)" : ""}`);
        return ok({ dispatchId });
      },
    },
    wms: { url: options.wms.url, destination: options.lineSide },
    // SAP releases orders a day or more before their shift (the alignment rule gives the MES 36 h
    // to start one): the planner has as long to answer, and the whole release a little longer.
    approval: { timeout: "36h" },
    deadline: { after: "40h", action: "escalate" },
    retry,
    stepTimeout: "10s",
    report,
  });
  const hold = createQualityHoldWorkflow({
    sap: { client: options.sap.materialDocuments, config: options.sap.config },
    wms: { url: options.wms.url, system: options.wms.system },
    // Only remediation starts this workflow in the demo: the WMS side of a release the WMS missed.
    remediate: [{ rule: "qualityhold-unblocked-wms", hold: options.releasedHold, systems: ["wms"] }],
    confirmationTimeout: "15m",
    retry,
    stepTimeout: "10s",
    escalate: report,
  });
  const quiet = { info: () => {}, warn: () => {}, error: () => {} };
  const runtime = createWorkflowRuntime({ store, workflows: [release, hold], clock: { now: options.now }, workerId: "plant-demo", logger: quiet });
  // Events are handed to the runtime between rounds, never while it runs an instance: see
  // `drive`. (An event delivered while an instance is between reading the events of a wait and
  // recording that it waits would not wake it; reported to the runtime's authors.)
  const heard: CanonicalEvent[] = [];
  const deliverHeard = async () => {
    for (const event of heard.splice(0)) {
      const delivered = await runtime.deliver(event);
      if (delivered.isErr()) throw new Error(`workflow runtime: ${delivered.error.message}`);
      for (const started of delivered.value.started) {
        options.log("WF", started.created ? `${started.workflow} instance ${started.id} started for ${started.key}` : `${started.workflow} instance for ${started.key} exists: the redelivery starts nothing`);
      }
    }
  };
  return {
    runtime,
    reports,
    hear: (event) => void heard.push(event),
    drive: async () => {
      for (let round = 0; round < 50; round++) {
        await deliverHeard();
        const ran = await runtime.runDue();
        if (ran.isErr()) throw new Error(`workflow runtime: ${ran.error.message}`);
        // The WMS answers requests at once and confirms their tasks by webhook afterwards.
        await options.wms.idle();
        if (ran.value === 0 && heard.length === 0) return;
      }
      throw new Error("the workflows did not come to rest in 50 rounds");
    },
    close: async () => {
      await runtime.stop();
      db.close();
    },
  };
}

/** One history entry as a line of the instance's timeline, in plant time. */
function describeHistoryEntry(entry: HistoryEntry): string {
  const at = plantClock(entry.at);
  switch (entry.type) {
    case "started":
      return `${at}  started (version ${entry.version})`;
    case "step-started":
      return `${at}  step ${entry.step} started (attempt ${entry.attempt})`;
    case "step-completed":
      return `${at}  step ${entry.step} completed: ${JSON.stringify(entry.result).slice(0, 110)}`;
    case "step-failed":
      return `${at}  step ${entry.step} FAILED${entry.willRetry ? " (will retry)" : " for good"}: ${entry.error.message.slice(0, 110)}`;
    case "wait-started":
      return `${at}  waiting for ${entry.kind} ${entry.target ?? entry.wait}${entry.dueAt === undefined ? "" : ` until ${plantClock(entry.dueAt)}`}`;
    case "wait-ended":
      return `${at}  wait ${entry.wait} ended: ${entry.outcome.kind === "event" ? `event ${String((entry.outcome.event as { id?: unknown } | null)?.id ?? "")}` : entry.outcome.kind === "signal" ? `signal ${entry.outcome.payload.decision}` : entry.outcome.kind}`;
    case "signal-received": {
      const p = entry.payload as { decision?: string; reason?: string; by?: string };
      return `${at}  signal ${entry.name}: ${p.decision ?? "?"}${p.by === undefined ? "" : ` by ${p.by}`}${p.reason === undefined ? "" : ` ("${p.reason}")`}`;
    }
    case "compensating":
      return `${at}  compensating (${entry.reason.kind === "step-failed" ? `step ${entry.reason.step} failed for good` : entry.reason.kind}): completed steps undone in reverse order`;
    case "compensation-started":
      return `${at}  compensation of ${entry.step} started (attempt ${entry.attempt})`;
    case "compensation-completed":
      return `${at}  compensation of ${entry.step} completed`;
    default:
      return `${at}  ${entry.type}`;
  }
}

/** The timeline of an instance, one line per history entry. */
export function timelineOf(snapshot: InstanceSnapshot): string[] {
  return snapshot.history.map(describeHistoryEntry);
}
