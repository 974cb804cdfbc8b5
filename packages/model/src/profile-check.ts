import { err, ok, type Result } from "neverthrow";
import { KEYWORD_CODES } from "./ajv-issues.js";
import { createModelError, pointer, preview, type ModelError, type ModelIssue, type ModelIssueCode } from "./errors.js";
import type { EntityName } from "./generated/catalog.js";
import { compiledProfile, valueAtPointer, type Profile, type ProfileScalar } from "./profile.js";


const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function describeWhen(when: Readonly<Record<string, ProfileScalar | readonly ProfileScalar[]>>): string {
  const parts = Object.entries(when).map(([path, v]) => (Array.isArray(v) ? `${path} in ${v.map((x) => JSON.stringify(x)).join(", ")}` : `${path} is ${JSON.stringify(v)}`));
  return parts.length === 0 ? "always" : `when ${parts.join(" and ")}`;
}

/**
 * Checks a record the global contract has accepted against a plant profile: the schemas of the
 * profile's namespaces, then its requirements for this entity. Pushes one issue per problem, each
 * naming the profile (`id@version`) and its rule.
 *
 * @internal Called by every parser when `options.profile` is given, and by `checkProfile`.
 */
export function profileIssues(profile: Profile, entity: EntityName, value: unknown, issues: ModelIssue[]): void {
  const p = compiledProfile(profile);
  const name = p.name;
  const extensions = isRecord(value) ? value["extensions"] : undefined;
  if (isRecord(extensions)) {
    for (const [ns, schema] of p.namespaces) {
      if (!Object.hasOwn(extensions, ns)) continue;
      const fields = extensions[ns];
      if (!isRecord(fields)) continue; // the global contract has already refused it
      const base = pointer("/extensions", ns);
      for (const field of schema.required) {
        if (!Object.hasOwn(fields, field)) {
          const path = pointer(base, field);
          issues.push({ code: "missing_property", path, profile: name, rule: `profile ${name}: ${ns} requires ${field}`, message: `${path} is required by profile ${name} whenever ${ns} is present, but missing` });
        }
      }
      for (const [field, raw] of Object.entries(fields)) {
        const path = pointer(base, field);
        const check = schema.fields.get(field) ?? (typeof schema.additional === "function" ? schema.additional : undefined);
        if (check === undefined) {
          if (schema.additional === false) {
            issues.push({ code: "unknown_property", path, value: raw, profile: name, rule: `profile ${name}: ${ns} has only its declared fields`, message: `${path} is not a field of ${ns} in profile ${name} (it declares additionalProperties: false)` });
          }
          continue;
        }
        const failure = check(raw as ProfileScalar);
        if (failure !== undefined) {
          const rule = `profile ${name}: ${failure.rule}`;
          issues.push({ code: KEYWORD_CODES[failure.keyword] ?? "invalid_value", path, value: raw, profile: name, rule, message: `${path}: ${preview(raw)} ${failure.violation} (${rule})` });
        }
      }
    }
  }
  for (const r of p.requirements) {
    if (r.entity !== entity) continue;
    const when = r.when ?? {};
    let applies = true;
    for (const [path, expected] of Object.entries(when)) {
      const actual = valueAtPointer(value, path);
      const allowed: readonly unknown[] = Array.isArray(expected) ? expected : [expected];
      if (actual === undefined || !allowed.includes(actual)) {
        applies = false;
        break;
      }
    }
    if (!applies) continue;
    for (const path of r.require) {
      if (valueAtPointer(value, path) !== undefined) continue;
      const rule = `profile ${name} requirement ${r.id}: ${path} is required ${describeWhen(when)}`;
      issues.push({ code: "missing_property", path, profile: name, rule, message: `${path} is required but missing (${rule})` });
    }
  }
}

/**
 * Checks a record that the global contract has already accepted against a plant profile. Parsers
 * do this themselves when given `{ profile }`; this is for code that holds a checked record
 * already, such as an event whose data `parseEvent` has checked.
 *
 * @param profile - a profile from `loadProfile`
 * @param entity - what the record is
 * @param value - the record, valid under the global contract
 * @returns the record, or every issue the profile finds (each names the profile and its rule)
 * @example
 * declare const profile: Profile;
 * declare const order: WorkOrder;
 * checkProfile(profile, "WorkOrder", order).isOk();
 */
export function checkProfile<TValue>(profile: Profile, entity: EntityName, value: TValue): Result<TValue, ModelError> {
  const issues: ModelIssue[] = [];
  profileIssues(profile, entity, value, issues);
  return issues.length === 0 ? ok(value) : err(createModelError(entity, issues));
}
