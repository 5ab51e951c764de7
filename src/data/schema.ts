import { readFile } from 'node:fs/promises';
import { InputFileError, ZkaiError } from '../errors.ts';
import { poseidonText } from '../crypto/poseidon-bytes.ts';
import { lineBreakingCharacter } from '../util/text.ts';
import { parseDateDays } from './calendar.ts';
import { compileDateFormat, DEFAULT_DATETIME_FORMAT, parseIsoInstant, parseOffset } from './date-format.ts';
import type { Column, ColumnSpec, Schema, SchemaSpec } from './types.ts';

/** A schema file is malformed. The message names the column (when there is one) and the problem. */
export class SchemaError extends ZkaiError {
  /** The column at fault, when the problem belongs to one. */
  readonly column: string | undefined;
  /** The file (or other source) the schema came from, when known. */
  readonly source: string | undefined;

  constructor(message: string, options: { column?: string; source?: string; hint?: string } = {}) {
    const where = options.column === undefined ? '' : `column "${options.column}": `;
    super('BAD_SCHEMA', `${options.source === undefined ? '' : `${options.source}: `}${where}${message}`, {
      ...(options.hint === undefined ? {} : { hint: options.hint }),
    });
    this.column = options.column;
    this.source = options.source;
  }
}

/**
 * Ordered, category and boolean columns must encode into at most this many bits, so circuits can compare them with
 * 64-bit comparators. Address columns ({@link ADDRESS_BITS}) are exempt: they are unordered.
 */
export const MAX_COLUMN_BITS = 64;
/**
 * Bits of an address column: an Ethereum account is an unsigned 160-bit integer. Its values are packed in the leaf
 * like any other (a packed element holds up to PACK_BITS = 250 bits, see leaf.ts) and range-checked to 160 bits there.
 */
export const ADDRESS_BITS = 160;
/** Bits reserved for a string column: its encoding is a Poseidon hash (a full field element), compared only for equality. */
export const STRING_BITS = 253;
/** Default maximum UTF-8 length of a string cell. */
export const DEFAULT_STRING_MAX_BYTES = 256;
/** Default bounds of a date column. */
export const DEFAULT_DATE_MIN = '1970-01-01';
export const DEFAULT_DATE_MAX = '2199-12-31';
/** Default bounds of a datetime column (UTC instants). */
export const DEFAULT_DATETIME_MIN = '1970-01-01T00:00:00Z';
export const DEFAULT_DATETIME_MAX = '2199-12-31T23:59:59Z';
/** Largest decimal scale (10^18 still leaves room in 64 bits for small ranges). */
export const MAX_DECIMAL_SCALE = 18;

const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

const TYPE_KEYS: Record<ColumnSpec['type'], readonly string[]> = {
  integer: ['min', 'max'],
  decimal: ['scale', 'min', 'max'],
  date: ['min', 'max', 'format'],
  datetime: ['min', 'max', 'format', 'timezone'],
  boolean: [],
  category: ['values'],
  string: ['maxBytes'],
  address: [],
};
const COMMON_KEYS = ['name', 'type', 'nullable', 'source'];
const TOP_KEYS = ['name', 'columns', 'subjectId', 'otherColumns'];

// ---------------------------------------------------------------------------------------------------------------
// Exact number helpers, shared with the encoder.

export { daysFromCivil, parseDateDays } from './calendar.ts';

/**
 * Parse an exact decimal text (`^-?\d+(\.\d+)?$`) into an integer scaled by `10^scale`. Returns `'format'` for any
 * other text and `{ places }` when it has more than `scale` decimal places (it is never rounded).
 */
export function parseScaledDecimal(text: string, scale: number): bigint | 'format' | { places: number } {
  if (!DECIMAL_TEXT.test(text)) return 'format';
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  if (fraction.length > scale) return { places: fraction.length };
  const magnitude = BigInt(whole) * 10n ** BigInt(scale) + (scale === 0 ? 0n : BigInt(fraction.padEnd(scale, '0')));
  return negative ? -magnitude : magnitude;
}

/** Format an integer scaled by `10^scale` as decimal text with exactly `scale` places (`105n, 1` -> `"10.5"`). */
export function formatScaledDecimal(scaled: bigint, scale: number): string {
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** Number of bits needed to write `value` (a non-negative integer) in binary; at least 1. */
export function bitLength(value: bigint): number {
  return value <= 0n ? 1 : value.toString(2).length;
}

// ---------------------------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}`;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Validates one column and returns its normalized spec (fixed key order, defaults filled in) and its numbers. */
function parseColumn(
  raw: unknown,
  position: number,
  source: string | undefined,
): { spec: ColumnSpec; maxEncoded: bigint | undefined } {
  if (!isRecord(raw)) throw new SchemaError(`column #${position + 1} is ${show(raw)}, expected an object`, { source });
  const name = raw.name;
  if (typeof name !== 'string') {
    throw new SchemaError(
      `column #${position + 1} has ${name === undefined ? 'no "name"' : `the name ${show(name)}, which is not a string`}`,
      { source },
    );
  }
  const fail = (message: string, hint?: string): never => {
    throw new SchemaError(message, { column: name, source, ...(hint === undefined ? {} : { hint }) });
  };
  if (!COLUMN_NAME.test(name))
    fail('the name must match [A-Za-z_][A-Za-z0-9_]* (letters, digits and _, not starting with a digit)');
  const type = raw.type;
  if (typeof type !== 'string' || !Object.hasOwn(TYPE_KEYS, type)) {
    fail(`unknown type ${show(type)} (expected one of ${Object.keys(TYPE_KEYS).join(', ')})`);
  }
  const columnType = type as ColumnSpec['type'];
  const allowed = [...COMMON_KEYS, ...TYPE_KEYS[columnType]];
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) fail(`unknown key "${key}" (${columnType} columns take ${allowed.join(', ')})`);
  }
  if (raw.nullable !== undefined && typeof raw.nullable !== 'boolean')
    fail(`"nullable" must be true or false, got ${show(raw.nullable)}`);
  const nullable = raw.nullable === true;
  if (raw.source !== undefined) {
    if (typeof raw.source !== 'string' || raw.source === '')
      fail(`"source" must be the column's header or key in the data files (non-empty text), got ${show(raw.source)}`);
    const breaking = lineBreakingCharacter(raw.source as string);
    if (breaking)
      fail(
        `"source" must be one line of text: it holds the control character ${breaking.codePoint} at position ${breaking.index}`,
      );
  }
  switch (columnType) {
    case 'integer': {
      const bound = (key: 'min' | 'max'): bigint => {
        const value = raw[key];
        if (value === undefined) return fail(`"${key}" is required for integer columns`);
        if (typeof value === 'number') {
          if (!Number.isInteger(value)) return fail(`${key} ${value} is not an integer`);
          if (!Number.isSafeInteger(value))
            return fail(`${key} ${value} is beyond 2^53; write it as a string of digits`);
          return BigInt(value);
        }
        if (typeof value === 'string' && INTEGER_TEXT.test(value)) return BigInt(value);
        return fail(`${key} ${show(value)} is not an integer (use a JSON integer or a string of digits)`);
      };
      const min = bound('min');
      const max = bound('max');
      if (min > max) fail(`min ${min} is greater than max ${max}`);
      return { spec: { name, type: 'integer', nullable, min: `${min}`, max: `${max}` }, maxEncoded: max - min };
    }
    case 'decimal': {
      const scale = raw.scale;
      if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 0 || scale > MAX_DECIMAL_SCALE) {
        return fail(
          `scale ${show(scale)} must be an integer from 0 to ${MAX_DECIMAL_SCALE} (digits after the decimal point)`,
        );
      }
      const bound = (key: 'min' | 'max'): bigint => {
        const value = raw[key];
        if (value === undefined) return fail(`"${key}" is required for decimal columns`);
        if (typeof value !== 'string') {
          return fail(
            `${key} ${show(value)} must be a string such as "10.5" (decimal bounds are written as exact text)`,
          );
        }
        const parsed = parseScaledDecimal(value, scale);
        if (parsed === 'format')
          return fail(
            `${key} ${show(value)} is not an exact decimal (expected digits with an optional "." part, e.g. "-10.25")`,
          );
        if (typeof parsed === 'object')
          return fail(`${key} ${show(value)} has ${parsed.places} decimal places but the scale is ${scale}`);
        return parsed;
      };
      const min = bound('min');
      const max = bound('max');
      if (min > max)
        fail(`min ${formatScaledDecimal(min, scale)} is greater than max ${formatScaledDecimal(max, scale)}`);
      return {
        spec: {
          name,
          type: 'decimal',
          nullable,
          scale,
          min: formatScaledDecimal(min, scale),
          max: formatScaledDecimal(max, scale),
        },
        maxEncoded: max - min,
      };
    }
    case 'date': {
      const bound = (key: 'min' | 'max', fallback: string): { text: string; days: number } => {
        const value = raw[key] ?? fallback;
        if (typeof value !== 'string') return fail(`${key} ${show(value)} must be a date string YYYY-MM-DD`);
        const days = parseDateDays(value);
        if (days === 'format') return fail(`${key} ${show(value)} is not a date in YYYY-MM-DD form`);
        if (days === 'calendar') return fail(`${key} ${show(value)} is not a calendar date`);
        return { text: value, days };
      };
      const min = bound('min', DEFAULT_DATE_MIN);
      const max = bound('max', DEFAULT_DATE_MAX);
      if (min.days > max.days) fail(`min ${min.text} is after max ${max.text}`);
      if (raw.format !== undefined) {
        if (typeof raw.format !== 'string' || raw.format === '')
          fail(`"format" must be how the data files write dates (text such as "MMM DD YYYY"), got ${show(raw.format)}`);
        const compiled = compileDateFormat(raw.format as string);
        if ('problem' in compiled) fail(`"format" ${show(raw.format)}: ${compiled.problem}`);
      }
      return {
        spec: { name, type: 'date', nullable, min: min.text, max: max.text },
        maxEncoded: BigInt(max.days - min.days),
      };
    }
    case 'datetime': {
      const bound = (key: 'min' | 'max', fallback: string): { text: string; seconds: number } => {
        const value = raw[key] ?? fallback;
        if (typeof value !== 'string') return fail(`${key} ${show(value)} must be an instant YYYY-MM-DDTHH:mm:ssZ`);
        const seconds = parseIsoInstant(value);
        if (seconds === 'format')
          return fail(`${key} ${show(value)} is not an instant in YYYY-MM-DDTHH:mm:ssZ form (UTC)`);
        if (seconds === 'calendar') return fail(`${key} ${show(value)} is not a real date and time`);
        return { text: value, seconds };
      };
      const min = bound('min', DEFAULT_DATETIME_MIN);
      const max = bound('max', DEFAULT_DATETIME_MAX);
      if (min.seconds > max.seconds) fail(`min ${min.text} is after max ${max.text}`);
      const formatText = raw.format === undefined ? DEFAULT_DATETIME_FORMAT : raw.format;
      if (typeof formatText !== 'string' || formatText === '')
        return fail(
          `"format" must be how the data files write these instants (text such as "YYYY/MM/DD HH:mm"), got ${show(raw.format)}`,
        );
      const compiled = compileDateFormat(formatText, 'datetime');
      if ('problem' in compiled) return fail(`"format" ${show(formatText)}: ${compiled.problem}`);
      if (compiled.zoned && raw.timezone !== undefined)
        fail(`"timezone" is given, but the format's Z reads each cell's own zone: drop one of them`);
      if (!compiled.zoned) {
        if (raw.timezone === undefined)
          fail(
            `the format ${show(formatText)} has no zone (Z), so "timezone" must say which zone the cells are in ("UTC" or an offset such as "+02:00")`,
          );
        if (typeof raw.timezone !== 'string' || raw.timezone === 'Z' || parseOffset(raw.timezone) === undefined)
          fail(`"timezone" must be "UTC" or an offset such as "+02:00" or "-05:30", got ${show(raw.timezone)}`);
      }
      return {
        spec: { name, type: 'datetime', nullable, min: min.text, max: max.text },
        maxEncoded: BigInt(max.seconds - min.seconds),
      };
    }
    case 'boolean':
      return { spec: { name, type: 'boolean', nullable }, maxEncoded: 1n };
    case 'category': {
      const values = raw.values;
      if (!Array.isArray(values)) return fail(`"values" must be an array of strings, got ${show(values)}`);
      if (values.length === 0) fail('"values" is empty: a category needs at least one value');
      const seen = new Set<string>();
      for (const value of values) {
        if (typeof value !== 'string') fail(`category value ${show(value)} is not a string`);
        if (value === '') fail('category value "" is empty (an empty cell means null, so it could never be written)');
        if (seen.has(value)) fail(`category value ${show(value)} appears more than once`);
        seen.add(value);
      }
      return {
        spec: { name, type: 'category', nullable, values: [...(values as string[])] },
        maxEncoded: BigInt(values.length - 1),
      };
    }
    case 'string': {
      const maxBytes = raw.maxBytes ?? DEFAULT_STRING_MAX_BYTES;
      if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1) {
        fail(`maxBytes ${show(maxBytes)} must be a positive integer`);
      }
      return { spec: { name, type: 'string', nullable, maxBytes: maxBytes as number }, maxEncoded: undefined };
    }
    case 'address':
      return { spec: { name, type: 'address', nullable }, maxEncoded: (1n << BigInt(ADDRESS_BITS)) - 1n };
  }
}

/** A date or datetime column's `format` (when not the default) and `timezone`, as the Column keeps them. */
function layoutOf(
  type: ColumnSpec['type'],
  raw: { format?: unknown; timezone?: unknown },
): { format?: string; timezone?: string } {
  if (type !== 'date' && type !== 'datetime') return {};
  const fallback = type === 'date' ? 'YYYY-MM-DD' : DEFAULT_DATETIME_FORMAT;
  return {
    ...(typeof raw.format === 'string' && raw.format !== fallback ? { format: raw.format } : {}),
    ...(type === 'datetime' && typeof raw.timezone === 'string' ? { timezone: raw.timezone } : {}),
  };
}

/**
 * Validate a schema (parsed JSON) and compute what circuits need for each column.
 *
 * Per column: `bits` is the bit length of `maxEncoded` (at least 1; {@link STRING_BITS} for strings), `maxEncoded` is
 * the largest encoded value (integer: max-min; decimal: (max-min)*10^scale; date: maxDays-minDays with defaults
 * 1970-01-01..2199-12-31; boolean: 1; category: values.length-1; string: undefined; address: 2^160-1) and `ordered` is
 * true for integer, decimal, date and datetime columns. Columns other than string and address needing more than
 * {@link MAX_COLUMN_BITS} bits are rejected (an address takes {@link ADDRESS_BITS}, but is never ordered).
 *
 * Unknown keys (at the top level or in a column) are errors, so a misspelt option is never silently ignored.
 *
 * Four keys say where and how values are written in data files and are not part of the hash (the same data under other headers
 * is the same statement): a column's `source`, its header (CSV) or key (JSON) when that is not its name (any one
 * line of text: spaces, `$`, punctuation), a date column's `format` (how the files write its dates, see
 * `src/data/date-format.ts`; bounds and policy constants stay `YYYY-MM-DD`), and the top-level `otherColumns`: `"ignore"` lets data files hold columns
 * the schema does not list (skipped, and reported by `readDataset`), `"refuse"` (the default) does not.
 *
 * The returned `spec` is the **normalized** spec, and `JSON.stringify(schema.spec)` is the canonical form whose
 * {@link poseidonText} is `hash` (as a decimal string). The canonical form is JSON without whitespace, with:
 * - top level keys in the order `name`, `columns`, `subjectId` (`subjectId` omitted when absent);
 * - each column's keys in the order `name`, `type`, `nullable` (always present, `false` by default), then by type:
 *   integer `min`, `max` as decimal integer strings (`"0"`, `"-5"`, no leading zeros); decimal `scale`, `min`, `max`
 *   with `min`/`max` as strings with exactly `scale` decimal places (`"10.0"`); date `min`, `max` (defaults filled in);
 *   boolean nothing more; category `values` in the given order (the order defines the encoding); string `maxBytes`
 *   (default 256 filled in); address nothing more (`{"name":"account","type":"address","nullable":false}`).
 * So the same schema written with other key orders, `0` vs `"0"` bounds or omitted defaults has the same hash, and any
 * change of meaning (a bound, a type, the name, the column order, nullability) changes it. `parseSchema(schema.spec)`
 * returns the same hash.
 *
 * @param spec the schema, as parsed from JSON
 * @param source where it came from (a file path), prefixed to error messages
 * @throws SchemaError (code `BAD_SCHEMA`) naming the column and the problem
 */
export function parseSchema(spec: unknown, source?: string): Schema {
  if (!isRecord(spec)) throw new SchemaError(`a schema must be a JSON object, got ${show(spec)}`, { source });
  for (const key of Object.keys(spec)) {
    if (!TOP_KEYS.includes(key))
      throw new SchemaError(`unknown key "${key}" (a schema takes ${TOP_KEYS.join(', ')})`, { source });
  }
  if (typeof spec.name !== 'string' || spec.name === '') {
    throw new SchemaError(`"name" must be a non-empty string, got ${show(spec.name)}`, { source });
  }
  const breaking = lineBreakingCharacter(spec.name);
  if (breaking)
    throw new SchemaError(
      `"name" must be one line of text: it holds the control character ${breaking.codePoint} at position ${breaking.index}`,
      { source },
    );
  if (!Array.isArray(spec.columns) || spec.columns.length === 0) {
    throw new SchemaError(`"columns" must be a non-empty array of columns, got ${show(spec.columns)}`, { source });
  }

  const columnSpecs: ColumnSpec[] = [];
  const columns: Column[] = [];
  const names = new Set<string>();
  spec.columns.forEach((raw, index) => {
    const { spec: columnSpec, maxEncoded } = parseColumn(raw, index, source);
    if (names.has(columnSpec.name))
      throw new SchemaError('the name is used by more than one column', { column: columnSpec.name, source });
    names.add(columnSpec.name);
    const bits = maxEncoded === undefined ? STRING_BITS : bitLength(maxEncoded);
    // An address (160 bits) is exempt: it is unordered, so no comparator is ever built on its value (EQ, NE, IN and
    // NIN are (in)equalities; UNIQUE and registries compare keys with LessThan(161) at most, within circomlib's 252).
    if (maxEncoded !== undefined && bits > MAX_COLUMN_BITS && columnSpec.type !== 'address') {
      throw new SchemaError(
        `encoded values need ${bits} bits but non-string columns may use at most ${MAX_COLUMN_BITS} (max - min${columnSpec.type === 'decimal' ? ' times 10^scale' : ''} must be below 2^64); narrow the bounds${columnSpec.type === 'decimal' ? ' or lower the scale' : ''}`,
        { column: columnSpec.name, source },
      );
    }
    columnSpecs.push(columnSpec);
    const header = (raw as { source?: string }).source;
    columns.push({
      name: columnSpec.name,
      index,
      spec: columnSpec,
      nullable: columnSpec.nullable === true,
      bits,
      maxEncoded,
      ordered:
        columnSpec.type === 'integer' ||
        columnSpec.type === 'decimal' ||
        columnSpec.type === 'date' ||
        columnSpec.type === 'datetime',
      ...(header === undefined || header === columnSpec.name ? {} : { source: header }),
      ...layoutOf(columnSpec.type, raw as { format?: unknown; timezone?: unknown }),
    });
  });
  for (const column of columns) {
    const named = column.source === undefined ? undefined : columns.find((other) => other.name === column.source);
    if (named)
      throw new SchemaError(
        `its "source" ${JSON.stringify(column.source)} is the name of column "${named.name}": a file column called that would fill this one while policies read "${named.name}" as the other (choose another source, or rename the columns)`,
        { column: column.name, source },
      );
  }
  const readFrom = new Map<string, string>();
  for (const column of columns) {
    const header = column.source ?? column.name;
    const other = readFrom.get(header);
    if (other !== undefined)
      throw new SchemaError(
        `reads the data files' column ${JSON.stringify(header)}, which column "${other}" reads too (give each its own "source")`,
        { column: column.name, source },
      );
    readFrom.set(header, column.name);
  }
  if (spec.otherColumns !== undefined && spec.otherColumns !== 'ignore' && spec.otherColumns !== 'refuse')
    throw new SchemaError(
      `"otherColumns" must be "ignore" (data files may hold columns the schema does not list: they are skipped and reported) or "refuse" (the default), got ${show(spec.otherColumns)}`,
      { source },
    );

  const normalized: SchemaSpec = { name: spec.name, columns: columnSpecs };
  if (spec.subjectId !== undefined) {
    const subjectId = spec.subjectId;
    if (typeof subjectId !== 'string')
      throw new SchemaError(`"subjectId" must be a column name, got ${show(subjectId)}`, { source });
    const column = columns.find((c) => c.name === subjectId);
    if (!column) throw new SchemaError(`"subjectId" names "${subjectId}", which is not a column`, { source });
    if (column.spec.type !== 'string' && column.spec.type !== 'integer' && column.spec.type !== 'address') {
      throw new SchemaError(
        `"subjectId" names "${subjectId}", a ${column.spec.type} column; a subject id must be a string, integer or address column`,
        { source },
      );
    }
    normalized.subjectId = subjectId;
  }
  return {
    spec: normalized,
    columns,
    hash: poseidonText(canonicalSchemaJson(normalized)).toString(),
    ...(spec.otherColumns === 'ignore' ? { otherColumns: 'ignore' as const } : {}),
  };
}

/** The canonical JSON of a normalized spec (see {@link parseSchema}): `JSON.stringify` of its fixed key order. */
export function canonicalSchemaJson(normalized: SchemaSpec): string {
  return JSON.stringify(normalized);
}

/**
 * Read and validate a schema file.
 * @throws InputFileError (code `BAD_INPUT_FILE`) when the file cannot be read or is not JSON, naming the file
 * @throws SchemaError (code `BAD_SCHEMA`) when the JSON is not a valid schema, naming the file and the column
 */
export async function loadSchema(path: string): Promise<Schema> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such schema file'
        : code === 'EISDIR'
          ? 'is a directory, not a schema file'
          : `cannot read the schema file (${(error as Error).message})`;
    throw new InputFileError(path, reason, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch (error) {
    throw new InputFileError(path, `the schema is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseSchema(json, path);
}
