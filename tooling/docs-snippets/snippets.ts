// Finds the TypeScript snippets of the docs and the package READMEs and type-checks them as a
// consumer's code would be: strict, against the packages' sources (the "@millwright/source"
// condition), one module per snippet.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import ts from "typescript";

/** The repository root. */
export const root = join(import.meta.dirname, "..", "..");

/** One ```ts fence of a Markdown file. */
export interface Snippet {
  /** The Markdown file, relative to the root (`docs/transports.md`). */
  readonly file: string;
  /** The 1-based line of the snippet's first line of code in the Markdown file. */
  readonly line: number;
  readonly code: string;
}

/** A compiler error in a snippet, at its line in the Markdown file. */
export interface SnippetError {
  readonly line: number;
  readonly code: number;
  readonly message: string;
}

const FENCE = /^```(ts|typescript)\s*$/;

/**
 * The ```ts and ```typescript fences of one Markdown text.
 *
 * @param markdown - the text
 * @param file - its name, relative to the root
 * @returns the snippets in order
 */
export function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split("\n");
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i] as string)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] as string)) end++;
    snippets.push({ file, line: start + 1, code: lines.slice(start, end).join("\n") });
    i = end;
  }
  return snippets;
}

/**
 * Every Markdown file under `docs/`, relative to the root, sorted; without `docs/api/`, the API
 * reference typedoc generates, whose fences are declarations to read, not code to run.
 */
export function docsFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path !== join("docs", "api")) walk(path);
      }
      else if (entry.name.endsWith(".md")) found.push(path);
    }
  };
  walk("docs");
  return found.sort();
}

/** The root README.md and each package's README.md, relative to the root: the first code a user reads. */
export function readmeFiles(): string[] {
  const packages = readdirSync(join(root, "packages"))
    .map((pkg) => join("packages", pkg, "README.md"))
    .filter((path) => existsSync(join(root, path)))
    .sort();
  return ["README.md", ...packages];
}

/** The module specifiers a snippet imports (static imports and `import(…)`). */
function importsOf(code: string): string[] {
  return [...code.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["']([^"']+)["']/g)].map((m) => m[1] as string);
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

/** Where a third-party package is installed in the workspace (pnpm links it into each user's node_modules). */
function installed(name: string): string | undefined {
  const homes = ["", ...["packages", "examples"].flatMap((group) => readdirSync(join(root, group)).map((d) => join(group, d)))];
  for (const home of homes) {
    const path = join(root, home, "node_modules", name);
    if (existsSync(join(path, "package.json"))) return path;
  }
  return undefined;
}

function link(target: string, path: string): void {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path, "dir");
}

/** The module resolution settings a consumer may use; each is checked. */
export type Resolution = "nodenext" | "bundler";

function compilerOptions(resolution: Resolution): ts.CompilerOptions {
  const base: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts"],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    noImplicitReturns: true,
    isolatedModules: true,
    verbatimModuleSyntax: true,
    esModuleInterop: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"],
    customConditions: ["@millwright/source"],
  };
  return resolution === "nodenext"
    ? { ...base, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext }
    : { ...base, module: ts.ModuleKind.Preserve, moduleResolution: ts.ModuleResolutionKind.Bundler };
}

/** A consumer's project in a temporary folder: each snippet a module, the packages linked into node_modules. */
export interface SnippetProject {
  /** Type-checks every snippet under one module resolution; errors keyed by `file:line`. */
  check(resolution: Resolution): Map<string, SnippetError[]>;
  /** Removes the folder. */
  dispose(): void;
}

/** The key of a snippet in the results of `check`. */
export const keyOf = (s: Snippet): string => `${s.file}:${s.line}`;

/**
 * Writes the snippets as a consumer's project: `node_modules/@millwright/*` links to the
 * workspace's packages, and each third-party package a snippet imports (with its `@types`) to
 * where the workspace installed it. Snippets are `.mts` files, so they are ES modules under every
 * resolution without a package.json.
 *
 * @param snippets - the snippets to check
 * @returns the project
 */
export function createSnippetProject(snippets: readonly Snippet[]): SnippetProject {
  const dir = mkdtempSync(join(tmpdir(), "millwright-docs-snippets-"));
  const modules = join(dir, "node_modules");
  for (const pkg of readdirSync(join(root, "packages"))) {
    const manifest = join(root, "packages", pkg, "package.json");
    if (!existsSync(manifest)) continue;
    const { name } = JSON.parse(readFileSync(manifest, "utf8")) as { name: string };
    link(join(root, "packages", pkg), join(modules, name));
  }
  const wanted = new Set(["@types/node"]);
  for (const s of snippets) {
    for (const specifier of importsOf(s.code)) {
      if (specifier.startsWith(".") || specifier.startsWith("node:") || specifier.startsWith("@millwright/")) continue;
      const name = packageOf(specifier);
      wanted.add(name);
      wanted.add(`@types/${name.startsWith("@") ? name.slice(1).replace("/", "__") : name}`);
    }
  }
  for (const name of wanted) {
    const path = installed(name);
    if (path !== undefined) link(path, join(modules, name));
  }
  const files = new Map<string, Snippet>();
  for (const s of snippets) {
    const path = join(dir, "snippets", `${s.file.replace(/[\\/]/g, "__").replace(/\.md$/, "")}.L${s.line}.mts`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${s.code}\n`);
    files.set(path, s);
  }
  return {
    check(resolution) {
      const program = ts.createProgram({ rootNames: [...files.keys()], options: compilerOptions(resolution) });
      const errors = new Map<string, SnippetError[]>([...files.values()].map((s) => [keyOf(s), []]));
      for (const [path, snippet] of files) {
        const source = program.getSourceFile(path);
        if (source === undefined) throw new Error(`the compiler did not read ${relative(dir, path)}`);
        for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
          const at = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
          errors.get(keyOf(snippet))?.push({ line: snippet.line + at, code: d.code, message: ts.flattenDiagnosticMessageText(d.messageText, "\n") });
        }
      }
      return errors;
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Whether a snippet is test code (it uses vitest), where `_unsafeUnwrap()` is fine: the style
 * allows it only in tests.
 *
 * @param s - the snippet
 * @returns true for test code
 */
export function isTestCode(s: Snippet): boolean {
  return importsOf(s.code).some((i) => i === "vitest" || i.startsWith("@millwright/testing") || i.endsWith("/test-server"));
}
