/**
 * String formats used by the canonical schemas, shared by the generated ajv validators and by
 * hand-written code. They follow RFC 3339 strictly and agree with zod's `z.iso.datetime({ offset: true })`,
 * `z.iso.date()` and `z.uuid()` so that the ajv and zod validators accept the same strings.
 */

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const UUID =
  /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function isValidCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const max = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return day <= max;
}

/**
 * Checks that a string is an RFC 3339 date-time with an explicit offset: upper-case `T` and `Z`,
 * seconds required, any number of fraction digits, a real calendar day, no leap second.
 *
 * @param value - the string to check
 * @returns whether the string is such a date-time
 * @example
 * isDateTime("2026-03-01T06:00:00+01:00"); // true
 * isDateTime("2026-02-30T06:00:00Z"); // false
 */
export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  return m !== null && isValidCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/**
 * Checks that a string is an RFC 3339 full-date (`YYYY-MM-DD`) naming a real calendar day.
 *
 * @param value - the string to check
 * @returns whether the string is such a date
 * @example
 * isCalendarDate("2028-02-29"); // true
 */
export function isCalendarDate(value: string): boolean {
  const m = FULL_DATE.exec(value);
  return m !== null && isValidCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/**
 * Checks that a string is an RFC 9562 UUID (versions 1 to 8 with the RFC variant), or the nil or max UUID.
 *
 * @param value - the string to check
 * @returns whether the string is such a UUID
 * @example
 * isUuid("5b7c0b1e-3d6f-5a8e-9c1d-2f4e6a8b0c1d"); // true
 */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** The format table the generated validators import; keys are JSON Schema `format` names. */
export const formats = {
  "date-time": isDateTime,
  date: isCalendarDate,
  uuid: isUuid,
} as const;
