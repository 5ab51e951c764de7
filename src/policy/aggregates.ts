/**
 * Every aggregate kind of a policy in one table, {@link AGGREGATES}: for each kind, how it is parsed from a policy
 * file, evaluated in TypeScript (totals and verdict), emitted in circom (its per-record terms in the record template,
 * its check or its chunk partials in the main template); aggregation-gen.ts sums the partials of private chunks
 * and judges them with the same emitters. The table's type has one entry per kind, each typed by its kind, so a new aggregate is one
 * entry the compiler checks; nothing else switches on the kind.
 *
 * All implementations use the same cross-multiplied integer arithmetic (no division), so the pre-flight, the
 * circuit and the aggregation proofs agree on every dataset.
 */
import type { CircomLines } from '../circuit/generated-source.ts';
import type { Column, EncodedRecord, Schema } from '../data/types.ts';
import { STRING_KEY_BITS, uniqueKey, uniqueKeyBits } from '../data/unique.ts';
import { bitLength, emitFractionBounds, emitNonNegative, RECORD_OUTPUT } from './emit.ts';
import type { Aggregate, AggregateSpec, Fraction, Predicate } from './policy.ts';
import {
  columnScale,
  describe,
  findColumn,
  fractionBound,
  parseDecimal,
  parsePredicate,
  PolicyError,
  predicateHolds,
  scalarText,
  scaledConstant,
  withinFraction,
} from './predicate.ts';

/** The kinds of aggregate a policy may bound. */
export type AggregateKind = Aggregate['kind'];

/** The validated aggregate of one kind. */
export type AggregateOf<K extends AggregateKind> = Extract<Aggregate, { kind: K }>;

/** What each kind's verdict needs, summed over records (or over the partials of chunk proofs). */
export interface AggregateTotalsByKind {
  /** COUNT needs only the record count. */
  COUNT: Record<never, never>;
  /** The sum of encoded values and the number of non-null values. */
  SUM: { encodedSum: bigint; present: bigint };
  MEAN: { encodedSum: bigint; present: bigint };
  /** The number of matching records. */
  PROPORTION: { matched: bigint };
  /** Group sizes and outcome counts. */
  'GROUP-PARITY': { nA: bigint; kA: bigint; nB: bigint; kB: bigint };
  /** Whether the keys strictly increase record after record, and the first pair of rows that break it. */
  UNIQUE: { increasing: boolean; problem?: string };
}

/** The totals of one kind, tagged with it. */
export type TotalsOf<K extends AggregateKind> = { kind: K } & AggregateTotalsByKind[K];

/** The totals of any aggregate. */
export type AggregateTotals = { [K in AggregateKind]: TotalsOf<K> }[AggregateKind];

/** The name of a chunk partial: a total summed over chunks, or a chunk's first or last key (UNIQUE). */
export type PartialName = 'encodedSum' | 'present' | 'matched' | 'nA' | 'kA' | 'nB' | 'kB' | 'firstKey' | 'lastKey';

/** How a partial combines over chunks: summed, or compared across chunk boundaries (a chunk's first / last key). */
export type PartialCombine = 'sum' | 'firstKey' | 'lastKey';

/** A verdict: does the aggregate hold, and its actual value for people. */
export interface AggregateVerdict {
  ok: boolean;
  actual: string;
}

/** Records as the totals read them (a `row`, when present, names records in UNIQUE's problems). */
export type TotalsRecord = Pick<EncodedRecord, 'values' | 'nulls'> & { row?: number };

/** What the record template offers an aggregate's per-record part. */
export interface RecordEmitContext {
  readonly out: CircomLines;
  /** `aggregate<index>`, the prefix of the aggregate's own signals. */
  readonly label: string;
  /** The record's satisfaction signal of a predicate (emitted once per template). */
  holds(predicate: Predicate, name: string): string;
  /** Output the column's {@link RECORD_OUTPUT} present and term signals (once per template). */
  columnTerms(column: Column): void;
  /** Output the column's {@link RECORD_OUTPUT} sort key (once per template). */
  sortKey(column: Column): void;
}

/** What the main template offers an aggregate's part over the circuit's records. */
export interface RecordsEmitContext {
  readonly out: CircomLines;
  readonly label: string;
  readonly capacity: number;
  /** Chunk mode: the partials are wanted (UNIQUE's first and last key cost constraints only then). */
  readonly chunk: boolean;
  /** Emit `var <name> = sum over records of records[i].<output>;` and return the name. */
  total(name: string, output: string): string;
}

/**
 * What an aggregate's verdict reads: the totals of its partials, summed over a whole dataset's records or over the
 * opened partials of its chunks, and the bit bounds the checks' arithmetic needs. `count` is a signal of the template.
 */
export interface VerdictEmitContext {
  readonly out: CircomLines;
  readonly label: string;
  /** Bits of the largest record index the totals cover. */
  readonly capacityBits: number;
  /** Bits that bound any count of records (with room for the checks' arithmetic). */
  readonly countBits: number;
  /** The expression of the total of one of its partials. */
  total(name: PartialName): string;
}

/** The expressions of an aggregate's partials over a circuit's records (only those a chunk circuit outputs). */
export type PartialExpressions = Partial<Record<PartialName, string>>;

/** One aggregate kind, everywhere it is implemented. */
export interface AggregateDefinition<K extends AggregateKind> {
  /** The keys its object in a policy file may have. */
  readonly keys: readonly string[];
  /** Validate its object of a policy file against the schema (`what` names it in errors). */
  parse(spec: Extract<AggregateSpec, { kind: K }>, schema: Schema, what: string): AggregateOf<K>;
  /** Its totals over real records: what the pre-flight evaluates. */
  totals(aggregate: AggregateOf<K>, records: readonly TotalsRecord[]): TotalsOf<K>;
  /** Its verdict from its totals and the record count: the arithmetic of the whole-dataset circuit. */
  verdict(aggregate: AggregateOf<K>, totals: TotalsOf<K>, count: bigint): AggregateVerdict;
  /** The public partials a chunk circuit outputs for it, in order, and how each combines over chunks. */
  readonly partials: ReadonlyArray<{ readonly name: PartialName; readonly combine: PartialCombine }>;
  /** Its per-record part of the record template: the outputs the dataset-wide part adds up. */
  emitRecord(aggregate: AggregateOf<K>, context: RecordEmitContext): void;
  /**
   * Its part over a circuit's records: the sums of the record outputs (and UNIQUE's order check); returns the
   * expression of each of its {@link partials}, which a chunk circuit outputs and a whole-dataset circuit judges.
   */
  emitOverRecords(aggregate: AggregateOf<K>, context: RecordsEmitContext): PartialExpressions;
  /** Its bound checks on the totals of its partials (UNIQUE has none: its order is checked over records and chunks). */
  emitVerdict(aggregate: AggregateOf<K>, context: VerdictEmitContext): void;
}

const within = (value: bigint, min: bigint | undefined, max: bigint | undefined) =>
  (min === undefined || value >= min) && (max === undefined || value <= max);

/** A SUM or MEAN aggregate's column, validated. */
function summedColumn(schema: Schema, spec: { kind: 'SUM' | 'MEAN'; field: string }, what: string): Column {
  const column = findColumn(schema, spec.field, what);
  if (!column.ordered)
    throw new PolicyError(
      `${what}: ${spec.kind} needs a numeric or date column; ${column.name} is ${column.spec.type}`,
    );
  if (column.spec.type === 'datetime')
    throw new PolicyError(
      `${what}: ${spec.kind} of a datetime column is not supported (its bounds would be sums of seconds, not instants); compare instants with rules (GTE, BETWEEN...)`,
    );
  return column;
}

/** The sum of a column's encoded values over the records where it is not null, and how many those are. */
function columnValueTotals(column: Column, records: readonly TotalsRecord[]): { encodedSum: bigint; present: bigint } {
  const present = records.filter((record) => !record.nulls[column.index]);
  return {
    encodedSum: present.reduce((total, record) => total + (record.values[column.index] as bigint), 0n),
    present: BigInt(present.length),
  };
}

/** SUM and MEAN's totals as a verdict reads them: the count of values, the decoded sum, and a bound on its bits. */
function columnTotals(
  aggregate: AggregateOf<'SUM' | 'MEAN'>,
  context: VerdictEmitContext,
): { present: string; actual: string; magnitude: number } {
  const offset = aggregate.offset;
  const present = context.total('present');
  return {
    present,
    actual: `(${context.total('encodedSum')} + ${present} * (${offset}))`,
    magnitude: aggregate.column.bits + context.capacityBits + bitLength(offset < 0n ? -offset : offset) + 2,
  };
}

/** What SUM and MEAN share: their keys, totals over records, partials and verdict over chunks, record outputs. */
function columnSumKind<K extends 'SUM' | 'MEAN'>(
  kind: K,
): Pick<AggregateDefinition<K>, 'keys' | 'totals' | 'partials' | 'emitRecord' | 'emitOverRecords'> {
  return {
    keys: ['kind', 'field', 'min', 'max'],
    totals: (aggregate, records) => ({ kind, ...columnValueTotals(columnOf(aggregate), records) }) as TotalsOf<K>,
    partials: [
      { name: 'encodedSum', combine: 'sum' },
      { name: 'present', combine: 'sum' },
    ],
    emitRecord: (aggregate, context) => context.columnTerms(columnOf(aggregate)),
    emitOverRecords(aggregate, { label, total }) {
      const k = columnOf(aggregate).index;
      return {
        encodedSum: total(`${label}Sum`, RECORD_OUTPUT.term(k)),
        present: total(`${label}Present`, RECORD_OUTPUT.present(k)),
      };
    },
  };
}

/** The column of a SUM or MEAN (TypeScript does not narrow `AggregateOf<K>` for a generic K). */
function columnOf(aggregate: AggregateOf<'SUM' | 'MEAN'>): Column {
  return aggregate.column;
}

/**
 * The aggregate kinds. Adding one: its policy-file type to `AggregateSpec` and its validated type to `Aggregate`
 * (policy.ts), its totals to {@link AggregateTotalsByKind}, and its entry here; the compiler asks for every piece.
 */
export const AGGREGATES: { readonly [K in AggregateKind]: AggregateDefinition<K> } = {
  COUNT: {
    keys: ['kind', 'min', 'max'],
    parse(spec, _schema, what) {
      const bound = (v: number | undefined, key: string) => {
        if (v === undefined) return undefined;
        if (!Number.isSafeInteger(v) || v < 0)
          throw new PolicyError(`${what}: COUNT ${key} must be a non-negative integer`);
        return BigInt(v);
      };
      return {
        kind: 'COUNT',
        min: bound(spec.min, 'min'),
        max: bound(spec.max, 'max'),
        text: `COUNT in [${spec.min ?? ''}, ${spec.max ?? ''}]`,
      };
    },
    totals: () => ({ kind: 'COUNT' }),
    verdict: (aggregate, _totals, count) => ({
      ok: within(count, aggregate.min, aggregate.max),
      actual: count.toString(),
    }),
    partials: [],
    emitRecord: () => {},
    emitOverRecords: () => ({}),
    emitVerdict(aggregate, { out, countBits }) {
      if (aggregate.min !== undefined)
        emitNonNegative(out, `count - ${aggregate.min}`, countBits + bitLength(aggregate.min));
      if (aggregate.max !== undefined)
        emitNonNegative(out, `${aggregate.max} - count`, countBits + bitLength(aggregate.max));
    },
  },

  SUM: {
    ...columnSumKind('SUM'),
    parse(spec, schema, what) {
      const column = summedColumn(schema, spec, what);
      const bound = (v: string | number | boolean | undefined, key: string) =>
        v === undefined ? undefined : scaledConstant(column, v, `${what} ${key}`);
      const text = `SUM(${column.name}) in [${scalarText(spec.min ?? '')}, ${scalarText(spec.max ?? '')}]`;
      return {
        kind: 'SUM',
        column,
        offset: columnScale(column).offset,
        min: bound(spec.min, 'min'),
        max: bound(spec.max, 'max'),
        text,
      };
    },
    verdict(aggregate, totals) {
      const sum = totals.encodedSum + totals.present * aggregate.offset;
      return { ok: within(sum, aggregate.min, aggregate.max), actual: `${sum} (scaled units)` };
    },
    emitVerdict(aggregate, context) {
      const totals = columnTotals(aggregate, context);
      const bound = (x: bigint) => bitLength(x < 0n ? -x : x);
      if (aggregate.min !== undefined)
        emitNonNegative(
          context.out,
          `${totals.actual} - (${aggregate.min})`,
          Math.max(totals.magnitude, bound(aggregate.min)) + 2,
        );
      if (aggregate.max !== undefined)
        emitNonNegative(
          context.out,
          `(${aggregate.max}) - ${totals.actual}`,
          Math.max(totals.magnitude, bound(aggregate.max)) + 2,
        );
    },
  },

  MEAN: {
    ...columnSumKind('MEAN'),
    parse(spec, schema, what) {
      const column = summedColumn(schema, spec, what);
      const { offset, scale } = columnScale(column);
      const scaled = (v: string | number | boolean | undefined, key: string): Fraction | undefined => {
        const f = fractionBound(v, `${what} ${key}`);
        return f && { num: f.num * scale, den: f.den };
      };
      const text = `MEAN(${column.name}) in [${scalarText(spec.min ?? '')}, ${scalarText(spec.max ?? '')}]`;
      return { kind: 'MEAN', column, offset, min: scaled(spec.min, 'min'), max: scaled(spec.max, 'max'), text };
    },
    verdict(aggregate, totals) {
      const sum = totals.encodedSum + totals.present * aggregate.offset;
      const m = totals.present;
      return {
        ok: m > 0n && withinFraction(sum, m, aggregate.min, aggregate.max),
        actual: m > 0n ? `${sum}/${m} (scaled units)` : 'no values',
      };
    },
    emitVerdict(aggregate, context) {
      const totals = columnTotals(aggregate, context);
      emitNonNegative(context.out, `${totals.present} - 1`, context.countBits); // a mean of no values fails
      emitFractionBounds(context.out, totals.actual, totals.present, aggregate.min, aggregate.max, totals.magnitude);
    },
  },

  PROPORTION: {
    keys: ['kind', 'where', 'min', 'max'],
    parse(spec, schema, what) {
      const where = parsePredicate(schema, spec.where, `${what}.where`);
      const min = fractionBound(spec.min, `${what} min`);
      const max = fractionBound(spec.max, `${what} max`);
      for (const f of [min, max])
        if (f && (f.num < 0n || f.num > f.den)) throw new PolicyError(`${what}: a proportion bound must lie in [0, 1]`);
      return {
        kind: 'PROPORTION',
        where,
        min,
        max,
        text: `PROPORTION(${describe(spec.where)}) in [${spec.min ?? ''}, ${spec.max ?? ''}]`,
      };
    },
    totals: (aggregate, records) => ({
      kind: 'PROPORTION',
      matched: BigInt(records.filter((record) => predicateHolds(aggregate.where, record)).length),
    }),
    verdict: (aggregate, totals, count) => ({
      ok: withinFraction(totals.matched, count, aggregate.min, aggregate.max),
      actual: `${totals.matched}/${count}`,
    }),
    partials: [{ name: 'matched', combine: 'sum' }],
    emitRecord(aggregate, { out, label, holds }) {
      out.line(`signal output ${label}Matched <== active * ${holds(aggregate.where, `${label}Where`)};`);
    },
    emitOverRecords: (_aggregate, { label, total }) => ({ matched: total(`${label}Matched`, `${label}Matched`) }),
    emitVerdict(aggregate, { out, total, countBits }) {
      emitFractionBounds(out, total('matched'), 'count', aggregate.min, aggregate.max, countBits);
    },
  },

  'GROUP-PARITY': {
    keys: ['kind', 'groupA', 'groupB', 'outcome', 'maxDifference'],
    parse(spec, schema, what) {
      const groupA = parsePredicate(schema, spec.groupA, `${what}.groupA`);
      const groupB = parsePredicate(schema, spec.groupB, `${what}.groupB`);
      const outcome = parsePredicate(schema, spec.outcome, `${what}.outcome`);
      if (spec.maxDifference === undefined) throw new PolicyError(`${what}: GROUP-PARITY needs maxDifference`);
      const maxDifference = parseDecimal(scalarText(spec.maxDifference), `${what} maxDifference`);
      if (maxDifference.num < 0n || maxDifference.num > maxDifference.den)
        throw new PolicyError(`${what}: maxDifference must lie in [0, 1]`);
      const text = `GROUP-PARITY(rate of ${describe(spec.outcome)} in ${describe(spec.groupA)} vs ${describe(spec.groupB)}) differs by at most ${scalarText(spec.maxDifference)}`;
      return { kind: 'GROUP-PARITY', groupA, groupB, outcome, maxDifference, text };
    },
    totals(aggregate, records) {
      const inA = records.filter((record) => predicateHolds(aggregate.groupA, record));
      const inB = records.filter((record) => predicateHolds(aggregate.groupB, record));
      const hits = (among: readonly TotalsRecord[]) =>
        BigInt(among.filter((record) => predicateHolds(aggregate.outcome, record)).length);
      return { kind: 'GROUP-PARITY', nA: BigInt(inA.length), kA: hits(inA), nB: BigInt(inB.length), kB: hits(inB) };
    },
    verdict(aggregate, { nA, kA, nB, kB }) {
      const difference = kA * nB - kB * nA;
      const magnitude = difference < 0n ? -difference : difference;
      const { num, den } = aggregate.maxDifference;
      return { ok: nA > 0n && nB > 0n && magnitude * den <= num * nA * nB, actual: `${kA}/${nA} vs ${kB}/${nB}` };
    },
    partials: [
      { name: 'nA', combine: 'sum' },
      { name: 'kA', combine: 'sum' },
      { name: 'nB', combine: 'sum' },
      { name: 'kB', combine: 'sum' },
    ],
    emitRecord(aggregate, { out, label, holds }) {
      const inA = holds(aggregate.groupA, `${label}GroupA`);
      const inB = holds(aggregate.groupB, `${label}GroupB`);
      const outcome = holds(aggregate.outcome, `${label}Outcome`);
      out.line(`signal output ${label}InA <== active * ${inA};`);
      out.line(`signal output ${label}InB <== active * ${inB};`);
      out.line(`signal output ${label}HitA <== ${label}InA * ${outcome};`);
      out.line(`signal output ${label}HitB <== ${label}InB * ${outcome};`);
    },
    emitOverRecords: (_aggregate, { label, total }) => ({
      nA: total(`${label}nA`, `${label}InA`),
      kA: total(`${label}kA`, `${label}HitA`),
      nB: total(`${label}nB`, `${label}InB`),
      kB: total(`${label}kB`, `${label}HitB`),
    }),
    emitVerdict(aggregate, { out, label, countBits, total }) {
      // |kA/nA - kB/nB| <= num/den  <=>  num*nA*nB - den*(kA*nB - kB*nA) >= 0 and num*nA*nB + den*(kA*nB - kB*nA) >= 0,
      // with nA, nB >= 1. Counts are below 2^(depth+1), so every product stays far below the field modulus.
      const [nA, kA, nB, kB] = [total('nA'), total('kA'), total('nB'), total('kB')];
      out.line(`signal ${label}Cross1 <== ${kA} * ${nB};`);
      out.line(`signal ${label}Cross2 <== ${kB} * ${nA};`);
      out.line(`signal ${label}Both <== ${nA} * ${nB};`);
      emitNonNegative(out, `${nA} - 1`, countBits);
      emitNonNegative(out, `${nB} - 1`, countBits);
      const { num, den } = aggregate.maxDifference;
      const bits = 2 * countBits + bitLength(num) + bitLength(den) + 2;
      emitNonNegative(out, `${num} * ${label}Both - ${den} * (${label}Cross1 - ${label}Cross2)`, bits);
      emitNonNegative(out, `${num} * ${label}Both + ${den} * (${label}Cross1 - ${label}Cross2)`, bits);
    },
  },

  UNIQUE: {
    keys: ['kind', 'field'],
    parse(spec, schema, what) {
      const column = findColumn(schema, spec.field, what);
      if (schema.spec.subjectId !== column.name) {
        throw new PolicyError(
          `${what}: UNIQUE applies to the schema's subject id column (records are committed sorted by it); ${column.name} is not it${schema.spec.subjectId ? ` (it is ${schema.spec.subjectId})` : ' (the schema names none)'}`,
        );
      }
      if (column.nullable)
        throw new PolicyError(`${what}: UNIQUE needs a column that is not nullable; ${column.name} is nullable`);
      return { kind: 'UNIQUE', column, text: `UNIQUE(${column.name})` };
    },
    totals(aggregate, records) {
      const index = aggregate.column.index;
      for (let i = 1; i < records.length; i += 1) {
        const before = records[i - 1]!;
        const after = records[i]!;
        const a = uniqueKey(aggregate.column, before.values[index] as bigint);
        const b = uniqueKey(aggregate.column, after.values[index] as bigint);
        if (a < b) continue;
        const rows = `rows ${before.row ?? '?'} and ${after.row ?? '?'}`;
        if (before.values[index] === after.values[index])
          return { kind: 'UNIQUE', increasing: false, problem: `the same ${aggregate.column.name} at ${rows}` };
        if (a === b)
          return {
            kind: 'UNIQUE',
            increasing: false,
            problem: `${rows} have different ids whose hashes share their low ${STRING_KEY_BITS} bits: uniqueness cannot be proven`,
          };
        return {
          kind: 'UNIQUE',
          increasing: false,
          problem: `records are not committed in subject id order (${rows}): commit the dataset again with this version`,
        };
      }
      return { kind: 'UNIQUE', increasing: true };
    },
    verdict: (_aggregate, totals) => ({
      ok: totals.increasing,
      actual: totals.increasing ? 'all distinct' : (totals.problem ?? 'not distinct'),
    }),
    partials: [
      { name: 'firstKey', combine: 'firstKey' },
      { name: 'lastKey', combine: 'lastKey' },
    ],
    emitRecord: (aggregate, context) => context.sortKey(aggregate.column),
    emitOverRecords(aggregate, { out, label, capacity, chunk }) {
      // Records are committed sorted by their id key; consecutive real records must have strictly increasing keys.
      const key = RECORD_OUTPUT.key(aggregate.column.index);
      if (capacity > 1) {
        out.line(`component ${label}Increasing[${capacity - 1}];`);
        out.line(`for (var i = 1; i < ${capacity}; i++) {`);
        out.line(`    ${label}Increasing[i - 1] = LessThan(${uniqueKeyBits(aggregate.column)});`);
        out.line(`    ${label}Increasing[i - 1].in[0] <== records[i - 1].${key};`);
        out.line(`    ${label}Increasing[i - 1].in[1] <== records[i].${key};`);
        out.line(`    active.active[i] * (1 - ${label}Increasing[i - 1].out) === 0;`);
        out.line(`}`);
      }
      if (!chunk) return {};
      // The aggregation proof checks that each chunk's last key is below the next chunk's first key. The last real record is
      // the one whose successor is padding (or the last of all).
      out.line(`signal ${label}End[${capacity}];`);
      out.line(
        `for (var i = 0; i < ${capacity - 1}; i++) { ${label}End[i] <== (active.active[i] - active.active[i + 1]) * records[i].${key}; }`,
      );
      out.line(`${label}End[${capacity - 1}] <== active.active[${capacity - 1}] * records[${capacity - 1}].${key};`);
      out.line(`var ${label}Last = 0; for (var i = 0; i < ${capacity}; i++) { ${label}Last += ${label}End[i]; }`);
      return { firstKey: `records[0].${key}`, lastKey: `${label}Last` };
    },
    // Its order is checked over the records of a circuit, and across chunks where their keys meet.
    emitVerdict: () => {},
  },
};

/** The table's entry of a kind, typed by it. */
export function aggregateDefinition<K extends AggregateKind>(kind: K): AggregateDefinition<K> {
  return AGGREGATES[kind];
}

/** Is `kind` an aggregate kind the table knows? */
export function isAggregateKind(kind: unknown): kind is AggregateKind {
  return typeof kind === 'string' && Object.hasOwn(AGGREGATES, kind);
}
