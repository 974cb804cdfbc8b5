import type { MachineState } from "@millwright/model";

/** How a state signal's raw value maps to canonical availability. */
export type StateMapping =
  | { readonly kind: "packml" }
  | { readonly kind: "machinery" }
  | {
      readonly kind: "custom";
      /** Raw value (as a string: `"3"`, `"RUN"`) → availability and optional PackML state name. */
      readonly values: Readonly<Record<string, CustomStateTarget>>;
    };

/** What one custom raw state value means. */
export interface CustomStateTarget {
  readonly availability: "not_available" | "out_of_service" | "not_executing" | "executing";
  readonly text?: string;
}

/** A PackML leaf state name as the canonical model spells it. */
export type PackmlStateName = NonNullable<MachineState["packmlState"]>;

/** Canonical availability. */
export type Availability = MachineState["availability"];

/** PackML state numbers (OPC 30050 1.01 `StateNumber`) of the 17 leaf states. */
export const PACKML_STATES: Readonly<Record<number, { readonly name: PackmlStateName; readonly text: string }>> = {
  1: { name: "clearing", text: "Clearing" },
  2: { name: "stopped", text: "Stopped" },
  3: { name: "starting", text: "Starting" },
  4: { name: "idle", text: "Idle" },
  5: { name: "suspended", text: "Suspended" },
  6: { name: "execute", text: "Execute" },
  7: { name: "stopping", text: "Stopping" },
  8: { name: "aborting", text: "Aborting" },
  9: { name: "aborted", text: "Aborted" },
  10: { name: "holding", text: "Holding" },
  11: { name: "held", text: "Held" },
  12: { name: "unholding", text: "Unholding" },
  13: { name: "suspending", text: "Suspending" },
  14: { name: "unsuspending", text: "Unsuspending" },
  15: { name: "resetting", text: "Resetting" },
  16: { name: "completing", text: "Completing" },
  17: { name: "complete", text: "Complete" },
};

const PACKML_NUMBERS_BY_NAME: ReadonlyMap<string, number> = new Map(Object.entries(PACKML_STATES).map(([n, state]) => [state.text.toLowerCase(), Number(n)]));

/** Machinery item states (OPC 40001-1 `MachineryItemState_StateMachineType`). */
export const MACHINERY_ITEM_STATES: Readonly<Record<number, { readonly availability: Availability; readonly text: string }>> = {
  0: { availability: "not_available", text: "NotAvailable" },
  1: { availability: "out_of_service", text: "OutOfService" },
  2: { availability: "not_executing", text: "NotExecuting" },
  3: { availability: "executing", text: "Executing" },
};

/** The canonical reading of one raw state value. */
export interface MappedState {
  readonly availability: Availability;
  readonly packmlState?: PackmlStateName;
  readonly sourceState: { readonly value: string | number; readonly text?: string };
}

function asStateNumber(raw: unknown): number | undefined {
  if (typeof raw === "number" && Number.isInteger(raw)) return raw;
  if (typeof raw === "bigint") return Number(raw);
  if (typeof raw === "string" && /^\d{1,3}$/.test(raw)) return Number(raw);
  return undefined;
}

/**
 * Maps a raw state value to canonical availability and, for PackML, the leaf state, following
 * docs/model/machine-state.md. A PackML value is a state number or, as a state machine's
 * `CurrentState` reports it, the state's name (`Execute`). PackML composite states (Running 18,
 * Cleared 19) and unknown numbers or names are not mapped: the caller reports them.
 *
 * @param mapping - the signal's state mapping
 * @param raw - the value the server reported (state number or text)
 * @returns the mapped state, or undefined when the value has no mapping
 * @example
 * ```ts
 * toMappedState({ kind: "packml" }, 6); // { availability: "executing", packmlState: "execute", sourceState: { value: 6, text: "Execute" } }
 * toMappedState({ kind: "machinery" }, 1); // { availability: "out_of_service", sourceState: { value: 1, text: "OutOfService" } }
 * ```
 */
export function toMappedState(mapping: StateMapping, raw: unknown): MappedState | undefined {
  switch (mapping.kind) {
    case "packml": {
      // A state machine's CurrentState is a LocalizedText naming the state; StateCurrent a number.
      const n = asStateNumber(raw) ?? (typeof raw === "string" ? PACKML_NUMBERS_BY_NAME.get(raw.trim().toLowerCase()) : undefined);
      const state = n === undefined ? undefined : PACKML_STATES[n];
      if (n === undefined || state === undefined) return undefined;
      return { availability: state.name === "execute" ? "executing" : "not_executing", packmlState: state.name, sourceState: { value: n, text: state.text } };
    }
    case "machinery": {
      const n = asStateNumber(raw);
      const state = n === undefined ? undefined : MACHINERY_ITEM_STATES[n];
      if (n === undefined || state === undefined) return undefined;
      return { availability: state.availability, sourceState: { value: n, text: state.text } };
    }
    case "custom": {
      if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") return undefined;
      const key = String(raw);
      if (!Object.prototype.hasOwnProperty.call(mapping.values, key)) return undefined;
      const target = mapping.values[key];
      if (target === undefined) return undefined;
      const value = typeof raw === "number" ? raw : key;
      return { availability: target.availability, sourceState: target.text === undefined ? { value } : { value, text: target.text } };
    }
  }
}
