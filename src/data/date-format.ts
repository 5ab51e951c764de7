/**
 * Dates and times as data files write them: a date or datetime column's `format` (schema), such as `MMM DD YYYY` for
 * "Jun 12 1998", `DD/MM/YYYY`, or `YYYY/MM/DD HH:mm` for a timestamp.
 *
 * Date tokens: `YYYY` (four digits), `MM` / `DD` (two digits), `M` / `D` (one or two digits), `MMM` (Jan to Dec) and
 * `MMMM` (January to December), month names in English and in any letter case. Time tokens (datetime columns only):
 * `HH` / `H` (hour 0 to 23, two digits / one or two), `mm` (minutes), `ss` (seconds, optional: 0 when absent) and `Z`
 * (the cell's own zone: `Z` or an offset `+02:00`, `-0530`). Every other character of the format is matched literally;
 * a format may not hold other letters than `T` (ISO 8601's separator) (so `YYYY-mm-dd` is refused, not misread), and a token of variable width may not
 * touch another token (`DMYYYY` would read "1112000" two ways). Parsing is exact: the whole cell must match, and the
 * day must exist in the calendar.
 *
 * A datetime is an instant: seconds since 1970-01-01T00:00:00Z. Its zone comes from the cell (`Z` token) or from the
 * column's `timezone` (`UTC` or `+HH:MM`), which is required when the format has no `Z`: a time is never read in
 * whatever zone the machine happens to be in.
 */
import { parseDateDays } from './calendar.ts';

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

type DateToken = 'YYYY' | 'MMMM' | 'MMM' | 'MM' | 'M' | 'DD' | 'D';
type TimeToken = 'HH' | 'H' | 'mm' | 'ss' | 'Z';
type Token = DateToken | TimeToken;
/** Longest first: `MMMM` is not read as `MM` twice. */
const DATE_TOKENS: readonly Token[] = ['YYYY', 'MMMM', 'MMM', 'MM', 'M', 'DD', 'D'];
const TIME_TOKENS: readonly Token[] = ['HH', 'H', 'mm', 'ss', 'Z'];
const PATTERNS: Record<Token, string> = {
  YYYY: '(\\d{4})',
  MMMM: '([A-Za-z]+)',
  MMM: '([A-Za-z]{3})',
  MM: '(\\d{2})',
  M: '(\\d{1,2})',
  DD: '(\\d{2})',
  D: '(\\d{1,2})',
  HH: '(\\d{2})',
  H: '(\\d{1,2})',
  mm: '(\\d{2})',
  ss: '(\\d{2})',
  Z: '(Z|[+-]\\d{2}:?\\d{2})',
};

/** Tokens whose width varies: next to another token they would be ambiguous. */
const VARIABLE: readonly Token[] = ['M', 'D', 'MMMM', 'H'];

/** The format of a datetime column without one: ISO 8601 with the zone in the cell. */
export const DEFAULT_DATETIME_FORMAT = 'YYYY-MM-DDTHH:mm:ssZ';

/** A compiled format: the pattern and which group holds what. */
export interface DateFormat {
  readonly text: string;
  readonly pattern: RegExp;
  readonly groups: readonly Token[];
  /** Whether cells carry their own zone (a `Z` token). */
  readonly zoned: boolean;
}

/** Compile a date format (`date`) or a date-and-time format (`datetime`), or say what is wrong with it. */
export function compileDateFormat(
  format: string,
  kind: 'date' | 'datetime' = 'date',
): DateFormat | { problem: string } {
  const tokens = kind === 'date' ? DATE_TOKENS : [...DATE_TOKENS, ...TIME_TOKENS];
  let source = '^';
  const groups: Token[] = [];
  let previous: Token | undefined; // the token just before, when no literal came between
  for (let at = 0; at < format.length;) {
    const token = tokens.find((candidate) => format.startsWith(candidate, at));
    if (token) {
      if (previous && (VARIABLE.includes(previous) || VARIABLE.includes(token)))
        return {
          problem: `${previous} and ${token} touch: a token of variable width (M, D, MMMM, H) needs a separator beside it, or "1112000" could be read two ways`,
        };
      previous = token;
      groups.push(token);
      source += PATTERNS[token];
      at += token.length;
      continue;
    }
    const char = format[at] as string;
    if (/\d/.test(char))
      return {
        problem: `the digit ${char} at position ${at + 1} would be read as part of a number beside it; formats hold tokens, separators and letters T`,
      };
    if (/\p{L}/u.test(char) && char !== 'T')
      return {
        problem: `the letter ${JSON.stringify(char)} at position ${at + 1} is not a token (${tokens.join(', ')})`,
      };
    source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    previous = undefined;
    at += 1;
  }
  const count = (kinds: Token[]) => groups.filter((token) => kinds.includes(token)).length;
  if (count(['YYYY']) !== 1 || count(['MMMM', 'MMM', 'MM', 'M']) !== 1 || count(['DD', 'D']) !== 1)
    return { problem: 'a date format holds exactly one year (YYYY), one month (MM, M, MMM, MMMM) and one day (DD, D)' };
  if (kind === 'datetime' && (count(['HH', 'H']) !== 1 || count(['mm']) !== 1 || count(['ss']) > 1 || count(['Z']) > 1))
    return {
      problem:
        'a date-and-time format holds one hour (HH, H) and one minute (mm), and at most one second (ss) and zone (Z)',
    };
  return { text: format, pattern: new RegExp(`${source}$`, 'u'), groups, zoned: groups.includes('Z') };
}

/** The parts of a cell written in a format; `undefined` when it does not match. Not checked against the calendar. */
interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** The cell's own zone, in minutes east of UTC, when the format has `Z`. */
  offsetMinutes: number | undefined;
}

function readParts(format: DateFormat, text: string): Parts | undefined {
  const match = format.pattern.exec(text);
  if (!match) return undefined;
  const parts: Parts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, offsetMinutes: undefined };
  for (const [index, token] of format.groups.entries()) {
    const value = match[index + 1] as string;
    switch (token) {
      case 'YYYY':
        parts.year = Number(value);
        break;
      case 'MMMM':
      case 'MMM': {
        const lower = value.toLowerCase();
        const found = MONTHS.findIndex((name) => (token === 'MMM' ? name.slice(0, 3) === lower : name === lower));
        if (found === -1) return undefined;
        parts.month = found + 1;
        break;
      }
      case 'MM':
      case 'M':
        parts.month = Number(value);
        break;
      case 'DD':
      case 'D':
        parts.day = Number(value);
        break;
      case 'HH':
      case 'H':
        parts.hour = Number(value);
        break;
      case 'mm':
        parts.minute = Number(value);
        break;
      case 'ss':
        parts.second = Number(value);
        break;
      case 'Z': {
        const offset = parseOffset(value);
        if (offset === undefined) return undefined;
        parts.offsetMinutes = offset;
        break;
      }
    }
  }
  return parts;
}

/** Minutes east of UTC of `Z`, `+HH:MM`, `-HHMM` (at most 18 hours); `undefined` otherwise. */
export function parseOffset(text: string): number | undefined {
  if (text === 'Z' || text === 'UTC') return 0;
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (!match) return undefined;
  const hours = Number(match[2]);
  const minutes = Number(match[3]);
  if (minutes > 59 || hours * 60 + minutes > 18 * 60) return undefined;
  if (match[1] === '-' && hours === 0 && minutes === 0) return undefined; // RFC 3339: -00:00 is "offset unknown"
  return (match[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

/** The days since 1970-01-01 of a date cell written in `format`: `'format'` or `'calendar'` when it is not one. */
export function readDateDays(format: DateFormat, text: string): number | 'format' | 'calendar' {
  const parts = readParts(format, text);
  if (!parts) return 'format';
  return parseDateDays(isoDate(parts));
}

/**
 * The instant of a datetime cell, in seconds since 1970-01-01T00:00:00Z: `'format'` when the cell does not match,
 * `'calendar'` when it names no real day or time (2023-02-30, 24:00, 12:60).
 *
 * @param offsetMinutes the column's zone, used when the format has no `Z`
 */
export function readInstant(
  format: DateFormat,
  text: string,
  offsetMinutes: number | undefined,
): number | 'format' | 'calendar' {
  const parts = readParts(format, text);
  if (!parts) return 'format';
  const days = parseDateDays(isoDate(parts));
  if (typeof days !== 'number') return days;
  if (parts.hour > 23 || parts.minute > 59 || parts.second > 59) return 'calendar';
  const offset = parts.offsetMinutes ?? offsetMinutes ?? 0;
  return days * 86_400 + parts.hour * 3600 + parts.minute * 60 + parts.second - offset * 60;
}

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/**
 * The instant of `YYYY-MM-DDTHH:mm:ssZ` (UTC, as schema bounds and policy constants write it), in seconds since
 * 1970-01-01T00:00:00Z; `'format'` or `'calendar'` when it is not one.
 */
export function parseIsoInstant(text: string): number | 'format' | 'calendar' {
  const match = ISO_INSTANT.exec(text);
  if (!match) return 'format';
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const days = parseDateDays(isoDate({ year, month, day }));
  if (typeof days !== 'number') return days;
  if (hour > 23 || minute > 59 || second > 59) return 'calendar';
  return days * 86_400 + hour * 3600 + minute * 60 + second;
}

/**
 * `YYYY-MM-DDTHH:mm:ssZ` of an instant in seconds since 1970-01-01T00:00:00Z; `undefined` outside the years 0000 to
 * 9999 (which that form cannot write).
 */
export function formatIsoInstant(seconds: number): string | undefined {
  if (!Number.isSafeInteger(seconds) || seconds < -62_167_219_200 || seconds > 253_402_300_799) return undefined;
  const days = Math.floor(seconds / 86_400);
  const rest = seconds - days * 86_400;
  const date = new Date(days * 86_400_000).toISOString().slice(0, 10);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date}T${pad(Math.floor(rest / 3600))}:${pad(Math.floor((rest % 3600) / 60))}:${pad(rest % 60)}Z`;
}

function isoDate(parts: Pick<Parts, 'year' | 'month' | 'day'>): string {
  return `${String(parts.year).padStart(4, '0')}-${String(parts.month).padStart(2, '0')}-${String(parts.day).padStart(2, '0')}`;
}
