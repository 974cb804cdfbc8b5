import { execFile } from "node:child_process";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { promisify } from "node:util";
import { main } from "../src/main.js";

/** The repository root, and the CLI's entry in source form. */
export const root = join(import.meta.dirname, "..", "..", "..");
export const cli = join(root, "packages", "cli", "src", "cli.ts");

/** What one run of the command gave back. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A stream that keeps everything written to it as text. */
function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

/**
 * Runs the command in this process through `main`, the function the bin entry calls, with its own
 * standard input, output and error: the same argument reading, output and exit code as the
 * installed command, without starting Node and tsx for every run.
 *
 * @param args - the command line after `millwright`
 * @param input - what standard input holds, if anything (empty otherwise)
 * @param env - the environment the command sees (empty unless given)
 */
export async function millwright(args: string[], input?: string, env: Readonly<Record<string, string>> = {}): Promise<CliRun> {
  const stdin = new PassThrough();
  stdin.end(input ?? "");
  const stdout = collector();
  const stderr = collector();
  const code = await main(args, { stdin, stdout: stdout.stream, stderr: stderr.stream, stderrIsTerminal: false, env });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const run = promisify(execFile);

/**
 * Runs the real bin entry (from source, through tsx) in a child process: for what only a process
 * shows, such as its exit code on a closed pipe. Slow (a Node start each time): use sparingly.
 *
 * @param args - the command line after `millwright`
 */
export async function millwrightProcess(args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--conditions=@millwright/source", "--import", "tsx", cli, ...args], { cwd: root, maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
