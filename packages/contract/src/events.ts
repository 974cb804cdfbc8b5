import type { SchemaFile, SchemaNode } from "./schemas.js";

/**
 * The `x-event` annotation of an event data schema: the catalog entry of one CloudEvents type.
 *
 * @example
 * const meta: EventMeta = { type: "dev.millwright.batch.created.v1", entity: "Batch", subject: "/batchId", partitionKey: ["/batchId"], ordering: "by revision" };
 */
export interface EventMeta {
  readonly type: string;
  /** Present when producers should move to another type; the type stays readable. */
  readonly deprecated?: EventDeprecation;
  readonly entity: string;
  readonly subject: string;
  readonly partitionKey: readonly string[];
  readonly ordering: string;
  readonly dataRequires?: Readonly<Record<string, readonly unknown[]>>;
}

/**
 * The deprecation mark of an event type (`x-event.deprecated`): since which release, the type to
 * publish instead, and why (with how consumers keep reading the old type).
 *
 * @example
 * const mark: EventDeprecation = { since: "0.2.0", replacedBy: "dev.millwright.machinestate.changed.v2", reason: "v2 always states the operation mode" };
 */
export interface EventDeprecation {
  /** The release that deprecated the type. */
  readonly since: string;
  /** The type producers publish instead. */
  readonly replacedBy: string;
  /** Why, and how consumers keep reading the old type. */
  readonly reason: string;
}

/**
 * One row of the event catalog: the `x-event` annotation with the data schema's title, `$id`, file and description.
 *
 * @example
 * const [first]: EventEntry[] = eventEntries(files);
 */
export interface EventEntry extends EventMeta {
  readonly title: string;
  readonly schemaId: string;
  readonly file: string;
  readonly description: string;
}

const TYPE = /^dev\.millwright\.([a-z]+)\.([a-z]+)\.v([1-9][0-9]*)$/;

/**
 * Reads the catalog from the event schemas, in type order.
 *
 * @param files - the files read by `readSchemaFiles`
 * @returns one entry per event schema, sorted by type
 * @example
 * eventEntries(files).map((e) => e.type);
 */
export function eventEntries(files: readonly SchemaFile[]): EventEntry[] {
  return files
    .filter((f) => f.group === "events")
    .map((f) => ({
      ...(f.schema["x-event"] as EventMeta),
      title: f.title,
      schemaId: f.id,
      file: f.file,
      description: String(f.schema["description"]),
    }))
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/**
 * Checks every event schema: a versioned reverse-DNS type `dev.millwright.<entity>.<action>.v<major>`
 * used once, data that is exactly its entity's schema, subject, partition key and required
 * values that point at properties the entity has, and deprecation marks that name another type.
 *
 * @param files - the files read by `readSchemaFiles`
 * @param bundle - their bundle, from `bundleSchemas`
 * @returns one message per problem; empty when the catalog is sound
 * @example
 * const problems = lintEvents(files, bundleSchemas(files));
 */
export function lintEvents(files: readonly SchemaFile[], bundle: SchemaNode): string[] {
  const problems: string[] = [];
  const defs = bundle["$defs"] as Record<string, SchemaNode>;
  const seen = new Set<string>();
  for (const e of eventEntries(files)) {
    const where = e.file;
    const m = TYPE.exec(e.type ?? "");
    if (m === null) {
      problems.push(`${where}: x-event.type ${JSON.stringify(e.type)} must be dev.millwright.<entity>.<action>.v<major>`);
      continue;
    }
    if (seen.has(e.type)) problems.push(`${where}: event type ${e.type} is declared twice`);
    seen.add(e.type);
    if (m[1] !== e.entity.toLowerCase()) problems.push(`${where}: the type's entity segment must be ${e.entity.toLowerCase()}`);
    if (!e.title.endsWith("Data")) problems.push(`${where}: the title of an event data schema ends in Data`);
    if (defs[e.title]?.["$ref"] !== `#/$defs/${e.entity}`) problems.push(`${where}: the data schema must be exactly a $ref to the ${e.entity} entity`);
    if (typeof e.ordering !== "string" || e.ordering.length === 0) problems.push(`${where}: x-event.ordering must say the ordering rule`);
    const pointers = [e.subject, ...(e.partitionKey ?? []), ...Object.keys(e.dataRequires ?? {})];
    for (const p of pointers) {
      if (resolvePointer(defs, e.entity, p) === undefined) problems.push(`${where}: ${p} is not a property of ${e.entity}`);
    }
    if (e.deprecated !== undefined) problems.push(...lintDeprecation(e, files));
    for (const [p, values] of Object.entries(e.dataRequires ?? {})) {
      const target = resolvePointer(defs, e.entity, p);
      const allowed = target?.["enum"] as unknown[] | undefined;
      const boolean = target?.["type"] === "boolean";
      if (!values.every((v) => (boolean ? typeof v === "boolean" : allowed?.includes(v)))) {
        problems.push(`${where}: dataRequires ${p} lists a value the schema does not allow`);
      }
    }
  }
  return problems;
}

/** A deprecation mark names its release, a reason, and a different type of the catalog to use instead. */
function lintDeprecation(e: EventEntry, files: readonly SchemaFile[]): string[] {
  const d = e.deprecated as Partial<EventDeprecation> & Record<string, unknown>;
  const problems: string[] = [];
  const extra = Object.keys(d).filter((k) => k !== "since" && k !== "replacedBy" && k !== "reason");
  if (extra.length > 0) problems.push(`${e.file}: x-event.deprecated has since, replacedBy and reason only (found ${extra.join(", ")})`);
  for (const key of ["since", "replacedBy", "reason"] as const) {
    if (typeof d[key] !== "string" || d[key].length === 0) problems.push(`${e.file}: x-event.deprecated.${key} must be a non-empty string`);
  }
  const types = new Set(files.filter((f) => f.group === "events").map((f) => (f.schema["x-event"] as EventMeta | undefined)?.type));
  if (typeof d.replacedBy === "string" && (d.replacedBy === e.type || !types.has(d.replacedBy))) {
    problems.push(`${e.file}: x-event.deprecated.replacedBy must name another type of the catalog (got ${JSON.stringify(d.replacedBy)})`);
  }
  return problems;
}

/**
 * Follows a JSON Pointer through an entity's properties and $refs to the schema of that value.
 *
 * @param defs - the bundle's `$defs`
 * @param title - the entity's title
 * @param pointer - a JSON Pointer into the entity, such as `/site/id`
 * @returns the schema of the value there, or undefined when the entity has no such property
 * @example
 * resolvePointer(bundle.$defs, "WorkOrder", "/status"); // the WorkOrderStatus schema
 */
export function resolvePointer(defs: Record<string, SchemaNode>, title: string, pointer: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = defs[title];
  for (const segment of pointer.split("/").slice(1)) {
    node = deref(defs, node);
    node = (node?.["properties"] as Record<string, SchemaNode> | undefined)?.[segment];
  }
  return deref(defs, node);
}

function deref(defs: Record<string, SchemaNode>, node: SchemaNode | undefined): SchemaNode | undefined {
  let current = node;
  for (let i = 0; i < 8 && typeof current?.["$ref"] === "string"; i++) {
    current = defs[String(current["$ref"]).replace("#/$defs/", "")];
  }
  return current;
}
