import { err, loadProfile, ok, type Profile, type ProfileError, type ProfileFieldSchema, type ProfileNamespaceSchema, type ProfileRequirement, type Result } from "@millwright/model";
import type { SchemaChange } from "./diff.js";

/*
 * `millwright diff old.profile.json new.profile.json`: what a new version of a plant profile changes
 * for the plant's producers (a record they send today may now be rejected: breaking) and consumers
 * (a typed field or a guarantee they read disappears: breaking). Both versions are loaded first,
 * so a profile that conflicts with the global contract is refused before anything is compared.
 */

/**
 * Tells whether a parsed JSON document is a plant profile rather than a contract bundle.
 *
 * @param document - any parsed JSON
 * @returns whether it has a profile's members and no `$defs`
 */
export function isProfileDocument(document: unknown): boolean {
  if (typeof document !== "object" || document === null || Array.isArray(document)) return false;
  const d = document as Record<string, unknown>;
  return d["$defs"] === undefined && typeof d["id"] === "string" && typeof d["version"] === "string";
}

/**
 * Loads both versions of a profile, each checked against the global contract.
 *
 * @param before - the released profile document
 * @param after - the new profile document
 * @returns both profiles, or which one was refused and why
 */
export function loadProfilePair(before: unknown, after: unknown): Result<readonly [Profile, Profile], { readonly which: "old" | "new"; readonly error: ProfileError }> {
  const a = loadProfile(before);
  if (a.isErr()) return err({ which: "old", error: a.error });
  const b = loadProfile(after);
  if (b.isErr()) return err({ which: "new", error: b.error });
  return ok([a.value, b.value] as const);
}

const typesOf = (s: ProfileFieldSchema): Set<string> => {
  const t = s.type === undefined ? ["string", "number", "integer", "boolean", "null"] : typeof s.type === "string" ? [s.type] : [...s.type];
  if (t.includes("number")) t.push("integer");
  return new Set(t);
};
const json = (v: unknown): string => JSON.stringify(v);

/** Field-level changes: narrowing breaks producers, widening is compatible. */
function diffField(where: string, a: ProfileFieldSchema, b: ProfileFieldSchema, add: (s: SchemaChange["severity"], w: string, r: string, m: string) => void): void {
  const ta = typesOf(a);
  const tb = typesOf(b);
  const lost = [...ta].filter((t) => !tb.has(t));
  const gained = [...tb].filter((t) => !ta.has(t));
  if (lost.length > 0) add("breaking", where, "type_narrowed", `no longer allows ${lost.join(", ")}`);
  if (gained.length > 0) add("compatible", where, "type_widened", `now also allows ${gained.join(", ")}`);
  const ea = a.enum ?? (a.const === undefined ? undefined : [a.const]);
  const eb = b.enum ?? (b.const === undefined ? undefined : [b.const]);
  if (eb !== undefined) {
    if (ea === undefined) add("breaking", where, "enum_added", `now allows only ${eb.map(json).join(", ")}`);
    else {
      const removed = ea.filter((v) => !eb.includes(v));
      const added = eb.filter((v) => !ea.includes(v));
      if (removed.length > 0) add("breaking", where, "enum_narrowed", `no longer allows ${removed.map(json).join(", ")}`);
      if (added.length > 0) add("compatible", where, "enum_widened", `now also allows ${added.map(json).join(", ")}`);
    }
  } else if (ea !== undefined) add("compatible", where, "enum_removed", "allows any value of its type now");
  const bound = (key: "minLength" | "minimum" | "exclusiveMinimum" | "maxLength" | "maximum" | "exclusiveMaximum", lower: boolean): void => {
    const x = a[key];
    const y = b[key];
    if (x === y) return;
    const narrowed = y !== undefined && (x === undefined || (lower ? y > x : y < x));
    add(narrowed ? "breaking" : "compatible", where, narrowed ? "bound_narrowed" : "bound_widened", `${key} ${x ?? "none"} → ${y ?? "none"}`);
  };
  bound("minLength", true);
  bound("minimum", true);
  bound("exclusiveMinimum", true);
  bound("maxLength", false);
  bound("maximum", false);
  bound("exclusiveMaximum", false);
  for (const key of ["pattern", "format"] as const) {
    if (a[key] === b[key]) continue;
    const severity = b[key] === undefined ? "compatible" : "breaking";
    add(severity, where, `${key}_changed`, `${key} ${json(a[key] ?? null)} → ${json(b[key] ?? null)}`);
  }
}

function diffNamespace(ns: string, a: ProfileNamespaceSchema, b: ProfileNamespaceSchema, add: (s: SchemaChange["severity"], w: string, r: string, m: string) => void): void {
  const pa = a.properties ?? {};
  const pb = b.properties ?? {};
  const at = (field: string): string => `extensions/${ns}/${field}`;
  for (const field of Object.keys(pa).sort()) {
    const next = pb[field];
    if (next === undefined) add("breaking", at(field), "field_removed", `field ${field} was removed from namespace ${ns} (consumers lose its type${b.additionalProperties === false ? "; producers sending it are now rejected" : ""})`);
    else diffField(at(field), pa[field] as ProfileFieldSchema, next, add);
  }
  for (const field of Object.keys(pb).sort()) {
    if (!Object.hasOwn(pa, field)) add("compatible", at(field), "field_added", `field ${field} was added to namespace ${ns}`);
  }
  const ra = new Set(a.required ?? []);
  for (const field of b.required ?? []) if (!ra.has(field)) add("breaking", at(field), "field_required", `${field} is now required whenever namespace ${ns} is present: producers that leave it out are rejected`);
  const rb = new Set(b.required ?? []);
  for (const field of ra) if (!rb.has(field)) add("breaking", at(field), "field_optional", `${field} is no longer required in namespace ${ns}: consumers can no longer rely on it`);
  if (a.additionalProperties !== false && b.additionalProperties === false) add("breaking", `extensions/${ns}`, "namespace_closed", `namespace ${ns} now refuses fields it does not declare`);
  if (a.additionalProperties === false && b.additionalProperties !== false) add("compatible", `extensions/${ns}`, "namespace_opened", `namespace ${ns} now accepts fields it does not declare`);
}

const requirementKey = (r: ProfileRequirement): string => r.id;

/**
 * Compares two versions of a plant profile. For producers, anything that rejects a record the old
 * version accepted is breaking: a new requirement or required field, a narrowed type, enum, bound
 * or pattern, a namespace closed. For consumers, anything they could rely on that disappears is
 * breaking: a removed namespace or field, a requirement dropped or weakened. Widening is compatible.
 *
 * @param before - the released profile
 * @param after - the new profile
 * @returns every change, breaking ones first
 * @example
 * declare const before: Profile;
 * declare const after: Profile;
 * diffProfiles(before, after).filter((c) => c.severity === "breaking");
 */
export function diffProfiles(before: Profile, after: Profile): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const add = (severity: SchemaChange["severity"], where: string, rule: string, message: string): void => {
    changes.push({ severity, where: `${after.document.id}:${where}`, rule, message });
  };
  const a = before.document;
  const b = after.document;
  if (a.id !== b.id) add("breaking", "id", "profile_renamed", `the profile ${a.id} is now ${b.id}: code that names it must change`);
  const na = a.extensions ?? {};
  const nb = b.extensions ?? {};
  for (const ns of Object.keys(na).sort()) {
    const next = nb[ns];
    if (next === undefined) add("breaking", `extensions/${ns}`, "namespace_removed", `namespace ${ns} was removed: consumers lose its types`);
    else diffNamespace(ns, na[ns] as ProfileNamespaceSchema, next, add);
  }
  for (const ns of Object.keys(nb).sort()) if (!Object.hasOwn(na, ns)) add("compatible", `extensions/${ns}`, "namespace_added", `namespace ${ns} was added`);
  const ra = new Map((a.requirements ?? []).map((r) => [requirementKey(r), r]));
  const rb = new Map((b.requirements ?? []).map((r) => [requirementKey(r), r]));
  for (const [id, r] of ra) {
    const next = rb.get(id);
    if (next === undefined) {
      add("breaking", `requirements/${id}`, "requirement_removed", `requirement ${id} (${r.entity}: ${r.require.join(", ")}) was removed: consumers can no longer rely on it`);
      continue;
    }
    if (next.entity !== r.entity || json(next.when ?? {}) !== json(r.when ?? {})) {
      add("breaking", `requirements/${id}`, "requirement_changed", `requirement ${id} now applies to ${next.entity} ${json(next.when ?? {})} (was ${r.entity} ${json(r.when ?? {})})`);
    }
    const added = next.require.filter((p) => !r.require.includes(p));
    const dropped = r.require.filter((p) => !next.require.includes(p));
    if (added.length > 0) add("breaking", `requirements/${id}`, "requirement_added", `requirement ${id} now also requires ${added.join(", ")}: producers that leave them out are rejected`);
    if (dropped.length > 0) add("breaking", `requirements/${id}`, "requirement_removed", `requirement ${id} no longer requires ${dropped.join(", ")}: consumers can no longer rely on them`);
  }
  for (const [id, r] of rb) {
    if (!ra.has(id)) add("breaking", `requirements/${id}`, "requirement_added", `new requirement ${id}: ${r.entity} ${r.require.join(", ")} required${r.when === undefined ? "" : ` when ${json(r.when)}`}; producers that leave them out are rejected`);
  }
  return [...changes.filter((c) => c.severity === "breaking"), ...changes.filter((c) => c.severity === "compatible")];
}
