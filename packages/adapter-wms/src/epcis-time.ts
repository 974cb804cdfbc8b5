// EPCIS times: eventTime (any offset) + eventTimeZoneOffset → RFC 3339 in the local offset.

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const OFFSET = /^([+-])(\d{2}):(\d{2})$/;

function offsetMinutes(offset: string): number | undefined {
  if (offset === "Z") return 0;
  const m = OFFSET.exec(offset);
  if (m === null) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === "-" ? -minutes : minutes;
}

/** An instant read from an EPCIS time, with its own fraction digits kept exactly. */
export interface EpcisInstant {
  /** Milliseconds since the epoch of the whole second. */
  readonly epochSeconds: number;
  /** The fraction digits as written (without the dot), possibly empty. */
  readonly fraction: string;
}

/**
 * Reads an RFC 3339 date-time with offset.
 *
 * @param text - the date-time
 * @returns the instant, or `undefined` when `text` is not such a date-time
 * @example
 * readInstant("2013-06-08T14:58:56.591Z"); // { epochSeconds: 1370703536, fraction: "591" }
 */
export function readInstant(text: string): EpcisInstant | undefined {
  const m = DATE_TIME.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, frac = "", zone = "Z"] = m;
  const offset = offsetMinutes(zone);
  if (offset === undefined || Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return undefined;
  }
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // Date.UTC rolls 31 February over into March: reject what does not survive the round trip.
  if (new Date(utc).getUTCDate() !== Number(d)) return undefined;
  return { epochSeconds: utc / 1000 - offset * 60, fraction: frac.slice(1) };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/**
 * Writes an instant as RFC 3339 in the given offset (`+01:00`, `-06:00`, `Z`), keeping its fraction.
 *
 * @param instant - from {@link readInstant}
 * @param offset - the time zone offset to show
 * @returns the RFC 3339 date-time, or `undefined` when the offset is not `±hh:mm` or `Z`
 * @example
 * formatInstant({ epochSeconds: 1370703536, fraction: "591" }, "+02:00"); // "2013-06-08T16:58:56.591+02:00"
 */
export function formatInstant(instant: EpcisInstant, offset: string): string | undefined {
  const minutes = offsetMinutes(offset);
  if (minutes === undefined) return undefined;
  const local = new Date((instant.epochSeconds + minutes * 60) * 1000);
  const date = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  const fraction = instant.fraction === "" ? "" : `.${instant.fraction}`;
  return `${date}T${time}${fraction}${offset}`;
}

/**
 * Writes the UTC digits `YYYYMMDDhhmmssSSS` of an instant, used as a revision.
 *
 * @param instant - from {@link readInstant}
 * @returns 17 digits
 * @example
 * instantDigits({ epochSeconds: 1370703536, fraction: "591" }); // "20130608145856591"
 */
export function instantDigits(instant: EpcisInstant): string {
  const t = new Date(instant.epochSeconds * 1000);
  const millis = instant.fraction.slice(0, 3).padEnd(3, "0");
  return (
    pad(t.getUTCFullYear(), 4) + pad(t.getUTCMonth() + 1) + pad(t.getUTCDate()) + pad(t.getUTCHours()) + pad(t.getUTCMinutes()) +
    pad(t.getUTCSeconds()) + millis
  );
}
