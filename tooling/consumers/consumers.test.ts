import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

/**
 * Fresh consumer projects built against the packed packages, as a user installs them: pnpm pack
 * (which rewrites workspace:* to real versions), npm install of the tarballs into an empty ESM and
 * an empty CommonJS TypeScript project, strict tsc, then the getting-started program run with node.
 * The packages must be built first (the test command builds before vitest runs).
 */

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const PNPM = ["-y", "pnpm@10.34.9"];
/** What the program imports; their @millwright/* dependencies are packed too. */
const WANTED = ["@millwright/model", "@millwright/events", "@millwright/idempotency", "@millwright/transports", "@millwright/testing", "@millwright/adapter-kit"];
/** The entry points the program and the require/import checks load. */
const ENTRY_POINTS = ["@millwright/model", "@millwright/events", "@millwright/idempotency", "@millwright/transports", "@millwright/transports/http", "@millwright/testing", "@millwright/adapter-kit"];

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

interface Run {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; rejects with the command, folder, exit code, stdout and stderr when it fails. */
/**
 * The environment of a fresh shell: without the `npm_config_*` settings that `pnpm test` passes to
 * its children (npm warns about the pnpm-only ones), as a consumer's own terminal would be.
 */
const cleanEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));

function run(command: string, args: readonly string[], cwd: string, timeoutMs = 240_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...cleanEnv, npm_config_update_notifier: "false" } }, (error, stdout, stderr) => {
      if (error === null) return resolve({ stdout, stderr });
      const code = typeof error.code === "number" ? `exit code ${error.code}` : `${error.code ?? ""} ${error.signal ?? ""}`.trim();
      reject(new Error(`\`${command} ${args.join(" ")}\` in ${cwd} failed (${code})\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    });
  });
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;

/** Every workspace package by name, with its folder. */
function workspacePackages(): Map<string, { readonly dir: string; readonly manifest: Manifest }> {
  const found = new Map<string, { readonly dir: string; readonly manifest: Manifest }>();
  for (const entry of readdirSync(join(root, "packages"))) {
    const file = join(root, "packages", entry, "package.json");
    if (!existsSync(file)) continue;
    const manifest = readJson<Manifest>(file);
    found.set(manifest.name, { dir: join(root, "packages", entry), manifest });
  }
  return found;
}

/** The wanted packages and every @millwright/* package they depend on (dependencies and peers), transitively. */
function closure(all: ReturnType<typeof workspacePackages>): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    const pkg = all.get(name);
    if (pkg === undefined) throw new Error(`${name} is not a workspace package (looked in packages/*/package.json)`);
    seen.add(name);
    const deps = { ...pkg.manifest.dependencies, ...pkg.manifest.peerDependencies };
    for (const dep of Object.keys(deps)) if (dep.startsWith("@millwright/")) visit(dep);
  };
  WANTED.forEach(visit);
  return [...seen].sort();
}

type Flavour = "esm" | "cjs";

const TSCONFIG: Record<Flavour, object> = {
  esm: { module: "nodenext", moduleResolution: "nodenext" },
  cjs: { module: "node16", moduleResolution: "node16" },
};

let tmp = "";
const packed = new Map<string, string>(); // package name -> tarball file name
const projects = new Map<Flavour, string>(); // flavour -> project folder

/** Writes a fresh project that depends on every tarball (overrides pin transitive ones to them too). */
function writeProject(flavour: Flavour): string {
  const dir = join(tmp, flavour);
  mkdirSync(join(dir, "src"), { recursive: true });
  const tarballs = Object.fromEntries([...packed].map(([name, file]) => [name, `file:../tgz/${file}`]));
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify(
      {
        name: `millwright-consumer-${flavour}`,
        version: "0.0.0",
        private: true,
        type: flavour === "esm" ? "module" : "commonjs",
        dependencies: tarballs,
        devDependencies: { typescript: "5.9.3", "@types/node": "^20.19.0" },
        overrides: tarballs,
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(
    join(dir, "tsconfig.json"),
    `${JSON.stringify(
      {
        compilerOptions: {
          ...TSCONFIG[flavour],
          target: "ES2022",
          lib: ["ES2022"],
          types: ["node"],
          strict: true,
          // The packages' own .d.ts files are checked too, as a user without skipLibCheck sees them.
          skipLibCheck: false,
          rootDir: "src",
          outDir: "dist",
        },
        include: ["src"],
      },
      null,
      2,
    )}\n`,
  );
  copyFileSync(join(here, "fixtures", "index.ts.txt"), join(dir, "src", "index.ts"));
  return dir;
}

/** What the getting-started program prints, the same in both module systems. */
const EXPECTED_OUTPUT = [
  "valid: 1000123 released",
  "invalid: invalid_format /plannedQuantity/value",
  "open: 320.000 H87",
  "mismatch: unit_mismatch",
  "event: dev.millwright.workorder.released.v1 same id: true same id again: true",
  "inbox delivery 1: processed",
  "inbox delivery 2: duplicate",
  "inbox applied: 1",
  "built: T-1 in_progress valid: true",
  "webhook send 1: published after 1 attempt(s)",
  "webhook send 2: published after 1 attempt(s)",
  "webhook receiver: processed, duplicate; applied 1",
  "done",
  "",
].join("\n");

beforeAll(async () => {
  const all = workspacePackages();
  const names = closure(all);
  const unbuilt = names.filter((name) => {
    const dir = all.get(name)?.dir ?? "";
    return !existsSync(join(dir, "dist", "index.js")) || !existsSync(join(dir, "dist", "index.cjs")) || !existsSync(join(dir, "dist", "index.d.ts"));
  });
  if (unbuilt.length > 0) {
    throw new Error(`the consumer projects install the BUILT packages, and ${unbuilt.join(", ")} have no dist/: run turbo run build first (npx turbo run build --filter=@millwright/transports... --filter=@millwright/testing...)`);
  }

  tmp = mkdtempSync(join(tmpdir(), "millwright-consumers-"));
  const tgz = join(tmp, "tgz");
  mkdirSync(tgz);
  // One pack per package, sequentially: each is a short npx run, and the machine is shared.
  for (const name of names) {
    const pkg = all.get(name);
    if (pkg === undefined) throw new Error(`${name} vanished`);
    await run("npx", [...PNPM, "pack", "--pack-destination", tgz], pkg.dir);
    const file = `${name.slice(1).replace("/", "-")}-${pkg.manifest.version}.tgz`;
    if (!existsSync(join(tgz, file))) throw new Error(`pnpm pack in ${pkg.dir} did not write ${file} into ${tgz} (found: ${readdirSync(tgz).join(", ")})`);
    packed.set(name, file);
  }

  for (const flavour of ["esm", "cjs"] as const) projects.set(flavour, writeProject(flavour));
  // Both installs at once: they share npm's cache, and most of the time is waiting on the registry.
  await Promise.all([...projects.values()].map((dir) => run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], dir)));
}, 300_000);

afterAll(() => {
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
});

const projectDir = (flavour: Flavour): string => {
  const dir = projects.get(flavour);
  if (dir === undefined) throw new Error(`the ${flavour} project was not created (see the beforeAll error)`);
  return dir;
};

describe("the packed packages", () => {
  test("carry real versions instead of workspace: ranges", async () => {
    expect([...packed.keys()]).toEqual(expect.arrayContaining(WANTED));
    for (const [name, file] of packed) {
      const { stdout } = await run("tar", ["-xzOf", join(tmp, "tgz", file), "package/package.json"], tmp);
      const manifest = JSON.parse(stdout) as Manifest;
      expect(manifest.name, file).toBe(name);
      const ranges = Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies }).filter(([, range]) => range.startsWith("workspace:"));
      expect(ranges, `${file} still has workspace: ranges`).toEqual([]);
    }
  });
});

describe.each(["esm", "cjs"] as const)("a fresh TypeScript %s project", (flavour) => {
  test("resolves every @millwright/* package, direct and transitive, to the tarballs", () => {
    const lock = readJson<{ packages: Record<string, { resolved?: string; version?: string }> }>(join(projectDir(flavour), "package-lock.json"));
    const millwright = Object.entries(lock.packages).filter(([path]) => /(^|\/)node_modules\/@millwright\//.test(path));
    // One copy of each, at the top: a nested copy would be a registry version or a second instance.
    expect(millwright.map(([path]) => path).sort()).toEqual([...packed.keys()].map((name) => `node_modules/${name}`).sort());
    for (const [path, entry] of millwright) {
      const name = path.slice("node_modules/".length);
      expect(entry.resolved, path).toBe(`file:../tgz/${packed.get(name) ?? "?"}`);
    }
  });

  test("compiles the getting-started program with strict tsc, without errors", async () => {
    const dir = projectDir(flavour);
    const { stdout, stderr } = await run("npx", ["--no-install", "tsc", "-p", "."], dir);
    expect(`${stdout}${stderr}`).toBe("");
    const emitted = readFileSync(join(dir, "dist", "index.js"), "utf8");
    if (flavour === "cjs") {
      // CommonJS output: the packages are loaded with require(), and no import statement is left.
      for (const entry of ["@millwright/model", "@millwright/events", "@millwright/idempotency", "@millwright/testing", "@millwright/transports/http"]) {
        expect(emitted, `dist/index.js requires ${entry}`).toContain(`require("${entry}")`);
      }
      expect(emitted).not.toMatch(/^\s*import\s/m);
    } else {
      expect(emitted).toContain('from "@millwright/transports/http"');
      expect(emitted).not.toContain("require(");
    }
  });

  test("runs it with node and prints what a user expects", async () => {
    const { stdout, stderr } = await run(process.execPath, ["dist/index.js"], projectDir(flavour), 60_000);
    expect(stderr).toBe("");
    expect(stdout).toBe(EXPECTED_OUTPUT);
  });

  test(`loads every entry point with ${flavour === "cjs" ? "require()" : "import"}, from the matching build`, async () => {
    const dir = projectDir(flavour);
    const script =
      flavour === "cjs"
        ? `for (const e of ${JSON.stringify(ENTRY_POINTS)}) { const m = require(e); console.log(e, Object.keys(m).length > 0, require.resolve(e).replace(/^.*node_modules\\//, "")); }`
        : `for (const e of ${JSON.stringify(ENTRY_POINTS)}) { const m = await import(e); console.log(e, Object.keys(m).length > 0, import.meta.resolve(e).replace(/^.*node_modules\\//, "")); }`;
    const args = flavour === "cjs" ? ["-e", script] : ["--input-type=module", "-e", script];
    const { stdout } = await run(process.execPath, args, dir, 60_000);
    const file = flavour === "cjs" ? "cjs" : "js";
    const expected = ENTRY_POINTS.map((e) => {
      const [scope, name, sub] = e.split("/");
      return `${e} true ${scope}/${name}/dist/${sub ?? "index"}.${file}`;
    });
    expect(stdout.trim().split("\n")).toEqual(expected);
  });
});
