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
  let length = 16;
  let ascii = true;
  let i = 0;
  // A name whose first block is the one hashed last needs only its bytes after that block.
  const reuse = namespace === prefixNamespace && name.length > 48 && 16 + name.length <= SHORT_NAME && name.startsWith(prefixName);
  if (reuse) {
    length = 64;
    i = 48;
  } else for (let b = 0; b < 16; b++) scratch[b] = ns[b] as number;
  for (; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (unit >= 0x80) {
      if (reuse) for (let b = 0; b < 16; b++) scratch[b] = ns[b] as number;
      length = 16 + scratch.write(name, 16, "utf8");
      ascii = false;
      break;
    }
    scratch[length++] = unit;
  }
  // Short names (every event id) are hashed here: a native call per id costs more than the hash
  // itself. Long ones go to `crypto.hash`.
  let digest: Uint8Array;
  if (length > SHORT_NAME) digest = hash("sha1", scratch.subarray(0, length), "buffer") as unknown as Buffer;
  else if (ascii && length > 64) {
    // The first 64-byte block (namespace and the name's first 48 characters: an event id's type
    // and most of its source) repeats from id to id: its hash state is kept and reused.
    if (!reuse) {
      sha1Blocks(scratch, 0, 64, INITIAL, prefixState);
      prefixNamespace = namespace;
      prefixName = name.slice(0, 48);
    }
    digest = sha1(scratch, length, prefixState, 64);
  } else digest = sha1(scratch, length, INITIAL, 0);
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

/** SHA-1's initial hash state (FIPS 180-4 §5.3.1). */
const INITIAL = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0);
/** The hash state after the first block of the last long ASCII name, and what that block held. */
const prefixState = new Int32Array(5);
let prefixNamespace = "";
let prefixName = ""; // set with prefixNamespace, which no namespace (a UUID) equals before
const state = new Int32Array(5);

/**
 * SHA-1 (FIPS 180-4) of `buffer[0, length)`, padding in place (the buffer has 72 bytes of room
 * after `length`), starting from `initial`, the state after the first `from` bytes (a multiple of
 * 64). Returns a shared 20-byte array, overwritten by the next call.
 */
function sha1(buffer: Uint8Array, length: number, initial: Int32Array, from: number): Uint8Array {
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
  state.set(initial);
  sha1Blocks(buffer, from, end, state, state);
  const out = digestBytes;
  writeWord(out, 0, state[0] as number);
  writeWord(out, 4, state[1] as number);
  writeWord(out, 8, state[2] as number);
  writeWord(out, 12, state[3] as number);
  writeWord(out, 16, state[4] as number);
  return out;
}

/** Runs SHA-1's compression over the 64-byte blocks of `buffer[start, end)` from state `h`, into `out`. */
function sha1Blocks(buffer: Uint8Array, start: number, end: number, h: Int32Array, out: Int32Array): void {
  let h0 = h[0] as number;
  let h1 = h[1] as number;
  let h2 = h[2] as number;
  let h3 = h[3] as number;
  let h4 = h[4] as number;
  const w = words;
  for (let block = start; block < end; block += 64) {
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
  out[0] = h0;
  out[1] = h1;
  out[2] = h2;
  out[3] = h3;
  out[4] = h4;
}

function writeWord(out: Uint8Array, at: number, word: number): void {
  out[at] = word >>> 24;
  out[at + 1] = (word >>> 16) & 0xff;
  out[at + 2] = (word >>> 8) & 0xff;
  out[at + 3] = word & 0xff;
}
