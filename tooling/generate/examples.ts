import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

interface ExpectedIssue {
  readonly code: string;
  readonly path: string;
}

interface InvalidExample {
  readonly description: string;
  readonly expected: readonly ExpectedIssue[];
  readonly data: unknown;
}

interface ModelModule {
  parseEntity(
    name: string,
    input: unknown,
  ): { isOk(): boolean; error?: { issues: readonly { code: string; path: string; message: string }[] } };
}

const MIN_VALID = 3;
const MIN_INVALID = 8;

/**
 * Runs every example through the model's real parser: each file in `schemas/examples/<entity>/`
 * must parse, and each file in `schemas/examples-invalid/<entity>/` must fail with at least the
 * issues it expects (code and path). Every entity needs enough of both.
 *
 * @returns one message per problem; empty when every example behaves
 */
export async function checkExamples(schemasDir: string, modelEntry: string): Promise<string[]> {
  const model = (await import(pathToFileURL(modelEntry).href)) as ModelModule;
  const problems: string[] = [];
  const entities = readdirSync(join(schemasDir, "entities"))
    .filter((n) => n.endsWith(".schema.json"))
    .sort();
  let valid = 0;
  let invalid = 0;
  for (const file of entities) {
    const stem = file.replace(/\.schema\.json$/, "");
    const title = (JSON.parse(readFileSync(join(schemasDir, "entities", file), "utf8")) as { title: string }).title;
    const validFiles = listJson(join(schemasDir, "examples", stem));
    const invalidFiles = listJson(join(schemasDir, "examples-invalid", stem));
    if (validFiles.length < MIN_VALID) problems.push(`${stem}: ${validFiles.length} valid examples, need ${MIN_VALID}`);
    if (invalidFiles.length < MIN_INVALID) problems.push(`${stem}: ${invalidFiles.length} invalid examples, need ${MIN_INVALID}`);
    for (const path of validFiles) {
      valid++;
      const result = model.parseEntity(title, JSON.parse(readFileSync(path, "utf8")));
      if (!result.isOk()) {
        const issues = result.error?.issues.map((i) => `${i.code} at "${i.path}": ${i.message}`).join("; ");
        problems.push(`${rel(schemasDir, path)}: should be valid but: ${issues}`);
      }
    }
    for (const path of invalidFiles) {
      invalid++;
      const example = JSON.parse(readFileSync(path, "utf8")) as InvalidExample;
      if (!Array.isArray(example.expected) || example.expected.length === 0 || typeof example.description !== "string") {
        problems.push(`${rel(schemasDir, path)}: needs "description", a non-empty "expected" and "data"`);
        continue;
      }
      const result = model.parseEntity(title, example.data);
      if (result.isOk()) {
        problems.push(`${rel(schemasDir, path)}: should be invalid but parsed`);
        continue;
      }
      const got = result.error?.issues ?? [];
      for (const want of example.expected) {
        if (!got.some((i) => i.code === want.code && i.path === want.path)) {
          const seen = got.map((i) => `${i.code} at "${i.path}"`).join(", ");
          problems.push(`${rel(schemasDir, path)}: expected ${want.code} at "${want.path}", got ${seen}`);
        }
      }
    }
  }
  if (problems.length === 0) console.log(`examples: ${valid} valid and ${invalid} invalid examples behave as expected`);
  return problems;
}

function listJson(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .sort()
    .map((n) => join(dir, n));
}

function rel(schemasDir: string, path: string): string {
  return path.slice(schemasDir.length - "schemas".length);
}
