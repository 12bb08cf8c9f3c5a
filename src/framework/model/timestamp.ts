/**
 * Event timestamps. zod's ISO date-time check is the authority; `parseCanonicalUtc` is a cheap
 * check for the form almost every producer sends (`2024-05-01T12:00:00.000Z`), so the hot path
 * skips zod for well-formed input. It accepts a strict subset of what zod accepts.
 */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS.mmmZ` (exactly that form, a real calendar
 * date), or NaN for anything else, which the caller then hands to the full zod check.
 */
export function parseCanonicalUtc(s: string): number {
  if (s.length !== 24 || s.charCodeAt(23) !== 90 /* Z */) return NaN;
  if (s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':' || s[19] !== '.') return NaN;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  const milli = digits(s, 20, 3);
  // Date.UTC maps years 0-99 to 1900-1999; such rare stamps take the zod path.
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return NaN;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || milli < 0) return NaN;
  const maxDay = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > maxDay) return NaN;
  return ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + milli;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (years 100 and later), as `Date.UTC` counts
 * them: Howard Hinnant's `days_from_civil`, in arithmetic, which costs a fraction of a `Date.UTC`
 * call on the per-event path.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The canonical UTC text of an instant, as every event and action carries it. */
export function canonicalUtc(ms: number): string {
  return new Date(ms).toISOString();
}
