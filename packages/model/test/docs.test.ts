import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { entityCatalog, entityNames } from "../src/index.js";
import { stemOf } from "./fixtures.js";

const root = join(import.meta.dirname, "..", "..", "..");
const bundle = JSON.parse(readFileSync(join(root, "packages", "model", "schemas", "bundle.schema.json"), "utf8")) as {
  $defs: Record<string, Node>;
};
type Node = { [k: string]: unknown };

const commonTitles = readdirSync(join(root, "schemas", "common")).map(
  (name) => String((JSON.parse(readFileSync(join(root, "schemas", "common", name), "utf8")) as Node)["title"]),
);

/** The entity's own field paths (a.b, list[].c), descending into its own $defs but not into shared types. */
function fieldPaths(title: string): string[] {
  const own = new Set<string>();
  const ownDefs = new Set(ownDefinitions(title));
  const visit = (node: Node, prefix: string): void => {
    const props = (node["properties"] ?? {}) as Record<string, Node>;
    for (const [name, prop] of Object.entries(props)) {
      const path = prefix === "" ? name : `${prefix}.${name}`;
      own.add(path);
      const target = prop["type"] === "array" ? ((prop["items"] ?? {}) as Node) : prop;
      const childPrefix = prop["type"] === "array" ? `${path}[]` : path;
      for (const ref of refs(target)) if (ownDefs.has(ref)) visit(bundle.$defs[ref]!, childPrefix);
    }
  };
  visit(bundle.$defs[title]!, "");
  return [...own];
}

function refs(node: Node): string[] {
  const out: string[] = [];
  if (typeof node["$ref"] === "string") out.push(node["$ref"].replace("#/$defs/", ""));
  for (const branch of (node["oneOf"] as Node[] | undefined) ?? []) out.push(...refs(branch));
  return out;
}

/** Definitions declared in the entity's own schema file (not shared ones from schemas/common). */
function ownDefinitions(title: string): string[] {
  const file = JSON.parse(readFileSync(join(root, "schemas", entityCatalog[title as keyof typeof entityCatalog].file), "utf8")) as Node;
  return Object.values((file["$defs"] ?? {}) as Record<string, Node>).map((d) => String(d["title"]));
}

// Every field of every entity has a row in its mapping table (docs/model/<entity>.md), so a field
// added to a schema without its SAP / ISA-95 / EPCIS mapping (or its justification) fails here.
describe.each(entityNames)("docs/model mapping table of %s", (entity) => {
  test("names every field", () => {
    const doc = readFileSync(join(root, "docs", "model", `${stemOf(entity)}.md`), "utf8");
    const cells = [...doc.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]!);
    const missing = fieldPaths(entity).filter(
      (p) => !cells.some((c) => c === p || c.startsWith(`${p}.`) || c.startsWith(`${p}[]`)),
    );
    expect(missing).toEqual([]);
  });
});

test("the shared types are described in docs/model/README.md", () => {
  const readme = readFileSync(join(root, "docs", "model", "README.md"), "utf8");
  const missing = commonTitles.filter((t) => !readme.includes(t));
  expect(missing).toEqual([]);
});
