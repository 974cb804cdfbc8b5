import { pointer, preview, type ModelIssue, type ModelIssueCode } from "./errors.js";
import type { AjvErrorObject } from "./validator-function.js";

interface VerboseError extends AjvErrorObject {
  readonly parentSchema?: { readonly title?: string; readonly description?: string };
  readonly propertyName?: string;
}

/** The issue code of each JSON Schema keyword (also the profile dialect's, profile-check.ts). */
export const KEYWORD_CODES: Readonly<Record<string, ModelIssueCode>> = {
  required: "missing_property",
  additionalProperties: "unknown_property",
  type: "invalid_type",
  enum: "invalid_value",
  const: "invalid_value",
  pattern: "invalid_format",
  format: "invalid_format",
  minLength: "invalid_length",
  maxLength: "invalid_length",
  minimum: "out_of_range",
  maximum: "out_of_range",
  exclusiveMinimum: "out_of_range",
  exclusiveMaximum: "out_of_range",
  minItems: "invalid_size",
  maxItems: "invalid_size",
  minProperties: "invalid_size",
  maxProperties: "invalid_size",
  discriminator: "invalid_variant",
  oneOf: "invalid_variant",
  propertyNames: "invalid_key",
  "false schema": "forbidden_property",
};

/** Issues converted from ajv's errors: the first ones in full, and how many there are in all. */
export interface AjvIssues {
  readonly issues: ModelIssue[];
  /** Every distinct issue, the ones not converted included. */
  readonly total: number;
}

/**
 * Turns ajv's errors into model issues: one per problem, with a JSON Pointer to the offending
 * value (to the missing or extra property itself for `required` and `additionalProperties`), the
 * value, and the rule in words. Errors ajv reports only as consequences of another (the inner
 * errors of `propertyNames`) are folded into it. Only the first `limit` issues are built; the
 * others are counted by their code and path alone, so a hostile input (200,000 bad items, 400,000
 * errors) costs a count per error, not a message and a value preview each.
 */
export function issuesFromAjv(errors: readonly AjvErrorObject[], limit: number): AjvIssues {
  const issues: ModelIssue[] = [];
  const seen = new Set<string>();
  for (const raw of errors) {
    const e = raw as VerboseError;
    if (e.propertyName !== undefined && e.keyword !== "propertyNames") continue;
    // An `if` error only says its `then` failed; the `then` errors (required …) are the issues.
    if (e.keyword === "if") continue;
    const key = `${KEYWORD_CODES[e.keyword] ?? "invalid_value"}\u0000${pathOf(e)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (issues.length < limit) issues.push(toIssue(e));
  }
  return { issues, total: seen.size };
}

/** The path {@link toIssue} gives an error, without building the issue. */
function pathOf(e: VerboseError): string {
  switch (e.keyword) {
    case "required":
      return pointer(e.instancePath, String(e.params["missingProperty"]));
    case "additionalProperties":
      return pointer(e.instancePath, String(e.params["additionalProperty"]));
    case "propertyNames":
      return pointer(e.instancePath, String(e.params["propertyName"]));
    default:
      return e.instancePath;
  }
}

function toIssue(e: VerboseError): ModelIssue {
  const code = KEYWORD_CODES[e.keyword] ?? "invalid_value";
  const typeName = e.parentSchema?.title;
  const named = (rule: string): string => (typeName === undefined ? rule : `${typeName}: ${rule}`);
  const p = e.params;
  switch (e.keyword) {
    case "required": {
      const path = pointer(e.instancePath, String(p["missingProperty"]));
      return { code, path, rule: "required", message: `${path || "/"} is required but missing` };
    }
    case "additionalProperties": {
      const name = String(p["additionalProperty"]);
      const path = pointer(e.instancePath, name);
      const value = (e.data as Record<string, unknown> | undefined)?.[name];
      return {
        code,
        path,
        value,
        rule: "additionalProperties: false",
        message: `${path} is not a known property (unknown properties are rejected; site-specific fields go in extensions)`,
      };
    }
    case "propertyNames": {
      const name = String(p["propertyName"]);
      const path = pointer(e.instancePath, name);
      const rule = `propertyNames: ${describeSchema(e.schema)}`;
      return { code, path, value: name, rule, message: `${path}: key ${preview(name)} is not allowed (${rule})` };
    }
    case "false schema": {
      // A property a conditional rule forbids for this kind of record (`then: { properties: { x: false } }`).
      return {
        code,
        path: e.instancePath,
        value: e.data,
        rule: "not allowed for this type",
        message: `${e.instancePath} is not allowed for this type of record`,
      };
    }
    case "discriminator":
    case "oneOf": {
      const tag = p["tag"] === undefined ? "" : ` by its "${String(p["tag"])}"`;
      const rule = e.keyword === "discriminator" ? `one of the variants, chosen${tag}` : "exactly one of the variants";
      return {
        code,
        path: e.instancePath,
        value: e.data,
        rule,
        message: `${e.instancePath || "/"}: ${preview(e.data)} matches none of the variants (selected${tag})`,
      };
    }
    default: {
      const rule = named(ruleText(e));
      const at = e.instancePath || "/";
      return { code, path: e.instancePath, value: e.data, rule, message: `${at}: ${preview(e.data)} ${violation(e)} (${rule})` };
    }
  }
}

function ruleText(e: VerboseError): string {
  const p = e.params;
  switch (e.keyword) {
    case "type":
      return `type ${String(p["type"])}`;
    case "enum":
      return `one of ${(p["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "const":
      return `equal to ${JSON.stringify(p["allowedValue"])}`;
    case "pattern":
      return `pattern ${String(p["pattern"])}`;
    case "format":
      return `format ${String(p["format"])}`;
    case "minLength":
    case "maxLength":
    case "minItems":
    case "maxItems":
    case "minProperties":
    case "maxProperties":
      return `${e.keyword} ${String(p["limit"])}`;
    case "minimum":
    case "maximum":
      return `${e.keyword} ${String(p["limit"])}`;
    default:
      return e.keyword;
  }
}

function violation(e: VerboseError): string {
  switch (e.keyword) {
    case "type":
      return `is ${jsonType(e.data)}, not ${String(e.params["type"])}`;
    case "enum":
    case "const":
      return "is not an allowed value";
    case "pattern":
    case "format":
      return "is not in the required format";
    case "minLength":
      return "is too short";
    case "maxLength":
      return "is too long";
    case "minimum":
      return "is too small";
    case "maximum":
      return "is too large";
    case "minItems":
    case "minProperties":
      return "has too few entries";
    case "maxItems":
    case "maxProperties":
      return "has too many entries";
    default:
      return `fails ${e.keyword}`;
  }
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a number";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

function describeSchema(schema: unknown): string {
  if (typeof schema === "object" && schema !== null && "pattern" in schema) return `pattern ${String(schema.pattern)}`;
  return preview(schema);
}
