import { parseMillwrightSource, type CanonicalEvent } from "@millwright/events";
import type { MaterialMovement, QualityHold, StockType } from "@millwright/model";
import { defineRule, type AlignmentRule, type Observation } from "./rule.js";

const HOUR_MS = 3_600_000;

/**
 * The part a system plays for the built-in rules: the ERP (system of record), the WMS, the shop
 * floor (MES, SCADA, lines) or a quality management system.
 */
export type SystemRole = "erp" | "wms" | "floor" | "quality";

/** Says which part the system behind an event `source` plays, or `undefined` for none. */
export type SystemClassifier = (source: string) => SystemRole | undefined;

const ROLE_OF_SYSTEM: Readonly<Record<string, SystemRole>> = { sap: "erp", erp: "erp", s4: "erp", wms: "wms", mes: "floor", opcua: "floor", line: "floor", scada: "floor", qms: "quality", lims: "quality" };

/**
 * The roles of the sources seen last: a deployment has a handful of sources, and every event
 * visits several rules that each ask. Bounded, so a stream of distinct sources cannot grow it.
 */
const ROLE_OF_SOURCE = new Map<string, SystemRole | undefined>();
const MAX_REMEMBERED_SOURCES = 1024;

/** The systems that decide quality holds: the ERP's quality management (SAP QM), the MES, or a QMS/LIMS. */
const HOLD_DECIDERS: ReadonlySet<SystemRole> = new Set(["erp", "floor", "quality"]);

/**
 * The default classifier: the system segment of a Millwright source (`parseMillwrightSource`), as
 * the adapters write it — `sap`/`erp`/`s4` → erp, `wms` → wms, `mes`/`opcua`/`line`/`scada` →
 * floor, `qms`/`lims` → quality; any other source plays no part, so the rules ignore its events.
 * Pass your own (`systems` in the rule options) when your sources are named otherwise.
 *
 * @param source - a CloudEvents source
 * @returns the role, or undefined
 * @example
 * defaultSystemOf("urn:millwright:sap:S4PCLNT100"); // "erp"
 */
export function defaultSystemOf(source: string): SystemRole | undefined {
  // The rules an event visits ask in turn about the same source: no lookup for the repeats.
  if (source === lastSource) return lastRole;
  const role = roleOfSource(source);
  lastSource = source;
  lastRole = role;
  return role;
}

/** The source {@link defaultSystemOf} was last asked about, and its role. */
let lastSource: string | undefined;
let lastRole: SystemRole | undefined;

function roleOfSource(source: string): SystemRole | undefined {
  const known = ROLE_OF_SOURCE.get(source);
  if (known !== undefined || ROLE_OF_SOURCE.has(source)) return known;
  const system = parseMillwrightSource(source)?.system;
  // Own properties only: a system named `constructor` is not in the table.
  const role = system !== undefined && Object.hasOwn(ROLE_OF_SYSTEM, system) ? ROLE_OF_SYSTEM[system] : undefined;
  if (ROLE_OF_SOURCE.size >= MAX_REMEMBERED_SOURCES) ROLE_OF_SOURCE.clear();
  ROLE_OF_SOURCE.set(source, role);
  return role;
}

/** Options of the built-in rules that compare systems. */
export interface SystemOptions {
  /** Which part each source plays (default {@link defaultSystemOf}). */
  readonly systems?: SystemClassifier;
}

/** Options of a built-in rule with a deadline. */
export interface DeadlineOptions {
  /** How long after the trigger the fulfilment may come, in ms. */
  readonly deadlineMs?: number;
}

/** Options of {@link workOrderStartedRule}. */
export interface StartOptions extends DeadlineOptions, SystemOptions {}

/** Options of {@link qualityHoldClosedRule}. */
export interface HoldOptions extends DeadlineOptions, SystemOptions {}

/** Options of {@link productionConfirmedRule}. */
export interface ConfirmationOptions extends DeadlineOptions, SystemOptions {
  /** The largest accepted |confirmed yield − counted good quantity|, a decimal string (default "0"). */
  readonly tolerance?: string;
}

/** Options of the goods movement rules. */
export interface MovementOptions extends DeadlineOptions, SystemOptions {
  /** The largest accepted |posted − reported| quantity, a decimal string (default "0"). */
  readonly tolerance?: string;
}

/** Options of the stock blocking rules. */
export interface BlockingOptions extends DeadlineOptions, SystemOptions {
  /** Whose stock is checked: the ERP's or the WMS's. */
  readonly system: "erp" | "wms";
}

/**
 * A work order released in the ERP is started on the floor (MES) within the deadline (default
 * 4 h). Keyed by orderId. Only the ERP's release starts the clock and only the floor's start
 * meets it: a status change inside the ERP is not the MES starting the order.
 *
 * @param options - the deadline and the system classifier
 * @returns the rule `workorder-started`
 * @example
 * const rule = workOrderStartedRule({ deadlineMs: 2 * 3_600_000 });
 */
export function workOrderStartedRule(options: StartOptions = {}): AlignmentRule {
  const systems = options.systems ?? defaultSystemOf;
  return defineRule({
    name: "workorder-started",
    description: "a work order released in the ERP is started by the MES within the deadline",
    deadlineMs: options.deadlineMs ?? 4 * HOUR_MS,
    types: ["dev.millwright.workorder.released.v1", "dev.millwright.workorder.started.v1"],
    observe: (e) => {
      if (e.type === "dev.millwright.workorder.released.v1") return systems(e.source) === "erp" ? { key: e.data.orderId, role: "trigger", site: e.data.site.id } : undefined;
      if (e.type === "dev.millwright.workorder.started.v1") return systems(e.source) === "floor" ? { key: e.data.orderId, role: "fulfilment", site: e.data.site.id } : undefined;
      return undefined;
    },
  });
}

/**
 * A work order the floor completed gets a final production confirmation in the ERP within the
 * deadline (default 2 h), and the confirmed yield (all confirmations of the order in the ERP, less
 * the cancelled ones) equals the counted good quantity (all production counts of the order from
 * the floor) within the tolerance. Keyed by orderId. A cancellation (`reverses`) takes its yield
 * off the confirmed side, and a cancelled final confirmation no longer meets the rule.
 *
 * @param options - the deadline, the tolerance and the system classifier
 * @returns the rule `productionconfirmation-posted`
 * @example
 * const rule = productionConfirmedRule({ deadlineMs: 3_600_000, tolerance: "0.5" });
 */
export function productionConfirmedRule(options: ConfirmationOptions = {}): AlignmentRule {
  const systems = options.systems ?? defaultSystemOf;
  return defineRule({
    name: "productionconfirmation-posted",
    description: "a work order the floor completed is confirmed in the ERP within the deadline with the counted yield",
    deadlineMs: options.deadlineMs ?? 2 * HOUR_MS,
    tolerance: options.tolerance ?? "0",
    types: ["dev.millwright.workorder.completed.v1", "dev.millwright.productionconfirmation.confirmed.v1", "dev.millwright.productioncount.counted.v1"],
    observe: (e) => {
      if (e.type === "dev.millwright.workorder.completed.v1") return systems(e.source) === "floor" ? { key: e.data.orderId, role: "trigger", site: e.data.site.id } : undefined;
      if (e.type === "dev.millwright.productionconfirmation.confirmed.v1") {
        if (systems(e.source) !== "erp") return undefined;
        const c = e.data;
        const key = c.order.orderId;
        if (c.reverses !== undefined) return { key, quantity: c.yieldQuantity, site: c.site.id, fact: c.confirmationId, role: "partial", reversal: true, reverses: c.reverses };
        return { key, quantity: c.yieldQuantity, site: c.site.id, fact: c.confirmationId, role: c.isFinal ? "fulfilment" : "partial" };
      }
      if (e.type === "dev.millwright.productioncount.counted.v1") {
        const { order, equipment } = e.data;
        if (order === undefined || systems(e.source) !== "floor") return undefined;
        const site = equipment.site?.id;
        const counted: Writable<Observation> = { key: order.orderId, role: "measure", quantity: e.data.goodQuantity, line: equipment.id };
        if (site !== undefined) counted.site = site;
        return counted;
      }
      return undefined;
    },
  });
}

/**
 * A quality hold placed by a system that decides holds (the ERP's quality management, the MES,
 * or a QMS) ends (released, rejected or cancelled) within the deadline (default 72 h). Keyed by
 * holdId. That ERP and WMS block and unblock the stock is checked by
 * {@link qualityHoldBlockedRule} and {@link qualityHoldUnblockedRule}.
 *
 * @param options - the deadline and the system classifier
 * @returns the rule `qualityhold-closed`
 * @example
 * const rule = qualityHoldClosedRule({ deadlineMs: 24 * 3_600_000 });
 */
export function qualityHoldClosedRule(options: HoldOptions = {}): AlignmentRule {
  const systems = options.systems ?? defaultSystemOf;
  return defineRule({
    name: "qualityhold-closed",
    description: "a placed quality hold is released, rejected or cancelled within the deadline",
    deadlineMs: options.deadlineMs ?? 72 * HOUR_MS,
    types: ["dev.millwright.qualityhold.placed.v1", "dev.millwright.qualityhold.released.v1"],
    observe: (e) => {
      if (e.type !== "dev.millwright.qualityhold.placed.v1" && e.type !== "dev.millwright.qualityhold.released.v1") return undefined;
      if (!decidesHolds(e.source, systems)) return undefined;
      return observation(e.data.holdId, e.type === "dev.millwright.qualityhold.placed.v1" ? "trigger" : "fulfilment", { site: heldBatch(e.data)?.site });
    },
  });
}

function decidesHolds(source: string, systems: SystemClassifier): boolean {
  const role = systems(source);
  return role !== undefined && HOLD_DECIDERS.has(role);
}

/** A posted movement (reversals included) from a system playing `role`; `undefined` for other events. */
function movement(e: CanonicalEvent, systems: SystemClassifier): { readonly m: MaterialMovement; readonly role: SystemRole | undefined } | undefined {
  if (e.type !== "dev.millwright.materialmovement.posted.v1") return undefined;
  return { m: e.data, role: systems(e.source) };
}

/** Whether a movement undoes earlier postings (SAP 102, 262, …), named in `reverses` or not. */
const isReversal = (m: MaterialMovement): boolean => m.isReversal === true || m.reverses !== undefined;

/**
 * A movement as a rule reads it: a fact (its movementId) that a later reversal can name, or, for a
 * reversal, a netting observation on `reversalSide` (the side of what it undoes) that names what it
 * reverses when the source says.
 */
function movementObservation(key: string, m: MaterialMovement, role: Observation["role"], reversalSide: "partial" | "measure", withQuantity: boolean): Observation {
  // Assigned field by field: spreads cost more than the rest of the rule on the ingest path.
  const site = siteOf(m);
  const reversal = isReversal(m);
  const read: Writable<Observation> = { key, role: reversal ? reversalSide : role, fact: m.movementId };
  if (withQuantity) read.quantity = m.quantity;
  if (site !== undefined) read.site = site;
  if (reversal) {
    read.reversal = true;
    if (m.reverses !== undefined) read.reverses = m.reverses;
  }
  return read;
}

const siteOf = (m: MaterialMovement): string | undefined => m.from?.site.id ?? m.to?.site.id;

function observation(key: string, role: Observation["role"], extra: { readonly quantity?: Observation["quantity"]; readonly site?: string | undefined }): Observation {
  const read: Writable<Observation> = { key, role };
  if (extra.quantity !== undefined) read.quantity = extra.quantity;
  if (extra.site !== undefined) read.site = extra.site;
  return read;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Material the floor reports consumed for an order is issued in the ERP within the deadline
 * (default 2 h), with the same quantity within the tolerance (default "0"): Σ floor consumption
 * (`materialmovement.posted.v1`, kind `consumed`, from a floor system) = Σ ERP goods issues (kind
 * `consumed`, from the ERP, SAP movement type 261). Keyed by `orderId/material`. Reversals are
 * netted: an ERP reversal (SAP 262) takes its quantity off the issued side, and a reversal the
 * floor reports (material returned) takes it off the consumed side; both stay in the evidence.
 * Quantities are compared at the deadline, so consumption reported within it still counts.
 *
 * @param options - the deadline, the tolerance and the system classifier
 * @returns the rule `goodsissue-posted`
 * @example
 * const rule = goodsIssuePostedRule({ deadlineMs: 3_600_000, tolerance: "0.001" });
 */
export function goodsIssuePostedRule(options: MovementOptions = {}): AlignmentRule {
  const systems = options.systems ?? defaultSystemOf;
  return defineRule({
    name: "goodsissue-posted",
    description: "material the floor consumed for an order is issued in the ERP within the deadline, in the same quantity",
    deadlineMs: options.deadlineMs ?? 2 * HOUR_MS,
    tolerance: options.tolerance ?? "0",
    types: ["dev.millwright.materialmovement.posted.v1"],
    observe: (e) => {
      const posted = movement(e, systems);
      if (posted === undefined || posted.m.kind !== "consumed" || posted.m.order === undefined) return undefined;
      const { m, role } = posted;
      const key = `${m.order?.orderId ?? ""}/${m.material.id}`;
      if (role === "floor") return movementObservation(key, m, "trigger", "measure", true);
      if (role === "erp") return movementObservation(key, m, "fulfilment", "partial", true);
      return undefined;
    },
  });
}

/**
 * A batch the floor produced (`batch.created.v1` with an `originOrder`, from a floor system) is
 * received in the ERP within the deadline (default 2 h): a goods receipt (`materialmovement.posted.v1`,
 * kind `produced`, from the ERP, SAP movement type 101) of that material and batch, with the batch's
 * quantity within the tolerance when the batch gives one. Keyed by `material/batch`. A reversal
 * (SAP 102) takes its quantity off the received side, and a receipt it names no longer meets the rule.
 *
 * @param options - the deadline, the tolerance and the system classifier
 * @returns the rule `goodsreceipt-posted`
 * @example
 * const rule = goodsReceiptPostedRule({ deadlineMs: 4 * 3_600_000 });
 */
export function goodsReceiptPostedRule(options: MovementOptions = {}): AlignmentRule {
  const systems = options.systems ?? defaultSystemOf;
  return defineRule({
    name: "goodsreceipt-posted",
    description: "a batch the floor produced is received in the ERP within the deadline, in the same quantity",
    deadlineMs: options.deadlineMs ?? 2 * HOUR_MS,
    tolerance: options.tolerance ?? "0",
    types: ["dev.millwright.batch.created.v1", "dev.millwright.materialmovement.posted.v1"],
    observe: (e) => {
      if (e.type === "dev.millwright.batch.created.v1") {
        const b = e.data;
        if (b.originOrder === undefined || systems(e.source) !== "floor") return undefined;
        return observation(`${b.material.id}/${b.batchId}`, "trigger", { quantity: b.quantity, site: b.site?.id });
      }
      const posted = movement(e, systems);
      if (posted === undefined || posted.role !== "erp" || posted.m.kind !== "produced" || posted.m.batchId === undefined) return undefined;
      return movementObservation(`${posted.m.material.id}/${posted.m.batchId}`, posted.m, "fulfilment", "partial", true);
    },
  });
}

const HELD: ReadonlySet<StockType> = new Set(["blocked", "quality_inspection"]);

/** The `material/batch` key of a hold on one batch; other scopes are not checked against stock. */
function heldBatch(h: QualityHold): { readonly key: string; readonly site?: string } | undefined {
  if (h.scope.kind !== "batch") return undefined;
  const { material, batchId, site } = h.scope.batch;
  return { key: `${material.id}/${batchId}`, ...(site === undefined ? {} : { site: site.id }) };
}

/** A stock status change of one batch, from the checked system, to a held or to unrestricted stock. */
function statusChange(e: CanonicalEvent, systems: SystemClassifier, system: "erp" | "wms"): { readonly key: string; readonly held: boolean; readonly m: MaterialMovement } | undefined {
  const posted = movement(e, systems);
  if (posted === undefined || posted.role !== system) return undefined;
  const { m } = posted;
  if ((m.kind !== "status_changed" && m.kind !== "transferred") || m.to === undefined || m.batchId === undefined) return undefined;
  return { key: `${m.material.id}/${m.toBatchId ?? m.batchId}`, held: HELD.has(m.to.stockType), m };
}

/**
 * A quality hold placed on a batch (`qualityhold.placed.v1`, batch scope, held stock type
 * `quality_inspection` or `blocked`) is reflected in the stock of the ERP or of the WMS within the
 * deadline (default 1 h): a status change or transfer of that batch into quality inspection or
 * blocked stock, posted by that system. Keyed by `material/batch`. Holds on a material at a site or
 * on an order's output are not checked against stock.
 *
 * @param options - whose stock (`system`), the deadline and the system classifier
 * @returns the rule `qualityhold-blocked-erp` or `qualityhold-blocked-wms`
 * @example
 * const rules = [qualityHoldBlockedRule({ system: "erp" }), qualityHoldBlockedRule({ system: "wms", deadlineMs: 15 * 60_000 })];
 */
export function qualityHoldBlockedRule(options: BlockingOptions): AlignmentRule {
  return stockStatusRule(options, {
    action: "blocked",
    description: "a batch placed on quality hold is blocked",
    triggerType: "dev.millwright.qualityhold.placed.v1",
    // The hold's trigger: placed on a batch, in a held stock type.
    trigger: (e) => (e.type === "dev.millwright.qualityhold.placed.v1" && e.data.heldStockType !== "unrestricted" ? heldBatch(e.data) : undefined),
    held: true,
  });
}

/**
 * A quality hold on a batch released for use (`qualityhold.released.v1` with status `released`)
 * is reflected in the stock of the ERP or of the WMS within the deadline (default 1 h): a status
 * change or transfer of that batch into unrestricted stock, posted by that system. Keyed by
 * `material/batch`. Rejected and cancelled holds are not checked.
 *
 * @param options - whose stock (`system`), the deadline and the system classifier
 * @returns the rule `qualityhold-unblocked-erp` or `qualityhold-unblocked-wms`
 * @example
 * const rule = qualityHoldUnblockedRule({ system: "wms" });
 */
export function qualityHoldUnblockedRule(options: BlockingOptions): AlignmentRule {
  return stockStatusRule(options, {
    action: "unblocked",
    description: "a batch released from quality hold is unblocked",
    triggerType: "dev.millwright.qualityhold.released.v1",
    trigger: (e) => (e.type === "dev.millwright.qualityhold.released.v1" && e.data.status === "released" ? heldBatch(e.data) : undefined),
    held: false,
  });
}

/** The blocking rules: a hold event on a batch → that system moves the batch into (or out of) held stock. */
function stockStatusRule(
  options: BlockingOptions,
  shape: {
    readonly action: "blocked" | "unblocked";
    readonly description: string;
    /** The hold event type the trigger reads. */
    readonly triggerType: "dev.millwright.qualityhold.placed.v1" | "dev.millwright.qualityhold.released.v1";
    readonly trigger: (e: CanonicalEvent) => { readonly key: string; readonly site?: string } | undefined;
    readonly held: boolean;
  },
): AlignmentRule {
  const systems = options.systems ?? defaultSystemOf;
  const { system } = options;
  return defineRule({
    name: `qualityhold-${shape.action}-${system}`,
    description: `${shape.description} in the ${system.toUpperCase()}'s stock within the deadline`,
    deadlineMs: options.deadlineMs ?? HOUR_MS,
    types: [shape.triggerType, "dev.millwright.materialmovement.posted.v1"],
    observe: (e) => {
      const hold = shape.trigger(e);
      if (hold !== undefined) return decidesHolds(e.source, systems) ? observation(hold.key, "trigger", { site: hold.site }) : undefined;
      const change = statusChange(e, systems, system);
      // A reversal of such a move undoes it: the move it names no longer meets the rule.
      return change?.held === shape.held ? movementObservation(change.key, change.m, "fulfilment", "partial", false) : undefined;
    },
  });
}

/** Options of {@link builtInRules}, per rule; `systems` applies to every rule that compares systems. */
export interface BuiltInRuleOptions extends SystemOptions {
  readonly workOrderStarted?: DeadlineOptions;
  readonly productionConfirmed?: ConfirmationOptions;
  readonly goodsIssuePosted?: MovementOptions;
  readonly goodsReceiptPosted?: MovementOptions;
  readonly qualityHoldBlocked?: DeadlineOptions;
  readonly qualityHoldUnblocked?: DeadlineOptions;
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
  const systems = options.systems === undefined ? {} : { systems: options.systems };
  return [
    workOrderStartedRule({ ...systems, ...options.workOrderStarted }),
    productionConfirmedRule({ ...systems, ...options.productionConfirmed }),
    goodsIssuePostedRule({ ...systems, ...options.goodsIssuePosted }),
    goodsReceiptPostedRule({ ...systems, ...options.goodsReceiptPosted }),
    qualityHoldBlockedRule({ ...systems, ...options.qualityHoldBlocked, system: "erp" }),
    qualityHoldBlockedRule({ ...systems, ...options.qualityHoldBlocked, system: "wms" }),
    qualityHoldUnblockedRule({ ...systems, ...options.qualityHoldUnblocked, system: "erp" }),
    qualityHoldUnblockedRule({ ...systems, ...options.qualityHoldUnblocked, system: "wms" }),
    qualityHoldClosedRule({ ...systems, ...options.qualityHoldClosed }),
  ];
}
