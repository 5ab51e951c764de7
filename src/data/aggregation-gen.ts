/**
 * The aggregation circuits of private chunked proofs (issue 18; the statement is in docs/design/private-chunks.md).
 * A chunk circuit in `committed-chunk` mode publishes one salted commitment to its partials instead of the partials;
 * these circuits open up to `fanIn` such commitments privately:
 *
 * - a **node** takes its children's commitments as public inputs and publishes one salted commitment of the same form
 *   to their combined partials (sums summed, the first child's first key, the last real child's last key), so nodes
 *   stack;
 * - the **root** takes its children's commitments as public inputs and proves every aggregate's verdict on the
 *   combined partials with the same emitters as the whole-dataset circuit, with `count` public.
 *
 * The children's commitments are public inputs rather than hashed into one digest so that a verifier links a proof to
 * its children by comparing numbers: off chain that is the same, on chain it spares a Poseidon of `fanIn` inputs per
 * proof (the registry has no Poseidon but the 2-input one, at about 30,000 gas a call), and a public input of a
 * batch-verified proof costs about 30 gas (see groth16-template.ts).
 *
 * Both check UNIQUE where children meet: each real child's first key is above the previous child's last key, both
 * range-checked to the key's bits before the comparison. A commitment is `sponge(partials..., salt)` in the order of
 * {@link chunkPartials}; an unused slot (past `slots`, which the verifier sets to the number of children) has all
 * partials 0 and its public commitment 0.
 */
import { aggregateDefinition, type PartialName } from '../policy/aggregates.ts';
import { chunkPartials, partialSignalName, type ChunkPartial } from '../policy/chunks.ts';
import type { Policy } from '../policy/policy.ts';
import { CircomLines, generatedId, generatedSource, writeGeneratedSource } from '../circuit/generated-source.ts';
import { emitSponge } from '../crypto/poseidon-circom.ts';
import { poseidonSponge } from '../crypto/poseidon.ts';
import { ZkaiError } from '../errors.ts';
import type { Schema } from './types.ts';
import { uniqueKeyBits } from './unique.ts';

/** Bumped whenever the generated code changes. */
const AGGREGATION_GENERATOR_VERSION = 'zkai-aggregation-circuit-v2';

/** The most children an aggregation circuit may take. */
export const MAX_FAN_IN = 64;

/**
 * Bits of the largest record index any dataset may have: trees are at most 2^30 records deep (circuit-gen.ts), so the
 * sums an aggregation circuit combines fit these bounds whatever the dataset's size, and one circuit serves them all.
 */
const DATASET_INDEX_BITS = 30;

/** Which aggregation circuit: a node (its output is a commitment) or the root (its output is the verdict). */
export type AggregationLevel = 'node' | 'root';

/** A generated aggregation circuit. */
export interface GeneratedAggregationCircuit {
  id: string;
  path: string;
  level: AggregationLevel;
  fanIn: number;
  source: string;
}

/** The salted commitment a committed chunk (or a node) publishes: the sponge of its partials, in order, and the salt. */
export function partialsCommitment(partials: readonly bigint[], salt: bigint): bigint {
  return poseidonSponge([...partials, salt]);
}

/** The public `child0`... inputs of an aggregation proof over these children's commitments: unused slots 0. */
export function childSlots(commitments: readonly bigint[], fanIn: number): bigint[] {
  if (commitments.length < 1 || commitments.length > fanIn)
    throw new ZkaiError('INTERNAL', `an aggregation circuit takes 1 to ${fanIn} children, got ${commitments.length}`);
  return [...commitments, ...Array<bigint>(fanIn - commitments.length).fill(0n)];
}

/** The names of an aggregation proof's public children's commitments: `child0`, `child1`... */
export function childSignalNames(fanIn: number): string[] {
  return Array.from({ length: fanIn }, (_, j) => `child${j}`);
}

/** Public signal names of an aggregation circuit, in order (outputs first, then the public inputs). */
export function aggregationSignalNames(level: AggregationLevel, fanIn: number): string[] {
  return level === 'node'
    ? ['commitment', 'slots', 'policyHash', ...childSignalNames(fanIn)]
    : ['count', 'slots', 'policyHash', ...childSignalNames(fanIn)];
}

/** The bits that bound a partial's honest value over a whole dataset: counts, encoded sums and keys. */
function partialBits(policy: Policy, partial: ChunkPartial): number {
  const aggregate = policy.aggregates[partial.aggregate]!;
  switch (partial.name) {
    case 'firstKey':
    case 'lastKey':
      if (aggregate.kind !== 'UNIQUE') throw new ZkaiError('INTERNAL', `${partial.name} of ${aggregate.kind}`);
      return uniqueKeyBits(aggregate.column);
    case 'encodedSum':
      if (aggregate.kind !== 'SUM' && aggregate.kind !== 'MEAN')
        throw new ZkaiError('INTERNAL', `encodedSum of ${aggregate.kind}`);
      return aggregate.column.bits + DATASET_INDEX_BITS + 1;
    case 'present':
    case 'matched':
    case 'nA':
    case 'kA':
    case 'nB':
    case 'kB':
      return DATASET_INDEX_BITS + 1;
  }
}

/**
 * Generate the aggregation circuit of a policy's partials: a node or the root, with `fanIn` children. Written
 * (atomically) into the cache, named by a hash of everything it depends on.
 *
 * @throws {ZkaiError} BAD_OPTION when the policy has no partials (nothing to aggregate) or the fan-in is out of range.
 */
export async function generateAggregationCircuit(
  schema: Schema,
  policy: Policy,
  options: { level: AggregationLevel; fanIn: number; cacheDir?: string },
): Promise<GeneratedAggregationCircuit> {
  const { level, fanIn } = options;
  const partials = chunkPartials(policy);
  if (partials.length === 0)
    throw new ZkaiError('BAD_OPTION', `policy "${policy.spec.name}" has no aggregate partials: nothing to aggregate`);
  if (!Number.isInteger(fanIn) || fanIn < 2 || fanIn > MAX_FAN_IN)
    throw new ZkaiError('BAD_OPTION', `an aggregation circuit takes 2 to ${MAX_FAN_IN} children, got ${fanIn}`);
  const m = partials.length;
  const id = generatedId(AGGREGATION_GENERATOR_VERSION, [schema.hash, policy.hash, level, String(fanIn)]);
  const out = new CircomLines();
  const slot = (name: PartialName, aggregate: number) =>
    partials.findIndex((p) => p.aggregate === aggregate && p.name === name);

  // Public inputs in the order of aggregationSignalNames (circom orders them as they are declared).
  if (level === 'root') out.line(`signal input count; // the dataset's records`);
  out.line(`signal input slots; // children in use, a prefix of the ${fanIn} slots (set by the verifier)`);
  out.line(`signal input policyHash;`);
  out.line(`policyHash === ${policy.hash};`);
  out.line(`signal input child[${fanIn}]; // the children's commitments, 0 past slots (set by the verifier)`);
  out.line(`signal input partials[${fanIn}][${m}]; // ${partials.map(partialSignalName).join(', ')}`);
  out.line(`signal input salt[${fanIn}];`);
  if (level === 'node') {
    out.line(`signal input nodeSalt;`);
    out.line(`signal output commitment;`);
  }
  out.line();
  out.line(`component used = ActivePrefix(${fanIn});`);
  out.line(`used.count <== slots;`);
  out.comment(`each used child opens its public commitment; an unused slot holds no partials and a commitment of 0`);
  for (let j = 0; j < fanIn; j += 1) {
    const sponge = emitSponge(out.line, `child${j}Hash`, [
      ...Array.from({ length: m }, (_, k) => `partials[${j}][${k}]`),
      `salt[${j}]`,
    ]);
    out.line(`child[${j}] === used.active[${j}] * ${sponge.out};`);
  }
  out.line(`for (var j = 0; j < ${fanIn}; j++) {`);
  out.line(`    for (var k = 0; k < ${m}; k++) { (1 - used.active[j]) * partials[j][k] === 0; }`);
  out.line(`}`);

  // The combined partials: sums summed and range-checked; the first child's first key; the last used child's last key.
  out.line();
  out.comment(`the children's combined partials`);
  out.line(`signal lastUsed[${fanIn}]; // 1 at the last used child only`);
  out.line(`for (var j = 0; j < ${fanIn - 1}; j++) { lastUsed[j] <== used.active[j] - used.active[j + 1]; }`);
  out.line(`lastUsed[${fanIn - 1}] <== used.active[${fanIn - 1}];`);
  const combined: string[] = [];
  partials.forEach((partial, k) => {
    const name = `combined${k}`;
    combined.push(name);
    switch (partial.combine) {
      case 'sum':
        out.line(`var ${name}Sum = 0; for (var j = 0; j < ${fanIn}; j++) { ${name}Sum += partials[j][${k}]; }`);
        out.line(`signal ${name} <== ${name}Sum;`);
        out.line(`component ${name}Range = Num2Bits(${partialBits(policy, partial)});`);
        out.line(`${name}Range.in <== ${name};`);
        return;
      case 'firstKey':
        out.line(`signal ${name} <== partials[0][${k}];`);
        return;
      case 'lastKey':
        out.line(`signal ${name}Term[${fanIn}];`);
        out.line(`for (var j = 0; j < ${fanIn}; j++) { ${name}Term[j] <== lastUsed[j] * partials[j][${k}]; }`);
        out.line(`var ${name}Sum = 0; for (var j = 0; j < ${fanIn}; j++) { ${name}Sum += ${name}Term[j]; }`);
        out.line(`signal ${name} <== ${name}Sum;`);
        return;
    }
  });

  // UNIQUE where children meet: both keys range-checked, then strictly increasing across every used boundary.
  policy.aggregates.forEach((aggregate, index) => {
    if (aggregate.kind !== 'UNIQUE') return;
    const first = slot('firstKey', index);
    const last = slot('lastKey', index);
    const bits = uniqueKeyBits(aggregate.column);
    out.line();
    out.comment(`aggregate ${index}: ${aggregate.text}, where children meet`);
    out.line(`component aggregate${index}FirstRange[${fanIn}];`);
    out.line(`component aggregate${index}LastRange[${fanIn}];`);
    out.line(`for (var j = 0; j < ${fanIn}; j++) {`);
    out.line(`    aggregate${index}FirstRange[j] = Num2Bits(${bits});`);
    out.line(`    aggregate${index}FirstRange[j].in <== partials[j][${first}];`);
    out.line(`    aggregate${index}LastRange[j] = Num2Bits(${bits});`);
    out.line(`    aggregate${index}LastRange[j].in <== partials[j][${last}];`);
    out.line(`}`);
    out.line(`component aggregate${index}Meets[${fanIn - 1}];`);
    out.line(`for (var j = 1; j < ${fanIn}; j++) {`);
    out.line(`    aggregate${index}Meets[j - 1] = LessThan(${bits});`);
    out.line(`    aggregate${index}Meets[j - 1].in[0] <== partials[j - 1][${last}];`);
    out.line(`    aggregate${index}Meets[j - 1].in[1] <== partials[j][${first}];`);
    out.line(`    used.active[j] * (1 - aggregate${index}Meets[j - 1].out) === 0;`);
    out.line(`}`);
  });

  out.line();
  if (level === 'node') {
    out.comment(`the commitment to the combined partials, salted afresh`);
    const sponge = emitSponge(out.line, 'nodeHash', [...combined, 'nodeSalt']);
    out.line(`commitment <== ${sponge.out};`);
  } else {
    // Every aggregate's verdict on the combined partials, with the arithmetic of the whole-dataset circuit.
    const capacityBits = DATASET_INDEX_BITS;
    out.line(`component countRange = Num2Bits(${capacityBits + 1});`);
    out.line(`countRange.in <== count;`);
    policy.aggregates.forEach((aggregate, index) => {
      out.line();
      out.comment(`aggregate ${index}: ${aggregate.text}`);
      aggregateDefinition(aggregate.kind).emitVerdict(aggregate, {
        out,
        label: `aggregate${index}`,
        capacityBits,
        countBits: capacityBits + 2,
        total(name) {
          const k = slot(name, index);
          if (k < 0) throw new ZkaiError('INTERNAL', `aggregate ${index} has no partial ${name}`);
          return combined[k]!;
        },
      });
    });
  }

  const source = generatedSource({
    version: AGGREGATION_GENERATOR_VERSION,
    comments: [
      `schema "${schema.spec.name}" (hash ${schema.hash})`,
      `policy "${policy.spec.name}" (hash ${policy.hash})`,
      `aggregation ${level} over up to ${fanIn} children; public signals: ${aggregationSignalNames(level, fanIn).join(', ')}`,
    ],
    includes: ['data/dataset.circom'],
    template: level === 'node' ? 'AggregationNode' : 'AggregationRoot',
    body: out.lines,
    publicInputs: level === 'node' ? ['slots', 'policyHash', 'child'] : ['count', 'slots', 'policyHash', 'child'],
  });
  const path = await writeGeneratedSource(
    `dataset_${level}_${id}`,
    source,
    options.cacheDir ? { cacheDir: options.cacheDir } : {},
  );
  return { id, path, level, fanIn, source };
}
