// Where in the text a JSON Pointer lands, so that an issue is reported at its line and column.

/** The end of the JSON string whose opening quote is at `start`: the index of its closing quote. */
export function stringEnd(text: string, start: number): number {
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

function skipSpace(text: string, i: number): number {
  let j = i;
  for (;;) {
    const c = text.charCodeAt(j);
    if (c === 32 || c === 9 || c === 10 || c === 13) j++;
    else return j;
  }
}

/** The index just after the JSON value that starts at `i`. */
function valueEnd(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 34 /* " */) return stringEnd(text, i) + 1;
  if (c !== 123 /* { */ && c !== 91 /* [ */) {
    let j = i;
    while (j < text.length && !/[\s,\]}]/.test(text.charAt(j))) j++;
    return j;
  }
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const d = text.charCodeAt(j);
    if (d === 34) j = stringEnd(text, j);
    else if (d === 123 || d === 91) depth++;
    else if (d === 125 || d === 93) {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return text.length;
}

function pointerSegments(pointer: string): string[] {
  return pointer === "" ? [] : pointer.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/**
 * The offset in `text` where a JSON Pointer lands: the start of the value it names, or of the
 * member's name with `at: "name"`. A pointer that goes further than the text (a missing property)
 * lands on the deepest value that exists. A repeated member name lands on its last occurrence,
 * the one `JSON.parse` keeps. `text` should be JSON; on text that is not, the result is still an
 * offset inside it.
 *
 * @param text - the JSON text
 * @param pointer - an RFC 6901 JSON Pointer
 * @param at - whether to land on the value or, for a member, on its name
 * @returns an offset into `text`
 * @example
 * locatePointer('{"a": {"b": 1}}', "/a/b"); // 12
 */
export function locatePointer(text: string, pointer: string, at: "value" | "name" = "value"): number {
  const segments = pointerSegments(pointer);
  let i = skipSpace(text, 0);
  for (let s = 0; s < segments.length; s++) {
    const segment = segments[s] as string;
    const last = s === segments.length - 1;
    const open = text.charCodeAt(i);
    if (open === 123 /* { */) {
      let found: { name: number; value: number } | undefined;
      let j = skipSpace(text, i + 1);
      while (j < text.length && text.charCodeAt(j) === 34) {
        const nameEnd = stringEnd(text, j);
        let name: unknown;
        try {
          name = JSON.parse(text.slice(j, nameEnd + 1));
        } catch {
          return i;
        }
        const value = skipSpace(text, skipSpace(text, nameEnd + 1) + 1);
        if (name === segment) found = { name: j, value };
        j = skipSpace(text, valueEnd(text, value));
        if (text.charCodeAt(j) !== 44 /* , */) break;
        j = skipSpace(text, j + 1);
      }
      if (found === undefined) return i;
      if (last && at === "name") return found.name;
      i = found.value;
    } else if (open === 91 /* [ */) {
      if (!/^(0|[1-9][0-9]*)$/.test(segment)) return i;
      const index = Number(segment);
      let j = skipSpace(text, i + 1);
      let k = 0;
      while (k < index && j < text.length && text.charCodeAt(j) !== 93) {
        j = skipSpace(text, valueEnd(text, j));
        if (text.charCodeAt(j) !== 44) return i;
        j = skipSpace(text, j + 1);
        k++;
      }
      if (j >= text.length || text.charCodeAt(j) === 93) return i;
      i = j;
    } else return i;
  }
  return i;
}

/** Line starts of a text, found once, to turn many offsets into lines and columns. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) this.starts.push(i + 1);
  }

  /**
   * The 1-based line and column of an offset; the column counts UTF-16 code units, as editors do.
   *
   * @param offset - an offset into the text
   * @returns its line and column
   */
  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.starts[lo] as number) + 1 };
  }
}
