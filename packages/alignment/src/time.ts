// Event times as ms since the epoch, without Date.parse for the form every adapter writes.

/** Days from 1970-01-01 to a proleptic Gregorian date (month 1–12), exact for every year. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(text: string, i: number): number {
  const a = text.charCodeAt(i) - 48;
  const b = text.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * `Date.parse(text)`, several times faster for `YYYY-MM-DDTHH:MM:SSZ` and
 * `YYYY-MM-DDTHH:MM:SS.sssZ` with a day of month up to 28 (the form `toISOString` and the
 * adapters write); anything else, day 29–31 included, goes to `Date.parse`, so the result is
 * always the same as `Date.parse`'s.
 *
 * @param text - an event time
 * @returns ms since the epoch, or NaN
 * @example
 * parseTime("2026-03-01T12:00:00.000Z"); // 1772366400000
 */
export function parseTime(text: string): number {
  const n = text.length;
  if ((n !== 20 && n !== 24) || text.charCodeAt(n - 1) !== 90 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) {
    return Date.parse(text);
  }
  let ms = 0;
  if (n === 24) {
    const high = twoDigits(text, 20);
    const low = text.charCodeAt(22) - 48;
    if (text.charCodeAt(19) !== 46 || high < 0 || low < 0 || low > 9) return Date.parse(text);
    ms = high * 10 + low;
  }
  const century = twoDigits(text, 0);
  const year = twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  if (century < 0 || year < 0 || month < 1 || month > 12 || day < 1 || day > 28 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return Date.parse(text);
  return ((daysFromCivil(century * 100 + year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms;
}
