import { writeFileSync } from "node:fs";
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
import { diagnostic, issueLines } from "./diagnostic.js";
import { oneOf } from "./help.js";
import { judgeLineBytes, openInput, readLineBytes, type RecordIssue, type RecordResult } from "./validate.js";

/** What {@link alignNdjson} needs besides the input. */
interface AlignNdjsonOptions {
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
interface AlignNdjsonResult {
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
async function alignNdjson(input: NodeJS.ReadableStream, options: AlignNdjsonOptions): Promise<AlignNdjsonResult> {
  const builder = createReportBuilder({ rules: options.rules ?? builtInRules(), ...(options.at === undefined ? {} : { at: options.at }) });
  const { source } = options;
  let invalid = 0;
  const reject = async (record: number, issues: readonly RecordIssue[], item: number | undefined): Promise<void> => {
    invalid += 1;
    // Issues carry lines counted in the line that was judged: here, the record's own line.
    const placed = issues.map((i) => (i.line === undefined ? i : { ...i, line: i.line + record - 1 }));
    await options.onInvalid?.({ source, record, ...(item === undefined ? {} : { item }), valid: false, issues: placed });
  };
  const take = async (record: number, event: CanonicalEvent, item: number | undefined): Promise<void> => {
    const added = builder.add(event);
    if (added.isErr()) {
      const where = item === undefined ? "" : ` (item ${item} of the batch)`;
      const path = item === undefined ? added.error.path : `/${item}${added.error.path}`;
      await reject(record, [{ code: added.error.code, path, message: `${added.error.path}: ${added.error.message}${where}` }], item);
    }
  };
  let record = 0;
  for await (const bytes of readLineBytes(input)) {
    record += 1;
    // Each event is judged from its own text, as validate judges it (a batch as a batch).
    for (const verdict of judgeLineBytes(bytes, {})) {
      if (verdict.event !== undefined) await take(record, verdict.event, verdict.item);
      else await reject(record, verdict.issues.length > 0 ? verdict.issues : [{ code: "invalid_event", path: "", message: "not a usable event" }], verdict.item);
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
function parseAt(value: string): Result<number, string> {
  const ms = RFC3339.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? err(`--at ${JSON.stringify(value)} is not an RFC 3339 time with an offset, such as 2026-03-02T15:00:00Z`) : ok(ms);
}

/** The command line of `align`, read against its options. */
export interface AlignArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** Where the command writes: the report to `out`, diagnostics to `err`. */
export interface AlignIo {
  readonly out: (line: string) => Promise<void>;
  readonly err: (line: string) => void;
  readonly usage: (problem: string) => number;
  /** What `-` reads (the process's standard input unless given). */
  readonly stdin?: NodeJS.ReadableStream;
}

/**
 * `millwright align [--at <time>] [--html <file>] [--format text|json] <events.ndjson|->`: prints
 * the alignment report of a log and, with `--html`, writes it as a page.
 *
 * @param args - the options and positionals after `align`, read against its options
 * @param io - where to write
 * @returns the exit code: 0 nothing breached, 1 something breached, 2 usage or input errors
 * @example
 * const code = await align({ values: { html: "report.html", format: "text" }, positionals: ["events.ndjson"] }, io);
 */
export async function align(args: AlignArgs, io: AlignIo): Promise<number> {
  const { positionals } = args;
  const values = args.values as { at?: string; html?: string; format?: string };
  if (positionals.length !== 1) return io.usage(`align needs exactly one file, or - for standard input (got ${positionals.length})`);
  const shape = oneOf("format", String(values.format ?? "text"), ["text", "json"] as const);
  if (shape.isErr()) return io.usage(shape.error);
  const json = shape.value === "json";
  let at: number | undefined;
  if (values.at !== undefined) {
    const parsed = parseAt(values.at);
    if (parsed.isErr()) return io.usage(parsed.error);
    at = parsed.value;
  }
  const name = positionals[0] as string;
  let result: AlignNdjsonResult;
  try {
    result = await alignNdjson(openInput(name, io.stdin), {
      source: name,
      ...(at === undefined ? {} : { at }),
      onInvalid: (r) => {
        for (const line of issueLines(r)) io.err(line);
      },
    });
  } catch (cause) {
    io.err(diagnostic(name, "unreadable_input", `cannot be read: ${(cause as Error).message}`));
    return 2;
  }
  if (result.report.isErr()) {
    io.err(diagnostic(name, result.report.error.code, result.report.error.message));
    return 2;
  }
  const report = result.report.value;
  if (values.html !== undefined) {
    try {
      writeFileSync(values.html, renderReportHtml(report));
    } catch (cause) {
      io.err(diagnostic(values.html, "unwritable_output", `cannot be written: ${(cause as Error).message}`));
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
