/**
 * Every "verify with:" hint the CLI prints is a command a verifier can run: it names every flag the verify command
 * needs, and its only placeholders are values the verifier brings from its own trusted source (each explained on a
 * line under it). Each test runs the real CLI, reads the printed hint, fills the placeholders with the true values
 * and runs the hint through a POSIX shell (in a folder whose name needs quoting); one filled with a wrong value must
 * fail. The datasets, policies and depths are those of data-cli, data-chunked and data-inclusion, so the compiled
 * circuits and keys in the shared test cache are reused.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandHint, shellWord, type CommandHint } from '../src/cli/data-commands.ts';
import { DEMO_CIRCUIT_PATH, rangeCommitmentInput, sampleAges } from '../src/demo/range-commitment.ts';
import { DEMO_CHUNK_DEPTH, PATIENTS_EXAMPLE } from '../src/demo/dataset-demo.ts';
import { fillArgv, fillHint, killRunningHints, parsePrintedHint, runHint } from './helpers/hints.ts';
import { runCli, testCircuit } from './helpers/run-cli.ts';

const example = (name: string) => fileURLToPath(new URL(`../examples/patients/${name}`, import.meta.url));
const SCHEMA = example('schema.json');
const POLICY = example('policy.json');
const PATIENTS = example('patients.csv');
const LONG = { timeoutMs: 600_000 };

/** Every file of these tests lives here: a folder whose name has a space and a quote, so a hint must quote its paths. */
let dir: string;
let scratch: string;
let csvLines: string[];
const file = (name: string) => join(dir, name);

/** Header + the given data rows of patients.csv (1-based data row numbers), as a CSV file. */
async function subset(name: string, rows: number[]): Promise<string> {
  await writeFile(file(name), `${[csvLines[0], ...rows.map((row) => csvLines[row])].join('\n')}\n`);
  return file(name);
}

/** `zkai data commit --public`: the bundle and the published commitment file (fresh salts: a new root each time). */
async function commit(name: string, data: string, schema = SCHEMA): Promise<{ bundle: string; commitment: string }> {
  const bundle = file(`${name}.bundle.json`);
  const commitment = file(`${name}.commitment.json`);
  const run = await runCli([
    '--quiet',
    'data',
    'commit',
    '--schema',
    schema,
    '--data',
    data,
    '--bundle',
    bundle,
    '--public',
    commitment,
    '--force',
  ]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toContain('publish this');
  return { bundle, commitment };
}

/** Run a filled hint; expect the verdict (exit 0 and OK, or exit 1 and INVALID). */
async function expectVerdict(command: string, verdict: 'OK' | 'INVALID'): Promise<string> {
  const run = await runHint(command);
  expect(run.code, `${command}\n${run.stderr}${run.stdout}`).toBe(verdict === 'OK' ? 0 : 1);
  expect(run.stdout).toMatch(verdict === 'OK' ? /^OK: the proof is valid/ : /^INVALID \(/);
  return run.stdout;
}

const json = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-hints-'));
  dir = join(scratch, "it's a folder");
  await mkdir(dir);
  csvLines = (await readFile(PATIENTS, 'utf8')).trimEnd().split('\n');
});
afterAll(async () => {
  killRunningHints();
  await rm(scratch, { recursive: true, force: true });
});

describe('hints as data', () => {
  it('quotes every word a shell would change, so sh reads the words back unchanged', () => {
    const words = [
      'plain/path.json',
      "it's a folder/p.json",
      'a b',
      '$HOME',
      '`x`',
      'a"b',
      '*',
      '~',
      '',
      'x=1',
      'P00002',
    ];
    const printed = words.map(shellWord).join(' ');
    expect(printed.startsWith("plain/path.json 'it'\\''s a folder/p.json'")).toBe(true);
    const echoed = spawnSync('/bin/sh', ['-c', `printf '%s\\n' ${printed}`], { encoding: 'utf8' });
    expect(echoed.status).toBe(0);
    expect(echoed.stdout).toBe(`${words.join('\n')}\n`);
  });

  it('refuses a placeholder the command does not use', () => {
    expect(
      commandHint(['zkai', 'data', 'verify', '--commitment', 'COMMITMENT.json'], { 'COMMITMENT.json': 'x' })
        .placeholders,
    ).toEqual({ 'COMMITMENT.json': 'x' });
    expect(
      commandHint(['zkai', 'data', 'verify', '--registry', 'consent=CONSENT_ROOT'], { CONSENT_ROOT: 'x' }).argv,
    ).toHaveLength(5);
    expect(() => commandHint(['zkai', 'data', 'verify'], { 'COMMITMENT.json': 'x' })).toThrow(
      /COMMITMENT\.json is not in the command/,
    );
  });
});

describe('printed hints run as printed, with the placeholders filled', () => {
  it('data prove (whole): the commitment is the only placeholder; another commitment is INVALID', async () => {
    // Rows 1 and 3 with the example policy: data-cli's whole-proof circuit (capacity 2).
    const data = await subset('two.csv', [1, 3]);
    const { bundle, commitment } = await commit('two', data);
    const prove = await runCli(
      ['data', 'prove', '--schema', SCHEMA, '--policy', POLICY, '--bundle', bundle, '--out', file('two.proof.json')],
      LONG,
    );
    expect(prove.code, prove.stderr).toBe(0);
    const hint = parsePrintedHint(prove.stdout);
    expect(hint.command).toMatch(
      /^zkai data verify --vkey \S+ --proof '.*it'\\''s a folder\/two\.proof\.json' --schema \S+ --policy \S+ --commitment COMMITMENT\.json$/,
    );
    expect(hint.placeholders).toEqual({ 'COMMITMENT.json': expect.stringContaining('zkai data commit --public') });
    expect(prove.stdout).not.toContain('attest with'); // no context: nothing to attest

    await expectVerdict(fillHint(hint, { 'COMMITMENT.json': commitment }), 'OK');
    // The same records committed again under fresh salts: another root, which this proof is not about.
    const other = await commit('two-again', data);
    expect(await readFile(other.commitment, 'utf8')).not.toBe(await readFile(commitment, 'utf8'));
    expect(await expectVerdict(fillHint(hint, { 'COMMITMENT.json': other.commitment }), 'INVALID')).toMatch(/root/);
  }, 600_000);

  it('data prove with registries: each registry root is a placeholder next to the commitment; a wrong root is INVALID', async () => {
    // data-cli's registry policy and registries (2 records, consent depth 3, opt-out depth 2).
    const policy = file('registry-policy.json');
    await writeFile(
      policy,
      JSON.stringify({
        name: 'consented, not opted out',
        rules: [{ field: 'age', op: 'GTE', value: 18 }],
        registries: [
          { kind: 'MEMBER-OF', field: 'patient_id', registry: 'consent', depth: 3 },
          { kind: 'NOT-MEMBER-OF', field: 'patient_id', registry: 'optout', depth: 2 },
        ],
      }),
    );
    const roots: Record<string, string> = {};
    for (const [name, ids, depth] of [
      ['consent', ['P00001', 'P00003', 'P00005'], 3],
      ['optout', ['P00002', 'P00090'], 2],
    ] as const) {
      await writeFile(file(`${name}.txt`), `${ids.join('\n')}\n`);
      const built = await runCli([
        '--json',
        'data',
        'registry',
        '--schema',
        SCHEMA,
        '--field',
        'patient_id',
        '--ids',
        file(`${name}.txt`),
        '--name',
        name,
        '--depth',
        String(depth),
        '--out',
        file(`${name}.registry.json`),
      ]);
      expect(built.code, built.stderr).toBe(0);
      roots[name] = (JSON.parse(built.stdout) as { root: string }).root;
    }
    const { bundle, commitment } = await commit('registry', await subset('registry.csv', [1, 3]));
    const prove = await runCli(
      [
        'data',
        'prove',
        '--schema',
        SCHEMA,
        '--policy',
        policy,
        '--bundle',
        bundle,
        '--registry',
        file('consent.registry.json'),
        file('optout.registry.json'),
        '--out',
        file('registry.proof.json'),
        '--vkey-out',
        file('registry.vkey.json'),
      ],
      LONG,
    );
    expect(prove.code, prove.stderr).toBe(0);
    const hint = parsePrintedHint(prove.stdout);
    expect(hint.command).toMatch(
      / --commitment COMMITMENT\.json --registry consent=CONSENT_ROOT --registry optout=OPTOUT_ROOT$/,
    );
    expect(hint.command).not.toContain(roots.consent); // the prover's root is not the verifier's to copy
    expect(Object.keys(hint.placeholders).sort()).toEqual(['COMMITMENT.json', 'CONSENT_ROOT', 'OPTOUT_ROOT']);
    expect(hint.placeholders.CONSENT_ROOT).toContain('registry "consent"');

    const ok = await expectVerdict(
      fillHint(hint, { 'COMMITMENT.json': commitment, CONSENT_ROOT: roots.consent!, OPTOUT_ROOT: roots.optout! }),
      'OK',
    );
    expect(ok).toMatch(/against registries consent \(root \d+\), optout/);
    const swapped = await expectVerdict(
      fillHint(hint, { 'COMMITMENT.json': commitment, CONSENT_ROOT: roots.consent!, OPTOUT_ROOT: roots.consent! }),
      'INVALID',
    );
    expect(swapped).toContain('registry.optout');
  }, 600_000);

  it('data prove --chunk-depth: the same verify hint, as text and as --json data; with --context, the attest hint names its flags', async () => {
    // data-chunked's CLI case: the patients example (a policy with aggregates), five patients, the demo's chunk depth,
    // so the committed chunk and root circuits are the demo's.
    await copyFile(PATIENTS_EXAMPLE.schema, file('chunks-schema.json'));
    await copyFile(PATIENTS_EXAMPLE.policy, file('chunks-policy.json'));
    const lines = (await readFile(PATIENTS_EXAMPLE.data, 'utf8')).trimEnd().split('\n');
    await writeFile(file('chunks.csv'), `${lines.slice(0, 6).join('\n')}\n`);
    const { bundle, commitment } = await commit('chunks', file('chunks.csv'), file('chunks-schema.json'));
    const args = [
      'data',
      'prove',
      '--schema',
      file('chunks-schema.json'),
      '--policy',
      file('chunks-policy.json'),
      '--bundle',
      bundle,
      '--out',
      file('chunks.proof.json'),
      '--vkey-out',
      file('chunks.vkey.json'),
      '--chunk-depth',
      String(DEMO_CHUNK_DEPTH),
    ];
    const prove = await runCli(args, LONG);
    expect(prove.code, prove.stderr).toBe(0);
    const hint = parsePrintedHint(prove.stdout);
    expect(hint.command).toContain(`--vkey ${shellWord(file('chunks.vkey.json'))} `);
    expect(hint.placeholders).toEqual({ 'COMMITMENT.json': expect.any(String) });
    await expectVerdict(fillHint(hint, { 'COMMITMENT.json': commitment }), 'OK');

    // --json: the hint as data, bound to a context this time (off chain, a context changes nothing for data verify).
    const bound = await runCli(['--json', '--quiet', ...args, '--context', '7'], LONG);
    expect(bound.code, bound.stderr).toBe(0);
    const result = JSON.parse(bound.stdout) as {
      verifyWith: CommandHint;
      attestWith: CommandHint;
      registerWith: CommandHint;
    };
    expect(result.verifyWith.command).toBe(hint.command);
    expect(result.verifyWith.placeholders).toEqual(hint.placeholders);
    const filled = fillArgv(result.verifyWith.argv, { 'COMMITMENT.json': commitment });
    const verify = await runCli(filled);
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
    expect(verify.stdout).toMatch(/^OK: /);
    // Attesting needs the nonce (the prover's own); the registry owner registers the circuit once from the schema and
    // policy (this machine's own setup: --development).
    expect(result.attestWith.argv).toEqual(['zkai', 'chain', 'attest', file('chunks.proof.json'), '--nonce', 'NONCE']);
    expect(Object.keys(result.attestWith.placeholders)).toEqual(['NONCE']);
    expect(result.registerWith.argv).toEqual([
      'zkai',
      'chain',
      'register',
      file('chunks.proof.json'),
      '--schema',
      file('chunks-schema.json'),
      '--policy',
      file('chunks-policy.json'),
      '--development',
    ]);
  }, 600_000);

  it('data include: --subject is written out when known, a placeholder when proven by row; another subject is INVALID', async () => {
    // data-inclusion's CLI case: the first three patients (tree depth 2).
    const { bundle, commitment } = await commit('three', await subset('three.csv', [1, 2, 3]));
    const bySubject = await runCli(
      [
        'data',
        'include',
        '--schema',
        SCHEMA,
        '--bundle',
        bundle,
        '--subject',
        'P00002',
        '--out',
        file('p2.proof.json'),
      ],
      LONG,
    );
    expect(bySubject.code, bySubject.stderr).toBe(0);
    const subjectHint = parsePrintedHint(bySubject.stdout);
    expect(subjectHint.command).toMatch(
      /^zkai data verify-include --vkey \S+ --proof '.*p2\.proof\.json' --schema \S+ --commitment COMMITMENT\.json --subject P00002$/,
    );
    expect(Object.keys(subjectHint.placeholders)).toEqual(['COMMITMENT.json']);
    await expectVerdict(fillHint(subjectHint, { 'COMMITMENT.json': commitment }), 'OK');

    // By row: a string id is kept only as its hash, so the verifier brings the id it asks about.
    const byRow = await runCli(
      ['data', 'include', '--schema', SCHEMA, '--bundle', bundle, '--row', '4', '--out', file('row4.proof.json')],
      LONG,
    );
    expect(byRow.code, byRow.stderr).toBe(0);
    const rowHint = parsePrintedHint(byRow.stdout);
    expect(rowHint.command).toMatch(/ --commitment COMMITMENT\.json --subject SUBJECT_ID$/);
    expect(Object.keys(rowHint.placeholders).sort()).toEqual(['COMMITMENT.json', 'SUBJECT_ID']);
    expect(rowHint.placeholders.SUBJECT_ID).toContain('patient_id');
    await expectVerdict(fillHint(rowHint, { 'COMMITMENT.json': commitment, SUBJECT_ID: 'P00003' }), 'OK');
    await expectVerdict(fillHint(rowHint, { 'COMMITMENT.json': commitment, SUBJECT_ID: 'P00001' }), 'INVALID');
  }, 600_000);

  it('zkai prove (one input, and a batch as text and --json): no placeholder, the hint verifies the proof', async () => {
    const input = file('ages.json');
    await writeFile(input, json(rangeCommitmentInput(sampleAges(9), 18, 99)));
    const one = await runCli(
      [
        'prove',
        DEMO_CIRCUIT_PATH,
        '--input',
        input,
        '--proof',
        file('ages.proof.json'),
        '--public',
        file('ages.public.json'),
      ],
      LONG,
    );
    expect(one.code, one.stderr).toBe(0);
    const hint = parsePrintedHint(one.stdout);
    expect(hint.placeholders).toEqual({});
    expect(hint.command).toMatch(
      /^zkai verify --vkey \S+ --proof '.*ages\.proof\.json' --public '.*ages\.public\.json'$/,
    );
    expect(one.stdout).toContain('--expect INDEX=VALUE'); // the signals are the prover's word until the verifier checks them
    await expectVerdict(fillHint(hint, {}), 'OK');

    const inputs = file('inputs');
    await mkdir(inputs);
    await writeFile(join(inputs, 'a.json'), JSON.stringify({ a: '3', b: '11' }));
    await writeFile(join(inputs, 'b.json'), JSON.stringify({ a: '5', b: '7' }));
    const batch = await runCli(
      ['prove', testCircuit('multiplier.circom'), '--inputs', inputs, '--out-dir', file('out')],
      LONG,
    );
    expect(batch.code, batch.stderr).toBe(0);
    const batchHint = parsePrintedHint(batch.stdout);
    expect(batchHint.command).toContain(shellWord(join(file('out'), 'a.proof.json')));
    await expectVerdict(fillHint(batchHint, {}), 'OK');

    const asJson = await runCli(
      ['--json', '--quiet', 'prove', testCircuit('multiplier.circom'), '--inputs', inputs, '--out-dir', file('out')],
      LONG,
    );
    expect(asJson.code, asJson.stderr).toBe(0);
    const written = (JSON.parse(asJson.stdout) as { written: Array<{ proof: string; verifyWith: CommandHint }> })
      .written;
    expect(written.map((entry) => entry.verifyWith.argv.includes(entry.proof))).toEqual([true, true]);
    // The second proof's hint, with its public signals swapped for the first proof's: the pairing check fails.
    const second = written[1]!.verifyWith;
    expect(second.placeholders).toEqual({});
    await expectVerdict(second.command, 'OK');
    await expectVerdict(
      second.command.replace(
        shellWord(join(file('out'), 'b.public.json')),
        shellWord(join(file('out'), 'a.public.json')),
      ),
      'INVALID',
    );
  }, 600_000);
});
