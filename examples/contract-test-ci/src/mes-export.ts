/**
 * The consumer's own code: how this MES exports its orders as canonical Millwright facts. This is
 * what the contract test holds to the contract.
 */
import { createEvent, type CreatedEvent, type EventError } from "@millwright/events";
import { parseWorkOrder, type ModelError, type WorkOrder } from "@millwright/model";

/** The MES's unit names; the contract wants UN/CEFACT Rec 20 codes. */
type MesUnit = "pcs" | "kg" | "m";

/** A row of the MES's own order table. */
export interface MesOrderRow {
  readonly order_no: string;
  readonly plant: string;
  readonly item: string;
  readonly qty: number;
  readonly uom: MesUnit;
  readonly released_at: string;
  readonly ops: readonly { readonly op: string; readonly wc: string }[];
  readonly bom: readonly { readonly pos: string; readonly item: string; readonly qty: number; readonly uom: MesUnit; readonly op: string }[];
}

const UNITS: Readonly<Record<MesUnit, string>> = { pcs: "H87", kg: "KGM", m: "MTR" };

/** A quantity as the contract writes it: an exact decimal string and a Rec 20 unit. */
function quantity(value: number, unit: MesUnit): { readonly value: string; readonly unit: string } {
  // toFixed, not String(): String(1e21) is "1e+21", which is not a decimal the contract accepts.
  return { value: value.toFixed(3).replace(/\.?0+$/, ""), unit: UNITS[unit] };
}

/**
 * Maps an MES order row to the canonical WorkOrder, unchecked: what the MES believes it sends.
 *
 * @param row - the MES row
 * @returns the record as the MES would publish it
 */
export function toCanonicalWorkOrder(row: MesOrderRow): unknown {
  return {
    orderId: row.order_no,
    site: { id: row.plant },
    material: { id: row.item },
    status: "released",
    plannedQuantity: quantity(row.qty, row.uom),
    operations: row.ops.map((o) => ({ operationId: o.op, status: "released", workCenter: { id: o.wc, level: "work_cell", site: { id: row.plant } } })),
    components: row.bom.map((c) => ({ itemId: c.pos, material: { id: c.item }, operationId: c.op, requiredQuantity: quantity(c.qty, c.uom) })),
    revision: row.released_at.replace(/\D/g, "").slice(0, 14),
    sourceRefs: [{ system: "mes-fab", kind: "order", key: row.order_no }],
  };
}

/**
 * The MES's released-order event for a row, validated on the way out.
 *
 * @param row - the MES row
 * @returns the canonical event, or every issue of the record
 */
export function toReleasedEvent(row: MesOrderRow) {
  return parseWorkOrder(toCanonicalWorkOrder(row))
    .mapErr((error): ModelError | EventError => error)
    .andThen((order: WorkOrder) => createEvent({ type: "dev.millwright.workorder.released.v1", source: "urn:millwright:mes:line-fab", time: row.released_at, data: order }))
    .map((event): CreatedEvent => event);
}
