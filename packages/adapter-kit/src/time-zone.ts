// Plant time zones: the offset of an IANA zone at an instant (cached), wall-clock time to instant
// and back, and a local day plus a local time as a timestamp in the plant's zone.

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** Two digits of a non-negative integer below 100, without the two strings `pad` allocates (hot in formatTimestamp). */
function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
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
  const local = utcMs + offset * 60_000;
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const utc = offset === 0 && timeZone === "UTC";
  if (Number.isSafeInteger(local) && local >= YEAR_1000_MS && local < YEAR_10000_MS && abs < 6000) return formatCivil(local, utc, offset);
  const zone = utc ? "Z" : `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
  const d = new Date(local);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${zone}`;
}

/** 0001-01-01T00:00:00Z, 1000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in ms since the epoch. */
const YEAR_1_MS = -62_135_596_800_000;
const YEAR_1000_MS = -30_610_224_000_000;
const YEAR_10000_MS = 253_402_300_800_000;

/**
 * `YYYY-MM-DDThh:mm:ss` and the zone (`Z` when `utc`, else `±hh:mm` of `offset` minutes) of an integer local ms in
 * years 1000–9999, with offsets under 100 hours: the Date getters' values computed with the
 * days-to-civil arithmetic of the proleptic Gregorian calendar, written as one string of character
 * codes. A Date, six getter calls and a dozen concatenations cost about 500 bytes of garbage per
 * timestamp, and this runs for every timestamp an adapter writes. Tested against the Date path.
 */
function formatCivil(ms: number, utc: boolean, offset: number): string {
  const days = Math.floor(ms / 86_400_000);
  const secondsOfDay = Math.floor((ms - days * 86_400_000) / 1000);
  // Howard Hinnant's civil_from_days; days >= -719162 here, so every quotient is of non-negatives.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(secondsOfDay / 3600);
  const minute = Math.floor((secondsOfDay % 3600) / 60);
  const second = secondsOfDay % 60;
  const Y = Math.floor(year / 1000);
  const y = year % 1000;
  if (utc) {
    return String.fromCharCode(
      48 + Y, 48 + Math.floor(y / 100), 48 + (Math.floor(y / 10) % 10), 48 + (y % 10), 45,
      48 + Math.floor(month / 10), 48 + (month % 10), 45, 48 + Math.floor(day / 10), 48 + (day % 10), 84,
      48 + Math.floor(hour / 10), 48 + (hour % 10), 58, 48 + Math.floor(minute / 10), 48 + (minute % 10), 58,
      48 + Math.floor(second / 10), 48 + (second % 10), 90,
    );
  }
  const abs = Math.abs(offset);
  const oh = Math.floor(abs / 60);
  const om = abs % 60;
  return String.fromCharCode(
    48 + Y, 48 + Math.floor(y / 100), 48 + (Math.floor(y / 10) % 10), 48 + (y % 10), 45,
    48 + Math.floor(month / 10), 48 + (month % 10), 45, 48 + Math.floor(day / 10), 48 + (day % 10), 84,
    48 + Math.floor(hour / 10), 48 + (hour % 10), 58, 48 + Math.floor(minute / 10), 48 + (minute % 10), 58,
    48 + Math.floor(second / 10), 48 + (second % 10),
    offset < 0 ? 45 : 43, 48 + Math.floor(oh / 10), 48 + (oh % 10), 58, 48 + Math.floor(om / 10), 48 + (om % 10),
  );
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
  if (Number.isSafeInteger(instant)) {
    // The year check below without a Date, for the integer instants of every real input.
    if (instant < YEAR_1_MS || instant >= YEAR_10000_MS) return undefined;
    return formatTimestamp(instant, timeZone);
  }
  const year = new Date(instant).getUTCFullYear();
  if (year < 1 || year > 9999) return undefined;
  return formatTimestamp(instant, timeZone);
}
