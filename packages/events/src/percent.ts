/**
 * Percent-encoding of HTTP header values (HTTP binding §3.1.3.2): space, `"`, `%` and every
 * character outside U+0021–U+007E are written as `%XY` over their UTF-8 bytes.
 */

const PLAIN = /^[\x21\x23\x24\x26-\x7e]*$/;
const HEX = "0123456789ABCDEF";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Percent-encodes a string for an HTTP `ce-` header value, upper-case hex over UTF-8 bytes.
 *
 * @param value - the attribute value as a string
 * @returns the header value
 * @example
 * encodeHeaderValue("Euro € 😀"); // "Euro%20%E2%82%AC%20%F0%9F%98%80"
 */
export function encodeHeaderValue(value: string): string {
  if (PLAIN.test(value)) return value;
  let out = "";
  for (const byte of encoder.encode(value)) {
    if (byte >= 0x21 && byte <= 0x7e && byte !== 0x22 && byte !== 0x25) out += String.fromCharCode(byte);
    else out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Decodes an HTTP `ce-` header value: unquotes an RFC 7230 quoted-string, then does exactly one
 * round of percent-decoding (lower-case hex accepted) and reads the bytes as UTF-8, rejecting
 * invalid UTF-8 such as `%C0%A0`.
 *
 * @param value - the header value as received (ISO-8859-1 characters)
 * @returns the attribute value, or undefined when the value cannot be decoded
 * @example
 * decodeHeaderValue("Euro%20%E2%82%AC%20%F0%9F%98%80"); // "Euro € 😀"
 */
export function decodeHeaderValue(value: string): string | undefined {
  let text = value;
  if (text.length >= 2 && text.charCodeAt(0) === 34 && text.charCodeAt(text.length - 1) === 34) {
    text = text.slice(1, -1).replace(/\\([\s\S])/g, "$1");
  }
  if (!text.includes("%") && PLAIN.test(text)) return text;
  const bytes = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 37 /* % */) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi === -1 || lo === -1) return undefined;
      bytes[n++] = hi * 16 + lo;
      i += 2;
    } else if (c > 0xff) {
      return undefined;
    } else {
      bytes[n++] = c;
    }
  }
  try {
    return decoder.decode(bytes.subarray(0, n));
  } catch {
    return undefined;
  }
}
