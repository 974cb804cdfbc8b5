import { eventCatalog, eventTypes, type EventType } from "@millwright/model";

/** One catalog entry as the `catalog` command shows it. */
export interface CatalogRow {
  readonly type: EventType;
  readonly entity: string;
  readonly subject: string;
  readonly partitionKey: readonly string[];
  readonly ordering: string;
  readonly dataschema: string;
  readonly description: string;
}

/**
 * The event catalog of this version, in type order.
 *
 * @returns one row per event type
 * @example
 * catalogRows().map((r) => r.type);
 */
export function catalogRows(): CatalogRow[] {
  return eventTypes.map((type) => {
    const e = eventCatalog[type];
    return {
      type,
      entity: e.entity,
      subject: e.subject,
      partitionKey: e.partitionKey,
      ordering: e.ordering,
      dataschema: e.dataSchema,
      description: e.description,
    };
  });
}

/** Renders the catalog as an aligned text table for a terminal. */
export function renderCatalog(rows: readonly CatalogRow[]): string {
  const header = ["type", "entity", "subject", "partition key"];
  const body = rows.map((r) => [r.type, r.entity, r.subject, r.partitionKey.join(" + ")]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
