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
const MAX_NAME = 64;
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
function boundedName(name: string): string {
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
function boundedPointer(segments: readonly string[]): string {
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

// ---------------------------------------------------------------------------------------------
// The fast path: the same verdict from one light pass over the text and a count of the parsed keys.
//
// JSON.parse keeps one member per distinct name (compared after unescaping, as the scan compares
// them), so the parsed value has exactly as many own keys as the text has member names when no
// object repeats a name, and fewer when one does: a repeat drops at least its own name, and the
// value it drops can only take more names away. Counting names in the text needs no name stored
// and no depth tracked: a member name is the one string that is followed by `:`. The full scan
// runs only when the counts differ (it then finds the repeat, its path and its name exactly as
// before), when the counts cannot be trusted, or when an event has a number attribute (whose
// literal the parsed value cannot show).
// ---------------------------------------------------------------------------------------------

const COLON = 58;
// Past this nesting the key count gives up (the full scan is iterative and takes over).
const MAX_COUNT_DEPTH = 256;

/** Whether the parsed keys can be counted with `for…in`: nothing enumerable is inherited from Object.prototype. */
function plainPrototype(): boolean {
  for (const _ in Object.prototype) return false;
  return true;
}

/** Own keys of every object in a parsed JSON value, or -1 past {@link MAX_COUNT_DEPTH}. */
function countKeys(value: unknown, depth: number): number {
  if (depth > MAX_COUNT_DEPTH) return -1;
  let count = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === "object" && item !== null) {
        const inner = countKeys(item, depth + 1);
        if (inner < 0) return -1;
        count += inner;
      }
    }
    return count;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    count++;
    const item = record[key];
    if (typeof item === "object" && item !== null) {
      const inner = countKeys(item, depth + 1);
      if (inner < 0) return -1;
      count += inner;
    }
  }
  return count;
}

/** The number of own keys in every object of a value JSON.parse returned, or -1 when they cannot be counted. */
export function parsedKeyCount(value: unknown): number {
  if (typeof value !== "object" || value === null) return 0;
  return plainPrototype() ? countKeys(value, 1) : -1;
}

/** The end of the string whose opening quote is at `open` (the index of its closing quote), or -1. */
function stringEnd(text: string, open: number, backslash: number): number {
  let j = text.indexOf('"', open + 1);
  while (backslash < j) {
    // An escape inside the string: this quote may be escaped.
    let k = j - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((j - 1 - k) % 2 === 0) break;
    j = text.indexOf('"', j + 1);
  }
  return j;
}

/**
 * The number of member names in JSON text that `JSON.parse` accepted, at every depth, or -1 if
 * the text turns out not to be JSON. Outside strings it steps over characters (structure is
 * dense); a string is skipped with `indexOf`, and a string followed by `:` is a member name.
 */
export function countMemberNames(text: string): number {
  const n = text.length;
  let names = 0;
  let backslash = -1;
  let i = 0;
  while (i < n) {
    if (text.charCodeAt(i) !== QUOTE) {
      i++;
      continue;
    }
    if (backslash < i) backslash = nextBackslash(text, i);
    const j = stringEnd(text, i, backslash);
    if (j === -1) return -1;
    let k = j + 1;
    let c = k < n ? text.charCodeAt(k) : 0;
    while (c === 32 || c === 10 || c === 13 || c === 9) c = ++k < n ? text.charCodeAt(k) : 0;
    if (c === COLON) {
      names++;
      k++;
    }
    i = k;
  }
  return names;
}

/**
 * The length of `JSON.stringify(value)` for a value JSON.parse made, or -1 when the value has
 * something the proof in {@link provablyCanonical} does not cover: a number other than an integer
 * from -9 to 99, a member name that starts with a digit, or nesting past {@link MAX_COUNT_DEPTH}.
 * Strings count as if they needed no escapes (the caller makes sure the text has none).
 */
function canonicalLength(value: unknown, depth: number): number {
  if (typeof value === "object" && value !== null) return containerLength(value, depth);
  return scalarLength(value);
}

/** {@link canonicalLength} of a value that is not an object or array. */
function scalarLength(value: unknown): number {
  if (typeof value === "string") return value.length + 2;
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value <= -10 || value >= 100) return -1;
    return value < 0 || value >= 10 ? 2 : 1; // -0 is written "0"
  }
  if (typeof value === "boolean") return value ? 4 : 5;
  if (value === null) return 4;
  return -1;
}

/** {@link canonicalLength} of an object or array; members that are strings are counted without a call. */
function containerLength(value: object, depth: number): number {
  if (depth > MAX_COUNT_DEPTH) return -1;
  let length = 2;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const inner = typeof item === "string" ? item.length + 2 : typeof item === "object" && item !== null ? containerLength(item, depth + 1) : scalarLength(item);
      if (inner < 0) return -1;
      length += inner;
    }
    return value.length > 0 ? length + value.length - 1 : length;
  }
  const record = value as Record<string, unknown>;
  let members = 0;
  for (const key in record) {
    const first = key.charCodeAt(0);
    if (first >= 48 && first <= 57) return -1;
    const item = record[key];
    const inner = typeof item === "string" ? item.length + 2 : typeof item === "object" && item !== null ? containerLength(item, depth + 1) : scalarLength(item);
    if (inner < 0) return -1;
    length += key.length + 3 + inner;
    members++;
  }
  return members > 0 ? length + members - 1 : length;
}

/**
 * Whether text is exactly `JSON.stringify` of the value JSON.parse made of it, hence has no
 * member name repeated anywhere, proven without reading the text: by its length.
 *
 * Take text without a backslash, without a lone surrogate, whose numbers are integers from -9 to
 * 99 and whose member names do not start with a digit. Each part of such text is at least as
 * long as `JSON.stringify` writes it: a string is its characters between quotes either way (none
 * needs an escape: a quote, a backslash or a control character could only have been written
 * escaped); a small integer has no shorter literal ("1e1" is longer than "10"; "-0" than "0");
 * white space only adds; and a repeated member adds its name, its value and a comma, which
 * `JSON.parse` drops. Member order is kept, as no name is an array index. So the text is exactly
 * as long as `JSON.stringify(value)` only when every part is written exactly that way and nothing
 * repeats; then it is that text, byte for byte.
 *
 * @param text - JSON text that `JSON.parse` accepts
 * @param value - what `JSON.parse(text)` returned (not modified since)
 * @returns true when proven; false says nothing (the caller reads the text)
 */
export function provablyCanonical(text: string, value: unknown): boolean {
  if (text.indexOf("\\") !== -1 || !plainPrototype()) return false;
  if (!(text as unknown as { isWellFormed(): boolean }).isWellFormed()) return false;
  return canonicalLength(value, 1) === text.length;
}

/** Whether an event object (not `data`) has a member whose value is a number. */
function hasNumberMember(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  for (const key in record) if (key !== "data" && typeof record[key] === "number") return true;
  return false;
}

/** Whether the events at `eventDepth` of a parsed value have a number attribute, which only the full scan can judge. */
function hasNumberAttribute(value: unknown, eventDepth: 0 | 1 | 2): boolean {
  if (eventDepth === 0) return false;
  if (eventDepth === 1) return hasNumberMember(value);
  // Depth 2: every object one level down, whatever holds it (the scan does not ask).
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasNumberMember(value[i])) return true;
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) if (hasNumberMember(record[key])) return true;
  return false;
}

/**
 * {@link scanJsonText}'s verdict for text and the value `JSON.parse` made of it, with the full
 * scan only when something is found or cannot be ruled out cheaply (see the comment above).
 *
 * @param text - JSON text that `JSON.parse` accepts
 * @param value - what `JSON.parse(text)` returned (not modified since)
 * @param eventDepth - as for {@link scanJsonText}
 * @returns the first finding in text order, or undefined: always the same as `scanJsonText(text, eventDepth)`
 */
export function findRepeat(text: string, value: unknown, eventDepth: 0 | 1 | 2): ScanFinding | undefined {
  if (!hasNumberAttribute(value, eventDepth) && provablyCanonical(text, value)) return undefined;
  return findRepeatUnproven(text, value, eventDepth);
}

/**
 * {@link findRepeat} for a caller that has tried {@link provablyCanonical} already and got false:
 * the same verdict, without that proof attempted again.
 *
 * @param text - JSON text that `JSON.parse` accepts
 * @param value - what `JSON.parse(text)` returned (not modified since)
 * @param eventDepth - as for {@link scanJsonText}
 * @returns the first finding in text order, or undefined
 */
export function findRepeatUnproven(text: string, value: unknown, eventDepth: 0 | 1 | 2): ScanFinding | undefined {
  if (!hasNumberAttribute(value, eventDepth)) {
    const keys = parsedKeyCount(value);
    if (keys >= 0 && keys === countMemberNames(text)) return undefined;
  }
  return scanJsonText(text, eventDepth);
}

/** Whether a number literal is written as `JSON.stringify` writes the number it stands for. */
function canonicalNumber(text: string, start: number, end: number): boolean {
  let i = start;
  if (text.charCodeAt(i) === 45 /* - */) i++;
  let digits = true;
  for (let k = i; k < end; k++) {
    const c = text.charCodeAt(k);
    if (c < 48 || c > 57) {
      digits = false;
      break;
    }
  }
  // An integer of up to 15 digits is exact and written as is; "-0" is written "0".
  if (digits && end - i <= 15 && end > i) return !(i > start && end - i === 1 && text.charCodeAt(i) === 48);
  const literal = text.slice(start, end);
  return String(Number(literal)) === literal;
}

/**
 * Reads data text that `JSON.parse` accepted in one pass: the number of member names at every
 * depth (for {@link parsedKeyCount}), or -1 when the text is not exactly what `JSON.stringify`
 * writes for its value, so that it cannot stand in for `JSON.stringify(JSON.parse(text))`.
 *
 * Canonical means: no whitespace between tokens; in strings, only the escapes `JSON.stringify`
 * writes for `"`, `\` and the control characters it names (`\b \f \n \r \t`), and no lone
 * surrogate; numbers as `Number#toString` writes them; no member name that starts with a digit
 * (an array-index name would be moved to the front of its object). Anything else is refused, not
 * judged: the caller then stringifies.
 *
 * @param text - JSON text that `JSON.parse` accepts
 * @returns the number of member names, or -1
 */
export function canonicalMemberNames(text: string): number {
  const n = text.length;
  let names = 0;
  let backslash = -1;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      if (backslash < i) backslash = nextBackslash(text, i);
      const j = stringEnd(text, i, backslash);
      if (j === -1) return -1;
      // Escapes: only those JSON.stringify writes itself (\u and \/ are refused).
      for (let b = backslash; b < j; ) {
        const e = text.charCodeAt(b + 1);
        if (e !== QUOTE && e !== BACKSLASH && e !== 98 && e !== 102 && e !== 110 && e !== 114 && e !== 116) return -1;
        b = text.indexOf("\\", b + 2);
        if (b === -1) b = n;
      }
      if (backslash < j) backslash = nextBackslash(text, j);
      if (j + 1 < n && text.charCodeAt(j + 1) === COLON) {
        const first = text.charCodeAt(i + 1);
        if (first >= 48 && first <= 57) return -1;
        names++;
        i = j + 2;
      } else {
        i = j + 1;
      }
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      if (!canonicalNumber(text, i, j)) return -1;
      i = j;
      continue;
    }
    // Structure and the letters of true, false and null; whitespace is not canonical.
    if (c <= 32) return -1;
    i++;
  }
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed() ? names : -1;
}
