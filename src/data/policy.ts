import { readFile } from 'node:fs/promises';
import { InputFileError, ZkaiError } from '../errors.ts';
import { parseAddress } from './encode.ts';
import { poseidonText } from '../crypto/poseidon-bytes.ts';
import { parseDateDays } from './schema.ts';
import { STRING_KEY_BITS, uniqueKey } from './unique.ts';
import { MAX_REGISTRY_DEPTH, registryHas, registryHasKey, RegistryError, type Registry } from './registry.ts';
import type { Column, EncodedRecord, Schema } from './types.ts';

/** A value in a policy, in the column's own units: a number, a decimal string, a date string, a category... */
export type PolicyScalar = string | number | boolean;

/** Comparison operators. Every one but NOT-NULL and ABSENT is false for a null value. */
export type Operator = 'EQ' | 'NE' | 'LT' | 'LTE' | 'GT' | 'GTE' | 'BETWEEN' | 'NOT-BETWEEN' | 'IN' | 'NIN' | 'NOT-NULL' | 'ABSENT';

/** A predicate on one field of a record, as written in a policy file. */
export interface PredicateSpec {
  field: string;
  op: Operator | string;
  value?: PolicyScalar;
  min?: PolicyScalar;
  max?: PolicyScalar;
  values?: PolicyScalar[];
}

/** A rule: every real record satisfies `predicate` (only those where `when` holds, if given). */
export type RuleSpec = PredicateSpec & { when?: PredicateSpec };

/** An aggregate bound over all real records. Bounds are inclusive; fractions are decimal strings like "0.25". */
export type AggregateSpec =
  | { kind: 'COUNT'; min?: number; max?: number }
  | { kind: 'SUM'; field: string; min?: PolicyScalar; max?: PolicyScalar }
  | { kind: 'MEAN'; field: string; min?: PolicyScalar; max?: PolicyScalar }
  | { kind: 'PROPORTION'; where: PredicateSpec; min?: string | number; max?: string | number }
  | { kind: 'GROUP-PARITY'; groupA: PredicateSpec; groupB: PredicateSpec; outcome: PredicateSpec; maxDifference: string | number }
  | { kind: 'UNIQUE'; field: string };

/**
 * A registry requirement: every real record's `field` is listed in the named registry (MEMBER-OF, a consent set) or
 * none is (NOT-MEMBER-OF, an opt-out list). The registry's root is a public input of the proof; `depth` is its tree
 * depth (it holds up to 2^depth - 1 ids), fixed by the policy because it shapes the circuit.
 */
export interface RegistrySpec {
  kind: 'MEMBER-OF' | 'NOT-MEMBER-OF';
  field: string;
  registry: string;
  depth: number;
}

/** A policy file (JSON). */
export interface PolicySpec {
  name: string;
  rules: RuleSpec[];
  aggregates?: AggregateSpec[];
  registries?: RegistrySpec[];
}

/** A validated registry requirement. */
export interface RegistryRequirement {
  index: number;
  kind: 'MEMBER-OF' | 'NOT-MEMBER-OF';
  column: Column;
  /** The registry's name: proofs, CLI flags and registry files refer to it. */
  name: string;
  depth: number;
  text: string;
}

/** A predicate with its constants encoded like the column's values. */
export interface Predicate {
  column: Column;
  op: Operator;
  /** Encoded constants: one for EQ/NE/LT/LTE/GT/GTE, two (min, max) for (NOT-)BETWEEN, the list for IN/NIN. */
  constants: bigint[];
}

/** A validated rule. */
export interface Rule {
  index: number;
  predicate: Predicate;
  when: Predicate | undefined;
  /** The rule as people read it, for reports. */
  text: string;
}

/** A rational bound num/den (den > 0), in the aggregate's units. */
export interface Fraction {
  num: bigint;
  den: bigint;
}

/** A validated aggregate. SUM and MEAN bounds are in the column's scaled units (integers, 10^scale for decimals). */
export type Aggregate =
  | { kind: 'COUNT'; min: bigint | undefined; max: bigint | undefined; text: string }
  | { kind: 'SUM'; column: Column; offset: bigint; min: bigint | undefined; max: bigint | undefined; text: string }
  | { kind: 'MEAN'; column: Column; offset: bigint; min: Fraction | undefined; max: Fraction | undefined; text: string }
  | { kind: 'PROPORTION'; where: Predicate; min: Fraction | undefined; max: Fraction | undefined; text: string }
  /** |rate of outcome in A - rate of outcome in B| <= maxDifference; both groups must have records. */
  | { kind: 'GROUP-PARITY'; groupA: Predicate; groupB: Predicate; outcome: Predicate; maxDifference: Fraction; text: string }
  /** Every real record has a distinct subject id (the schema's subjectId column). */
  | { kind: 'UNIQUE'; column: Column; text: string };

/** A policy validated against a schema. */
export interface Policy {
  spec: PolicySpec;
  rules: Rule[];
  aggregates: Aggregate[];
  /** Registry requirements, in the order their roots appear in public signals. */
  registries: RegistryRequirement[];
  /** Poseidon hash of the canonical policy, decimal string: public in every proof of this policy. */
  hash: string;
}

/** A policy that does not fit its schema or is malformed. */
export class PolicyError extends ZkaiError {
  constructor(message: string) {
    super('BAD_POLICY', message);
  }
}

const OPERATORS: ReadonlySet<string> = new Set(['EQ', 'NE', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'NOT-BETWEEN', 'IN', 'NIN', 'NOT-NULL', 'ABSENT']);
const ORDERED_OPS: ReadonlySet<string> = new Set(['LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'NOT-BETWEEN']);

/** Parse an exact decimal string into num/10^places. */
/** Most digits a policy number may have: keeps every cross-multiplied check far below the field modulus. */
export const MAX_POLICY_DIGITS = 30;

function parseDecimal(text: string, what: string): Fraction {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new PolicyError(`${what}: "${text}" is not a decimal number`);
  if ((match[2]?.length ?? 0) + (match[3]?.length ?? 0) > MAX_POLICY_DIGITS) throw new PolicyError(`${what}: "${text}" has more than ${MAX_POLICY_DIGITS} digits`);
  const places = match[3]?.length ?? 0;
  const digits = BigInt(`${match[2]}${match[3] ?? ''}`);
  return { num: match[1] ? -digits : digits, den: 10n ** BigInt(places) };
}

function scalarText(value: PolicyScalar): string {
  return typeof value === 'number' ? (Number.isInteger(value) ? value.toString() : String(value)) : String(value);
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` date. */
function daysOf(text: string, what: string): bigint {
  const days = parseDateDays(text);
  if (typeof days !== 'number') throw new PolicyError(`${what}: "${text}" is not a date YYYY-MM-DD`);
  return BigInt(days);
}

/** Refuse keys a policy object may not have: a misspelled key ("wehn", "mn") must not silently weaken a policy. */
function onlyKeys(value: object, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw new PolicyError(`${what}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (allowed: ${allowed.join(', ')})`);
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
    default:
      return { offset: 0n, scale: 1n };
  }
}

/** A constant in the column's scaled units (unbounded: it may lie outside the column's range). */
function scaledConstant(column: Column, value: PolicyScalar, what: string): bigint {
  const spec = column.spec;
  if (spec.type === 'date') {
    if (typeof value !== 'string') throw new PolicyError(`${what}: a date must be a string YYYY-MM-DD`);
    return daysOf(value, what);
  }
  const fraction = parseDecimal(scalarText(value), what);
  const scale = spec.type === 'decimal' ? 10n ** BigInt(spec.scale) : 1n;
  const scaled = fraction.num * scale;
  if (scaled % fraction.den !== 0n) throw new PolicyError(`${what}: ${scalarText(value)} has more decimals than column ${column.name} holds`);
  return scaled / fraction.den;
}

/** Encode a policy constant like the column's values. Equality constants must be values the column can hold. */
function encodeConstant(column: Column, value: PolicyScalar, what: string): bigint {
  const spec = column.spec;
  switch (spec.type) {
    case 'integer':
    case 'decimal':
    case 'date':
      return scaledConstant(column, value, what) - columnScale(column).offset;
    case 'boolean':
      if (value === true || value === 'true' || value === 1) return 1n;
      if (value === false || value === 'false' || value === 0) return 0n;
      throw new PolicyError(`${what}: ${JSON.stringify(value)} is not a boolean`);
    case 'category': {
      const index = spec.values.indexOf(String(value));
      if (index < 0) throw new PolicyError(`${what}: "${String(value)}" is not a value of category column ${column.name} (${spec.values.join(', ')})`);
      return BigInt(index);
    }
    case 'string':
      return poseidonText(String(value));
    case 'address': {
      // Validated like a cell (0x + 40 hex digits, EIP-55 when mixed case), so a checksummed and a lowercase constant
      // encode alike and a mistyped one is refused rather than matching nobody.
      if (typeof value !== 'string') throw new PolicyError(`${what}: ${JSON.stringify(value)} is not an account address (write it as a string: 0x + 40 hex digits)`);
      const parsed = parseAddress(value);
      if (typeof parsed !== 'bigint') throw new PolicyError(`${what}: not an account address of address column ${column.name}: ${parsed.problem}`);
      return parsed;
    }
  }
}

function findColumn(schema: Schema, field: unknown, what: string): Column {
  const column = schema.columns.find((candidate) => candidate.name === field);
  if (!column) throw new PolicyError(`${what}: field ${JSON.stringify(field)} is not a column of schema "${schema.spec.name}" (${schema.columns.map((c) => c.name).join(', ')})`);
  return column;
}

function normalizeOp(op: unknown): Operator {
  const text = String(op).toUpperCase().replace(/_/g, '-');
  if (!OPERATORS.has(text)) throw new PolicyError(`unknown operator ${JSON.stringify(op)} (known: ${[...OPERATORS].join(', ')})`);
  return text as Operator;
}

function parsePredicate(schema: Schema, spec: PredicateSpec, what: string, allowWhen = false): Predicate {
  return checkConstants(parsePredicateUnchecked(schema, spec, what, allowWhen), what);
}

function parsePredicateUnchecked(schema: Schema, spec: PredicateSpec, what: string, allowWhen: boolean): Predicate {
  if (typeof spec !== 'object' || spec === null) throw new PolicyError(`${what}: must be an object with field and op`);
  onlyKeys(spec, allowWhen ? [...PREDICATE_KEYS, 'when'] : PREDICATE_KEYS, what);
  const column = findColumn(schema, spec.field, what);
  const op = normalizeOp(spec.op);
  const label = `${what} (${column.name} ${op})`;
  if (ORDERED_OPS.has(op) && !column.ordered) throw new PolicyError(`${label}: ${op} needs an ordered column (integer, decimal, date); ${column.name} is ${column.spec.type}`);
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
      if (!Array.isArray(spec.values) || spec.values.length === 0) throw new PolicyError(`${label}: "values" must be a non-empty list`);
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
    if (constant >= CONSTANT_LIMIT || constant <= -CONSTANT_LIMIT) throw new PolicyError(`${what}: a constant of ${predicate.column.name} is too large (its encoding exceeds 2^200)`);
  }
  return predicate;
}

function describe(spec: PredicateSpec): string {
  const op = String(spec.op).toUpperCase();
  if (spec.values) return `${spec.field} ${op} [${spec.values.map(scalarText).join(', ')}]`;
  if (spec.min !== undefined || spec.max !== undefined) return `${spec.field} ${op} [${scalarText(spec.min ?? '')}, ${scalarText(spec.max ?? '')}]`;
  if (spec.value !== undefined) return `${spec.field} ${op} ${scalarText(spec.value)}`;
  return `${spec.field} ${op}`;
}

function fractionBound(value: PolicyScalar | undefined, what: string): Fraction | undefined {
  return value === undefined ? undefined : parseDecimal(scalarText(value), what);
}

/** The canonical JSON of a policy: fixed key order, normalized operators, no whitespace. Its hash is the policy hash. */
export function canonicalPolicy(spec: PolicySpec): string {
  const predicate = (p: PredicateSpec) => ({
    field: p.field,
    op: normalizeOp(p.op),
    ...(p.value !== undefined ? { value: scalarText(p.value) } : {}),
    ...(p.min !== undefined ? { min: scalarText(p.min) } : {}),
    ...(p.max !== undefined ? { max: scalarText(p.max) } : {}),
    ...(p.values !== undefined ? { values: p.values.map(scalarText) } : {}),
  });
  const canonical = {
    format: 'zkai-policy-v1',
    name: spec.name,
    rules: spec.rules.map((rule) => ({ ...predicate(rule), ...(rule.when ? { when: predicate(rule.when) } : {}) })),
    aggregates: (spec.aggregates ?? []).map((aggregate) => {
      const { kind } = aggregate;
      return {
        kind,
        ...('field' in aggregate ? { field: aggregate.field } : {}),
        ...('where' in aggregate ? { where: predicate(aggregate.where) } : {}),
        ...('groupA' in aggregate ? { groupA: predicate(aggregate.groupA), groupB: predicate(aggregate.groupB), outcome: predicate(aggregate.outcome), maxDifference: scalarText(aggregate.maxDifference) } : {}),
        ...('min' in aggregate && aggregate.min !== undefined ? { min: scalarText(aggregate.min) } : {}),
        ...('max' in aggregate && aggregate.max !== undefined ? { max: scalarText(aggregate.max) } : {}),
      };
    }),
    // Only present when used, so the hashes of policies without registries did not change when they were added.
    ...(spec.registries && spec.registries.length > 0 ? { registries: spec.registries.map((r) => ({ kind: r.kind, field: r.field, registry: r.registry, depth: r.depth })) } : {}),
  };
  return JSON.stringify(canonical);
}

/** Validate a policy against a schema: every field exists, every operator fits its column, every constant encodes. */
export function parsePolicy(raw: unknown, schema: Schema): Policy {
  if (typeof raw !== 'object' || raw === null) throw new PolicyError('a policy must be a JSON object with name and rules');
  const spec = raw as PolicySpec;
  onlyKeys(spec, ['name', 'rules', 'aggregates', 'registries'], 'policy');
  if (typeof spec.name !== 'string' || spec.name.length === 0) throw new PolicyError('a policy needs a non-empty "name"');
  if (!Array.isArray(spec.rules)) throw new PolicyError('a policy needs a "rules" list (it may be empty)');
  const rules = spec.rules.map((rule, index): Rule => ({
    index,
    predicate: parsePredicate(schema, rule, `rules[${index}]`, true),
    when: rule.when ? parsePredicate(schema, rule.when, `rules[${index}].when`) : undefined,
    text: `${rule.when ? `if ${describe(rule.when)} then ` : ''}${describe(rule)}`,
  }));
  const aggregates = (spec.aggregates ?? []).map((aggregate, index): Aggregate => {
    const what = `aggregates[${index}]`;
    if (typeof aggregate !== 'object' || aggregate === null) throw new PolicyError(`${what}: must be an object with a kind`);
    const aggregateKeys: Record<string, readonly string[]> = { COUNT: ['kind', 'min', 'max'], SUM: ['kind', 'field', 'min', 'max'], MEAN: ['kind', 'field', 'min', 'max'], PROPORTION: ['kind', 'where', 'min', 'max'], 'GROUP-PARITY': ['kind', 'groupA', 'groupB', 'outcome', 'maxDifference'], UNIQUE: ['kind', 'field'] };
    const keys = aggregateKeys[String(aggregate.kind)];
    if (keys) onlyKeys(aggregate, keys, `${what} (${aggregate.kind})`);
    switch (aggregate?.kind) {
      case 'COUNT': {
        const bound = (v: number | undefined, key: string) => {
          if (v === undefined) return undefined;
          if (!Number.isSafeInteger(v) || v < 0) throw new PolicyError(`${what}: COUNT ${key} must be a non-negative integer`);
          return BigInt(v);
        };
        return { kind: 'COUNT', min: bound(aggregate.min, 'min'), max: bound(aggregate.max, 'max'), text: `COUNT in [${aggregate.min ?? ''}, ${aggregate.max ?? ''}]` };
      }
      case 'SUM':
      case 'MEAN': {
        const column = findColumn(schema, aggregate.field, what);
        if (!column.ordered) throw new PolicyError(`${what}: ${aggregate.kind} needs a numeric or date column; ${column.name} is ${column.spec.type}`);
        const { offset, scale } = columnScale(column);
        const text = `${aggregate.kind}(${column.name}) in [${scalarText(aggregate.min ?? '')}, ${scalarText(aggregate.max ?? '')}]`;
        if (aggregate.kind === 'SUM') {
          const bound = (v: PolicyScalar | undefined, key: string) => (v === undefined ? undefined : scaledConstant(column, v, `${what} ${key}`));
          return { kind: 'SUM', column, offset, min: bound(aggregate.min, 'min'), max: bound(aggregate.max, 'max'), text };
        }
        const scaled = (v: PolicyScalar | undefined, key: string): Fraction | undefined => {
          const f = fractionBound(v, `${what} ${key}`);
          return f && { num: f.num * scale, den: f.den };
        };
        return { kind: 'MEAN', column, offset, min: scaled(aggregate.min, 'min'), max: scaled(aggregate.max, 'max'), text };
      }
      case 'PROPORTION': {
        const where = parsePredicate(schema, aggregate.where, `${what}.where`);
        const min = fractionBound(aggregate.min, `${what} min`);
        const max = fractionBound(aggregate.max, `${what} max`);
        for (const f of [min, max]) if (f && (f.num < 0n || f.num > f.den)) throw new PolicyError(`${what}: a proportion bound must lie in [0, 1]`);
        return { kind: 'PROPORTION', where, min, max, text: `PROPORTION(${describe(aggregate.where)}) in [${aggregate.min ?? ''}, ${aggregate.max ?? ''}]` };
      }
      case 'GROUP-PARITY': {
        const groupA = parsePredicate(schema, aggregate.groupA, `${what}.groupA`);
        const groupB = parsePredicate(schema, aggregate.groupB, `${what}.groupB`);
        const outcome = parsePredicate(schema, aggregate.outcome, `${what}.outcome`);
        if (aggregate.maxDifference === undefined) throw new PolicyError(`${what}: GROUP-PARITY needs maxDifference`);
        const maxDifference = parseDecimal(scalarText(aggregate.maxDifference), `${what} maxDifference`);
        if (maxDifference.num < 0n || maxDifference.num > maxDifference.den) throw new PolicyError(`${what}: maxDifference must lie in [0, 1]`);
        return {
          kind: 'GROUP-PARITY',
          groupA,
          groupB,
          outcome,
          maxDifference,
          text: `GROUP-PARITY(rate of ${describe(aggregate.outcome)} in ${describe(aggregate.groupA)} vs ${describe(aggregate.groupB)}) differs by at most ${scalarText(aggregate.maxDifference)}`,
        };
      }
      case 'UNIQUE': {
        const column = findColumn(schema, aggregate.field, what);
        if (schema.spec.subjectId !== column.name) {
          throw new PolicyError(`${what}: UNIQUE applies to the schema's subject id column (records are committed sorted by it); ${column.name} is not it${schema.spec.subjectId ? ` (it is ${schema.spec.subjectId})` : ' (the schema names none)'}`);
        }
        if (column.nullable) throw new PolicyError(`${what}: UNIQUE needs a column that is not nullable; ${column.name} is nullable`);
        return { kind: 'UNIQUE', column, text: `UNIQUE(${column.name})` };
      }
      default:
        throw new PolicyError(`${what}: unknown aggregate kind ${JSON.stringify((aggregate as { kind?: unknown })?.kind)} (known: COUNT, SUM, MEAN, PROPORTION, GROUP-PARITY, UNIQUE)`);
    }
  });
  if (spec.registries !== undefined && !Array.isArray(spec.registries)) throw new PolicyError('"registries" must be a list');
  const registries = (spec.registries ?? []).map((requirement, index): RegistryRequirement => {
    const what = `registries[${index}]`;
    if (typeof requirement !== 'object' || requirement === null) throw new PolicyError(`${what}: must be an object {kind, field, registry, depth}`);
    onlyKeys(requirement, ['kind', 'field', 'registry', 'depth'], what);
    if (requirement.kind !== 'MEMBER-OF' && requirement.kind !== 'NOT-MEMBER-OF') throw new PolicyError(`${what}: kind must be MEMBER-OF or NOT-MEMBER-OF, got ${JSON.stringify(requirement.kind)}`);
    if (typeof requirement.registry !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(requirement.registry)) {
      throw new PolicyError(`${what}: "registry" must be a name starting with a letter (letters, digits, _ and -, at most 64), got ${JSON.stringify(requirement.registry)}`);
    }
    if (!Number.isInteger(requirement.depth) || requirement.depth < 1 || requirement.depth > MAX_REGISTRY_DEPTH) {
      throw new PolicyError(`${what}: "depth" must be an integer from 1 to ${MAX_REGISTRY_DEPTH} (the registry holds up to 2^depth - 1 ids), got ${JSON.stringify(requirement.depth)}`);
    }
    const column = findColumn(schema, requirement.field, what);
    if (column.nullable) throw new PolicyError(`${what}: ${requirement.kind} needs a column that is not nullable; ${column.name} is nullable`);
    return { index, kind: requirement.kind, column, name: requirement.registry, depth: requirement.depth, text: `${column.name} ${requirement.kind} registry ${requirement.registry}` };
  });
  const names = registries.map((r) => r.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated) throw new PolicyError(`registries: registry "${repeated}" is named twice; each requirement needs its own registry name`);
  return { spec, rules, aggregates, registries, hash: poseidonText(canonicalPolicy(spec)).toString() };
}

/** Read and validate a policy file. */
export async function loadPolicy(path: string, schema: Schema): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputFileError(path, `cannot read the policy: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (error) {
    throw new InputFileError(path, `the policy is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return parsePolicy(raw, schema);
  } catch (error) {
    if (error instanceof PolicyError) throw new PolicyError(`${path}: ${error.message}`);
    throw error;
  }
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

/** One record breaking one rule (or one registry requirement), for the pre-flight report. */
export interface RuleViolation {
  row: number;
  /** Index of the rule, or of the registry requirement when `registry` is set. */
  rule: number;
  /** Set when the record breaks a registry requirement: the registry's name. */
  registry?: string;
  ruleText: string;
  field: string;
  /** The record's encoded value (decoded for people by the caller), or null. */
  encodedValue: string | null;
}

/** What the pre-flight check found. */
export interface PolicyReport {
  ok: boolean;
  violations: RuleViolation[];
  aggregates: Array<{ text: string; ok: boolean; actual: string }>;
}

function withinFraction(value: bigint, weight: bigint, min: Fraction | undefined, max: Fraction | undefined): boolean {
  // min <= value / weight <= max, cross-multiplied (weight > 0)
  return (!min || value * min.den >= min.num * weight) && (!max || value * max.den <= max.num * weight);
}

/**
 * Evaluate a policy on encoded records in TypeScript, exactly as the circuit will: every violating record and rule
 * (by row), and every aggregate with its actual value. A dataset with `ok: false` must not be proven.
 */
export function evaluatePolicy(policy: Policy, records: readonly EncodedRecord[], registries: readonly Registry[] = []): PolicyReport {
  const ordered = registriesForPolicy(policy, registries);
  const violations: RuleViolation[] = [];
  for (const record of records) {
    for (const rule of policy.rules) {
      if (rule.when && !predicateHolds(rule.when, record)) continue;
      if (predicateHolds(rule.predicate, record)) continue;
      const index = rule.predicate.column.index;
      violations.push({
        row: record.row,
        rule: rule.index,
        ruleText: rule.text,
        field: rule.predicate.column.name,
        encodedValue: record.nulls[index] ? null : (record.values[index] as bigint).toString(),
      });
    }
    policy.registries.forEach((requirement, j) => {
      const registry = ordered[j] as Registry;
      const value = record.values[requirement.column.index] as bigint;
      // NOT-MEMBER-OF is judged by key, as the circuit does: an id sharing its key with a listed one cannot be excluded.
      const listed = requirement.kind === 'MEMBER-OF' ? registryHas(registry, requirement.column, value) : registryHasKey(registry, requirement.column, value);
      if (listed === (requirement.kind === 'MEMBER-OF')) return;
      violations.push({
        row: record.row,
        rule: requirement.index,
        registry: requirement.name,
        ruleText: `${requirement.text} (${requirement.kind === 'MEMBER-OF' ? 'not listed' : 'listed'} in registry ${requirement.name} of root ${registry.root})`,
        field: requirement.column.name,
        encodedValue: value.toString(),
      });
    });
  }
  const aggregates = policy.aggregates.map((aggregate) => aggregateVerdict(aggregate, aggregateTotals(aggregate, records), BigInt(records.length)));
  return { ok: violations.length === 0 && aggregates.every((a) => a.ok), violations, aggregates };
}

/**
 * The registries a policy needs, in its order, picked by name from those given. Each must list the policy's column
 * at the policy's depth. Throws a {@link RegistryError} naming what is missing or does not fit.
 */
export function registriesForPolicy(policy: Policy, registries: readonly Registry[]): Registry[] {
  const byName = new Map(registries.map((registry) => [registry.name, registry]));
  const missing = policy.registries.filter((r) => !byName.has(r.name)).map((r) => r.name);
  if (missing.length > 0) {
    throw new RegistryError(`policy "${policy.spec.name}" needs registr${missing.length > 1 ? 'ies' : 'y'} ${missing.map((m) => `"${m}"`).join(', ')}`, 'pass each registry file (zkai data registry makes one): --registry FILE');
  }
  const unused = registries.filter((registry) => !policy.registries.some((r) => r.name === registry.name)).map((r) => r.name);
  if (unused.length > 0) throw new RegistryError(`policy "${policy.spec.name}" does not use registr${unused.length > 1 ? 'ies' : 'y'} ${unused.map((m) => `"${m}"`).join(', ')} (it uses: ${policy.registries.map((r) => r.name).join(', ') || 'none'})`);
  return policy.registries.map((requirement) => {
    const registry = byName.get(requirement.name) as Registry;
    if (registry.field !== requirement.column.name) throw new RegistryError(`registry "${registry.name}" lists column ${registry.field}, but the policy checks ${requirement.column.name} against it`);
    if (registry.depth !== requirement.depth) throw new RegistryError(`registry "${registry.name}" has depth ${registry.depth}, but the policy says ${requirement.depth}: the circuit is shaped by the policy's depth`);
    return registry;
  });
}

/**
 * What an aggregate needs to be judged, summed over records (or over the partials of chunk proofs): for SUM and MEAN
 * the sum of encoded values and the number of non-null values, for PROPORTION the number of matching records, for
 * GROUP-PARITY the group sizes and outcome counts. COUNT needs only the record count.
 */
export type AggregateTotals =
  | { kind: 'COUNT' }
  | { kind: 'SUM' | 'MEAN'; encodedSum: bigint; present: bigint }
  | { kind: 'PROPORTION'; matched: bigint }
  | { kind: 'GROUP-PARITY'; nA: bigint; kA: bigint; nB: bigint; kB: bigint }
  /** Whether the keys strictly increase record after record, and the first pair of rows that break it. */
  | { kind: 'UNIQUE'; increasing: boolean; problem?: string };

/** The totals of an aggregate over records (real records only). */
export function aggregateTotals(aggregate: Aggregate, records: readonly Pick<EncodedRecord, 'values' | 'nulls'>[]): AggregateTotals {
  const count = (predicate: Predicate, among: readonly Pick<EncodedRecord, 'values' | 'nulls'>[] = records) => BigInt(among.filter((record) => predicateHolds(predicate, record)).length);
  switch (aggregate.kind) {
    case 'COUNT':
      return { kind: 'COUNT' };
    case 'SUM':
    case 'MEAN': {
      const index = aggregate.column.index;
      const present = records.filter((record) => !record.nulls[index]);
      return { kind: aggregate.kind, encodedSum: present.reduce((total, record) => total + (record.values[index] as bigint), 0n), present: BigInt(present.length) };
    }
    case 'PROPORTION':
      return { kind: 'PROPORTION', matched: count(aggregate.where) };
    case 'GROUP-PARITY': {
      const inA = records.filter((record) => predicateHolds(aggregate.groupA, record));
      const inB = records.filter((record) => predicateHolds(aggregate.groupB, record));
      return { kind: 'GROUP-PARITY', nA: BigInt(inA.length), kA: count(aggregate.outcome, inA), nB: BigInt(inB.length), kB: count(aggregate.outcome, inB) };
    }
    case 'UNIQUE': {
      const index = aggregate.column.index;
      for (let i = 1; i < records.length; i += 1) {
        const before = records[i - 1]!;
        const after = records[i]!;
        const a = uniqueKey(aggregate.column, before.values[index] as bigint);
        const b = uniqueKey(aggregate.column, after.values[index] as bigint);
        if (a < b) continue;
        const rows = `rows ${(before as { row?: number }).row ?? '?'} and ${(after as { row?: number }).row ?? '?'}`;
        if (before.values[index] === after.values[index]) return { kind: 'UNIQUE', increasing: false, problem: `the same ${aggregate.column.name} at ${rows}` };
        if (a === b) return { kind: 'UNIQUE', increasing: false, problem: `${rows} have different ids whose hashes share their low ${STRING_KEY_BITS} bits: uniqueness cannot be proven` };
        return { kind: 'UNIQUE', increasing: false, problem: `records are not committed in subject id order (${rows}): commit the dataset again with this version` };
      }
      return { kind: 'UNIQUE', increasing: true };
    }
  }
}

/** Judge an aggregate from its totals and the record count: the same arithmetic as the whole-dataset circuit. */
export function aggregateVerdict(aggregate: Aggregate, totals: AggregateTotals, count: bigint): { text: string; ok: boolean; actual: string } {
  const text = aggregate.text;
  switch (aggregate.kind) {
    case 'COUNT':
      return { text, ok: (aggregate.min === undefined || count >= aggregate.min) && (aggregate.max === undefined || count <= aggregate.max), actual: count.toString() };
    case 'SUM':
    case 'MEAN': {
      if (totals.kind !== 'SUM' && totals.kind !== 'MEAN') throw new ZkaiError('INTERNAL', `totals of kind ${totals.kind} for ${aggregate.kind}`);
      const sum = totals.encodedSum + totals.present * aggregate.offset;
      if (aggregate.kind === 'SUM') {
        return { text, ok: (aggregate.min === undefined || sum >= aggregate.min) && (aggregate.max === undefined || sum <= aggregate.max), actual: `${sum} (scaled units)` };
      }
      const m = totals.present;
      return { text, ok: m > 0n && withinFraction(sum, m, aggregate.min, aggregate.max), actual: m > 0n ? `${sum}/${m} (scaled units)` : 'no values' };
    }
    case 'PROPORTION': {
      if (totals.kind !== 'PROPORTION') throw new ZkaiError('INTERNAL', `totals of kind ${totals.kind} for PROPORTION`);
      return { text, ok: withinFraction(totals.matched, count, aggregate.min, aggregate.max), actual: `${totals.matched}/${count}` };
    }
    case 'GROUP-PARITY': {
      if (totals.kind !== 'GROUP-PARITY') throw new ZkaiError('INTERNAL', `totals of kind ${totals.kind} for GROUP-PARITY`);
      const { nA, kA, nB, kB } = totals;
      const difference = kA * nB - kB * nA;
      const magnitude = difference < 0n ? -difference : difference;
      const { num, den } = aggregate.maxDifference;
      return { text, ok: nA > 0n && nB > 0n && magnitude * den <= num * nA * nB, actual: `${kA}/${nA} vs ${kB}/${nB}` };
    }
    case 'UNIQUE': {
      if (totals.kind !== 'UNIQUE') throw new ZkaiError('INTERNAL', `totals of kind ${totals.kind} for UNIQUE`);
      return { text, ok: totals.increasing, actual: totals.increasing ? 'all distinct' : (totals.problem ?? 'not distinct') };
    }
  }
}
