// Edm date and time wire values: `/Date(ms)/` (Edm.DateTime, Edm.DateTimeOffset) and `PThhHmmMssS`
// (Edm.Time), read and written without a time zone; combining them in a plant's zone is time-zone.ts.

const SAP_DATE = /^\/Date\((-?\d{1,15})([+-]\d{4})?\)\/$/;

/**
 * Read an `Edm.DateTime` / `Edm.DateTimeOffset` wire value `/Date(ms)/` or `/Date(ms+0000)/` as
 * milliseconds since the epoch (the number is UTC; the suffix is the offset in minutes for display).
 *
 * @param value - the wire value
 * @returns the instant in ms, or undefined when the value is not in that form
 * @example
 * ```ts
 * parseSapDate("/Date(1492041600000)/"); // 1492041600000
 * ```
 */
export function parseSapDate(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  // Fast path for the usual `/Date(ms)/` with a non-negative ms: read without a regex match (it
  // runs for every date of every row); any other form goes to the regex below.
  const n = value.length;
  if (n >= 9 && n <= 23 && value.startsWith("/Date(") && value.charCodeAt(n - 2) === 41 /* ) */ && value.charCodeAt(n - 1) === 47 /* / */) {
    let ms = 0;
    let i = 6;
    for (; i < n - 2; i++) {
      const d = value.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      ms = ms * 10 + d;
    }
    // At most 15 digits, so ms is exact and within the range checked below.
    if (i === n - 2) return ms;
  }
  const m = SAP_DATE.exec(value);
  if (m === null) return undefined;
  const ms = Number(m[1]);
  return Number.isSafeInteger(ms) && Math.abs(ms) <= 8.64e15 ? ms : undefined;
}

/**
 * Write milliseconds since the epoch as an OData V2 `/Date(ms)/` value.
 *
 * @param ms - the instant
 * @returns the wire value
 * @example
 * ```ts
 * formatSapDate(Date.UTC(2026, 2, 2)); // "/Date(1772409600000)/"
 * ```
 */
export function formatSapDate(ms: number): string {
  return `/Date(${ms})/`;
}

/** The digit at `i`, or -1 when the character there is not an ASCII digit. */
function digitAt(value: string, i: number): number {
  const d = value.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

const SAP_TIME = /^PT(?:(\d{1,2})H)?(?:(\d{1,2})M)?(?:(\d{1,2})(?:\.\d+)?S)?$/;

/**
 * Read an `Edm.Time` wire value (`PT12H26M00S`) as seconds after midnight.
 *
 * @param value - the wire value
 * @returns seconds in [0, 86400), or undefined when the value is not a time of day
 * @example
 * ```ts
 * parseEdmTime("PT06H30M00S"); // 23400
 * ```
 */
export function parseEdmTime(value: unknown): number | undefined {
  if (typeof value !== "string" || value === "PT") return undefined;
  if (value.length === 11 && value.charCodeAt(0) === 80 /* P */ && value.charCodeAt(1) === 84 /* T */ && value.charCodeAt(4) === 72 /* H */ && value.charCodeAt(7) === 77 /* M */ && value.charCodeAt(10) === 83 /* S */) {
    // Fast path for SAP's usual fixed form PThhHmmMssS, without a regex match or any allocation
    // (it runs for every time of every row).
    const h1 = digitAt(value, 2);
    const h0 = digitAt(value, 3);
    const m1 = digitAt(value, 5);
    const m0 = digitAt(value, 6);
    const s1 = digitAt(value, 8);
    const s0 = digitAt(value, 9);
    if (h1 >= 0 && h0 >= 0 && m1 >= 0 && m0 >= 0 && s1 >= 0 && s0 >= 0) {
      const h = h1 * 10 + h0;
      const m = m1 * 10 + m0;
      const sec = s1 * 10 + s0;
      return h > 23 || m > 59 || sec > 59 ? undefined : h * 3600 + m * 60 + sec;
    }
  }
  const m = SAP_TIME.exec(value);
  if (m === null) return undefined;
  const h = Number(m[1] ?? 0);
  const min = Number(m[2] ?? 0);
  const s = Number(m[3] ?? 0);
  if (h > 23 || min > 59 || s > 59) return undefined;
  return h * 3600 + min * 60 + s;
}

/** Zero-pads a non-negative integer. */
function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/**
 * Write seconds after midnight as an `Edm.Time` wire value.
 *
 * @param seconds - seconds in [0, 86400)
 * @returns `PThhHmmMssS`
 * @example
 * ```ts
 * formatEdmTime(23400); // "PT06H30M00S"
 * ```
 */
export function formatEdmTime(seconds: number): string {
  const s = Math.max(0, Math.min(86_399, Math.floor(seconds)));
  return `PT${pad(Math.floor(s / 3600))}H${pad(Math.floor((s % 3600) / 60))}M${pad(s % 60)}S`;
}

/**
 * The UTC calendar date of a `/Date(ms)/` value (SAP sends date-only properties as UTC midnight).
 *
 * @param value - the wire value
 * @returns `YYYY-MM-DD`, or undefined when the value is not a SAP date
 * @example
 * ```ts
 * toCalendarDate("/Date(1772409600000)/"); // "2026-03-02"
 * ```
 */
export function toCalendarDate(value: unknown): string | undefined {
  const ms = parseSapDate(value);
  if (ms === undefined) return undefined;
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  if (y < 1 || y > 9999) return undefined;
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/**
 * Write an instant as a canonical revision: UTC `YYYYMMDDhhmmss` digits.
 *
 * @param ms - the instant
 * @returns the revision digits
 * @example
 * ```ts
 * toRevisionDigits(Date.UTC(2026, 2, 3, 8, 40, 12)); // "20260303084012"
 * ```
 */
export function toRevisionDigits(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}
