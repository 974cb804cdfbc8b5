import { createRequire } from "node:module";
import { eventCatalog, eventTypes, type EventType } from "@millwright/model";

/** A deprecation mark of the catalog: since when, the type to use instead, and why. */
export interface CatalogDeprecation {
  /** The release that deprecated the type. */
  readonly since: string;
  /** The type producers should publish instead. */
  readonly replacedBy: string;
  /** Why, and how consumers keep reading the old type. */
  readonly reason: string;
}

/** One catalog entry as the `catalog` command shows it. */
export interface CatalogRow {
  readonly type: EventType;
  readonly entity: string;
  readonly subject: string;
  readonly partitionKey: readonly string[];
  readonly ordering: string;
  readonly dataschema: string;
  readonly description: string;
  /** Present when the type is deprecated (`x-event.deprecated` of its schema). */
  readonly deprecated?: CatalogDeprecation;
}

const installedBundle = (): CatalogBundle => createRequire(import.meta.url)("@millwright/model/schemas/bundle.schema.json") as CatalogBundle;

/** A contract bundle as far as the catalog reads it: its event types' deprecation marks. */
export interface CatalogBundle {
  readonly $defs: Readonly<Record<string, { readonly "x-event"?: { readonly type: string; readonly deprecated?: CatalogDeprecation } }>>;
}

/** The deprecation marks of a bundle (the generated catalog does not carry them). */
function deprecations(bundle: CatalogBundle): Map<string, CatalogDeprecation> {
  const out = new Map<string, CatalogDeprecation>();
  for (const def of Object.values(bundle.$defs)) {
    const meta = def["x-event"];
    if (meta?.deprecated !== undefined) out.set(meta.type, meta.deprecated);
  }
  return out;
}

/**
 * The event catalog of this version, in type order.
 *
 * @param bundle - the bundle whose deprecation marks are shown (default: the installed one)
 * @returns one row per event type
 * @example
 * catalogRows().map((r) => r.type);
 */
export function catalogRows(bundle: CatalogBundle = installedBundle()): CatalogRow[] {
  const marks = deprecations(bundle);
  return eventTypes.map((type) => {
    const e = eventCatalog[type];
    const deprecated = marks.get(type);
    return {
      type,
      entity: e.entity,
      subject: e.subject,
      partitionKey: e.partitionKey,
      ordering: e.ordering,
      dataschema: e.dataSchema,
      description: e.description,
      ...(deprecated === undefined ? {} : { deprecated }),
    };
  });
}

/** Renders the catalog as an aligned text table for a terminal. */
export function renderCatalog(rows: readonly CatalogRow[]): string {
  const header = ["type", "entity", "subject", "partition key", "status"];
  const body = rows.map((r) => [r.type, r.entity, r.subject, r.partitionKey.join(" + "), r.deprecated === undefined ? "" : `deprecated since ${r.deprecated.since}: use ${r.deprecated.replacedBy}`]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
