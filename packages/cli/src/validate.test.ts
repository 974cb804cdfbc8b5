import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isUtf8 } from "node:buffer";
import { packLineEvent } from "../test/machine-state-event.js";
import { arrayElements, arrayElementTexts, fileChunks, readLineBytes, readTextBatches, validateNdjson, validateNdjsonCounts, type RecordResult } from "./validate.js";

/** The lines a reader must yield: split on LF, one CR before it dropped, a leading BOM dropped, no empty tail. */
function expectedLines(bytes: Buffer): Buffer[] {
  let all = bytes;
  if (all[0] === 0xef && all[1] === 0xbb && all[2] === 0xbf) all = all.subarray(3);
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = all.indexOf(10); i !== -1; i = all.indexOf(10, start)) {
    lines.push(all.subarray(start, i));
    start = i + 1;
  }
  if (start < all.length) lines.push(all.subarray(start));
  return lines.map((l) => (l[l.length - 1] === 13 ? l.subarray(0, -1) : l));
}

async function collect(chunks: readonly Buffer[]): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLineBytes(Readable.from(chunks))) out.push(line.toString("hex"));
  return out;
}

async function collectText(chunks: readonly Buffer[]): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for await (const lines of readTextBatches(Readable.from(chunks))) for (const line of lines) out.push(line ?? null);
  return out;
}

/** Cuts bytes into chunks at the given points. */
function cut(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    if (p > from) chunks.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  return chunks;
}

describe("readTextBatches", () => {
  test("yields each line's text, or null for a line that is not UTF-8, however the bytes are cut into chunks", async () => {
    // Bytes that are not UTF-8 on their own (a lone continuation byte, a cut sequence, 0xff) among text.
    const part = fc.constantFrom<Buffer>(...["a", "\n", "\r\n", "\r", "é", "😀", "\ufeff", " ", "{}"].map((t) => Buffer.from(t, "utf8")), Buffer.from([0x80]), Buffer.from([0xe2, 0x82]), Buffer.from([0xff]));
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(part, { maxLength: 40 }), fc.array(fc.nat(60), { maxLength: 6 }), async (bom, parts, cuts) => {
        const bytes = Buffer.concat([Buffer.from(bom ? "\ufeff" : "", "utf8"), ...parts]);
        const expected = expectedLines(bytes).map((l) => (isUtf8(l) ? l.toString("utf8") : null));
        expect(await collectText(cut(bytes, cuts))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe("readLineBytes", () => {
  test("yields the same lines however the bytes are cut into chunks (BOM, CRLF, multi-byte characters across cuts)", async () => {
    const text = fc.array(fc.constantFrom("a", "\n", "\r\n", "\r", "é", "😀", "\ufeff", " ", "{}"), { maxLength: 40 }).map((parts) => parts.join(""));
    await fc.assert(
      fc.asyncProperty(fc.boolean(), text, fc.array(fc.nat(60), { maxLength: 6 }), async (bom, body, cuts) => {
        const bytes = Buffer.from(`${bom ? "\ufeff" : ""}${body}`, "utf8");
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let from = 0;
        for (const p of [...points, bytes.length]) {
          if (p > from) chunks.push(bytes.subarray(from, p));
          from = Math.max(from, p);
        }
        expect(await collect(chunks)).toEqual(expectedLines(bytes).map((l) => l.toString("hex")));
      }),
      { numRuns: 300 },
    );
  });
});

describe("arrayElementTexts", () => {
  test("each element's text, as written, parses to that element (any JSON array, any spacing)", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 6 }), fc.constantFrom(0, 1, 2, "\t"), (value, space) => {
        const text = JSON.stringify(value, null, space);
        const elements = arrayElementTexts(text);
        expect(elements.map((e) => JSON.parse(e) as unknown)).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  test("each element's offset is where its text starts in the array's text", () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 6 }), fc.constantFrom(0, 2, "\t"), (value, space) => {
        const text = JSON.stringify(value, null, space);
        for (const e of arrayElements(text)) expect(text.slice(e.offset, e.offset + e.text.length)).toBe(e.text);
      }),
      { numRuns: 300 },
    );
  });

  test("keeps an element's text exactly, including what re-serialising would change", () => {
    expect(arrayElementTexts(' [ {"a":1.0,"a":2} , "x\\"]," ,\n[1 ,2] , -0e0 ]')).toEqual(['{"a":1.0,"a":2}', '"x\\"],"', "[1 ,2]", "-0e0"]);
    expect(arrayElementTexts("[]")).toEqual([]);
  });
});

describe("validateNdjsonCounts", () => {
  const event = packLineEvent("urn:test", "7");
  const badData = event.replace('"executing"', '"busy"');
  const badEnvelope = event.replace('"specversion":"1.0"', '"specversion":"2.0"');
  const lines = [event, badData, "", "  ", `${event}\r`, "{not json", `[${event},${event}]`, `[${event},${badEnvelope}]`, `\ufeff${event}`, '{"a":1}', "[]", "[1"];
  const line = fc.oneof(
    fc.constantFrom(...lines.map((l) => Buffer.from(l, "utf8"))),
    fc.constant(Buffer.concat([Buffer.from('{"specversion":"1.0","id":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])),
  );

  test("counts every record and carries exactly the invalid results validateNdjson yields, however the bytes are cut", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 12 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), async (parts, finalBreak, cuts) => {
        const bytes = Buffer.concat(parts.flatMap((p, i) => (i < parts.length - 1 || finalBreak ? [p, Buffer.from("\n")] : [p])));
        const all: RecordResult[] = [];
        for await (const r of validateNdjson(Readable.from(cut(bytes, cuts)), "in.ndjson", {})) all.push(r);
        let records = 0;
        const invalid: RecordResult[] = [];
        for await (const batch of validateNdjsonCounts(Readable.from(cut(bytes, cuts)), "in.ndjson", {})) {
          records += batch.records;
          invalid.push(...batch.results);
        }
        expect(records).toBe(all.length);
        expect(invalid).toEqual(all.filter((r) => !r.valid));
      }),
      { numRuns: 150 },
    );
  });
});

describe("fileChunks", () => {
  test("a file of several chunks reads back whole through the line reader, lines across chunk ends included; a reader that stops early closes it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "millwright-chunks-"));
    try {
      // About 2.6 MB (three reads), with lines of many lengths, CRLF, non-ASCII and bytes that are not UTF-8.
      const parts: Buffer[] = [];
      for (let i = 0; parts.length < 40_000; i++) {
        parts.push(Buffer.from(`${"x".repeat(i % 97)}é${i}${i % 5 === 0 ? "\r" : ""}\n`, "utf8"));
        if (i % 1000 === 0) parts.push(Buffer.from([0x80, 0x0a]));
      }
      const bytes = Buffer.concat(parts);
      expect(bytes.length).toBeGreaterThan(2 << 20);
      const file = join(dir, "big.ndjson");
      writeFileSync(file, bytes);
      const read: (string | null)[] = [];
      for await (const lines of readTextBatches(fileChunks(file))) for (const line of lines) read.push(line ?? null);
      expect(read).toEqual(expectedLines(bytes).map((l) => (isUtf8(l) ? l.toString("utf8") : null)));
      // Stops after the first chunk: the read under way ends and the file closes (no error, no leak).
      for await (const chunk of fileChunks(file)) {
        expect(chunk.length).toBe(1 << 20);
        break;
      }
      await expect(fileChunks(join(dir, "missing.ndjson")).next()).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
