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
  if (value.length === 11) {
    // Fast path for SAP's usual fixed form PThhHmmMssS.
    const c = (i: number) => value.charCodeAt(i) - 48;
    if (value.startsWith("PT") && value[4] === "H" && value[7] === "M" && value[10] === "S") {
      const h = c(2) * 10 + c(3);
      const m = c(5) * 10 + c(6);
      const sec = c(8) * 10 + c(9);
      const digits = [2, 3, 5, 6, 8, 9].every((i) => c(i) >= 0 && c(i) <= 9);
      if (digits) return h > 23 || m > 59 || sec > 59 ? undefined : h * 3600 + m * 60 + sec;
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
