/**
 * `zkai chain` end to end through the CLI, on the embedded development chain (a REAL anvil whose state is kept in a
 * temporary --chain-dir between commands) with a REAL dataset proof: deploy, context, prove with --context, attest,
 * replay, wrong nonce, list, revoke, and the consent purpose commands.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attestationContext } from '../src/chain/registry.ts';
import { runCli, type CliRun } from './helpers/run-cli.ts';

const example = (name: string) => fileURLToPath(new URL(`../examples/patients/${name}`, import.meta.url));
const SCHEMA = example('schema.json');
const POLICY = example('policy.json');

let scratch: string;
let chainDir: string;
let bundle: string;
/** The chain options of every command: the embedded chain, kept in the scratch folder. */
let on: string[];

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at /);
const json = <T>(run: CliRun): T => {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
};

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'zkai-chain-cli-'));
  chainDir = join(scratch, 'chain');
  on = ['--chain-dir', chainDir];
  // Two records of the example (the same subset as test/data-cli.test.ts, so its circuit is usually cached).
  const lines = (await readFile(example('patients.csv'), 'utf8')).trimEnd().split('\n');
  const data = join(scratch, 'two.csv');
  await writeFile(data, `${[lines[0], lines[1], lines[3]].join('\n')}\n`);
  bundle = join(scratch, 'two.bundle.json');
  const commit = await runCli(['--quiet', 'data', 'commit', '--schema', SCHEMA, '--data', data, '--bundle', bundle]);
  expect(commit.code, commit.stderr).toBe(0);
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

interface Deployment {
  kept: boolean;
  deployment: { registry: string; consent: string; chainId: number; owner: string };
  path: string;
}

describe('zkai chain', () => {
  let deployment: Deployment['deployment'];
  let nonce: string;
  let proofPath: string;
  let uid: string;
  let version: string;

  it('refuses bad options before touching a chain', async () => {
    const context = await runCli(['data', 'prove', '--schema', SCHEMA, '--policy', POLICY, '--bundle', bundle, '--out', join(scratch, 'x.json'), '--context', '21888242871839275222246405745257275088548364400416034343698204186575808495617']);
    expect(context.code).toBe(1);
    expect(context.stderr).toContain('not below the BN254 scalar field');
    noStackTrace(context.stderr);
    const hex = await runCli(['model', 'prove', '--model', 'm.json', '--input', 'i.json', '--out', 'o.json', '--context', '0x12']);
    expect(hex.code).toBe(1);
    expect(hex.stderr).toContain('--context must be a decimal number');
    const nonceBad = await runCli(['chain', 'attest', join(scratch, 'x.json'), '--nonce', '0x12', ...on]);
    expect(nonceBad.code).toBe(1);
    expect(nonceBad.stderr).toContain('--nonce must be 0x followed by 64 hex digits');
    const both = await runCli(['chain', 'context', '--rpc', 'http://127.0.0.1:1', ...on]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('--chain-dir is the embedded chain');
    expect(existsSync(chainDir)).toBe(false);
  });

  it('deploys on the embedded chain, keeps its state, and keeps the deployment on a second deploy', async () => {
    const first = await runCli(['chain', 'deploy', ...on]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/local development chain .*zkai chain deploy --rpc URL/);
    expect(first.stdout).toContain('zkai deployed on chain 31337');
    expect(first.stdout).toMatch(/registry +0x[0-9a-fA-F]{40} +\(\d+ gas\)/);
    expect(existsSync(join(chainDir, 'anvil-state.json'))).toBe(true);
    const file = JSON.parse(await readFile(join(chainDir, 'deployment.json'), 'utf8')) as Deployment['deployment'] & { format: string };
    expect(file.format).toBe('zkai-deployment-v1');

    // The second command starts a new anvil from the saved state: the registry is still there, so it is kept.
    const second = json<Deployment>(await runCli(['--json', 'chain', 'deploy', ...on]));
    expect(second.kept).toBe(true);
    expect(second.deployment.registry).toBe(file.registry);
    deployment = second.deployment;
  });

  it('prints the context for a nonce, and a proof made with it carries it as its last public signal', async () => {
    const human = await runCli(['chain', 'context', ...on]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/--context \d+/);
    expect(human.stdout).toMatch(/zkai chain attest PROOF\.json --nonce 0x[0-9a-f]{64}/);

    const context = json<{ nonce: string; context: string; attester: string; registry: string; chainId: number }>(await runCli(['--json', 'chain', 'context', ...on]));
    expect(context.nonce).toMatch(/^0x[0-9a-f]{64}$/);
    expect(context).toMatchObject({ registry: deployment.registry, chainId: 31337, attester: deployment.owner });
    expect(context.context).toBe(attestationContext(31337, deployment.registry, deployment.owner, context.nonce).toString());
    nonce = context.nonce;

    proofPath = join(scratch, 'proof.json');
    const prove = await runCli(['--json', '--quiet', 'data', 'prove', '--schema', SCHEMA, '--policy', POLICY, '--bundle', bundle, '--out', proofPath, '--context', context.context], { timeoutMs: 600_000 });
    expect(json<{ context: string }>(prove).context).toBe(context.context);
    const proof = JSON.parse(await readFile(proofPath, 'utf8')) as { publicSignals: string[] };
    expect(proof.publicSignals.at(-1)).toBe(context.context);
  }, 600_000);

  it('refuses a proof whose context is not this signer\'s and nonce\'s, before sending anything', async () => {
    const other = `0x${'ab'.repeat(32)}`;
    const refused = await runCli(['chain', 'attest', proofPath, '--nonce', other, ...on]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is bound to context \d+, but attesting as 0x[0-9a-fA-F]{40} with nonce 0x(ab){32}/);
    expect(refused.stderr).toContain('zkai chain context --nonce');
    expect(refused.stderr).not.toContain('[chain] registering');
    noStackTrace(refused.stderr);
  });

  it('attests: registers the circuit and the dataset, then the attestation; a replay is refused', async () => {
    const made = await runCli(['--json', 'chain', 'attest', proofPath, '--nonce', nonce, ...on]);
    const result = json<{ uid: string; gas: string; txHash: string; circuit: { kind: string; registered: boolean }; subject: { version: string; action: string; label: string } }>(made);
    expect(result.uid).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(Number(result.gas)).toBeGreaterThan(100_000);
    expect(result.circuit).toMatchObject({ kind: 'dataset-policy', registered: true });
    expect(result.subject.action).toBe('registered');
    expect(made.stderr).toContain('[chain] registering the dataset-policy circuit');
    expect(made.stderr).not.toContain('local development chain'); // the notice is for people, not with --json
    uid = result.uid;
    version = result.subject.version;

    const replay = await runCli(['chain', 'attest', proofPath, '--nonce', nonce, ...on]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain('was already attested: a proof is accepted once (ProofAlreadyUsed)');
    expect(replay.stderr).not.toContain('[chain] registering');
    noStackTrace(replay.stderr);
  });

  it('lists the attestation, revokes it, and lists it as revoked', async () => {
    const listed = await runCli(['chain', 'attestations', ...on]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${uid}\\s+dataset-policy\\s+\\S+\\s+\\S+\\s+\\S+\\s+valid`));

    const revoked = await runCli(['chain', 'revoke', uid, ...on]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`revoked ${uid} \\(\\d+ gas\\)`));

    const rows = json<Array<{ uid: string; kind: string; subject: string; status: string; valid: boolean }>>(await runCli(['--json', 'chain', 'attestations', '--subject', version, ...on]));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ uid, kind: 'dataset-policy', subject: version, status: 'revoked', valid: false });
  });

  it('creates a consent purpose, grants, revokes and reads its tree', async () => {
    const created = await runCli(['chain', 'consent', 'create', '--purpose', 'research', '--depth', '3', '--window', '3600', ...on]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/consent purpose "research" created: id 0x[0-9a-f]{64}/);

    const granted = json<{ index: number; leaf: string; root: string }>(await runCli(['--json', 'chain', 'consent', 'grant', '--purpose', 'research', '--schema', SCHEMA, '--field', 'patient_id', '--id', 'P00001', ...on]));
    expect(granted.index).toBe(0);

    const revoked = await runCli(['chain', 'consent', 'revoke', '--purpose', 'research', '--index', '0', ...on]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const newRoot = /new root (\d+)/.exec(revoked.stdout)?.[1];
    expect(newRoot).toBeDefined();

    const tree = json<{ root: string; depth: number; leaves: Array<{ index: number; leaf: string; revoked: boolean }> }>(await runCli(['--json', 'chain', 'consent', 'tree', '--purpose', 'research', ...on]));
    expect(tree).toMatchObject({ root: newRoot, depth: 3, leaves: [{ index: 0, leaf: '0', revoked: true }] });
    expect(existsSync(join(chainDir, 'lock'))).toBe(false);
  });
});
