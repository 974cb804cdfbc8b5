// The order-release workflow: a work order released in the ERP is checked against the ERP's own
// record, dispatched to the MES and staged by the WMS. Staging refused for good withdraws the
// dispatch (its compensation) and is reported; short components can wait for a planner.
import { mapProductionOrder, type SapAdapterConfig, type SapClient } from "@millwright/adapter-sap";
import { createStagingRequest, type WmsLocation } from "@millwright/adapter-wms";
import { createRetryPolicy, permanent, type HandlerError, type RetryPolicy } from "@millwright/idempotency";
import { compareQuantities, subtractQuantities, type WorkOrder } from "@millwright/model";
import { err, ok, type Result, type ResultAsync } from "neverthrow";
import { defineWorkflow, onEvent, StepFailedError, type StepContext, type WorkflowContext, type WorkflowDefinition } from "../define.js";
import type { DeadlineSpec, Duration, JsonValue, TraceCarrier } from "../types.js";
import { escalateFrom, type Escalate } from "./common.js";
import { sapStepError, sendWithRequestId, type WmsEndpoint } from "./peers.js";

/** The input of an order-release instance: the released order and when it was released. */
export interface OrderReleaseInput {
  readonly order: WorkOrder;
  /** The release's time (the event's `time`): the staging request's `requestedAt`. */
  readonly releasedAt: string;
}

/** A component whose open quantity the ERP does not confirm as available. */
export interface ShortComponent {
  readonly itemId: string;
  readonly material: string;
  /** Required minus withdrawn, in the ERP's unit. */
  readonly open: string;
  /** `ConfirmedAvailableQuantity` of the ERP. */
  readonly available: string;
}

/** What the reference check found in the ERP. */
export interface OrderReferences {
  readonly orderId: string;
  readonly material: string;
  /** The ERP's operations (the routing), by id. */
  readonly operations: readonly string[];
  readonly shortComponents: readonly ShortComponent[];
}

/** What the MES dispatch and its withdrawal get. */
export interface MesCall {
  readonly order: WorkOrder;
  readonly references: OrderReferences;
  /** The step's (or the compensation's) idempotency key: the MES must apply a call once per key. */
  readonly idempotencyKey: string;
  readonly trace: TraceCarrier | undefined;
  /** Aborted when the step's time limit passes. */
  readonly signal: AbortSignal;
}

/** What a MES call returns: a Result (retryable or permanent error) or a JSON value. */
export type MesReturn<T> = Result<T, HandlerError> | ResultAsync<T, HandlerError> | Promise<Result<T, HandlerError>>;

/** What {@link createOrderReleaseWorkflow} takes. */
export interface OrderReleaseWorkflowOptions {
  /** Default `order-release`. */
  readonly name?: string;
  readonly version?: number;
  /** The ERP: a client of API_PRODUCTION_ORDER_2_SRV and the adapter configuration. */
  readonly sap: { readonly client: SapClient; readonly config: SapAdapterConfig };
  /**
   * The MES: `dispatch` sends the order to the floor and returns a receipt (JSON); `withdraw`
   * takes a dispatched order back (the compensation). Both must be idempotent per `idempotencyKey`.
   */
  readonly mes: {
    readonly dispatch: (call: MesCall) => MesReturn<JsonValue>;
    readonly withdraw: (call: MesCall & { readonly receipt: JsonValue }) => MesReturn<unknown>;
  };
  /** The WMS: its request endpoint and the line-side destination of an order's components. */
  readonly wms: WmsEndpoint & { readonly destination: (order: WorkOrder) => WmsLocation };
  /**
   * Ask a planner (signal `planner-approval`, approve or reject) when components are short; absent:
   * short components are only reported in the output.
   */
  readonly approval?: { readonly timeout: Duration };
  /** The recovery objective (default 2 h, then escalate). */
  readonly deadline?: DeadlineSpec;
  readonly retry?: RetryPolicy;
  readonly stepTimeout?: Duration;
  /** Where reports go (staging refused, approval rejected); default the logger at error level. */
  readonly report?: Escalate;
}

/** The output of an order-release instance that did not compensate. */
export interface OrderReleaseOutcome {
  readonly orderId: string;
  /** `staged`: dispatched and staging requested; `nothing-to-stage`: dispatched, no component open; `not-approved`: a planner rejected or did not answer; nothing was dispatched. */
  readonly outcome: "staged" | "nothing-to-stage" | "not-approved";
  readonly references: OrderReferences;
  readonly dispatch?: JsonValue;
  readonly stagingRequestId?: string;
  readonly approval?: { readonly decision: "approve" | "reject" | "timeout"; readonly by?: string; readonly reason?: string };
}

const DEFAULT_RETRY = createRetryPolicy({ maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 60_000 });

const rows = (value: unknown): Record<string, unknown>[] => {
  const results = (value as { results?: unknown } | null | undefined)?.results;
  return Array.isArray(results) ? (results as Record<string, unknown>[]) : [];
};

/** Compares the released order with the ERP's record of it: material, routing, components, availability. */
function checkReferences(order: WorkOrder, row: Readonly<Record<string, unknown>>, config: SapAdapterConfig): Result<OrderReferences, HandlerError> {
  const mapped = mapProductionOrder(row, config);
  if (mapped.isErr()) return err(permanent(`order ${order.orderId}: the ERP's record does not map: ${mapped.error.message}`, mapped.error));
  const erp = mapped.value;
  if (erp.material.id !== order.material.id) {
    return err(permanent(`order ${order.orderId}: material ${JSON.stringify(order.material.id)} of the release is not the ERP's material ${JSON.stringify(erp.material.id)}`));
  }
  const operations = erp.operations.map((o) => o.operationId);
  if (operations.length === 0) return err(permanent(`order ${order.orderId}: the ERP has no routing (no operations) for it`));
  const unknownOp = order.operations.find((o) => !operations.includes(o.operationId));
  if (unknownOp !== undefined) return err(permanent(`order ${order.orderId}: operation ${JSON.stringify(unknownOp.operationId)} is not in the ERP's routing (${operations.join(", ")})`));
  const erpMaterials = new Set(erp.components.map((c) => c.material.id));
  const unknownComponent = order.components.find((c) => !erpMaterials.has(c.material.id));
  if (unknownComponent !== undefined) return err(permanent(`order ${order.orderId}: component material ${JSON.stringify(unknownComponent.material.id)} is not in the ERP's bill of materials`));
  // Quantities of one component row share its unit: compared as decimals under a placeholder unit.
  const shortComponents: ShortComponent[] = [];
  for (const c of rows(row["to_ProductionOrderComponent"])) {
    if (c["ReservationIsFinallyIssued"] === true || c["MatlCompIsMarkedForDeletion"] === true) continue;
    const available = c["ConfirmedAvailableQuantity"];
    const required = c["RequiredQuantity"];
    if (typeof available !== "string" || typeof required !== "string") continue;
    const open = subtractQuantities({ value: required, unit: "C62" }, { value: typeof c["WithdrawnQuantity"] === "string" ? c["WithdrawnQuantity"] : "0", unit: "C62" });
    if (open.isErr()) continue;
    const short = compareQuantities({ value: available, unit: "C62" }, open.value);
    if (short.isOk() && short.value < 0) {
      shortComponents.push({ itemId: `${String(c["Reservation"] ?? "")}/${String(c["ReservationItem"] ?? "")}`, material: String(c["Material"] ?? ""), open: open.value.value, available });
    }
  }
  return ok({ orderId: order.orderId, material: erp.material.id, operations, shortComponents });
}

function traceHeaders(trace: TraceCarrier | undefined): Record<string, string> {
  return trace === undefined ? {} : { traceparent: trace.traceparent, ...(trace.tracestate === undefined ? {} : { tracestate: trace.tracestate }) };
}

/**
 * Creates the order-release workflow, started by `…workorder.released.v1` (key `<site>/<order>`).
 *
 * Steps: `check-references` (reads the order from the ERP with operations and components: the
 * material, every operation and component of the release must be the ERP's; components whose
 * open quantity exceeds `ConfirmedAvailableQuantity` are short) → when short and `approval` is
 * set, a wait for the signal `planner-approval` (reject or timeout ends the instance with nothing
 * done) → `dispatch-to-mes` (compensation: `withdraw`) → `request-staging` (the WMS staging
 * request, request id = the step's idempotency key). A staging request refused for good is
 * reported (`report-staging-refused`) and the instance compensates: the dispatch is withdrawn.
 *
 * Only the dispatch has a compensation: it is the one effect that is wrong on its own once
 * staging is impossible (the floor would start an order without material). The reference check
 * has no effect; a staging request that failed was not applied.
 *
 * @param options - the SAP client, the MES calls, the WMS endpoint, approval and timing
 * @returns the workflow definition
 * @example
 * const release = createOrderReleaseWorkflow({
 *   sap: { client: productionOrderClient, config },
 *   mes: { dispatch: (c) => mes.dispatch(c.order, c.idempotencyKey), withdraw: (c) => mes.withdraw(c.order.orderId, c.idempotencyKey) },
 *   wms: { url: "https://wms.example.com/requests", destination: (o) => ({ site: o.site, bin: "LINE-1" }) },
 *   approval: { timeout: "2h" },
 * });
 */
export function createOrderReleaseWorkflow(options: OrderReleaseWorkflowOptions): WorkflowDefinition<OrderReleaseInput, OrderReleaseOutcome> {
  const name = options.name ?? "order-release";
  const stepOptions = { retry: options.retry ?? DEFAULT_RETRY, timeout: options.stepTimeout ?? "30s" } as const;
  const { sap, mes, wms } = options;

  const run = async (wf: WorkflowContext<OrderReleaseInput>, input: OrderReleaseInput): Promise<OrderReleaseOutcome> => {
    const { order } = input;
    const report = (ctx: StepContext<OrderReleaseInput>, summary: string, problem: string) =>
      escalateFrom(ctx, options.report, { workflow: name, key: wf.key, instanceId: wf.instanceId, summary, problems: [{ system: "workflow", problem }] });

    const references = await wf.step(
      "check-references",
      async (ctx): Promise<Result<OrderReferences, HandlerError>> => {
        const row = await sap.client.getEntity(
          "A_ProductionOrder_2",
          `'${order.orderId.replace(/'/g, "''")}'`,
          { expand: ["to_ProductionOrderOperation", "to_ProductionOrderComponent"] },
          { headers: traceHeaders(ctx.trace) },
        );
        if (row.isErr()) {
          const e = row.error;
          return err(e.code === "http_error" && e.status === 404 ? permanent(`order ${order.orderId} is not in the ERP`, e) : sapStepError(e, `reading order ${order.orderId}`));
        }
        return checkReferences(order, row.value, sap.config);
      },
      stepOptions,
    );

    let approval: OrderReleaseOutcome["approval"];
    if (references.shortComponents.length > 0 && options.approval !== undefined) {
      const decision = await wf.waitForSignal("planner-approval", { timeout: options.approval.timeout, onReject: "return" });
      approval =
        decision.kind === "timeout"
          ? { decision: "timeout" }
          : { decision: decision.payload.decision, ...(decision.payload.by === undefined ? {} : { by: decision.payload.by }), ...(decision.payload.reason === undefined ? {} : { reason: decision.payload.reason }) };
      if (approval.decision !== "approve") {
        const why = approval.decision === "timeout" ? `no planner decision within ${String(options.approval.timeout)}` : `rejected${approval.reason === undefined ? "" : `: ${approval.reason}`}`;
        await wf.step("report-not-approved", (ctx) => report(ctx, `order ${order.orderId} not released to the floor: components short, ${why}`, why), stepOptions);
        return { orderId: order.orderId, outcome: "not-approved", references, approval };
      }
    }

    const dispatch = await wf.step(
      "dispatch-to-mes",
      (ctx): MesReturn<JsonValue> => mes.dispatch({ order, references, idempotencyKey: ctx.idempotencyKey, trace: ctx.trace, signal: ctx.signal }),
      {
        ...stepOptions,
        compensate: (ctx, receipt) => mes.withdraw({ order, references, receipt, idempotencyKey: ctx.idempotencyKey, trace: ctx.trace, signal: ctx.signal }),
      },
    );

    const request = createStagingRequest(order, { destination: wms.destination(order), requestedAt: input.releasedAt });
    if (request.isErr() && request.error.code === "nothing_to_stage") {
      return { orderId: order.orderId, outcome: "nothing-to-stage", references, dispatch, ...(approval === undefined ? {} : { approval }) };
    }
    try {
      const staged = await wf.step(
        "request-staging",
        async (ctx) => (request.isErr() ? err(permanent(`order ${order.orderId} cannot be staged: ${request.error.message}`, request.error)) : sendWithRequestId(request.value, ctx.idempotencyKey, wms, ctx.trace)),
        stepOptions,
      );
      return { orderId: order.orderId, outcome: "staged", references, dispatch, stagingRequestId: staged.requestId, ...(approval === undefined ? {} : { approval }) };
    } catch (cause) {
      if (cause instanceof StepFailedError) {
        await wf.step(
          "report-staging-refused",
          (ctx) => report(ctx, `order ${order.orderId}: the WMS refused staging for good; the MES dispatch is withdrawn`, cause.failure.message),
          stepOptions,
        );
      }
      // Rethrown, the failure compensates the instance: the dispatch is withdrawn.
      throw cause;
    }
  };

  return defineWorkflow<OrderReleaseInput, OrderReleaseOutcome>({
    name,
    version: options.version ?? 1,
    description: "Order release: check references in the ERP, optional planner approval for short components, dispatch to the MES, staging request to the WMS; staging refused for good withdraws the dispatch.",
    start: [
      onEvent("dev.millwright.workorder.released.v1", {
        key: (e) => `${e.data.site.id}/${e.data.orderId}`,
        input: (e): OrderReleaseInput => ({ order: e.data as WorkOrder, releasedAt: e.time ?? (e.data as WorkOrder).schedule?.plannedStart ?? "" }),
      }),
    ],
    deadline: options.deadline ?? { after: "2h", action: "escalate" },
    run,
  });
}
