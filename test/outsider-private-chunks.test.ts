/**
 * What an outsider learns from the files the CLI writes for a private chunked dataset proof (issue 18): with the public
 * schema, the proof file and the commitment only, and a guessed id space, it tries what the attacks on the earlier
 * format did (guess ids and hash them as the schema says, read per-chunk counts and sums, confirm members) and must
 * recover no id, no record value and no per-chunk statistic. A policy with MEAN, PROPORTION, GROUP-PARITY and UNIQUE
 * (the shared fixture's), chunks of 2 and of 3 records, aggregation proofs of fan-in 4 (the fixture's, so the root
 * circuit is shared with test/data-private-chunks.test.ts). The chunked accuracy proof's outsider check is in
 * test/model-cli.test.ts (on the file `zkai model accuracy` writes).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecord } from '../src/data/encode.ts';
import { loadSchema } from '../src/data/schema.ts';
import { uniqueKey } from '../src/data/unique.ts';
import {
  PRIVATE_CHUNKS_FAN_IN,
  PRIVATE_CHUNKS_POLICY,
  PRIVATE_CHUNKS_SCHEMA,
} from './helpers/private-chunks-fixture.ts';
import { runCli } from './helpers/run-cli.ts';

const LONG = { timeoutMs: 900_000 };
/** Six patients: ids 1000 to 1005, ages 18 to 63, two in group a. */
const ROWS = Array.from({ length: 6 }, (_, i) => ({ id: 1000 + i, age: 18 + 9 * i, group: i % 3 === 0 ? 'a' : 'b' }));

let dir: string;
const file = (name: string) => join(dir, name);
/** The chunk shapes proven: chunks of 2 records (one subtree of 2) and of 3 (three subtrees of 1). */
const SHAPES = [
  { name: 'pairs', flags: ['--chunk-depth', '1'], size: 2 },
  { name: 'triples', flags: ['--chunk-depth', '0', '--subtrees-per-chunk', '3'], size: 3 },
] as const;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zkai-outsider-'));
  await writeFile(file('schema.json'), JSON.stringify(PRIVATE_CHUNKS_SCHEMA.spec));
  await writeFile(file('policy.json'), JSON.stringify(PRIVATE_CHUNKS_POLICY.spec));
  await writeFile(file('data.csv'), `id,age,group\n${ROWS.map((r) => `${r.id},${r.age},${r.group}`).join('\n')}\n`);
  const commit = await runCli([
    'data',
    'commit',
    '--schema',
    file('schema.json'),
    '--data',
    file('data.csv'),
    '--bundle',
    file('bundle.json'),
    '--public',
    file('commitment.json'),
  ]);
  expect(commit.code, commit.stderr).toBe(0);
  for (const shape of SHAPES) {
    const prove = await runCli(
      [
        '--quiet',
        'data',
        'prove',
        '--schema',
        file('schema.json'),
        '--policy',
        file('policy.json'),
        '--bundle',
        file('bundle.json'),
        '--out',
        file(`${shape.name}.json`),
        '--vkey-out',
        file(`${shape.name}.keys.json`),
        '--fan-in',
        String(PRIVATE_CHUNKS_FAN_IN),
        ...shape.flags,
      ],
      LONG,
    );
    expect(prove.code, prove.stderr).toBe(0);
    // The verify hint names the fan-in the verifier must use.
    expect(prove.stdout).toContain(`--fan-in ${PRIVATE_CHUNKS_FAN_IN}`);
  }
}, 900_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('an outsider with the public schema, a private chunked proof file and the commitment', () => {
  it('holds a proof the verifier accepts (with the fan-in it was made with; another fan-in names other circuits)', async () => {
    for (const shape of SHAPES) {
      const verify = (fanIn: number) =>
        runCli([
          'data',
          'verify',
          '--vkey',
          file(`${shape.name}.keys.json`),
          '--proof',
          file(`${shape.name}.json`),
          '--schema',
          file('schema.json'),
          '--policy',
          file('policy.json'),
          '--commitment',
          file('commitment.json'),
          '--fan-in',
          String(fanIn),
        ]);
      const ok = await verify(PRIVATE_CHUNKS_FAN_IN);
      expect(ok.code, ok.stderr + ok.stdout).toBe(0);
      expect(ok.stdout).toMatch(/^OK: .*publish no chunk's partials/);
      // Another fan-in names other aggregation circuits, whose keys these are not (checked once: it compiles them).
      if (shape === SHAPES[0]) expect((await verify(2)).code).toBe(1);
    }
  }, 600_000);

  it('recovers no id, no record value and no per-chunk count, sum or key from a guessed id space', async () => {
    // Only public files: the schema, the commitment and the proof files.
    const schema = await loadSchema(file('schema.json'));
    const commitment = JSON.parse(await readFile(file('commitment.json'), 'utf8')) as { count: number };
    const idColumn = schema.columns.find((c) => c.name === schema.spec.subjectId)!;
    // The guesser's candidates: the UNIQUE key of every id in 0..9999, hashed as the schema says, and every small
    // number (a per-chunk count or sum, an age, a partial of any run of records).
    const guessed = new Map<string, string>();
    for (let id = 0; id < 10_000; id += 1) {
      const encoded = encodeRecord(schema, { id, age: 30, group: 'a' }, 2).values[idColumn.index]!;
      guessed.set(String(uniqueKey(idColumn, encoded)), `the key of id ${id}`);
    }
    for (let n = 0; n <= 100_000; n += 1) if (!guessed.has(String(n))) guessed.set(String(n), `the number ${n}`);
    for (const shape of SHAPES) {
      const text = await readFile(file(`${shape.name}.json`), 'utf8');
      const proof = JSON.parse(text) as {
        chunkDepth: number;
        subtreesPerChunk: number;
        chunks: Array<{ publicSignals: string[] }>;
        aggregation: Array<Array<{ publicSignals: string[] }>>;
      };
      const chunkCount = Math.ceil(commitment.count / shape.size);
      expect(proof.chunks).toHaveLength(chunkCount);
      // What is public by design: the shape, hence each chunk's record count, the total count, the slots used.
      const publicByDesign = new Set(
        [0, 1, shape.size, commitment.count, proof.chunkDepth, proof.subtreesPerChunk, chunkCount].map(String),
      );
      const signals = [...proof.chunks, ...proof.aggregation.flat()].flatMap((p) => p.publicSignals);
      const found = signals.filter((value) => guessed.has(value) && !publicByDesign.has(value));
      expect(
        found.map((value) => `${value} (${guessed.get(value)})`),
        `${shape.name}: public signals a guesser recognises`,
      ).toEqual([]);
      // Nor anywhere else in the file: no id, key or record value as a field.
      for (const row of ROWS) expect(text).not.toMatch(new RegExp(`"${row.id}"|:${row.id}[,}]`));
      // Members cannot be confirmed: every real id's key is absent from the signals, as every guessed one is.
      for (const row of ROWS)
        expect(signals).not.toContain(
          String(uniqueKey(idColumn, encodeRecord(schema, row, 2).values[idColumn.index]!)),
        );
    }
  }, 120_000);
});
