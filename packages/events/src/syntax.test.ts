import { describe, expect, it } from "vitest";
import { forbiddenCharacterAt, isAbsoluteUri, isJsonMediaType, isMediaType, isTimestamp, isTraceparent, isTracestate, isUriReference } from "./syntax.js";

describe("attribute syntax", () => {
  it("finds control characters, noncharacters and lone surrogates (core Type System, String)", () => {
    expect(forbiddenCharacterAt("plain ASCII, é, 😀")).toBe(-1);
    for (const bad of ["\u0000", "\u001f", "\u007f", "\u0085", "\u009f", "\ufdd0", "\ufdef", "\ufffe", "\uffff", "\u{1fffe}", "\u{10ffff}", "\ud800", "\udc00", "\ud83da"]) {
      expect(forbiddenCharacterAt(`x${bad}`), JSON.stringify(bad)).toBe(1);
    }
  });

  it("checks URI-references and absolute URIs (RFC 3986 §4.1, §4.3)", () => {
    for (const ok of ["urn:millwright:sap:S4PCLNT100", "https://example.com/a?b=c#d", "/relative/path", "a/b", "//host/x", "#frag", ""]) expect(isUriReference(ok), ok).toBe(true);
    for (const bad of ["a b", "1abc:x", "http://x/%zz", "a:b:c d", "x\u00e9"]) expect(isUriReference(bad), bad).toBe(false);
    expect(isAbsoluteUri("https://schemas.millwright.dev/v1/events/x.schema.json")).toBe(true);
    for (const bad of ["/schemas/x", "schemas/x", "https://x/y#frag", ""]) expect(isAbsoluteUri(bad), bad).toBe(false);
  });

  it("checks RFC 3339 timestamps", () => {
    for (const ok of ["2026-03-01T06:00:00Z", "2026-03-01t06:00:00z", "2024-04-14T11:12:33.123456+02:00", "2016-12-31T23:59:60Z", "2028-02-29T00:00:00-08:00"]) expect(isTimestamp(ok), ok).toBe(true);
    for (const bad of ["2026-03-01 06:00:00Z", "2026-03-01T06:00:00", "2026-02-30T00:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T06:00Z", "2026-03-01T06:00:00+0100"]) expect(isTimestamp(bad), bad).toBe(false);
  });

  it("checks RFC 2046 media types and recognises JSON ones case-insensitively", () => {
    for (const ok of ["application/json", "TEXT/Plain; CharSet=utf-8", 'multipart/mixed; boundary="a b"', "application/vnd.x+json;v=1"]) expect(isMediaType(ok), ok).toBe(true);
    for (const bad of ["json", "application/", "/json", "application/json;", "application/json; charset", "a b/c"]) expect(isMediaType(bad), bad).toBe(false);
    expect(isJsonMediaType("Application/JSON; charset=utf-8")).toBe(true);
    expect(isJsonMediaType("application/cloudevents+json")).toBe(true);
    expect(isJsonMediaType("text/json")).toBe(true);
    expect(isJsonMediaType("text/plain")).toBe(false);
  });

  it("checks W3C trace context", () => {
    expect(isTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toBe(true);
    expect(isTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future")).toBe(true);
    for (const bad of ["00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"]) {
      expect(isTraceparent(bad), bad).toBe(false);
    }
    expect(isTracestate("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")).toBe(true);
    expect(isTracestate("Bad=1")).toBe(false);
  });
});
