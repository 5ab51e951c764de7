import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCircuit, type CompiledCircuit } from '../src/circuit/compile.ts';
import { createBundle, type DatasetBundle } from '../src/data/bundle.ts';
import { DATA_TEMPLATES_DIR } from '../src/data/circuit-gen.ts';
import { commitRecords } from '../src/data/commitment.ts';
import { encodeRecord } from '../src/data/encode.ts';
import {
  findRecord,
  generateInclusionCircuit,
  inclusionCircuitInput,
  proveInclusion,
  subjectHashOf,
  verifyInclusion,
} from '../src/data/inclusion.ts';
import { readDataset } from '../src/data/ingest.ts';
import { poseidonText } from '../src/crypto/poseidon-bytes.ts';
import { loadSchema, parseSchema } from '../src/data/schema.ts';
import type { EncodedRecord, Schema, SchemaSpec } from '../src/data/types.ts';
import { ZkaiError } from '../src/errors.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { checkSoundness, computeWitness } from '../src/testing/soundness.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { witnessAccepts } from './helpers/circuits.ts';
import { runCli } from './helpers/run-cli.ts';

const example = (name: string) => fileURLToPath(new URL(`../examples/patients/${name}`, import.meta.url));
const SCHEMA = example('schema.json');
const PATIENTS = example('patients.csv');

let schema: Schema;
/** The first three patients (P00001..P00003, source rows 2..4): a tree of depth 2 whose fourth leaf is padding. */
let three: EncodedRecord[];
let scratch: string;
let pool: ProverPool;

beforeAll(async () => {
  schema = await loadSchema(SCHEMA);
  three = (await readDataset(PATIENTS, schema)).slice(0, 3);
  scratch = await mkdtemp(join(tmpdir(), 'zkai-inclusion-'));
  pool = new ProverPool({ workers: 1 });
});
afterAll(async () => {
  await pool?.close();
  await rm(scratch, { recursive: true, force: true });
  await releaseCurves();
});

const compiled = new Map<string, Promise<CompiledCircuit>>();
/** The compiled (not set up) inclusion circuit of a schema and depth. */
function circuitFor(target: Schema, depth: number): Promise<CompiledCircuit> {
  const key = `${target.hash}/${depth}`;
  let entry = compiled.get(key);
  if (!entry) {
    entry = generateInclusionCircuit(target, depth).then((generated) =>
      compileCircuit(generated.path, { includePaths: [DATA_TEMPLATES_DIR] }),
    );
    compiled.set(key, entry);
  }
  return entry;
}

const accepts = witnessAccepts;

const SALTS = [101n, 202n, 303n];
type Input = {
  root: bigint;
  subjectHash: bigint;
  schemaHash: string;
  salt: bigint;
  values: bigint[];
  isNull: number[];
  index: number;
  siblings: bigint[];
};
/** An honest input for record `index` of `three` under fixed salts, as a fresh mutable copy. */
function honest(index: number): { input: Input; levels: bigint[][] } {
  const { levels } = commitRecords(three, SALTS, schema);
  const record = three[index]!;
  const input = inclusionCircuitInput(schema, levels, index, record, SALTS[index]!) as Input;
  return {
    input: { ...input, values: [...input.values], isNull: [...input.isNull], siblings: [...input.siblings] },
    levels,
  };
}

const errorOf = async (promise: Promise<unknown>): Promise<ZkaiError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ZkaiError);
  return error as ZkaiError;
};

describe('inclusion circuit', () => {
  it('accepts every real record with public signals [root, subjectHash, schemaHash, context]; its size is 242 constraints per level', async () => {
    const circuit = await circuitFor(schema, 2);
    for (let index = 0; index < three.length; index += 1) {
      const { input, levels } = honest(index);
      const witness = await computeWitness(circuit.wasmPath, input);
      expect(witness.slice(1, 4)).toEqual([
        levels.at(-1)![0],
        BigInt(poseidonText(`P0000${index + 1}`)),
        BigInt(schema.hash),
      ]);
    }
    expect(circuit.info.publicInputs).toBe(4); // root, subjectHash, schemaHash, context
    expect(circuit.info.outputs).toBe(0);
    const depth6 = await circuitFor(schema, 6);
    // The whole 64-patient example (depth 6) still fits a 2^11 ptau (constraints + public signals < 2048).
    expect(depth6.info.constraints - circuit.info.constraints).toBe(4 * 242);
    expect(depth6.info.constraints + 4).toBeLessThan(2048);
  });

  it('refuses a wrong path, index, salt, value, null flag, subject, schema or root (witness generation fails)', async () => {
    const circuit = await circuitFor(schema, 2);
    const other = commitRecords(three, [1n, 2n, 3n], schema).levels;
    const tamperings: Array<[string, (input: Input, levels: bigint[][]) => void]> = [
      ['a sibling changed', (input) => (input.siblings[0] = input.siblings[0]! + 1n)],
      ['the top sibling changed', (input) => (input.siblings[1] = input.siblings[1]! + 1n)],
      ["the path of another leaf (leaf 2's)", (input, levels) => (input.siblings = [levels[0]![3]!, levels[1]![0]!])],
      ['another index with the right path', (input) => (input.index = 0)],
      ['an index beyond the tree (aliasing 1 + 2^depth)', (input) => (input.index = 1 + 4)],
      ['a wrong salt', (input) => (input.salt += 1n)],
      ['a tampered value (age + 1)', (input) => (input.values[1] = input.values[1]! + 1n)],
      ['a tampered null flag (name not null)', (input) => (input.isNull[6] = 0)],
      ['a non-boolean null flag', (input) => (input.isNull[6] = 2)],
      ['another subject hash', (input) => (input.subjectHash = BigInt(poseidonText('P00001')))],
      [
        'another subject id in the record and the claim',
        (input) => {
          input.values[0] = BigInt(poseidonText('P00001'));
          input.subjectHash = input.values[0];
        },
      ],
      ['another schema hash', (input) => (input.schemaHash = '42')],
      ['another root', (input) => (input.root = other.at(-1)![0]!)],
    ];
    const { input: base } = honest(1);
    expect(base.isNull[6]).toBe(1); // the example leaves every name empty
    expect(await accepts(circuit, base)).toBe(true);
    for (const [what, tamper] of tamperings) {
      const { input, levels } = honest(1);
      tamper(input, levels);
      expect(await accepts(circuit, input), what).toBe(false);
    }
  });

  it('cannot "include" a padding position: its leaf is 0, and the recomputed leaf is a Poseidon output', async () => {
    const circuit = await circuitFor(schema, 2);
    const { levels } = commitRecords(three, SALTS, schema);
    expect(levels[0]![3]).toBe(0n);
    const zeros = { values: three[0]!.values.map(() => 0n), nulls: three[0]!.nulls.map(() => false) };
    for (const [record, salt] of [
      [three[0]!, SALTS[0]!],
      [zeros, 0n],
    ] as const) {
      expect(await accepts(circuit, inclusionCircuitInput(schema, levels, 3, record, salt))).toBe(false);
    }
  });

  it('every signal is pinned (soundness helper)', async () => {
    const circuit = await circuitFor(schema, 2);
    const report = await checkSoundness(circuit, honest(2).input);
    expect(report.checkedSignals).toBeGreaterThan(800);
    expect(report.unpinned).toEqual([]);
    expect(report.benignHints).toEqual([]);
  });

  it("recomputes a wide record's leaf in several Poseidon calls, as recordLeaf does (17 elements: 16 + 1)", async () => {
    const spec: SchemaSpec = {
      name: 'wide',
      subjectId: 'id',
      columns: [
        { name: 'id', type: 'integer', min: 1000, max: 9999 },
        ...Array.from({ length: 14 }, (_, i) => ({
          name: `c${i}`,
          type: 'integer' as const,
          min: 0,
          max: 255,
          nullable: i === 13,
        })),
      ],
    };
    const wide = parseSchema(spec);
    const cells = (id: number, c13: number | null) =>
      Object.fromEntries([['id', id], ...Array.from({ length: 14 }, (_, i) => [`c${i}`, i === 13 ? c13 : i * 7])]);
    const records = [encodeRecord(wide, cells(1234, 5), 2), encodeRecord(wide, cells(4321, null), 3)];
    const { levels } = commitRecords(records, [7n, 8n], wide);
    const circuit = await circuitFor(wide, 1);
    expect(subjectHashOf(wide, 4321n)).toBe(String(4321 - 1000));
    for (const index of [0, 1]) {
      const input = inclusionCircuitInput(wide, levels, index, records[index]!, [7n, 8n][index]!);
      expect((input as Input).subjectHash).toBe(BigInt(subjectHashOf(wide, [1234, 4321][index]!)));
      expect(await accepts(circuit, input)).toBe(true);
      expect(
        await accepts(circuit, { ...input, values: (input as Input).values.map((v, k) => (k === 14 ? v + 1n : v)) }),
      ).toBe(false);
    }
  });
});

describe('proveInclusion and verifyInclusion', () => {
  let bundle: DatasetBundle;

  it('proves a present subject; the proof verifies for its root and id only, and binds its public signals', async () => {
    bundle = createBundle(schema, three);
    const started = performance.now();
    const result = await proveInclusion(bundle, schema, { subjectId: 'P00002', pool });
    const seconds = (performance.now() - started) / 1000;
    const subjectHash = poseidonText('P00002').toString();
    expect(result).toMatchObject({
      format: 'zkai-inclusion-proof-v1',
      root: bundle.commitment.root,
      subjectHash,
      schemaHash: schema.hash,
      depth: 2,
      row: 3,
      subjectColumn: 'patient_id',
    });
    expect(result.publicSignals).toEqual([bundle.commitment.root, subjectHash, schema.hash, '0']);
    expect(existsSync(result.vkeyPath)).toBe(true);
    expect(result.prepared.circuit.info.constraints).toBe(868); // 867 + the context binding
    console.log(
      `inclusion proof (depth 2, ${result.prepared.circuit.info.constraints} constraints, keys ${result.prepared.keys.cached ? 'cached' : 'set up now'}): ${seconds.toFixed(1)} s`,
    );
    const vkey = JSON.parse(await readFile(result.vkeyPath, 'utf8')) as unknown;

    expect(
      await verifyInclusion(vkey, result.proof, result.publicSignals, {
        root: bundle.commitment.root,
        schema,
        subjectId: 'P00002',
      }),
    ).toEqual({ valid: true });
    expect(
      await verifyInclusion(vkey, result.proof, result.publicSignals, {
        root: bundle.commitment.root,
        subjectHash,
        schemaHash: schema.hash,
      }),
    ).toEqual({ valid: true });

    // The same records under fresh salts: another root, which this proof says nothing about.
    const otherRoot = createBundle(schema, three).commitment.root;
    const wrongRoot = await verifyInclusion(vkey, result.proof, result.publicSignals, {
      root: otherRoot,
      schema,
      subjectId: 'P00002',
    });
    expect(wrongRoot).toMatchObject({ valid: false, reason: 'claim-mismatch', mismatches: [{ name: 'root' }] });
    const wrongSubject = await verifyInclusion(vkey, result.proof, result.publicSignals, {
      root: bundle.commitment.root,
      schema,
      subjectId: 'P00001',
    });
    expect(wrongSubject).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      mismatches: [{ name: 'subjectHash' }],
    });
    const wrongSchema = await verifyInclusion(vkey, result.proof, result.publicSignals, {
      root: bundle.commitment.root,
      schema,
      subjectId: 'P00002',
      schemaHash: '42',
    });
    expect(wrongSchema).toMatchObject({ valid: false, reason: 'claim-mismatch' });

    // Edited public signals that match what the verifier expects: the pairing check refuses them.
    const forged = [otherRoot, subjectHash, schema.hash, '0'];
    expect(
      await verifyInclusion(vkey, result.proof, forged, { root: otherRoot, schema, subjectId: 'P00002' }),
    ).toMatchObject({ valid: false, reason: 'invalid-proof' });
    const forgedSubject = [bundle.commitment.root, poseidonText('P00001').toString(), schema.hash, '0'];
    expect(
      await verifyInclusion(vkey, result.proof, forgedSubject, {
        root: bundle.commitment.root,
        schema,
        subjectId: 'P00001',
      }),
    ).toMatchObject({ valid: false, reason: 'invalid-proof' });

    // By source row: the same (cached) circuit and keys.
    const byRow = await proveInclusion(bundle, schema, { row: 4, pool });
    expect(byRow.publicSignals).toEqual([bundle.commitment.root, poseidonText('P00003').toString(), schema.hash, '0']);
    expect(byRow.prepared.keys.cached).toBe(true);
    expect(
      await verifyInclusion(vkey, byRow.proof, byRow.publicSignals, {
        root: bundle.commitment.root,
        schema,
        subjectId: 'P00003',
      }),
    ).toEqual({ valid: true });
  }, 600_000);

  it('gives clear errors for an absent, ambiguous or malformed subject, a schema without a usable subject id, an altered bundle', async () => {
    bundle ??= createBundle(schema, three);
    const absent = await errorOf(proveInclusion(bundle, schema, { subjectId: 'P99999', pool }));
    expect(absent.code).toBe('SUBJECT_NOT_FOUND');
    expect(absent.message).toMatch(/no record of the dataset \(3 records\) has patient_id = "P99999"/);
    expect((await errorOf(proveInclusion(bundle, schema, { row: 9, pool }))).message).toMatch(
      /no record .* has source row 9/,
    );
    expect((await errorOf(proveInclusion(bundle, schema, { subjectId: 'P00001', row: 3, pool }))).code).toBe(
      'SUBJECT_NOT_FOUND',
    );
    expect((await errorOf(proveInclusion(bundle, schema, { pool }))).code).toBe('BAD_OPTION');

    const twice = [...three, { ...three[0]!, row: 5 }];
    const ambiguous = (() => {
      try {
        findRecord(twice, schema, { subjectId: 'P00001' });
      } catch (error) {
        return error as ZkaiError;
      }
      throw new Error('expected an error');
    })();
    expect(ambiguous.code).toBe('SUBJECT_AMBIGUOUS');
    expect(ambiguous.message).toContain('2 records have patient_id = "P00001" (source rows 2, 5)');
    expect(findRecord(twice, schema, { subjectId: 'P00001', row: 5 })).toBe(3);

    const noSubject = parseSchema({ ...schema.spec, subjectId: undefined });
    expect(
      (await errorOf(proveInclusion(createBundle(noSubject, three), noSubject, { subjectId: 'P00001', pool }))).code,
    ).toBe('NO_SUBJECT_ID');
    const nullable = parseSchema({
      ...schema.spec,
      columns: schema.spec.columns.map((c) => (c.name === 'patient_id' ? { ...c, nullable: true } : c)),
    });
    const nullableError = await errorOf(
      proveInclusion(createBundle(nullable, three), nullable, { subjectId: 'P00001', pool }),
    );
    expect(nullableError.code).toBe('SUBJECT_NULLABLE');
    expect(nullableError.message).toContain('"patient_id"');

    const integerIds = parseSchema({
      name: 'ids',
      subjectId: 'id',
      columns: [{ name: 'id', type: 'integer', min: 1, max: 100 }],
    });
    expect(subjectHashOf(integerIds, '42')).toBe('41');
    expect(subjectHashOf(integerIds, 42n)).toBe('41');
    expect(() => subjectHashOf(integerIds, 'abc')).toThrow(/subject id "abc" is not a value of column "id"/);
    expect(() => subjectHashOf(integerIds, 101)).toThrow(ZkaiError);

    const altered = { ...bundle, salts: [...bundle.salts.slice(0, 2), bundle.salts[2]! + 1n] };
    expect((await errorOf(proveInclusion(altered, schema, { subjectId: 'P00001', pool }))).code).toBe(
      'BUNDLE_MISMATCH',
    );
  });
});

describe('zkai data include / verify-include', () => {
  const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at /);

  it('documents both subcommands in --help', async () => {
    const group = await runCli(['data', '--help']);
    expect(group.stdout).toContain('include');
    expect(group.stdout).toContain('verify-include');
    const help = await runCli(['data', 'include', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: zkai data include');
    for (const option of ['--subject', '--row', '--vkey-out', '--ptau']) expect(help.stdout).toContain(option);
    expect(help.stdout).toContain('zkai data verify-include --vkey');
  });

  it('round trip: commit, include by subject id and by row, verify against the published commitment; wrong subject or root exit 1', async () => {
    const lines = (await readFile(PATIENTS, 'utf8')).trimEnd().split('\n');
    const data = join(scratch, 'three.csv');
    await writeFile(data, `${lines.slice(0, 4).join('\n')}\n`);
    const bundlePath = join(scratch, 'three.bundle.json');
    const commitmentPath = join(scratch, 'three.commitment.json');
    const commit = await runCli([
      '--quiet',
      'data',
      'commit',
      '--schema',
      SCHEMA,
      '--data',
      data,
      '--bundle',
      bundlePath,
      '--public',
      commitmentPath,
    ]);
    expect(commit.code, commit.stderr).toBe(0);
    const commitment = JSON.parse(await readFile(commitmentPath, 'utf8')) as { root: string; depth: number };
    expect(commitment.depth).toBe(2);

    const proofPath = join(scratch, 'p2.proof.json');
    const vkeyPath = join(scratch, 'inclusion.vkey.json');
    const include = await runCli(
      [
        'data',
        'include',
        '--schema',
        SCHEMA,
        '--bundle',
        bundlePath,
        '--subject',
        'P00002',
        '--out',
        proofPath,
        '--vkey-out',
        vkeyPath,
      ],
      { timeoutMs: 600_000 },
    );
    expect(include.code, include.stderr).toBe(0);
    expect(include.stdout).toMatch(
      /^proof written to .*p2\.proof\.json: the record with patient_id = "P00002" \(source row 3\) is in the dataset of root \d+/,
    );
    expect(include.stdout).toContain('868 constraints, tree depth 2'); // 867 + the context binding
    expect(include.stdout).toContain('zkai data verify-include --vkey');
    const proofText = await readFile(proofPath, 'utf8');
    const proof = JSON.parse(proofText) as Record<string, unknown>;
    expect(Object.keys(proof).sort()).toEqual([
      'circuitId',
      'depth',
      'format',
      'proof',
      'publicSignals',
      'root',
      'schemaHash',
      'subjectColumn',
      'subjectHash',
    ]);
    expect(proof).toMatchObject({
      format: 'zkai-inclusion-proof-v1',
      root: commitment.root,
      subjectHash: poseidonText('P00002').toString(),
    });
    // Nothing private: no id in clear, no salt, no row.
    const bundleJson = JSON.parse(await readFile(bundlePath, 'utf8')) as { salts: string[] };
    expect(proofText).not.toMatch(/P0000\d/);
    for (const salt of bundleJson.salts) expect(proofText).not.toContain(salt);
    expect(proofText).not.toContain('"row"');

    const verify = await runCli([
      'data',
      'verify-include',
      '--vkey',
      vkeyPath,
      '--proof',
      proofPath,
      '--schema',
      SCHEMA,
      '--commitment',
      commitmentPath,
      '--subject',
      'P00002',
    ]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(
      /^OK: the proof is valid: a record with patient_id = "P00002" is in the dataset committed as root \d+/,
    );

    const otherSubject = await runCli([
      'data',
      'verify-include',
      '--vkey',
      vkeyPath,
      '--proof',
      proofPath,
      '--schema',
      SCHEMA,
      '--commitment',
      commitmentPath,
      '--subject',
      'P00001',
    ]);
    expect(otherSubject.code).toBe(1);
    expect(otherSubject.stdout).toMatch(/^INVALID \(claim-mismatch\): subjectHash: expected \d+, proof says \d+/);
    const otherRoot = await runCli([
      '--json',
      'data',
      'verify-include',
      '--vkey',
      vkeyPath,
      '--proof',
      proofPath,
      '--schema',
      SCHEMA,
      '--root',
      '12345',
      '--subject',
      'P00002',
    ]);
    expect(otherRoot.code).toBe(1);
    expect(JSON.parse(otherRoot.stdout)).toMatchObject({
      valid: false,
      reason: 'claim-mismatch',
      mismatches: [{ name: 'root', expected: '12345', actual: commitment.root }],
    });

    const rowProof = join(scratch, 'row4.proof.json');
    const byRow = await runCli(
      [
        '--json',
        '--quiet',
        'data',
        'include',
        '--schema',
        SCHEMA,
        '--bundle',
        bundlePath,
        '--row',
        '4',
        '--out',
        rowProof,
      ],
      { timeoutMs: 600_000 },
    );
    expect(byRow.code, byRow.stderr).toBe(0);
    expect(JSON.parse(byRow.stdout)).toMatchObject({
      row: 4,
      subjectHash: poseidonText('P00003').toString(),
      depth: 2,
      constraints: 868,
    });
    const verifyRow = await runCli([
      'data',
      'verify-include',
      '--vkey',
      vkeyPath,
      '--proof',
      rowProof,
      '--schema',
      SCHEMA,
      '--commitment',
      commitmentPath,
      '--subject',
      'P00003',
    ]);
    expect(verifyRow.code, verifyRow.stderr).toBe(0);

    const absentOut = join(scratch, 'absent.proof.json');
    const absent = await runCli([
      'data',
      'include',
      '--schema',
      SCHEMA,
      '--bundle',
      bundlePath,
      '--subject',
      'P99999',
      '--out',
      absentOut,
    ]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/error: no record of the dataset \(3 records\) has patient_id = "P99999"/);
    noStackTrace(absent.stderr);
    expect(existsSync(absentOut)).toBe(false);
    const neither = await runCli(['data', 'include', '--schema', SCHEMA, '--bundle', bundlePath, '--out', absentOut]);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch(/--subject ID .* or --row N/);
  }, 600_000);
});
