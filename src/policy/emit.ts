/**
 * Circom pieces of a policy, shared by the aggregate table and the record template: a predicate's satisfaction signal
 * (computed exactly as `predicateHolds` in predicate.ts), and sound `>= 0` checks of bounded integer expressions.
 */
import type { CircomLines } from '../circuit/generated-source.ts';
import { ZkaiError } from '../errors.ts';
import type { Fraction, Predicate } from './policy.ts';

/** The record template's output names that aggregates read across records (`records[i].<name>`). */
export const RECORD_OUTPUT = {
  /** 1 when the record is real and the column is not null. */
  present: (column: number) => `present${column}`,
  /** The column's value when present, else 0. */
  term: (column: number) => `term${column}`,
  /** The column's sort key (UNIQUE). */
  key: (column: number) => `key${column}`,
} as const;

/** Bits of a non-negative integer (0 for 0 and below). */
export function bitLength(value: bigint): number {
  return value <= 0n ? 0 : value.toString(2).length;
}

function clamp(value: bigint, low: bigint, high: bigint): bigint {
  return value < low ? low : value > high ? high : value;
}

/**
 * The satisfaction signals of one record template's predicates, each emitted once: a predicate that a rule and an
 * aggregate share (a rule's `when` and a PROPORTION's `where`, say) costs its comparator once per record.
 */
export class PredicateSignals {
  private readonly known = new Map<string, string>();
  constructor(private readonly out: CircomLines) {}

  /** The signal that is 1 when the record satisfies `predicate`, else 0; `name` names it when it is new. */
  holds(predicate: Predicate, name: string): string {
    const key = `${predicate.column.index}:${predicate.op}:${predicate.constants.join(',')}`;
    const known = this.known.get(key);
    if (known) return known;
    emitPredicate(this.out, predicate, name);
    this.known.set(key, name);
    return name;
  }
}

/**
 * Emit into a record template the signal `name`: 1 when the record satisfies the predicate, else 0, exactly as
 * `predicateHolds` (predicate.ts) computes it. The template's `values`, `isNull` and `notNull` are the record's.
 */
export function emitPredicate(out: CircomLines, predicate: Predicate, name: string): void {
  const k = predicate.column.index;
  const v = `values[${k}]`;
  const notNull = `notNull[${k}]`;
  const bits = predicate.column.bits;
  const top = 1n << BigInt(bits);
  const s = name;
  out.line(`signal ${s};`);
  const lessThan = (bound: bigint, suffix: string): string => {
    const component = `${name}${suffix}`;
    out.line(`component ${component} = LessThanConst(${bits}, ${clamp(bound, 0n, top)});`);
    out.line(`${component}.value <== ${v};`);
    return `${component}.out`;
  };
  const equals = (constant: bigint): string => {
    const component = `${name}Eq`;
    out.line(`component ${component} = IsEqual();`);
    out.line(`${component}.in[0] <== ${v};`);
    out.line(`${component}.in[1] <== ${constant};`);
    return `${component}.out`;
  };
  const [a, b] = predicate.constants as [bigint, bigint];
  switch (predicate.op) {
    case 'ABSENT':
      out.line(`${s} <== isNull[${k}];`);
      return;
    case 'NOT-NULL':
      out.line(`${s} <== ${notNull};`);
      return;
    case 'EQ':
      out.line(`${s} <== ${equals(a)} * ${notNull};`);
      return;
    case 'NE':
      out.line(`${s} <== (1 - ${equals(a)}) * ${notNull};`);
      return;
    case 'LT':
      out.line(`${s} <== ${lessThan(a, 'Lt')} * ${notNull};`);
      return;
    case 'LTE':
      out.line(`${s} <== ${lessThan(a + 1n, 'Lt')} * ${notNull};`);
      return;
    case 'GT':
      out.line(`${s} <== (1 - ${lessThan(a + 1n, 'Lt')}) * ${notNull};`);
      return;
    case 'GTE':
      out.line(`${s} <== (1 - ${lessThan(a, 'Lt')}) * ${notNull};`);
      return;
    case 'BETWEEN':
    case 'NOT-BETWEEN': {
      const inside = `${name}Inside`;
      out.line(`signal ${inside};`);
      out.line(`${inside} <== (1 - ${lessThan(a, 'BelowMin')}) * ${lessThan(b + 1n, 'UpToMax')};`);
      out.line(`${s} <== ${predicate.op === 'BETWEEN' ? inside : `(1 - ${inside})`} * ${notNull};`);
      return;
    }
    case 'IN':
    case 'NIN': {
      // The list is a compile-time constant of exact length: no padding can fake a match.
      let product = `(${v} - ${predicate.constants[0]})`;
      predicate.constants.slice(1).forEach((constant, position) => {
        const step = `${name}Product${position + 1}`;
        out.line(`signal ${step};`);
        out.line(`${step} <== ${product} * (${v} - ${constant});`);
        product = step;
      });
      const zero = `${name}Listed`;
      out.line(`component ${zero} = IsZeroOf();`);
      out.line(`${zero}.in <== ${product};`);
      out.line(`${s} <== ${predicate.op === 'IN' ? `${zero}.out` : `(1 - ${zero}.out)`} * ${notNull};`);
      return;
    }
  }
}

/** Emit `lhs >= 0` for an integer expression bounded by 2^bits in absolute value. */
export function emitNonNegative(out: CircomLines, expression: string, bits: number): void {
  // The check is sound only while every honest value is below 2^bits and every negative one wraps far above it.
  if (bits > 250)
    throw new ZkaiError(
      'POLICY_TOO_WIDE',
      `an aggregate check needs ${bits} bits, more than the 250 a sound check allows: use smaller bounds, fewer decimals or a column with a smaller minimum`,
    );
  const name = out.name('nonneg');
  out.line(`component ${name} = NonNegative(${bits});`);
  out.line(`${name}.in <== ${expression};`);
}

/** Emit `min <= value / weight <= max`, cross-multiplied, for a weight > 0 and a value bounded by 2^bits. */
export function emitFractionBounds(
  out: CircomLines,
  value: string,
  weight: string,
  min: Fraction | undefined,
  max: Fraction | undefined,
  bits: number,
): void {
  // min <= value / weight <= max  <=>  value * min.den - min.num * weight >= 0  and  max.num * weight - value * max.den >= 0
  if (min)
    emitNonNegative(
      out,
      `${value} * ${min.den} - (${min.num}) * ${weight}`,
      bits + bitLength(min.den) + bitLength(min.num < 0n ? -min.num : min.num) + 2,
    );
  if (max)
    emitNonNegative(
      out,
      `(${max.num}) * ${weight} - ${value} * ${max.den}`,
      bits + bitLength(max.den) + bitLength(max.num < 0n ? -max.num : max.num) + 2,
    );
}
