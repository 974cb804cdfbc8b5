// Text that the command prints comes, in part, from its input: file names, JSON.parse messages that
// quote the input, names from a schema bundle. A terminal obeys escape sequences wherever they come
// from, so every printed character that is not plain text is written as a visible escape, and every
// value is bounded.

/**
 * C0 and C1 controls, DEL, line and paragraph separators, bidirectional overrides and isolates,
 * zero-width and byte-order marks, and lone surrogates: characters that move the cursor, change
 * what the terminal shows, or are invisible.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const UNSAFE_EXCEPT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * Writes every control, invisible or direction-changing character as a `\uXXXX` escape, so text
 * from the input cannot drive the terminal. Inside JSON text the escapes are JSON escapes, so a
 * JSON line stays the same JSON.
 *
 * @param text - the text to print
 * @param keepNewlines - keep line feeds (for multi-line reports the command itself lays out)
 * @returns the text with those characters escaped
 * @example
 * escapeControls("a\u001b[2Jb"); // "a\\u001b[2Jb"
 */
export function escapeControls(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? UNSAFE_EXCEPT_NEWLINE : UNSAFE, escapeChar);
}

/**
 * Cuts text to at most `max` characters (not splitting a surrogate pair), saying how much was cut.
 *
 * @param text - the text
 * @param max - the most characters to keep
 * @returns the text, or its start and the number of characters left out
 * @example
 * boundText("x".repeat(1000), 10); // "xxxxxxxxxx… (990 more characters)"
 */
export function boundText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\ud800-\udbff]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}… (${text.length - end} more characters)`;
}

/**
 * Shows a value in a message: JSON, escaped and cut to `max` characters.
 *
 * @param value - the value
 * @param max - the most characters to show
 * @returns a short, printable rendering
 * @example
 * previewValue("a\nb"); // "\"a\\nb\""
 */
export function previewValue(value: unknown, max = 80): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return escapeControls(boundText(text, max));
}
