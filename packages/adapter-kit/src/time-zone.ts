// Plant time zones: the offset of an IANA zone at an instant (cached), wall-clock time to instant
// and back, and a local day plus a local time as a timestamp in the plant's zone.

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();
const BUCKET_MS = 15 * 60_000;

/**
 * Whether a string names an IANA time zone this runtime knows.
 *
 * @param timeZone - e.g. `Europe/Berlin`
 * @returns true when Intl accepts it
 * @example
 * ```ts
 * isTimeZone("Europe/Berlin"); // true
 * ```
 */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Offset of a time zone at an instant, in minutes east of UTC; cached per 15 minutes (no zone changes offset more often). */
function offsetMinutes(timeZone: string, utcMs: number): number {
  let cache = offsetCache.get(timeZone);
  if (cache === undefined) {
    cache = new Map();
    offsetCache.set(timeZone, cache);
  }
  const bucket = Math.floor(utcMs / BUCKET_MS);
  const hit = cache.get(bucket);
  if (hit !== undefined) return hit;
  const at = bucket * BUCKET_MS;
  const parts = formatterFor(timeZone).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const local = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  const local0 = new Date(local);
  local0.setUTCFullYear(get("year"));
  const minutes = Math.round((local0.getTime() - at) / 60_000);
  if (cache.size > 100_000) cache.clear();
  cache.set(bucket, minutes);
  return minutes;
}

/**
 * Write an instant as RFC 3339 with the offset of the given time zone.
 *
 * @param utcMs - the instant
 * @param timeZone - IANA time zone
 * @returns e.g. `2026-03-02T06:12:40+01:00`
 * @example
 * ```ts
 * formatTimestamp(Date.UTC(2026, 2, 2, 5, 12, 40), "Europe/Berlin"); // "2026-03-02T06:12:40+01:00"
 * ```
 */
export function formatTimestamp(utcMs: number, timeZone: string): string {
  const offset = offsetMinutes(timeZone, utcMs);
  const d = new Date(utcMs + offset * 60_000);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const zone = offset === 0 && timeZone === "UTC" ? "Z" : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${zone}`;
}

/**
 * The instant of a plant-local wall-clock time (date + seconds after midnight) in a time zone.
 * In a DST gap the earlier offset is used; in an overlap the first occurrence.
 *
 * @param localMs - the wall-clock time written as if it were UTC
 * @param timeZone - IANA time zone of the plant
 * @returns the instant in ms
 * @example
 * ```ts
 * localToUtc(Date.UTC(2026, 2, 2, 6, 0, 0), "Europe/Berlin"); // Date.UTC(2026, 2, 2, 5, 0, 0)
 * ```
 */
export function localToUtc(localMs: number, timeZone: string): number {
  const before = offsetMinutes(timeZone, localMs - 43_200_000);
  const after = offsetMinutes(timeZone, localMs + 43_200_000);
  const early = localMs - before * 60_000;
  if (before === after) return early;
  const late = localMs - after * 60_000;
  const earlyValid = offsetMinutes(timeZone, early) === before;
  const lateValid = offsetMinutes(timeZone, late) === after;
  if (earlyValid && lateValid) return Math.min(early, late);
  if (earlyValid) return early;
  if (lateValid) return late;
  return early;
}

/**
 * A plant-local calendar day plus seconds after midnight, as the timestamp in the plant's time
 * zone (ERP systems send the two as separate fields). In a DST gap the earlier offset is used.
 *
 * @param day - the day as ms since the epoch (any time of that UTC day)
 * @param seconds - seconds after local midnight
 * @param timeZone - IANA time zone of the plant
 * @returns RFC 3339 with offset, or undefined outside years 0001–9999
 * @example
 * ```ts
 * composeTimestamp(Date.UTC(2026, 2, 2), 6 * 3600 + 12 * 60 + 40, "Europe/Berlin"); // "2026-03-02T06:12:40+01:00"
 * ```
 */
export function composeTimestamp(day: number, seconds: number, timeZone: string): string | undefined {
  const midnight = Math.floor(day / 86_400_000) * 86_400_000;
  const instant = localToUtc(midnight + seconds * 1000, timeZone);
  const year = new Date(instant).getUTCFullYear();
  if (year < 1 || year > 9999) return undefined;
  return formatTimestamp(instant, timeZone);
}
