import { commentLines, resolveAlias, uniqueNames, words, type CodeModel, type Declaration, type PropertyModel, type TypeRef } from "./codegen-model.js";

// Java: one record per object and one enum per value set, in package dev.millwright.model, with
// Jackson annotations that carry every JSON name exactly as the contract spells it. Aliases
// (Identifier, Decimal, Timestamp…) have no Java counterpart: their uses are the aliased type.

const PACKAGE = "dev.millwright.model";

const KEYWORDS = new Set(
  ("abstract assert boolean break byte case catch char class const continue default do double else enum extends final finally float for goto if " +
    "implements import instanceof int interface long native new package private protected public return short static strictfp super switch " +
    "synchronized this throw throws transient try void volatile while true false null var record yield _ " +
    // Record components become accessor methods: these would clash with Object's.
    "hashCode toString getClass notify notifyAll wait clone finalize equals").split(" "),
);

/** A record component's name: the JSON name, with `_` after a Java keyword. */
function componentName(name: string): string {
  return KEYWORDS.has(name) ? `${name}_` : name;
}

function javaType(model: CodeModel, type: TypeRef): string {
  const t = resolveAlias(model, type);
  switch (t.kind) {
    case "string":
      return "String";
    case "integer":
      return "Long";
    case "number":
      return "Double";
    case "boolean":
      return "Boolean";
    case "any":
      return "Object";
    case "named":
      return t.name;
    case "array":
      return `java.util.List<${javaType(model, t.items)}>`;
    case "map":
      return `java.util.Map<String, ${javaType(model, t.values)}>`;
  }
}

/** Javadoc text: `*` + `/` would end the comment early. */
function javadoc(text: string): string {
  return text.replaceAll("*/", "*&#47;").replaceAll("@", "&#64;");
}

/** A Javadoc block of description lines (escaped) followed by tag lines (written as they are). */
function docBlock(lines: readonly string[], indent: string, tags: readonly string[] = []): string[] {
  const body = [...lines.map(javadoc), ...(lines.length > 0 && tags.length > 0 ? [""] : []), ...tags];
  if (body.length === 0) return [];
  return [`${indent}/**`, ...body.map((l) => (l === "" ? `${indent} *` : `${indent} * ${l}`)), `${indent} */`];
}

/** The contract's name for a property's type when Java writes it as another type (`Decimal` as String). */
function contractName(model: CodeModel, type: TypeRef): string {
  return type.kind === "named" && model.declarations.get(type.name)?.kind === "alias" ? `(${type.name}) ` : "";
}

function literal(value: string): string {
  return JSON.stringify(value);
}

function emitRecord(model: CodeModel, decl: Extract<Declaration, { kind: "object" }>): string[] {
  const names = uniqueNames(decl.properties.map((p) => p.name), componentName);
  const doc = [...commentLines(decl.description)];
  if (decl.union !== undefined) doc.push("", `One of ${decl.union.join(", ")}, as one record: a property is required only when every variant requires it.`);
  const tags = decl.properties.map((p: PropertyModel, i) => {
    const text = javadoc(commentLines(p.description).join(" "));
    return `@param ${names[i]} ${p.required ? "" : "optional; "}${contractName(model, p.type)}${text}`.trimEnd();
  });
  const components = decl.properties.map((p, i) => {
    const annotation = p.required ? `@JsonProperty(value = ${literal(p.name)}, required = true)` : `@JsonProperty(${literal(p.name)})`;
    return `        ${annotation} ${javaType(model, p.type)} ${names[i]}`;
  });
  return [
    ...docBlock(doc, "", tags),
    "@JsonInclude(JsonInclude.Include.NON_NULL)",
    `public record ${decl.name}(`,
    components.join(",\n"),
    ") {",
    "}",
  ];
}

function emitEnum(decl: Extract<Declaration, { kind: "enum" }>): string[] {
  const names = uniqueNames(decl.values, (v) => {
    const w = words(v).join("_").toUpperCase();
    return w === "" ? "EMPTY" : /^[0-9]/.test(w) ? `V_${w}` : w;
  });
  return [
    ...docBlock(commentLines(decl.description), ""),
    `public enum ${decl.name} {`,
    decl.values.map((v, i) => `    @JsonProperty(${literal(v)}) ${names[i]}`).join(",\n"),
    "}",
  ];
}

/**
 * Writes Java sources: one file per record or enum.
 *
 * @param model - the declarations
 * @param banner - the "generated, do not edit" line
 * @returns the files, under `dev/millwright/model/`
 */
export function emitJava(model: CodeModel, banner: string): { path: string; content: string }[] {
  const files: { path: string; content: string }[] = [];
  for (const decl of model.declarations.values()) {
    if (decl.kind === "alias") continue;
    const body = decl.kind === "object" ? emitRecord(model, decl) : emitEnum(decl);
    const imports = decl.kind === "object" ? ["import com.fasterxml.jackson.annotation.JsonInclude;", "import com.fasterxml.jackson.annotation.JsonProperty;"] : ["import com.fasterxml.jackson.annotation.JsonProperty;"];
    const content = [`// ${banner}`, `package ${PACKAGE};`, "", ...imports, "", ...body, ""].join("\n");
    files.push({ path: `${PACKAGE.replaceAll(".", "/")}/${decl.name}.java`, content });
  }
  return files;
}
