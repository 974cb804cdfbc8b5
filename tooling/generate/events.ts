import type { SchemaFile, SchemaNode } from "./schemas.js";

/** The `x-event` annotation of an event data schema: the catalog entry of one CloudEvents type. */
export interface EventMeta {
  readonly type: string;
  readonly entity: string;
  readonly subject: string;
  readonly partitionKey: readonly string[];
  readonly ordering: string;
  readonly dataRequires?: Readonly<Record<string, readonly unknown[]>>;
}

export interface EventEntry extends EventMeta {
  readonly title: string;
  readonly schemaId: string;
  readonly file: string;
  readonly description: string;
}

const TYPE = /^dev\.millwright\.([a-z]+)\.([a-z]+)\.v([1-9][0-9]*)$/;

/** Reads the catalog from the event schemas, in type order. */
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
 * used once, data that is exactly its entity's schema, and subject, partition key and required
 * values that point at properties the entity has.
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

/** Follows a JSON Pointer through an entity's properties and $refs to the schema of that value. */
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

/** Emits the event catalog and the type → data map as TypeScript. */
export function emitEvents(files: readonly SchemaFile[], banner: string): string {
  const entries = eventEntries(files);
  const out = [banner, 'import type * as T from "./types.js";', ""];
  out.push("/** Every canonical CloudEvents type, in catalog order. */");
  out.push(`export const eventTypes = ${JSON.stringify(entries.map((e) => e.type))} as const;`, "");
  out.push("/** A canonical CloudEvents type, such as `dev.millwright.workorder.released.v1`. */");
  out.push("export type EventType = (typeof eventTypes)[number];", "");
  out.push("/** Maps each event type to the type of its `data`. */");
  out.push("export interface EventDataMap {");
  for (const e of entries) out.push(`  ${JSON.stringify(e.type)}: T.${e.title};`);
  out.push("}", "");
  out.push("/**");
  out.push(" * Per event type: its data schema, the entity it carries, the JSON Pointers of its subject and");
  out.push(" * partition key, its ordering rule, and the values its data must have (for example a released");
  out.push(" * order has status released).");
  out.push(" */");
  out.push("export const eventCatalog = {");
  for (const e of entries) {
    const entry = {
      dataTitle: e.title,
      dataSchema: e.schemaId,
      entity: e.entity,
      description: e.description,
      subject: e.subject,
      partitionKey: e.partitionKey,
      ordering: e.ordering,
      dataRequires: e.dataRequires ?? {},
    };
    out.push(`  ${JSON.stringify(e.type)}: ${JSON.stringify(entry)},`);
  }
  out.push("} as const;", "");
  return out.join("\n");
}

/** Renders docs/events.md, the event catalog for people, from the same entries. */
export function emitEventDocs(files: readonly SchemaFile[]): string {
  const entries = eventEntries(files);
  const out = [
    "<!-- Generated by `pnpm generate` from schemas/events/. Do not edit: change the schemas and regenerate. -->",
    "# Event catalog",
    "",
    "Every fact Millwright moves travels as a CloudEvent of one of these types. Type names are",
    "`dev.millwright.<entity>.<action>.v<major>`: a new major version is a new type, so consumers",
    "never receive a shape they do not know. The data of every event is the entity as it stands",
    "after the fact, validated against the schema linked below (`dataschema`).",
    "",
    "- **id** is derived from the fact (UUIDv5 over type, source, natural key and revision), so the",
    "  same fact always has the same id and consumers can drop duplicates by `source` + `id`.",
    "- **subject** is the business key of the data, for routing and filtering.",
    "- **partitionkey** (CloudEvents partitioning extension) keeps the events that must stay in",
    "  order on one partition; **sequence** is the revision, zero-padded to 20 digits, so its",
    "  lexicographic order is the order of revisions.",
    "",
    "| type | data | subject | partition key | ordering | data must have |",
    "|---|---|---|---|---|---|",
  ];
  for (const e of entries) {
    const requires = Object.entries(e.dataRequires ?? {})
      .map(([p, v]) => `\`${p}\` ∈ ${v.map((x) => `\`${String(x)}\``).join(", ")}`)
      .join("; ");
    out.push(
      `| \`${e.type}\` | [${e.title}](../schemas/${e.file}) (${e.entity}) | \`${e.subject}\` | ${e.partitionKey.map((p) => `\`${p}\``).join(" + ")} | ${e.ordering} | ${requires || "—"} |`,
    );
  }
  out.push("", "## Descriptions", "");
  for (const e of entries) out.push(`- \`${e.type}\`: ${e.description}`);
  out.push("");
  return out.join("\n");
}
