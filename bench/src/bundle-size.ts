/**
 * `pnpm --filter @millwright/bench bundle-size`: what a user's bundle pays for an import. Each
 * entry is a one-line program that imports a few names from the published build (`dist/`, so run
 * `npx turbo run build --filter=@millwright/bench...` first) and uses them; esbuild bundles it as a
 * user would (minified, platform node, ESM) and the minified and gzipped sizes are written to
 * bench/results/bundle-size.json.
 *
 * With --check, the run fails when an entry that imports one parser pulls in another entity's
 * validator, which is what tree-shaking must prevent.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

interface Entry {
  /** What the program imports, as it reads in the table. */
  readonly name: string;
  readonly source: string;
  /** Schema `$id`s that must not appear in the bundle (another entity's validator). */
  readonly mustNotContain?: readonly string[];
}

const ENTITY = (file: string): string => `https://schemas.millwright.dev/v1/entities/${file}.schema.json`;

const ENTRIES: readonly Entry[] = [
  {
    name: "model: { subtractQuantities }",
    source: `import { subtractQuantities } from "@millwright/model"; console.log(subtractQuantities);`,
    mustNotContain: [ENTITY("work-order"), ENTITY("batch")],
  },
  {
    name: "model: { ok, err }",
    source: `import { ok, err } from "@millwright/model"; console.log(ok, err);`,
    mustNotContain: [ENTITY("work-order"), ENTITY("batch")],
  },
  {
    name: "model: { parseBatch }",
    source: `import { parseBatch } from "@millwright/model"; console.log(parseBatch);`,
    mustNotContain: [ENTITY("work-order"), ENTITY("material-movement"), ENTITY("quality-hold")],
  },
  {
    name: "model: { parseWorkOrder }",
    source: `import { parseWorkOrder } from "@millwright/model"; console.log(parseWorkOrder);`,
    mustNotContain: [ENTITY("batch"), ENTITY("material-movement"), ENTITY("quality-hold")],
  },
  {
    name: "model: { parseEntity } (all entities)",
    source: `import { parseEntity } from "@millwright/model"; console.log(parseEntity);`,
  },
  {
    name: "model: * (everything)",
    source: `import * as model from "@millwright/model"; console.log(model);`,
  },
];

const here = dirname(import.meta.dirname);
const resolveFrom = createRequire(join(here, "package.json"));

/** Bundles one entry as a user's build would, and measures it. */
async function measure(entry: Entry): Promise<{ name: string; minifiedBytes: number; gzipBytes: number; leaked: string[] }> {
  const result = await build({
    stdin: { contents: entry.source, resolveDir: here, loader: "js" },
    bundle: true,
    minify: true,
    platform: "node",
    format: "esm",
    write: false,
    logLevel: "silent",
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error(`esbuild wrote nothing for ${entry.name}`);
  const text = file.text;
  return {
    name: entry.name,
    minifiedBytes: file.contents.byteLength,
    gzipBytes: gzipSync(file.contents, { level: 9 }).byteLength,
    leaked: (entry.mustNotContain ?? []).filter((id) => text.includes(id)),
  };
}

const modelDist = join(dirname(resolveFrom.resolve("@millwright/model/package.json")), "dist", "index.js");
if (!existsSync(modelDist)) {
  console.error(`${modelDist} is missing: build first with npx turbo run build --filter=@millwright/bench...`);
  process.exit(2);
}

const rows = [];
const failed: string[] = [];
for (const entry of ENTRIES) {
  try {
    rows.push(await measure(entry));
  } catch (cause) {
    failed.push(`${entry.name}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
console.log("\n  import".padEnd(44) + "minified".padStart(12) + "gzip".padStart(12));
for (const row of rows) {
  console.log(`  ${row.name.padEnd(42)}${kb(row.minifiedBytes).padStart(12)}${kb(row.gzipBytes).padStart(12)}${row.leaked.length > 0 ? `   pulls in ${row.leaked.join(", ")}` : ""}`);
}

const results = join(here, "results");
mkdirSync(results, { recursive: true });
const esbuildVersion = (resolveFrom("esbuild/package.json") as { version: string }).version;
writeFileSync(
  join(results, "bundle-size.json"),
  `${JSON.stringify({ node: process.version, esbuild: esbuildVersion, options: "bundle, minify, platform node, format esm; gzip level 9", entries: rows.map(({ leaked: _, ...row }) => row) }, null, 2)}\n`,
);

for (const failure of failed) console.error(`\ndoes not bundle: ${failure}`);
if (failed.length > 0) process.exit(1);

const leaks = rows.filter((row) => row.leaked.length > 0);
if (process.argv.includes("--check") && leaks.length > 0) {
  console.error(`\n${leaks.length} entries pull in validators they do not use`);
  process.exit(1);
}
