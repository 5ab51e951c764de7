import { fileURLToPath } from 'node:url';
import { CircomLines, generatedId, generatedSource, writeGeneratedSource } from '../circuit/generated-source.ts';
import { commentText } from '../util/text.ts';
import { emitRecordLeaf } from './leaf.ts';
import { ZkaiError } from '../errors.ts';
import { uniqueKey, uniqueKeyBits } from './unique.ts';
import { emitSponge } from '../crypto/poseidon-circom.ts';
import type { Policy } from '../policy/policy.ts';
import { emitAggregates, emitRecordPolicy } from '../policy/circom.ts';
import { chunkPartials, partialSignalName } from '../policy/chunks.ts';
import type { Column, Schema } from './types.ts';
import { lowLeafWitness, membershipWitness, registryHas, type Registry } from './registry.ts';
import { CONTEXT_SIGNAL, NO_CONTEXT, emitContextInput } from '../circuit/context.ts';

/** The most aligned subtrees one chunk proof may cover (`--subtrees-per-chunk`). */
export const MAX_SUBTREES_PER_CHUNK = 4096;

/** Folder that holds `data/dataset.circom`, for the compiler's include path. */
export const DATA_TEMPLATES_DIR = fileURLToPath(new URL('../../circuits', import.meta.url));

/** Bumped whenever the generated code changes meaning, so cached circuits are regenerated. */
const GENERATOR_VERSION = 'zkai-dataset-circuit-v9';

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
 * the records of one chunk (aligned subtrees of the dataset's tree), for a policy with no aggregate over records and
 * no UNIQUE (see chunked.ts). Committed chunk: the same, and it commits, salted, to the chunk's aggregate partials,
 * which aggregation proofs open, sum and judge (see private-chunked.ts and aggregation-gen.ts).
 */
export type DatasetCircuitMode = 'whole' | 'chunk' | 'committed-chunk';

/**
 * Names of a committed chunk circuit's public signals (`committed-chunk` mode, issue 18): as {@link chunkSignalNames}
 * with one salted commitment to the partials (see aggregation-gen.ts) in place of the partials.
 */
export function committedChunkSignalNames(policy: Policy, subtrees = 1): string[] {
  return chunkLayout(
    chunkPartials(policy).length > 0 ? ['commitment'] : [],
    policy.registries.map((r) => r.name),
    subtrees,
  );
}

/**
 * Names of a chunk circuit's public signals, in order: its subtree root (`root`, or `root0`... when a chunk holds
 * several subtrees), its aggregate partials, then the public inputs (`context` last).
 */
export function chunkSignalNames(policy: Policy, subtrees = 1): string[] {
  return chunkLayout(
    chunkPartials(policy).map(partialSignalName),
    policy.registries.map((r) => r.name),
    subtrees,
  );
}

/** A chunk circuit's public signal names from its partials' names, its registries' names and its subtrees per chunk. */
export function chunkLayout(partials: readonly string[], registries: readonly string[], subtrees: number): string[] {
  const roots = subtrees === 1 ? ['root'] : Array.from({ length: subtrees }, (_, j) => `root${j}`);
  return [
    ...roots,
    ...partials,
    'count',
    'policyHash',
    'schemaHash',
    'chunkDepth',
    'chunkSubtrees',
    ...registries.map(registrySignalName),
    CONTEXT_SIGNAL,
  ];
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

/** The record template's name: policy-specific, so a reader of the generated file sees whose record it checks. */
function recordTemplateName(policy: Policy): string {
  return `Record_${policy.spec.name
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 48)}`;
}

/** A column's sort key's expression inside the record template (UNIQUE, NOT-MEMBER-OF), emitted once per column. */
function sortKeys(out: CircomLines): (column: Column) => string {
  const names = new Map<number, string>();
  return (column) => {
    // A string id's key is the low 128 bits of its hash, read from a STRICT decomposition (Num2Bits_strict's alias
    // check), so one hash has exactly one key. Integer and address keys are values the leaf range-checks already.
    if (column.spec.type !== 'string') return `values[${column.index}]`;
    const known = names.get(column.index);
    if (known) return known;
    const name = `sortKey${column.index}`;
    out.line(`component ${name}Bits = Num2Bits_strict();`);
    out.line(`${name}Bits.in <== values[${column.index}];`);
    out.line(`var ${name} = 0;`);
    out.line(`for (var b = 0; b < ${uniqueKeyBits(column)}; b++) { ${name} += ${name}Bits.out[b] * (1 << b); }`);
    names.set(column.index, name);
    return name;
  };
}

/**
 * The policy's record template: one record's field checks, its leaf (which range-checks every non-string value, as
 * every comparator requires), every registry requirement (enforced when `active`), and the policy's part (every rule,
 * the per-record outputs the aggregates add up: src/policy/circom.ts). Its output `leaf` is 0 for a padding record.
 */
function recordTemplate(schema: Schema, policy: Policy): string[] {
  const out = new CircomLines();
  const columns = schema.columns;
  const width = columns.length;
  const keyOf = sortKeys(out);
  const registries = policy.registries;
  out.line(`signal input active; // 1 for a real record, 0 for padding`);
  out.line(`signal input salt;`);
  out.line(`signal input values[${width}]; // ${columns.map((c) => c.name).join(', ')}`);
  out.line(`signal input isNull[${width}];`);
  if (registries.length > 0) out.line(`signal input registryRoot[${registries.length}];`);
  for (const r of registries) {
    const j = r.index;
    out.line(`signal input registry${j}Key;`);
    out.line(`signal input registry${j}Next;`);
    if (r.kind === 'NOT-MEMBER-OF') out.line(`signal input registry${j}Value;`);
    out.line(`signal input registry${j}Siblings[${r.depth}];`);
    out.line(`signal input registry${j}Bits[${r.depth}];`);
  }
  out.line(`signal output leaf;`);
  out.line();
  out.line(`signal notNull[${width}];`);
  out.line(`component fields[${width}];`);
  out.line(`for (var k = 0; k < ${width}; k++) {`);
  out.line(`    fields[k] = FieldValue();`);
  out.line(`    fields[k].value <== values[k];`);
  out.line(`    fields[k].isNull <== isNull[k];`);
  out.line(`    notNull[k] <== 1 - isNull[k];`);
  out.line(`}`);
  // Not nullable: no record, real or padding, may hold a null here (padding records are all zeros anyway).
  for (const column of columns)
    if (!column.nullable) out.line(`isNull[${column.index}] === 0; // ${column.name} is not nullable`);
  out.line();
  // The leaf; this also range-checks every non-string value to its bit width, which every comparator relies on.
  const leafHash = emitRecordLeaf(out.line, 'leaf', columns, {
    salt: 'salt',
    value: (k) => `values[${k}]`,
    isNull: (k) => `isNull[${k}]`,
  });
  out.line(`leaf <== active * ${leafHash};`);
  for (const r of registries) {
    const j = r.index;
    const check = `registry${j}`;
    out.line();
    out.comment(r.text);
    if (r.kind === 'MEMBER-OF') {
      out.line(`component ${check} = RegistryMember(${r.depth});`);
      out.line(`${check}.value <== values[${r.column.index}];`);
      out.line(`${check}.key <== registry${j}Key;`);
      out.line(`${check}.next <== registry${j}Next;`);
    } else {
      out.line(`component ${check} = RegistryNonMember(${r.depth}, ${uniqueKeyBits(r.column)});`);
      out.line(`${check}.key <== ${keyOf(r.column)};`);
      out.line(`${check}.lowKey <== registry${j}Key;`);
      out.line(`${check}.lowNext <== registry${j}Next;`);
      out.line(`${check}.lowValue <== registry${j}Value;`);
    }
    out.line(`${check}.enabled <== active;`);
    out.line(`${check}.root <== registryRoot[${j}];`);
    out.line(`${check}.siblings <== registry${j}Siblings;`);
    out.line(`${check}.bits <== registry${j}Bits;`);
  }
  emitRecordPolicy(out, policy, keyOf);
  return [
    `// ${commentText(`One record of policy "${policy.spec.name}": what every record of the dataset must satisfy.`)}`,
    `template ${recordTemplateName(policy)}() {`,
    ...out.lines,
    '}',
  ];
}

/**
 * Generate the circom main component that proves "the dataset with public root R and count N, encoded with the
 * schema of hash S, satisfies the policy of hash P", for datasets of up to 2^depth records. The policy's record
 * template is instantiated once per record in a circom loop, so the source grows with the policy, not the records.
 * Written (atomically) into the cache, named by a hash of everything it depends on.
 */
export async function generateDatasetCircuit(
  schema: Schema,
  policy: Policy,
  depth: number,
  options: { cacheDir?: string; mode?: DatasetCircuitMode; subtrees?: number } = {},
): Promise<GeneratedDatasetCircuit> {
  const mode = options.mode ?? 'whole';
  const chunk = mode !== 'whole';
  const committed = mode === 'committed-chunk';
  const subtrees = chunk ? (options.subtrees ?? 1) : 1;
  if (!Number.isInteger(subtrees) || subtrees < 1 || subtrees > MAX_SUBTREES_PER_CHUNK)
    throw new ZkaiError(
      'BAD_OPTION',
      `subtrees per chunk must be an integer from 1 to ${MAX_SUBTREES_PER_CHUNK}, got ${subtrees}`,
    );
  if (!Number.isInteger(depth) || depth < (chunk ? 0 : 1) || depth > 30)
    throw new ZkaiError('BAD_OPTION', `tree depth ${depth} is out of range`);
  const partials = chunk ? chunkPartials(policy) : [];
  // A chunk circuit that published its partials disclosed per-chunk statistics (issue 18): such chunks commit to them.
  if (partials.length > 0 && !committed)
    throw new ZkaiError(
      'BAD_OPTION',
      `policy "${policy.spec.name}" has aggregates over records or UNIQUE: its chunk circuits commit to their partials (committed-chunk mode), they never publish them`,
    );
  const capacity = subtrees * 2 ** depth;
  const width = schema.columns.length;
  const out = new CircomLines();
  const { id, name } = datasetCircuitName(schema, policy, depth, { mode, subtrees });

  out.line(`signal input count;`);
  out.line(`signal input policyHash;`);
  out.line(`signal input schemaHash;`);
  out.line(`signal input salt[${capacity}];`);
  out.line(`signal input values[${capacity}][${width}];`);
  out.line(`signal input isNull[${capacity}][${width}];`);
  out.line(
    subtrees === 1
      ? `signal output root;`
      : `signal output roots[${subtrees}]; // one per aligned subtree of ${2 ** depth} records`,
  );
  if (partials.length > 0) {
    out.line(`signal partials[${partials.length}]; // private: ${partials.map(partialSignalName).join(', ')}`);
    out.line(`signal input chunkSalt; // private, fresh for every proof`);
    out.line(`signal output commitment; // sponge(partials..., chunkSalt)`);
  }
  out.line();
  out.line(
    `// The public hashes are fixed by this circuit: a proof with its key always claims exactly this policy and schema.`,
  );
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
    out.line(
      `// Registry roots (public, checked by the verifier against the roots it trusts), and per record the registry leaf`,
    );
    out.line(
      `// that proves membership (its key and next key) or non-membership (the "low" leaf: key, next key, value).`,
    );
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
  emitContextInput(out.line);
  out.line();
  out.line(`component active = ActivePrefix(${capacity});`);
  out.line(`active.count <== count;`);
  out.line(`component records[${capacity}];`);
  out.line(`for (var i = 0; i < ${capacity}; i++) {`);
  out.line(`    records[i] = ${recordTemplateName(policy)}();`);
  out.line(`    records[i].active <== active.active[i];`);
  out.line(`    records[i].salt <== salt[i];`);
  out.line(`    records[i].values <== values[i];`);
  out.line(`    records[i].isNull <== isNull[i];`);
  if (registries.length > 0) out.line(`    records[i].registryRoot <== registryRoot;`);
  for (const r of registries) {
    const j = r.index;
    out.line(`    records[i].registry${j}Key <== registry${j}Key[i];`);
    out.line(`    records[i].registry${j}Next <== registry${j}Next[i];`);
    if (r.kind === 'NOT-MEMBER-OF') out.line(`    records[i].registry${j}Value <== registry${j}Value[i];`);
    out.line(`    records[i].registry${j}Siblings <== registry${j}Siblings[i];`);
    out.line(`    records[i].registry${j}Bits <== registry${j}Bits[i];`);
  }
  out.line(`}`);

  out.line();
  if (subtrees === 1) {
    out.line(`component tree = MerkleRoot(${depth});`);
    out.line(`for (var i = 0; i < ${capacity}; i++) { tree.leaves[i] <== records[i].leaf; }`);
    out.line(`root <== tree.root;`);
  } else if (depth === 0) {
    out.line(`// subtrees of one record: each root is the record's leaf`);
    out.line(`for (var j = 0; j < ${subtrees}; j++) { roots[j] <== records[j].leaf; }`);
  } else {
    out.line(`component trees[${subtrees}];`);
    out.line(`for (var j = 0; j < ${subtrees}; j++) {`);
    out.line(`    trees[j] = MerkleRoot(${depth});`);
    out.line(
      `    for (var i = 0; i < ${2 ** depth}; i++) { trees[j].leaves[i] <== records[j * ${2 ** depth} + i].leaf; }`,
    );
    out.line(`    roots[j] <== trees[j].root;`);
    out.line(`}`);
  }

  emitAggregates(out, policy, { capacity, chunk });
  if (partials.length > 0) {
    out.line();
    out.comment(`the salted commitment to the partials, which an aggregation circuit opens privately`);
    const sponge = emitSponge(out.line, 'commitmentHash', [...partials.map((_, k) => `partials[${k}]`), 'chunkSalt']);
    out.line(`commitment <== ${sponge.out};`);
  }

  const source = generatedSource({
    version: GENERATOR_VERSION,
    comments: [
      `schema "${schema.spec.name}" (hash ${schema.hash})`,
      `policy "${policy.spec.name}" (hash ${policy.hash})`,
      `${chunk ? 'chunk of' : 'capacity'} ${capacity} records (${chunk ? `${subtrees} subtree(s) of ` : ''}tree depth ${depth}); public signals: ${(committed ? committedChunkSignalNames(policy, subtrees) : chunk ? chunkSignalNames(policy, subtrees) : datasetSignalNames(policy)).join(', ')}`,
    ],
    includes: ['data/dataset.circom', ...(registries.length > 0 ? ['data/registry.circom'] : [])],
    before: recordTemplate(schema, policy),
    template: 'DatasetPolicy',
    body: out.lines,
    publicInputs: [
      'count',
      'policyHash',
      'schemaHash',
      ...(chunk ? ['chunkDepth', 'chunkSubtrees'] : []),
      ...(registries.length > 0 ? ['registryRoot'] : []),
      'context',
    ],
  });
  // Rewritten whenever the generated code differs, so a generator change can never reuse a stale file.
  const path = await writeGeneratedSource(name, source, options.cacheDir ? { cacheDir: options.cacheDir } : {});
  return { id, path, capacity, depth, subtrees, source };
}

/**
 * The id and the name (`dataset_...`, the cache's file and key folder name) of the circuit {@link generateDatasetCircuit}
 * writes for these arguments, without writing it: a verifier can look for its keys first.
 */
export function datasetCircuitName(
  schema: Schema,
  policy: Policy,
  depth: number,
  options: { mode?: DatasetCircuitMode; subtrees?: number } = {},
): { id: string; name: string } {
  const mode = options.mode ?? 'whole';
  const subtrees = mode === 'whole' ? 1 : (options.subtrees ?? 1);
  const id = generatedId(GENERATOR_VERSION, [schema.hash, policy.hash, String(depth), mode, String(subtrees)]);
  const prefix = mode === 'committed-chunk' ? 'committed_' : mode === 'chunk' ? 'chunk_' : '';
  return { id, name: `dataset_${prefix}${id}` };
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
      let witness: {
        key: bigint;
        next: bigint;
        value: bigint;
        siblings: Array<bigint | number>;
        bits: Array<bigint | number>;
      } = { key: 0n, next: 0n, value: 0n, siblings: zeros(), bits: zeros() };
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
    values: pad(
      records.map((r) => r.values),
      Array<bigint>(width).fill(0n),
    ),
    isNull: pad(
      records.map((r) => r.nulls.map((n) => (n ? 1 : 0))),
      Array<number>(width).fill(0),
    ),
    ...registryInputs(records, policy, registries, capacity),
    context: NO_CONTEXT,
  };
}
