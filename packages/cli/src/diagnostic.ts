// Diagnostics in the shape compilers print and editors link: `file:line:column: error[code]: message`.
import { boundText, escapeControls } from "./text.js";
import type { RecordResult } from "./validate.js";

/**
 * One diagnostic line: where, the error's code, and the message; every part escaped and bounded,
 * since file names and messages quote the input.
 *
 * @param where - `file:line:column`, a file name, or `millwright` for problems with the command line
 * @param code - the error's code
 * @param message - what is wrong, then the rule
 * @returns the line
 * @example
 * diagnostic("events.ndjson:3:41", "invalid_value", "…"); // "events.ndjson:3:41: error[invalid_value]: …"
 */
export function diagnostic(where: string, code: string, message: string): string {
  return escapeControls(`${boundText(where, 300)}: error[${code}]: ${boundText(message, 1000)}`);
}

/**
 * The diagnostics of one record: one line per issue, at the issue's line and column (the record's
 * line and column 1 when the issue has no place of its own).
 *
 * @param result - the record's result
 * @returns one line per issue
 */
export function issueLines(result: RecordResult): string[] {
  return result.issues.map((i) => diagnostic(`${boundText(result.source, 250)}:${i.line ?? result.record}:${i.column ?? 1}`, i.code, i.message));
}
