/**
 * A policy's predicates: the helpers that parse a policy file's values against a schema (decimals, dates, categories,
 * strings, addresses, encoded like the column's values), and {@link predicateHolds}, the TypeScript meaning of a
 * predicate that the record template's circom (emit.ts) computes too.
 */
import { ZkaiError } from '../errors.ts';
import { parseAddress } from '../data/encode.ts';
import { poseidonText } from '../crypto/poseidon-bytes.ts';
import { DEFAULT_DATETIME_MIN, parseDateDays } from '../data/schema.ts';
import { parseIsoInstant } from '../data/date-format.ts';
import type { Column, EncodedRecord, Schema } from '../data/types.ts';
import type { Fraction, Operator, PolicyScalar, Predicate, PredicateSpec } from './policy.ts';

/** A policy that does not fit its schema or is malformed. */
export class PolicyError extends ZkaiError {
  constructor(message: string) {
    super('BAD_POLICY', message);
  }
}

const OPERATORS: ReadonlySet<string> = new Set([
  'EQ',
  'NE',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'NOT-BETWEEN',
  'IN',
  'NIN',
  'NOT-NULL',
  'ABSENT',
]);
const ORDERED_OPS: ReadonlySet<string> = new Set(['LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'NOT-BETWEEN']);

/** Most digits a policy number may have: keeps every cross-multiplied check far below the field modulus. */
export const MAX_POLICY_DIGITS = 30;

/** Parse an exact decimal string into num/10^places (at most {@link MAX_POLICY_DIGITS} digits). */
export function parseDecimal(text: string, what: string): Fraction {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new PolicyError(`${what}: "${text}" is not a decimal number`);
  if ((match[2]?.length ?? 0) + (match[3]?.length ?? 0) > MAX_POLICY_DIGITS)
    throw new PolicyError(`${what}: "${text}" has more than ${MAX_POLICY_DIGITS} digits`);
  const places = match[3]?.length ?? 0;
  const digits = BigInt(`${match[2]}${match[3] ?? ''}`);
  return { num: match[1] ? -digits : digits, den: 10n ** BigInt(places) };
}

/** A policy scalar as text, as the canonical policy and the reports write it. */
export function scalarText(value: PolicyScalar): string {
  return typeof value === 'number' ? (Number.isInteger(value) ? value.toString() : String(value)) : String(value);
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` date. */
function daysOf(text: string, what: string): bigint {
  const days = parseDateDays(text);
  if (typeof days !== 'number') throw new PolicyError(`${what}: "${text}" is not a date YYYY-MM-DD`);
  return BigInt(days);
}

/** Seconds since 1970-01-01T00:00:00Z of a `YYYY-MM-DDTHH:mm:ssZ` instant. */
function secondsOf(text: string, what: string): bigint {
  const seconds = parseIsoInstant(text);
  if (typeof seconds !== 'number')
    throw new PolicyError(`${what}: "${text}" is not a date and time YYYY-MM-DDTHH:mm:ssZ (UTC)`);
  return BigInt(seconds);
}

/** Refuse keys a policy object may not have: a misspelled key ("wehn", "mn") must not silently weaken a policy. */
export function onlyKeys(value: object, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0)
    throw new PolicyError(
      `${what}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (allowed: ${allowed.join(', ')})`,
    );
}

const PREDICATE_KEYS = ['field', 'op', 'value', 'min', 'max', 'values'] as const;

/** The column's value offset and scale: encoded = scaled - offset. */
export function columnScale(column: Column): { offset: bigint; scale: bigint } {
  const spec = column.spec;
  switch (spec.type) {
    case 'integer':
      return { offset: BigInt(spec.min), scale: 1n };
    case 'decimal': {
      const scale = 10n ** BigInt(spec.scale);
      const min = parseDecimal(spec.min, `column ${column.name} min`);
      return { offset: (min.num * scale) / min.den, scale };
    }
    case 'date':
      return { offset: daysOf(spec.min ?? '1970-01-01', `column ${column.name} min`), scale: 1n };
    case 'datetime':
      return { offset: secondsOf(spec.min ?? DEFAULT_DATETIME_MIN, `column ${column.name} min`), scale: 1n };
    default:
      return { offset: 0n, scale: 1n };
  }
}

/** A constant in the column's scaled units (unbounded: it may lie outside the column's range). */
export function scaledConstant(column: Column, value: PolicyScalar, what: string): bigint {
  const spec = column.spec;
  if (spec.type === 'date') {
    if (typeof value !== 'string') throw new PolicyError(`${what}: a date must be a string YYYY-MM-DD`);
    return daysOf(value, what);
  }
  if (spec.type === 'datetime') {
    if (typeof value !== 'string')
      throw new PolicyError(`${what}: a date and time must be a string YYYY-MM-DDTHH:mm:ssZ (UTC)`);
    return secondsOf(value, what);
  }
  const fraction = parseDecimal(scalarText(value), what);
  const scale = spec.type === 'decimal' ? 10n ** BigInt(spec.scale) : 1n;
  const scaled = fraction.num * scale;
  if (scaled % fraction.den !== 0n)
    throw new PolicyError(`${what}: ${scalarText(value)} has more decimals than column ${column.name} holds`);
  return scaled / fraction.den;
}

/** Encode a policy constant like the column's values. Equality constants must be values the column can hold. */
function encodeConstant(column: Column, value: PolicyScalar, what: string): bigint {
  const spec = column.spec;
  switch (spec.type) {
    case 'integer':
    case 'decimal':
    case 'date':
    case 'datetime':
      return scaledConstant(column, value, what) - columnScale(column).offset;
    case 'boolean':
      if (value === true || value === 'true' || value === 1) return 1n;
      if (value === false || value === 'false' || value === 0) return 0n;
      throw new PolicyError(`${what}: ${JSON.stringify(value)} is not a boolean`);
    case 'category': {
      const index = spec.values.indexOf(String(value));
      if (index < 0)
        throw new PolicyError(
          `${what}: "${String(value)}" is not a value of category column ${column.name} (${spec.values.join(', ')})`,
        );
      return BigInt(index);
    }
    case 'string':
      return poseidonText(String(value));
    case 'address': {
      // Validated like a cell (0x + 40 hex digits, EIP-55 when mixed case), so a checksummed and a lowercase constant
      // encode alike and a mistyped one is refused rather than matching nobody.
      if (typeof value !== 'string')
        throw new PolicyError(
          `${what}: ${JSON.stringify(value)} is not an account address (write it as a string: 0x + 40 hex digits)`,
        );
      const parsed = parseAddress(value);
      if (typeof parsed !== 'bigint')
        throw new PolicyError(`${what}: not an account address of address column ${column.name}: ${parsed.problem}`);
      return parsed;
    }
  }
}

/** The schema's column named `field`, or a {@link PolicyError} naming the columns there are. */
export function findColumn(schema: Schema, field: unknown, what: string): Column {
  const names = schema.columns.map((c) => c.name).join(', ');
  if (field === undefined)
    throw new PolicyError(
      `${what}: it has no "field"; name one of the columns of schema "${schema.spec.name}" (${names})`,
    );
  if (typeof field !== 'string')
    throw new PolicyError(
      `${what}: "field" must be the name of a column (text), got ${field === null ? 'null' : Array.isArray(field) ? 'an array' : typeof field}`,
    );
  const column = schema.columns.find((candidate) => candidate.name === field);
  if (!column)
    throw new PolicyError(
      `${what}: field ${JSON.stringify(field)} is not a column of schema "${schema.spec.name}" (${schema.columns.map((c) => c.name).join(', ')})`,
    );
  return column;
}

/** An operator as the canonical policy writes it (upper case, `-` for `_`); unknown ones are refused. */
export function normalizeOp(op: unknown): Operator {
  const text = String(op).toUpperCase().replace(/_/g, '-');
  if (!OPERATORS.has(text))
    throw new PolicyError(`unknown operator ${JSON.stringify(op)} (known: ${[...OPERATORS].join(', ')})`);
  return text as Operator;
}

/** Validate a predicate against the schema and encode its constants like the column's values. */
export function parsePredicate(schema: Schema, spec: PredicateSpec, what: string, allowWhen = false): Predicate {
  return checkConstants(parsePredicateUnchecked(schema, spec, what, allowWhen), what);
}

function parsePredicateUnchecked(schema: Schema, spec: PredicateSpec, what: string, allowWhen: boolean): Predicate {
  if (typeof spec !== 'object' || spec === null) throw new PolicyError(`${what}: must be an object with field and op`);
  onlyKeys(spec, allowWhen ? [...PREDICATE_KEYS, 'when'] : PREDICATE_KEYS, what);
  const column = findColumn(schema, spec.field, what);
  const op = normalizeOp(spec.op);
  const label = `${what} (${column.name} ${op})`;
  if (ORDERED_OPS.has(op) && !column.ordered)
    throw new PolicyError(
      `${label}: ${op} needs an ordered column (integer, decimal, date, datetime); ${column.name} is ${column.spec.type}`,
    );
  const need = (key: 'value' | 'min' | 'max'): PolicyScalar => {
    const value = spec[key];
    if (value === undefined || value === null) throw new PolicyError(`${label}: "${key}" is required`);
    return value;
  };
  switch (op) {
    case 'NOT-NULL':
    case 'ABSENT':
      return { column, op, constants: [] };
    case 'BETWEEN':
    case 'NOT-BETWEEN': {
      const min = encodeConstant(column, need('min'), `${label} min`);
      const max = encodeConstant(column, need('max'), `${label} max`);
      if (min > max) throw new PolicyError(`${label}: min is above max`);
      return { column, op, constants: [min, max] };
    }
    case 'IN':
    case 'NIN': {
      if (!Array.isArray(spec.values) || spec.values.length === 0)
        throw new PolicyError(`${label}: "values" must be a non-empty list`);
      const encoded = spec.values.map((value, index) => encodeConstant(column, value, `${label} values[${index}]`));
      return { column, op, constants: [...new Set(encoded)] };
    }
    default:
      return { column, op, constants: [encodeConstant(column, need('value'), label)] };
  }
}

/** Constants are bounded so that the circuit never sees them reduced modulo the field (strings are hashes: exempt). */
const CONSTANT_LIMIT = 1n << 200n;
function checkConstants(predicate: Predicate, what: string): Predicate {
  if (predicate.column.spec.type === 'string') return predicate;
  for (const constant of predicate.constants) {
    if (constant >= CONSTANT_LIMIT || constant <= -CONSTANT_LIMIT)
      throw new PolicyError(
        `${what}: a constant of ${predicate.column.name} is too large (its encoding exceeds 2^200)`,
      );
  }
  return predicate;
}

/** A predicate as people read it, for rule and aggregate texts. */
export function describe(spec: PredicateSpec): string {
  const op = String(spec.op).toUpperCase();
  if (spec.values) return `${spec.field} ${op} [${spec.values.map(scalarText).join(', ')}]`;
  if (spec.min !== undefined || spec.max !== undefined)
    return `${spec.field} ${op} [${scalarText(spec.min ?? '')}, ${scalarText(spec.max ?? '')}]`;
  if (spec.value !== undefined) return `${spec.field} ${op} ${scalarText(spec.value)}`;
  return `${spec.field} ${op}`;
}

/** An optional decimal bound as a fraction. */
export function fractionBound(value: PolicyScalar | undefined, what: string): Fraction | undefined {
  return value === undefined ? undefined : parseDecimal(scalarText(value), what);
}

/** Does a record satisfy a predicate? (The circuit computes exactly this.) */
export function predicateHolds(predicate: Predicate, record: Pick<EncodedRecord, 'values' | 'nulls'>): boolean {
  const index = predicate.column.index;
  const isNull = record.nulls[index] === true;
  if (predicate.op === 'ABSENT') return isNull;
  if (predicate.op === 'NOT-NULL') return !isNull;
  if (isNull) return false;
  const v = record.values[index] as bigint;
  const [a, b] = predicate.constants as [bigint, bigint];
  switch (predicate.op) {
    case 'EQ':
      return v === a;
    case 'NE':
      return v !== a;
    case 'LT':
      return v < a;
    case 'LTE':
      return v <= a;
    case 'GT':
      return v > a;
    case 'GTE':
      return v >= a;
    case 'BETWEEN':
      return v >= a && v <= b;
    case 'NOT-BETWEEN':
      return v < a || v > b;
    case 'IN':
      return predicate.constants.includes(v);
    case 'NIN':
      return !predicate.constants.includes(v);
  }
}

/** `min <= value / weight <= max`, cross-multiplied (weight > 0): the arithmetic the circuits and the judge repeat. */
export function withinFraction(
  value: bigint,
  weight: bigint,
  min: Fraction | undefined,
  max: Fraction | undefined,
): boolean {
  // min <= value / weight <= max, cross-multiplied (weight > 0)
  return (!min || value * min.den >= min.num * weight) && (!max || value * max.den <= max.num * weight);
}
