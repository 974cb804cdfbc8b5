import { compile } from "json-schema-to-typescript";
import type { SchemaNode } from "./schemas.js";

/**
 * Generates the TypeScript declarations of every bundled schema with json-schema-to-typescript.
 *
 * The bundle is compiled once, so each shared type is declared once. A `$ref` with sibling keywords
 * (our property descriptions) would make json-schema-to-typescript declare a fresh copy of the
 * referenced type (Identifier1, Identifier2, …), so the siblings are removed before compiling and
 * the property descriptions are put back afterwards as TSDoc comments. Only refs inside the bundle
 * are followed: nothing in it makes the compiler read the network or the file system.
 *
 * @param bundle - a bundle from `bundleSchemas`
 * @param banner - the comment to put first in the file
 * @returns the TypeScript source
 * @example
 * const source = await emitTypes(bundleSchemas(files), "// Generated. Do not edit.");
 */
export async function emitTypes(bundle: SchemaNode, banner: string): Promise<string> {
  const docs = new Map<string, Map<string, string>>();
  const input = stripRefSiblings(structuredClone(bundle), docs);
  // json-schema-to-typescript ignores unreachableDefinitions for 2020-12 $defs: make every
  // definition reachable from a temporary root, then put the declared root union back.
  const rootTitle = String(bundle["title"] ?? "CanonicalEntity");
  const rootRefs = ((bundle["anyOf"] as { $ref: string }[] | undefined) ?? []).map((r) => r.$ref.replace("#/$defs/", ""));
  // Pure-$ref definitions (event data that is an entity) stay out: they become aliases below.
  const defs = (input["$defs"] ?? {}) as Record<string, SchemaNode>;
  const defNames = Object.keys(defs).filter((name) => typeof defs[name]?.["$ref"] !== "string");
  input["title"] = "MillwrightAllTypes";
  input["anyOf"] = defNames.map((name) => ({ $ref: `#/$defs/${name}` }));
  const compiled = await compile(input as never, "MillwrightAllTypes", {
    bannerComment: banner,
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: false,
    declareExternallyReferenced: true,
    enableConstEnums: false,
    maxItems: -1,
    format: true,
    style: { printWidth: 110, singleQuote: false, trailingComma: "all" },
    // Only refs inside the document are followed: json-schema-to-typescript's resolver would
    // otherwise fetch http(s) refs and read files named by a $ref.
    $refOptions: { resolve: { external: false, file: false, http: false } },
  });
  const rootDecl = /^export type MillwrightAllTypes =[\s\S]*?;\n/m;
  if (!rootDecl.test(compiled)) throw new Error("json-schema-to-typescript did not declare the temporary root");
  for (const name of [rootTitle, ...rootRefs]) assertTypeName(name);
  const union = rootRefs.length === 0 ? "never" : rootRefs.map((r) => `  | ${r}`).join("\n");
  const source = compiled.replace(rootDecl, `export type ${rootTitle} =\n${union};\n`);
  const numbered = /\b([A-Z][A-Za-z]*?)\d+\b/.exec(source.replace(/\/\*\*[\s\S]*?\*\//g, ""));
  if (numbered !== null && /^export (type|interface) [A-Z][A-Za-z]*\d+\b/m.test(source)) {
    throw new Error(`json-schema-to-typescript declared a numbered duplicate type (${numbered[0]}); check $ref siblings`);
  }
  return appendRefAliases(injectPropertyDocs(source, docs), bundle);
}

/**
 * json-schema-to-typescript folds a definition that is only a `$ref` (an event's data schema that
 * is an entity) into the referenced type; declare it as an alias so that every title is a type.
 */
function appendRefAliases(source: string, bundle: SchemaNode): string {
  const defs = bundle["$defs"] as Record<string, SchemaNode>;
  const aliases: string[] = [];
  for (const [name, def] of Object.entries(defs)) {
    if (typeof def["$ref"] !== "string") continue;
    assertTypeName(name);
    if (new RegExp(`^export (type|interface) ${name}\\b`, "m").test(source)) continue;
    const target = /^#\/\$defs\/([A-Za-z0-9]+)$/.exec(def["$ref"])?.[1];
    if (target === undefined) throw new Error(`${name}: $ref ${def["$ref"]} is not a bundle definition`);
    aliases.push(`/**\n * ${String(def["description"] ?? "").replace(/\*\//g, "* /")}\n */\nexport type ${name} = ${target};`);
  }
  return aliases.length === 0 ? source : `${source.trimEnd()}\n${aliases.join("\n")}\n`;
}

/** Removes every keyword beside a `$ref`, remembering property descriptions per object title. */
function stripRefSiblings(node: SchemaNode, docs: Map<string, Map<string, string>>, owner?: string): SchemaNode {
  const title = typeof node["title"] === "string" ? node["title"] : owner;
  // Conditional requirements (allOf of if/then) constrain values, not the type.
  if (Array.isArray(node["allOf"]) && (node["allOf"] as SchemaNode[]).every((e) => "if" in e)) delete node["allOf"];
  const props = node["properties"] as Record<string, SchemaNode> | undefined;
  if (props !== undefined) {
    for (const [name, prop] of Object.entries(props)) {
      if (typeof prop["$ref"] === "string") {
        if (title !== undefined && typeof prop["description"] === "string") {
          let table = docs.get(title);
          if (table === undefined) docs.set(title, (table = new Map()));
          table.set(name, prop["description"]);
        }
        props[name] = { $ref: prop["$ref"] };
      }
    }
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === "enum" || key === "x-transitions" || key === "examples") continue;
    if (Array.isArray(value)) value.forEach((v) => isNode(v) && stripRefSiblings(v, docs, title));
    else if (isNode(value)) stripRefSiblings(value, docs, key === "properties" ? title : undefined);
  }
  return node;
}

/** Puts a description comment above each property of an interface that has none. */
function injectPropertyDocs(source: string, docs: Map<string, Map<string, string>>): string {
  const lines = source.split("\n");
  const out: string[] = [];
  let current: Map<string, string> | undefined;
  for (const line of lines) {
    const open = /^export interface ([A-Za-z0-9]+) \{$/.exec(line);
    if (open !== null) current = docs.get(open[1] as string);
    else if (line === "}") current = undefined;
    const prop = /^ {2}"?([A-Za-z0-9_]+)"?\??: /.exec(line);
    const doc = prop === null ? undefined : current?.get(prop[1] as string);
    if (doc !== undefined && !(out[out.length - 1] ?? "").trim().endsWith("*/")) {
      out.push("  /**", `   * ${doc.replace(/\*\//g, "* /")}`, "   */");
    }
    out.push(line);
  }
  return out.join("\n");
}

/** Names are written into the source as they are: anything but a plain identifier could be code. */
function assertTypeName(name: string): void {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error(`${JSON.stringify(name).slice(0, 80)} is not a type name; it cannot be written into TypeScript`);
}

function isNode(value: unknown): value is SchemaNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
