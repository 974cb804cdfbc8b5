/**
 * The RFC 8785 (JSON Canonicalization Scheme) text of JSON data, taken from the text it was parsed
 * from instead of written again from the parsed value.
 *
 * It applies only to text that {@link provablyCanonical} proved to be exactly `JSON.stringify` of
 * the value: no white space, no escape, no lone surrogate, numbers that are integers from -9 to 99,
 * no member name that starts with a digit. Such text differs from the RFC 8785 text at most in the
 * order of members (RFC 8785 §3.2.3 sorts them by UTF-16 code units): its strings need no escape
 * (§3.2.2.2 escapes only what would have been written escaped), and its numbers are written as
 * ECMAScript writes them (§3.2.2.3). So the canonical text is the received text with the members of
 * each object put in order; for ASCII text, its bytes are the received bytes rearranged.
 *
 * Two passes: the first walks the parsed value and records where each member of each object or
 * array sits in the text (the proof fixes every span by the value's lengths); the second copies the
 * spans into the output in canonical order, each byte once.
 */

import { provablyCanonical } from "./json-scan.js";

// Containers found by the first pass, by index: where their entries start and how many they have,
// whether they are arrays, and whether their members are in canonical order already.
let nodeFirst: Int32Array = new Int32Array(64);
let nodeCount: Int32Array = new Int32Array(64);
let nodeFlags: Uint8Array = new Uint8Array(64);
let nodes = 0;
// Entries (members of objects, elements of arrays), contiguous per container: where the entry
// starts (its quoted name), where its value starts and ends, and the container the value is (-1 if none).
let entryStart: Int32Array = new Int32Array(256);
let entryValue: Int32Array = new Int32Array(256);
let entryEnd: Int32Array = new Int32Array(256);
let entryChild: Int32Array = new Int32Array(256);
const entryName: string[] = [];
let entries = 0;

const IS_ARRAY = 1;
const IN_ORDER = 2;

/** A copy of `a` twice as long. */
function doubled<T extends Int32Array | Uint8Array>(a: T): T {
  const b = new (a.constructor as new (length: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

function growNodes(): void {
  nodeFirst = doubled(nodeFirst);
  nodeCount = doubled(nodeCount);
  nodeFlags = doubled(nodeFlags);
}

function reserveEntries(count: number): number {
  const first = entries;
  entries += count;
  while (entries > entryStart.length) {
    entryStart = doubled(entryStart);
    entryValue = doubled(entryValue);
    entryEnd = doubled(entryEnd);
    entryChild = doubled(entryChild);
  }
  return first;
}

/** The length `JSON.stringify` writes for a scalar of proven text (see the module comment). */
function scalarLength(value: unknown): number {
  if (typeof value === "string") return value.length + 2;
  if (typeof value === "number") return value < 0 || value >= 10 ? 2 : 1;
  if (typeof value === "boolean") return value ? 4 : 5;
  return 4; // null
}

/** First pass: records the container at `at` and everything in it; returns where its text ends. */
function record(value: object, at: number): number {
  if (nodes === nodeFirst.length) growNodes();
  const node = nodes++;
  let pos = at + 1;
  if (Array.isArray(value)) {
    const count = value.length;
    const first = reserveEntries(count);
    nodeFirst[node] = first;
    nodeCount[node] = count;
    nodeFlags[node] = IS_ARRAY | IN_ORDER;
    for (let i = 0; i < count; i++) {
      if (i > 0) pos++;
      const e = first + i;
      entryStart[e] = pos;
      entryValue[e] = pos;
      pos = recordValue(e, value[i], pos);
    }
    return pos + 1;
  }
  const members = value as Record<string, unknown>;
  let count = 0;
  for (const _ in members) count++;
  const first = reserveEntries(count);
  nodeFirst[node] = first;
  nodeCount[node] = count;
  let flags = IN_ORDER;
  let previous = "";
  let e = first;
  for (const name in members) {
    if (e > first) {
      pos++;
      if (previous >= name) flags = 0;
    }
    previous = name;
    entryName[e] = name;
    entryStart[e] = pos;
    pos += name.length + 3;
    entryValue[e] = pos;
    pos = recordValue(e, members[name], pos);
    e++;
  }
  nodeFlags[node] = flags;
  return pos + 1;
}

/** Records the value of entry `e`, which starts at `at` (a container and everything in it, or a scalar); returns where it ends. */
function recordValue(e: number, item: unknown, at: number): number {
  let end: number;
  if (typeof item === "object" && item !== null) {
    entryChild[e] = nodes;
    end = record(item, at);
  } else {
    entryChild[e] = -1;
    end = at + scalarLength(item);
  }
  entryEnd[e] = end;
  return end;
}

/** Copies `source[from, to)` to `out` at `at`; returns the position after it. */
function copy(source: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  // `source` and `out` are views of one buffer (see canonicalDataText): a native move, no view made.
  if (to - from > 12) {
    work.copyWithin(at + offset, from, to);
    return at + to - from;
  }
  let d = at;
  for (let i = from; i < to; i++) out[d++] = source[i] as number;
  return d;
}

// The buffer the text is copied into (at 0) and the canonical text written into (at `offset`).
let work: Uint8Array = new Uint8Array(0);
let offset = 0;

// Where the entries of one object go in canonical order; reused (sorting is by name, in place).
const order: number[] = [];

/** Second pass: writes container `node` (its text at `at` in `source`) to `out` at `dst`. */
function write(node: number, source: Uint8Array, at: number, out: Uint8Array, dst: number): number {
  const first = nodeFirst[node] as number;
  const count = nodeCount[node] as number;
  const flags = nodeFlags[node] as number;
  let d = dst;
  out[d++] = source[at] as number; // { or [
  if ((flags & IN_ORDER) !== 0) {
    for (let e = first; e < first + count; e++) {
      if (e > first) out[d++] = 44; // ,
      const child = entryChild[e] as number;
      if (child < 0) {
        d = copy(source, entryStart[e] as number, entryEnd[e] as number, out, d);
      } else {
        d = copy(source, entryStart[e] as number, entryValue[e] as number, out, d);
        d = write(child, source, entryValue[e] as number, out, d);
      }
    }
  } else {
    const base = order.length;
    for (let e = first; e < first + count; e++) order.push(e);
    // Insertion sort of the few members of one object; strings compare by UTF-16 code units, as RFC 8785 sorts. Names are distinct.
    for (let i = base + 1; i < order.length; i++) {
      const e = order[i] as number;
      const name = entryName[e] as string;
      let j = i - 1;
      while (j >= base && (entryName[order[j] as number] as string) > name) {
        order[j + 1] = order[j] as number;
        j--;
      }
      order[j + 1] = e;
    }
    for (let k = 0; k < count; k++) {
      const e = order[base + k] as number;
      if (k > 0) out[d++] = 44; // ,
      const child = entryChild[e] as number;
      if (child < 0) {
        d = copy(source, entryStart[e] as number, entryEnd[e] as number, out, d);
      } else {
        d = copy(source, entryStart[e] as number, entryValue[e] as number, out, d);
        d = write(child, source, entryValue[e] as number, out, d);
      }
    }
    order.length = base;
  }
  out[d++] = (flags & IS_ARRAY) !== 0 ? 93 : 125; // ] or }
  return d;
}

const NOT_ASCII = /[^\x00-\x7f]/;

/**
 * The RFC 8785 text of `value`, taken from `text` when `text` is provably `JSON.stringify(value)`
 * and ASCII; otherwise undefined, and then nothing but that proof (and an ASCII check) was spent:
 * the caller canonicalises the value itself if it needs the text.
 *
 * @param text - JSON text that `JSON.parse` accepted
 * @param value - what `JSON.parse(text)` returned (not modified since)
 * @param options - `proven` when the caller has shown `provablyCanonical(text, value)` already;
 *   `bytes` when the text came from these bytes and they are ASCII (then they are read instead of the text)
 * @returns the canonical text, or undefined
 */
export function canonicalDataText(text: string, value: unknown, options: { readonly proven?: boolean; readonly bytes?: Uint8Array } = {}): string | undefined {
  if (options.proven !== true && !provablyCanonical(text, value)) return undefined;
  const bytes = options.bytes;
  if (bytes === undefined && NOT_ASCII.test(text)) return undefined;
  if (typeof value !== "object" || value === null) return text;
  const n = text.length;
  nodes = 0;
  entries = 0;
  const end = record(value, 0);
  // The proof fixes every span; a walk that does not end at the end of the text would mean it did not hold.
  if (end !== n) return undefined;
  // One buffer, kept for the next text: the text at 0, the canonical text written after it (so
  // spans move within one buffer). Only the returned string is new: no memory outside the heap per read.
  if (work.length < 2 * n) work = new Uint8Array(Math.max(2 * n, 2 * work.length));
  offset = n;
  if (bytes !== undefined) work.set(bytes);
  else for (let i = 0; i < n; i++) work[i] = text.charCodeAt(i);
  const written = write(0, work.subarray(0, n), 0, work.subarray(n, 2 * n), 0);
  // Names are kept for the next text (no regrowth per read) unless a large one left many.
  if (entryName.length > 4096) entryName.length = 0;
  const canonical = written === n ? Buffer.from(work.buffer, work.byteOffset + n, n).toString("latin1") : undefined;
  if (work.length > 1 << 20) work = new Uint8Array(0);
  return canonical;
}
