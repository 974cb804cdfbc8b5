import { isCalendarDate } from "@millwright/model";

/**
 * Syntax checks for CloudEvents attribute values, hand-written so that the envelope is checked
 * without a schema engine. Each one is the single definition used by every entry path.
 */

// C0 and C1 controls, Unicode noncharacters, and (in a `u` regex) unpaired surrogates.
const FORBIDDEN_CHARACTER = /[\p{Cc}\p{Noncharacter_Code_Point}\p{Cs}]/u;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** The index of the first character a CloudEvents String must not contain, or -1. */
export function forbiddenCharacterAt(value: string): number {
  if (PRINTABLE_ASCII.test(value)) return -1;
  const m = FORBIDDEN_CHARACTER.exec(value);
  return m === null ? -1 : m.index;
}

const HEX2 = "%[0-9A-Fa-f]{2}";
const UNRESERVED_SUB = "A-Za-z0-9\\-._~!$&'()*+,;=";
const PCHAR = `(?:[${UNRESERVED_SUB}:@]|${HEX2})`;
const SEGMENT = `${PCHAR}*`;
const SEGMENT_NZ = `${PCHAR}+`;
const SEGMENT_NZ_NC = `(?:[${UNRESERVED_SUB}@]|${HEX2})+`;
const QUERY = `(?:${PCHAR}|[/?])*`;
const SCHEME = "[A-Za-z][A-Za-z0-9+.\\-]*";
const USERINFO = `(?:[${UNRESERVED_SUB}:]|${HEX2})*`;
const IP_LITERAL = `\\[(?:[0-9A-Fa-f:.]+|[vV][0-9A-Fa-f]+\\.[${UNRESERVED_SUB}:]+)\\]`;
const REG_NAME = `(?:[${UNRESERVED_SUB}]|${HEX2})*`;
const AUTHORITY = `(?:${USERINFO}@)?(?:${IP_LITERAL}|${REG_NAME})(?::[0-9]*)?`;
const PATH_ABEMPTY = `(?:/${SEGMENT})*`;
const PATH_ABSOLUTE = `/(?:${SEGMENT_NZ}(?:/${SEGMENT})*)?`;
const PATH_ROOTLESS = `${SEGMENT_NZ}(?:/${SEGMENT})*`;
const PATH_NOSCHEME = `${SEGMENT_NZ_NC}(?:/${SEGMENT})*`;
const HIER_PART = `(?://${AUTHORITY}${PATH_ABEMPTY}|${PATH_ABSOLUTE}|${PATH_ROOTLESS}|)`;
const RELATIVE_PART = `(?://${AUTHORITY}${PATH_ABEMPTY}|${PATH_ABSOLUTE}|${PATH_NOSCHEME}|)`;

const ABSOLUTE_URI = new RegExp(`^${SCHEME}:${HIER_PART}(?:\\?${QUERY})?$`);
const URI_REFERENCE = new RegExp(
  `^(?:${SCHEME}:${HIER_PART}(?:\\?${QUERY})?(?:#${QUERY})?|${RELATIVE_PART}(?:\\?${QUERY})?(?:#${QUERY})?)$`,
);

/** Whether a string is an absolute URI (RFC 3986 §4.3: a scheme, no fragment). */
export function isAbsoluteUri(value: string): boolean {
  return ABSOLUTE_URI.test(value);
}

/** Whether a string is a URI-reference (RFC 3986 §4.1): an absolute URI or a relative reference. */
export function isUriReference(value: string): boolean {
  return URI_REFERENCE.test(value);
}

// RFC 3339 §5.6: `T` and `Z` may be lower case; a leap second is :60; an offset is required.
const TIMESTAMP =
  /^\d{4}-\d{2}-\d{2}[Tt](?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** Whether a string is an RFC 3339 date-time naming a real calendar day. */
export function isTimestamp(value: string): boolean {
  return TIMESTAMP.test(value) && isCalendarDate(value.slice(0, 10));
}

// RFC 2045 token and quoted-string; RFC 7231 allows white space around `;`.
const TOKEN = "[!#$%&'*+\\-.0-9A-Z^_`a-z{|}~]+";
const QUOTED = '"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t\\x20-\\x7e])*"';
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED}))*$`);

/** Whether a string is a media type in RFC 2046 syntax: `type/subtype` with optional parameters. */
export function isMediaType(value: string): boolean {
  return MEDIA_TYPE.test(value);
}

/**
 * Whether a media type names JSON: `*\/json` or `*\/*+json` after stripping parameters, compared
 * case-insensitively (JSON format §3.1).
 */
export function isJsonMediaType(value: string): boolean {
  const semicolon = value.indexOf(";");
  const essence = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const slash = essence.indexOf("/");
  const subtype = essence.slice(slash + 1);
  return slash > 0 && (subtype === "json" || subtype.endsWith("+json"));
}

// W3C Trace Context §3.2: version 00 has exactly four fields; a later version may append more.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[\x20-\x7e]*)?$/;
const ALL_ZERO = /^0+$/;

/** The fields of a W3C `traceparent` that every version shares. */
export interface TraceparentFields {
  readonly version: string;
  readonly traceId: string;
  readonly parentId: string;
  /** The trace-flags byte, 0 to 255 (bit 0 is `sampled`). */
  readonly flags: number;
}

/**
 * Reads a W3C `traceparent` (Trace Context §3.2): the fields, or the rule the value breaks, worded
 * for an error message.
 */
export function readTraceparent(value: string): TraceparentFields | { readonly problem: string } {
  const m = TRACEPARENT.exec(value);
  if (m === null) return { problem: "is a W3C traceparent: version-traceid-parentid-flags, 2-32-16-2 lower-case hex digits joined by -" };
  const [, version = "", traceId = "", parentId = "", flags = "", rest] = m;
  if (version === "ff") return { problem: "is a W3C traceparent of a version other than ff" };
  if (version === "00" && rest !== undefined) return { problem: "is a version-00 W3C traceparent, with nothing after the flags" };
  if (ALL_ZERO.test(traceId)) return { problem: "is a W3C traceparent whose trace-id is not all zeros" };
  if (ALL_ZERO.test(parentId)) return { problem: "is a W3C traceparent whose parent-id is not all zeros" };
  return { version, traceId, parentId, flags: Number.parseInt(flags, 16) };
}

/** Whether a string is a W3C `traceparent` (no all-zero ids, no version ff, nothing after a version-00 value). */
export function isTraceparent(value: string): boolean {
  return !("problem" in readTraceparent(value));
}

const TRACESTATE_KEY = "(?:[a-z][_0-9a-z\\-*/]{0,255}|[a-z0-9][_0-9a-z\\-*/]{0,240}@[a-z][_0-9a-z\\-*/]{0,13})";
const TRACESTATE_VALUE = "[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{0,255}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]";
const TRACESTATE_MEMBER = new RegExp(`^(${TRACESTATE_KEY})=${TRACESTATE_VALUE}$`);
const OWS = /^[ \t]+|[ \t]+$/g;

/**
 * The rule a W3C `tracestate` breaks (Trace Context §3.3), worded for an error message, or
 * undefined when it is valid: at most 32 `key=value` list-members, each key once. Empty and
 * blank list-members are allowed, so an empty value is a valid, empty list.
 */
export function tracestateProblem(value: string): string | undefined {
  const keys = new Set<string>();
  const members = value.split(",");
  let count = 0;
  for (let i = 0; i < members.length; i++) {
    const member = (members[i] as string).replace(OWS, "");
    if (member === "") continue;
    const m = TRACESTATE_MEMBER.exec(member);
    if (m === null) {
      return `is a W3C tracestate of key=value list-members, keys of a-z 0-9 _ - * / (one @ in a multi-tenant key), values of printable ASCII but , and = (list-member ${i + 1} is ${JSON.stringify(member)})`;
    }
    const key = m[1] as string;
    if (keys.has(key)) return `is a W3C tracestate with each key once (${JSON.stringify(key)} repeats)`;
    keys.add(key);
    if (++count > 32) return "is a W3C tracestate of at most 32 list-members";
  }
  return undefined;
}

/** Whether a string is a W3C `tracestate`: at most 32 comma-separated `key=value` members, each key once. */
export function isTracestate(value: string): boolean {
  return tracestateProblem(value) === undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Whether a string is canonical padded Base64 (RFC 4648 §4). */
export function isBase64(value: string): boolean {
  return BASE64.test(value);
}
