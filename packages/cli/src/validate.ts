import { createReadStream } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { parseEvent, type EventError } from "@millwright/events";
import { parseEntity, type EntityName, type ModelError } from "@millwright/model";

/** One problem with one record: what, where (a JSON Pointer into the record) and why. */
export interface RecordIssue {
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

/** The verdict on one record of an input. */
export interface RecordResult {
  /** The file name, or `-` for standard input. */
  readonly source: string;
  /** The 1-based line (NDJSON) or array index + 1 (a JSON array); 1 for a single JSON document. */
  readonly record: number;
  readonly valid: boolean;
  /** The event type or entity name, when the record got far enough to have one. */
  readonly kind?: string;
  readonly issues: readonly RecordIssue[];
}

/** How records are read and judged. */
export interface ValidateOptions {
  /** Judge plain records as this entity; without it every record must be a CloudEvent. */
  readonly entity?: EntityName;
}

/** What a whole run found. */
export interface ValidateSummary {
  readonly records: number;
  readonly valid: number;
  readonly invalid: number;
}

function fromModel(error: ModelError, prefix: string): RecordIssue[] {
  return error.issues.map((i) => ({ code: i.code, path: prefix + i.path, message: prefix === "" ? i.message : `${prefix}${i.message}` }));
}

function fromEvent(error: EventError): RecordIssue[] {
  if (error.code === "invalid_data") return fromModel(error.cause, error.path);
  return [{ code: error.code, path: error.path, message: error.message }];
}

/**
 * Judges one record given as JSON text: a CloudEvent (structured) checked with `parseEvent`, or,
 * with `options.entity`, a plain entity checked with `parseEntity`. Never throws.
 *
 * @param text - the record's JSON text
 * @param options - the entity to expect for plain records
 * @returns the issues found, empty when the record is valid, and the record's kind
 * @example
 * judgeRecord('{"specversion":"1.0", …}', {}).issues; // []
 */
export function judgeRecord(text: string, options: ValidateOptions): { kind?: string; issues: readonly RecordIssue[] } {
  if (options.entity !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      return { issues: [{ code: "invalid_json", path: "", message: `not JSON: ${(cause as Error).message}` }] };
    }
    const result = parseEntity(options.entity, value);
    return { kind: options.entity, issues: result.isOk() ? [] : fromModel(result.error, "") };
  }
  const result = parseEvent(text);
  if (result.isOk()) return { kind: result.value.type, issues: [] };
  if (result.error.code !== "unreadable_input" && !text.includes('"specversion"')) {
    const message = "the record is not a CloudEvent (it has no specversion); for plain canonical records pass --entity <Name>";
    return { issues: [{ code: "not_an_event", path: "", message }] };
  }
  return { issues: fromEvent(result.error) };
}

/**
 * Reads the lines of a file or stream without holding more than one chunk and one line, so an
 * NDJSON file of any size validates in flat memory. A final line without a newline counts.
 */
export async function* readLines(input: NodeJS.ReadableStream): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8");
  let rest = "";
  for await (const chunk of input) {
    const text = rest + (typeof chunk === "string" ? chunk : decoder.write(chunk as Buffer));
    let start = 0;
    let newline = text.indexOf("\n", start);
    while (newline !== -1) {
      yield text.charCodeAt(newline - 1) === 13 ? text.slice(start, newline - 1) : text.slice(start, newline);
      start = newline + 1;
      newline = text.indexOf("\n", start);
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest.length > 0) yield rest.endsWith("\r") ? rest.slice(0, -1) : rest;
}

/**
 * Validates NDJSON from a stream: each non-empty line is a record (a CloudEvent, a batch of them as
 * a JSON array, or with `options.entity` a plain entity). Yields a result per record, in order.
 *
 * @param input - the stream to read
 * @param source - the name to report (file name or `-`)
 * @param options - the entity to expect for plain records
 * @returns the per-record results, as they are read
 */
export async function* validateNdjson(input: NodeJS.ReadableStream, source: string, options: ValidateOptions): AsyncGenerator<RecordResult> {
  let record = 0;
  for await (const line of readLines(input)) {
    record++;
    if (line.trim() === "") continue;
    if (line.trimStart().startsWith("[")) {
      yield* judgeArray(line, source, record, options);
      continue;
    }
    const verdict = judgeRecord(line, options);
    yield { source, record, valid: verdict.issues.length === 0, ...(verdict.kind === undefined ? {} : { kind: verdict.kind }), issues: verdict.issues };
  }
}

function* judgeArray(text: string, source: string, record: number, options: ValidateOptions): Generator<RecordResult> {
  let items: unknown;
  try {
    items = JSON.parse(text);
  } catch (cause) {
    yield { source, record, valid: false, issues: [{ code: "invalid_json", path: "", message: `not JSON: ${(cause as Error).message}` }] };
    return;
  }
  const list = items as unknown[];
  for (let i = 0; i < list.length; i++) {
    const verdict = judgeRecord(JSON.stringify(list[i]), options);
    const issues = verdict.issues.map((issue) => ({ ...issue, path: `/${i}${issue.path}` }));
    yield { source, record, valid: issues.length === 0, ...(verdict.kind === undefined ? {} : { kind: verdict.kind }), issues };
  }
}

/**
 * Validates a whole JSON document: one record (an object) or several (an array, such as a
 * CloudEvents batch, `application/cloudevents-batch+json`).
 *
 * @param text - the document
 * @param source - the name to report
 * @param options - the entity to expect for plain records
 * @returns one result per record
 */
export function validateJsonDocument(text: string, source: string, options: ValidateOptions): RecordResult[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("[")) {
    return [...judgeArray(trimmed, source, 0, options)].map((r, i) => ({ ...r, record: i + 1 }));
  }
  const verdict = judgeRecord(text, options);
  return [{ source, record: 1, valid: verdict.issues.length === 0, ...(verdict.kind === undefined ? {} : { kind: verdict.kind }), issues: verdict.issues }];
}

/** Opens a file for streaming, or standard input for `-`. */
export function openInput(name: string): NodeJS.ReadableStream {
  return name === "-" ? process.stdin : createReadStream(name, { highWaterMark: 1 << 20 });
}
