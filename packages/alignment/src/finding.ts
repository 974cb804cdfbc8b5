import type { Observation, ObservationRole } from "./rule.js";

/** One event behind a finding: enough to find it again in any system. */
export interface Evidence {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  /** The event's `time`, as given. */
  readonly time: string;
  readonly role: ObservationRole;
  /** Present (true) when the event undoes earlier facts (SAP 262, 102, a cancelled confirmation); its quantity was netted. */
  readonly reversal?: true;
}

/**
 * The evidence item of an observed event.
 *
 * @param event - the event as a key's state keeps it
 * @returns its identity, time, role and whether it is a reversal
 * @example
 * state.events.map(toEvidenceItem);
 */
export function toEvidenceItem(event: { readonly id: string; readonly type: string; readonly source: string; readonly time: string; readonly role: ObservationRole; readonly reversal?: true }): Evidence {
  const { id, type, source, time, role } = event;
  return event.reversal === true ? { id, type, source, time, role, reversal: true } : { id, type, source, time, role };
}

/** Why an expectation was breached. */
export type BreachReason = "missing" | "late" | "quantity_mismatch" | "quantity_unverifiable";

/** How a breach ended: the expected fact arrived, or the engine gave up waiting and forgot the key. */
export type Resolution = "fulfilled" | "abandoned";

/** Facts common to both kinds of finding. */
interface FindingBase {
  readonly rule: string;
  readonly key: string;
  /** The site of the key, when its events name one (see {@link Observation.site}). */
  readonly site?: string;
  /** The line of the key, when its events name one. */
  readonly line?: string;
  /** When the fulfilment was due: the earliest trigger's time plus the deadline (ISO 8601, UTC). */
  readonly dueAt: string;
  /** How late the fulfilment was (or, when missing, is at `at`), in ms; 0 when on time. */
  readonly latenessMs: number;
  /** fulfilled − measured, an exact signed decimal string; present for quantity rules once fulfilled. */
  readonly quantityDifference?: string;
  readonly unit?: string;
  /** The events involved, ordered by time, source and id; the first 1000 when there are more. */
  readonly evidence: readonly Evidence[];
  /** The evaluation time that produced the finding (ISO 8601, UTC). */
  readonly at: string;
  /** The due time in ms since the epoch, as digits: the revision of the alignment event. */
  readonly revision: string;
}

/** An expectation that was not met: missing after its deadline, late, or with quantities that disagree. */
export interface BreachedFinding extends FindingBase {
  readonly kind: "breached";
  readonly reasons: readonly BreachReason[];
  /** Explains the unit problem when `reasons` holds `quantity_unverifiable`. */
  readonly detail?: string;
}

/** A breach reported earlier that ended: its fulfilment arrived, or the engine gave up waiting. */
export interface ResolvedFinding extends FindingBase {
  readonly kind: "resolved";
  readonly resolution: Resolution;
  /** Whether the fulfilled quantity is within the rule's tolerance (quantity rules only). */
  readonly withinTolerance?: boolean;
}

/** What the engine reports, as plain data. */
export type Finding = BreachedFinding | ResolvedFinding;
