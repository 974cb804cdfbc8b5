/**
 * The runtime helpers that ajv's standalone code calls. The generator rewrites ajv's
 * `require("ajv/dist/runtime/…")` calls to imports of this module, so the published package needs
 * neither ajv nor `require()` at run time (ajv issues 1976 and 2598).
 */

/**
 * Counts the Unicode code points of a string, as JSON Schema `minLength` and `maxLength` require
 * (a surrogate pair is one character).
 *
 * @param value - the string to measure
 * @returns its length in code points
 */
export function ucs2length(value: string): number {
  const length = value.length;
  let count = 0;
  let pos = 0;
  while (pos < length) {
    count++;
    const code = value.charCodeAt(pos++);
    if (code >= 0xd800 && code <= 0xdbff && pos < length) {
      const next = value.charCodeAt(pos);
      if ((next & 0xfc00) === 0xdc00) pos++;
    }
  }
  return count;
}
