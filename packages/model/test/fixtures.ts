import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { entityCatalog, type EntityName } from "../src/index.js";

const SCHEMAS = join(import.meta.dirname, "..", "..", "..", "schemas");

/** The schema-file stem of an entity: WorkOrder → work-order. */
export function stemOf(entity: EntityName): string {
  return entityCatalog[entity].file.replace(/^entities\//, "").replace(/\.schema\.json$/, "");
}

function readDir(dir: string): { name: string; json: unknown }[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .sort()
    .map((name) => ({ name, json: JSON.parse(readFileSync(join(dir, name), "utf8")) as unknown }));
}

/** The valid examples of an entity from schemas/examples/. */
export function validExamples(entity: EntityName): { name: string; json: unknown }[] {
  return readDir(join(SCHEMAS, "examples", stemOf(entity)));
}

/** The invalid examples of an entity from schemas/examples-invalid/. */
export function invalidExamples(
  entity: EntityName,
): { name: string; json: { description: string; expected: { code: string; path: string }[]; data: unknown } }[] {
  return readDir(join(SCHEMAS, "examples-invalid", stemOf(entity))) as never;
}

/** A deep copy of a JSON value. */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
