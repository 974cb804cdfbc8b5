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
  // One-shot `crypto.hash` over a reused buffer is several times faster than createHash for short names.
  const needed = 16 + Buffer.byteLength(name, "utf8");
  if (scratch.length < needed) scratch = Buffer.allocUnsafe(Math.max(needed, scratch.length * 2));
  bytesOf(namespace).copy(scratch, 0);
  scratch.write(name, 16, "utf8");
  const digest = hash("sha1", scratch.subarray(0, needed), "buffer") as unknown as Buffer;
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
