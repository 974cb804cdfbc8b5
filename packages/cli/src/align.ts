import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  builtInRules,
  createReportBuilder,
  renderReportHtml,
  renderReportText,
  type AlignmentReport,
  type AlignmentRule,
  type ReportError,
} from "@millwright/alignment";
import type { CanonicalEvent } from "@millwright/events";
import { err, ok, type Result } from "neverthrow";
import { judgeLineBytes, openInput, readLineBytes, type RecordIssue, type RecordResult } from "./validate.js";

/** What {@link alignNdjson} needs besides the input. */
export interface AlignNdjsonOptions {
  /** The name to report lines under (file name, or `-` for standard input). */
  readonly source: string;
  /** The rules to judge with (default: `builtInRules()`). */
  readonly rules?: readonly AlignmentRule[];
  /** The report time (default: the latest event in the log). */
  readonly at?: Date | number;
  /** Called for each line that is not a usable event, in order. */
  readonly onInvalid?: (result: RecordResult) => void | Promise<void>;
}

/** What {@link alignNdjson} read: the report, or why there is none, and how many lines were left out. */
export interface AlignNdjsonResult {
  readonly report: Result<AlignmentReport, ReportError>;
  /** Lines (or items of batch lines) that were not usable events. */
  readonly invalid: number;
}

/**
 * Reads NDJSON canonical events (one CloudEvent per line, or a batch as a JSON array on a line)
 * line by line and builds the alignment report, in flat memory. Lines that are not valid events,
 * or events without a usable time, are passed to `onInvalid` with their line number and left
 * out; they never stop the report.
 *
 * @param input - the stream to read
 * @param options - the name to report, the rules, the report time and the handler for bad lines
 * @returns the report (or why there is none) and how many records were left out
 * @example
 * const { report, invalid } = await alignNdjson(openInput("events.ndjson"), { source: "events.ndjson" });
 */
export async function alignNdjson(input: NodeJS.ReadableStream, options: AlignNdjsonOptions): Promise<AlignNdjsonResult> {
  const builder = createReportBuilder({ rules: options.rules ?? builtInRules(), ...(options.at === undefined ? {} : { at: options.at }) });
  const { source } = options;
  let invalid = 0;
  const reject = async (record: number, issues: readonly RecordIssue[]): Promise<void> => {
    invalid += 1;
    await options.onInvalid?.({ source, record, valid: false, issues });
  };
  const take = async (record: number, event: CanonicalEvent, path: string): Promise<void> => {
    const added = builder.add(event);
    if (added.isErr()) {
      const where = path === "" ? "" : `item ${path.slice(1)} of the batch: `;
      await reject(record, [{ code: added.error.code, path: path + added.error.path, message: `${where}${added.error.path}: ${added.error.message}` }]);
    }
  };
  let record = 0;
  for await (const bytes of readLineBytes(input)) {
    record += 1;
    // Each event is judged from its own text, as validate judges it (a batch as a batch).
    for (const verdict of judgeLineBytes(bytes, {})) {
      if (verdict.event !== undefined) await take(record, verdict.event, verdict.item === undefined ? "" : `/${verdict.item}`);
      else await reject(record, verdict.issues.length > 0 ? verdict.issues : [{ code: "invalid_event", path: "", message: "not a usable event" }]);
    }
  }
  return { report: builder.finish(), invalid };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Reads `--at`: an RFC 3339 time with an offset, so that no local time zone is guessed.
 *
 * @param value - the option's value
 * @returns the time in ms since the epoch, or why it is not one
 * @example
 * parseAt("2026-03-02T15:00:00Z"); // ok(1772463600000)
 */
export function parseAt(value: string): Result<number, string> {
  const ms = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? err(`--at ${JSON.stringify(value)} is not an RFC 3339 time with an offset, such as 2026-03-02T15:00:00Z`) : ok(ms);
}

/** Where the command writes: the report to `out`, diagnostics to `err`. */
export interface AlignIo {
  readonly out: (line: string) => Promise<void>;
  readonly err: (line: string) => void;
  readonly usage: (problem: string) => number;
}

/**
 * `millwright align [--at <time>] [--html <file>] [--format text|json] <events.ndjson|->`: prints
 * the alignment report of a log and, with `--html`, writes it as a page.
 *
 * @param args - the arguments after `align`
 * @param io - where to write
 * @returns the exit code: 0 nothing breached, 1 something breached, 2 usage or input errors
 * @example
 * const code = await align(["--html", "report.html", "events.ndjson"], io);
 */
export async function align(args: string[], io: AlignIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { at: { type: "string" }, html: { type: "string" }, format: { type: "string", default: "text" } },
  });
  if (positionals.length !== 1) return io.usage("align needs exactly one file, or - for standard input");
  const json = values.format === "json";
  if (!json && values.format !== "text") return io.usage(`--format must be text or json, not ${values.format}`);
  let at: number | undefined;
  if (values.at !== undefined) {
    const parsed = parseAt(values.at);
    if (parsed.isErr()) return io.usage(parsed.error);
    at = parsed.value;
  }
  const name = positionals[0] as string;
  let result: AlignNdjsonResult;
  try {
    result = await alignNdjson(openInput(name), {
      source: name,
      ...(at === undefined ? {} : { at }),
      onInvalid: (r) => {
        for (const issue of r.issues) io.err(`${r.source}:${r.record}: ${issue.code}: ${issue.message}`);
      },
    });
  } catch (cause) {
    io.err(`millwright: cannot read ${name}: ${(cause as Error).message}`);
    return 2;
  }
  if (result.report.isErr()) {
    io.err(`millwright: ${name}: ${result.report.error.message}`);
    return 2;
  }
  const report = result.report.value;
  if (values.html !== undefined) {
    try {
      writeFileSync(values.html, renderReportHtml(report));
    } catch (cause) {
      io.err(`millwright: cannot write ${values.html}: ${(cause as Error).message}`);
      return 2;
    }
  }
  await io.out(json ? JSON.stringify(report, null, 2) : renderReportText(report));
  if (values.html !== undefined) io.err(`millwright: wrote the HTML report to ${values.html}`);
  if (result.invalid > 0) {
    io.err(`millwright: ${result.invalid} record(s) of ${name} were not usable events and were left out (see above)`);
    return 2;
  }
  return report.totals.breached > 0 ? 1 : 0;
}
