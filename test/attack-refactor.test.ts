/**
 * Attacks on today's refactors, as a dishonest prover: the dataset circuit as one record template in a loop (shared
 * predicates, aggregates summed over record outputs, ActivePrefix), the one set of Merkle templates
 * (circuits/lib/merkle.circom) and the generated source around them. Each test either tampers a witness and expects
 * a constraint to break, or builds the witness an attacker would use and expects the circuit to refuse it.
 * Circuits are small (2 records, Merkle depth 1 or 2) so the file runs in well under two minutes.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { poseidon2 } from 'poseidon-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { compileCircuit, type CompiledCircuit } from '../src/circuit/compile.ts';
import { readR1cs, violatedConstraints } from '../src/circuit/r1cs-constraints.ts';
import { merkleLevels, merklePath, merkleRoot } from '../src/crypto/merkle.ts';
import { DATA_TEMPLATES_DIR, datasetCircuitInput, generateDatasetCircuit } from '../src/data/circuit-gen.ts';
import { commitRecords } from '../src/data/commitment.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { emitRecordLeaf } from '../src/data/leaf.ts';
import { registryLeaf } from '../src/data/registry.ts';
import { parseSchema } from '../src/data/schema.ts';
import type { EncodedRecord } from '../src/data/types.ts';
import { evaluatePolicy, parsePolicy, type Policy, type PolicySpec } from '../src/policy/policy.ts';
import { computeWitness } from '../src/testing/soundness.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { witnessAccepts } from './helpers/circuits.ts';

afterAll(async () => {
  await releaseCurves();
});

const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const mod = (a: bigint) => ((a % P) + P) % P;
function inverse(a: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a), P, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
  }
  return mod(s0);
}

const schema = parseSchema({
  name: 'attack-refactor',
  subjectId: 'id',
  columns: [
    { name: 'id', type: 'string' },
    { name: 'x', type: 'integer', min: 0, max: 100, nullable: true },
    { name: 'c', type: 'category', values: ['a', 'b'] },
  ],
});
const row = (id: string, x: number | null, c: 'a' | 'b', line = 2): EncodedRecord =>
  encodeRecord(schema, { id, x, c }, line);
/**
 * Whole-dataset circuits of this schema compiled with --O1: circom's --O2 substitutes linear signals away (an
 * ActivePrefix flag, a record's `present`), so only at --O1 is every signal a witness wire that can be tampered with.
 * The constraint system is the same up to that substitution.
 */
const compiled = new Map<string, Promise<{ circuit: CompiledCircuit; policy: Policy }>>();
function circuitFor(spec: PolicySpec, depth = 1): Promise<{ circuit: CompiledCircuit; policy: Policy }> {
  const key = `${depth}:${JSON.stringify(spec)}`;
  let entry = compiled.get(key);
  if (!entry) {
    entry = (async () => {
      const policy = parsePolicy(spec, schema);
      const generated = await generateDatasetCircuit(schema, policy, depth);
      return {
        circuit: await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR], optimization: 1 }),
        policy,
      };
    })();
    compiled.set(key, entry);
  }
  return entry;
}

/** A rule's `when` and a PROPORTION's `where` that are the same predicate (one comparator per record), and a MEAN. */
const shared: PolicySpec = {
  name: 'shared predicate',
  rules: [{ when: { field: 'c', op: 'EQ', value: 'b' }, field: 'x', op: 'GTE', value: 18 }],
  aggregates: [
    { kind: 'PROPORTION', where: { field: 'c', op: 'EQ', value: 'b' }, min: '0.5', max: '1' },
    { kind: 'MEAN', field: 'x', min: '10', max: '90' },
  ],
};

/**
 * Compute the honest witness of `input`, set each named signal to `value(honest)` (default honest + 1), and return
 * how many constraints the tampered witness breaks (0: the constraints do not pin those signals together).
 */
async function brokenAfterTampering(
  circuit: CompiledCircuit,
  input: Record<string, unknown>,
  tamper: Record<string, (honest: bigint) => bigint>,
): Promise<number> {
  const [r1cs, witness, symbols] = await Promise.all([
    readR1cs(circuit.r1csPath),
    computeWitness(circuit.wasmPath, input),
    readFile(circuit.symPath, 'utf8'),
  ]);
  expect(violatedConstraints(r1cs, witness)).toEqual([]);
  const wires = new Map(
    symbols
      .split('\n')
      .map((line) => line.split(','))
      .map((cells) => [cells[3], Number(cells[1])] as const),
  );
  for (const [name, value] of Object.entries(tamper)) {
    const wire = wires.get(name);
    if (wire === undefined || wire < 0) throw new Error(`signal ${name} is not a witness wire (${String(wire)})`);
    witness[wire] = mod(value(witness[wire] as bigint));
  }
  return violatedConstraints(r1cs, witness).length;
}
const plusOne = (v: bigint) => v + 1n;
const flip = (v: bigint) => 1n - v;

/** Compile a small hand-written test circuit that includes the project's templates. */
async function compileTestCircuit(name: string, source: string): Promise<CompiledCircuit> {
  const dir = join(fileURLToPath(new URL('../.cache/test/attack-refactor', import.meta.url)));
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.circom`);
  await writeFile(path, source);
  return compileCircuit(path, { includePaths: [DATA_TEMPLATES_DIR], optimization: 1 });
}

describe('refactor 1: the record template in a loop', () => {
  it('a shared predicate (rule when = PROPORTION where) is one signal, pinned, with the same null handling as the pre-flight', async () => {
    const { circuit, policy } = await circuitFor(shared, 1);
    const generated = await generateDatasetCircuit(schema, policy, 1);
    // Emitted once per record and used by both: the rule's scope and the PROPORTION's count.
    expect(generated.source.match(/= IsEqual\(\);/g)).toHaveLength(1);
    expect(generated.source).toContain('signal output aggregate0Matched <== active * rule0When;');

    const honest = [row('p1', 20, 'b'), row('p2', null, 'a', 3)];
    expect(evaluatePolicy(policy, honest).ok).toBe(true);
    const input = datasetCircuitInput(honest, [7n, 8n], schema, policy, 1);
    // Record 0 in scope: calling it out of scope would both exempt it from the rule and drop it from the PROPORTION.
    expect(await brokenAfterTampering(circuit, input, { 'main.records[0].rule0When': flip })).toBeGreaterThan(0);
    // Record 1 out of scope: pulling it in would raise the matched count without the rule applying.
    expect(await brokenAfterTampering(circuit, input, { 'main.records[1].rule0When': flip })).toBeGreaterThan(0);
    expect(
      await brokenAfterTampering(circuit, input, { 'main.records[1].aggregate0Matched': plusOne }),
    ).toBeGreaterThan(0);
    // Null handling, input level: x null with c = b breaks the rule (GTE on null is false) in both.
    const nullInScope = [row('p1', 20, 'b'), row('p2', null, 'b', 3)];
    expect(evaluatePolicy(policy, nullInScope).ok).toBe(false);
    expect(await witnessAccepts(circuit, datasetCircuitInput(nullInScope, [7n, 8n], schema, policy, 1))).toBe(false);
  });

  it('ActivePrefix pins which records count: no record is inactive while counted, none active beyond the count', async () => {
    const { circuit, policy } = await circuitFor(shared, 1);
    const two = datasetCircuitInput([row('p1', 20, 'b'), row('p2', 30, 'a', 3)], [7n, 8n], schema, policy, 1);
    // Hide record 1 from the rule and every aggregate while the public count still says 2.
    expect(await brokenAfterTampering(circuit, two, { 'main.active.active[1]': flip })).toBeGreaterThan(0);
    // Count a padding record as real while the public count says 1.
    const one = datasetCircuitInput([row('p1', 20, 'b')], [7n], schema, policy, 1);
    expect(await brokenAfterTampering(circuit, one, { 'main.active.active[1]': flip })).toBeGreaterThan(0);
  });

  it('aggregate outputs summed across the loop are pinned to their record (present, term, matched)', async () => {
    const { circuit, policy } = await circuitFor(shared, 1);
    const input = datasetCircuitInput([row('p1', 20, 'b'), row('p2', null, 'a', 3)], [7n, 8n], schema, policy, 1);
    // Count the null x into the MEAN, or drop the real one, or move value between the two records' terms.
    expect(await brokenAfterTampering(circuit, input, { 'main.records[1].present1': plusOne })).toBeGreaterThan(0);
    expect(await brokenAfterTampering(circuit, input, { 'main.records[0].present1': flip })).toBeGreaterThan(0);
    expect(
      await brokenAfterTampering(circuit, input, {
        'main.records[0].term1': (v) => v - 5n,
        'main.records[1].term1': (v) => v + 5n,
      }),
    ).toBeGreaterThan(0);
    // A field-wrapped term (a "negative" value that keeps the sum in the field) is refused the same way.
    expect(await brokenAfterTampering(circuit, input, { 'main.records[0].term1': (v) => v + P - 1n })).toBeGreaterThan(
      0,
    );
  });
});

describe('refactor 2: circuits/lib/merkle.circom', () => {
  it('registry membership: a non-boolean position bit would prove ANY value listed; MerklePathRoot (RegistryMember) refuses it', async () => {
    // A registry of depth 1: the sentinel and the id 5 (stored key 6). The attacker wants 99 (never listed) to pass.
    const leafA = registryLeaf(0n, 6n, 0n);
    const leafB = registryLeaf(6n, 0n, 5n);
    const root = poseidon2([leafA, leafB]);
    const fake = registryLeaf(100n, 0n, 99n);
    // With bit b, the pair hashed is (fake + b (s - fake), s + fake - that): choose s and b so that it is (leafA, leafB).
    const sibling = mod(leafA + leafB - fake);
    const bit = mod((leafA - fake) * inverse(sibling - fake));
    expect(bit > 1n).toBe(true);

    const unchecked = await compileTestCircuit(
      'attack_unchecked_bits',
      [
        'pragma circom 2.1.0;',
        'include "lib/merkle.circom";',
        'component main = MerklePathRootUncheckedBits(1);',
        '',
      ].join('\n'),
    );
    const forged = await computeWitness(unchecked.wasmPath, { leaf: fake, siblings: [sibling], bits: [bit] });
    expect(forged[1]).toBe(root); // the danger the template's comment names: without the bit check, the root matches

    const member = await compileTestCircuit(
      'attack_registry_member',
      [
        'pragma circom 2.1.0;',
        'include "data/registry.circom";',
        'component main {public [root]} = RegistryMember(1);',
        '',
      ].join('\n'),
    );
    const attack = { enabled: 1, root, value: 99n, key: 100n, next: 0n, siblings: [sibling], bits: [bit] };
    expect(await witnessAccepts(member, attack)).toBe(false);
    // The honest membership of 5 passes, so the refusal above is the bit check, not a broken circuit.
    expect(await witnessAccepts(member, { ...attack, value: 5n, key: 6n, siblings: [leafA], bits: [1] })).toBe(true);
  });

  it('record inclusion: the index is Num2Bits(depth): an index past the tree (aliasing a real leaf) or a tampered position bit is refused', async () => {
    const leaves = [11n, 22n, 33n];
    const levels = merkleLevels(leaves, 2);
    const root = merkleRoot(levels);
    const circuit = await compileTestCircuit(
      'attack_inclusion_index',
      ['pragma circom 2.1.0;', 'include "data/inclusion.circom";', 'component main = InclusionPathRoot(2);', ''].join(
        '\n',
      ),
    );
    const path = merklePath(levels, 1);
    const honest = { leaf: 22n, index: 1, siblings: path.siblings };
    expect((await computeWitness(circuit.wasmPath, honest))[1]).toBe(root);
    // Index 5 = 4 + 1 has the same low bits: without the range check it would give the same root for a "new" position.
    expect(await witnessAccepts(circuit, { ...honest, index: 5 })).toBe(false);
    expect(await brokenAfterTampering(circuit, honest, { 'main.path.bits.out[0]': flip })).toBeGreaterThan(0);
  });
});

describe('regression: free text (names, rule constants) cannot become circom code', () => {
  // The schema's name is written into the generated circuit's header as `// schema "<name>" ...` with no escaping
  // (circuit-gen.ts generatedSource comments; the policy name and rule texts get .replace(/\n/g, ' '), the schema
  // name does not). A newline in it ends the line comment: "\n/*" opens a block comment that swallows the includes and
  // the real record template up to the first "*/" in a later comment, here a rule's string constant (rule texts are
  // comments too). What follows "*/" is code: it re-includes the library and defines a record template with the same
  // name and interface that computes the honest leaf and checks no rule. The policy hash and schema hash are those of
  // the files; the circuit built from them accepts a dataset that breaks the policy, with the committed root.
  // Found by this file's first version: a schema named "attack-refactor\n/*" opened a block comment in the generated
  // source that a rule's constant closed, replacing the record template with one that checks nothing (the records
  // broke the policy, the witness was accepted with their committed root). Names with line breaks are now refused,
  // and every piece of free text written into a comment is made one line (src/util/text.ts commentText).
  it('a schema or policy name with a line break is refused, naming the character', () => {
    expect(() => parseSchema({ ...schema.spec, name: 'attack-refactor\n/*' })).toThrow(
      /"name" must be one line of text: it holds the control character U\+000A at position 15/,
    );
    expect(() => parseSchema({ ...schema.spec, name: 'a\u2028b' })).toThrow(/U\+2028/);
    expect(() => parsePolicy({ name: 'adults\r\nonly', rules: [] }, schema)).toThrow(
      /policy's "name" must be one line of text: it holds the control character U\+000D at position 6/,
    );
  });

  it('line breaks in rule constants stay inside their comments: the injected template is inert and the rules still hold', async () => {
    const leafLines: string[] = [];
    const leafHash = emitRecordLeaf((text) => leafLines.push(text), 'leaf', schema.columns, {
      salt: 'salt',
      value: (k) => `values[${k}]`,
      isNull: (k) => `isNull[${k}]`,
    });
    const payload = [
      '*/ include "data/dataset.circom";',
      `template Record_adults_only() { signal input active; signal input salt; signal input values[3]; signal input isNull[3]; signal output leaf; ${leafLines.join(' ')} leaf <== active * ${leafHash}; }`,
      'template Swallowed() { signal input active; signal input values[3]; signal input isNull[3]; signal notNull[3];',
    ].join(' ');
    // The first constant would open a block comment on a line of its own, the second would close it and inject code.
    const policy = parsePolicy(
      {
        name: 'adults only',
        rules: [
          { field: 'id', op: 'NE', value: '\n/*' },
          { field: 'id', op: 'NE', value: `\n${payload}` },
          { field: 'x', op: 'GTE', value: 18 },
        ],
      },
      schema,
    );
    const children = [
      encodeRecord(schema, { id: 'kid-1', x: 10, c: 'a' }, 2),
      encodeRecord(schema, { id: 'kid-2', x: 7, c: 'b' }, 3),
    ];
    expect(evaluatePolicy(policy, children).ok).toBe(false); // the pre-flight sees the violation
    const generated = await generateDatasetCircuit(schema, policy, 1);
    const source = await readFile(generated.path, 'utf8');
    expect(
      source.split('\n').filter((line) => line.trimStart().startsWith('*/') || line.trimStart().startsWith('/*')),
    ).toEqual([]);
    const circuit = await compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] });
    await expect(
      computeWitness(circuit.wasmPath, datasetCircuitInput(children, [11n, 12n], schema, policy, 1)),
    ).rejects.toThrow();
    // The same records with x >= 18 pass: the circuit is whole, not merely broken.
    const adults = [
      encodeRecord(schema, { id: 'adult-1', x: 30, c: 'a' }, 2),
      encodeRecord(schema, { id: 'adult-2', x: 40, c: 'b' }, 3),
    ];
    const witness = await computeWitness(circuit.wasmPath, datasetCircuitInput(adults, [11n, 12n], schema, policy, 1));
    expect(witness[1]).toBe(BigInt(commitRecords(adults, [11n, 12n], schema).commitment.root));
  });
});
