import { existsSync, readFileSync, statSync } from "node:fs";
import { bundleSchemas, readSchemaFiles, type SchemaNode } from "@millwright/contract";
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

type Node = SchemaNode;

/**
 * Loads a contract bundle: a bundle file (`bundle.schema.json`, as `@millwright/model` publishes it)
 * as it is, or a schema folder with `common/`, `entities/` and `events/`, bundled.
 *
 * @param location - a bundle file or a schema folder
 * @returns the bundle: its `$defs` by type name and its root union of entities
 */
export function loadBundle(location: string): SchemaNode & { readonly $defs: Record<string, Node> } {
  if (!existsSync(location)) throw new Error(`${location}: no such file or folder`);
  const bundle = statSync(location).isDirectory()
    ? bundleSchemas(readSchemaFiles(location))
    : (JSON.parse(readFileSync(location, "utf8").replace(/^\ufeff/, "")) as Node);
  const defs = bundle["$defs"];
  if (typeof defs !== "object" || defs === null) throw new Error(`${location}: not a schema bundle (no $defs)`);
  return bundle as SchemaNode & { readonly $defs: Record<string, Node> };
}

/**
 * Loads a contract for comparison: the definitions of {@link loadBundle}'s bundle.
 *
 * @param location - a bundle file or a schema folder
 * @returns the bundle's definitions by type name
 */
export function loadContract(location: string): Record<string, Node> {
  return loadBundle(location).$defs;
}

/**
 * Compares two versions of the contract type by type. Removed or renamed types and properties,
 * new required properties, narrowed enums, types, bounds and patterns, changed natural keys (which
 * change event ids) and removed event types or transitions are breaking; widening is compatible.
 *
 * @param before - the definitions of the released version
 * @param after - the definitions of the new version
 * @returns every change, breaking ones first
 * @example
 * const changes = diffContracts(loadContract("baseline.json"), loadContract("schemas"));
 * const breaking = changes.filter((c) => c.severity === "breaking");
 */
export function diffContracts(before: Record<string, Node>, after: Record<string, Node>): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const add = (severity: SchemaChange["severity"], where: string, rule: string, message: string): void => {
    changes.push({ severity, where, rule, message });
  };
  for (const name of Object.keys(before).sort()) {
    const next = after[name];
    if (next === undefined) add("breaking", name, "type_removed", `type ${name} was removed (or renamed)`);
    else compareNode(before[name] as Node, next, name, add);
  }
  for (const name of Object.keys(after).sort()) {
    if (before[name] === undefined) add("compatible", name, "type_added", `type ${name} was added`);
  }
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

function types(node: Node): string[] | undefined {
  const t = node["type"];
  return t === undefined ? undefined : Array.isArray(t) ? (t as string[]) : [t as string];
}

function compareNode(a: Node, b: Node, where: string, add: Add): void {
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
    const ia = a[keyword] as Node | undefined;
    const ib = b[keyword] as Node | undefined;
    if (ia !== undefined && ib !== undefined) compareNode(ia, ib, `${where}/${keyword}`, add);
    else if (ia === undefined && ib !== undefined) add("breaking", `${where}/${keyword}`, `${keyword}_added`, `${keyword} now constrained`);
  }
  const apA = a["additionalProperties"];
  const apB = b["additionalProperties"];
  if (typeof apA === "object" && typeof apB === "object") compareNode(apA as Node, apB as Node, `${where}/additionalProperties`, add);
  else if (apA !== false && apB === false) add("breaking", where, "closed", "no longer accepts properties it does not list");
  compareOneOf(a, b, where, add);
  compareAnnotations(a, b, where, add);
}

function compareEnum(a: Node, b: Node, where: string, add: Add): void {
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

function bound(a: Node, b: Node, keyword: string, where: string, add: Add, side: "lower" | "upper"): void {
  const va = a[keyword] as number | undefined;
  const vb = b[keyword] as number | undefined;
  if (va === vb) return;
  const tighter = vb !== undefined && (va === undefined || (side === "lower" ? vb > va : vb < va));
  if (tighter) add("breaking", where, `${keyword}_narrowed`, `${keyword} is now ${vb}${va === undefined ? "" : ` (was ${va})`}`);
  else add("compatible", where, `${keyword}_widened`, `${keyword} is now ${vb === undefined ? "unset" : vb} (was ${va})`);
}

function compareProperties(a: Node, b: Node, where: string, add: Add): void {
  const pa = (a["properties"] ?? {}) as Record<string, Node>;
  const pb = (b["properties"] ?? {}) as Record<string, Node>;
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
    compareNode(pa[name] as Node, next, at, add);
  }
  for (const name of Object.keys(pb)) {
    if (pa[name] !== undefined) continue;
    const at = `${where}/properties/${name}`;
    if (rb.has(name)) add("breaking", at, "required_property_added", `new required property ${name}`);
    else add("compatible", at, "property_added", `new optional property ${name}`);
  }
}

function compareOneOf(a: Node, b: Node, where: string, add: Add): void {
  const ba = ((a["oneOf"] as Node[] | undefined) ?? []).map((n) => JSON.stringify(n));
  const bb = ((b["oneOf"] as Node[] | undefined) ?? []).map((n) => JSON.stringify(n));
  for (const branch of ba) if (!bb.includes(branch)) add("breaking", where, "variant_removed", `variant ${boundText(branch, 200)} was removed`);
  for (const branch of bb) if (!ba.includes(branch)) add("compatible", where, "variant_added", `variant ${boundText(branch, 200)} was added`);
}

function compareAnnotations(a: Node, b: Node, where: string, add: Add): void {
  const ka = JSON.stringify(a["x-natural-key"]);
  const kb = JSON.stringify(b["x-natural-key"]);
  if (ka !== kb) add("breaking", where, "natural_key_changed", `natural key is now ${boundText(String(kb), 200)} (was ${boundText(String(ka), 200)}); event ids derived from it change`);
  const typeA = (a["x-event"] as { type?: string } | undefined)?.type;
  const typeB = (b["x-event"] as { type?: string } | undefined)?.type;
  if (typeA !== typeB && typeA !== undefined) add("breaking", where, "event_type_changed", `event type is now ${shown(typeB)} (was ${shown(typeA)})`);
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
