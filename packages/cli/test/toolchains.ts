import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

// The compilers the codegen tests run generated code through. A missing one fails the test that
// needs it (never skips), with the advice to install it: tooling/ensure-tools.sh does on Debian.

const INSTALL =
  "install the toolchains with: bash tooling/ensure-tools.sh (Debian: apt-get install golang-go default-jdk-headless libjackson2-databind-java mono-mcs mono-runtime libnewtonsoft-json-cil-dev mypy)";

/** The jars of Debian's libjackson2-databind-java (and the core and annotations it depends on). */
const JACKSON_JARS = ["jackson-databind.jar", "jackson-core.jar", "jackson-annotations.jar"].map((jar) => join("/usr/share/java", jar));

/**
 * Fails (never skips) when a tool the codegen tests need is missing, saying how to install it.
 *
 * @param command - the tool's command
 * @param versionArgs - arguments that make it print its version and exit 0
 * @returns what the tool printed for its version (first line)
 */
export function requireTool(command: string, versionArgs: readonly string[]): string {
  const result = spawnSync(command, versionArgs, { stdio: "pipe", encoding: "utf8" });
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error?.message ?? `exit ${String(result.status)}: ${result.stderr.slice(0, 500)}`;
    throw new Error(`the codegen tests need \`${command}\`, which is not usable here (${why}); ${INSTALL}`);
  }
  // javac and mono print their versions on different streams.
  return `${result.stdout}\n${result.stderr}`.trim().split("\n")[0]!.trim();
}

function requireFile(path: string, what: string): string {
  if (!existsSync(path)) throw new Error(`the codegen tests need ${what} at ${path}, which is missing; ${INSTALL}`);
  return path;
}

/** Runs a command; on failure, throws with what it printed (the compiler's messages). */
export function run(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; what: string }): string {
  try {
    return execFileSync(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: "pipe", encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  } catch (cause) {
    const e = cause as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${options.what} failed (${command} ${args.join(" ")}):\n${(e.stdout ?? "").slice(0, 4000)}\n${(e.stderr ?? e.message).slice(0, 8000)}`);
  }
}

/** Writes files (paths relative to `dir`) and returns `dir`. */
export function writeTree(dir: string, files: Readonly<Record<string, string>>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const created: string[] = [];

/** A fresh temporary folder for one toolchain run; {@link removeTempDirs} removes it. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `millwright-${prefix}-`));
  created.push(dir);
  return dir;
}

/** Removes the folders {@link tempDir} made (call it in afterAll). */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * The environment for an offline Go build: no proxy, no network, GOPATH in `dir`. The build cache
 * (safe for concurrent use, keyed by content) is shared by the test runs, so the standard library is
 * compiled once per machine rather than once per test.
 */
function goEnv(dir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: dir,
    GOFLAGS: "-mod=mod",
    GOPROXY: "off",
    GOSUMDB: "off",
    GOTOOLCHAIN: "local",
    GOCACHE: join(tmpdir(), "millwright-go-build-cache"),
    GOPATH: join(dir, "gopath"),
    GOTMPDIR: "",
    CGO_ENABLED: "0",
  };
}

/**
 * Builds and vets a Go module offline (`go build` then `go vet`).
 *
 * @param module - the module's folder (with its go.mod)
 * @param cacheDir - where the build cache and GOPATH go
 * @returns the environment the build used, for running the result
 */
export function goBuildAndVetModule(module: string, cacheDir: string): NodeJS.ProcessEnv {
  requireTool("go", ["version"]);
  const env = goEnv(cacheDir);
  for (const args of [["build", "./..."], ["vet", "./..."]]) run("go", args, { cwd: module, env, what: `go ${args.join(" ")} on the generated code` });
  return env;
}

/**
 * Builds and vets generated Go code as a module of its own, offline: no proxy, no network, the
 * build cache and GOPATH in a temporary folder.
 *
 * @param source - the content of the generated `millwright.go`
 * @returns the module's folder
 */
export function goBuildAndVet(source: string): string {
  const dir = tempDir("go");
  const module = writeTree(join(dir, "module"), { "go.mod": "module example.com/millwright\n\ngo 1.19\n", "millwright.go": source });
  goBuildAndVetModule(module, dir);
  return module;
}

/**
 * Compiles Java sources with javac against Debian's Jackson jars.
 *
 * @param dir - the folder the sources are in (classes go to `dir/classes`)
 * @param sources - the source files, relative to `dir`
 * @returns the classpath to run the compiled classes with
 */
export function javacWithJackson(dir: string, sources: readonly string[]): string {
  requireTool("javac", ["-version"]);
  for (const jar of JACKSON_JARS) requireFile(jar, "Debian's Jackson (libjackson2-databind-java)");
  const classes = join(dir, "classes");
  run("javac", ["-encoding", "UTF-8", "-Xlint:all", "-Werror", "-cp", JACKSON_JARS.join(":"), "-d", classes, ...sources], { cwd: dir, what: "javac on the generated code" });
  return [classes, ...JACKSON_JARS].join(":");
}

/**
 * Type-checks Python files with `mypy --strict`.
 *
 * @param dir - the folder with the files
 * @param files - the files, relative to `dir`
 */
export function mypyStrict(dir: string, files: readonly string[]): void {
  requireTool("mypy", ["--version"]);
  run("mypy", ["--strict", "--no-incremental", "--cache-dir=/dev/null", ...files], { cwd: dir, what: "mypy --strict on the generated code" });
}

/** The Newtonsoft.Json assembly of Debian's libnewtonsoft-json-cil-dev. */
function newtonsoftDll(): string {
  const override = process.env["MILLWRIGHT_NEWTONSOFT_DLL"];
  if (override !== undefined && override !== "") return requireFile(override, "Newtonsoft.Json.dll (MILLWRIGHT_NEWTONSOFT_DLL)");
  const cli = "/usr/lib/cli";
  const folder = existsSync(cli) ? readdirSync(cli).find((f) => f.startsWith("Newtonsoft.Json")) : undefined;
  return requireFile(join(cli, folder ?? "Newtonsoft.Json-5.0", "Newtonsoft.Json.dll"), "Newtonsoft.Json for Mono (libnewtonsoft-json-cil-dev)");
}

/**
 * Compiles C# sources into an executable with Mono's mcs, without System.Text.Json (Mono has none),
 * against Newtonsoft.Json, and copies that assembly beside the executable so `mono` finds it.
 *
 * @param dir - the folder with the sources
 * @param sources - the source files, relative to `dir`
 * @param target - `exe` for a program with a Main, `library` for the generated code alone
 * @returns the path of the executable or library
 */
export function mcsWithNewtonsoft(dir: string, sources: readonly string[], target: "exe" | "library" = "exe"): string {
  requireTool("mcs", ["--version"]);
  requireTool("mono", ["--version"]);
  const dll = newtonsoftDll();
  const exe = join(dir, target === "exe" ? "RoundTrip.exe" : "Millwright.dll");
  run("mcs", [`-target:${target}`, "-warnaserror+", "-define:MILLWRIGHT_NO_SYSTEM_TEXT_JSON", "-r:System.Runtime.Serialization.dll", `-r:${dll}`, `-out:${exe}`, ...sources], { cwd: dir, what: "mcs on the generated code" });
  run("cp", [dll, join(dir, "Newtonsoft.Json.dll")], { cwd: dir, what: "copying Newtonsoft.Json" });
  return exe;
}
