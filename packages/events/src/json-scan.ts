/**
 * A raw-text pass over JSON that `JSON.parse` cannot do: it finds member names repeated in one
 * event object (JSON.parse silently keeps the last) and attribute numbers written with a fraction
 * or an exponent (an Integer has neither). Strings are skipped with `indexOf`, so the pass is
 * cheap next to `JSON.parse`. Malformed text is left for `JSON.parse` to report.
 */

/** What the scan found wrong, with the event's index in a batch (-1 for a single event). */
export interface ScanFinding {
  readonly kind: "duplicate" | "number";
  readonly index: number;
  readonly name: string;
  readonly value: string;
}

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69;
}

/**
 * Scans JSON text for repeated member names and non-integer numbers among the members of the
 * event objects: the top-level object (`eventDepth` 1) or the elements of a top-level array (2).
 */
export function scanJsonText(text: string, eventDepth: 1 | 2): ScanFinding | undefined {
  const n = text.length;
  let depth = 0;
  let index = -1;
  let expectName = false;
  let name = "";
  let seen: Set<string> | undefined;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j === -1) return undefined;
        let k = j - 1;
        while (text.charCodeAt(k) === 92 /* \ */) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j++;
      }
      if (depth === eventDepth && expectName) {
        let key = text.slice(i + 1, j);
        if (key.includes("\\")) {
          try {
            key = JSON.parse(text.slice(i, j + 1)) as string;
          } catch {
            return undefined;
          }
        }
        seen ??= new Set();
        if (seen.has(key)) return { kind: "duplicate", index, name: key, value: key };
        seen.add(key);
        name = key;
        expectName = false;
      }
      i = j + 1;
      continue;
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      depth++;
      if (depth === eventDepth && c === 123) {
        expectName = true;
        seen = undefined;
        if (eventDepth === 2) index++;
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
    } else if (c === 44 /* , */) {
      if (depth === eventDepth) expectName = true;
    } else if (depth === eventDepth && (c === 45 || (c >= 48 && c <= 57))) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      const literal = text.slice(i, j);
      if (name !== "data" && /[.eE]/.test(literal)) return { kind: "number", index, name, value: literal };
      i = j;
      continue;
    }
    i++;
  }
  return undefined;
}
