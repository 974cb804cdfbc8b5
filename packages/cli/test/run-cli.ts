import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

/** The repository root, and the CLI's entry in source form. */
export const root = join(import.meta.dirname, "..", "..", "..");
export const cli = join(root, "packages", "cli", "src", "cli.ts");
const run = promisify(execFile);

/**
 * Runs the real command (from source) and returns its exit code and output.
 *
 * @param args - the command line after `millwright`
 * @param input - what to write to standard input, if anything
 */
export async function millwright(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = run(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", cli, ...args], { cwd: root, maxBuffer: 1 << 26 });
  if (input !== undefined) child.child.stdin?.end(input);
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
