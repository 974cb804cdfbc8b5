import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const PACKAGE = fileURLToPath(new URL("..", import.meta.url));
const DENY = fileURLToPath(new URL("../test/deny-fast-check.mjs", import.meta.url));

/**
 * Imports an entry of this package by its published name (self-reference, through package.json
 * `exports`) in a fresh Node process in which fast-check cannot be resolved; returns what the
 * process printed. The source condition reads src/ through tsx, as the package's own tests do.
 */
function importWithoutFastCheck(entry: string): { status: number | null; stdout: string; stderr: string } {
  const script = `const m = await import(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(m).sort()));`;
  const child = spawnSync(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", "--import", DENY, "--input-type=module", "-e", script], {
    cwd: PACKAGE,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe("entry points", () => {
  test("the root (builders and matchers) imports without fast-check and never asks for it", () => {
    const run = importWithoutFastCheck("@millwright/testing");
    expect(run.stderr).not.toContain("fast-check");
    expect(run.status).toBe(0);
    const names = JSON.parse(run.stdout.trim().split("\n").pop() ?? "[]") as string[];
    expect(names).toEqual(expect.arrayContaining(["buildEntity", "buildWorkOrder", "toBeCanonical", "toBeCanonicalEvent", "millwrightMatchers"]));
    expect(names).not.toContain("event");
  });

  // The control: the same process setup does refuse fast-check, so the test above can fail.
  test("the arbitraries entry asks for fast-check and fails without it", () => {
    const run = importWithoutFastCheck("@millwright/testing/arbitraries");
    expect(run.status).not.toBe(0);
    // The hook's own line, or (where Node runs the hooks off-thread and exits before that line is
    // flushed, as Node 24 does) the error it threw: either way fast-check was asked for and refused.
    expect(run.stderr).toMatch(/fast-check requested: fast-check|Cannot find (package|module) 'fast-check' \(denied by the test\)/);
  });
});
