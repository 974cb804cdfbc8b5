// The OData V2 JSON envelope: single-entity and collection responses, navigation properties and
// the `__metadata`/`__deferred` bookkeeping, read without knowing any entity type.
import { issue } from "@millwright/adapter-kit";
import { err, ok, type Result } from "neverthrow";
import type { SapWireIssue } from "./errors.js";

/** One OData V2 entity as JSON: property names to wire values. */
export type ODataRecord = Readonly<Record<string, unknown>>;

/** A page of an OData V2 collection: its rows, and the server's `__next` link and `__count` when sent. */
export interface ODataPage {
  readonly results: readonly ODataRecord[];
  readonly next?: string;
  readonly count?: number;
}

function isRecord(value: unknown): value is ODataRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Take the entity out of an OData V2 single-entity response `{"d": {…}}`.
 *
 * @param payload - the parsed JSON body
 * @returns the entity, or `invalid_envelope` when the body is not a V2 entity envelope
 * @example
 * ```ts
 * unwrapEntity({ d: { ManufacturingOrder: "1000123" } }); // ok({ ManufacturingOrder: "1000123" })
 * ```
 */
export function unwrapEntity(payload: unknown): Result<ODataRecord, SapWireIssue> {
  if (!isRecord(payload) || !isRecord(payload["d"])) {
    return err(issue("invalid_envelope", "/d", isRecord(payload) ? payload["d"] : payload, 'an OData V2 entity response is {"d": {…}}'));
  }
  const d = payload["d"];
  if (Array.isArray(d["results"])) {
    return err(issue("invalid_envelope", "/d/results", "[…]", "expected one entity, got a collection"));
  }
  return ok(d);
}

/**
 * Take the rows, `__next` and `__count` out of an OData V2 collection response
 * `{"d": {"results": […], "__next": "…"}}` (the V1-style `{"d": […]}` is accepted too).
 *
 * @param payload - the parsed JSON body
 * @returns the page, or `invalid_envelope`
 * @example
 * ```ts
 * unwrapCollection({ d: { results: [], __next: "A_ProductionOrder_2?$skiptoken=100" } });
 * ```
 */
export function unwrapCollection(payload: unknown): Result<ODataPage, SapWireIssue> {
  if (!isRecord(payload)) return err(issue("invalid_envelope", "", payload, 'an OData V2 collection response is {"d": {"results": […]}}'));
  const d = payload["d"];
  if (Array.isArray(d)) return toPage(d, undefined, undefined, "/d");
  if (!isRecord(d) || !Array.isArray(d["results"])) {
    return err(issue("invalid_envelope", "/d/results", isRecord(d) ? d["results"] : d, 'an OData V2 collection response is {"d": {"results": […]}}'));
  }
  return toPage(d["results"], d["__next"], d["__count"], "/d/results");
}

function toPage(rows: readonly unknown[], next: unknown, count: unknown, path: string): Result<ODataPage, SapWireIssue> {
  const bad = rows.findIndex((r) => !isRecord(r));
  if (bad >= 0) return err(issue("invalid_envelope", `${path}/${bad}`, rows[bad], "each row of a collection is an entity object"));
  const n = typeof count === "string" && /^\d+$/.test(count) ? Number(count) : typeof count === "number" ? count : undefined;
  return ok({
    results: rows as readonly ODataRecord[],
    ...(typeof next === "string" && next !== "" ? { next } : {}),
    ...(n === undefined ? {} : { count: n }),
  });
}

/**
 * What a navigation property of an entity holds. Every path is a JSON Pointer relative to the
 * navigation property, so `${entityPath}/${name}${path}` names a location that exists in the input.
 */
export type Navigation =
  /** Expanded rows (`{"results": […]}`, a bare array, or one inline entity) with each row's pointer. */
  | { readonly kind: "expanded"; readonly rows: readonly ODataRecord[]; readonly rowPaths: readonly string[] }
  /** Expanded rows the server paged: `__next` links to the rest, so `rows` is only part of the navigation. */
  | { readonly kind: "incomplete"; readonly rows: readonly ODataRecord[]; readonly rowPaths: readonly string[]; readonly next: string }
  /** Not expanded: `{"__deferred": {"uri": …}}`. */
  | { readonly kind: "deferred"; readonly uri: string }
  /** `null`: an expanded to-one navigation without a related entity (not a form of a to-many navigation). */
  | { readonly kind: "null" }
  /** The property is not in the entity. */
  | { readonly kind: "absent" }
  /** A value in none of these forms: where (`path`), what (`value`) and the rule it breaks. */
  | { readonly kind: "invalid"; readonly path: string; readonly value: unknown; readonly rule: string };

const NAVIGATION_FORMS = 'an OData V2 navigation is {"results": […]}, an entity object, null or {"__deferred": {"uri": …}}';

/** The rows of an expanded collection with their pointers, or the first element that is not an entity. */
function rowsOf(values: readonly unknown[], base: string): { rows: ODataRecord[]; rowPaths: string[] } | Navigation {
  const rows: ODataRecord[] = [];
  const rowPaths: string[] = [];
  for (const [i, row] of values.entries()) {
    if (!isRecord(row)) return { kind: "invalid", path: `${base}/${i}`, value: row, rule: "each row of an expanded navigation is an entity object" };
    rows.push(row);
    rowPaths.push(`${base}/${i}`);
  }
  return { rows, rowPaths };
}

/**
 * Read a navigation property: expanded `{"results": […]}` (or a bare array, or a single expanded
 * entity), server-paged (`__next` beside the rows), `{"__deferred": {"uri": …}}` when it was not
 * expanded, `null`, absent, or invalid. Rows are never dropped: a row that is not an entity makes
 * the navigation invalid, at that row's path.
 *
 * @param record - the entity
 * @param name - the navigation property, e.g. `to_ProductionOrderOperation`
 * @returns the navigation's content
 * @example
 * ```ts
 * readNavigation({ to_ProductionOrderOperation: { results: [] } }, "to_ProductionOrderOperation"); // expanded, no rows
 * ```
 */
export function readNavigation(record: ODataRecord, name: string): Navigation {
  if (!Object.prototype.hasOwnProperty.call(record, name)) return { kind: "absent" };
  const value = record[name];
  if (value === undefined) return { kind: "absent" };
  if (value === null) return { kind: "null" };
  if (Array.isArray(value)) {
    const read = rowsOf(value, "");
    return "kind" in read ? read : { kind: "expanded", ...read };
  }
  if (!isRecord(value)) return { kind: "invalid", path: "", value, rule: NAVIGATION_FORMS };
  if ("__deferred" in value) {
    const deferred = value["__deferred"];
    return isRecord(deferred) && typeof deferred["uri"] === "string"
      ? { kind: "deferred", uri: deferred["uri"] }
      : { kind: "invalid", path: "/__deferred", value: deferred, rule: 'a deferred navigation is {"__deferred": {"uri": "…"}}' };
  }
  if ("results" in value) {
    const results = value["results"];
    if (!Array.isArray(results)) return { kind: "invalid", path: "/results", value: results, rule: 'an expanded to-many navigation is {"results": […]}; SAP sends [] when there are no rows' };
    const read = rowsOf(results, "/results");
    if ("kind" in read) return read;
    const next = value["__next"];
    if (next === undefined || next === null) return { kind: "expanded", ...read };
    if (typeof next === "string" && next !== "") return { kind: "incomplete", ...read, next };
    return { kind: "invalid", path: "/__next", value: next, rule: "__next is the link to the next page of rows" };
  }
  if (!Object.keys(value).some((k) => !k.startsWith("__"))) return { kind: "invalid", path: "", value, rule: NAVIGATION_FORMS };
  return { kind: "expanded", rows: [value], rowPaths: [""] };
}

/**
 * Drop OData bookkeeping (`__metadata`, `__deferred` navigation stubs) from an entity.
 *
 * @param record - the entity as received
 * @returns the entity's plain properties
 * @example
 * ```ts
 * stripMetadata({ __metadata: { type: "x" }, Material: "FG-4711" }); // { Material: "FG-4711" }
 * ```
 */
export function stripMetadata(record: ODataRecord): ODataRecord {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (key.startsWith("__")) continue;
    if (isRecord(value) && isRecord(value["__deferred"])) continue;
    out[key] = value;
  }
  return out;
}
