// A cheap, conservative check of a WorkOrder the mapper has just built. When it says yes, the order
// satisfies the WorkOrder schema and its semantic rules, so `parseWorkOrder`'s second walk of every
// field (about a third of the mapping's time) is not needed. When it says no, or meets anything it
// does not know for sure (a non-ASCII end of an identifier, a negative or non-canonical decimal,
// extensions, a timestamp not in the form composeTimestamp writes), the caller runs
// `parseWorkOrder`, so every error is still the model's own error, naming field, value and rule.
//
// It relies on what the mapper builds: only the schema's keys, the enum values of its derive
// functions, one unit per quantity pair. map-work-order.test.ts validates every order it maps, from
// the fixtures and thousands of mutated payloads, with the generated validator, so a mapper or
// schema change that breaks this reliance fails there.
import { compareTimestamps, type Quantity, type Schedule, type StockLocation, type WorkOrder } from "@millwright/model";

const STATUSES: ReadonlySet<string> = new Set(["planned", "released", "in_progress", "on_hold", "completed", "closed", "cancelled"]);
const STOCK_TYPES: ReadonlySet<string> = new Set(["unrestricted", "quality_inspection", "blocked"]);
/** The schema's Identifier pattern, for the rare identifier whose first or last character is not ASCII. */
const IDENTIFIER = /^[^\u0000-\u001f\u007f-\u009f\s](?:[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u001f\u007f-\u009f\s])?$/u;

/** Identifier: 1–128 characters, no control characters, no white space at either end. */
function isIdentifier(s: unknown): boolean {
  if (typeof s !== "string") return false;
  const n = s.length;
  // UTF-16 length >= code points, so n <= 128 keeps the schema's maxLength (code points).
  if (n === 0 || n > 128) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
  }
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(n - 1);
  // ASCII white space is below 0x21 (control characters are refused above).
  if (first <= 0x20 || last <= 0x20) return false;
  return first < 0x7f && last < 0x7f ? true : IDENTIFIER.test(s);
}

/** A non-negative canonical Decimal: `(0|[1-9][0-9]{0,30})(\.[0-9]{1,15})?` (a sign sends the order to parseWorkOrder). */
function isPlainDecimal(s: string): boolean {
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  if (i === 0 || i > 31 || (i > 1 && s.charCodeAt(0) === 48)) return false;
  if (i === n) return true;
  if (s.charCodeAt(i) !== 46 /* . */) return false;
  const fraction = n - i - 1;
  if (fraction < 1 || fraction > 15) return false;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** UnitCode: `[A-Z0-9]{2,3}`. */
function isUnitCode(s: string): boolean {
  const n = s.length;
  if (n < 2 || n > 3) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90))) return false;
  }
  return true;
}

function isQuantity(q: Quantity): boolean {
  return typeof q.value === "string" && typeof q.unit === "string" && isPlainDecimal(q.value) && isUnitCode(q.unit);
}

/** An optional quantity: absent, or valid and in the unit of `ref` (when there is a `ref`). */
function isSameUnitQuantity(q: Quantity | undefined, ref: Quantity | undefined): boolean {
  return q === undefined || (isQuantity(q) && (ref === undefined || q.unit === ref.unit));
}

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * Timestamp in the form composeTimestamp writes: `YYYY-MM-DDThh:mm:ss` then `Z` or `±hh:mm`, a real
 * calendar day (the schema's pattern and its date-time format both hold).
 */
function isPlainTimestamp(s: unknown): boolean {
  if (typeof s !== "string") return false;
  const n = s.length;
  if (n === 20) {
    if (s.charCodeAt(19) !== 90 /* Z */) return false;
  } else if (n === 25) {
    const sign = s.charCodeAt(19);
    if (sign !== 43 && sign !== 45) return false;
    const oh = twoDigits(s, 20);
    const om = twoDigits(s, 23);
    if (s.charCodeAt(22) !== 58 || oh < 0 || oh > 23 || om < 0 || om > 59) return false;
  } else return false;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false;
  const y1 = twoDigits(s, 0);
  const y0 = twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  if (y1 < 0 || y0 < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const year = y1 * 100 + y0;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0));
}

function endNotBefore(start: string | undefined, end: string | undefined): boolean {
  return start === undefined || end === undefined || compareTimestamps(end, start) >= 0;
}

function isSchedule(s: Schedule): boolean {
  if (s.plannedStart !== undefined && !isPlainTimestamp(s.plannedStart)) return false;
  if (s.plannedEnd !== undefined && !isPlainTimestamp(s.plannedEnd)) return false;
  if (s.scheduledStart !== undefined && !isPlainTimestamp(s.scheduledStart)) return false;
  if (s.scheduledEnd !== undefined && !isPlainTimestamp(s.scheduledEnd)) return false;
  if (s.actualStart !== undefined && !isPlainTimestamp(s.actualStart)) return false;
  if (s.actualEnd !== undefined && !isPlainTimestamp(s.actualEnd)) return false;
  return endNotBefore(s.plannedStart, s.plannedEnd) && endNotBefore(s.scheduledStart, s.scheduledEnd) && endNotBefore(s.actualStart, s.actualEnd);
}

function isStockLocation(l: StockLocation): boolean {
  return isIdentifier(l.site.id) && (l.storageLocation === undefined || isIdentifier(l.storageLocation)) && STOCK_TYPES.has(l.stockType);
}

/** Revision: `0|[1-9][0-9]{0,19}`. */
function isRevision(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20 || (n > 1 && s.charCodeAt(0) === 48)) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Whether one of the first `end` operations has this id (operations lists are short: at most 999). */
function hasOperation(ops: WorkOrder["operations"], id: string, end: number): boolean {
  for (let j = 0; j < end; j++) if (ops[j]!.operationId === id) return true;
  return false;
}

/**
 * Whether a WorkOrder built by mapProductionOrder certainly passes `parseWorkOrder` (schema and
 * semantic rules). False means "not known": run `parseWorkOrder` for the verdict and its error.
 *
 * @param w - the order the mapper built
 * @returns true only when every schema constraint and rule is known to hold
 */
export function isCheckedWorkOrder(w: WorkOrder): boolean {
  if (w.extensions !== undefined) return false;
  if (!isIdentifier(w.orderId) || (w.orderType !== undefined && !isIdentifier(w.orderType))) return false;
  if (!isIdentifier(w.site.id) || !isIdentifier(w.material.id) || !STATUSES.has(w.status)) return false;
  const statuses = w.sourceStatuses;
  if (statuses !== undefined) {
    if (statuses.length > 64) return false;
    for (const s of statuses) if (!isIdentifier(s)) return false;
  }
  const planned = w.plannedQuantity;
  if (!isQuantity(planned)) return false;
  if (!isSameUnitQuantity(w.plannedScrapQuantity, planned) || !isSameUnitQuantity(w.confirmedYieldQuantity, planned) || !isSameUnitQuantity(w.confirmedScrapQuantity, planned)) return false;
  if (w.priority !== undefined && !(Number.isInteger(w.priority) && w.priority >= 1 && w.priority <= 999)) return false;
  if (w.schedule !== undefined && !isSchedule(w.schedule)) return false;
  const out = w.outputBatch;
  if (out !== undefined && (!isIdentifier(out.material.id) || !isIdentifier(out.batchId) || out.material.id !== w.material.id || out.site !== undefined)) return false;
  if (w.receivingLocation !== undefined && !isStockLocation(w.receivingLocation)) return false;
  if (!isRevision(w.revision)) return false;
  const refs = w.sourceRefs;
  if (refs.length < 1 || refs.length > 16) return false;
  for (const r of refs) if (!isIdentifier(r.system) || !isIdentifier(r.kind) || !isIdentifier(r.key)) return false;

  const ops = w.operations;
  if (ops.length > 999) return false;
  // Sets of ids only for longer lists; short ones are scanned (no allocation).
  const opIds = ops.length > 8 ? new Set<string>() : undefined;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (!isIdentifier(op.operationId) || !STATUSES.has(op.status)) return false;
    if (opIds === undefined) {
      if (hasOperation(ops, op.operationId, i)) return false;
    } else {
      if (opIds.has(op.operationId)) return false;
      opIds.add(op.operationId);
    }
    if (op.sequence !== undefined && !isIdentifier(op.sequence)) return false;
    // maxLength 1024 code points; the UTF-16 length is an upper bound.
    if (op.description !== undefined && (typeof op.description !== "string" || op.description.length > 1024)) return false;
    const wc = op.workCenter;
    if (wc !== undefined && (!isIdentifier(wc.id) || wc.level !== "work_center" || !isIdentifier(wc.site.id) || wc.path !== undefined)) return false;
    const p = op.plannedQuantity;
    if (p !== undefined && !isQuantity(p)) return false;
    if (!isSameUnitQuantity(op.confirmedYieldQuantity, p) || !isSameUnitQuantity(op.confirmedScrapQuantity, p)) return false;
    if (op.schedule !== undefined && !isSchedule(op.schedule)) return false;
  }

  const components = w.components;
  if (components.length > 9999) return false;
  const itemIds = components.length > 8 ? new Set<string>() : undefined;
  for (let i = 0; i < components.length; i++) {
    const c = components[i]!;
    if (!isIdentifier(c.itemId) || !isIdentifier(c.material.id)) return false;
    if (itemIds === undefined) {
      for (let j = 0; j < i; j++) if (components[j]!.itemId === c.itemId) return false;
    } else {
      if (itemIds.has(c.itemId)) return false;
      itemIds.add(c.itemId);
    }
    if (c.operationId !== undefined && !(opIds === undefined ? hasOperation(ops, c.operationId, ops.length) : opIds.has(c.operationId))) return false;
    if (!isQuantity(c.requiredQuantity)) return false;
    if (!isSameUnitQuantity(c.withdrawnQuantity, c.requiredQuantity)) return false;
    if (c.supplyLocation !== undefined && !isStockLocation(c.supplyLocation)) return false;
    const batch = c.batch;
    if (batch !== undefined && (!isIdentifier(batch.batchId) || batch.material.id !== c.material.id || batch.site !== undefined)) return false;
    if ((c.backflush !== undefined && typeof c.backflush !== "boolean") || (c.finallyIssued !== undefined && typeof c.finallyIssued !== "boolean")) return false;
  }
  return true;
}
