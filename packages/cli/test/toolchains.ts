import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const INSTALL = "install the compilers with: apt-get install golang-go";

/**
 * Fails (never skips) when a compiler the codegen tests need is missing, saying how to install it.
 *
 * @param command - the compiler's command
 * @param versionArgs - arguments that make it print its version and exit 0
 */
function requireTool(command: string, versionArgs: readonly string[]): void {
  try {
    execFileSync(command, versionArgs, { stdio: "pipe" });
  } catch (cause) {
    throw new Error(`the codegen tests need \`${command}\`, which is not usable here (${(cause as Error).message}); ${INSTALL}`);
  }
}

/**
 * Builds and vets generated Go code as a module of its own, offline: no proxy, no network, the
 * build cache and GOPATH in a temporary folder.
 *
 * @param source - the content of the generated `millwright.go`
 * @returns the module's folder
 */
export function goBuildAndVet(source: string): string {
  requireTool("go", ["version"]);
  const dir = mkdtempSync(join(tmpdir(), "millwright-go-"));
  const module = join(dir, "module");
  mkdirSync(module);
  writeFileSync(join(module, "go.mod"), "module example.com/millwright\n\ngo 1.19\n");
  writeFileSync(join(module, "millwright.go"), source);
  const env = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: dir,
    GOFLAGS: "-mod=mod",
    GOPROXY: "off",
    GOSUMDB: "off",
    GOTOOLCHAIN: "local",
    GOCACHE: join(dir, "cache"),
    GOPATH: join(dir, "gopath"),
    GOTMPDIR: "",
    CGO_ENABLED: "0",
  };
  for (const args of [["build", "./..."], ["vet", "./..."]]) {
    try {
      execFileSync("go", args, { cwd: module, env, stdio: "pipe", encoding: "utf8" });
    } catch (cause) {
      const e = cause as { stderr?: string; message: string };
      throw new Error(`go ${args.join(" ")} failed on the generated code: ${e.stderr ?? e.message}`);
    }
  }
  return module;
}
