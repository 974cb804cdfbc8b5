import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { parseEvent, type CanonicalEvent, type EventError } from "@millwright/events";
import { parseEntity, type EntityName, type ModelError } from "@millwright/model";
import { boundText, previewValue } from "./text.js";

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

/** The longest message a record's issue carries: values are cut, never printed whole. */
const MAX_MESSAGE = 500;
const BOM = "\ufeff";

function fromModel(error: ModelError, prefix: string): RecordIssue[] {
  return error.issues.map((i) => ({ code: i.code, path: prefix + i.path, message: boundText(prefix === "" ? i.message : `${prefix}${i.message}`, MAX_MESSAGE) }));
}

function fromEvent(error: EventError): RecordIssue[] {
  if (error.code === "invalid_data") return fromModel(error.cause, error.path);
  return [{ code: error.code, path: error.path, message: boundText(error.message, MAX_MESSAGE) }];
}

/** The verdict on one record of a line. */
export interface LineVerdict {
  readonly kind?: string;
  readonly issues: readonly RecordIssue[];
  /** The event, when the record is a valid CloudEvent. */
  readonly event?: CanonicalEvent;
  /** The record's index in its batch, when the line is a batch. */
  readonly item?: number;
}

function judge(text: string, options: ValidateOptions): LineVerdict {
  if (options.entity !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      return { issues: [{ code: "invalid_json", path: "", message: boundText(`not JSON: ${(cause as Error).message}`, MAX_MESSAGE) }] };
    }
    const result = parseEntity(options.entity, value);
    return { kind: options.entity, issues: result.isOk() ? [] : fromModel(result.error, "") };
  }
  // The record's own text goes to parseEvent: its raw-text checks (repeated members, Integers
  // written with a fraction) see exactly what the producer wrote.
  const result = parseEvent(text);
  if (result.isOk()) return { kind: result.value.type, issues: [], event: result.value };
  if (result.error.code !== "unreadable_input" && !text.includes('"specversion"')) {
    const message = "the record is not a CloudEvent (it has no specversion); for plain canonical records pass --entity <Name>";
    return { issues: [{ code: "not_an_event", path: "", message }] };
  }
  return { issues: fromEvent(result.error) };
}

/**
 * Judges one record given as JSON text: a CloudEvent (structured) checked with `parseEvent` on
 * exactly this text, or, with `options.entity`, a plain entity checked with `parseEntity`. Never
 * throws. Messages are cut to a bounded length.
 *
 * @param text - the record's JSON text
 * @param options - the entity to expect for plain records
 * @returns the issues found, empty when the record is valid, and the record's kind
 * @example
 * judgeRecord('{"specversion":"1.0", …}', {}).issues; // []
 */
export function judgeRecord(text: string, options: ValidateOptions): { kind?: string; issues: readonly RecordIssue[] } {
  const { kind, issues } = judge(text, options);
  return kind === undefined ? { issues } : { kind, issues };
}

/** The end of the JSON string whose opening quote is at `start`: the index of its closing quote. */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    j = text.indexOf('"', j);
    if (j === -1) return text.length;
    let k = j - 1;
    while (text.charCodeAt(k) === 92 /* \ */) k--;
    if ((j - 1 - k) % 2 === 0) return j;
    j++;
  }
}

/**
 * The text of each element of a JSON array, exactly as written. `text` must be valid JSON whose
 * value is an array.
 */
export function arrayElementTexts(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = text.indexOf("[") + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      if (start === -1) start = i;
      i = stringEnd(text, i);
      continue;
    }
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (start === -1) start = i;
      depth++;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (depth === 0) {
        if (start !== -1) out.push(text.slice(start, i).trimEnd());
        break;
      }
      depth--;
    } else if (c === 44 /* , */ && depth === 0) {
      out.push(text.slice(start, i).trimEnd());
      start = -1;
    } else if (start === -1) start = i;
  }
  return out;
}

/** One verdict per element of a batch, or a single issue when the text is not a JSON array. */
function judgeBatch(text: string, options: ValidateOptions): LineVerdict[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    return [{ issues: [{ code: "invalid_json", path: "", message: boundText(`not JSON: ${(cause as Error).message}`, MAX_MESSAGE) }] }];
  }
  if (!Array.isArray(value)) return [{ issues: [{ code: "invalid_json", path: "", message: "not a JSON array" }] }];
  const seen = new Map<string, number>();
  return arrayElementTexts(text).map((element, i): LineVerdict => {
    const verdict = judge(element, options);
    const where = `item ${i} of the batch: `;
    const issues: RecordIssue[] = verdict.issues.map((issue) => ({ code: issue.code, path: `/${i}${issue.path}`, message: boundText(where + issue.message, MAX_MESSAGE) }));
    const event = verdict.event;
    if (event !== undefined) {
      // CloudEvents: source + id identify an event, so one batch carries each event once.
      const key = `${event.source}\u0000${event.id}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else {
        const message = `${where}/id: the event (source ${previewValue(event.source)}, id ${previewValue(event.id)}) is item ${first} of this batch already; a batch carries each event once (source + id identify an event)`;
        issues.push({ code: "duplicate_event", path: `/${i}/id`, message: boundText(message, MAX_MESSAGE) });
      }
    }
    return { ...(verdict.kind === undefined ? {} : { kind: verdict.kind }), issues, ...(issues.length === 0 && event !== undefined ? { event } : {}), item: i };
  });
}

function toResult(source: string, record: number, verdict: LineVerdict): RecordResult {
  return { source, record, valid: verdict.issues.length === 0, ...(verdict.kind === undefined ? {} : { kind: verdict.kind }), issues: verdict.issues };
}

/**
 * Judges one line of NDJSON: a record, or a batch of them as a JSON array; empty lines have none.
 * The events of a batch are judged from their own text, and a batch repeats no event.
 *
 * @param text - the line, without its line break
 * @param options - the entity to expect for plain records
 * @returns the verdict on each record of the line, with the event of each valid CloudEvent
 */
export function judgeLine(text: string, options: ValidateOptions): readonly LineVerdict[] {
  // JSON whitespace only: String#trim would also drop a BOM and other Unicode spaces, which JSON refuses.
  const trimmed = text.replace(/^[\t\n\r ]+/, "");
  if (trimmed === "") return [];
  if (trimmed.startsWith(BOM)) {
    return [{ issues: [{ code: "unreadable_input", path: "", message: "the line starts with a byte order mark (U+FEFF); only the start of a file may have one" }] }];
  }
  return trimmed.startsWith("[") ? judgeBatch(text, options) : [judge(text, options)];
}

const NOT_UTF8: readonly LineVerdict[] = [{ issues: [{ code: "unreadable_input", path: "", message: "the line is not UTF-8 text" }] }];

/**
 * Judges one line of NDJSON as read from a file: {@link judgeLine} on its text, or one invalid
 * record when the bytes are not UTF-8 (decoding would replace them and hide the fault).
 *
 * @param bytes - the line, without its line break
 * @param options - the entity to expect for plain records
 * @returns the verdict on each record of the line
 */
export function judgeLineBytes(bytes: Buffer, options: ValidateOptions): readonly LineVerdict[] {
  const text = lineText(bytes);
  return text === undefined ? NOT_UTF8 : judgeLine(text, options);
}

/**
 * Reads the lines of a file or stream without holding more than one chunk and one line, so an
 * NDJSON file of any size validates in flat memory. A final line without a newline counts; a
 * byte order mark at the very start is dropped; bytes that are not UTF-8 are replaced (see
 * {@link validateNdjson}, which reports them instead).
 */
export async function* readLines(input: NodeJS.ReadableStream): AsyncGenerator<string> {
  for await (const line of readLineBytes(input)) yield line.toString("utf8");
}

/**
 * Reads the lines of a file or stream as bytes (without `\n` or `\r\n`), in flat memory. A UTF-8
 * byte order mark at the very start of the stream is dropped: files saved by Windows tools start
 * with one.
 *
 * @param input - the stream to read
 * @returns the lines; each is valid until the next is read
 */
export async function* readLineBytes(input: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  // The bytes after the last line break read so far (copied: a stream may reuse a chunk's memory).
  let pending: Buffer[] = [];
  let atStart = true;
  function* split(buf: Buffer): Generator<Buffer> {
    let start = 0;
    let newline = buf.indexOf(10);
    while (newline !== -1) {
      let line = buf.subarray(start, newline);
      if (pending.length > 0) {
        pending.push(line);
        line = Buffer.concat(pending);
        pending = [];
      }
      yield line.length > 0 && line[line.length - 1] === 13 ? line.subarray(0, -1) : line;
      start = newline + 1;
      newline = buf.indexOf(10, start);
    }
    if (start < buf.length) pending.push(Buffer.from(buf.subarray(start)));
  }
  for await (const chunk of input) {
    let buf = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : (chunk as Buffer);
    if (atStart) {
      // A BOM is three bytes: gather that many before deciding whether the input starts with one.
      pending.push(Buffer.from(buf));
      const head = Buffer.concat(pending);
      pending = [];
      if (head.length < 3) {
        pending.push(head);
        continue;
      }
      atStart = false;
      buf = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? head.subarray(3) : head;
    }
    yield* split(buf);
  }
  const rest = Buffer.concat(pending);
  pending = [];
  yield* split(rest);
  const last = Buffer.concat(pending);
  if (last.length > 0) yield last[last.length - 1] === 13 ? last.subarray(0, -1) : last;
}

/**
 * Decodes one line: its text, or undefined when the bytes are not UTF-8 (decoding would replace
 * them and hide the fault).
 */
export function lineText(bytes: Buffer): string | undefined {
  return isUtf8(bytes) ? bytes.toString("utf8") : undefined;
}

/**
 * Validates NDJSON from a stream: each non-empty line is a record (a CloudEvent, a batch of them as
 * a JSON array, or with `options.entity` a plain entity). Yields a result per record, in order.
 * Each record is judged from its own text as read; a line that is not UTF-8 is invalid.
 *
 * @param input - the stream to read
 * @param source - the name to report (file name or `-`)
 * @param options - the entity to expect for plain records
 * @returns the per-record results, as they are read
 */
export async function* validateNdjson(input: NodeJS.ReadableStream, source: string, options: ValidateOptions): AsyncGenerator<RecordResult> {
  let record = 0;
  for await (const bytes of readLineBytes(input)) {
    record++;
    for (const verdict of judgeLineBytes(bytes, options)) yield toResult(source, record, verdict);
  }
}

/**
 * Validates a whole JSON document: one record (an object) or several (an array, such as a
 * CloudEvents batch, `application/cloudevents-batch+json`, whose events are judged from their own
 * text and may not repeat). A leading byte order mark is dropped; bytes that are not UTF-8 are
 * one invalid record.
 *
 * @param input - the document, as text or as the file's bytes
 * @param source - the name to report
 * @param options - the entity to expect for plain records
 * @returns one result per record
 */
export function validateJsonDocument(input: string | Uint8Array, source: string, options: ValidateOptions): RecordResult[] {
  let text: string | undefined;
  if (typeof input === "string") text = input;
  else {
    const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    text = lineText(bytes);
    if (text === undefined) return [toResult(source, 1, { issues: [{ code: "unreadable_input", path: "", message: "the document is not UTF-8 text" }] })];
  }
  if (text.startsWith(BOM)) text = text.slice(1);
  if (/^[\t\n\r ]*\[/.test(text)) return judgeBatch(text, options).map((v, i) => toResult(source, i + 1, v));
  return [toResult(source, 1, judge(text, options))];
}

/** Opens a file for streaming, or standard input for `-`. */
export function openInput(name: string): NodeJS.ReadableStream {
  return name === "-" ? process.stdin : createReadStream(name, { highWaterMark: 1 << 20 });
}
