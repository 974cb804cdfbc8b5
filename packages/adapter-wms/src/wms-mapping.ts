// Declarative vendor mappings: a template whose leaves are JSONata expressions turns a vendor's
// webhook JSON into a contract WmsEvent. The output is validated against the contract, and each
// issue is traced back to the vendor fields its expression read.
import type { Issue } from "@millwright/adapter-kit";
import jsonata from "jsonata";
import { ResultAsync, err, ok, type Result } from "neverthrow";
import { parseWmsEvent, valueAt, type WmsContractIssue, type WmsEvent } from "./wms-contract.js";

/** A mapping template: the contract's shape, with a JSONata expression (string) or a literal at each leaf. */
export interface MappingTemplate {
  readonly [field: string]: string | number | boolean | MappingTemplate;
}

/** A literal in a template, written as `{ "$literal": … }` so that strings need no JSONata quoting. */
const LITERAL = "$literal";

/** One output field of a compiled {@link VendorMapping}: where it goes and how its value is read. */
export interface VendorMappingLeaf {
  /** JSON Pointer of the output field. */
  readonly output: string;
  readonly expression?: jsonata.Expression;
  readonly source?: string;
  readonly literal?: unknown;
  /** JSON Pointers of the vendor fields the expression reads. */
  readonly reads: readonly string[];
}

/** A compiled vendor mapping. Plain data; apply it with {@link applyVendorMapping}. */
export interface VendorMapping {
  readonly name: string;
  readonly leaves: readonly VendorMappingLeaf[];
}

/**
 * One way a template or a mapped event fails: the adapter kit's issue (its path a JSON Pointer
 * into the mapped output), pointing also into the vendor payload. The code is `invalid_template`
 * or `expression_failed`, or the contract's own code for an output that breaks the contract.
 */
export interface VendorMappingIssue extends Issue<"invalid_template" | "expression_failed" | WmsContractIssue["code"]> {
  /** JSON Pointer into the vendor payload of the field the value came from, when the expression read one. */
  readonly vendorPath?: string;
  /** The vendor's value at `vendorPath`. */
  readonly vendorValue?: unknown;
  /** The expression that produced the output field. */
  readonly expression?: string;
}

/** Why a template could not be compiled or a payload could not be mapped. */
export interface VendorMappingError {
  readonly code: "invalid_template" | "expression_failed" | "invalid_mapping_output";
  readonly mapping: string;
  readonly message: string;
  readonly issues: readonly VendorMappingIssue[];
}

function pointer(base: string, key: string): string {
  return `${base}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

interface AstNode {
  readonly type?: string;
  readonly value?: unknown;
  readonly steps?: readonly AstNode[];
  readonly [key: string]: unknown;
}

// The vendor fields an expression reads: each path of plain names (a.b.c → /a/b/c).
function readsOf(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) {
    for (const n of node) readsOf(n, out);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const n = node as AstNode;
  if (n.type === "path" && Array.isArray(n.steps)) {
    let path = "";
    for (const step of n.steps) {
      if (step.type !== "name" || typeof step.value !== "string") break;
      path = pointer(path, step.value);
    }
    if (path !== "") out.add(path);
  }
  for (const [key, value] of Object.entries(n)) if (key !== "type" && key !== "value") readsOf(value, out);
}

function compile(template: MappingTemplate, base: string, leaves: VendorMappingLeaf[], problems: VendorMappingIssue[]): void {
  for (const [key, value] of Object.entries(template)) {
    const output = pointer(base, key);
    if (typeof value === "string") {
      try {
        const expression = jsonata(value);
        const reads = new Set<string>();
        readsOf(expression.ast(), reads);
        leaves.push({ output, expression, source: value, reads: [...reads] });
      } catch (cause) {
        const message = (cause as { message?: string }).message ?? String(cause);
        problems.push({ code: "invalid_template", path: output, expression: value, message: `${output}: the expression does not compile: ${message}`, rule: "JSONata syntax" });
      }
    } else if (typeof value === "object" && value !== null && LITERAL in value) {
      leaves.push({ output, literal: (value as Record<string, unknown>)[LITERAL], reads: [] });
    } else if (typeof value === "object" && value !== null) {
      compile(value, output, leaves, problems);
    } else {
      leaves.push({ output, literal: value, reads: [] });
    }
  }
}

/**
 * Compiles a declarative vendor mapping: a template in the shape of the WMS event contract whose
 * string leaves are JSONata expressions over the vendor payload (`{ "$literal": … }` for a fixed value).
 *
 * @param options - the mapping's name (used in errors) and its template
 * @returns the compiled mapping, or every expression that does not compile
 * @example
 * const mapping = createVendorMapping({
 *   name: "acme-wms",
 *   template: { eventId: "taskId", type: "$lookup({'PICK': 'pick'}, taskType)", quantity: { value: "qty", unit: "uom" } },
 * });
 */
export function createVendorMapping(options: { readonly name: string; readonly template: MappingTemplate }): Result<VendorMapping, VendorMappingError> {
  const leaves: VendorMappingLeaf[] = [];
  const problems: VendorMappingIssue[] = [];
  compile(options.template, "", leaves, problems);
  if (problems.length > 0) {
    return err({ code: "invalid_template", mapping: options.name, message: `mapping ${options.name}: ${problems.map((p) => p.message).join("; ")}`, issues: problems });
  }
  return ok({ name: options.name, leaves });
}

function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.slice(1).split("/").map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
  let current = target;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) {
      current[key] = value;
    } else {
      const next = current[key];
      if (next === null || typeof next !== "object") current[key] = {};
      current = current[key] as Record<string, unknown>;
    }
  });
}

// Drops objects that ended up empty because every expression under them found nothing.
function prune(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const p = prune(v);
    if (p !== undefined && !(p !== null && typeof p === "object" && !Array.isArray(p) && Object.keys(p).length === 0)) out[k] = p;
  }
  return out;
}

function leafFor(mapping: VendorMapping, path: string): VendorMappingLeaf | undefined {
  // The leaf that wrote the field, else the first leaf below it (a missing object whose fields found nothing).
  return mapping.leaves.find((l) => l.output === path) ?? mapping.leaves.find((l) => l.output.startsWith(`${path}/`));
}

/**
 * Maps one vendor payload to a contract WMS event with a compiled mapping and validates the result.
 * Issues name the output field, the vendor field it came from (JSON Pointer into the payload) and
 * the vendor's value there.
 *
 * @param mapping - from {@link createVendorMapping}
 * @param payload - the vendor's JSON, parsed
 * @returns the WMS event, or why the payload does not map to a valid one
 * @example
 * const event = await applyVendorMapping(mapping, JSON.parse(body));
 */
export function applyVendorMapping(mapping: VendorMapping, payload: unknown): ResultAsync<WmsEvent, VendorMappingError> {
  const evaluate = async (): Promise<Result<WmsEvent, VendorMappingError>> => {
    const output: Record<string, unknown> = {};
    for (const leaf of mapping.leaves) {
      let value: unknown = leaf.literal;
      if (leaf.expression !== undefined) {
        try {
          value = await leaf.expression.evaluate(payload);
        } catch (cause) {
          const message = (cause as { message?: string }).message ?? String(cause);
          const vendorPath = leaf.reads[0];
          return err({
            code: "expression_failed",
            mapping: mapping.name,
            message: `mapping ${mapping.name}: ${leaf.output} = ${leaf.source ?? ""} failed: ${message}`,
            issues: [
              {
                code: "expression_failed",
                path: leaf.output,
                ...(vendorPath !== undefined ? { vendorPath, vendorValue: valueAt(payload, vendorPath) } : {}),
                ...(leaf.source !== undefined ? { expression: leaf.source } : {}),
                message,
                rule: "JSONata evaluation",
              },
            ],
          });
        }
      }
      // JSONata sequences are arrays with extra marks, and an expression may yield a function:
      // keep plain JSON only.
      const json = value === undefined ? undefined : (JSON.stringify(value) as string | undefined);
      if (json !== undefined) setAt(output, leaf.output, JSON.parse(json) as unknown);
    }
    const event = prune(output);
    const parsed = parseWmsEvent(event);
    if (parsed.isOk()) return ok(parsed.value);
    const issues = parsed.error.issues.map((issue): VendorMappingIssue => {
      const leaf = leafFor(mapping, issue.path);
      const vendorPath = leaf?.reads[0];
      const vendor = vendorPath === undefined ? "" : ` from vendor ${vendorPath} = ${JSON.stringify(valueAt(payload, vendorPath)) ?? "(absent)"}`;
      return {
        code: issue.code,
        path: issue.path,
        ...(vendorPath !== undefined ? { vendorPath, vendorValue: valueAt(payload, vendorPath) } : {}),
        ...(leaf?.source !== undefined ? { expression: leaf.source } : {}),
        message: `${issue.message}${vendor}`,
        rule: issue.rule,
      };
    });
    return err({
      code: "invalid_mapping_output",
      mapping: mapping.name,
      message: `mapping ${mapping.name}: ${issues.slice(0, 3).map((i) => i.message).join("; ")}`,
      issues,
    });
  };
  return new ResultAsync(evaluate());
}
