import { isAscii, isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { parseEvent, type CanonicalEvent, type EventAttributeError, type EventError } from "@millwright/events";
import { eventTypes, isEventType, parseEntity, parseEventData, type EntityName, type ModelError } from "@millwright/model";
import { LineIndex, locatePointer, stringEnd } from "./locate.js";
import { didYouMean } from "./suggest.js";
import { boundText, previewValue } from "./text.js";

/** One problem with one record: what, where (a JSON Pointer into the record and a place in the text) and why. */
export interface RecordIssue {
  readonly code: string;
  readonly path: string;
  /** What is wrong, then the rule it breaks. */
  readonly message: string;
  /** The 1-based line of the text where `path` lands (for a missing member: its object). */
  readonly line?: number;
  /** The 1-based column of that place, in UTF-16 code units as editors count. */
  readonly column?: number;
}

/** The verdict on one record of an input. */
export interface RecordResult {
  /** The file name, or `-` for standard input. */
  readonly source: string;
  /** The 1-based line the record starts on: its NDJSON line, or its line in a `.json` document. */
  readonly record: number;
  /** The record's 0-based index in its batch, when it is an item of a batch. */
  readonly item?: number;
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

/** The longest message a record's issue carries: values are cut, never printed whole. */
const MAX_MESSAGE = 500;
const BOM = "\ufeff";

/** An issue while its record is judged: the place is an offset into the record's text. */
interface Found {
  readonly code: string;
  readonly path: string;
  readonly message: string;
  readonly offset: number;
}

// Issues about a member's name (unknown, repeated, badly named) point at the name, all others at the value.
const NAME_CODES = new Set(["unknown_property", "invalid_key", "duplicate_member", "duplicate_attribute", "invalid_attribute_name", "reserved_attribute_name"]);

function found(text: string, code: string, path: string, message: string): Found {
  return { code, path, message: boundText(message, MAX_MESSAGE), offset: locatePointer(text, path, NAME_CODES.has(code) ? "name" : "value") };
}

function fromModel(text: string, error: ModelError, prefix: string): Found[] {
  return error.issues.map((i) => found(text, i.code, prefix + i.path, prefix === "" ? i.message : `${prefix}${i.message}`));
}

/** Where JSON.parse stopped, when its message says (Node 20 does for some errors). */
function notJson(cause: unknown, code: string): Found {
  const message = cause instanceof Error ? cause.message : String(cause);
  const at = /at position (\d+)/.exec(message);
  return { code, path: "", message: boundText(`the record is not JSON (${message})`, MAX_MESSAGE), offset: at === null ? 0 : Number(at[1]) };
}

const eventTypeList: readonly string[] = eventTypes;

/** The last reference token of a pointer, unescaped. */
function lastToken(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1).replace(/~1/g, "/").replace(/~0/g, "~");
}

/** The rule as the second half of a sentence that has said what is wrong. */
function must(rule: string): string {
  if (rule.startsWith("is ")) return `it must be ${rule.slice(3)}`;
  return rule.startsWith("contains ") ? `it ${rule}` : rule;
}

/**
 * An envelope error as a sentence that says what is wrong first, then the rule, and for an
 * unknown type the catalog type it most likely meant.
 */
function envelopeMessage(e: EventAttributeError): string {
  const depth = e.path.split("/").length - 1;
  const what = e.path === "" ? "the record" : depth === 1 ? `attribute ${lastToken(e.path)}` : e.path;
  const value = e.value === undefined ? "" : previewValue(e.value);
  switch (e.code) {
    case "unknown_event_type": {
      const hint = didYouMean(String(e.value), eventTypeList);
      return `type ${value} is not in the catalog${hint === "" ? "; `millwright catalog` lists the types" : hint}`;
    }
    case "unknown_event_version": {
      const name = String(e.value);
      const prefix = name.slice(0, name.lastIndexOf(".v") + 2);
      const versions = eventTypeList.filter((t) => t.startsWith(prefix));
      return `type ${value} is not in this version of the catalog, which has ${versions.map((t) => JSON.stringify(t)).join(", ")}`;
    }
    case "missing_attribute":
      return `${what} is missing; ${e.rule}`;
    case "invalid_attribute_name":
      return `attribute name ${value} is not allowed; ${e.rule}`;
    case "duplicate_attribute":
      return `${what} is repeated; ${e.rule}`;
    case "duplicate_member":
      return `member ${value} is repeated in ${e.path.slice(0, e.path.lastIndexOf("/")) || "the record"}; ${e.rule}`;
    default:
      if (e.value === undefined) return e.rule.startsWith("is ") ? `${what} is not ${e.rule.slice(3)}` : `${what}: ${e.rule}`;
      return `${what} is ${value}; ${must(e.rule)}`;
  }
}

function fromEvent(text: string, error: EventError): Found[] {
  if (error.code === "invalid_data") return fromModel(text, error.cause, error.path);
  return [found(text, error.code, error.path, envelopeMessage(error))];
}

/**
 * The data's issues when the envelope stopped `parseEvent` before it read the data: whenever the
 * record names a catalog type and carries `data`, the data is judged against that type too.
 */
function dataIssues(text: string): Found[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return [];
  const { type, data } = raw as { type?: unknown; data?: unknown };
  if (typeof type !== "string" || !isEventType(type) || data === undefined || data === null) return [];
  const parsed = parseEventData(type, data);
  return parsed.isOk() ? [] : fromModel(text, parsed.error, "/data");
}

/** The verdict on one record of a line. */
export interface LineVerdict {
  readonly kind?: string;
  /** The issues; `line` and `column` are counted in the text that was judged. */
  readonly issues: readonly RecordIssue[];
  /** The event, when the record is a valid CloudEvent. */
  readonly event?: CanonicalEvent;
  /** The record's index in its batch, when the line is a batch. */
  readonly item?: number;
}

/** A verdict whose issues still carry offsets into the judged text. */
interface Judged {
  readonly kind?: string;
  readonly issues: readonly Found[];
  readonly event?: CanonicalEvent;
  readonly item?: number;
  /** Where the record starts in the judged text. */
  readonly offset: number;
}

function judge(text: string, options: ValidateOptions, offset: number = skipJsonSpace(text)): Judged {
  if (options.entity !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      return { issues: [notJson(cause, "invalid_json")], offset };
    }
    const result = parseEntity(options.entity, value);
    return { kind: options.entity, issues: result.isOk() ? [] : fromModel(text, result.error, ""), offset };
  }
  // The record's own text goes to parseEvent: its raw-text checks (repeated members, Integers
  // written with a fraction) see exactly what the producer wrote.
  const result = parseEvent(text);
  if (result.isOk()) return { kind: result.value.type, issues: NO_FOUND, event: result.value, offset };
  if (result.error.code !== "unreadable_input" && !text.includes('"specversion"')) {
    const message = "the record is not a CloudEvent (it has no specversion); for plain canonical records pass --entity <Name>";
    return { issues: [{ code: "not_an_event", path: "", message, offset }], offset };
  }
  if (result.error.code === "unreadable_input" && result.error.path === "" && /^is JSON text/.test(result.error.rule)) {
    try {
      JSON.parse(text);
    } catch (cause) {
      return { issues: [notJson(cause, "unreadable_input")], offset };
    }
  }
  const issues = fromEvent(text, result.error);
  return { issues: result.error.code === "invalid_data" ? issues : [...issues, ...dataIssues(text)], offset };
}

/** Where the JSON white space at the start of `text` ends. */
function skipJsonSpace(text: string): number {
  let i = 0;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return i;
    i++;
  }
}

/** The issues of a valid record: one shared empty list, never written to. */
const NO_FOUND: readonly Found[] = Object.freeze([]);

/**
 * Judges one record given as JSON text: a CloudEvent (structured) checked with `parseEvent` on
 * exactly this text, its data checked against its type even when the envelope is wrong too, or,
 * with `options.entity`, a plain entity checked with `parseEntity`. Never throws. Messages say
 * what is wrong before the rule and are cut to a bounded length; each issue has its line and
 * column in `text`.
 *
 * @param text - the record's JSON text
 * @param options - the entity to expect for plain records
 * @returns the issues found, empty when the record is valid, and the record's kind
 * @example
 * judgeRecord('{"specversion":"1.0", …}', {}).issues; // []
 */
export function judgeRecord(text: string, options: ValidateOptions): { kind?: string; issues: readonly RecordIssue[] } {
  const judged = judge(text, options);
  const issues = positioned(judged.issues, text);
  return judged.kind === undefined ? { issues } : { kind: judged.kind, issues };
}

function positioned(issues: readonly Found[], text: string, lines?: LineIndex): RecordIssue[] {
  if (issues.length === 0) return [];
  const index = lines ?? new LineIndex(text);
  return issues.map((i) => ({ code: i.code, path: i.path, message: i.message, ...index.position(i.offset) }));
}

/** One element of a JSON array: its text exactly as written, and where it starts. */
export interface ArrayElement {
  readonly text: string;
  /** The offset of the element's first character in the array's text. */
  readonly offset: number;
}

/**
 * Each element of a JSON array, exactly as written, with its offset. `text` must be valid JSON
 * whose value is an array.
 *
 * @param text - the array's JSON text
 * @returns its elements in order
 */
export function arrayElements(text: string): ArrayElement[] {
  const out: ArrayElement[] = [];
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
        if (start !== -1) out.push({ text: text.slice(start, i).trimEnd(), offset: start });
        break;
      }
      depth--;
    } else if (c === 44 /* , */ && depth === 0) {
      out.push({ text: text.slice(start, i).trimEnd(), offset: start });
      start = -1;
    } else if (start === -1) start = i;
  }
  return out;
}

/**
 * The text of each element of a JSON array, exactly as written. `text` must be valid JSON whose
 * value is an array.
 *
 * @param text - the array's JSON text
 * @returns the elements' texts in order
 */
export function arrayElementTexts(text: string): string[] {
  return arrayElements(text).map((e) => e.text);
}

/** One verdict per element of a batch, or a single issue when the text is not a JSON array. */
function judgeBatch(text: string, options: ValidateOptions): Judged[] {
  const offset = skipJsonSpace(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    return [{ issues: [notJson(cause, "invalid_json")], offset }];
  }
  if (!Array.isArray(value)) return [{ issues: [{ code: "invalid_json", path: "", message: "the batch is not a JSON array", offset }], offset }];
  const seen = new Map<string, number>();
  return arrayElements(text).map((element, i): Judged => {
    const verdict = judge(element.text, options);
    const where = ` (item ${i} of the batch)`;
    const issues: Found[] = verdict.issues.map((issue) => ({
      code: issue.code,
      path: `/${i}${issue.path}`,
      message: boundText(issue.message + where, MAX_MESSAGE),
      offset: element.offset + issue.offset,
    }));
    const event = verdict.event;
    if (event !== undefined) {
      // CloudEvents: source + id identify an event, so one batch carries each event once.
      const key = `${event.source}\u0000${event.id}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else {
        const message = `the event (source ${previewValue(event.source)}, id ${previewValue(event.id)}) repeats item ${first} of this batch; a batch carries each event once (source + id identify an event)${where}`;
        issues.push({ code: "duplicate_event", path: `/${i}/id`, message: boundText(message, MAX_MESSAGE), offset: element.offset + locatePointer(element.text, "/id") });
      }
    }
    return {
      ...(verdict.kind === undefined ? {} : { kind: verdict.kind }),
      issues,
      ...(issues.length === 0 && event !== undefined ? { event } : {}),
      item: i,
      offset: element.offset,
    };
  });
}

function toVerdict(judged: Judged, text: string, lines?: LineIndex): LineVerdict {
  return {
    ...(judged.kind === undefined ? {} : { kind: judged.kind }),
    issues: positioned(judged.issues, text, lines),
    ...(judged.event === undefined ? {} : { event: judged.event }),
    ...(judged.item === undefined ? {} : { item: judged.item }),
  };
}

function judgeText(text: string, options: ValidateOptions): Judged[] {
  // JSON whitespace only: String#trim would also drop a BOM and other Unicode spaces, which JSON refuses.
  const offset = skipJsonSpace(text);
  if (offset === text.length) return [];
  if (text.startsWith(BOM, offset)) {
    return [{ issues: [{ code: "unreadable_input", path: "", message: "the line starts with a byte order mark (U+FEFF); only the start of a file may have one", offset }], offset }];
  }
  return text.charCodeAt(offset) === 91 /* [ */ ? judgeBatch(text, options) : [judge(text, options, offset)];
}

/**
 * Judges one line of NDJSON: a record, or a batch of them as a JSON array; empty lines have none.
 * The events of a batch are judged from their own text, and a batch repeats no event.
 *
 * @param text - the line, without its line break
 * @param options - the entity to expect for plain records
 * @returns the verdict on each record of the line, with the event of each valid CloudEvent; the
 *   issues' lines and columns are counted in `text`
 */
function judgeLine(text: string, options: ValidateOptions): readonly LineVerdict[] {
  return toVerdicts(judgeText(text, options), text);
}

/** The verdicts of a line's judged records; the line index is built only when a record has issues. */
function toVerdicts(judged: readonly Judged[], text: string): LineVerdict[] {
  if (judged.every((j) => j.issues.length === 0)) return judged.map((j) => toVerdict(j, text));
  const lines = new LineIndex(text);
  return judged.map((j) => toVerdict(j, text, lines));
}

const NOT_UTF8: readonly LineVerdict[] = [{ issues: [{ code: "unreadable_input", path: "", message: "the line is not UTF-8 text", line: 1, column: 1 }] }];

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
  for await (const lines of readLineBatches(input)) yield* lines;
}

/**
 * The chunks of a stream as buffers, without the UTF-8 byte order mark that may open it (files saved
 * by Windows tools start with one). A chunk may be reused by the stream once the next is read.
 */
async function* chunksWithoutBom(input: ChunkSource): AsyncGenerator<Buffer> {
  // A BOM is three bytes: gather that many (copied) before deciding whether the input starts with one.
  let head: Buffer[] = [];
  let headLength = 0;
  let atStart = true;
  for await (const chunk of input) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : (chunk as Buffer);
    if (!atStart) {
      yield buf;
      continue;
    }
    head.push(Buffer.from(buf));
    headLength += buf.length;
    if (headLength < 3) continue;
    atStart = false;
    const first = Buffer.concat(head);
    head = [];
    yield first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf ? first.subarray(3) : first;
  }
  // An input shorter than a BOM is only text.
  if (atStart && headLength > 0) yield Buffer.concat(head);
}

/**
 * The lines of a stream as {@link readLineBytes} reads them, one batch per chunk read: the NDJSON
 * path awaits once per chunk instead of once per line. Each batch is valid until the next is read.
 */
async function* readLineBatches(input: NodeJS.ReadableStream): AsyncGenerator<readonly Buffer[]> {
  // The bytes after the last line break read so far (copied: a stream may reuse a chunk's memory).
  let pending: Buffer[] = [];
  function split(buf: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    let newline = buf.indexOf(10);
    while (newline !== -1) {
      let line = buf.subarray(start, newline);
      if (pending.length > 0) {
        pending.push(line);
        line = Buffer.concat(pending);
        pending = [];
      }
      lines.push(line.length > 0 && line[line.length - 1] === 13 ? line.subarray(0, -1) : line);
      start = newline + 1;
      newline = buf.indexOf(10, start);
    }
    if (start < buf.length) pending.push(Buffer.from(buf.subarray(start)));
    return lines;
  }
  for await (const buf of chunksWithoutBom(input)) {
    const lines = split(buf);
    if (lines.length > 0) yield lines;
  }
  const rest = Buffer.concat(pending);
  pending = [];
  const lines = split(rest);
  const last = Buffer.concat(pending);
  if (last.length > 0) lines.push(last[last.length - 1] === 13 ? last.subarray(0, -1) : last);
  if (lines.length > 0) yield lines;
}

/**
 * Decodes one line: its text, or undefined when the bytes are not UTF-8 (decoding would replace
 * them and hide the fault).
 */
function lineText(bytes: Buffer): string | undefined {
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
  for await (const results of validateNdjsonBatches(input, source, options)) yield* results;
}

/**
 * {@link validateNdjson}, one batch of results per chunk read: a caller that loops over the
 * results awaits once per chunk instead of once per record.
 *
 * @param input - the stream to read
 * @param source - the name to report (file name or `-`)
 * @param options - the entity to expect for plain records
 * @returns the per-record results in order, in batches
 */
async function* validateNdjsonBatches(input: NodeJS.ReadableStream, source: string, options: ValidateOptions): AsyncGenerator<readonly RecordResult[]> {
  let line = 0;
  for await (const lines of readTextBatches(input)) {
    const batch = judgeLines(lines, line, source, options, true);
    line += lines.length;
    if (batch.results.length > 0) yield batch.results;
  }
}

/** The records of one batch of lines: how many, and the results kept (every one, or the invalid ones only). */
export interface NdjsonBatch {
  /** How many records the lines held, valid or not (a batch line holds one per item, an empty line none). */
  readonly records: number;
  /** The results, in order: of every record, or of the invalid records only. */
  readonly results: readonly RecordResult[];
}

/**
 * What the command needs of NDJSON, one batch per chunk read: each batch's record count and the
 * results of its invalid records only, so that a valid record costs no result object (most
 * records of a run are valid). The invalid results are exactly those {@link validateNdjson} yields.
 *
 * @param input - the stream to read
 * @param source - the name to report (file name or `-`)
 * @param options - the entity to expect for plain records
 * @returns per chunk read, its record count and its invalid records' results, in order
 */
export async function* validateNdjsonCounts(input: ChunkSource, source: string, options: ValidateOptions): AsyncGenerator<NdjsonBatch> {
  let line = 0;
  for await (const lines of readTextBatches(input)) {
    const batch = judgeLines(lines, line, source, options, false);
    line += lines.length;
    if (batch.records > 0) yield batch;
  }
}

/**
 * Judges a batch of NDJSON lines (undefined: a line that is not UTF-8) that follows line
 * `before` of its input.
 */
function judgeLines(lines: readonly (string | undefined)[], before: number, source: string, options: ValidateOptions, keepValid: boolean): NdjsonBatch {
  const results: RecordResult[] = [];
  let records = 0;
  for (let l = 0; l < lines.length; l++) {
    const text = lines[l];
    const record = before + l + 1;
    if (text === undefined) {
      records++;
      results.push(toResult(source, record, NOT_UTF8[0] as LineVerdict));
      continue;
    }
    // The common case without the verdict's copies: one record on the line, valid.
    const offset = skipJsonSpace(text);
    if (offset === text.length) continue;
    const c = text.charCodeAt(offset);
    if (c !== 91 /* [ */ && c !== 0xfeff /* a BOM: judgeText refuses it */) {
      const only = judge(text, options, offset);
      records++;
      if (only.issues.length === 0) {
        if (keepValid) results.push(only.kind === undefined ? { source, record, valid: true, issues: NO_ISSUES } : { source, record, valid: true, kind: only.kind, issues: NO_ISSUES });
        continue;
      }
      for (const verdict of toVerdicts([only], text)) results.push(toResult(source, record, verdict));
      continue;
    }
    const judged = judgeText(text, options);
    records += judged.length;
    for (const verdict of toVerdicts(judged, text)) {
      if (keepValid || verdict.issues.length > 0) results.push(toResult(source, record, verdict));
    }
  }
  return { records, results };
}

/**
 * The lines of a stream as text, one batch per chunk read, each line as {@link lineText} decodes
 * it (undefined when not UTF-8): the lines that lie whole in a chunk are checked and decoded in
 * one call for all of them, and split as text. Only when that part of the chunk is not UTF-8 is
 * each of its lines checked on its own, so that only the lines at fault are refused.
 */
export async function* readTextBatches(input: ChunkSource): AsyncGenerator<readonly (string | undefined)[]> {
  // The bytes after the last line break read so far (copied: a stream may reuse a chunk's memory).
  let pending: Buffer[] = [];
  const withoutCr = (line: Buffer): Buffer => (line.length > 0 && line[line.length - 1] === 13 ? line.subarray(0, -1) : line);
  for await (const buf of chunksWithoutBom(input)) {
    const first = buf.indexOf(10);
    if (first === -1) {
      if (buf.length > 0) pending.push(Buffer.from(buf));
      continue;
    }
    const lines: (string | undefined)[] = [];
    let start = 0;
    if (pending.length > 0) {
      // The line that began in an earlier chunk ends here.
      pending.push(buf.subarray(0, first));
      lines.push(lineText(withoutCr(Buffer.concat(pending))));
      pending = [];
      start = first + 1;
    }
    const last = buf.lastIndexOf(10);
    if (start <= last) {
      const region = buf.subarray(start, last);
      // ASCII reads the same in Latin-1, which decodes by copying; UTF-8 never has a 0x0A byte
      // inside a character, so each line of a region that is UTF-8 is UTF-8 too. The region is
      // checked once, then each line is decoded on its own: a line's string is small and dies
      // young, where one string of the whole chunk (about 1 MB) is a large object that V8 maps
      // fresh memory for on every chunk (page faults cost more than the copy).
      const encoding = isAscii(region) ? "latin1" : isUtf8(region) ? "utf8" : undefined;
      if (encoding !== undefined) {
        let from = start;
        for (let nl = buf.indexOf(10, from); ; nl = buf.indexOf(10, from)) {
          const end = nl === -1 || nl > last ? last : nl;
          lines.push(buf.toString(encoding, from, end > from && buf[end - 1] === 13 ? end - 1 : end));
          if (end === last) break;
          from = nl + 1;
        }
      } else {
        let from = start;
        for (let nl = buf.indexOf(10, from); nl !== -1 && nl <= last; nl = buf.indexOf(10, from)) {
          lines.push(lineText(withoutCr(buf.subarray(from, nl))));
          from = nl + 1;
        }
      }
    }
    if (last + 1 < buf.length) pending.push(Buffer.from(buf.subarray(last + 1)));
    if (lines.length > 0) yield lines;
  }
  const rest = Buffer.concat(pending);
  pending = [];
  // What no line break ended: a final line without a newline.
  const lines: (string | undefined)[] = [];
  let from = 0;
  for (let nl = rest.indexOf(10); nl !== -1; nl = rest.indexOf(10, from)) {
    lines.push(lineText(withoutCr(rest.subarray(from, nl))));
    from = nl + 1;
  }
  if (from < rest.length) lines.push(lineText(withoutCr(rest.subarray(from))));
  if (lines.length > 0) yield lines;
}

const NO_ISSUES: readonly RecordIssue[] = Object.freeze([]);

/** A record's result; the verdict's lines, counted from the record's line, become the input's lines. */
function toResult(source: string, record: number, verdict: LineVerdict): RecordResult {
  const issues = record === 1 ? verdict.issues : verdict.issues.map((i) => (i.line === undefined ? i : { ...i, line: i.line + record - 1 }));
  return {
    source,
    record,
    ...(verdict.item === undefined ? {} : { item: verdict.item }),
    valid: issues.length === 0,
    ...(verdict.kind === undefined ? {} : { kind: verdict.kind }),
    issues,
  };
}

/**
 * Validates a whole JSON document: one record (an object) or several (an array, such as a
 * CloudEvents batch, `application/cloudevents-batch+json`, whose events are judged from their own
 * text and may not repeat). A leading byte order mark is dropped; bytes that are not UTF-8 are
 * one invalid record. Each record is reported on the line it starts on, each issue at the line and
 * column its path lands on.
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
    if (text === undefined) return [toResult(source, 1, { issues: [{ code: "unreadable_input", path: "", message: "the document is not UTF-8 text", line: 1, column: 1 }] })];
  }
  if (text.startsWith(BOM)) text = text.slice(1);
  const lines = new LineIndex(text);
  const judged = /^[\t\n\r ]*\[/.test(text) ? judgeBatch(text, options) : [judge(text, options)];
  // Lines are the document's own: each record is reported on the line it starts on.
  return judged.map((j) => ({ ...toResult(source, 1, toVerdict(j, text, lines)), record: lines.position(j.offset).line }));
}

/** What the line readers read: a stream, or any source of chunks (text is taken as UTF-8). */
export type ChunkSource = AsyncIterable<Buffer | string>;

/** The size of one read of a file. */
const CHUNK_BYTES = 1 << 20;

const readInto = async (file: FileHandle, buffer: Buffer): Promise<number> => (await file.read(buffer, 0, buffer.length, null)).bytesRead;

/**
 * The chunks of a file, read into two buffers that take turns: each chunk is valid until the one
 * after it is asked for (the next read fills the other buffer meanwhile). A stream allocates a
 * fresh 1 MB buffer for every read, and fresh memory costs page faults on every chunk; these two
 * are allocated once.
 *
 * @param path - the file to read
 * @returns its chunks in order
 */
export async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const file = await open(path, "r");
  const buffers = [Buffer.allocUnsafeSlow(CHUNK_BYTES), Buffer.allocUnsafeSlow(CHUNK_BYTES)] as const;
  let turn = 0;
  let reading: Promise<number> | undefined = readInto(file, buffers[0]);
  try {
    for (;;) {
      const bytes: number = await reading;
      reading = undefined;
      if (bytes === 0) return;
      const chunk = buffers[turn] as Buffer;
      turn ^= 1;
      // The caller is done with the other buffer: it asked for this chunk.
      reading = readInto(file, buffers[turn] as Buffer);
      yield chunk.subarray(0, bytes);
    }
  } finally {
    // A read still under way ends before the file closes; its error, if any, no longer matters.
    if (reading !== undefined) await reading.catch(() => 0);
    await file.close();
  }
}

/**
 * Opens a file for streaming, or standard input for `-`.
 *
 * @param name - the file name, or `-`
 * @param stdin - what `-` reads (the process's standard input unless given)
 * @returns the stream
 */
export function openInput(name: string, stdin: NodeJS.ReadableStream = process.stdin): NodeJS.ReadableStream {
  return name === "-" ? stdin : createReadStream(name, { highWaterMark: 1 << 20 });
}
