import { qualityHoldStatusTransitions, workOrderStatusTransitions } from "./generated/catalog.js";
import type { QualityHold, WorkOrderStatus } from "./generated/types.js";

/**
 * Tells whether a work order (or operation) may move from one canonical status to another, by the
 * transition table declared in `schemas/common/work-order-status.schema.json`. Staying in the same
 * status is not a transition.
 *
 * @param from - the current status
 * @param to - the proposed status
 * @returns whether the change is allowed
 * @example
 * canTransition("released", "in_progress"); // true
 * canTransition("closed", "released"); // false
 */
export function canTransition(from: WorkOrderStatus, to: WorkOrderStatus): boolean {
  const allowed: readonly string[] | undefined = workOrderStatusTransitions[from];
  return allowed !== undefined && allowed.includes(to);
}

/**
 * Lists the statuses a work order may move to from the given one.
 *
 * @param from - the current status
 * @returns the allowed next statuses, in the schema's order
 * @example
 * allowedTransitions("planned"); // ["released", "cancelled"]
 */
export function allowedTransitions(from: WorkOrderStatus): readonly WorkOrderStatus[] {
  return workOrderStatusTransitions[from] ?? [];
}

/**
 * Tells whether a quality hold may move from one status to another (placed → released or rejected).
 *
 * @param from - the current status
 * @param to - the proposed status
 * @returns whether the change is allowed
 * @example
 * canTransitionHold("placed", "released"); // true
 */
export function canTransitionHold(from: QualityHold["status"], to: QualityHold["status"]): boolean {
  const allowed: readonly string[] | undefined = qualityHoldStatusTransitions[from];
  return allowed !== undefined && allowed.includes(to);
}
