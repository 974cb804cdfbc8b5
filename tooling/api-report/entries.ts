import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One public entry point of a published package, as its package.json `exports` declares it. */
export interface ApiEntry {
  /** The package folder, absolute. */
  readonly packageDir: string;
  readonly packageName: string;
  /** The export subpath: `.`, `./sqlite`, `./adapters/fetch`. */
  readonly subpath: string;
  /** The report's base name: `index` for `.`, else the subpath with `/` as `-` (`adapters-fetch`). */
  readonly reportName: string;
  /** The ESM declaration file the export points at, absolute (it exists only after a build). */
  readonly typesFile: string;
}

interface PackageJson {
  readonly name?: string;
  readonly private?: boolean;
  readonly exports?: unknown;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The declaration file of one export target: `import.types`, else `types`; undefined for non-code exports (JSON, EDMX). */
function typesOf(target: unknown): string | undefined {
  if (!isRecord(target)) return undefined;
  const imported = target["import"];
  if (isRecord(imported) && typeof imported["types"] === "string") return imported["types"];
  return typeof target["types"] === "string" ? target["types"] : undefined;
}

/**
 * Lists every entry point of every published package under `packagesDir` (a package is published
 * unless its package.json says `"private": true`), from each package.json's `exports`, so a new
 * package or subpath is covered without editing this tool.
 *
 * @param packagesDir - the folder holding one folder per package
 * @returns the entries, sorted by package then subpath
 * @example
 * const entries = listApiEntries(join(root, "packages"));
 * // [{ packageName: "@millwright/alignment", subpath: ".", reportName: "index", ... }, ...]
 */
export function listApiEntries(packagesDir: string): ApiEntry[] {
  const entries: ApiEntry[] = [];
  for (const folder of readdirSync(packagesDir).sort()) {
    const packageDir = join(packagesDir, folder);
    const manifestFile = join(packageDir, "package.json");
    if (!existsSync(manifestFile)) continue;
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as PackageJson;
    if (manifest.private === true || manifest.name === undefined || !isRecord(manifest.exports)) continue;
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      const types = typesOf(target);
      if (types === undefined) continue;
      if (subpath.includes("*")) {
        throw new Error(`${manifest.name}: exports["${subpath}"] is a pattern with types; the API report needs one file per entry point`);
      }
      const reportName = subpath === "." ? "index" : subpath.replace(/^\.\//, "").replaceAll("/", "-");
      entries.push({ packageDir, packageName: manifest.name, subpath, reportName, typesFile: join(packageDir, types) });
    }
  }
  return entries;
}
