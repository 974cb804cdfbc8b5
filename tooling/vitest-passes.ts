import { configDefaults } from "vitest/config";

/**
 * The test command runs the whole suite on Node 20, then again on Node 24 with
 * MILLWRIGHT_SECOND_PASS=1. A few test files are left out of that second pass: each exercises
 * something outside Node itself (processes killed with SIGKILL and restarted against the same
 * databases, clusters of brokers and databases started and failed over on loopback, and the compilers
 * of other languages building generated code), takes minutes, and would
 * only repeat on Node 24 what the first pass proved. The list is printed by tooling/test-all.sh, so
 * nothing is left out silently.
 *
 * @param patterns - globs of the project's files that run in the first pass only
 * @returns the project's `test.exclude`
 */
export function firstPassOnly(patterns: readonly string[]): string[] {
  return process.env["MILLWRIGHT_SECOND_PASS"] === "1" ? [...configDefaults.exclude, ...patterns] : [...configDefaults.exclude];
}
