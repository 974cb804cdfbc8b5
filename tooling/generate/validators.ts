import { Ajv2020 } from "ajv/dist/2020.js";
import standaloneExports from "ajv/dist/standalone/index.js";
import { _ } from "ajv";
import { formats } from "../../packages/model/src/formats.js";
import type { SchemaFile } from "@millwright/contract";
import { contractEntries, parsedType, variantSchemas } from "./registries.js";

// ajv's standalone module is CommonJS with a `default` property; under NodeNext the default
// import is the whole module object.
const standaloneCode = standaloneExports.default;

/** The ajv options of the generated validators. */
const AJV_OPTIONS = {
  strict: true,
  // Conditional requirements name the parent's properties; the house lint checks every required
  // and conditional name against the declared properties instead.
  strictRequired: false,
  allErrors: true,
  allowUnionTypes: true,
  verbose: true,
  discriminator: true,
} as const;

/** Creates an ajv instance that knows every schema file, the custom annotations and our formats. */
export function createAjv(files: readonly SchemaFile[], options: { standalone: boolean }): Ajv2020 {
  const ajv = new Ajv2020({
    ...AJV_OPTIONS,
    ...(options.standalone
      ? { code: { source: true, esm: true, formats: _`require("../formats.js").formats` } }
      : {}),
  });
  for (const [name, validate] of Object.entries(formats)) ajv.addFormat(name, validate);
  ajv.addKeyword({ keyword: "x-transitions", schemaType: "object" });
  ajv.addKeyword({ keyword: "x-natural-key", schemaType: "array" });
  ajv.addKeyword({ keyword: "x-event", schemaType: "object" });
  for (const f of files) ajv.addSchema(f.schema);
  return ajv;
}

/** The runtime `require()`s ajv's standalone code may emit, and the import that replaces each. */
const RUNTIME_REQUIRES: ReadonlyArray<{ pattern: RegExp; name: string; from: string }> = [
  { pattern: /require\("ajv\/dist\/runtime\/ucs2length"\)\.default/g, name: "ucs2length", from: "../ajv-runtime.js" },
  { pattern: /require\("\.\.\/formats\.js"\)\.formats/g, name: "formats", from: "../formats.js" },
];

/**
 * ajv records on each validator function what it evaluated (`validateN.evaluated = {…}`), a
 * statement that runs when the module loads and so keeps every validator in a user's bundle. Our
 * schemas use no `unevaluatedProperties`/`unevaluatedItems` and no dynamic refs, so every record is
 * static and unread but for the prologue that resets its dynamic parts; both are removed.
 */
const EVALUATED_RECORD = /validate\d+\.evaluated = \{"props":true,"dynamicProps":false,"dynamicItems":false\};/g;
const EVALUATED_PROLOGUE =
  /const evaluated0 = validate\d+\.evaluated;if\(evaluated0\.dynamicProps\)\{evaluated0\.props = undefined;\}if\(evaluated0\.dynamicItems\)\{evaluated0\.items = undefined;\}/g;

/**
 * ajv checks `maxLength` and `minLength` by counting a string's code points (`ucs2length`, a loop
 * over every character), once per keyword: twice for most strings, on valid data too. A string
 * has at most as many code points as UTF-16 units and at least half as many, so the count is
 * needed only when its `length` leaves the verdict open: `maxLength n` holds whenever
 * `length <= n`, `minLength n` whenever `length >= 2n`. The rewrite puts that test first; the
 * verdict (and the error) is the same for every string.
 */
function lengthFastPaths(code: string): string {
  const alias = /const (func\d+) = ucs2length;/.exec(code)?.[1];
  if (alias === undefined) return code;
  const max = new RegExp(`${alias}\\((data\\d*)\\) > (\\d+)\\)`, "g");
  const min = new RegExp(`${alias}\\((data\\d*)\\) < (\\d+)\\)`, "g");
  const out = code
    .replace(max, (_m, data: string, n: string) => `${data}.length > ${n} && ${alias}(${data}) > ${n})`)
    .replace(min, (_m, data: string, n: string) => `${data}.length < ${2 * Number(n)} && ${alias}(${data}) < ${n})`);
  const calls = out.split(`${alias}(`).length - 1;
  if (calls !== (out.match(max) ?? []).length + (out.match(min) ?? []).length) {
    throw new Error(`ajv standalone code counts code points in a form the length rewrite does not know (${alias}); extend lengthFastPaths`);
  }
  return out;
}

/** The standalone code of the contracts in `exportsMap`, rewritten to an ES module without `require()` or load-time statements. */
function standaloneModule(ajv: Ajv2020, exportsMap: Record<string, string>, banner: string): string {
  let code = standaloneCode(ajv, exportsMap);
  const imports: string[] = [];
  for (const r of RUNTIME_REQUIRES) {
    if (r.pattern.test(code)) {
      imports.push(`import { ${r.name} } from "${r.from}";`);
      code = code.replace(r.pattern, r.name);
    }
  }
  code = code.replace(/^"use strict";/, "");
  // ajv collects a referenced validator's errors with `vErrors = vErrors.concat(v.errors)`, once per
  // array item: quadratic, so 20,000 bad items took seconds (a denial of service on the error
  // path). Append in place instead, which is linear.
  code = code.replace(
    /vErrors = vErrors === null \? (validate\d+)\.errors : vErrors\.concat\(\1\.errors\);/g,
    "if (vErrors === null) {vErrors = $1.errors.slice();} else {for (const e of $1.errors) vErrors.push(e);}",
  );
  code = code.replace(EVALUATED_RECORD, "").replace(EVALUATED_PROLOGUE, "");
  code = lengthFastPaths(code);
  if (code.includes(".concat(")) throw new Error("ajv standalone code still concatenates errors; extend the rewrite above");
  if (code.includes(".evaluated")) throw new Error("ajv standalone code still records what it evaluated (a schema uses unevaluated* or dynamic refs); extend the rewrite above");
  const leftover = /require\([^)]*\)/.exec(code);
  if (leftover !== null) throw new Error(`ajv standalone code still has ${leftover[0]}; map it in RUNTIME_REQUIRES`);
  return `${banner}\n// @ts-nocheck\n${imports.join("\n")}\n${code}\n`;
}

/**
 * Compiles one standalone validator per contract that gets a parser (every entity, and every WMS
 * schema no other schema references), as an ES module with no `require()`: ajv's runtime helper
 * and format references are rewritten to imports of the model package's own modules.
 *
 * Nothing in the module runs when it loads (only declarations: functions and constant schema
 * literals), so a bundler keeps only the validators a user's imports reach: `parseBatch` alone
 * brings the Batch validator and the common ones it references, nothing else. One module rather
 * than one per contract, because ajv inlines every referenced validator into each standalone
 * module: per-contract modules would repeat the common validators (quantity, references, source
 * refs) in each, nearly doubling the package and every bundle that uses several entities.
 *
 * No validator is exported for an event data schema: each is a bare `$ref` to its entity, so its
 * validator would be the entity's under another name, and `parseEventData` (the entity's parser
 * plus the values the event type requires) is what checks event data. Nor for a referenced WMS
 * building block (WmsLocation): it is checked inside the schemas that use it.
 *
 * @returns the JavaScript module text and its declaration file
 */
export function emitValidators(files: readonly SchemaFile[], banner: string): { js: string; dts: string } {
  const titles = new Set(contractEntries(files).map((e) => e.title));
  const targets = files.filter((f) => titles.has(f.title));
  const ajv = createAjv(files, { standalone: true });
  for (const f of targets) ajv.getSchema(f.id);
  const js = standaloneModule(ajv, Object.fromEntries(targets.map((f) => [`validate${f.title}`, f.id])), banner);
  // A schema narrowed by a tag is checked with its conditional requirements: the guard proves the narrowed union.
  const narrowed = new Set(variantSchemas(files).map((v) => v.title));
  const dts = [
    banner,
    'import type { ValidatorFunction } from "../validator-function.js";',
    'import type * as T from "./types.js";',
    ...(narrowed.size > 0 ? ['import type * as N from "./variants.js";'] : []),
    ...targets.map((f) => `export declare const validate${f.title}: ValidatorFunction<${parsedType(f.title, narrowed, "T", "N")}>;`),
    "",
  ].join("\n");
  return { js, dts };
}
