import { hash } from "node:crypto";

/**
 * The namespace of Millwright event ids: UUIDv5 of "https://schemas.millwright.dev/v1/events" in
 * the RFC 9562 URL namespace. Fixed forever: changing it would change every event id.
 */
export const MILLWRIGHT_NAMESPACE = "340c4b2c-6c3d-575c-9d84-05bc156864c5";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const namespaceBytes = new Map<string, Buffer>();
let scratch = Buffer.allocUnsafe(1024);

function bytesOf(namespace: string): Buffer {
  let bytes = namespaceBytes.get(namespace);
  if (bytes === undefined) {
    if (!UUID.test(namespace)) throw new TypeError(`uuidV5: namespace ${JSON.stringify(namespace)} is not a UUID`);
    bytes = Buffer.from(namespace.replace(/-/g, ""), "hex");
    namespaceBytes.set(namespace, bytes);
  }
  return bytes;
}

/**
 * Derives a name-based UUID (version 5, SHA-1; RFC 9562 §5.5) from a namespace UUID and a name.
 * The same namespace and name always give the same UUID.
 *
 * @param namespace - the namespace UUID, such as {@link MILLWRIGHT_NAMESPACE}
 * @param name - the name, hashed as its UTF-8 bytes
 * @returns the UUID in lower-case 8-4-4-4-12 form
 * @example
 * uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com"); // "2ed6657d-e927-568b-95e1-2665a8aea6a2"
 */
export function uuidV5(namespace: string, name: string): string {
  const ns = bytesOf(namespace);
  // Room for the namespace, the name's UTF-8 (at most 3 bytes a UTF-16 unit) and SHA-1's padding.
  const room = 16 + name.length * 3 + 72;
  if (scratch.length < room) scratch = Buffer.allocUnsafe(Math.max(room, scratch.length * 2));
  for (let i = 0; i < 16; i++) scratch[i] = ns[i] as number;
  let length = 16;
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (unit >= 0x80) {
      length = 16 + scratch.write(name, 16, "utf8");
      break;
    }
    scratch[length++] = unit;
  }
  // Short names (every event id) are hashed here: a native call per id costs more than the hash
  // itself. Long ones go to `crypto.hash`.
  const digest = length <= SHORT_NAME ? sha1(scratch, length) : (hash("sha1", scratch.subarray(0, length), "buffer") as unknown as Buffer);
  // RFC 9562 §5.5: version 5 in the high nibble of byte 6, variant 10 in the high bits of byte 8.
  digest[6] = ((digest[6] as number) & 0x0f) | 0x50;
  digest[8] = ((digest[8] as number) & 0x3f) | 0x80;
  // Written into one buffer and read as one string: a flat 36-character string, not a tree of
  // concatenations (an event keeps its id as long as it lives).
  let at = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = 45; // -
    const byte = digest[i] as number;
    text[at++] = HEX[byte >> 4] as number;
    text[at++] = HEX[byte & 0x0f] as number;
  }
  return text.toString("latin1", 0, 36);
}

const HEX = Buffer.from("0123456789abcdef", "latin1");
const text = Buffer.alloc(36);

/** Names up to this many bytes (with the namespace) are hashed by {@link sha1}. */
const SHORT_NAME = 1024;
const words = new Int32Array(80);
const digestBytes = new Uint8Array(20);

/**
 * SHA-1 (FIPS 180-4) of `buffer[0, length)`, padding in place (the buffer has 72 bytes of room
 * after `length`). Returns a shared 20-byte array, overwritten by the next call.
 */
function sha1(buffer: Uint8Array, length: number): Uint8Array {
  const bits = length * 8;
  let end = length;
  buffer[end++] = 0x80;
  while (end % 64 !== 56) buffer[end++] = 0;
  // The length in bits, big-endian 64 bits (the high word is 0 below 512 MB).
  buffer[end++] = 0;
  buffer[end++] = 0;
  buffer[end++] = 0;
  buffer[end++] = 0;
  buffer[end++] = bits >>> 24;
  buffer[end++] = (bits >>> 16) & 0xff;
  buffer[end++] = (bits >>> 8) & 0xff;
  buffer[end++] = bits & 0xff;
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  const w = words;
  for (let block = 0; block < end; block += 64) {
    for (let i = 0; i < 16; i++) {
      const j = block + i * 4;
      w[i] = ((buffer[j] as number) << 24) | ((buffer[j + 1] as number) << 16) | ((buffer[j + 2] as number) << 8) | (buffer[j + 3] as number);
    }
    for (let i = 16; i < 80; i++) {
      const x = (w[i - 3] as number) ^ (w[i - 8] as number) ^ (w[i - 14] as number) ^ (w[i - 16] as number);
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + (w[i] as number)) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const out = digestBytes;
  writeWord(out, 0, h0);
  writeWord(out, 4, h1);
  writeWord(out, 8, h2);
  writeWord(out, 12, h3);
  writeWord(out, 16, h4);
  return out;
}

function writeWord(out: Uint8Array, at: number, word: number): void {
  out[at] = word >>> 24;
  out[at + 1] = (word >>> 16) & 0xff;
  out[at + 2] = (word >>> 8) & 0xff;
  out[at + 3] = word & 0xff;
}
