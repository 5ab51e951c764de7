/**
 * The statement module (src/statement): layouts derived from statements, the proof-file parser, and the chain
 * registry's registrations read back as names. Pure functions: no proof is made here (the service, CLI and registry
 * tests run them on real proofs).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BN254_SCALAR_FIELD } from '../src/verifier/types.ts';
import { aggregationSignalNames } from '../src/data/aggregation-gen.ts';
import { chunkSignalNames, committedChunkSignalNames, datasetSignalNames } from '../src/data/circuit-gen.ts';
import { parsePolicy } from '../src/policy/policy.ts';
import { parseSchema } from '../src/data/schema.ts';
import { accuracySignalNames } from '../src/model/accuracy.ts';
import { inferenceSignalNames } from '../src/model/circuit-gen.ts';
import { layoutFromSignalNames, signalNamesOfRegistration, type CircuitKind } from '../src/chain/registry.ts';
import { readAttestableProof } from '../src/chain/attest-proof.ts';
import { isPrivateChunkCircuitName } from '../src/data/private-chunk-keys.ts';
import { kindFromSignalNames } from '../src/service/signals.ts';
import {
  accuracyStatement,
  datasetChunkStatement,
  committedChunkStatement,
  datasetAggregationStatement,
  datasetStatement,
  fileStatementShape,
  inferenceStatement,
  parseProofFile,
  proofParts,
  statedClaims,
  statementPins,
  statementSignalNames,
  loadStatementFile,
  STATEMENT_KINDS,
  type Statement,
} from '../src/statement/index.ts';

const schema = parseSchema({
  name: 'statement-test',
  subjectId: 'id',
  columns: [
    { name: 'id', type: 'string', maxBytes: 16 },
    { name: 'age', type: 'integer', min: 0, max: 120 },
  ],
});
const policy = parsePolicy(
  {
    name: 'adults with consent',
    rules: [{ field: 'age', op: 'GTE', value: 18 }],
    aggregates: [
      { kind: 'MEAN', field: 'age', max: 90 },
      { kind: 'UNIQUE', field: 'id' },
    ],
    registries: [
      { registry: 'consent', kind: 'MEMBER-OF', field: 'id', depth: 4 },
      { registry: 'optout', kind: 'NOT-MEMBER-OF', field: 'id', depth: 4 },
    ],
  },
  schema,
);
const proof = {
  pi_a: ['1', '2', '1'],
  pi_b: [
    ['1', '2'],
    ['3', '4'],
    ['1', '0'],
  ],
  pi_c: ['1', '2', '1'],
  protocol: 'groth16',
  curve: 'bn128',
};

describe('layouts come from statements', () => {
  it('gives each kind the layout its generator writes', () => {
    expect(statementSignalNames(datasetStatement(schema, policy))).toEqual(datasetSignalNames(policy));
    for (const subtrees of [1, 3])
      expect(statementSignalNames(datasetChunkStatement(schema, policy, { subtrees }))).toEqual(
        chunkSignalNames(policy, subtrees),
      );
    for (const visibility of ['hashed', 'public', 'private'] as const) {
      for (const weights of ['fixed', 'hashed'] as const) {
        expect(
          statementSignalNames(inferenceStatement({ inputSize: 3 }, { visibility, weights, modelCommitment: '5' })),
        ).toEqual(inferenceSignalNames({ inputSize: 3 }, visibility, weights));
      }
    }
    for (const weights of ['fixed', 'hashed'] as const)
      expect(statementSignalNames(accuracyStatement(undefined, undefined, { weights, samplesPerChunk: 4 }))).toEqual(
        accuracySignalNames(4, weights),
      );
    expect(statementSignalNames({ kind: 'inclusion' })).toEqual(['root', 'subjectHash', 'schemaHash', 'context']);
    expect(statementSignalNames({ kind: 'circuit', signalNames: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(statementSignalNames(datasetAggregationStatement(policy, 'node', 2))).toEqual([
      'commitment',
      'slots',
      'policyHash',
      'child0',
      'child1',
    ]);
    expect(statementSignalNames(datasetAggregationStatement(policy, 'root', 2))[0]).toBe('count');
    expect(statementSignalNames(committedChunkStatement(schema, policy, { subtrees: 1 }))).toEqual(
      committedChunkSignalNames(policy),
    );
    // The registry's Kind enum follows this order (contracts/ZkaiRegistry.sol): new kinds go before 'circuit'.
    expect(STATEMENT_KINDS).toEqual([
      'dataset-policy',
      'dataset-chunk',
      'inference',
      'accuracy',
      'inclusion',
      'dataset-aggregation',
      'dataset-private-chunk',
      'circuit',
    ]);
  });

  it('pins what the verifier trusts: policy and schema hashes, chunk shape, model hash or commitment, task hash', () => {
    expect(statementPins(datasetStatement(schema, policy))).toEqual({
      policyHash: policy.hash,
      schemaHash: schema.hash,
    });
    expect(statementPins(datasetChunkStatement(schema, policy, { subtrees: 2, chunkDepth: 1 }))).toEqual({
      policyHash: policy.hash,
      schemaHash: schema.hash,
      chunkDepth: '1',
      chunkSubtrees: '2',
    });
    expect(
      statementPins(
        inferenceStatement({ inputSize: 0 }, { visibility: 'hashed', weights: 'hashed', modelCommitment: '77' }),
      ),
    ).toEqual({ modelCommitment: '77' });
    expect(
      statementPins(
        accuracyStatement(
          undefined,
          { taskHash: '9' },
          { weights: 'hashed', samplesPerChunk: 2, modelCommitment: '8' },
        ),
      ),
    ).toEqual({ taskHash: '9', modelCommitment: '8' });
    expect(statementPins({ kind: 'inclusion' })).toEqual({});
  });
});

describe("the chain registry's registration read back as names", () => {
  const cases: Array<[CircuitKind, Statement, string?]> = [
    ['dataset-policy', datasetStatement(schema, policy), 'consent'],
    ['dataset-chunk', datasetChunkStatement(schema, policy, { subtrees: 2 }), 'consent'],
    ['inclusion', { kind: 'inclusion' }],
    ...(['hashed', 'public', 'private'] as const).flatMap((visibility) =>
      (['fixed', 'hashed'] as const).map((weights): [CircuitKind, Statement] => [
        'inference',
        inferenceStatement({ inputSize: 3 }, { visibility, weights, modelCommitment: '1' }),
      ]),
    ),
    ['accuracy', accuracyStatement(undefined, undefined, { weights: 'fixed', samplesPerChunk: 3 })],
    ['accuracy', accuracyStatement(undefined, undefined, { weights: 'hashed', samplesPerChunk: 3 })],
  ];
  it.each(cases)('names every signal of a %s circuit the registry knows the meaning of', (kind, statement, consent) => {
    const names = statementSignalNames(statement);
    const registered = signalNamesOfRegistration({
      kind,
      publicInputs: names.length,
      policyHash: '0',
      layout: layoutFromSignalNames(names, consent),
    });
    expect(registered).toHaveLength(names.length);
    registered.forEach((name, i) => {
      const original = names[i] as string;
      if (name.startsWith('signal')) {
        // What the chain does not record: other registries' roots, chunk partials and further subtree roots.
        expect(original).toMatch(/^(registry\.(?!consent)|aggregate|root\d)/);
      } else {
        expect(name, `position ${i}`).toBe(original === 'root0' ? 'root' : original);
      }
    });
    // The fields a verdict rests on are always named.
    for (const crucial of [
      'class',
      'count',
      'commitment',
      'previous',
      'policyHash',
      'taskHash',
      'modelHash',
      'modelCommitment',
      'subjectHash',
      'context',
    ]) {
      if (names.includes(crucial)) expect(registered).toContain(crucial);
    }
  });
});

describe('the one proof-file parser', () => {
  const dataset = {
    format: 'zkai-dataset-proof-v1',
    commitment: { root: '11', count: 2, depth: 1, schemaHash: '22' },
    policy: { name: 'p', hash: '33' },
    circuitId: 'abc',
    registries: [{ name: 'consent', root: '44' }],
    proof,
    publicSignals: ['11', '2', '33', '22', '44', '0'],
  };

  it('reads each format into its tagged variant, with what the file states by signal name', () => {
    const file = parseProofFile(dataset, 'd.json');
    expect(file.format).toBe('zkai-dataset-proof-v1');
    expect(statedClaims(file)).toEqual({
      root: '11',
      count: '2',
      schemaHash: '22',
      policyHash: '33',
      'registry.consent': '44',
    });
    expect(fileStatementShape(file)).toMatchObject({ kind: 'dataset-policy', registries: ['consent'] });
    expect(proofParts(file)).toHaveLength(1);
    const plain = parseProofFile({ proof, publicSignals: ['1'] });
    expect(plain.format).toBe('plain');
    expect(statedClaims(plain)).toEqual({});
    const inference = parseProofFile({
      format: 'zkai-inference-proof-v1',
      model: { name: 'm', hash: '5' },
      visibility: 'public',
      weights: 'fixed',
      predicted: 1,
      inputHash: '6',
      input: ['7', '8'],
      proof,
      publicSignals: [],
    });
    expect(statedClaims(inference)).toEqual({ modelHash: '5', class: '1', inputHash: '6', input0: '7', input1: '8' });
    // A fixed-point input may be negative: its signal is the field element r - 16.
    const negative = parseProofFile({
      format: 'zkai-inference-proof-v1',
      model: { hash: '5' },
      visibility: 'public',
      predicted: 0,
      inputHash: '6',
      input: ['-16', '3'],
      proof,
      publicSignals: [],
    });
    expect(statedClaims(negative).input0).toBe((BN254_SCALAR_FIELD - 16n).toString());
    expect(() =>
      parseProofFile(
        {
          format: 'zkai-inference-proof-v1',
          model: {},
          visibility: 'public',
          predicted: 0,
          input: ['1.5'],
          proof,
          publicSignals: [],
        },
        'i.json',
      ),
    ).toThrow(/input\[0\]: must be an integer as a decimal string/);
    const accuracy = parseProofFile({
      format: 'zkai-accuracy-proof-v2',
      model: { hash: '5', fracBits: 4 },
      weights: 'fixed',
      testSet: dataset.commitment,
      task: { label: 'y', features: ['a'], scale: 0.0625, taskHash: '9' },
      samplesPerChunk: 2,
      correct: 1,
      count: 2,
      chunks: [{ index: 0, proof, publicSignals: [] }],
    });
    expect(statedClaims(accuracy)).toEqual({ modelHash: '5', taskHash: '9' });
    expect(fileStatementShape(accuracy)).toMatchObject({ kind: 'accuracy', samplesPerChunk: 2 });
  });

  it('names the file and the field at fault', () => {
    expect(() => parseProofFile({ ...dataset, commitment: { ...dataset.commitment, count: '2' } }, 'd.json')).toThrow(
      /^d\.json: commitment\.count: must be an integer of at least 0$/,
    );
    // A commitment's depth and count are bounded as zkai's trees are (found by an attack: a verifier built 2^depth).
    expect(() => parseProofFile({ ...dataset, commitment: { ...dataset.commitment, depth: 40 } }, 'd.json')).toThrow(
      /commitment\.depth: must be an integer from 0 to 30/,
    );
    expect(() => parseProofFile({ ...dataset, publicSignals: ['1', 2] }, 'd.json')).toThrow(
      /publicSignals\[1\]: must be a decimal string/,
    );
    expect(() => parseProofFile({ ...dataset, format: 'zkai-proof-v9' }, 'd.json')).toThrow(
      /format "zkai-proof-v9" is not a zkai proof file format/,
    );
    expect(() =>
      parseProofFile(
        { format: 'zkai-inference-proof-v1', model: {}, visibility: 'public', predicted: 1, proof, publicSignals: [] },
        'i.json',
      ),
    ).toThrow(/input: a public-input inference proof must carry its input/);
    expect(() =>
      parseProofFile(
        {
          format: 'zkai-chunked-dataset-proof-v1',
          commitment: dataset.commitment,
          policy: { hash: '1' },
          chunkDepth: 0,
          chunks: [],
        },
        'c.json',
      ),
    ).toThrow(/chunks: must hold at least one chunk proof/);
    expect(() => parseProofFile([], 'x.json')).toThrow(/must be a JSON object/);
    // One registry stated twice (a reader would see one root, the verifier the other).
    expect(() =>
      parseProofFile(
        {
          ...dataset,
          registries: [
            { name: 'consent', root: '44' },
            { name: 'consent', root: '45' },
          ],
        },
        'd.json',
      ),
    ).toThrow(/registries\[1\]\.name: "consent" is stated twice/);
    expect(() => parseProofFile({ ...dataset, visibility: 'hashed', weights: 'secret' }, 'd.json')).not.toThrow();
    expect(() =>
      parseProofFile(
        { format: 'zkai-inference-proof-v1', model: {}, weights: 'secret', predicted: 1, proof, publicSignals: [] },
        'i.json',
      ),
    ).toThrow(/weights: must be one of fixed, hashed/);
  });

  it('reads a private chunked proof (v2) with its aggregation levels, and the chain refuses it by name', async () => {
    const part = { proof, publicSignals: ['1', '2'] };
    const privateChunks = {
      format: 'zkai-chunked-dataset-proof-v2',
      commitment: dataset.commitment,
      policy: { name: 'p', hash: '33' },
      registries: [],
      chunkDepth: 1,
      subtreesPerChunk: 2,
      chunks: [
        { index: 0, ...part },
        { index: 1, ...part },
      ],
      aggregation: [[part]],
    };
    const file = parseProofFile(privateChunks, 'v2.json');
    expect(file.format).toBe('zkai-chunked-dataset-proof-v2');
    expect(statedClaims(file)).toEqual({ schemaHash: '22', policyHash: '33', chunkDepth: '1', chunkSubtrees: '2' });
    expect(fileStatementShape(file)).toMatchObject({ kind: 'dataset-chunk', subtrees: 2 });
    expect(proofParts(file).map((p) => p.index)).toEqual([0, 1, 2]); // the root proof after the chunks
    // Shapes out of bounds are refused by the parser (a verifier builds one signal name per subtree).
    expect(() => parseProofFile({ ...privateChunks, subtreesPerChunk: 1e9 }, 'v2.json')).toThrow(
      /subtreesPerChunk: must be an integer from 1 to 4096/,
    );
    expect(() => parseProofFile({ ...privateChunks, chunkDepth: 31 }, 'v2.json')).toThrow(
      /chunkDepth: must be an integer from 0 to 30/,
    );
    // The circuits of private chunks are verified together, never alone: the service skips them by name, and an
    // aggregation circuit (policyHash, no dataset root) is not taken for a dataset policy circuit.
    expect(isPrivateChunkCircuitName('dataset_root_22b33d204e008098277d')).toBe(true);
    expect(isPrivateChunkCircuitName('dataset_node_22b33d204e008098277d')).toBe(true);
    expect(isPrivateChunkCircuitName('dataset_committed_2a649b2899f8eba53fab')).toBe(true);
    expect(isPrivateChunkCircuitName('dataset_chunk_2a649b2899f8eba53fab')).toBe(false);
    expect(isPrivateChunkCircuitName('dataset_2a649b2899f8eba53fab')).toBe(false);
    expect(kindFromSignalNames(aggregationSignalNames('root', 4))).not.toBe('dataset-policy');
    expect(kindFromSignalNames(datasetSignalNames(policy))).toBe('dataset-policy');
    expect(() => parseProofFile({ ...privateChunks, aggregation: [] }, 'v2.json')).toThrow(
      /aggregation: must hold at least the root proof/,
    );
    expect(() => parseProofFile({ ...privateChunks, aggregation: [[]] }, 'v2.json')).toThrow(
      /aggregation\[0\]: must be a non-empty list of proofs/,
    );
    expect(() => parseProofFile({ ...privateChunks, aggregation: [[{ proof }]] }, 'v2.json')).toThrow(
      /aggregation\[0\]\[0\]\.publicSignals: must be a list/,
    );
    const dir = await mkdtemp(join(tmpdir(), 'zkai-v2-'));
    try {
      const path = join(dir, 'v2.json');
      await writeFile(path, JSON.stringify(privateChunks));
      // chain attest takes it: the chunk proofs apart from the aggregation proofs, as a committed chunk statement.
      const attestable = await readAttestableProof(path);
      expect(attestable.chunks).toHaveLength(2);
      expect(attestable.aggregation?.map((level) => level.length)).toEqual([1]);
      expect(attestable.statement).toMatchObject({
        kind: 'dataset-private-chunk',
        partials: ['commitment'],
        subtrees: 2,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('statement files', () => {
  it('pin the registry roots the verifier names, and refuse a policy registry left without one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zkai-statement-'));
    try {
      await writeFile(join(dir, 'schema.json'), JSON.stringify(schema.spec));
      await writeFile(join(dir, 'policy.json'), JSON.stringify(policy.spec));
      const write = async (name: string, fields: Record<string, unknown>) => {
        const path = join(dir, name);
        await writeFile(
          path,
          JSON.stringify({
            format: 'zkai-statement-v1',
            kind: 'dataset-policy',
            verificationKey: 'vk.json',
            schema: 'schema.json',
            policy: 'policy.json',
            ...fields,
          }),
        );
        return path;
      };
      const loaded = await loadStatementFile(await write('ok.json', { registries: { consent: '111', optout: '222' } }));
      expect(loaded.verificationKeyPath).toBe(join(dir, 'vk.json'));
      expect(statementPins(loaded.statement)).toEqual({
        policyHash: policy.hash,
        schemaHash: schema.hash,
        'registry.consent': '111',
        'registry.optout': '222',
      });
      await expect(loadStatementFile(await write('missing.json', { registries: { consent: '111' } }))).rejects.toThrow(
        /missing\.json: "registries" does not fit the policy: .*"optout".*say which root you trust/,
      );
      await expect(loadStatementFile(await write('none.json', {}))).rejects.toThrow(
        /"registries" does not fit the policy/,
      );
      await expect(
        loadStatementFile(await write('extra.json', { registries: { consent: '1', optout: '2', other: '3' } })),
      ).rejects.toThrow(/does not use registry "other"/);
      await expect(
        loadStatementFile(await write('number.json', { registries: { consent: 1, optout: '2' } })),
      ).rejects.toThrow(/"registries" must map each registry/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
