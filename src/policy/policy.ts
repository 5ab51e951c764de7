/**
 * A dataset policy: its file format, its parser (validated against a schema, constants encoded like the columns'
 * values, hashed canonically) and its TypeScript evaluator, the pre-flight that reports every violating record.
 * Predicates live in predicate.ts, aggregate kinds in aggregates.ts (one table entry each), the circom the policy
 * adds to a dataset circuit in circom.ts, chunk partials in chunks.ts and the on-chain judge in judge.ts.
 */
import { readFile } from 'node:fs/promises';
import { InputFileError, ZkaiError } from '../errors.ts';
import { poseidonText } from '../crypto/poseidon-bytes.ts';
import { lineBreakingCharacter } from '../util/text.ts';
import { MAX_REGISTRY_DEPTH, registryHas, registryHasKey, RegistryError, type Registry } from '../data/registry.ts';
import type { Column, EncodedRecord, Schema } from '../data/types.ts';
import {
  AGGREGATES,
  aggregateDefinition,
  isAggregateKind,
  type AggregateKind,
  type AggregateOf,
  type AggregateVerdict,
  type TotalsOf,
  type TotalsRecord,
} from './aggregates.ts';
import {
  describe,
  findColumn,
  normalizeOp,
  onlyKeys,
  parsePredicate,
  PolicyError,
  predicateHolds,
  scalarText,
} from './predicate.ts';

export { columnScale, MAX_POLICY_DIGITS, PolicyError, predicateHolds } from './predicate.ts';
export type { AggregateTotals } from './aggregates.ts';

/** A value in a policy, in the column's own units: a number, a decimal string, a date string, a category... */
export type PolicyScalar = string | number | boolean;

/** Comparison operators. Every one but NOT-NULL and ABSENT is false for a null value. */
export type Operator =
  'EQ' | 'NE' | 'LT' | 'LTE' | 'GT' | 'GTE' | 'BETWEEN' | 'NOT-BETWEEN' | 'IN' | 'NIN' | 'NOT-NULL' | 'ABSENT';

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
  | {
      kind: 'GROUP-PARITY';
      groupA: PredicateSpec;
      groupB: PredicateSpec;
      outcome: PredicateSpec;
      maxDifference: string | number;
    }
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
  | {
      kind: 'GROUP-PARITY';
      groupA: Predicate;
      groupB: Predicate;
      outcome: Predicate;
      maxDifference: Fraction;
      text: string;
    }
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
        ...('groupA' in aggregate
          ? {
              groupA: predicate(aggregate.groupA),
              groupB: predicate(aggregate.groupB),
              outcome: predicate(aggregate.outcome),
              maxDifference: scalarText(aggregate.maxDifference),
            }
          : {}),
        ...('min' in aggregate && aggregate.min !== undefined ? { min: scalarText(aggregate.min) } : {}),
        ...('max' in aggregate && aggregate.max !== undefined ? { max: scalarText(aggregate.max) } : {}),
      };
    }),
    // Only present when used, so the hashes of policies without registries did not change when they were added.
    ...(spec.registries && spec.registries.length > 0
      ? {
          registries: spec.registries.map((r) => ({
            kind: r.kind,
            field: r.field,
            registry: r.registry,
            depth: r.depth,
          })),
        }
      : {}),
  };
  return JSON.stringify(canonical);
}

/** Validate a policy against a schema: every field exists, every operator fits its column, every constant encodes. */
export function parsePolicy(raw: unknown, schema: Schema): Policy {
  if (typeof raw !== 'object' || raw === null)
    throw new PolicyError('a policy must be a JSON object with name and rules');
  const spec = raw as PolicySpec;
  onlyKeys(spec, ['name', 'rules', 'aggregates', 'registries'], 'policy');
  if (typeof spec.name !== 'string' || spec.name.length === 0)
    throw new PolicyError('a policy needs a non-empty "name"');
  const breaking = lineBreakingCharacter(spec.name);
  if (breaking)
    throw new PolicyError(
      `the policy's "name" must be one line of text: it holds the control character ${breaking.codePoint} at position ${breaking.index}`,
    );
  if (!Array.isArray(spec.rules)) throw new PolicyError('a policy needs a "rules" list (it may be empty)');
  const expanded = expandRuleFields(spec.rules as unknown[]);
  // The policy as it is hashed and kept: a rule over several fields is that rule once per field, so both spellings
  // are one policy with one hash.
  const normalized: PolicySpec = { ...spec, rules: expanded.map(({ rule }) => rule) };
  const rules = expanded.map(({ rule, what }, index): Rule => ({
    index,
    predicate: parsePredicate(schema, rule, what, true),
    when: rule.when ? parsePredicate(schema, rule.when, `${what}.when`) : undefined,
    text: `${rule.when ? `if ${describe(rule.when)} then ` : ''}${describe(rule)}`,
  }));
  const aggregates = (spec.aggregates ?? []).map((aggregate, index): Aggregate => {
    const what = `aggregates[${index}]`;
    if (typeof aggregate !== 'object' || aggregate === null)
      throw new PolicyError(`${what}: must be an object with a kind`);
    const kind: unknown = aggregate.kind;
    if (!isAggregateKind(kind))
      throw new PolicyError(
        `${what}: unknown aggregate kind ${JSON.stringify(kind)} (known: ${Object.keys(AGGREGATES).join(', ')})`,
      );
    return parseAggregate(aggregate as Extract<AggregateSpec, { kind: typeof kind }>, schema, what);
  });
  if (spec.registries !== undefined && !Array.isArray(spec.registries))
    throw new PolicyError('"registries" must be a list');
  const registries = (spec.registries ?? []).map((requirement, index): RegistryRequirement => {
    const what = `registries[${index}]`;
    if (typeof requirement !== 'object' || requirement === null)
      throw new PolicyError(`${what}: must be an object {kind, field, registry, depth}`);
    onlyKeys(requirement, ['kind', 'field', 'registry', 'depth'], what);
    if (requirement.kind !== 'MEMBER-OF' && requirement.kind !== 'NOT-MEMBER-OF')
      throw new PolicyError(
        `${what}: kind must be MEMBER-OF or NOT-MEMBER-OF, got ${JSON.stringify(requirement.kind)}`,
      );
    if (typeof requirement.registry !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(requirement.registry)) {
      throw new PolicyError(
        `${what}: "registry" must be a name starting with a letter (letters, digits, _ and -, at most 64), got ${JSON.stringify(requirement.registry)}`,
      );
    }
    if (!Number.isInteger(requirement.depth) || requirement.depth < 1 || requirement.depth > MAX_REGISTRY_DEPTH) {
      throw new PolicyError(
        `${what}: "depth" must be an integer from 1 to ${MAX_REGISTRY_DEPTH} (the registry holds up to 2^depth - 1 ids), got ${JSON.stringify(requirement.depth)}`,
      );
    }
    const column = findColumn(schema, requirement.field, what);
    if (column.nullable)
      throw new PolicyError(
        `${what}: ${requirement.kind} needs a column that is not nullable; ${column.name} is nullable`,
      );
    return {
      index,
      kind: requirement.kind,
      column,
      name: requirement.registry,
      depth: requirement.depth,
      text: `${column.name} ${requirement.kind} registry ${requirement.registry}`,
    };
  });
  const names = registries.map((r) => r.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated)
    throw new PolicyError(
      `registries: registry "${repeated}" is named twice; each requirement needs its own registry name`,
    );
  return {
    spec: normalized,
    rules,
    aggregates,
    registries,
    hash: poseidonText(canonicalPolicy(normalized)).toString(),
  };
}

/**
 * The rules of a policy file with each rule over several columns (`"fields": [...]` instead of `"field"`) written out
 * once per column, in order, each with how errors name it (`rules[2].fields[1] (mean_area)`).
 */
function expandRuleFields(rules: readonly unknown[]): Array<{ rule: RuleSpec; what: string }> {
  return rules.flatMap((rule, i) => {
    if (typeof rule !== 'object' || rule === null || !('fields' in rule))
      return [{ rule: rule as RuleSpec, what: `rules[${i}]` }];
    const { fields, ...rest } = rule as { fields: unknown } & Record<string, unknown>;
    if ('field' in rest)
      throw new PolicyError(`rules[${i}]: give "field" (one column) or "fields" (several), not both`);
    if (!Array.isArray(fields) || fields.length === 0 || fields.some((field) => typeof field !== 'string'))
      throw new PolicyError(`rules[${i}]: "fields" must be a non-empty list of column names`);
    const repeated = fields.find((field, k) => fields.indexOf(field) !== k) as string | undefined;
    if (repeated !== undefined) throw new PolicyError(`rules[${i}]: "fields" names ${JSON.stringify(repeated)} twice`);
    return (fields as string[]).map((field, k) => ({
      rule: { ...rest, field } as unknown as RuleSpec,
      what: `rules[${i}].fields[${k}] (${field})`,
    }));
  });
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
    throw new InputFileError(
      path,
      `the policy is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    return parsePolicy(raw, schema);
  } catch (error) {
    if (error instanceof PolicyError) throw new PolicyError(`${path}: ${error.message}`);
    throw error;
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

/**
 * Evaluate a policy on encoded records in TypeScript, exactly as the circuit will: every violating record and rule
 * (by row), and every aggregate with its actual value. A dataset with `ok: false` must not be proven.
 */
export function evaluatePolicy(
  policy: Policy,
  records: readonly EncodedRecord[],
  registries: readonly Registry[] = [],
): PolicyReport {
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
      const listed =
        requirement.kind === 'MEMBER-OF'
          ? registryHas(registry, requirement.column, value)
          : registryHasKey(registry, requirement.column, value);
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
  const aggregates = policy.aggregates.map((aggregate) =>
    aggregateVerdict(aggregate, aggregateTotals(aggregate, records), BigInt(records.length)),
  );
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
    throw new RegistryError(
      `policy "${policy.spec.name}" needs registr${missing.length > 1 ? 'ies' : 'y'} ${missing.map((m) => `"${m}"`).join(', ')}`,
      'pass each registry file (zkai data registry makes one): --registry FILE',
    );
  }
  const unused = registries
    .filter((registry) => !policy.registries.some((r) => r.name === registry.name))
    .map((r) => r.name);
  if (unused.length > 0)
    throw new RegistryError(
      `policy "${policy.spec.name}" does not use registr${unused.length > 1 ? 'ies' : 'y'} ${unused.map((m) => `"${m}"`).join(', ')} (it uses: ${policy.registries.map((r) => r.name).join(', ') || 'none'})`,
    );
  return policy.registries.map((requirement) => {
    const registry = byName.get(requirement.name) as Registry;
    if (registry.field !== requirement.column.name)
      throw new RegistryError(
        `registry "${registry.name}" lists column ${registry.field}, but the policy checks ${requirement.column.name} against it`,
      );
    if (registry.depth !== requirement.depth)
      throw new RegistryError(
        `registry "${registry.name}" has depth ${registry.depth}, but the policy says ${requirement.depth}: the circuit is shaped by the policy's depth`,
      );
    return registry;
  });
}

/** Validate one aggregate of a policy file with its kind's entry of the table. */
function parseAggregate<K extends AggregateKind>(
  spec: Extract<AggregateSpec, { kind: K }>,
  schema: Schema,
  what: string,
): AggregateOf<K> {
  const definition = aggregateDefinition<K>(spec.kind);
  onlyKeys(spec, definition.keys, `${what} (${spec.kind})`);
  return definition.parse(spec, schema, what);
}

/** The totals of an aggregate over records (real records only). */
export function aggregateTotals<K extends AggregateKind>(
  aggregate: AggregateOf<K>,
  records: readonly TotalsRecord[],
): TotalsOf<K> {
  return aggregateDefinition<K>(aggregate.kind as K).totals(aggregate, records);
}

/** Judge an aggregate from its totals and the record count: the same arithmetic as the whole-dataset circuit. */
export function aggregateVerdict<K extends AggregateKind>(
  aggregate: AggregateOf<K>,
  totals: TotalsOf<K>,
  count: bigint,
): { text: string } & AggregateVerdict {
  if (totals.kind !== aggregate.kind)
    throw new ZkaiError('INTERNAL', `totals of kind ${totals.kind} for ${aggregate.kind}`);
  return { text: aggregate.text, ...aggregateDefinition<K>(aggregate.kind as K).verdict(aggregate, totals, count) };
}
