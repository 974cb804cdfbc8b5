/**
 * `pnpm api:update` / `pnpm api:check`: one API report (`.api.md`, API Extractor) per entry point of
 * every published package, committed as `packages/<pkg>/api/<entry>.api.md`, so a change to a
 * public API shows in review.
 *
 * Reads the built declaration files (`dist/*.d.ts`, run the build first), the entries come from
 * each package.json's `exports`. With --check nothing is written: the command fails, printing the
 * diff, when a report differs from the committed one, is missing, or belongs to no entry any more.
 * Package names as arguments limit the run to those packages (`pnpm api:update @millwright/alignment`).
 */
import { CompilerState, Extractor, ExtractorConfig, ExtractorLogLevel, type ExtractorMessage } from "@microsoft/api-extractor";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { listApiEntries, type ApiEntry } from "./entries.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const packagesDir = join(root, "packages");
const check = process.argv.includes("--check");
const only = new Set(process.argv.slice(2).filter((a) => !a.startsWith("--")));
const REPORT_FOLDER = "api";
const SUFFIX = ".api.md";

/** Prints the difference between the committed report and the one the current build produces. */
function printDiff(committed: string, current: string): void {
  const diff = spawnSync("git", ["diff", "--no-index", "--no-color", "--", committed, current], { encoding: "utf8" });
  process.stdout.write(diff.stdout);
}

/**
 * The API Extractor configuration of one entry point. `files` lists every entry point of the
 * package, so that one TypeScript program serves them all (see {@link CompilerState}).
 */
function extractorConfig(entry: ApiEntry, files: readonly string[], tempFolder: string): ExtractorConfig {
  const reportFolder = join(entry.packageDir, REPORT_FOLDER);
  return ExtractorConfig.prepare({
    configObject: {
      projectFolder: entry.packageDir,
      mainEntryPointFilePath: entry.typesFile,
      compiler: {
        // The declarations as a user compiling against the published package sees them.
        overrideTsconfig: {
          compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2023"], types: ["node"], strict: true, skipLibCheck: true },
          files: [...files],
        },
      },
      apiReport: { enabled: true, reportFileName: entry.reportName, reportFolder, reportTempFolder: tempFolder },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      newlineKind: "lf",
      messages: {
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Error } },
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
          // The packages do not use release tags (@public/@beta): every export is public.
          "ae-missing-release-tag": { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          // A member without its own comment is marked `(undocumented)` in the report already; the
          // warning would add the line numbers of hashed build chunks, which change with any edit.
          "ae-undocumented": { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
        },
        // TSDoc style is the linters' job, not the API report's.
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None, addToApiReportFile: false } },
      },
    },
    configObjectFullPath: undefined,
    packageJsonFullPath: join(entry.packageDir, "package.json"),
  });
}

function runExtractor(config: ExtractorConfig, compilerState: CompilerState): { readonly changed: boolean; readonly errors: number } {
  const result = Extractor.invoke(config, {
    compilerState,
    localBuild: !check,
    messageCallback: (message: ExtractorMessage) => {
      // The report itself says what changed; keep the console to errors.
      if (message.logLevel !== ExtractorLogLevel.Error) message.handled = true;
    },
  });
  return { changed: result.apiReportChanged, errors: result.errorCount };
}

function main(): number {
  const entries = listApiEntries(packagesDir).filter((e) => only.size === 0 || only.has(e.packageName));
  if (entries.length === 0) {
    console.error(`api: no entry points${only.size > 0 ? ` in ${[...only].join(", ")}` : ""}`);
    return 1;
  }
  const missingBuild = entries.filter((e) => !existsSync(e.typesFile));
  if (missingBuild.length > 0) {
    console.error(`api: no declarations for ${missingBuild.length} entry point(s); run the build first:`);
    for (const e of missingBuild) console.error(`  ${e.packageName}${e.subpath === "." ? "" : e.subpath.slice(1)}: ${relative(root, e.typesFile)}`);
    return 1;
  }
  const tempRoot = join(tmpdir(), `millwright-api-${process.pid}`);
  const problems: string[] = [];
  try {
    // One TypeScript program per package, shared by its entry points: building the program (with
    // @types/node) is most of the cost, so a package with five subpaths is not checked five times.
    let compilerState: CompilerState | undefined;
    let statePackage: string | undefined;
    for (const entry of entries) {
      const label = `${entry.packageName}${entry.subpath === "." ? "" : entry.subpath.slice(1)}`;
      const tempFolder = join(tempRoot, basename(entry.packageDir));
      mkdirSync(tempFolder, { recursive: true });
      if (!check) mkdirSync(join(entry.packageDir, REPORT_FOLDER), { recursive: true });
      const committed = join(entry.packageDir, REPORT_FOLDER, entry.reportName + SUFFIX);
      const existed = existsSync(committed);
      let outcome: { readonly changed: boolean; readonly errors: number };
      try {
        const files = entries.filter((e) => e.packageDir === entry.packageDir).map((e) => e.typesFile);
        const config = extractorConfig(entry, files, tempFolder);
        if (compilerState === undefined || statePackage !== entry.packageDir) {
          compilerState = CompilerState.create(config);
          statePackage = entry.packageDir;
        }
        outcome = runExtractor(config, compilerState);
      } catch (cause) {
        // API Extractor throws on declarations it cannot read (a file removed by a build running meanwhile).
        problems.push(`${label}: API Extractor failed: ${cause instanceof Error ? cause.message : String(cause)}`);
        continue;
      }
      const { changed, errors } = outcome;
      if (errors > 0) {
        problems.push(`${label}: API Extractor reported ${errors} error(s)`);
        continue;
      }
      if (!changed) continue;
      if (!check) {
        console.log(`api: ${existed ? "updated" : "created"} ${relative(root, committed)}`);
      } else if (!existed) {
        problems.push(`${label}: no API report ${relative(root, committed)}`);
      } else {
        problems.push(`${label}: the public API differs from ${relative(root, committed)}`);
        printDiff(committed, join(tempFolder, entry.reportName + SUFFIX));
      }
    }
    // Reports of entry points that no longer exist.
    const expected = new Set(entries.map((e) => join(e.packageDir, REPORT_FOLDER, e.reportName + SUFFIX)));
    const folders = only.size === 0 ? readdirSync(packagesDir) : [...new Set(entries.map((e) => basename(e.packageDir)))];
    for (const folder of folders) {
      const reportDir = join(packagesDir, folder, REPORT_FOLDER);
      if (!existsSync(reportDir)) continue;
      for (const file of readdirSync(reportDir).filter((f) => f.endsWith(SUFFIX))) {
        const path = join(reportDir, file);
        if (expected.has(path)) continue;
        if (check) problems.push(`${relative(root, path)}: a report for no entry point in the package's exports`);
        else {
          rmSync(path);
          console.log(`api: removed ${relative(root, path)}`);
        }
      }
    }
  } finally {
    rmSync(tempRoot, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    console.error(`\napi: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
    if (check) console.error("If the change is intended, run `pnpm api:update` (after the build) and commit the reports.");
    return 1;
  }
  console.log(`api: ${entries.length} entry points ${check ? "match their reports" : "reported"}`);
  return 0;
}

process.exitCode = main();
