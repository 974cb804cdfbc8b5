/**
 * Exact ordering of RFC 3339 timestamps with offsets, without `Date` (which keeps milliseconds
 * only) and without allocating: the instant is read from the digits, fractions are compared
 * digit by digit, so `…:00.0000001Z` is after `…:00Z` and `10:00:00+01:00` equals `09:00:00Z`.
 */

function digits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) n = n * 10 + (s.charCodeAt(i) - 48);
  return n;
}

/** Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function sameOffset(a: string, b: string): boolean {
  const n = a.length;
  if (a.charCodeAt(n - 1) === 90 /* Z */) return b.charCodeAt(n - 1) === 90;
  return a.charCodeAt(n - 6) === b.charCodeAt(n - 6) && a.endsWith(b.slice(n - 6));
}

interface Instant {
  readonly seconds: number;
  readonly fraction: string;
}

function toInstant(ts: string): Instant {
  let seconds =
    daysFromCivil(digits(ts, 0, 4), digits(ts, 5, 2), digits(ts, 8, 2)) * 86400 +
    digits(ts, 11, 2) * 3600 +
    digits(ts, 14, 2) * 60 +
    digits(ts, 17, 2);
  let i = 19;
  let fraction = "";
  if (ts.charCodeAt(i) === 46 /* . */) {
    const start = ++i;
    while (i < ts.length && ts.charCodeAt(i) >= 48 && ts.charCodeAt(i) <= 57) i++;
    fraction = ts.slice(start, i).replace(/0+$/, "");
  }
  const sign = ts.charCodeAt(i);
  if (sign === 43 /* + */ || sign === 45 /* - */) {
    const offset = digits(ts, i + 1, 2) * 3600 + digits(ts, i + 4, 2) * 60;
    seconds += sign === 43 ? -offset : offset;
  }
  return { seconds, fraction };
}

/**
 * Compares two RFC 3339 date-times (as the `Timestamp` schema admits them) by the instant they name.
 *
 * @param a - the first timestamp
 * @param b - the second timestamp
 * @returns a negative number when a is earlier, 0 when both name the same instant, a positive number when a is later
 * @example
 * compareTimestamps("2026-03-01T10:00:00+01:00", "2026-03-01T09:00:00Z"); // 0
 */
export function compareTimestamps(a: string, b: string): number {
  // Fast path, the common case: same length and same offset, so the strings sort as the instants.
  if (a.length === b.length && sameOffset(a, b)) return a < b ? -1 : a > b ? 1 : 0;
  const x = toInstant(a);
  const y = toInstant(b);
  if (x.seconds !== y.seconds) return x.seconds - y.seconds;
  if (x.fraction === y.fraction) return 0;
  const width = Math.max(x.fraction.length, y.fraction.length);
  const fx = x.fraction.padEnd(width, "0");
  const fy = y.fraction.padEnd(width, "0");
  return fx < fy ? -1 : 1;
}
