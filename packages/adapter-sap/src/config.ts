import { isTimeZone, issue, type Issue } from "@millwright/adapter-kit";
import type { StockType, WorkOrderStatus } from "@millwright/model";
import { err, ok, type Result } from "neverthrow";

/** How one SAP movement type maps to a canonical MaterialMovement. */
export interface MovementTypeRule {
  readonly kind: "produced" | "consumed" | "transferred" | "status_changed" | "scrapped" | "adjusted";
  /** Stock type of `from` (for kinds that have one); `"item"` = from `InventoryStockType`. */
  readonly from?: StockType | "item";
  /** Stock type of `to` (for kinds that have one); `"item"` = from `InventoryStockType`, `"partner"` = from `IssuingOrReceivingStockType`. */
  readonly to?: StockType | "item" | "partner";
  /** True for a reversal type (102, 262, …): an unreferenced posting is still a reversal. */
  readonly reversal?: boolean;
  /** For reversal types posted on their own: swap from/to to show the physical direction (322, 344, 350). */
  readonly swapWhenUnreferenced?: boolean;
  /** Only for `adjusted`. */
  readonly direction?: "increase" | "decrease";
}

/** How a usage decision maps to a hold status and a decision. */
export interface UsageDecisionRule {
  readonly status: "released" | "rejected";
  readonly decision: "use" | "rework" | "scrap" | "return_to_supplier" | "downgrade";
}

/** Where extensions go and which SAP properties are copied into them. */
export interface ExtensionsConfig {
  /** Extensions namespace, e.g. `sap` or `com.example.sap`. */
  readonly namespace: string;
  /** Further SAP property names to copy (besides customer `ZZ1_*`/`YY1_*` fields and the documented ones). */
  readonly properties?: readonly string[];
}

/** What the adapter needs to know about the SAP system and the plant; nothing here is guessed. */
export interface SapAdapterConfigInput {
  /** Logical system / client name used in every `sourceRefs[].system`, e.g. `S4PCLNT100`. */
  readonly system: string;
  /** IANA time zone of the plant, used for SAP date + Edm.Time pairs. */
  readonly timeZone: string;
  /** SAP internal unit → Rec 20 code; merged over the defaults. */
  readonly units?: Readonly<Record<string, string>>;
  /** SAP ISO unit code → Rec 20 code where they differ (e.g. `PCE` → `H87`); merged over the defaults. */
  readonly isoUnits?: Readonly<Record<string, string>>;
  /**
   * Rec 20 code → the SAP unit the builders write (`ConfirmationUnit`, `EntryUnit`) when a call does
   * not name one. Needed for a code that several SAP units map to (H87 ← ST and PC in the default
   * table): the builders never pick one of them. Write it as SAP sends it to the posting user
   * (`ProductionUnit`, `EntryUnit`), since Gateway reads unit properties in the logon language.
   */
  readonly outboundUnits?: Readonly<Record<string, string>>;
  /** Movement type → rule; merged over the default table of docs/model/material-movement.md. */
  readonly movementTypes?: Readonly<Record<string, MovementTypeRule>>;
  /** `InventoryStockType` → stock type; merged over 01/02/07. */
  readonly inventoryStockTypes?: Readonly<Record<string, StockType>>;
  /** `InventoryUsabilityCode` → stock type (blank is unrestricted). Code values differ by interface, so there are no other defaults. */
  readonly inventoryUsabilityCodes?: Readonly<Record<string, StockType>>;
  /** Copy customer and selected properties into `extensions`; absent = ignore unknown properties. */
  readonly extensions?: ExtensionsConfig;
  /** WorkOrder status options. */
  readonly workOrder?: {
    /** Treat `OrderIsDelivered` (DLV) as completed (priority 4). Default false. */
    readonly deliveredIsCompleted?: boolean;
    /** User status codes (`StatusCode` of a row with `IsUserStatus`, e.g. `E0002`) that mean on hold; the short texts are language-dependent and not matched. */
    readonly onHoldUserStatuses?: readonly string[];
    /** `ManufacturingOrderImportance` → priority 1–999. */
    readonly priorities?: Readonly<Record<string, number>>;
  };
  /** `InspLotUsageDecisionValuation` → rule (defaults `A` released/use, `R` rejected/scrap, both unverified). */
  readonly usageDecisionValuations?: Readonly<Record<string, UsageDecisionRule>>;
  /** `CodeGroup/Code` (or `Code`) → rule; wins over the valuation. */
  readonly usageDecisionCodes?: Readonly<Record<string, UsageDecisionRule>>;
  /** Batch: a deletion flag closes the batch. Default true. */
  readonly batchDeletionIsClosed?: boolean;
}

/** A checked configuration with every default filled in. */
export interface SapAdapterConfig {
  readonly system: string;
  readonly timeZone: string;
  readonly units: Readonly<Record<string, string>>;
  readonly isoUnits: Readonly<Record<string, string>>;
  readonly outboundUnits: Readonly<Record<string, string>>;
  readonly movementTypes: Readonly<Record<string, MovementTypeRule>>;
  readonly inventoryStockTypes: Readonly<Record<string, StockType>>;
  readonly inventoryUsabilityCodes: Readonly<Record<string, StockType>>;
  readonly extensions?: ExtensionsConfig;
  readonly deliveredIsCompleted: boolean;
  readonly onHoldUserStatuses: readonly string[];
  readonly priorities: Readonly<Record<string, number>>;
  readonly usageDecisionValuations: Readonly<Record<string, UsageDecisionRule>>;
  readonly usageDecisionCodes: Readonly<Record<string, UsageDecisionRule>>;
  readonly batchDeletionIsClosed: boolean;
}

/** Why a configuration was rejected: the adapter kit's issue, its path a JSON Pointer into the configuration input. */
export type SapConfigError = Issue<"invalid_config">;

/** SAP standard internal units (T006) to UN/CEFACT Rec 20. */
export const DEFAULT_UNITS: Readonly<Record<string, string>> = {
  ST: "H87", PC: "H87", EA: "EA", KG: "KGM", G: "GRM", TO: "TNE", M: "MTR", CM: "CMT", MM: "MMT",
  M2: "MTK", M3: "MTQ", L: "LTR", ML: "MLT", H: "HUR", MIN: "MIN", S: "SEC", D: "DAY",
};

/** SAP ISO codes that are not current Rec 20 codes. */
export const DEFAULT_ISO_UNITS: Readonly<Record<string, string>> = { PCE: "H87" };

/** The movement-type table of docs/model/material-movement.md, as the default configuration. */
export const DEFAULT_MOVEMENT_TYPES: Readonly<Record<string, MovementTypeRule>> = {
  "101": { kind: "produced", to: "item" },
  "102": { kind: "produced", to: "item", reversal: true },
  "261": { kind: "consumed", from: "unrestricted" },
  "262": { kind: "consumed", from: "unrestricted", reversal: true },
  "311": { kind: "transferred", from: "item", to: "partner" },
  "312": { kind: "transferred", from: "item", to: "partner", reversal: true, swapWhenUnreferenced: true },
  "321": { kind: "status_changed", from: "quality_inspection", to: "unrestricted" },
  "322": { kind: "status_changed", from: "quality_inspection", to: "unrestricted", reversal: true, swapWhenUnreferenced: true },
  "343": { kind: "status_changed", from: "blocked", to: "unrestricted" },
  "344": { kind: "status_changed", from: "blocked", to: "unrestricted", reversal: true, swapWhenUnreferenced: true },
  "349": { kind: "status_changed", from: "blocked", to: "quality_inspection" },
  "350": { kind: "status_changed", from: "blocked", to: "quality_inspection", reversal: true, swapWhenUnreferenced: true },
  "551": { kind: "scrapped", from: "unrestricted" },
  "552": { kind: "scrapped", from: "unrestricted", reversal: true },
  "553": { kind: "scrapped", from: "quality_inspection" },
  "554": { kind: "scrapped", from: "quality_inspection", reversal: true },
  "555": { kind: "scrapped", from: "blocked" },
  "556": { kind: "scrapped", from: "blocked", reversal: true },
};

const NAMESPACE = /^[a-z][a-z0-9-]{0,31}(\.[a-z][a-z0-9-]{0,31}){0,7}$/;
const UNIT = /^[A-Z0-9]{2,3}$/;
const SAP_UNIT = /^\S{1,3}$/u;

/**
 * A code table as data: its own entries only, on an object without a prototype, so a code read
 * from a payload that is named like a member of every object (`constructor`, `__proto__`,
 * `toString`) finds nothing instead of a function.
 */
function table<TValue>(...parts: readonly (Readonly<Record<string, TValue>> | undefined)[]): Readonly<Record<string, TValue>> {
  const out = Object.create(null) as Record<string, TValue>;
  for (const part of parts) {
    if (part === undefined) continue;
    for (const key of Object.keys(part)) out[key] = part[key] as TValue;
  }
  return out;
}

/**
 * Check an adapter configuration and fill in the defaults (unit table, movement types, stock types).
 *
 * @param input - system name, plant time zone and optional tables
 * @returns the checked configuration, or `invalid_config` naming the setting
 * @example
 * ```ts
 * const config = createSapConfig({ system: "S4PCLNT100", timeZone: "Europe/Berlin" })._unsafeUnwrap();
 * ```
 */
export function createSapConfig(input: SapAdapterConfigInput): Result<SapAdapterConfig, SapConfigError> {
  if (typeof input.system !== "string" || input.system.trim() === "" || input.system !== input.system.trim()) {
    return err(issue("invalid_config", "/system", input.system, "a non-empty logical system name without surrounding spaces"));
  }
  if (typeof input.timeZone !== "string" || !isTimeZone(input.timeZone)) {
    return err(issue("invalid_config", "/timeZone", input.timeZone, "an IANA time zone known to Intl, e.g. Europe/Berlin"));
  }
  const units = table(DEFAULT_UNITS, input.units);
  const isoUnits = table(DEFAULT_ISO_UNITS, input.isoUnits);
  for (const [table, map] of [["units", units], ["isoUnits", isoUnits]] as const) {
    for (const [k, v] of Object.entries(map)) {
      if (!UNIT.test(v)) return err(issue("invalid_config", `/${table}/${k}`, v, "a UN/CEFACT Rec 20 code ^[A-Z0-9]{2,3}$"));
    }
  }
  const outboundUnits = table(input.outboundUnits);
  for (const [code, sap] of Object.entries(outboundUnits)) {
    if (!UNIT.test(code)) return err(issue("invalid_config", `/outboundUnits/${code}`, code, "keys are UN/CEFACT Rec 20 codes ^[A-Z0-9]{2,3}$"));
    if (typeof sap !== "string" || !SAP_UNIT.test(sap)) return err(issue("invalid_config", `/outboundUnits/${code}`, sap, "a SAP unit: 1-3 characters without spaces (MaxLength 3 of EntryUnit and ConfirmationUnit)"));
    const back = units[sap];
    if (back !== undefined && back !== code) return err(issue("invalid_config", `/outboundUnits/${code}`, sap, `the unit table maps SAP unit ${sap} to ${back}, not to ${code}`));
  }
  if (input.extensions !== undefined && !NAMESPACE.test(input.extensions.namespace)) {
    return err(issue("invalid_config", "/extensions/namespace", input.extensions.namespace, "a lower-case dotted namespace, e.g. sap"));
  }
  for (const [k, v] of Object.entries(input.workOrder?.priorities ?? {})) {
    if (!Number.isInteger(v) || v < 1 || v > 999) return err(issue("invalid_config", `/workOrder/priorities/${k}`, v, "an integer 1-999"));
  }
  return ok({
    system: input.system,
    timeZone: input.timeZone,
    units,
    isoUnits,
    outboundUnits,
    movementTypes: table(DEFAULT_MOVEMENT_TYPES, input.movementTypes),
    inventoryStockTypes: table<StockType>({ "01": "unrestricted", "02": "quality_inspection", "07": "blocked" }, input.inventoryStockTypes),
    inventoryUsabilityCodes: table(input.inventoryUsabilityCodes),
    ...(input.extensions === undefined ? {} : { extensions: input.extensions }),
    deliveredIsCompleted: input.workOrder?.deliveredIsCompleted ?? false,
    onHoldUserStatuses: input.workOrder?.onHoldUserStatuses ?? [],
    priorities: table(input.workOrder?.priorities),
    usageDecisionValuations: table<UsageDecisionRule>(
      {
        A: { status: "released", decision: "use" },
        R: { status: "rejected", decision: "scrap" },
      },
      input.usageDecisionValuations,
    ),
    usageDecisionCodes: table(input.usageDecisionCodes),
    batchDeletionIsClosed: input.batchDeletionIsClosed ?? true,
  });
}

/** The canonical statuses in priority order, used by docs and tests. */
export const WORK_ORDER_STATUS_PRIORITY: readonly WorkOrderStatus[] = [
  "cancelled", "closed", "completed", "on_hold", "in_progress", "released", "planned",
];
