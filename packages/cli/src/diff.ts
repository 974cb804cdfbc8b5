import { existsSync, readFileSync, statSync } from "node:fs";
import { bundleSchemas, readSchemaFiles, type SchemaNode } from "@millwright/contract";
import { catalogUpcasters } from "@millwright/events";
import { boundText, previewValue } from "./text.js";

/** One difference between two versions of the contract. */
export interface SchemaChange {
  /** breaking: data valid under the old schema may be rejected, or meaning changed; compatible: only widened. */
  readonly severity: "breaking" | "compatible";
  /** Where: the type name and the path inside it, such as `WorkOrder/properties/status`. */
  readonly where: string;
  /** The kind of change, stable for tooling: `property_removed`, `enum_narrowed` … */
  readonly rule: string;
  readonly message: string;
}

/**
 * Loads a contract bundle: a bundle file (`bundle.schema.json`, as `@millwright/model` publishes it)
 * as it is, or a schema folder with `common/`, `entities/` and `events/`, bundled.
 *
 * @param location - a bundle file or a schema folder
 * @returns the bundle: its `$defs` by type name and its root union of entities
 */
export function loadBundle(location: string): SchemaNode & { readonly $defs: Record<string, SchemaNode> } {
  if (!existsSync(location)) throw new Error(`${location}: no such file or folder`);
  const bundle = statSync(location).isDirectory()
    ? bundleSchemas(readSchemaFiles(location))
    : (JSON.parse(readFileSync(location, "utf8").replace(/^\ufeff/, "")) as SchemaNode);
  const defs = bundle["$defs"];
  if (typeof defs !== "object" || defs === null) throw new Error(`${location}: not a schema bundle (no $defs)`);
  return bundle as SchemaNode & { readonly $defs: Record<string, SchemaNode> };
}

/**
 * Loads a contract for comparison: the definitions of {@link loadBundle}'s bundle.
 *
 * @param location - a bundle file or a schema folder
 * @returns the bundle's definitions by type name
 */
export function loadContract(location: string): Record<string, SchemaNode> {
  return loadBundle(location).$defs;
}

/** What {@link diffContracts} checks the new version against besides the old one. */
export interface DiffOptions {
  /**
   * The upcasters consumers can register, as `from` → `to` event types; every `…vN` → `…vN+1`
   * step of the new version needs one. Default: the upcasters `@millwright/events` ships
   * (`catalogUpcasters`).
   */
  readonly upcasters?: readonly { readonly from: string; readonly to: string }[];
}

/**
 * Compares two versions of the contract type by type. Removed or renamed types and properties,
 * new required properties, narrowed enums, types, bounds and patterns, changed natural keys (which
 * change event ids), new or narrowed data requirements of an event type and removed event types or
 * transitions are breaking; widening is compatible. Then, per event type: a breaking change to
 * anything its data carries means the type needs a new major version (`new_version_needed`); a
 * `…vN+1` without an upcaster from `…vN` (`upcaster_missing`) and a deprecation whose replacement
 * is not in the catalog (`replacement_missing`) are breaking too.
 *
 * @param before - the definitions of the released version
 * @param after - the definitions of the new version
 * @param options - the upcasters available (default: the ones `@millwright/events` ships)
 * @returns every change, breaking ones first
 * @example
 * const changes = diffContracts(loadContract("baseline.json"), loadContract("schemas"));
 * const breaking = changes.filter((c) => c.severity === "breaking");
 */
export function diffContracts(before: Record<string, SchemaNode>, after: Record<string, SchemaNode>, options: DiffOptions = {}): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const add = (severity: SchemaChange["severity"], where: string, rule: string, message: string): void => {
    changes.push({ severity, where, rule, message });
  };
  for (const name of Object.keys(before).sort()) {
    const next = after[name];
    if (next === undefined) add("breaking", name, "type_removed", `type ${name} was removed (or renamed)`);
    else compareNode(before[name] as SchemaNode, next, name, add);
  }
  for (const name of Object.keys(after).sort()) {
    if (before[name] === undefined) add("compatible", name, "type_added", `type ${name} was added`);
  }
  checkEventVersions(before, after, changes, options.upcasters ?? catalogUpcasters, add);
  return changes.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === "breaking" ? -1 : 1));
}

/** A schema value in a message: as written when it is short text, cut when it is long. */
function shown(value: unknown): string {
  return typeof value === "string" ? boundText(value, 200) : previewValue(value, 200);
}

/** Enum values in a message: JSON, each cut, and at most twenty of them. */
function list(values: readonly unknown[]): string {
  const head = values.slice(0, 20).map((v) => previewValue(v)).join(", ");
  return values.length > 20 ? `${head} and ${values.length - 20} more` : head;
}

type Add = (severity: SchemaChange["severity"], where: string, rule: string, message: string) => void;

const LOWER_BOUNDS = ["minLength", "minimum", "minItems", "minProperties"] as const;
const UPPER_BOUNDS = ["maxLength", "maximum", "maxItems", "maxProperties"] as const;

function types(node: SchemaNode): string[] | undefined {
  const t = node["type"];
  return t === undefined ? undefined : Array.isArray(t) ? (t as string[]) : [t as string];
}

function compareNode(a: SchemaNode, b: SchemaNode, where: string, add: Add): void {
  const refA = a["$ref"];
  const refB = b["$ref"];
  if (refA !== refB) {
    if (refA !== undefined || refB !== undefined) {
      add("breaking", where, "type_changed", `now ${shown(refB ?? types(b)?.join("|"))} instead of ${shown(refA ?? types(a)?.join("|"))}`);
      return;
    }
  }
  const ta = types(a);
  const tb = types(b);
  if (ta !== undefined || tb !== undefined) {
    const removed = (ta ?? []).filter((t) => !(tb ?? []).includes(t));
    const added = (tb ?? []).filter((t) => !(ta ?? []).includes(t));
    if (tb !== undefined && (ta === undefined || removed.length > 0)) add("breaking", where, "type_narrowed", `no longer accepts ${ta === undefined ? "any type" : removed.join(", ")}`);
    if (added.length > 0 && ta !== undefined) add("compatible", where, "type_widened", `also accepts ${added.join(", ")}`);
  }
  compareEnum(a, b, where, add);
  if (JSON.stringify(a["const"]) !== JSON.stringify(b["const"])) {
    if (b["const"] !== undefined) add("breaking", where, "const_changed", `must now equal ${previewValue(b["const"])}`);
    else add("compatible", where, "const_removed", "no longer fixed to one value");
  }
  for (const keyword of ["pattern", "format"] as const) {
    if (a[keyword] !== b[keyword]) {
      if (b[keyword] !== undefined) add("breaking", where, `${keyword}_changed`, `${keyword} is now ${shown(b[keyword])}${a[keyword] === undefined ? "" : ` (was ${shown(a[keyword])})`}: values valid before may be rejected`);
      else add("compatible", where, `${keyword}_removed`, `${keyword} ${shown(a[keyword])} was removed`);
    }
  }
  for (const keyword of LOWER_BOUNDS) bound(a, b, keyword, where, add, "lower");
  for (const keyword of UPPER_BOUNDS) bound(a, b, keyword, where, add, "upper");
  compareProperties(a, b, where, add);
  for (const keyword of ["items", "propertyNames"] as const) {
    const ia = a[keyword] as SchemaNode | undefined;
    const ib = b[keyword] as SchemaNode | undefined;
    if (ia !== undefined && ib !== undefined) compareNode(ia, ib, `${where}/${keyword}`, add);
    else if (ia === undefined && ib !== undefined) add("breaking", `${where}/${keyword}`, `${keyword}_added`, `${keyword} now constrained`);
  }
  const apA = a["additionalProperties"];
  const apB = b["additionalProperties"];
  if (typeof apA === "object" && typeof apB === "object") compareNode(apA as SchemaNode, apB as SchemaNode, `${where}/additionalProperties`, add);
  else if (apA !== false && apB === false) add("breaking", where, "closed", "no longer accepts properties it does not list");
  compareOneOf(a, b, where, add);
  compareAnnotations(a, b, where, add);
}

function compareEnum(a: SchemaNode, b: SchemaNode, where: string, add: Add): void {
  const ea = a["enum"] as unknown[] | undefined;
  const eb = b["enum"] as unknown[] | undefined;
  if (ea === undefined && eb === undefined) return;
  if (eb === undefined) {
    add("compatible", where, "enum_removed", "no longer limited to a list of values");
    return;
  }
  if (ea === undefined) {
    add("breaking", where, "enum_added", `now limited to ${list(eb)}`);
    return;
  }
  const removed = ea.filter((v) => !eb.includes(v));
  const added = eb.filter((v) => !ea.includes(v));
  if (removed.length > 0) add("breaking", where, "enum_narrowed", `no longer allows ${list(removed)}`);
  if (added.length > 0) add("compatible", where, "enum_widened", `now also allows ${list(added)}`);
}

function bound(a: SchemaNode, b: SchemaNode, keyword: string, where: string, add: Add, side: "lower" | "upper"): void {
  const va = a[keyword] as number | undefined;
  const vb = b[keyword] as number | undefined;
  if (va === vb) return;
  const tighter = vb !== undefined && (va === undefined || (side === "lower" ? vb > va : vb < va));
  if (tighter) add("breaking", where, `${keyword}_narrowed`, `${keyword} is now ${vb}${va === undefined ? "" : ` (was ${va})`}`);
  else add("compatible", where, `${keyword}_widened`, `${keyword} is now ${vb === undefined ? "unset" : vb} (was ${va})`);
}

function compareProperties(a: SchemaNode, b: SchemaNode, where: string, add: Add): void {
  const pa = (a["properties"] ?? {}) as Record<string, SchemaNode>;
  const pb = (b["properties"] ?? {}) as Record<string, SchemaNode>;
  const ra = new Set((a["required"] as string[] | undefined) ?? []);
  const rb = new Set((b["required"] as string[] | undefined) ?? []);
  for (const name of Object.keys(pa)) {
    const at = `${where}/properties/${name}`;
    const next = pb[name];
    if (next === undefined) {
      add("breaking", at, "property_removed", `property ${name} was removed (or renamed)`);
      continue;
    }
    if (!ra.has(name) && rb.has(name)) add("breaking", at, "now_required", `property ${name} is now required`);
    if (ra.has(name) && !rb.has(name)) add("compatible", at, "now_optional", `property ${name} is now optional`);
    compareNode(pa[name] as SchemaNode, next, at, add);
  }
  for (const name of Object.keys(pb)) {
    if (pa[name] !== undefined) continue;
    const at = `${where}/properties/${name}`;
    if (rb.has(name)) add("breaking", at, "required_property_added", `new required property ${name}`);
    else add("compatible", at, "property_added", `new optional property ${name}`);
  }
}

function compareOneOf(a: SchemaNode, b: SchemaNode, where: string, add: Add): void {
  const ba = ((a["oneOf"] as SchemaNode[] | undefined) ?? []).map((n) => JSON.stringify(n));
  const bb = ((b["oneOf"] as SchemaNode[] | undefined) ?? []).map((n) => JSON.stringify(n));
  for (const branch of ba) if (!bb.includes(branch)) add("breaking", where, "variant_removed", `variant ${boundText(branch, 200)} was removed`);
  for (const branch of bb) if (!ba.includes(branch)) add("compatible", where, "variant_added", `variant ${boundText(branch, 200)} was added`);
}

function compareAnnotations(a: SchemaNode, b: SchemaNode, where: string, add: Add): void {
  const ka = JSON.stringify(a["x-natural-key"]);
  const kb = JSON.stringify(b["x-natural-key"]);
  if (ka !== kb) add("breaking", where, "natural_key_changed", `natural key is now ${boundText(String(kb), 200)} (was ${boundText(String(ka), 200)}); event ids derived from it change`);
  const typeA = (a["x-event"] as { type?: string } | undefined)?.type;
  const typeB = (b["x-event"] as { type?: string } | undefined)?.type;
  if (typeA !== typeB && typeA !== undefined) add("breaking", where, "event_type_changed", `event type is now ${shown(typeB)} (was ${shown(typeA)})`);
  compareEventMeta(a["x-event"] as EventMeta | undefined, b["x-event"] as EventMeta | undefined, where, add);
  const tA = (a["x-transitions"] ?? {}) as Record<string, string[]>;
  const tB = (b["x-transitions"] ?? {}) as Record<string, string[]>;
  for (const [from, tos] of Object.entries(tA)) {
    for (const to of tos) {
      if (!(tB[from] ?? []).includes(to)) add("breaking", where, "transition_removed", `transition ${from} → ${to} is no longer allowed`);
    }
  }
  for (const [from, tos] of Object.entries(tB)) {
    for (const to of tos) if (!(tA[from] ?? []).includes(to)) add("compatible", where, "transition_added", `transition ${from} → ${to} is now allowed`);
  }
}

/** The parts of an `x-event` annotation the version checks read. */
interface EventMeta {
  readonly type?: string;
  readonly dataRequires?: Readonly<Record<string, readonly unknown[]>>;
  readonly deprecated?: { readonly since?: string; readonly replacedBy?: string; readonly reason?: string };
}

/** An event type's data requirements: a new or narrowed requirement rejects data valid before. */
function compareEventMeta(a: EventMeta | undefined, b: EventMeta | undefined, where: string, add: Add): void {
  if (a === undefined || b === undefined || a.type !== b.type) return;
  const ra = a.dataRequires ?? {};
  const rb = b.dataRequires ?? {};
  for (const [pointer, values] of Object.entries(rb)) {
    const old = ra[pointer];
    if (old === undefined) add("breaking", where, "data_requirement_added", `${b.type} data must now have ${pointer} in ${list(values)}`);
    else {
      const removed = old.filter((v) => !values.includes(v));
      const added = values.filter((v) => !old.includes(v));
      if (removed.length > 0) add("breaking", where, "data_requirement_narrowed", `${b.type} data may no longer have ${pointer} = ${list(removed)}`);
      if (added.length > 0) add("compatible", where, "data_requirement_widened", `${b.type} data may now also have ${pointer} = ${list(added)}`);
    }
  }
  for (const pointer of Object.keys(ra)) {
    if (rb[pointer] === undefined) add("compatible", where, "data_requirement_removed", `${b.type} data no longer needs ${pointer} in ${list(ra[pointer] ?? [])}`);
  }
  if (a.deprecated === undefined && b.deprecated !== undefined) {
    add("compatible", where, "event_deprecated", `${b.type} is deprecated since ${shown(b.deprecated.since)}: use ${shown(b.deprecated.replacedBy)}`);
  }
}

/** The event types a contract declares: type → the name of its data definition. */
function eventTypesOf(defs: Record<string, SchemaNode>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) {
    const type = (def["x-event"] as EventMeta | undefined)?.type;
    if (typeof type === "string") out.set(type, name);
  }
  return out;
}

/** Every definition a definition uses, itself included, following `$ref`s. */
function reachable(defs: Record<string, SchemaNode>, start: string): Set<string> {
  const seen = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === "object" && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === "$ref" && typeof value === "string" && value.startsWith("#/$defs/")) enter(value.slice("#/$defs/".length));
        else if (key !== "enum" && key !== "const" && key !== "examples" && !key.startsWith("x-")) visit(value);
      }
    }
  };
  const enter = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    visit(defs[name]);
  };
  enter(start);
  return seen;
}

const VERSIONED = /^(.+)\.v([1-9][0-9]*)$/;

/**
 * The version rules of the catalog: which event types a breaking change forces to a new major
 * version, which version steps have no upcaster, and which deprecations point at nothing.
 */
function checkEventVersions(
  before: Record<string, SchemaNode>,
  after: Record<string, SchemaNode>,
  changes: readonly SchemaChange[],
  upcasters: readonly { readonly from: string; readonly to: string }[],
  add: Add,
): void {
  const typesBefore = eventTypesOf(before);
  const typesAfter = eventTypesOf(after);
  const breaking = changes.filter((c) => c.severity === "breaking");
  for (const [type, name] of typesAfter) {
    if (!typesBefore.has(type)) continue;
    const uses = reachable(after, name);
    const causes = breaking.filter((c) => uses.has(c.where.split("/")[0] as string));
    if (causes.length === 0) continue;
    const match = VERSIONED.exec(type);
    // The next major version not taken yet: with v2 in the catalog already, the new shape is v3.
    let version = match === null ? 0 : Number(match[2]) + 1;
    while (match !== null && typesAfter.has(`${match[1]}.v${version}`)) version++;
    const next = match === null ? `a new type` : `${match[1]}.v${version}`;
    const latest = match === null ? type : `${match[1]}.v${version - 1}`;
    const rules = [...new Set(causes.map((c) => c.rule))].join(", ");
    add(
      "breaking",
      name,
      "new_version_needed",
      `${type} changed incompatibly (${causes.length} breaking change(s): ${rules}): consumers of it would reject or misread its events. Leave ${type} as released, publish the new shape as ${next} beside it, and register an upcaster ${latest} → ${next}`,
    );
  }
  const steps = new Set(upcasters.map((u) => `${u.from}\u0000${u.to}`));
  for (const [type, name] of typesAfter) {
    const match = VERSIONED.exec(type);
    if (match === null || match[2] === "1") continue;
    const previous = `${match[1]}.v${Number(match[2]) - 1}`;
    if (!typesAfter.has(previous) && !typesBefore.has(previous)) continue;
    if (!steps.has(`${previous}\u0000${type}`)) {
      add(
        "breaking",
        name,
        "upcaster_missing",
        `no upcaster ${previous} → ${type}: a consumer written for ${type} cannot read a ${previous} stream or replay an old log. Define one with defineUpcaster (@millwright/events) and ship it in the registry consumers use`,
      );
    }
  }
  for (const [type, name] of typesAfter) {
    const replacedBy = (after[name]?.["x-event"] as EventMeta | undefined)?.deprecated?.replacedBy;
    if (replacedBy !== undefined && !typesAfter.has(replacedBy)) {
      add("breaking", name, "replacement_missing", `${type} is deprecated in favour of ${shown(replacedBy)}, which is not in the catalog`);
    }
  }
}
