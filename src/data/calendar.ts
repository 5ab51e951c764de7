/** Calendar arithmetic on proleptic Gregorian dates, exact (no Date object, no time zone). */

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil); negative before 1970. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Parse a strict `YYYY-MM-DD` date into days since 1970-01-01. Returns `'format'` when the text is not in that form and
 * `'calendar'` when it is but names no real day (2023-02-30, 2023-13-01).
 */
export function parseDateDays(text: string): number | 'format' | 'calendar' {
  const match = DATE_TEXT.exec(text);
  if (!match) return 'format';
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return 'calendar';
  return daysFromCivil(year, month, day);
}
