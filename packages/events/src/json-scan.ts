/**
 * A raw-text pass over JSON that `JSON.parse` cannot do: it finds member names repeated in any
 * object at any depth (JSON.parse silently keeps the last, other parsers keep the first or fail),
 * and attribute numbers written with a fraction or an exponent (an Integer has neither).
 *
 * The text must already have been accepted by `JSON.parse`, so the pass can trust the grammar:
 * a quote after `{` or `,` in an object opens a member name, every other string is a value and is
 * skipped with `indexOf`. One pass, no allocation per member name unless a name is escaped or an
 * object has more than {@link LINEAR_LIMIT} members.
 */

import { attributeError, type EventAttributeError } from "./errors.js";

/** What the scan found wrong: a repeated name, or an attribute number that is not an Integer literal. */
export interface ScanFinding {
  /** `attribute`: a member of an event object repeats; `member`: a member deeper down repeats. */
  readonly kind: "attribute" | "member" | "number";
  /** A JSON Pointer into the scanned text, at most {@link MAX_POINTER} characters (see {@link boundedPointer}). */
  readonly path: string;
  /** The member name, unescaped and cut to at most {@link MAX_NAME} characters. */
  readonly name: string;
  /** For `number`, the literal as written. */
  readonly value: string;
}

/** The longest pointer a finding carries; longer ones are cut back to an ancestor. */
export const MAX_POINTER = 1024;
/** The longest member name a finding carries. */
export const MAX_NAME = 64;
// Up to this many members an object is checked by comparing names pairwise in the text; past it,
// by a Set, so that a hostile object of many members stays linear.
const LINEAR_LIMIT = 16;
// A scan's arrays are kept for the next text unless a large input grew them past this.
const REUSE_LIMIT = 4096;

const QUOTE = 34;
const BACKSLASH = 92;

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69;
}

/** Cuts a name for an error value, without splitting a surrogate pair. */
export function boundedName(name: string): string {
  if (name.length <= MAX_NAME) return name;
  const end = MAX_NAME - 3;
  const cut = name.charCodeAt(end - 1) >= 0xd800 && name.charCodeAt(end - 1) <= 0xdbff ? end - 1 : end;
  return `${name.slice(0, cut)}...`;
}

/**
 * Joins pointer segments (RFC 6901, escaping `~` and `/`). A pointer longer than
 * {@link MAX_POINTER} is cut back to the longest ancestor that fits, so an error never carries
 * unbounded input; the cut pointer still names an ancestor of the offending member.
 */
export function boundedPointer(segments: readonly string[]): string {
  let path = "";
  for (const segment of segments) {
    const next = `${path}/${segment.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    if (next.length > MAX_POINTER) break;
    path = next;
  }
  return path;
}

/**
 * Per-call state of the scan: one frame per open object or array, and one entry per member name
 * of the objects still open (an object's entries are dropped when it closes).
 */
class Scan {
  // Frames, by depth (1 is the outermost value).
  readonly isArray: boolean[] = [false];
  /** Arrays: the index of the current element. Objects: the entry of the current member. */
  readonly current: number[] = [0];
  /** Objects: the first entry of their members. */
  readonly base: number[] = [0];
  readonly sets: (Set<string> | undefined)[] = [undefined];
  // Member name entries: where the raw name sits in the text, its length once unescaped, and the
  // unescaped name when it differs from the raw text.
  readonly start: number[] = [];
  readonly length: number[] = [];
  readonly decoded: (string | undefined)[] = [];
  top = 0;
  text = "";
  /** Whether an escaped name was stored (so `decoded` must be cleared before reuse). */
  hasDecoded = false;

  /** Whether a Set was made for a large object. */
  hasSets = false;

  /** Lets go of everything taken from a text, keeping the arrays' capacity for the next one. */
  release(): void {
    this.text = "";
    this.top = 0;
    if (this.hasDecoded) {
      this.decoded.fill(undefined);
      this.hasDecoded = false;
    }
    if (this.hasSets) {
      this.sets.fill(undefined);
      this.hasSets = false;
    }
  }

  /** Whether the arrays are small enough to keep for the next scan. */
  reusable(): boolean {
    return this.start.length <= REUSE_LIMIT && this.isArray.length <= REUSE_LIMIT;
  }

  nameOf(entry: number): string {
    const decoded = this.decoded[entry];
    if (decoded !== undefined) return decoded;
    const start = this.start[entry] as number;
    return this.text.slice(start, start + (this.length[entry] as number));
  }

  sameName(a: number, b: number): boolean {
    const length = this.length[a] as number;
    if (length !== this.length[b]) return false;
    if (this.decoded[a] === undefined && this.decoded[b] === undefined) {
      const text = this.text;
      const sa = this.start[a] as number;
      const sb = this.start[b] as number;
      // Names of one length mostly differ at the end ("plannedStart", "plannedEnd"…) or the start.
      if (length > 0 && text.charCodeAt(sa + length - 1) !== text.charCodeAt(sb + length - 1)) return false;
      for (let k = 0; k < length; k++) if (text.charCodeAt(sa + k) !== text.charCodeAt(sb + k)) return false;
      return true;
    }
    return this.nameOf(a) === this.nameOf(b);
  }

  /** The pointer to the current position, `depth` frames deep. */
  pointer(depth: number): string {
    const segments: string[] = [];
    for (let d = 1; d <= depth; d++) {
      segments.push(this.isArray[d] === true ? String(this.current[d]) : this.nameOf(this.current[d] as number));
    }
    return boundedPointer(segments);
  }

  /** Records a member name of the object at `depth`; whether it repeats an earlier one. */
  addName(depth: number, start: number, end: number, escaped: boolean): boolean {
    const entry = this.top++;
    this.start[entry] = start;
    if (escaped) {
      let name: string;
      try {
        name = JSON.parse(this.text.slice(start - 1, end + 1)) as string;
      } catch {
        // Only text that JSON.parse rejected gets here, and that text is refused anyway.
        name = this.text.slice(start, end);
      }
      this.decoded[entry] = name;
      this.length[entry] = name.length;
      this.hasDecoded = true;
    } else {
      this.decoded[entry] = undefined;
      this.length[entry] = end - start;
    }
    this.current[depth] = entry;
    const first = this.base[depth] as number;
    let set = this.sets[depth];
    if (set === undefined && entry - first < LINEAR_LIMIT) {
      for (let p = first; p < entry; p++) if (this.sameName(p, entry)) return true;
      return false;
    }
    if (set === undefined) {
      set = new Set();
      for (let p = first; p < entry; p++) set.add(this.nameOf(p));
      this.sets[depth] = set;
      this.hasSets = true;
    }
    const name = this.nameOf(entry);
    if (set.has(name)) return true;
    set.add(name);
    return false;
  }
}

function nextBackslash(text: string, from: number): number {
  const at = text.indexOf("\\", from);
  return at === -1 ? text.length : at;
}

/**
 * Scans JSON text that `JSON.parse` accepted for repeated member names at every depth, and for
 * non-integer numbers among the attributes of the event objects.
 *
 * @param text - JSON text that `JSON.parse` accepts
 * @param eventDepth - where the event objects are: 1 for a single event, 2 for the elements of a
 *   batch, 0 for plain data (no attributes: every repeat is a `member`, numbers are not checked)
 * @returns the first finding in text order, or undefined
 */
export function scanJsonText(text: string, eventDepth: 0 | 1 | 2): ScanFinding | undefined {
  // One scan object serves every call (the scan never re-enters), so a text costs no allocation.
  const scan = spare ?? new Scan();
  spare = undefined;
  scan.text = text;
  const finding = scanWith(scan, text, eventDepth);
  scan.release();
  if (scan.reusable()) spare = scan;
  return finding;
}

let spare: Scan | undefined;

function scanWith(scan: Scan, text: string, eventDepth: 0 | 1 | 2): ScanFinding | undefined {
  const n = text.length;
  let depth = 0;
  let expectName = false;
  let attribute = "";
  // The next backslash at or after the position last asked for: found once, not per string.
  let backslash = -1;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      if (expectName) {
        expectName = false;
        // A member name. A backslash anywhere in it means escapes: then it is read char by char
        // and unescaped; otherwise its raw text is the name.
        let j = text.indexOf('"', i + 1);
        if (j === -1) return undefined; // not JSON: JSON.parse has the say
        if (backslash < i) backslash = nextBackslash(text, i);
        const escaped = backslash < j;
        if (escaped) {
          j = i + 1;
          for (;;) {
            if (j >= n) return undefined;
            const d = text.charCodeAt(j);
            if (d === QUOTE) break;
            j += d === BACKSLASH ? 2 : 1;
          }
        }
        if (scan.addName(depth, i + 1, j, escaped)) {
          const name = scan.nameOf(scan.current[depth] as number);
          return { kind: depth === eventDepth ? "attribute" : "member", path: scan.pointer(depth), name: boundedName(name), value: "" };
        }
        if (depth === eventDepth) attribute = scan.nameOf(scan.current[depth] as number);
        i = j + 1;
        continue;
      }
      // A string value: JSON.parse accepted the text, so the first quote not escaped ends it.
      let j = text.indexOf('"', i + 1);
      if (backslash < i) backslash = nextBackslash(text, i);
      while (backslash < j) {
        // An escape inside the string: this quote may be escaped.
        let k = j - 1;
        while (text.charCodeAt(k) === BACKSLASH) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      if (j === -1) return undefined;
      i = j + 1;
      continue;
    }
    if (c === 123 /* { */) {
      depth++;
      scan.isArray[depth] = false;
      scan.base[depth] = scan.top;
      scan.sets[depth] = undefined;
      expectName = true;
    } else if (c === 91 /* [ */) {
      depth++;
      scan.isArray[depth] = true;
      scan.current[depth] = 0;
      expectName = false;
    } else if (c === 125 /* } */) {
      scan.top = scan.base[depth] as number;
      scan.sets[depth] = undefined;
      depth--;
      expectName = false;
    } else if (c === 93 /* ] */) {
      depth--;
      expectName = false;
    } else if (c === 44 /* , */) {
      if (scan.isArray[depth] === true) {
        scan.current[depth] = (scan.current[depth] as number) + 1;
      } else {
        expectName = true;
      }
    } else if (depth === eventDepth && eventDepth !== 0 && scan.isArray[depth] === false && (c === 45 || (c >= 48 && c <= 57))) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      if (attribute !== "data") {
        const literal = text.slice(i, j);
        if (/[.eE]/.test(literal)) return { kind: "number", path: scan.pointer(depth), name: boundedName(attribute), value: literal };
      }
      i = j;
      continue;
    }
    i++;
  }
  return undefined;
}

/**
 * The error for a finding, its path under `prefix` (the pointer of the scanned text in the input).
 * A repeated attribute keeps its own code; a repeated name inside the data is `duplicate_member`.
 */
export function scanError(finding: ScanFinding, prefix: string): EventAttributeError {
  const path = prefix + finding.path;
  switch (finding.kind) {
    case "attribute":
      return attributeError("duplicate_attribute", path, "each attribute occurs at most once");
    case "member":
      return attributeError("duplicate_member", path, "each member name occurs at most once in an object, compared after unescaping", finding.name);
    case "number":
      return attributeError("invalid_attribute_type", path, "an Integer is written without fraction or exponent", boundedName(finding.value));
  }
}
