import { defineRule, type AlignmentRule } from "./rule.js";

const HOUR_MS = 3_600_000;

/** Options of a built-in rule with a deadline. */
export interface DeadlineOptions {
  /** How long after the trigger the fulfilment may come, in ms. */
  readonly deadlineMs?: number;
}

/** Options of {@link productionConfirmedRule}. */
export interface ConfirmationOptions extends DeadlineOptions {
  /** The largest accepted |confirmed yield − counted good quantity|, a decimal string (default "0"). */
  readonly tolerance?: string;
}

/**
 * A released work order (ERP) is started on the floor (MES) within the deadline (default 4 h).
 * Keyed by orderId.
 *
 * @param options - the deadline
 * @returns the rule `workorder-started`
 * @example
 * const rule = workOrderStartedRule({ deadlineMs: 2 * 3_600_000 });
 */
export function workOrderStartedRule(options: DeadlineOptions = {}): AlignmentRule {
  return defineRule({
    name: "workorder-started",
    description: "a released work order is started by MES within the deadline",
    deadlineMs: options.deadlineMs ?? 4 * HOUR_MS,
    observe: (e) => {
      if (e.type === "dev.millwright.workorder.released.v1") return { key: e.data.orderId, role: "trigger" };
      if (e.type === "dev.millwright.workorder.started.v1") return { key: e.data.orderId, role: "fulfilment" };
      return undefined;
    },
  });
}

/**
 * A completed work order gets a final production confirmation in ERP within the deadline
 * (default 2 h), and the confirmed yield (all confirmations of the order) equals the counted good
 * quantity (all production counts of the order) within the tolerance. Keyed by orderId.
 * Cancellation confirmations (`reverses`) are not yet netted out and are ignored.
 *
 * @param options - the deadline and the tolerance
 * @returns the rule `productionconfirmation-posted`
 * @example
 * const rule = productionConfirmedRule({ deadlineMs: 3_600_000, tolerance: "0.5" });
 */
export function productionConfirmedRule(options: ConfirmationOptions = {}): AlignmentRule {
  return defineRule({
    name: "productionconfirmation-posted",
    description: "a completed work order is confirmed to ERP within the deadline with the counted yield",
    deadlineMs: options.deadlineMs ?? 2 * HOUR_MS,
    tolerance: options.tolerance ?? "0",
    observe: (e) => {
      if (e.type === "dev.millwright.workorder.completed.v1") return { key: e.data.orderId, role: "trigger" };
      if (e.type === "dev.millwright.productionconfirmation.confirmed.v1") {
        if (e.data.reverses !== undefined) return undefined;
        return { key: e.data.order.orderId, role: e.data.isFinal ? "fulfilment" : "partial", quantity: e.data.yieldQuantity };
      }
      if (e.type === "dev.millwright.productioncount.counted.v1") {
        const order = e.data.order;
        return order === undefined ? undefined : { key: order.orderId, role: "measure", quantity: e.data.goodQuantity };
      }
      return undefined;
    },
  });
}

/**
 * A placed quality hold ends (released, rejected or cancelled) within the deadline (default
 * 72 h). Keyed by holdId. Checking that ERP and WMS block the stock is not part of this rule.
 *
 * @param options - the deadline
 * @returns the rule `qualityhold-closed`
 * @example
 * const rule = qualityHoldClosedRule({ deadlineMs: 24 * 3_600_000 });
 */
export function qualityHoldClosedRule(options: DeadlineOptions = {}): AlignmentRule {
  return defineRule({
    name: "qualityhold-closed",
    description: "a placed quality hold is released, rejected or cancelled within the deadline",
    deadlineMs: options.deadlineMs ?? 72 * HOUR_MS,
    observe: (e) => {
      if (e.type === "dev.millwright.qualityhold.placed.v1") return { key: e.data.holdId, role: "trigger" };
      if (e.type === "dev.millwright.qualityhold.released.v1") return { key: e.data.holdId, role: "fulfilment" };
      return undefined;
    },
  });
}

/** Options of {@link builtInRules}, per rule. */
export interface BuiltInRuleOptions {
  readonly workOrderStarted?: DeadlineOptions;
  readonly productionConfirmed?: ConfirmationOptions;
  readonly qualityHoldClosed?: DeadlineOptions;
}

/**
 * Every built-in rule, in report order.
 *
 * @param options - per-rule options
 * @returns the rules
 * @example
 * const engine = createEngine({ rules: builtInRules({ workOrderStarted: { deadlineMs: 3_600_000 } }) });
 */
export function builtInRules(options: BuiltInRuleOptions = {}): readonly AlignmentRule[] {
  return [
    workOrderStartedRule(options.workOrderStarted),
    productionConfirmedRule(options.productionConfirmed),
    qualityHoldClosedRule(options.qualityHoldClosed),
  ];
}
