import { describe, expect, it } from "vitest";
import { decodeHeaderValue, encodeHeaderValue } from "./percent.js";

describe("HTTP header percent-encoding (HTTP binding §3.1.3.2)", () => {
  it("encodes the spec's example", () => {
    expect(encodeHeaderValue("Euro € 😀")).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
    expect(decodeHeaderValue("Euro%20%E2%82%AC%20%F0%9F%98%80")).toBe("Euro € 😀");
  });

  it("encodes space, double quote and percent, and nothing else printable", () => {
    expect(encodeHeaderValue('a "b" 100%')).toBe("a%20%22b%22%20100%25");
    expect(encodeHeaderValue("urn:x/y?z=1&w#f")).toBe("urn:x/y?z=1&w#f");
  });

  it("accepts lower-case hex and unnecessary encodings, decoding exactly once", () => {
    expect(decodeHeaderValue("%e2%82%ac")).toBe("€");
    expect(decodeHeaderValue("%41%42")).toBe("AB");
    expect(decodeHeaderValue("%2541")).toBe("%41");
  });

  it("unquotes an RFC 7230 quoted-string first", () => {
    expect(decodeHeaderValue('"Euro%20%E2%82%AC"')).toBe("Euro €");
    expect(decodeHeaderValue('"a\\"b"')).toBe('a"b');
  });

  it("rejects invalid UTF-8 and broken escapes", () => {
    expect(decodeHeaderValue("%C0%A0")).toBeUndefined();
    expect(decodeHeaderValue("%E2%82")).toBeUndefined();
    expect(decodeHeaderValue("%zz")).toBeUndefined();
    expect(decodeHeaderValue("50%")).toBeUndefined();
    expect(decodeHeaderValue("€")).toBeUndefined();
  });
});
