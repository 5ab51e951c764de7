import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveCacheDir } from '../cache/cache-dir.ts';
import { writeFileAtomic } from '../util/atomic-fs.ts';
import { sha256Parts } from '../util/hash.ts';
import { emitRecordLeaf } from './leaf.ts';
import { ZkaiError } from '../errors.ts';
import { uniqueKey, uniqueKeyBits } from './unique.ts';
import type { Aggregate, Fraction, Policy, Predicate } from './policy.ts';
import type { Column, Schema } from './types.ts';
import { lowLeafWitness, membershipWitness, registryHas, type Registry } from './registry.ts';
import { CONTEXT_SIGNAL, NO_CONTEXT, emitContextInput } from '../circuit/context.ts';

/** Folder that holds `data/dataset.circom`, for the compiler's include path. */
export const DATA_TEMPLATES_DIR = fileURLToPath(new URL('../../circuits', import.meta.url));

/** Bumped whenever the generated code changes meaning, so cached circuits are regenerated. */
const GENERATOR_VERSION = 'zkai-dataset-circuit-v7';

/** What the generated circuit's first public signals mean, in order (registry roots and `context` follow). */
export const DATASET_SIGNAL_NAMES = ['root', 'count', 'policyHash', 'schemaHash'] as const;

/** Public signal name of a registry's root. */
export function registrySignalName(name: string): string {
  return `registry.${name}`;
}

/** Names of a whole-dataset circuit's public signals, in order: the fixed four, one root per registry, `context`. */
export function datasetSignalNames(policy: Policy): string[] {
  return [...DATASET_SIGNAL_NAMES, ...policy.registries.map((r) => registrySignalName(r.name)), CONTEXT_SIGNAL];
}

/**
 * Whole: the circuit checks every rule and every aggregate of the dataset. Chunk: the circuit checks every rule for
 * the records of one chunk (an aligned subtree of the dataset's tree) and outputs the chunk's aggregate partials,
 * which the verifier sums over all chunks and judges (see chunked.ts).
 */
export type DatasetCircuitMode = 'whole' | 'chunk';

/** One public partial of a chunk circuit: which aggregate it belongs to and what it counts. */
export interface ChunkPartial {
  aggregate: number;
  name: 'encodedSum' | 'present' | 'matched' | 'nA' | 'kA' | 'nB' | 'kB' | 'firstKey' | 'lastKey';
}

/** The partials a chunk circuit outputs, in order (after `root`). */
export function chunkPartials(policy: Policy): ChunkPartial[] {
  return policy.aggregates.flatMap((aggregate, index): ChunkPartial[] => {
    switch (aggregate.kind) {
      case 'COUNT':
        return [];
      case 'SUM':
      case 'MEAN':
        return [{ aggregate: index, name: 'encodedSum' }, { aggregate: index, name: 'present' }];
      case 'PROPORTION':
        return [{ aggregate: index, name: 'matched' }];
      case 'GROUP-PARITY':
        return (['nA', 'kA', 'nB', 'kB'] as const).map((name) => ({ aggregate: index, name }));
      case 'UNIQUE':
        return [{ aggregate: index, name: 'firstKey' }, { aggregate: index, name: 'lastKey' }];
    }
  });
}

/**
 * Names of a chunk circuit's public signals, in order: its subtree root (`root`, or `root0`... when a chunk holds
 * several subtrees), its aggregate partials, then the public inputs (`context` last).
 */
export function chunkSignalNames(policy: Policy, subtrees = 1): string[] {
  return chunkLayout(chunkPartials(policy).map(partialSignalName), policy.registries.map((r) => r.name), subtrees);
}

/** Public signal name of an aggregate partial. */
export function partialSignalName(partial: ChunkPartial): string {
  return `aggregate${partial.aggregate}.${partial.name}`;
}

/** A chunk circuit's public signal names from its partials' names, its registries' names and its subtrees per chunk. */
export function chunkLayout(partials: readonly string[], registries: readonly string[], subtrees: number): string[] {
  const roots = subtrees === 1 ? ['root'] : Array.from({ length: subtrees }, (_, j) => `root${j}`);
  return [...roots, ...partials, 'count', 'policyHash', 'schemaHash', 'chunkDepth', 'chunkSubtrees', ...registries.map(registrySignalName), CONTEXT_SIGNAL];
}

function bitLength(value: bigint): number {
  return value <= 0n ? 0 : value.toString(2).length;
}

function clamp(value: bigint, low: bigint, high: bigint): bigint {
  return value < low ? low : value > high ? high : value;
}

/** Generates circom code; keeps a counter for unique component names. */
class Emitter {
  readonly lines: string[] = [];
  private next = 0;
  name(prefix: string): string {
    this.next += 1;
    return `${prefix}${this.next}`;
  }
  line(text = ''): void {
    this.lines.push(text ? `    ${text}` : '');
  }
}

/**
 * Emit the satisfaction signal of a predicate for record i: 1 when it holds, else 0, exactly as
 * `predicateHolds` in policy.ts computes it. Returns the signal expression name.
 */
function emitPredicate(out: Emitter, predicate: Predicate, record: number): string {
  const k = predicate.column.index;
  const v = `values[${record}][${k}]`;
  const notNull = `notNull[${record}][${k}]`;
  const bits = predicate.column.bits;
  const top = 1n << BigInt(bits);
  const s = out.name('sat');
  out.line(`signal ${s};`);
  const lessThan = (bound: bigint): string => {
    const name = out.name('lt');
    out.line(`component ${name} = LessThanConst(${bits}, ${clamp(bound, 0n, top)});`);
    out.line(`${name}.value <== ${v};`);
    return `${name}.out`;
  };
  const equals = (constant: bigint): string => {
    const name = out.name('eq');
    out.line(`component ${name} = IsEqual();`);
    out.line(`${name}.in[0] <== ${v};`);
    out.line(`${name}.in[1] <== ${constant};`);
    return `${name}.out`;
  };
  const [a, b] = predicate.constants as [bigint, bigint];
  switch (predicate.op) {
    case 'ABSENT':
      out.line(`${s} <== isNull[${record}][${k}];`);
      return s;
    case 'NOT-NULL':
      out.line(`${s} <== ${notNull};`);
      return s;
    case 'EQ':
      out.line(`${s} <== ${equals(a)} * ${notNull};`);
      return s;
    case 'NE':
      out.line(`${s} <== (1 - ${equals(a)}) * ${notNull};`);
      return s;
    case 'LT':
      out.line(`${s} <== ${lessThan(a)} * ${notNull};`);
      return s;
    case 'LTE':
      out.line(`${s} <== ${lessThan(a + 1n)} * ${notNull};`);
      return s;
    case 'GT':
      out.line(`${s} <== (1 - ${lessThan(a + 1n)}) * ${notNull};`);
      return s;
    case 'GTE':
      out.line(`${s} <== (1 - ${lessThan(a)}) * ${notNull};`);
      return s;
    case 'BETWEEN':
    case 'NOT-BETWEEN': {
      const inside = out.name('in');
      out.line(`signal ${inside};`);
      out.line(`${inside} <== (1 - ${lessThan(a)}) * ${lessThan(b + 1n)};`);
      out.line(`${s} <== ${predicate.op === 'BETWEEN' ? inside : `(1 - ${inside})`} * ${notNull};`);
      return s;
    }
    case 'IN':
    case 'NIN': {
      // The list is a compile-time constant of exact length: no padding can fake a match.
      let product = `(${v} - ${predicate.constants[0]})`;
      for (const constant of predicate.constants.slice(1)) {
        const step = out.name('prod');
        out.line(`signal ${step};`);
        out.line(`${step} <== ${product} * (${v} - ${constant});`);
        product = step;
      }
      const zero = out.name('member');
      out.line(`component ${zero} = IsZeroOf();`);
      out.line(`${zero}.in <== ${product};`);
      out.line(`${s} <== ${predicate.op === 'IN' ? `${zero}.out` : `(1 - ${zero}.out)`} * ${notNull};`);
      return s;
    }
  }
}

/** Emit `lhs >= 0` for an integer expression bounded by 2^bits in absolute value. */
function emitNonNegative(out: Emitter, expression: string, bits: number): void {
  // The check is sound only while every honest value is below 2^bits and every negative one wraps far above it.
  if (bits > 250) throw new ZkaiError('POLICY_TOO_WIDE', `an aggregate check needs ${bits} bits, more than the 250 a sound check allows: use smaller bounds, fewer decimals or a column with a smaller minimum`);
  const name = out.name('nonneg');
  out.line(`component ${name} = NonNegative(${bits});`);
  out.line(`${name}.in <== ${expression};`);
}

function emitFractionBounds(out: Emitter, value: string, weight: string, min: Fraction | undefined, max: Fraction | undefined, bits: number): void {
  // min <= value / weight <= max  <=>  value * min.den - min.num * weight >= 0  and  max.num * weight - value * max.den >= 0
  if (min) emitNonNegative(out, `${value} * ${min.den} - (${min.num}) * ${weight}`, bits + bitLength(min.den) + bitLength(min.num < 0n ? -min.num : min.num) + 2);
  if (max) emitNonNegative(out, `(${max.num}) * ${weight} - ${value} * ${max.den}`, bits + bitLength(max.den) + bitLength(max.num < 0n ? -max.num : max.num) + 2);
}

/** The generated circuit for a (schema, policy, capacity): its source and where it was written. */
export interface GeneratedDatasetCircuit {
  id: string;
  path: string;
  capacity: number;
  depth: number;
  /** Chunk mode: how many aligned subtrees of 2^depth records the circuit proves (capacity = subtrees * 2^depth). */
  subtrees: number;
  source: string;
}

/**
 * Generate the circom main component that proves "the dataset with public root R and count N, encoded with the
 * schema of hash S, satisfies the policy of hash P", for datasets of up to 2^depth records. Written (atomically)
 * into the cache, named by a hash of everything it depends on.
 */
export async function generateDatasetCircuit(
  schema: Schema,
  policy: Policy,
  depth: number,
  options: { cacheDir?: string; mode?: DatasetCircuitMode; subtrees?: number } = {},
): Promise<GeneratedDatasetCircuit> {
  const mode = options.mode ?? 'whole';
  const chunk = mode === 'chunk';
  const subtrees = chunk ? (options.subtrees ?? 1) : 1;
  if (!Number.isInteger(subtrees) || subtrees < 1 || subtrees > 4096) throw new ZkaiError('BAD_OPTION', `subtrees per chunk must be an integer from 1 to 4096, got ${subtrees}`);
  if (!Number.isInteger(depth) || depth < (chunk ? 0 : 1) || depth > 30) throw new ZkaiError('BAD_OPTION', `tree depth ${depth} is out of range`);
  const partials = chunk ? chunkPartials(policy) : [];
  const partialIndex = (aggregate: number, name: ChunkPartial['name']) => partials.findIndex((p) => p.aggregate === aggregate && p.name === name);
  const capacity = subtrees * 2 ** depth;
  const columns = schema.columns;
  const width = columns.length;
  const out = new Emitter();
  const id = sha256Parts([GENERATOR_VERSION, schema.hash, policy.hash, String(depth), mode, String(subtrees)]).slice(0, 20);

  out.line(`signal input count;`);
  out.line(`signal input policyHash;`);
  out.line(`signal input schemaHash;`);
  out.line(`signal input salt[${capacity}];`);
  out.line(`signal input values[${capacity}][${width}];`);
  out.line(`signal input isNull[${capacity}][${width}];`);
  out.line(subtrees === 1 ? `signal output root;` : `signal output roots[${subtrees}]; // one per aligned subtree of ${2 ** depth} records`);
  if (partials.length > 0) out.line(`signal output partials[${partials.length}]; // ${partials.map((p) => `aggregate${p.aggregate}.${p.name}`).join(', ')}`);
  out.line();
  out.line(`// The public hashes are fixed by this circuit: a proof with its key always claims exactly this policy and schema.`);
  out.line(`policyHash === ${policy.hash};`);
  out.line(`schemaHash === ${schema.hash};`);
  if (chunk) {
    out.line(`// The chunk size is public and fixed by this circuit, so a verifier cannot be told another one.`);
    out.line(`signal input chunkDepth;`);
    out.line(`chunkDepth === ${depth};`);
    out.line(`signal input chunkSubtrees;`);
    out.line(`chunkSubtrees === ${subtrees};`);
  }
  const registries = policy.registries;
  if (registries.length > 0) {
    out.line(`// Registry roots (public, checked by the verifier against the roots it trusts), and per record the registry leaf`);
    out.line(`// that proves membership (its key and next key) or non-membership (the "low" leaf: key, next key, value).`);
    out.line(`signal input registryRoot[${registries.length}]; // ${registries.map((r) => r.text).join('; ')}`);
    for (const r of registries) {
      const j = r.index;
      out.line(`signal input registry${j}Key[${capacity}];`);
      out.line(`signal input registry${j}Next[${capacity}];`);
      if (r.kind === 'NOT-MEMBER-OF') out.line(`signal input registry${j}Value[${capacity}];`);
      out.line(`signal input registry${j}Siblings[${capacity}][${r.depth}];`);
      out.line(`signal input registry${j}Bits[${capacity}][${r.depth}];`);
    }
  }
  emitContextInput((text) => out.line(text));
  // A column's sort key per record (UNIQUE, NOT-MEMBER-OF): a string id's key is the low 128 bits of its hash, read
  // from a STRICT decomposition (Num2Bits_strict's alias check), so one hash has exactly one key. Integer and address
  // keys are values already range-checked by the leaf (an address to 160 bits). Emitted once per (record, column).
  const keyNames = new Map<string, string>();
  const keyOf = (record: number, column: Column): string => {
    if (column.spec.type !== 'string') return `values[${record}][${column.index}]`;
    const id = `${record}:${column.index}`;
    const known = keyNames.get(id);
    if (known) return known;
    const name = `key${column.index}Record${record}`;
    out.line(`component ${name}Bits = Num2Bits_strict();`);
    out.line(`${name}Bits.in <== values[${record}][${column.index}];`);
    out.line(`var ${name} = 0;`);
    out.line(`for (var b = 0; b < ${uniqueKeyBits(column)}; b++) { ${name} += ${name}Bits.out[b] * (1 << b); }`);
    keyNames.set(id, name);
    return name;
  };
  out.line();
  out.line(`component active = ActivePrefix(${capacity});`);
  out.line(`active.count <== count;`);
  out.line(`signal notNull[${capacity}][${width}];`);
  // present[k][i] = record i is real and its column k is not null: only for the columns SUM and MEAN add up.
  const summed = [...new Set(policy.aggregates.flatMap((a) => (a.kind === 'SUM' || a.kind === 'MEAN' ? [a.column.index] : [])))];
  for (const k of summed) out.line(`signal presentCol${k}[${capacity}];`);
  out.line(`component fields[${capacity}][${width}];`);

  out.line(`signal leaf[${capacity}];`);
  for (let record = 0; record < capacity; record += 1) {
    out.line();
    out.line(`// record ${record}`);
    for (const column of columns) {
      const k = column.index;
      out.line(`fields[${record}][${k}] = FieldValue();`);
      out.line(`fields[${record}][${k}].value <== values[${record}][${k}];`);
      out.line(`fields[${record}][${k}].isNull <== isNull[${record}][${k}];`);
      out.line(`notNull[${record}][${k}] <== 1 - isNull[${record}][${k}];`);
      if (summed.includes(k)) out.line(`presentCol${k}[${record}] <== active.active[${record}] * notNull[${record}][${k}];`);
      // Not nullable: no record, real or padding, may hold a null here (padding records are all zeros anyway).
      if (!column.nullable) out.line(`isNull[${record}][${k}] === 0; // ${column.name} is not nullable`);
    }
    // The leaf; this also range-checks every non-string value to its bit width, which every comparator relies on.
    const leafOut = emitRecordLeaf((text) => out.line(text), `record${record}Leaf`, columns, {
      salt: `salt[${record}]`,
      value: (k) => `values[${record}][${k}]`,
      isNull: (k) => `isNull[${record}][${k}]`,
    });
    out.line(`leaf[${record}] <== active.active[${record}] * ${leafOut};`);

    for (const rule of policy.rules) {
      out.line(`// rule ${rule.index}: ${rule.text.replace(/\n/g, ' ')}`);
      const sat = emitPredicate(out, rule.predicate, record);
      let applies = `active.active[${record}]`;
      if (rule.when) {
        const when = emitPredicate(out, rule.when, record);
        const scoped = out.name('applies');
        out.line(`signal ${scoped};`);
        out.line(`${scoped} <== ${applies} * ${when};`);
        applies = scoped;
      }
      out.line(`${applies} * (1 - ${sat}) === 0;`);
    }
    for (const r of registries) {
      const j = r.index;
      const check = `registry${j}Record${record}`;
      out.line(`// ${r.text}`);
      if (r.kind === 'MEMBER-OF') {
        out.line(`component ${check} = RegistryMember(${r.depth});`);
        out.line(`${check}.value <== values[${record}][${r.column.index}];`);
        out.line(`${check}.key <== registry${j}Key[${record}];`);
        out.line(`${check}.next <== registry${j}Next[${record}];`);
      } else {
        out.line(`component ${check} = RegistryNonMember(${r.depth}, ${uniqueKeyBits(r.column)});`);
        out.line(`${check}.key <== ${keyOf(record, r.column)};`);
        out.line(`${check}.lowKey <== registry${j}Key[${record}];`);
        out.line(`${check}.lowNext <== registry${j}Next[${record}];`);
        out.line(`${check}.lowValue <== registry${j}Value[${record}];`);
      }
      out.line(`${check}.enabled <== active.active[${record}];`);
      out.line(`${check}.root <== registryRoot[${j}];`);
      out.line(`for (var l = 0; l < ${r.depth}; l++) { ${check}.siblings[l] <== registry${j}Siblings[${record}][l]; ${check}.bits[l] <== registry${j}Bits[${record}][l]; }`);
    }
  }

  out.line();
  if (subtrees === 1) {
    out.line(`component tree = MerkleRoot(${depth});`);
    out.line(`for (var i = 0; i < ${capacity}; i++) { tree.leaves[i] <== leaf[i]; }`);
    out.line(`root <== tree.root;`);
  } else if (depth === 0) {
    out.line(`// subtrees of one record: each root is the record's leaf`);
    out.line(`for (var j = 0; j < ${subtrees}; j++) { roots[j] <== leaf[j]; }`);
  } else {
    out.line(`component trees[${subtrees}];`);
    out.line(`for (var j = 0; j < ${subtrees}; j++) {`);
    out.line(`    trees[j] = MerkleRoot(${depth});`);
    out.line(`    for (var i = 0; i < ${2 ** depth}; i++) { trees[j].leaves[i] <== leaf[j * ${2 ** depth} + i]; }`);
    out.line(`    roots[j] <== trees[j].root;`);
    out.line(`}`);
  }

  const capacityBits = bitLength(BigInt(capacity - 1)) || 1;
  const countBits = capacityBits + 2;
  policy.aggregates.forEach((aggregate: Aggregate, index) => {
    out.line();
    out.line(`// aggregate ${index}: ${aggregate.text}`);
    switch (aggregate.kind) {
      case 'COUNT':
        if (chunk) break; // the verifier sums the chunks' public counts
        if (aggregate.min !== undefined) emitNonNegative(out, `count - ${aggregate.min}`, countBits + bitLength(aggregate.min));
        if (aggregate.max !== undefined) emitNonNegative(out, `${aggregate.max} - count`, countBits + bitLength(aggregate.max));
        break;
      case 'SUM':
      case 'MEAN': {
        const k = aggregate.column.index;
        const sum = out.name('sum');
        const m = out.name('present');
        out.line(`signal ${sum}Terms[${capacity}];`);
        out.line(`for (var i = 0; i < ${capacity}; i++) { ${sum}Terms[i] <== presentCol${k}[i] * values[i][${k}]; }`);
        out.line(`var ${sum} = 0;`);
        out.line(`var ${m} = 0;`);
        out.line(`for (var i = 0; i < ${capacity}; i++) { ${sum} += ${sum}Terms[i]; ${m} += presentCol${k}[i]; }`);
        if (chunk) {
          out.line(`partials[${partialIndex(index, 'encodedSum')}] <== ${sum};`);
          out.line(`partials[${partialIndex(index, 'present')}] <== ${m};`);
          break;
        }
        const offset = aggregate.offset;
        const actual = `(${sum} + ${m} * (${offset}))`;
        const magnitude = aggregate.column.bits + capacityBits + bitLength(offset < 0n ? -offset : offset) + 2;
        if (aggregate.kind === 'SUM') {
          const bound = (x: bigint) => bitLength(x < 0n ? -x : x);
          if (aggregate.min !== undefined) emitNonNegative(out, `${actual} - (${aggregate.min})`, Math.max(magnitude, bound(aggregate.min)) + 2);
          if (aggregate.max !== undefined) emitNonNegative(out, `(${aggregate.max}) - ${actual}`, Math.max(magnitude, bound(aggregate.max)) + 2);
        } else {
          emitNonNegative(out, `${m} - 1`, countBits); // a mean of no values fails
          emitFractionBounds(out, actual, m, aggregate.min, aggregate.max, magnitude);
        }
        break;
      }
      case 'PROPORTION': {
        const matched = out.name('matched');
        out.line(`var ${matched} = 0;`);
        const terms: string[] = [];
        for (let record = 0; record < capacity; record += 1) {
          const sat = emitPredicate(out, aggregate.where, record);
          const term = out.name('counted');
          out.line(`signal ${term};`);
          out.line(`${term} <== active.active[${record}] * ${sat};`);
          terms.push(term);
        }
        out.line(`${matched} = ${terms.join(' + ')};`);
        if (chunk) {
          out.line(`partials[${partialIndex(index, 'matched')}] <== ${matched};`);
          break;
        }
        emitFractionBounds(out, matched, 'count', aggregate.min, aggregate.max, countBits);
        break;
      }
      case 'GROUP-PARITY': {
        // |kA/nA - kB/nB| <= num/den  <=>  num*nA*nB - den*(kA*nB - kB*nA) >= 0 and num*nA*nB + den*(kA*nB - kB*nA) >= 0,
        // with nA, nB >= 1. Counts are below 2^(depth+1), so every product stays far below the field modulus.
        const label = out.name('parity');
        const sums = { nA: [] as string[], kA: [] as string[], nB: [] as string[], kB: [] as string[] };
        for (let record = 0; record < capacity; record += 1) {
          const a = emitPredicate(out, aggregate.groupA, record);
          const b = emitPredicate(out, aggregate.groupB, record);
          const o = emitPredicate(out, aggregate.outcome, record);
          const inA = out.name('inA');
          const inB = out.name('inB');
          const hitA = out.name('hitA');
          const hitB = out.name('hitB');
          out.line(`signal ${inA};`);
          out.line(`signal ${inB};`);
          out.line(`signal ${hitA};`);
          out.line(`signal ${hitB};`);
          out.line(`${inA} <== active.active[${record}] * ${a};`);
          out.line(`${inB} <== active.active[${record}] * ${b};`);
          out.line(`${hitA} <== ${inA} * ${o};`);
          out.line(`${hitB} <== ${inB} * ${o};`);
          sums.nA.push(inA);
          sums.nB.push(inB);
          sums.kA.push(hitA);
          sums.kB.push(hitB);
        }
        for (const [key, terms] of Object.entries(sums)) out.line(`var ${label}${key} = ${terms.join(' + ')};`);
        if (chunk) {
          for (const key of ['nA', 'kA', 'nB', 'kB'] as const) out.line(`partials[${partialIndex(index, key)}] <== ${label}${key};`);
          break;
        }
        out.line(`signal ${label}Cross1 <== ${label}kA * ${label}nB;`);
        out.line(`signal ${label}Cross2 <== ${label}kB * ${label}nA;`);
        out.line(`signal ${label}Both <== ${label}nA * ${label}nB;`);
        emitNonNegative(out, `${label}nA - 1`, countBits);
        emitNonNegative(out, `${label}nB - 1`, countBits);
        const { num, den } = aggregate.maxDifference;
        const bits = 2 * countBits + bitLength(num) + bitLength(den) + 2;
        emitNonNegative(out, `${num} * ${label}Both - ${den} * (${label}Cross1 - ${label}Cross2)`, bits);
        emitNonNegative(out, `${num} * ${label}Both + ${den} * (${label}Cross1 - ${label}Cross2)`, bits);
        break;
      }
      case 'UNIQUE': {
        // Records are committed sorted by their id key; consecutive real records must have strictly increasing keys.
        const label = out.name('unique');
        const keyBits = uniqueKeyBits(aggregate.column);
        const keys: string[] = [];
        for (let record = 0; record < capacity; record += 1) keys.push(keyOf(record, aggregate.column));
        for (let record = 1; record < capacity; record += 1) {
          out.line(`component ${label}Lt${record} = LessThan(${keyBits});`);
          out.line(`${label}Lt${record}.in[0] <== ${keys[record - 1]};`);
          out.line(`${label}Lt${record}.in[1] <== ${keys[record]};`);
          out.line(`active.active[${record}] * (1 - ${label}Lt${record}.out) === 0;`);
        }
        if (chunk) {
          // The verifier checks that each chunk's last key is below the next chunk's first key.
          out.line(`partials[${partialIndex(index, 'firstKey')}] <== ${keys[0]};`);
          const ends: string[] = [];
          for (let record = 0; record < capacity; record += 1) {
            const next = record + 1 < capacity ? `active.active[${record + 1}]` : '0';
            out.line(`signal ${label}End${record} <== (active.active[${record}] - ${next}) * ${keys[record]};`);
            ends.push(`${label}End${record}`);
          }
          out.line(`partials[${partialIndex(index, 'lastKey')}] <== ${ends.join(' + ')};`);
        }
        break;
      }
    }
  });

  const source = [
    'pragma circom 2.1.0;',
    '',
    `// GENERATED by zkai (${GENERATOR_VERSION}) - do not edit.`,
    `// schema "${schema.spec.name}" (hash ${schema.hash})`,
    `// policy "${policy.spec.name.replace(/\n/g, ' ')}" (hash ${policy.hash})`,
    `// ${chunk ? 'chunk of' : 'capacity'} ${capacity} records (${chunk ? `${subtrees} subtree(s) of ` : ''}tree depth ${depth}); public signals: ${(chunk ? chunkSignalNames(policy, subtrees) : datasetSignalNames(policy)).join(', ')}`,
    'include "data/dataset.circom";',
    ...(registries.length > 0 ? ['include "data/registry.circom";'] : []),
    '',
    'template DatasetPolicy() {',
    ...out.lines,
    '}',
    '',
    `component main {public [count, policyHash, schemaHash${chunk ? ', chunkDepth, chunkSubtrees' : ''}${registries.length > 0 ? ', registryRoot' : ''}, context]} = DatasetPolicy();`,
    '',
  ].join('\n');
  const path = join(resolveCacheDir(options.cacheDir), 'generated', `dataset_${chunk ? 'chunk_' : ''}${id}.circom`);
  // Rewritten whenever the generated code differs, so a generator change can never reuse a stale file.
  if (!existsSync(path) || (await readFile(path, 'utf8')) !== source) await writeFileAtomic(path, source);
  return { id, path, capacity, depth, subtrees, source };
}

/**
 * The registry part of a circuit input: per record, the leaf and path that prove membership or non-membership. A
 * record whose value breaks the requirement (only with a forced proof) gets the closest thing to a witness: zeros for
 * a missing member, the present value's predecessor leaf for a listed one; the circuit refuses both.
 */
function registryInputs(
  records: ReadonlyArray<{ values: bigint[] }>,
  policy: Policy,
  registries: readonly Registry[],
  capacity: number,
): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  if (policy.registries.length === 0) return input;
  input.registryRoot = registries.map((registry) => registry.root);
  for (const requirement of policy.registries) {
    const j = requirement.index;
    const registry = registries[j] as Registry;
    const zeros = () => Array<bigint | number>(requirement.depth).fill(0);
    const key: bigint[] = [];
    const next: bigint[] = [];
    const value: bigint[] = [];
    const siblings: Array<Array<bigint | number>> = [];
    const bits: Array<Array<bigint | number>> = [];
    for (let i = 0; i < capacity; i += 1) {
      const record = records[i];
      let witness: { key: bigint; next: bigint; value: bigint; siblings: Array<bigint | number>; bits: Array<bigint | number> } = { key: 0n, next: 0n, value: 0n, siblings: zeros(), bits: zeros() };
      if (record) {
        const v = record.values[requirement.column.index] as bigint;
        if (requirement.kind === 'MEMBER-OF') {
          // An unlisted value keeps the zero witness, which the circuit refuses.
          if (registryHas(registry, requirement.column, v)) {
            const w = membershipWitness(registry, requirement.column, v);
            witness = { key: w.key, next: w.next, value: v, siblings: w.siblings, bits: w.bits };
          }
        } else {
          // For a listed value this is its predecessor leaf, which the circuit refuses.
          const w = lowLeafWitness(registry, uniqueKey(requirement.column, v));
          witness = { key: w.lowKey, next: w.lowNext, value: w.lowValue, siblings: w.siblings, bits: w.bits };
        }
      }
      key.push(witness.key);
      next.push(witness.next);
      value.push(witness.value);
      siblings.push(witness.siblings);
      bits.push(witness.bits);
    }
    input[`registry${j}Key`] = key;
    input[`registry${j}Next`] = next;
    if (requirement.kind === 'NOT-MEMBER-OF') input[`registry${j}Value`] = value;
    input[`registry${j}Siblings`] = siblings;
    input[`registry${j}Bits`] = bits;
  }
  return input;
}

/**
 * The circuit input for a dataset (records padded to the capacity with zeros). `registries` are the policy's
 * registries in its order (see registriesForPolicy in policy.ts).
 */
export function datasetCircuitInput(
  records: ReadonlyArray<{ values: bigint[]; nulls: boolean[] }>,
  salts: readonly bigint[],
  schema: Schema,
  policy: Policy,
  depth: number,
  registries: readonly Registry[] = [],
  capacity = 2 ** depth,
): Record<string, unknown> {
  const width = schema.columns.length;
  const pad = <T>(items: readonly T[], filler: T): T[] => [...items, ...Array<T>(capacity - items.length).fill(filler)];
  return {
    count: records.length,
    policyHash: policy.hash,
    schemaHash: schema.hash,
    salt: pad(salts, 0n),
    values: pad(records.map((r) => r.values), Array<bigint>(width).fill(0n)),
    isNull: pad(records.map((r) => r.nulls.map((n) => (n ? 1 : 0))), Array<number>(width).fill(0)),
    ...registryInputs(records, policy, registries, capacity),
    context: NO_CONTEXT,
  };
}
