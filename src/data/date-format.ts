/**
 * Dates as data files write them: a date column's `format` (schema), such as `MMM DD YYYY` for "Jun 12 1998" or
 * `DD/MM/YYYY`. Tokens: `YYYY` (four digits), `MM` / `DD` (two digits), `M` / `D` (one or two digits), `MMM` (Jan to Dec)
 * and `MMMM` (January to December), month names in English and in any letter case; every other character of the
 * format is matched literally, and a format may not hold other letters (so `YYYY-mm-dd` is refused, not misread).
 * Parsing is exact: the whole cell must match, and the day must exist in the calendar.
 */

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

type Token = 'YYYY' | 'MMMM' | 'MMM' | 'MM' | 'M' | 'DD' | 'D';
/** Longest first: `MMMM` is not read as `MM` twice. */
const TOKENS: readonly Token[] = ['YYYY', 'MMMM', 'MMM', 'MM', 'M', 'DD', 'D'];
const PATTERNS: Record<Token, string> = {
  YYYY: '(\\d{4})',
  MMMM: '([A-Za-z]+)',
  MMM: '([A-Za-z]{3})',
  MM: '(\\d{2})',
  M: '(\\d{1,2})',
  DD: '(\\d{2})',
  D: '(\\d{1,2})',
};

/** Tokens whose width varies: next to another token they would be ambiguous. */
const VARIABLE: readonly Token[] = ['M', 'D', 'MMMM'];

/** A compiled date format: the pattern and which group holds what. */
export interface DateFormat {
  readonly text: string;
  readonly pattern: RegExp;
  readonly groups: readonly Token[];
}

/** Compile a date format, or say what is wrong with it. */
export function compileDateFormat(format: string): DateFormat | { problem: string } {
  let source = '^';
  const groups: Token[] = [];
  let previous: Token | undefined; // the token just before, when no literal came between
  for (let at = 0; at < format.length;) {
    const token = TOKENS.find((candidate) => format.startsWith(candidate, at));
    if (token) {
      if (previous && (VARIABLE.includes(previous) || VARIABLE.includes(token)))
        return {
          problem: `${previous} and ${token} touch: a token of variable width (M, D, MMMM) needs a separator beside it, or "1112000" could be read two ways`,
        };
      previous = token;
      groups.push(token);
      source += PATTERNS[token];
      at += token.length;
      continue;
    }
    const char = format[at] as string;
    if (/\p{L}/u.test(char))
      return {
        problem: `the letter ${JSON.stringify(char)} at position ${at + 1} is not a token (YYYY, MM, M, MMM, MMMM, DD, D)`,
      };
    source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    previous = undefined;
    at += 1;
  }
  const count = (kinds: Token[]) => groups.filter((token) => kinds.includes(token)).length;
  if (count(['YYYY']) !== 1 || count(['MMMM', 'MMM', 'MM', 'M']) !== 1 || count(['DD', 'D']) !== 1)
    return { problem: 'a date format holds exactly one year (YYYY), one month (MM, M, MMM, MMMM) and one day (DD, D)' };
  return { text: format, pattern: new RegExp(`${source}$`, 'u'), groups };
}

/** The year, month and day of `text` written in `format`, or `undefined` when it does not match the format. */
export function readDateParts(
  format: DateFormat,
  text: string,
): { year: number; month: number; day: number } | undefined {
  const match = format.pattern.exec(text);
  if (!match) return undefined;
  let year = 0;
  let month = 0;
  let day = 0;
  for (const [index, token] of format.groups.entries()) {
    const value = match[index + 1] as string;
    switch (token) {
      case 'YYYY':
        year = Number(value);
        break;
      case 'MMMM':
      case 'MMM': {
        const lower = value.toLowerCase();
        const found = MONTHS.findIndex((name) => (token === 'MMM' ? name.slice(0, 3) === lower : name === lower));
        if (found === -1) return undefined;
        month = found + 1;
        break;
      }
      case 'MM':
      case 'M':
        month = Number(value);
        break;
      case 'DD':
      case 'D':
        day = Number(value);
        break;
    }
  }
  return { year, month, day };
}
