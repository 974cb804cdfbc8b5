// A SAP date property plus an Edm.Time property, read as one timestamp in the plant's time zone.
// The time-zone arithmetic itself is the adapter kit's.
import { composeTimestamp } from "@millwright/adapter-kit";
import { parseEdmTime, parseSapDate } from "./edm-time.js";

/**
 * Combine a SAP date property (`/Date(ms)/`, UTC midnight) and an `Edm.Time` property into a
 * timestamp, reading the wall-clock time in the plant's time zone.
 *
 * @param date - the date wire value
 * @param time - the Edm.Time wire value (missing time means midnight)
 * @param timeZone - IANA time zone of the plant (configuration)
 * @returns RFC 3339 with offset, or undefined when the date is empty or not a SAP date
 * @example
 * ```ts
 * toTimestamp("/Date(1772409600000)/", "PT06H12M40S", "Europe/Berlin"); // "2026-03-02T06:12:40+01:00"
 * ```
 */
export function toTimestamp(date: unknown, time: unknown, timeZone: string): string | undefined {
  const day = parseSapDate(date);
  if (day === undefined) return undefined;
  const seconds = time === undefined || time === null || time === "" ? 0 : parseEdmTime(time);
  if (seconds === undefined) return undefined;
  return composeTimestamp(day, seconds, timeZone);
}
