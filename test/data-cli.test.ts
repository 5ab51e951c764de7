import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.ts';

const example = (name: string) => fileURLToPath(new URL(`../examples/patients/${name}`, import.meta.url));
const SCHEMA = example('schema.json');
const POLICY = example('policy.json');
const PATIENTS = example('patients.csv');

let scratch: string;
let csvLines: string[];
/** Header + the given data rows of patients.csv (1-based data row numbers), as a CSV file in the scratch folder. */
async function subset(name: string, rows: number[], extra: string[] = []): Promise<string> {
  const path = join(scratch, name);
  await writeFile(path, `${[csvLines[0], ...rows.map((row) => csvLines[row]), ...extra].join('\n')}\n`);
  return path;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-data-cli-'));
  csvLines = (await readFile(PATIENTS, 'utf8')).trimEnd().split('\n');
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

interface Commitment {
  root: string;
  count: number;
  depth: number;
  schemaHash: string;
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at /);

describe('zkai data', () => {
  it('has help for the group and each subcommand; the dangerous prove flag stays hidden', async () => {
    const group = await runCli(['data', '--help']);
    expect(group.code).toBe(0);
    for (const sub of ['commit', 'check', 'prove', 'verify']) expect(group.stdout).toContain(sub);
    const prove = await runCli(['data', 'prove', '--help']);
    expect(prove.code).toBe(0);
    expect(prove.stdout).toContain('Usage: zkai data prove');
    expect(prove.stdout).toContain('--vkey-out');
    expect(prove.stdout).not.toContain('force-violating');
  });

  it('commit writes a 0600 bundle and the public commitment, refuses to overwrite without --force, and salts afresh', async () => {
    const bundle = join(scratch, 'patients.bundle.json');
    const publicPath = join(scratch, 'patients.commitment.json');
    const first = await runCli([
      'data',
      'commit',
      '--schema',
      SCHEMA,
      '--data',
      PATIENTS,
      '--bundle',
      bundle,
      '--public',
      publicPath,
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('[ingest] 64 records read');
    const commitment = JSON.parse(await readFile(publicPath, 'utf8')) as Commitment;
    expect(Object.keys(commitment).sort()).toEqual(['count', 'depth', 'root', 'schemaHash']);
    expect(commitment).toMatchObject({ count: 64, depth: 6 });
    expect(commitment.root).toMatch(/^\d{20,}$/);
    expect(first.stdout).toContain(commitment.root);
    expect(first.stdout).toContain(commitment.schemaHash);
    expect(first.stdout).toMatch(/WARNING: .*PRIVATE/);
    expect((await stat(bundle)).mode & 0o777).toBe(0o600);
    const bundleBytes = await readFile(bundle, 'utf8');
    expect(JSON.parse(bundleBytes)).toMatchObject({
      format: 'zkai-dataset-bundle-v1',
      commitment: { root: commitment.root },
    });

    // No overwrite without --force: the old bundle (and its salts) survive byte for byte.
    const again = await runCli([
      'data',
      'commit',
      '--schema',
      SCHEMA,
      '--data',
      PATIENTS,
      '--bundle',
      bundle,
      '--public',
      publicPath,
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect(again.stderr).toContain('--force');
    noStackTrace(again.stderr);
    expect(await readFile(bundle, 'utf8')).toBe(bundleBytes);
    expect((JSON.parse(await readFile(publicPath, 'utf8')) as Commitment).root).toBe(commitment.root);

    // With --force: a new commitment of the same data, under fresh salts, so another root.
    const forced = await runCli([
      '--json',
      '--quiet',
      'data',
      'commit',
      '--schema',
      SCHEMA,
      '--data',
      PATIENTS,
      '--bundle',
      bundle,
      '--public',
      publicPath,
      '--force',
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    const result = JSON.parse(forced.stdout) as Commitment & { bundle: string; warning: string };
    expect(result).toMatchObject({ count: 64, schemaHash: commitment.schemaHash, bundle });
    expect(result.warning).toContain('PRIVATE');
    expect(result.root).not.toBe(commitment.root);
    expect((JSON.parse(await readFile(publicPath, 'utf8')) as Commitment).root).toBe(result.root);
    expect((await stat(bundle)).mode & 0o777).toBe(0o600);
  });

  it('check passes the example policy on the example data, from the file and from a bundle', async () => {
    const run = await runCli(['data', 'check', '--schema', SCHEMA, '--policy', POLICY, '--data', PATIENTS]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^PASS: 64 records satisfy policy/);
    expect(run.stdout).toContain('record violations: 0');
    expect(run.stdout).toMatch(/ok\s+MEAN\(age\) in \[30, 75\]: actual 3638\/64/);
    expect(run.stdout).toMatch(/ok\s+PROPORTION\(consent_type EQ research\) in \[0\.3, 0\.9\]: actual 41\/64/);

    const bundle = join(scratch, 'check.bundle.json');
    expect(
      (await runCli(['--quiet', 'data', 'commit', '--schema', SCHEMA, '--data', PATIENTS, '--bundle', bundle])).code,
    ).toBe(0);
    const json = await runCli(['--json', 'data', 'check', '--schema', SCHEMA, '--policy', POLICY, '--bundle', bundle]);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      records: number;
      violations: unknown[];
      aggregates: Array<{ ok: boolean }>;
    };
    expect(report).toMatchObject({ ok: true, records: 64, violations: [] });
    expect(report.aggregates).toHaveLength(3);
    expect(report.aggregates.every((a) => a.ok)).toBe(true);
  });

  it('check lists every violation by row and field with values decoded for people, and exits 1', async () => {
    const data = await subset(
      'violating.csv',
      [1, 2],
      ['P00003,16,research,F32.9,34.4,2020-09-08,Alice', 'P00004,90,research,J45.909,70.5,2024-01-25,'],
    );
    const run = await runCli(['data', 'check', '--schema', SCHEMA, '--policy', POLICY, '--data', data]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAIL: 4 records do not satisfy/);
    expect(run.stdout).toContain('record violations: 4');
    expect(run.stdout).toContain('row 4: age = 16 breaks rule 0: age GTE 18');
    expect(run.stdout).toContain('row 4: name = (hashed) breaks rule 1: name ABSENT');
    expect(run.stdout).toContain(
      'row 4: admitted = 2020-09-08 breaks rule 3: if consent_type EQ research then admitted GTE 2021-01-01',
    );
    expect(run.stdout).toContain('row 5: bmi = 70.5 breaks rule 2: bmi BETWEEN [12.0, 60.0]');
    expect(run.stdout).not.toContain('Alice');

    const json = await runCli([
      '--json',
      '--quiet',
      'data',
      'check',
      '--schema',
      SCHEMA,
      '--policy',
      POLICY,
      '--data',
      data,
    ]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      violations: Array<{ row: number; field: string; value: string }>;
    };
    expect(report.ok).toBe(false);
    expect(report.violations.map((v) => [v.row, v.field, v.value])).toEqual([
      [4, 'age', '16'],
      [4, 'name', '(hashed)'],
      [4, 'admitted', '2020-09-08'],
      [5, 'bmi', '70.5'],
    ]);

    // An aggregate alone can fail too: two research records out of two is above the 0.9 bound.
    const aggregate = await runCli([
      'data',
      'check',
      '--schema',
      SCHEMA,
      '--policy',
      POLICY,
      '--data',
      await subset('all-research.csv', [3, 4]),
    ]);
    expect(aggregate.code).toBe(1);
    expect(aggregate.stdout).toContain('record violations: 0');
    expect(aggregate.stdout).toMatch(/FAIL\s+PROPORTION\(consent_type EQ research\) in \[0\.3, 0\.9\]: actual 2\/2/);
  });

  it('a malformed data file gives a row-level error and writes no bundle', async () => {
    const data = await subset('malformed.csv', [1, 2, 3], ['P00004,90,research,J45.909,9x,2024-01-25,']);
    const bundle = join(scratch, 'malformed.bundle.json');
    const publicPath = join(scratch, 'malformed.commitment.json');
    const run = await runCli([
      'data',
      'commit',
      '--schema',
      SCHEMA,
      '--data',
      data,
      '--bundle',
      bundle,
      '--public',
      publicPath,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/row 5, column "bmi": "9x"/);
    noStackTrace(run.stderr);
    expect(existsSync(bundle)).toBe(false);
    expect(existsSync(publicPath)).toBe(false);
    const json = await runCli(['--json', 'data', 'commit', '--schema', SCHEMA, '--data', data, '--bundle', bundle]);
    expect(json.code).toBe(1);
    // --json gives the problems as data too (issue 20): where, the value, what was expected
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: {
        code: 'BAD_DATA',
        total: 1,
        problems: [{ row: 5, column: 'bmi', value: '9x', expected: expect.any(String), problem: expect.any(String) }],
      },
    });
    expect(existsSync(bundle)).toBe(false);
  });

  it('commit reads columns by their source header and names the columns it skipped, even with --quiet', async () => {
    const schema = JSON.parse(await readFile(SCHEMA, 'utf8')) as { columns: Array<{ name: string; source?: string }> };
    schema.columns[0]!.source = 'Patient ID (as exported)';
    const mappedSchema = join(scratch, 'mapped.schema.json');
    await writeFile(mappedSchema, JSON.stringify({ ...schema, otherColumns: 'ignore' }));
    const lines = (await readFile(PATIENTS, 'utf8')).trimEnd().split('\n').slice(0, 4);
    const header = lines[0]!.split(',');
    header[0] = '"Patient ID (as exported)"';
    const data = join(scratch, 'mapped.csv');
    await writeFile(
      data,
      [[...header, 'Ward $'].join(','), ...lines.slice(1).map((line) => `${line},B2`)].join('\n') + '\n',
    );
    const bundle = join(scratch, 'mapped.bundle.json');
    const run = await runCli([
      '--quiet',
      'data',
      'commit',
      '--schema',
      mappedSchema,
      '--data',
      data,
      '--bundle',
      bundle,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      `[ingest] skipped 1 column of ${data} that the schema does not list ("otherColumns": "ignore"): "Ward $"`,
    );
    // the same schema hash as the example's own schema: a source is where values are, not what they mean
    const mappedHash = JSON.parse(await readFile(bundle, 'utf8')).commitment?.schemaHash;
    const plain = join(scratch, 'plain.bundle.json');
    expect(
      (await runCli(['--quiet', 'data', 'commit', '--schema', SCHEMA, '--data', PATIENTS, '--bundle', plain])).code,
    ).toBe(0);
    expect(mappedHash).toBeDefined();
    expect(mappedHash).toBe(JSON.parse(await readFile(plain, 'utf8')).commitment?.schemaHash);
  });

  describe('prove and verify (2-record datasets: capacity 2, fits the 2^11 development ptau)', () => {
    let bundle: string;
    let commitmentPath: string;
    let commitment: Commitment;
    let proofPath: string;
    let vkeyPath: string;

    it('prove writes a dataset proof and the verification key; verify accepts it against the published commitment', async () => {
      // Rows 1 and 3: one treatment, one research record, so every rule and aggregate of the example policy holds.
      const data = await subset('two.csv', [1, 3]);
      bundle = join(scratch, 'two.bundle.json');
      commitmentPath = join(scratch, 'two.commitment.json');
      const commit = await runCli([
        '--quiet',
        'data',
        'commit',
        '--schema',
        SCHEMA,
        '--data',
        data,
        '--bundle',
        bundle,
        '--public',
        commitmentPath,
      ]);
      expect(commit.code, commit.stderr).toBe(0);
      commitment = JSON.parse(await readFile(commitmentPath, 'utf8')) as Commitment;
      expect(commitment.count).toBe(2);

      proofPath = join(scratch, 'two.proof.json');
      vkeyPath = join(scratch, 'two.vkey.json');
      const prove = await runCli(
        [
          '--json',
          'data',
          'prove',
          '--schema',
          SCHEMA,
          '--policy',
          POLICY,
          '--bundle',
          bundle,
          '--out',
          proofPath,
          '--vkey-out',
          vkeyPath,
        ],
        { timeoutMs: 600_000 },
      );
      expect(prove.code, prove.stderr).toBe(0);
      const result = JSON.parse(prove.stdout) as {
        proof: string;
        vkey: string;
        capacity: number;
        constraints: number;
        commitment: Commitment;
      };
      expect(result).toMatchObject({ proof: proofPath, capacity: 2, commitment: { root: commitment.root, count: 2 } });
      expect(result.constraints).toBeLessThan(2048);
      expect(existsSync(result.vkey)).toBe(true);
      expect(await readFile(vkeyPath, 'utf8')).toBe(await readFile(result.vkey, 'utf8'));

      const proof = JSON.parse(await readFile(proofPath, 'utf8')) as Record<string, unknown>;
      expect(Object.keys(proof).sort()).toEqual([
        'circuitId',
        'commitment',
        'format',
        'policy',
        'proof',
        'publicSignals',
        'registries',
      ]);
      expect(proof.registries).toEqual([]);
      expect(proof.format).toBe('zkai-dataset-proof-v1');
      expect((proof.publicSignals as string[])[0]).toBe(commitment.root);

      const verify = await runCli([
        'data',
        'verify',
        '--vkey',
        vkeyPath,
        '--proof',
        proofPath,
        '--schema',
        SCHEMA,
        '--policy',
        POLICY,
        '--commitment',
        commitmentPath,
      ]);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/^OK: the proof is valid/);

      const byRoot = await runCli([
        '--json',
        'data',
        'verify',
        '--vkey',
        vkeyPath,
        '--proof',
        proofPath,
        '--schema',
        SCHEMA,
        '--policy',
        POLICY,
        '--root',
        commitment.root,
        '--count',
        '2',
      ]);
      expect(byRoot.code, byRoot.stderr).toBe(0);
      expect(JSON.parse(byRoot.stdout)).toMatchObject({ valid: true, root: commitment.root, count: 2 });
    }, 600_000);

    it('verify rejects the proof under another policy, another root or another count, and exits 1', async () => {
      const policy = JSON.parse(await readFile(POLICY, 'utf8')) as {
        aggregates: Array<{ kind: string; max?: string }>;
      };
      const proportion = policy.aggregates.find((a) => a.kind === 'PROPORTION');
      if (!proportion) throw new Error('the example policy should have a PROPORTION aggregate');
      proportion.max = '0.95';
      const otherPolicy = join(scratch, 'other-policy.json');
      await writeFile(otherPolicy, JSON.stringify(policy));
      const wrongPolicy = await runCli([
        'data',
        'verify',
        '--vkey',
        vkeyPath,
        '--proof',
        proofPath,
        '--schema',
        SCHEMA,
        '--policy',
        otherPolicy,
        '--commitment',
        commitmentPath,
      ]);
      expect(wrongPolicy.code).toBe(1);
      expect(wrongPolicy.stdout).toMatch(/^INVALID \(claim-mismatch\): policyHash: expected \d+, proof says \d+/);

      const wrongRoot = await runCli([
        '--json',
        'data',
        'verify',
        '--vkey',
        vkeyPath,
        '--proof',
        proofPath,
        '--schema',
        SCHEMA,
        '--policy',
        POLICY,
        '--root',
        '12345',
        '--count',
        '2',
      ]);
      expect(wrongRoot.code).toBe(1);
      expect(JSON.parse(wrongRoot.stdout)).toMatchObject({
        valid: false,
        reason: 'claim-mismatch',
        mismatches: [{ name: 'root', expected: '12345', actual: commitment.root }],
      });

      const wrongCount = await runCli([
        'data',
        'verify',
        '--vkey',
        vkeyPath,
        '--proof',
        proofPath,
        '--schema',
        SCHEMA,
        '--policy',
        POLICY,
        '--root',
        commitment.root,
        '--count',
        '3',
      ]);
      expect(wrongCount.code).toBe(1);
      expect(wrongCount.stdout).toContain('count: expected 3, proof says 2');

      // A commitment published under another schema is not the one this schema file describes.
      const otherSchemaCommitment = join(scratch, 'other-schema.commitment.json');
      await writeFile(otherSchemaCommitment, JSON.stringify({ ...commitment, schemaHash: '42' }));
      const wrongSchema = await runCli([
        'data',
        'verify',
        '--vkey',
        vkeyPath,
        '--proof',
        proofPath,
        '--schema',
        SCHEMA,
        '--policy',
        POLICY,
        '--commitment',
        otherSchemaCommitment,
      ]);
      expect(wrongSchema.code).toBe(1);
      expect(wrongSchema.stdout).toContain('schema hash 42');
    });

    it('prove refuses a violating dataset with the row-level reason and writes nothing; forced, the circuit refuses it too', async () => {
      // Row 1 and row 3 with age 17: same policy and capacity as above, so the circuit and keys are cached.
      const data = await subset('two-violating.csv', [1], ['P00003,17,research,F32.9,34.4,2022-09-08,']);
      const violating = join(scratch, 'two-violating.bundle.json');
      expect(
        (await runCli(['--quiet', 'data', 'commit', '--schema', SCHEMA, '--data', data, '--bundle', violating])).code,
      ).toBe(0);
      const out = join(scratch, 'violating.proof.json');
      const vkeyOut = join(scratch, 'violating.vkey.json');
      const refused = await runCli([
        'data',
        'prove',
        '--schema',
        SCHEMA,
        '--policy',
        POLICY,
        '--bundle',
        violating,
        '--out',
        out,
        '--vkey-out',
        vkeyOut,
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('row 3: age = 17 breaks rule 0: age GTE 18');
      expect(refused.stderr).toMatch(/aggregate MEAN\(age\) in \[30, 75\] fails/);
      noStackTrace(refused.stderr);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(vkeyOut)).toBe(false);

      const forced = await runCli(
        [
          '--json',
          '--quiet',
          'data',
          'prove',
          '--schema',
          SCHEMA,
          '--policy',
          POLICY,
          '--bundle',
          violating,
          '--out',
          out,
          '--force-violating',
        ],
        { timeoutMs: 600_000 },
      );
      expect(forced.code).toBe(1);
      expect(JSON.parse(forced.stdout)).toMatchObject({ error: { code: 'CIRCUIT_REFUSED' } });
      expect(existsSync(out)).toBe(false);
    }, 600_000);
  });
  describe('registries: consent and opt-out lists (2-record datasets, shallow registries: fits a 2^13 development ptau)', () => {
    const policyFile = () => join(scratch, 'registry-policy.json');
    const registryFile = (name: string) => join(scratch, `${name}.registry.json`);
    const ids = async (name: string, list: string[]) => {
      const path = join(scratch, `${name}.txt`);
      await writeFile(path, `${list.join('\n')}\n`);
      return path;
    };
    const build = async (name: string, list: string[], depth: number) =>
      runCli([
        '--json',
        'data',
        'registry',
        '--schema',
        SCHEMA,
        '--field',
        'patient_id',
        '--ids',
        await ids(name, list),
        '--name',
        name === 'consent2' ? 'consent' : name,
        '--depth',
        String(depth),
        '--out',
        registryFile(name),
      ]);

    it('registry builds a registry file and prints its root; bad ids are named by line', async () => {
      await writeFile(
        policyFile(),
        JSON.stringify({
          name: 'consented, not opted out',
          rules: [{ field: 'age', op: 'GTE', value: 18 }],
          registries: [
            { kind: 'MEMBER-OF', field: 'patient_id', registry: 'consent', depth: 3 },
            { kind: 'NOT-MEMBER-OF', field: 'patient_id', registry: 'optout', depth: 2 },
          ],
        }),
      );
      const consent = await build('consent', ['P00001', 'P00003', 'P00005'], 3);
      expect(consent.code, consent.stderr).toBe(0);
      expect(JSON.parse(consent.stdout)).toMatchObject({
        name: 'consent',
        size: 3,
        depth: 3,
        root: expect.stringMatching(/^\d+$/),
      });
      expect((await build('optout', ['P00002', 'P00090'], 2)).code).toBe(0);
      const tooLong = await build('bad', ['P00001', 'P000012345678901234567890123456789'], 3);
      expect(tooLong.code).toBe(1);
      // --json: the error is JSON on stdout
      expect(JSON.parse(tooLong.stdout)).toMatchObject({
        error: { code: 'BAD_REGISTRY', message: expect.stringMatching(/bad\.txt line 2.*patient_id/) },
      });
      noStackTrace(tooLong.stdout + tooLong.stderr);
      const full = await build('full', ['P00001', 'P00002', 'P00003', 'P00004'], 2);
      expect(full.stdout).toMatch(/4 ids do not fit a tree of depth 2 \(at most 3\)/);
    });

    it('check names the rows whose ids are not consented or opted out; prove refuses them', async () => {
      const data = await subset('registry-bad.csv', [1, 2, 3]);
      const check = await runCli([
        'data',
        'check',
        '--schema',
        SCHEMA,
        '--policy',
        policyFile(),
        '--data',
        data,
        '--registry',
        registryFile('consent'),
        registryFile('optout'),
      ]);
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(
        /row 3: patient_id = \(hashed\) breaks registry requirement: patient_id MEMBER-OF registry consent \(not listed/,
      );
      expect(check.stdout).toMatch(
        /row 3: patient_id = \(hashed\) breaks registry requirement: patient_id NOT-MEMBER-OF registry optout \(listed/,
      );
      expect(check.stdout).not.toMatch(/row [24]:/);
      const missing = await runCli([
        'data',
        'check',
        '--schema',
        SCHEMA,
        '--policy',
        policyFile(),
        '--data',
        data,
        '--registry',
        registryFile('consent'),
      ]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('needs registry "optout"');
      const bundle = join(scratch, 'registry-bad.bundle.json');
      expect(
        (await runCli(['--quiet', 'data', 'commit', '--schema', SCHEMA, '--data', data, '--bundle', bundle])).code,
      ).toBe(0);
      const out = join(scratch, 'registry-bad.proof.json');
      const refused = await runCli([
        'data',
        'prove',
        '--schema',
        SCHEMA,
        '--policy',
        policyFile(),
        '--bundle',
        bundle,
        '--registry',
        registryFile('consent'),
        registryFile('optout'),
        '--out',
        out,
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('row 3: patient_id = (hashed) breaks registry requirement');
      expect(existsSync(out)).toBe(false);
    });

    it('prove and verify against trusted roots, given as NAME=ROOT or as the registry file; another root is rejected', async () => {
      const data = await subset('registry-good.csv', [1, 3]);
      const bundle = join(scratch, 'registry.bundle.json');
      const commitmentPath = join(scratch, 'registry.commitment.json');
      expect(
        (
          await runCli([
            '--quiet',
            'data',
            'commit',
            '--schema',
            SCHEMA,
            '--data',
            data,
            '--bundle',
            bundle,
            '--public',
            commitmentPath,
          ])
        ).code,
      ).toBe(0);
      const proofPath = join(scratch, 'registry.proof.json');
      const vkeyPath = join(scratch, 'registry.vkey.json');
      const prove = await runCli(
        [
          '--json',
          'data',
          'prove',
          '--schema',
          SCHEMA,
          '--policy',
          policyFile(),
          '--bundle',
          bundle,
          '--registry',
          registryFile('optout'),
          registryFile('consent'),
          '--out',
          proofPath,
          '--vkey-out',
          vkeyPath,
        ],
        { timeoutMs: 600_000 },
      );
      expect(prove.code, prove.stderr).toBe(0);
      const consentRoot = (JSON.parse(await readFile(registryFile('consent'), 'utf8')) as { root: string }).root;
      const proof = JSON.parse(await readFile(proofPath, 'utf8')) as {
        registries: Array<{ name: string; root: string }>;
        publicSignals: string[];
      };
      expect(proof.registries.map((r) => r.name)).toEqual(['consent', 'optout']);
      expect(proof.publicSignals[4]).toBe(consentRoot);
      const base = [
        'data',
        'verify',
        '--vkey',
        vkeyPath,
        '--proof',
        proofPath,
        '--schema',
        SCHEMA,
        '--policy',
        policyFile(),
        '--commitment',
        commitmentPath,
      ];
      const ok = await runCli([...base, '--registry', `consent=${consentRoot}`, registryFile('optout')]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^OK: .* against registries consent \(root \d+\), optout/);
      // A newer consent list (P00003 withdrew) has another root: the proof does not hold against it.
      expect((await build('consent2', ['P00001', 'P00005'], 3)).code).toBe(0);
      const stale = await runCli([...base, '--registry', registryFile('consent2'), registryFile('optout')]);
      expect(stale.code).toBe(1);
      expect(stale.stdout).toMatch(/^INVALID \(claim-mismatch\): registry\.consent: expected \d+, proof says \d+/);
      const unsaid = await runCli([...base, '--registry', registryFile('optout')]);
      expect(unsaid.code).toBe(1);
      expect(unsaid.stderr).toContain('checks registry "consent": say which root you trust');
      noStackTrace(unsaid.stderr);
    }, 600_000);
  });
});
