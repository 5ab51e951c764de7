/**
 * The multi-party phase-2 ceremony (issue 15, "A real multi-party phase-2 ceremony"): three contributors in three
 * folders and a beacon with only files passed between them, the transcript re-verified against the r1cs and the ptau,
 * a skipped or forged contribution and a broken chain detected, proofs made with the ceremony's key (--zkey) verified
 * with its verification key, a key of another circuit refused, and keys of zkai's automatic setup labelled
 * single-party DEVELOPMENT. Real snarkjs and real files throughout; the ptau is the tests' development ptau, so every
 * ceremony here says its ptau is DEVELOPMENT.
 */
import { copyFile, mkdir, mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { compileCircuit, type CompiledCircuit } from '../src/circuit/compile.ts';
import { readR1csInfo } from '../src/circuit/r1cs-info.ts';
import { InputFileError } from '../src/errors.ts';
import {
  ceremonyBeacon,
  ceremonyContribute,
  ceremonyInit,
  finalizeCeremony,
  readCeremonyTranscript,
  type CeremonyTranscript,
} from '../src/setup/ceremony.ts';
import { findDevPtau } from '../src/setup/dev-ptau.ts';
import { ceremonyPhase2Trust, keyWarnings, SINGLE_PARTY_WARNING } from '../src/setup/key-trust.ts';
import { setupCircuit } from '../src/setup/phase2.ts';
import { blake2b512File } from '../src/setup/ptau-file.ts';
import { readZkeyInfo, type ZkeyContribution } from '../src/setup/zkey-file.ts';
import { isOwnContribution, isVerifiedCeremonyKey, trustStorePath } from '../src/setup/trust-store.ts';
import { verificationKeyId, type Groth16VerificationKey } from '../src/chain/groth16-template.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { runCli, type CliRun } from './helpers/run-cli.ts';

const LONG = { timeoutMs: 600_000 };
const example = (name: string) => fileURLToPath(new URL(`../examples/patients/${name}`, import.meta.url));
const SCHEMA = example('schema.json');
const MLP_ONNX = fileURLToPath(new URL('./fixtures/models/mlp.onnx', import.meta.url));

/** A two-constraint circuit, a twin of the same size with another constant, and a circuit of another size. */
const TINY =
  'pragma circom 2.1.0;\ntemplate Tiny() {\n    signal input a;\n    signal input b;\n    signal output c;\n    signal d;\n    d <== a * b;\n    c <== d * a + 3;\n}\ncomponent main {public [a]} = Tiny();\n';
const TWIN = TINY.replace('d * a + 3', 'd * a + 4').replaceAll('Tiny', 'Twin');
const OTHER =
  'pragma circom 2.1.0;\ntemplate Other() {\n    signal input a;\n    signal output c;\n    signal s;\n    s <== a * a;\n    c <== s * s;\n}\ncomponent main = Other();\n';

let scratch: string;
let ptau: string;
let tinyPath: string;
let tiny: CompiledCircuit;

/** Parse a command's --json stdout, failing with its stderr when it is not JSON. */
function json<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

/** The file offset of the 64-byte transcript field of contribution `index` (from 1) in a zkey's section 10. */
async function contributionTranscriptOffset(zkeyPath: string, index: number): Promise<number> {
  const data = await readFile(zkeyPath);
  let position = 12;
  for (let s = 0; s < data.readUInt32LE(8); s += 1) {
    const type = data.readUInt32LE(position);
    const size = Number(data.readBigUInt64LE(position + 4));
    if (type === 10) {
      let offset = position + 12 + 68;
      for (let i = 1; i < index; i += 1) offset += 320 + 64 + 8 + data.readUInt32LE(offset + 320 + 64 + 4);
      return offset + 320;
    }
    position += 12 + size;
  }
  throw new Error(`${zkeyPath} has no section 10`);
}

/** A whole ceremony run with the library in one folder: init, two contributions, a beacon, finalize. */
async function quickCeremony(
  r1csPath: string,
  name: string,
  folder: string,
): Promise<{ zkey: string; vkey: string; transcript: string }> {
  await mkdir(folder, { recursive: true });
  const info = await readR1csInfo(r1csPath);
  const circuit = { name, r1csPath, info };
  await ceremonyInit(circuit, ptau, join(folder, '0000.zkey'));
  await ceremonyContribute(join(folder, '0000.zkey'), join(folder, '0001.zkey'), { name: 'alice' });
  await ceremonyContribute(join(folder, '0001.zkey'), join(folder, '0002.zkey'), { name: 'bob' });
  await ceremonyBeacon(join(folder, '0002.zkey'), join(folder, 'final.zkey'), {
    hashHex: 'ab'.repeat(32),
    iterationsExp: 10,
  });
  const done = await finalizeCeremony(join(folder, 'final.zkey'), circuit, ptau);
  return { zkey: join(folder, 'final.zkey'), vkey: done.vkeyPath, transcript: done.transcriptPath };
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-ceremony-'));
  const found = await findDevPtau(resolveCacheDir(), 3);
  if (!found) throw new Error("the tests' development ptau is missing (test/global-setup.ts makes it)");
  ptau = found.path;
  tinyPath = join(scratch, 'tiny.circom');
  await writeFile(tinyPath, TINY);
  await writeFile(join(scratch, 'twin.circom'), TWIN);
  await writeFile(join(scratch, 'other.circom'), OTHER);
  await writeFile(join(scratch, 'input.json'), JSON.stringify({ a: 3, b: 5 }));
  tiny = await compileCircuit(tinyPath);
});
afterAll(async () => {
  await releaseCurves();
  await rm(scratch, { recursive: true, force: true });
});

describe('reading a zkey and labelling keys', () => {
  it('reads the contribution chain with the hashes snarkjs returns, names and beacon', async () => {
    const dir = join(scratch, 'read');
    await mkdir(dir);
    await snarkjs.zKey.newZKey(tiny.r1csPath, ptau, join(dir, '0.zkey'));
    const first = (await snarkjs.zKey.contribute(
      join(dir, '0.zkey'),
      join(dir, '1.zkey'),
      'first',
      'some entropy',
    )) as Uint8Array;
    const beacon = (await snarkjs.zKey.beacon(
      join(dir, '1.zkey'),
      join(dir, '2.zkey'),
      'the beacon',
      '0a0b0c',
      11,
    )) as Uint8Array;
    const info = await readZkeyInfo(join(dir, '2.zkey'));
    expect(info.contributions).toEqual([
      { index: 1, type: 'contribution', name: 'first', hash: Buffer.from(first).toString('hex') },
      {
        index: 2,
        type: 'beacon',
        name: 'the beacon',
        hash: Buffer.from(beacon).toString('hex'),
        beacon: { hash: '0a0b0c', iterationsExp: 11 },
      },
    ]);
    expect(info).toMatchObject({ nVars: tiny.info.wires, nPublic: 2, domainSize: 8 });
    expect((await readZkeyInfo(join(dir, '0.zkey'))).contributions).toEqual([]);
    await expect(readZkeyInfo(tiny.r1csPath)).rejects.toThrow(InputFileError);
  });

  it('a ceremony key is production only with two contributions, a final beacon and a production ptau', () => {
    const step = (index: number, type: ZkeyContribution['type']): ZkeyContribution => ({
      index,
      type,
      hash: String(index).repeat(128),
    });
    const full = [step(1, 'contribution'), step(2, 'contribution'), step(3, 'beacon')];
    expect(ceremonyPhase2Trust(full, 'production')).toMatchObject({
      trust: 'production',
      singleParty: false,
      problems: [],
    });
    expect(ceremonyPhase2Trust(full, 'development')).toMatchObject({ trust: 'development', singleParty: false });
    expect(ceremonyPhase2Trust([step(1, 'contribution'), step(2, 'beacon')], 'production')).toMatchObject({
      trust: 'development',
      singleParty: true,
    });
    expect(ceremonyPhase2Trust(full.slice(0, 2), 'production').problems).toEqual([
      'the chain does not end with a public random beacon (zkai ceremony beacon)',
    ]);
    expect(ceremonyPhase2Trust([step(1, 'beacon')], 'production').problems[0]).toMatch(/no secret contribution/);
    const production = { ptau: { developmentOnly: false }, phase2: ceremonyPhase2Trust(full, 'production') };
    expect(keyWarnings(production)).toEqual([]);
  });

  it('keys of the automatic setup are single-party DEVELOPMENT: in the keys, meta.json, the setup output and --json', async () => {
    const keys = await setupCircuit(tiny);
    expect(keys.phase2).toMatchObject({
      source: 'automatic',
      singleParty: true,
      trust: 'development',
      contributions: 1,
    });
    expect(keyWarnings(keys)).toContain(SINGLE_PARTY_WARNING);
    const meta = JSON.parse(await readFile(join(keys.dir, 'meta.json'), 'utf8')) as {
      phase2?: { singleParty: boolean };
    };
    expect(meta.phase2?.singleParty).toBe(true);
    const human = await runCli(['--quiet', 'setup', tinyPath]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`WARNING: ${SINGLE_PARTY_WARNING}`);
    const machine = json<{ singleParty: boolean; phase2: { trust: string } }>(
      await runCli(['--quiet', '--json', 'setup', tinyPath]),
    );
    expect(machine).toMatchObject({ singleParty: true, phase2: { trust: 'development' } });
  });
});

describe('a ceremony across three folders (CLI)', () => {
  const folders = { coordinator: '', alice: '', bob: '', carol: '' };
  const hashes: Record<string, string> = {};
  let transcriptPath: string;
  let finalZkey: string;
  let vkeyPath: string;

  beforeAll(async () => {
    for (const name of Object.keys(folders) as Array<keyof typeof folders>) {
      folders[name] = join(scratch, name);
      await mkdir(folders[name]);
    }
  });

  it('init, three contributors each in their own folder, a beacon and finalize; the transcript re-verifies', async () => {
    const { coordinator, alice, bob, carol } = folders;
    const init = await runCli(
      ['--quiet', '--json', 'ceremony', 'init', tinyPath, '--ptau', ptau, '--out', '0000.zkey'],
      { cwd: coordinator },
    );
    expect(json<{ contributions: number; ptau: { trust: string } }>(init)).toMatchObject({
      contributions: 0,
      ptau: { trust: 'development' },
    });
    // The initial zkey is a valid chain, but with no secret contribution: its key is never recorded as trusted.
    const initial = await runCli([
      '--quiet',
      '--json',
      'ceremony',
      'verify',
      join(coordinator, '0000.zkey'),
      '--circuit',
      tinyPath,
      '--ptau',
      ptau,
    ]);
    expect(json<{ valid: boolean; trustStore: { recorded: boolean; reason: string } }>(initial)).toMatchObject({
      valid: true,
      trustStore: { recorded: false, reason: expect.stringContaining('no secret contribution') },
    });

    // Each participant gets the previous zkey as a file, contributes in its own folder and hands the result on.
    let previous = join(coordinator, '0000.zkey');
    const order: Array<[string, string]> = [
      ['alice', alice],
      ['bob', bob],
      ['carol', carol],
    ];
    for (const [index, [name, folder]] of order.entries()) {
      const input = `000${index}.zkey`;
      const output = `000${index + 1}.zkey`;
      await copyFile(previous, join(folder, input));
      const step = await runCli(
        [
          '--quiet',
          '--json',
          'ceremony',
          'contribute',
          input,
          output,
          '--name',
          name,
          ...(name === 'bob' ? ['--entropy', 'bob types something'] : []),
        ],
        { cwd: folder },
      );
      const result = json<{ contribution: ZkeyContribution; chain: ZkeyContribution[] }>(step);
      expect(step.code, step.stderr).toBe(0);
      expect(result.contribution).toMatchObject({ index: index + 1, type: 'contribution', name });
      expect(result.chain.map((c) => c.name)).toEqual(order.slice(0, index + 1).map(([n]) => n));
      hashes[name] = result.contribution.hash;
      // Each contribution is recorded as this machine's own (the tests' cache is every participant's here).
      expect(await isOwnContribution(undefined, result.contribution.hash)).toBe(true);
      // The entropy is never written: a participant's folder holds the zkey received and the zkey made, nothing else.
      expect((await readdir(folder)).sort()).toEqual([input, output]);
      previous = join(folder, output);
    }
    expect(new Set(Object.values(hashes)).size).toBe(3);

    await copyFile(previous, join(coordinator, '0003.zkey'));
    const beacon = await runCli(
      [
        '--quiet',
        '--json',
        'ceremony',
        'beacon',
        '0003.zkey',
        'final.zkey',
        '--hash',
        '0x' + 'cd'.repeat(32),
        '--iterations',
        '10',
      ],
      { cwd: coordinator },
    );
    expect(json<{ contribution: ZkeyContribution }>(beacon).contribution).toMatchObject({
      index: 4,
      type: 'beacon',
      beacon: { hash: 'cd'.repeat(32), iterationsExp: 10 },
    });

    const finalize = await runCli(
      ['--quiet', 'ceremony', 'finalize', 'final.zkey', '--circuit', tinyPath, '--ptau', ptau],
      { cwd: coordinator },
    );
    expect(finalize.code, finalize.stderr).toBe(0);
    expect(finalize.stdout).toContain('ceremony finalized: final.zkey verified against');
    expect(finalize.stdout).toContain('key trust      DEVELOPMENT-ONLY: the ptau is DEVELOPMENT-ONLY');
    expect(finalize.stdout).toContain(
      `trust store    recorded in ${trustStorePath()}: verify commands on this machine accept its verification key`,
    );
    expect(finalize.stdout).toContain('its chain holds 3 contributions made on this machine');
    finalZkey = join(coordinator, 'final.zkey');
    vkeyPath = join(coordinator, 'final.vkey.json');
    transcriptPath = join(coordinator, 'final.transcript.json');

    const transcript = await readCeremonyTranscript(transcriptPath);
    expect(transcript.contributions.map((c) => [c.name, c.hash])).toEqual([
      ['alice', hashes.alice],
      ['bob', hashes.bob],
      ['carol', hashes.carol],
      ['final beacon', (await readZkeyInfo(finalZkey)).contributions[3]!.hash],
    ]);
    expect(transcript.contributions[3]).toMatchObject({
      type: 'beacon',
      beacon: { hash: 'cd'.repeat(32), iterationsExp: 10 },
    });
    expect(transcript.circuit.r1csBlake2b512).toBe(await blake2b512File(tiny.r1csPath));
    expect(transcript.ptau.blake2b512).toBe(await blake2b512File(ptau));
    expect(transcript.zkey.blake2b512).toBe(await blake2b512File(finalZkey));
    expect(transcript.phase2).toMatchObject({
      contributions: 3,
      beacon: true,
      singleParty: false,
      trust: 'development',
      problems: ['the ptau is DEVELOPMENT-ONLY (not a pinned published ceremony file)'],
    });
    expect(JSON.parse(await readFile(vkeyPath, 'utf8'))).toEqual(await snarkjs.zKey.exportVerificationKey(finalZkey));

    // Anyone re-verifies from the source, the ptau, the transcript and the verification key; alice finds her hash.
    const verify = await runCli([
      '--quiet',
      '--json',
      'ceremony',
      'verify',
      finalZkey,
      '--circuit',
      tinyPath,
      '--ptau',
      ptau,
      '--transcript',
      transcriptPath,
      '--vkey',
      vkeyPath,
      '--contribution',
      hashes.alice!,
    ]);
    const verdict = json<{
      valid: boolean;
      problems: string[];
      singleParty: boolean;
      checked: { transcript: boolean; vkey: boolean; contributions: string[] };
    }>(verify);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verdict).toMatchObject({
      valid: true,
      problems: [],
      singleParty: false,
      checked: { transcript: true, vkey: true, contributions: [hashes.alice] },
    });
    // A valid chain's key is recorded in the trust store, with the contributions made on this machine.
    const vkeyId = verificationKeyId(JSON.parse(await readFile(vkeyPath, 'utf8')) as Groth16VerificationKey);
    expect(json<{ trustStore: unknown }>(verify).trustStore).toEqual({
      recorded: true,
      path: trustStorePath(),
      keyId: vkeyId,
      ownContributions: [hashes.alice, hashes.bob, hashes.carol],
      contributionsChecked: [hashes.alice],
    });
    expect(await isVerifiedCeremonyKey(undefined, vkeyId)).toBe(true);
    const human = await runCli([
      '--quiet',
      'ceremony',
      'verify',
      finalZkey,
      '--circuit',
      tiny.r1csPath,
      '--ptau',
      ptau,
      '--transcript',
      transcriptPath,
    ]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^OK: .*final\.zkey is a valid phase-2 chain of 4 steps for tiny/);
    expect(human.stdout).toContain(`#2 contribution "bob": ${hashes.bob}`);
    expect(human.stdout).toContain('WARNING: DEVELOPMENT-ONLY powers of tau');
  });

  it('a zkey of an earlier step passed off as final, and a chain that skipped a contributor, are detected', async () => {
    // Carol's zkey (before the beacon) and bob's (before carol) against the final transcript.
    for (const [zkey, missing] of [
      [join(folders.carol, '0003.zkey'), 'beacon'],
      [join(folders.bob, '0002.zkey'), '"carol"'],
    ] as const) {
      const run = await runCli([
        '--quiet',
        '--json',
        'ceremony',
        'verify',
        zkey,
        '--circuit',
        tinyPath,
        '--ptau',
        ptau,
        '--transcript',
        transcriptPath,
      ]);
      expect(run.code).toBe(1);
      const verdict = json<{ valid: boolean; problems: string[] }>(run);
      expect(verdict.valid).toBe(false);
      expect(verdict.problems.join('\n')).toMatch(/it is the zkey of an earlier step, not the final one/);
      expect(verdict.problems.join('\n')).toContain(missing);
    }
    // A coordinator who skips bob and carol: alice's zkey straight to the beacon. The chain itself is valid...
    const skipped = join(folders.coordinator, 'skipped.zkey');
    await ceremonyBeacon(join(folders.alice, '0001.zkey'), skipped, { hashHex: 'cd'.repeat(32), iterationsExp: 10 });
    const alone = await runCli([
      '--quiet',
      '--json',
      'ceremony',
      'verify',
      skipped,
      '--circuit',
      tinyPath,
      '--ptau',
      ptau,
    ]);
    expect(alone.code, alone.stdout).toBe(0);
    expect(json<{ singleParty: boolean }>(alone).singleParty).toBe(true);
    // ...but it is not the transcript's, and bob does not find his contribution in it.
    const against = await runCli([
      '--quiet',
      '--json',
      'ceremony',
      'verify',
      skipped,
      '--circuit',
      tinyPath,
      '--ptau',
      ptau,
      '--transcript',
      transcriptPath,
      '--contribution',
      hashes.bob!,
    ]);
    expect(against.code).toBe(1);
    const problems = json<{ problems: string[] }>(against).problems.join('\n');
    expect(problems).toContain(`the contribution ${hashes.bob!.slice(0, 16)}... is not in the zkey's chain`);
    expect(problems).toMatch(/step #2: the transcript lists #2 contribution "bob" .*, the zkey holds #2 beacon/);
  });

  it('a forged transcript and a forged chain are detected', async () => {
    const transcript = JSON.parse(await readFile(transcriptPath, 'utf8')) as CeremonyTranscript;
    // A transcript that claims a contribution the zkey does not hold (another hash for carol).
    const claimed = structuredClone(transcript);
    claimed.contributions[2]!.hash = 'ee'.repeat(64);
    await writeFile(join(scratch, 'claimed.transcript.json'), JSON.stringify(claimed));
    const run = await runCli([
      '--quiet',
      '--json',
      'ceremony',
      'verify',
      finalZkey,
      '--circuit',
      tinyPath,
      '--ptau',
      ptau,
      '--transcript',
      join(scratch, 'claimed.transcript.json'),
    ]);
    expect(run.code).toBe(1);
    expect(json<{ problems: string[] }>(run).problems).toEqual([
      expect.stringMatching(
        /^step #3: the transcript lists #3 contribution "carol" eeeeeeeeeeeeeeee\.\.\., the zkey holds #3 contribution "carol" /,
      ),
    ]);
    // A transcript that renames a contributor, and one that lists a contribution too many.
    const renamed = structuredClone(transcript);
    renamed.contributions[0]!.name = 'mallory';
    const longer = structuredClone(transcript);
    longer.contributions.push({ index: 5, type: 'contribution', name: 'dave', hash: 'dd'.repeat(64) });
    for (const [name, forged, pattern] of [
      ['renamed', renamed, /step #1: the transcript lists #1 contribution "mallory"/],
      ['longer', longer, /holds only 4 of the transcript's 5 steps/],
    ] as const) {
      await writeFile(join(scratch, `${name}.transcript.json`), JSON.stringify(forged));
      const result = await runCli([
        '--quiet',
        '--json',
        'ceremony',
        'verify',
        finalZkey,
        '--circuit',
        tinyPath,
        '--ptau',
        ptau,
        '--transcript',
        join(scratch, `${name}.transcript.json`),
      ]);
      expect(result.code).toBe(1);
      expect(json<{ problems: string[] }>(result).problems.join('\n')).toMatch(pattern);
    }
    // A transcript that is not one: the file and the field are named.
    await writeFile(
      join(scratch, 'bad.transcript.json'),
      JSON.stringify({ ...transcript, contributions: [{ ...transcript.contributions[0], hash: 'xyz' }] }),
    );
    const bad = await runCli([
      '--quiet',
      'ceremony',
      'verify',
      finalZkey,
      '--circuit',
      tinyPath,
      '--ptau',
      ptau,
      '--transcript',
      join(scratch, 'bad.transcript.json'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      "bad.transcript.json: the ceremony transcript's contributions[0].hash must be a blake2b-512 hash",
    );

    // A chain that breaks: bob's recorded transcript hash altered in the final zkey. snarkjs reports it with
    // console.log, which must not leak into --json.
    const broken = join(scratch, 'broken.zkey');
    await copyFile(finalZkey, broken);
    const offset = await contributionTranscriptOffset(broken, 2);
    const handle = await open(broken, 'r+');
    try {
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, offset);
      byte[0] = (byte[0] as number) ^ 0xff;
      await handle.write(byte, 0, 1, offset);
    } finally {
      await handle.close();
    }
    const chain = await runCli([
      '--quiet',
      '--json',
      'ceremony',
      'verify',
      broken,
      '--circuit',
      tinyPath,
      '--ptau',
      ptau,
    ]);
    expect(chain.code).toBe(1);
    const verdict = json<{ valid: boolean; problems: string[] }>(chain);
    expect(verdict.valid).toBe(false);
    expect(verdict.problems.join('\n')).toMatch(
      /does not verify against the r1cs and the ptau .*INVALID\(1\): Inconsistent transcript/,
    );
    const finalizeBroken = await runCli([
      '--quiet',
      'ceremony',
      'finalize',
      broken,
      '--circuit',
      tinyPath,
      '--ptau',
      ptau,
      '--transcript-out',
      join(scratch, 'broken.transcript.json'),
    ]);
    expect(finalizeBroken.code).toBe(1);
    expect(finalizeBroken.stderr).toContain('the ceremony does not verify, nothing was written');
    await expect(readFile(join(scratch, 'broken.transcript.json'))).rejects.toThrow();
    const prove = await runCli([
      '--quiet',
      'prove',
      tinyPath,
      '-i',
      join(scratch, 'input.json'),
      '--zkey',
      broken,
      '--ptau',
      ptau,
      '-p',
      join(scratch, 'x.json'),
      '--public',
      join(scratch, 'y.json'),
    ]);
    expect(prove.code).toBe(1);
    expect(prove.stderr).toMatch(/broken\.zkey: the proving key does not verify against/);
  });

  it("zkai prove --zkey proves with the ceremony key; the proof verifies with the ceremony's verification key, not with another", async () => {
    const proofPath = join(scratch, 'proof.json');
    const publicPath = join(scratch, 'public.json');
    const run = await runCli([
      '--quiet',
      '--json',
      'prove',
      tinyPath,
      '-i',
      join(scratch, 'input.json'),
      '--zkey',
      finalZkey,
      '--ptau',
      ptau,
      '-p',
      proofPath,
      '--public',
      publicPath,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const result = json<{
      vkey: string;
      singleParty: boolean;
      phase2: { source: string };
      ceremony: { contributions: number; vkeyFromCeremony: boolean };
      verifyWith: { argv: string[] };
    }>(run);
    expect(result).toMatchObject({
      vkey: vkeyPath,
      singleParty: false,
      phase2: { source: 'ceremony' },
      ceremony: { contributions: 4, vkeyFromCeremony: true },
    });
    expect(result.verifyWith.argv).toEqual([
      'zkai',
      'verify',
      '--vkey',
      vkeyPath,
      '--proof',
      proofPath,
      '--public',
      publicPath,
    ]);
    // This machine finalized and verified the ceremony (above): its key is trusted as a verified ceremony's.
    const ok = await runCli(['verify', '--vkey', vkeyPath, '--proof', proofPath, '--public', publicPath]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(
      /^OK: the proof is valid\n {2}key {10}a ceremony you verified \(circuit tiny, zkai ceremony verify on [^;]+, against its transcript; its chain holds your own contributions [0-9a-f]{16}\.\.\., [0-9a-f]{16}\.\.\., [0-9a-f]{16}\.\.\.\); no statement ties it to a circuit here: it proves whatever circuit it was made for\n$/,
    );
    // A verifier with its own cache has not verified it: refused, until it checks the ceremony (requiring alice's
    // contribution, as alice would), after which its verify says so.
    const fresh = join(scratch, 'verifier-cache');
    const refused = await runCli([
      '--cache-dir',
      fresh,
      '--json',
      'verify',
      '--vkey',
      vkeyPath,
      '--proof',
      proofPath,
      '--public',
      publicPath,
    ]);
    expect(refused.code).toBe(1);
    expect(json<{ error: { code: string } }>(refused).error.code).toBe('UNTRUSTED_KEY');
    expect(refused.stdout).not.toContain('"valid"');
    const checked = await runCli([
      '--cache-dir',
      fresh,
      '--quiet',
      'ceremony',
      'verify',
      finalZkey,
      '--circuit',
      tiny.r1csPath,
      '--ptau',
      ptau,
      '--transcript',
      transcriptPath,
      '--contribution',
      hashes.alice!,
    ]);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain(`trust store    recorded in ${trustStorePath(fresh)}`);
    expect(checked.stdout).toContain('its chain holds the 1 contribution you required');
    const accepted = await runCli([
      '--cache-dir',
      fresh,
      '--json',
      'verify',
      '--vkey',
      vkeyPath,
      '--proof',
      proofPath,
      '--public',
      publicPath,
    ]);
    expect(accepted.code, accepted.stderr).toBe(0);
    const keySource = json<{ valid: boolean; keySource: { source: string; detail: string } }>(accepted);
    expect(keySource).toMatchObject({ valid: true, keySource: { source: 'verified-ceremony' } });
    expect(keySource.keySource.detail).toContain(
      `its chain holds the contribution you required ${hashes.alice!.slice(0, 16)}...`,
    );
    // The automatic setup's key of the same circuit is another key: the proof does not verify with it.
    const automatic = await setupCircuit(tiny);
    const other = await runCli(['verify', '--vkey', automatic.vkeyPath, '--proof', proofPath, '--public', publicPath]);
    expect(other.code).toBe(1);
    // The human output names the ceremony key; the second run uses the check remembered in the cache.
    const again = await runCli([
      '--quiet',
      'prove',
      tinyPath,
      '-i',
      join(scratch, 'input.json'),
      '--zkey',
      finalZkey,
      '--ptau',
      ptau,
      '-p',
      proofPath,
      '--public',
      publicPath,
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      /ceremony key {2}.*final\.zkey: 4 steps \("alice", "bob", "carol", beacon\), checked earlier \(remembered in the cache\)/,
    );
    expect(again.stdout).not.toContain(SINGLE_PARTY_WARNING);
    // --zkey without the ptau to check it against is refused.
    const noPtau = await runCli([
      '--quiet',
      'prove',
      tinyPath,
      '-i',
      join(scratch, 'input.json'),
      '--zkey',
      finalZkey,
      '-p',
      proofPath,
      '--public',
      publicPath,
    ]);
    expect(noPtau.code).toBe(1);
    expect(noPtau.stderr).toContain('needs --ptau: the ptau the ceremony started from');
  });

  it('a zkey of another circuit is refused: of another size at once, of the same size by the full check', async () => {
    for (const circuit of ['other.circom', 'twin.circom']) {
      const run = await runCli([
        '--quiet',
        '--json',
        'prove',
        join(scratch, circuit),
        '-i',
        join(scratch, 'input.json'),
        '--zkey',
        finalZkey,
        '--ptau',
        ptau,
        '-p',
        join(scratch, 'x.json'),
        '--public',
        join(scratch, 'y.json'),
      ]);
      expect(run.code).toBe(1);
      const { error } = json<{ error: { code: string; message: string; hint: string } }>(run);
      expect(error.code).toBe('ZKEY_MISMATCH');
      expect(error.message).toContain('this proving key is not for the circuit this command proves with');
      expect(error.message).toMatch(
        circuit === 'other.circom' ? /it has \d+ wires, the circuit has \d+/ : /Circuit does not match/,
      );
      expect(error.hint).toMatch(/zkai ceremony init \S+\.r1cs --ptau PTAU --out 0000\.zkey/);
    }
  });
});

describe("--zkey on the generated circuits' commands", () => {
  let bundlePath: string;
  let commitmentPath: string;

  beforeAll(async () => {
    const lines = (await readFile(example('patients.csv'), 'utf8')).trimEnd().split('\n');
    const data = join(scratch, 'three.csv');
    await writeFile(data, `${lines.slice(0, 4).join('\n')}\n`);
    bundlePath = join(scratch, 'three.bundle.json');
    commitmentPath = join(scratch, 'three.commitment.json');
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
  }, 600_000);

  /** The r1cs a refused --zkey names in its hint (the circuit the command needs a ceremony for). */
  function r1csOfHint(run: CliRun): string {
    const { error } = json<{ error: { code: string; hint: string; message: string } }>(run);
    expect(error.code, error.message).toBe('ZKEY_MISMATCH');
    const match = /zkai ceremony init (\S+\.r1cs) /.exec(error.hint);
    if (!match) throw new Error(`no r1cs in the hint: ${error.hint}`);
    return match[1] as string;
  }

  it("data include: a wrong key names the circuit; its own ceremony key proves, and the hint verifies with the ceremony's key", async () => {
    const wrong = await runCli(
      [
        '--quiet',
        '--json',
        'data',
        'include',
        '--schema',
        SCHEMA,
        '--bundle',
        bundlePath,
        '--subject',
        'P00002',
        '--out',
        join(scratch, 'inc.json'),
        '--zkey',
        tiny.wasmPath,
        '--ptau',
        ptau,
      ],
      LONG,
    );
    expect(wrong.code).toBe(1); // not a zkey at all
    expect(json<{ error: { message: string } }>(wrong).error.message).toContain('not a zkey file');
    const folder = join(scratch, 'inclusion-ceremony');
    const tinyKey = join(folders(), 'final.zkey');
    const mismatch = await runCli(
      [
        '--quiet',
        '--json',
        'data',
        'include',
        '--schema',
        SCHEMA,
        '--bundle',
        bundlePath,
        '--subject',
        'P00002',
        '--out',
        join(scratch, 'inc.json'),
        '--zkey',
        tinyKey,
        '--ptau',
        ptau,
      ],
      LONG,
    );
    expect(mismatch.code).toBe(1);
    const ceremony = await quickCeremony(r1csOfHint(mismatch), 'inclusion', folder);

    const proofPath = join(scratch, 'inc.json');
    const run = await runCli(
      [
        '--quiet',
        '--json',
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
        '--zkey',
        ceremony.zkey,
        '--ptau',
        ptau,
      ],
      LONG,
    );
    expect(run.code, run.stderr).toBe(0);
    const result = json<{ vkey: string; singleParty: boolean; verifyWith: { argv: string[] } }>(run);
    expect(result.vkey).toBe(ceremony.vkey);
    expect(result.singleParty).toBe(false);
    const argv = result.verifyWith.argv.slice(1).map((word) => (word === 'COMMITMENT.json' ? commitmentPath : word));
    expect(argv).toContain(ceremony.vkey);
    // The ceremony ran through the library, which records nothing: the verifier has not checked it, so the key is
    // refused and nothing is claimed...
    const refused = await runCli(['--json', ...argv]);
    expect(refused.code).toBe(1);
    expect(json<{ error: { code: string } }>(refused).error.code).toBe('UNTRUSTED_KEY');
    // ...until it verifies the ceremony (from the circuit's r1cs, the ptau and the transcript, requiring a contribution
    // it trusts: alice's, as alice would) on its machine.
    const alice = (await readZkeyInfo(ceremony.zkey)).contributions[0]!.hash;
    const checked = await runCli([
      '--quiet',
      '--json',
      'ceremony',
      'verify',
      ceremony.zkey,
      '--circuit',
      r1csOfHint(mismatch),
      '--ptau',
      ptau,
      '--transcript',
      ceremony.transcript,
      '--contribution',
      alice,
    ]);
    expect(json<{ valid: boolean; trustStore: { recorded: boolean } }>(checked)).toMatchObject({
      valid: true,
      trustStore: { recorded: true },
    });
    const verify = await runCli(argv);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^OK: the proof is valid/);
    expect(verify.stdout).toMatch(
      /\n {2}key {10}a ceremony you verified \(circuit inclusion_[0-9a-f]+, zkai ceremony verify on .*, against its transcript; its chain holds the contribution you required [0-9a-f]{16}\.\.\.\); its r1cs is the circuit generated from your schema \(inclusion circuit\)\n/,
    );
  });

  it('data prove (whole and chunked) and model prove refuse a key of another circuit; model prove proves with its own ceremony key', async () => {
    const tinyKey = join(folders(), 'final.zkey');
    const policy = join(scratch, 'adults.json');
    await writeFile(policy, JSON.stringify({ name: 'adults', rules: [{ field: 'age', op: 'GTE', value: 18 }] }));
    const whole = await runCli(
      [
        '--quiet',
        '--json',
        'data',
        'prove',
        '--schema',
        SCHEMA,
        '--policy',
        policy,
        '--bundle',
        bundlePath,
        '--out',
        join(scratch, 'd.json'),
        '--zkey',
        tinyKey,
        '--ptau',
        ptau,
      ],
      LONG,
    );
    expect(whole.code, whole.stderr).toBe(1);
    r1csOfHint(whole);
    const chunked = await runCli(
      [
        '--quiet',
        '--json',
        'data',
        'prove',
        '--schema',
        SCHEMA,
        '--policy',
        policy,
        '--bundle',
        bundlePath,
        '--chunk-depth',
        '1',
        '--out',
        join(scratch, 'c.json'),
        '--zkey',
        tinyKey,
        '--ptau',
        ptau,
      ],
      LONG,
    );
    expect(chunked.code, chunked.stderr).toBe(1);
    expect(r1csOfHint(chunked)).not.toBe(r1csOfHint(whole)); // the chunk circuit is another circuit

    // Private chunks (a policy with an aggregate): the root circuit's ceremony key is checked against the root
    // circuit, whose r1cs the refusal names; the aggregation keys belong to private chunks only.
    const counted = join(scratch, 'adults-counted.json');
    await writeFile(
      counted,
      JSON.stringify({
        name: 'adults counted',
        rules: [{ field: 'age', op: 'GTE', value: 18 }],
        aggregates: [{ kind: 'MEAN', field: 'age', min: '18', max: '120' }],
      }),
    );
    const privateArgs = (...extra: string[]) => chunkArgs(counted, ...extra);
    const chunkArgs = (policyPath: string, ...extra: string[]) => [
      '--quiet',
      '--json',
      'data',
      'prove',
      '--schema',
      SCHEMA,
      '--policy',
      policyPath,
      '--bundle',
      bundlePath,
      '--chunk-depth',
      '1',
      '--out',
      join(scratch, 'pc.json'),
      '--ptau',
      ptau,
      ...extra,
    ];
    const root = await runCli(privateArgs('--root-zkey', tinyKey), LONG);
    expect(root.code, root.stderr).toBe(1);
    expect(r1csOfHint(root)).toMatch(/dataset_root_[0-9a-f]+\.r1cs$/);
    // A policy with no aggregate has chunks that publish roots and counts only: no aggregation circuits.
    const open = await runCli(chunkArgs(policy, '--node-zkey', tinyKey), LONG);
    expect(open.code).toBe(1);
    expect(json<{ error: { code: string; message: string } }>(open).error).toMatchObject({
      code: 'BAD_OPTION',
      message: expect.stringContaining('--node-zkey and --root-zkey are the keys of private chunked proofs'),
    });

    const model = join(scratch, 'mlp.json');
    const imported = await runCli([
      '--quiet',
      'model',
      'import',
      MLP_ONNX,
      '--input-min',
      '-2',
      '--input-max',
      '2',
      '--out',
      model,
    ]);
    expect(imported.code, imported.stderr).toBe(0);
    const input = join(scratch, 'mlp-input.json');
    // Non-negative values: a public-input proof with a negative input does not parse in model verify today (not a key matter).
    await writeFile(input, JSON.stringify([1, 0, 0.5, 2]));
    const proveArgs = (zkey: string, out: string) => [
      '--quiet',
      '--json',
      'model',
      'prove',
      '--model',
      model,
      '--input',
      input,
      '--input-visibility',
      'public',
      '--out',
      out,
      '--zkey',
      zkey,
      '--ptau',
      ptau,
    ];
    const refused = await runCli(proveArgs(tinyKey, join(scratch, 'm.json')), LONG);
    expect(refused.code).toBe(1);
    const ceremony = await quickCeremony(r1csOfHint(refused), 'model', join(scratch, 'model-ceremony'));
    const proofPath = join(scratch, 'm.json');
    const run = await runCli(proveArgs(ceremony.zkey, proofPath), LONG);
    expect(run.code, run.stderr).toBe(0);
    const result = json<{ vkey: string; verifyWith: { argv: string[] } }>(run);
    expect(result.vkey).toBe(ceremony.vkey);
    // This ceremony ran through the library, which records nothing, and checking it again here would only repeat the
    // data include case above: the verifier takes the key on its word (--trust-key), and the verdict says so.
    const verify = await runCli(['--json', ...result.verifyWith.argv.slice(1), '--trust-key']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(json<{ valid: boolean; keySource: { source: string } }>(verify)).toMatchObject({
      valid: true,
      keySource: { source: 'explicit' },
    });
  });

  /** The coordinator folder of the CLI ceremony above (its final.zkey is the tiny circuit's). */
  function folders(): string {
    return join(scratch, 'coordinator');
  }
});
