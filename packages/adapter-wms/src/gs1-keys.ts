// GS1 identifiers: EPC URIs (TDS 2.0), EPC class and pattern URIs, and GS1 Digital Link URIs, all
// brought to one canonical Digital Link form (https://id.gs1.org/…), plus the LGTIN split the
// mappers need (GTIN + lot).

const DL_HOST = "https://id.gs1.org";

/**
 * Computes the GS1 mod-10 check digit of a numeric key without its check digit (GTIN, GLN, SSCC,
 * GSIN, GSRN …; GS1 General Specifications 7.9.1).
 *
 * @param digits - the key without its check digit, digits only
 * @returns the check digit, 0–9
 * @example
 * gs1CheckDigit("0401234512345"); // 6
 */
export function gs1CheckDigit(digits: string): number {
  let sum = 0;
  // Weights alternate 3, 1, 3 … starting from the rightmost digit.
  for (let i = digits.length - 1, weight = 3; i >= 0; i -= 1, weight = 4 - weight) {
    sum += (digits.charCodeAt(i) - 48) * weight;
  }
  return (10 - (sum % 10)) % 10;
}

// GS1 AI encodable character set 82 (GS1 General Specifications 7.11, figure 7.11-1): what serials,
// lots and other alphanumeric key parts may hold.
const CSET82 = /^[!"%-?A-Z_a-z]$/;
// GS1 AI encodable character set 39 (figure 7.11-2): what a CPI may hold.
const CSET39 = /^[#\-/0-9A-Z]$/;
// What a Digital Link path segment percent-encodes of those sets: what GS1's reference hash
// implementation encodes (its reading of GS1 Digital Link table 7-1), so that hashes agree;
// `'`, `;` and `=` stay as they are.
const DL_ESCAPED = /[!"#%&()*+,/:<>?]/;

/**
 * Reads the value of an EPC URI field: `%XX` escapes decode to one character each (TDS 2.0 Table
 * A-1), and every character must belong to `charset`.
 *
 * @returns the unescaped value, or `undefined` for a malformed escape or a character outside the set
 */
function unescapeEpc(text: string, charset: RegExp): string | undefined {
  let out = "";
  for (let i = 0; i < text.length; i += 1) {
    let c = text[i] ?? "";
    if (c === "%") {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      c = String.fromCharCode(Number.parseInt(hex, 16));
      i += 2;
    } else if (c === '"' || c === "#" || c === "&" || c === "/" || c === "<" || c === ">" || c === "?") {
      // TDS 2.0 Table A-1: these are only ever written escaped in an EPC URI.
      return undefined;
    }
    if (!charset.test(c)) return undefined;
    out += c;
  }
  return out;
}

/**
 * Writes a value as a GS1 Digital Link path segment: the characters of `DL_ESCAPED`
 * percent-encoded with upper-case hex, every other character of set 82 as it is. Characters
 * outside set 82 (never part of a valid GS1 key) are UTF-8 percent-encoded so the URI stays well-formed.
 *
 * @param value - an unescaped serial, lot or key part
 * @returns the path segment
 */
function toDlSegment(value: string): string {
  let out = "";
  for (const c of value) {
    if (DL_ESCAPED.test(c)) out += `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
    else if (CSET82.test(c)) out += c;
    else out += encodeURIComponent(c);
  }
  return out;
}

const DIGITS = /^\d+$/;

interface EpcParts {
  readonly company: string;
  readonly fields: readonly string[];
}

// Splits "cp.a.b.rest" into the company prefix and the next `count - 1` fields; the last field takes
// the rest, since serials may themselves contain dots.
function split(body: string, count: number): EpcParts | undefined {
  const parts: string[] = [];
  let rest = body;
  for (let i = 0; i < count - 1; i += 1) {
    const dot = rest.indexOf(".");
    if (dot < 0) return undefined;
    parts.push(rest.slice(0, dot));
    rest = rest.slice(dot + 1);
  }
  parts.push(rest);
  const [company, ...fields] = parts;
  if (company === undefined || !/^\d{6,12}$/.test(company)) return undefined;
  return { company, fields };
}

function gtinOf(company: string, itemRef: string): string | undefined {
  if (!DIGITS.test(itemRef) || company.length + itemRef.length !== 13) return undefined;
  const raw = itemRef.slice(0, 1) + company + itemRef.slice(1);
  return raw + String(gs1CheckDigit(raw));
}

function keyOf(company: string, ref: string, total: number, prefix = ""): string | undefined {
  if (!/^\d*$/.test(ref) || company.length + ref.length !== total) return undefined;
  const raw = prefix + company + ref;
  return raw + String(gs1CheckDigit(raw));
}

// The Digital Link segment of an EPC URI serial of 1 to `max` characters, counted unescaped.
function serialOf(text: string | undefined, max: number, charset = CSET82): string | undefined {
  const value = text === undefined ? undefined : unescapeEpc(text, charset);
  return value !== undefined && value.length >= 1 && value.length <= max ? toDlSegment(value) : undefined;
}

type Converter = (body: string) => string | undefined;

const EPC_ID: Readonly<Record<string, Converter>> = {
  sgtin: (b) => {
    const p = split(b, 3);
    const gtin = p && gtinOf(p.company, p.fields[0] ?? "");
    const serial = serialOf(p?.fields[1], 20);
    return gtin && serial ? `${DL_HOST}/01/${gtin}/21/${serial}` : undefined;
  },
  sscc: (b) => {
    const p = split(b, 2);
    const ref = p?.fields[0] ?? "";
    if (!p || !DIGITS.test(ref) || p.company.length + ref.length !== 17) return undefined;
    const raw = ref.slice(0, 1) + p.company + ref.slice(1);
    return `${DL_HOST}/00/${raw}${gs1CheckDigit(raw)}`;
  },
  sgln: (b) => {
    const p = split(b, 3);
    const gln = p && keyOf(p.company, p.fields[0] ?? "", 12);
    const ext = serialOf(p?.fields[1], 20);
    if (!gln || !ext) return undefined;
    return ext === "0" ? `${DL_HOST}/414/${gln}` : `${DL_HOST}/414/${gln}/254/${ext}`;
  },
  grai: (b) => {
    const p = split(b, 3);
    const key = p && keyOf(p.company, p.fields[0] ?? "", 12, "0");
    const serial = serialOf(p?.fields[1], 16);
    return key && serial ? `${DL_HOST}/8003/${key}${serial}` : undefined;
  },
  giai: (b) => {
    const p = split(b, 2);
    const ref = p && serialOf(p.fields[0], 30 - p.company.length);
    return p && ref ? `${DL_HOST}/8004/${p.company}${ref}` : undefined;
  },
  gsrn: (b) => {
    const p = split(b, 2);
    const key = p && keyOf(p.company, p.fields[0] ?? "", 17);
    return key ? `${DL_HOST}/8018/${key}` : undefined;
  },
  gsrnp: (b) => {
    const p = split(b, 2);
    const key = p && keyOf(p.company, p.fields[0] ?? "", 17);
    return key ? `${DL_HOST}/8017/${key}` : undefined;
  },
  gdti: (b) => {
    const p = split(b, 3);
    const key = p && keyOf(p.company, p.fields[0] ?? "", 12);
    const serial = serialOf(p?.fields[1], 17);
    return key && serial ? `${DL_HOST}/253/${key}${serial}` : undefined;
  },
  cpi: (b) => {
    const p = split(b, 3);
    const ref = p && serialOf(p.fields[0], 30 - p.company.length, CSET39);
    const serial = p?.fields[1] ?? "";
    return p && ref && /^\d{1,12}$/.test(serial) ? `${DL_HOST}/8010/${p.company}${ref}/8011/${serial}` : undefined;
  },
  sgcn: (b) => {
    const p = split(b, 3);
    const key = p && keyOf(p.company, p.fields[0] ?? "", 12);
    const serial = p?.fields[1] ?? "";
    return key && /^\d{1,12}$/.test(serial) ? `${DL_HOST}/255/${key}${serial}` : undefined;
  },
  ginc: (b) => {
    const p = split(b, 2);
    const ref = p && serialOf(p.fields[0], 30 - p.company.length);
    return p && ref ? `${DL_HOST}/401/${p.company}${ref}` : undefined;
  },
  gsin: (b) => {
    const p = split(b, 2);
    const key = p && keyOf(p.company, p.fields[0] ?? "", 16);
    return key ? `${DL_HOST}/402/${key}` : undefined;
  },
  itip: (b) => {
    const p = split(b, 5);
    const gtin = p && gtinOf(p.company, p.fields[0] ?? "");
    const [, piece = "", total = "", raw] = p?.fields ?? [];
    const serial = serialOf(raw, 20);
    if (!gtin || !/^\d{2}$/.test(piece) || !/^\d{2}$/.test(total) || !serial) return undefined;
    return `${DL_HOST}/8006/${gtin}${piece}${total}/21/${serial}`;
  },
  upui: (b) => {
    const p = split(b, 3);
    const gtin = p && gtinOf(p.company, p.fields[0] ?? "");
    const tpx = serialOf(p?.fields[1], 28);
    return gtin && tpx ? `${DL_HOST}/01/${gtin}/235/${tpx}` : undefined;
  },
  pgln: (b) => {
    const p = split(b, 2);
    const key = p && keyOf(p.company, p.fields[0] ?? "", 12);
    return key ? `${DL_HOST}/417/${key}` : undefined;
  },
};

const EPC_CLASS: Readonly<Record<string, Converter>> = {
  lgtin: (b) => {
    const p = split(b, 3);
    const gtin = p && gtinOf(p.company, p.fields[0] ?? "");
    const lot = serialOf(p?.fields[1], 20);
    return gtin && lot ? `${DL_HOST}/01/${gtin}/10/${lot}` : undefined;
  },
};

// Pattern URIs name a whole class: the key without its serial part.
const EPC_PATTERN: Readonly<Record<string, Converter>> = {
  sgtin: (b) => {
    const p = split(b, 3);
    const gtin = p && p.fields[1] === "*" ? gtinOf(p.company, p.fields[0] ?? "") : undefined;
    return gtin ? `${DL_HOST}/01/${gtin}` : undefined;
  },
  upui: (b) => EPC_PATTERN["sgtin"]?.(b),
  grai: (b) => {
    const p = split(b, 3);
    const key = p && p.fields[1] === "*" ? keyOf(p.company, p.fields[0] ?? "", 12, "0") : undefined;
    return key ? `${DL_HOST}/8003/${key}` : undefined;
  },
  gdti: (b) => {
    const p = split(b, 3);
    const key = p && p.fields[1] === "*" ? keyOf(p.company, p.fields[0] ?? "", 12) : undefined;
    return key ? `${DL_HOST}/253/${key}` : undefined;
  },
  sgcn: (b) => {
    const p = split(b, 3);
    const key = p && p.fields[1] === "*" ? keyOf(p.company, p.fields[0] ?? "", 12) : undefined;
    return key ? `${DL_HOST}/255/${key}` : undefined;
  },
  cpi: (b) => {
    const p = split(b, 3);
    const ref = p && p.fields[1] === "*" ? serialOf(p.fields[0], 30 - p.company.length, CSET39) : undefined;
    return p && ref ? `${DL_HOST}/8010/${p.company}${ref}` : undefined;
  },
  itip: (b) => {
    const p = split(b, 5);
    const gtin = p && gtinOf(p.company, p.fields[0] ?? "");
    const [, piece = "", total = "", star] = p?.fields ?? [];
    if (!gtin || !/^\d{2}$/.test(piece) || !/^\d{2}$/.test(total) || star !== "*") return undefined;
    return `${DL_HOST}/8006/${gtin}${piece}${total}`;
  },
};

const SHORT_NAMES: Readonly<Record<string, string>> = {
  gtin: "01", itip: "8006", cpid: "8010", gln: "414", party: "417", gsrnp: "8017", gsrn: "8018",
  gcn: "255", sscc: "00", gdti: "253", ginc: "401", gsin: "402", grai: "8003", giai: "8004",
  gmn: "8013", cpv: "22", lot: "10", ser: "21", srin: "8019",
};

const PRIMARY_KEYS = ["00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8013", "8017", "8018"];
const PRIMARY_OR_SHORT = new Set([...PRIMARY_KEYS, ...Object.keys(SHORT_NAMES).filter((k) => !["cpv", "lot", "ser", "srin"].includes(k))]);

// The value set GS1 allows in Digital Link path segments (GS1 AI encodable character set 82 without
// the characters that must be escaped).
const V = `["'\\-.0-9;-?A-Z_a-z]`;
const VALUE = new RegExp(`^${V}*$`);
const CPI_VALUE = /^[#\-/0-9A-Z]*$/;
const CANONICAL_FORMS: readonly RegExp[] = [
  /^\/00\/\d{18}$/,
  new RegExp(`^/01/\\d{14}/21/${V}{0,20}$`),
  new RegExp(`^/01/\\d{14}/10/${V}{0,20}$`),
  /^\/01\/\d{14}$/,
  new RegExp(`^/01/\\d{14}/235/${V}{0,28}$`),
  new RegExp(`^/253/\\d{13}${V}{0,17}$`),
  /^\/255\/\d{13}\d{0,12}$/,
  new RegExp(`^/401/${V}{0,30}$`),
  /^\/402\/\d{17}$/,
  /^\/414\/\d{13}$/,
  new RegExp(`^/414/\\d{13}/254/${V}{0,20}$`),
  /^\/417\/\d{13}$/,
  new RegExp(`^/8003/\\d{14}${V}{0,16}$`),
  new RegExp(`^/8004/${V}{0,30}$`),
  new RegExp(`^/8006/\\d{18}/21/${V}{0,20}$`),
  new RegExp(`^/8006/\\d{18}/10/${V}{0,20}$`),
  /^\/8006\/\d{18}$/,
  /^\/8010\/[#\-/0-9A-Z]{0,30}\/8011\/\d{0,12}$/,
  /^\/8010\/[#\-/0-9A-Z]{0,30}$/,
  // GMN (model number, no EPC scheme): up to 25 characters of set 82 ending in two check characters.
  new RegExp(`^/8013/${V}{3,25}$`),
  /^\/8017\/\d{18}$/,
  /^\/8018\/\d{18}$/,
  // A GSRN with its service relation instance number (AI 8019), as GS1's digital-link.js accepts.
  /^\/801[78]\/\d{18}\/8019\/\d{1,10}$/,
];

function normaliseDigitalLink(uri: string): string | undefined {
  const match = /^https?:\/\/[^/?#]*(\/[^?#]*)?(?:[?#].*)?$/.exec(uri);
  const rawPath = match?.[1];
  if (rawPath === undefined) return undefined;
  const segments = rawPath.split("/").slice(1);
  if (segments.at(-1) === "") segments.pop();
  // The key may sit below a custom path prefix: find the first segment that names a primary key
  // and whose value starts with four digits, as GS1's DL grammar requires.
  const start = segments.findIndex((s, i) => PRIMARY_OR_SHORT.has(s) && /^\d{4}/.test(segments[i + 1] ?? ""));
  if (start < 0) return undefined;
  const pairs: [string, string][] = [];
  for (let i = start; i + 1 < segments.length; i += 2) {
    const ai = segments[i] ?? "";
    pairs.push([SHORT_NAMES[ai] ?? ai, segments[i + 1] ?? ""]);
  }
  if ((segments.length - start) % 2 !== 0) return undefined;
  const primary = pairs[0];
  if (primary === undefined) return undefined;
  if (primary[0] === "01") {
    const n = primary[1].length;
    if (/^\d+$/.test(primary[1]) && n < 14) primary[1] = (n === 13 ? "0" : n === 12 ? "00" : "000000") + primary[1];
  }
  // Every value must already be in canonical form, the qualifiers that are dropped below included:
  // GS1's reference leaves a URI with a percent-escape or another character outside the set as written.
  if (!pairs.every(([ai, value]) => (ai === "8010" ? CPI_VALUE : VALUE).test(value))) return undefined;
  let rest = pairs.slice(1);
  if (primary[0] === "01" || primary[0] === "8006") {
    // The consumer product variant does not identify the object: drop it, as the reference does
    // when the path after it has at most 20 characters. The most fine-grained identifier wins: a
    // serial makes the lot redundant.
    const cpv = rest.findIndex(([ai]) => ai === "22");
    if (cpv >= 0) {
      const after = rest.slice(cpv).map(([ai, value]) => `${ai}/${value}`).join("/").slice(3);
      if (after.length > 20) return undefined;
      rest = rest.filter(([ai]) => ai !== "22");
    }
    if (rest.some(([ai]) => ai === "21")) rest = rest.filter(([ai]) => ai !== "10");
  }
  const path = [primary, ...rest].map(([ai, value]) => `/${ai}/${value}`).join("");
  return CANONICAL_FORMS.some((form) => form.test(path)) ? DL_HOST + path : undefined;
}

/**
 * Converts any URI that carries a GS1 key (EPC URI, EPC class URI, EPC pattern URI, GS1 Digital
 * Link URI on any host) into its canonical GS1 Digital Link form on `https://id.gs1.org`, keeping
 * only the most fine-grained identification and no query or product variant.
 *
 * @param uri - the identifier as found in an EPCIS document
 * @returns the canonical Digital Link URI, or `undefined` when `uri` carries no recognisable GS1 key
 * @example
 * toCanonicalDigitalLink("urn:epc:id:sscc:4012345.0000000333"); // "https://id.gs1.org/00/040123450000003338"
 */
export function toCanonicalDigitalLink(uri: string): string | undefined {
  // Documents repeat the same locations and classes thousands of times: remember recent answers.
  const cached = memo.get(uri);
  if (cached !== undefined || memo.has(uri)) return cached;
  const result = convert(uri);
  if (memo.size >= MEMO_SIZE) memo.clear();
  memo.set(uri, result);
  return result;
}

const MEMO_SIZE = 4096;
const memo = new Map<string, string | undefined>();

function convert(uri: string): string | undefined {
  if (uri.startsWith("urn:epc:")) {
    const m = /^urn:epc:(id|class|idpat):([a-z]+):(.+)$/.exec(uri);
    if (m === null) return undefined;
    const [, kind = "", scheme = "", body = ""] = m;
    const table = kind === "id" ? EPC_ID : kind === "class" ? EPC_CLASS : EPC_PATTERN;
    return Object.hasOwn(table, scheme) ? table[scheme]?.(body) : undefined;
  }
  if (uri.startsWith("http://") || uri.startsWith("https://")) return normaliseDigitalLink(uri);
  return undefined;
}

/** A trade item class (GTIN) and, for lot-level classes, the lot. */
export interface Gs1Class {
  /** The GTIN-14 of the trade item. */
  readonly gtin: string;
  /** The lot (batch) number, when the class is lot-level (LGTIN, Digital Link with AI 10). */
  readonly lot?: string;
  /** The serial number, when the identifier names one instance (SGTIN, Digital Link with AI 21). */
  readonly serial?: string;
}

/**
 * Splits an EPCIS `epcClass` or EPC (LGTIN URN, SGTIN URN, GTIN pattern or GS1 Digital Link URI)
 * into GTIN, lot and serial.
 *
 * @param uri - the class or instance identifier
 * @returns the parts, or `undefined` when the identifier is not a trade item identifier
 * @example
 * parseGs1Class("urn:epc:class:lgtin:4012345.012345.998877"); // { gtin: "04012345123456", lot: "998877" }
 */
export function parseGs1Class(uri: string): Gs1Class | undefined {
  // EPC URIs go through their canonical Digital Link; Digital Links are read leniently, since
  // lots often hold characters (%, space, /) that the canonical form's strict syntax refuses.
  const dl = uri.startsWith("urn:epc:") ? toCanonicalDigitalLink(uri) : uri;
  if (dl === undefined || !/^https?:\/\//.test(dl)) return undefined;
  const path = dl.replace(/^https?:\/\/[^/?#]*/, "").replace(/[?#].*$/, "");
  const segments = path.split("/").slice(1);
  const start = segments.findIndex((s, i) => (s === "01" || s === "gtin") && /^(\d{8}|\d{12,14})$/.test(segments[i + 1] ?? ""));
  const raw = segments[start + 1];
  if (start < 0 || raw === undefined) return undefined;
  const gtin = raw.padStart(14, "0");
  if (gs1CheckDigit(gtin.slice(0, 13)) !== Number(gtin[13])) return undefined;
  const decode = (value: string): string => {
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  };
  let lot: string | undefined;
  let serial: string | undefined;
  for (let i = start + 2; i + 1 < segments.length; i += 2) {
    const ai = segments[i];
    const value = decode(segments[i + 1] ?? "");
    if (ai === "10" || ai === "lot") lot = value;
    else if (ai === "21" || ai === "ser") serial = value;
  }
  return { gtin, ...(lot !== undefined ? { lot } : {}), ...(serial !== undefined ? { serial } : {}) };
}

/**
 * Builds the GS1 Digital Link class URI of a lot (`https://id.gs1.org/01/<gtin>/10/<lot>`), the
 * form EPCIS 2.0 prefers to the LGTIN URN because it needs no company prefix length. The lot is
 * percent-encoded as the canonical Digital Link of the same LGTIN URN is, so both hash alike.
 *
 * @param gtin - the GTIN-14
 * @param lot - the lot (batch) number
 * @returns the class identifier for `epcClass`
 * @example
 * toLotClass("04012345123456", "B1"); // "https://id.gs1.org/01/04012345123456/10/B1"
 */
export function toLotClass(gtin: string, lot?: string): string {
  return lot === undefined ? `${DL_HOST}/01/${gtin}` : `${DL_HOST}/01/${gtin}/10/${toDlSegment(lot)}`;
}
