/**
 * `zkai chain` end to end through the CLI, on the embedded development chain (a REAL anvil whose state is kept in a
 * temporary --chain-dir between commands) with a REAL dataset proof: deploy, context, prove with --context, attest,
 * replay, wrong nonce, list, revoke, the consent purpose commands, and a dataset proven against an on-chain consent
 * tree exported as a registry file (consent granted, proven, attested with the consent root checked; then revoked).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wallet } from 'ethers';
import { accountLeaf, purposeId } from '../src/chain/consent.ts';
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
    const context = await runCli([
      'data',
      'prove',
      '--schema',
      SCHEMA,
      '--policy',
      POLICY,
      '--bundle',
      bundle,
      '--out',
      join(scratch, 'x.json'),
      '--context',
      '21888242871839275222246405745257275088548364400416034343698204186575808495617',
    ]);
    expect(context.code).toBe(1);
    expect(context.stderr).toContain('not below the BN254 scalar field');
    noStackTrace(context.stderr);
    const hex = await runCli([
      'model',
      'prove',
      '--model',
      'm.json',
      '--input',
      'i.json',
      '--out',
      'o.json',
      '--context',
      '0x12',
    ]);
    expect(hex.code).toBe(1);
    expect(hex.stderr).toContain('--context must be a decimal number');
    const nonceBad = await runCli(['chain', 'attest', join(scratch, 'x.json'), '--nonce', '0x12', ...on]);
    expect(nonceBad.code).toBe(1);
    expect(nonceBad.stderr).toContain('--nonce must be 0x followed by 64 hex digits');
    const both = await runCli(['chain', 'context', '--rpc', 'http://127.0.0.1:1', ...on]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('--chain-dir is the embedded chain');
    // Registration, curated lists and re-checks refuse bad options before reading any file or starting a chain.
    const refusals: Array<[string[], string]> = [
      [
        ['chain', 'register', 'p.json', '--consent-registry', 'consent'],
        '--consent-registry NAME and --purpose PURPOSE go together',
      ],
      [['chain', 'register', 'p.json', '--zkey', 'final.zkey'], '--zkey final.zkey needs --ptau'],
      [['chain', 'register', 'p.json', '--contribution', 'ab'], '--transcript and --contribution go with --zkey'],
      [['chain', 'register', 'p.json', '--development', '--list', 'opt-out=x'], '--list takes REGISTRY=LIST'],
      [['chain', 'list', 'create', 'optout', '--curator', 'nobody', '--window', '60'], '--curator must be an address'],
      [
        ['chain', 'list', 'create', 'optout', '--curator', `0x${'1'.repeat(40)}`, '--window', '-1'],
        '--window must be an integer',
      ],
      [['chain', 'list', 'publish', 'optout'], 'give --registry FILE'],
      [['chain', 'check-circuit', '0x12'], 'the circuit id must be 0x and 64 hex digits'],
      [['chain', 'consent', 'grant', '--purpose', 'p', '--for', '0x12'], '--for must be an account address'],
      [['chain', 'consent', 'delegate'], 'give exactly one of --to ADDRESS (name a delegate) and --clear'],
      [
        ['chain', 'consent', 'sign', '--out', 'x.json', '--grant', '--revoke', '1', '--purpose', 'p'],
        'give exactly one of --grant, --revoke INDEX, --delegate ADDRESS and --clear-delegate',
      ],
      [['chain', 'consent', 'sign', '--out', 'x.json', '--grant'], '--grant needs --purpose'],
      [
        ['chain', 'consent', 'sign', '--out', 'x.json', '--clear-delegate', '--purpose', 'p'],
        '--purpose does not go with a delegate change',
      ],
      [
        ['chain', 'consent', 'sign', '--out', 'x.json', '--grant', '--purpose', 'p', '--valid', '0'],
        '--valid must be an integer from 1',
      ],
      [
        ['chain', 'consent', 'sign', '--out', 'x.json', '--grant', '--purpose', 'p', '--valid', '2592001'],
        '--valid must be an integer from 1 to 2592000',
      ],
      [
        ['chain', 'consent', 'create', '--purpose', 'p', '--depth', '3', '--window', '4294967296'],
        '--window must be an integer from 0 to 2592000',
      ],
      [['chain', 'consent', 'relay', join(scratch, 'missing.json')], 'missing.json'],
    ];
    for (const [args, message] of refusals) {
      const refused = await runCli([...args, ...on]);
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.stderr, args.join(' ')).toContain(message);
      noStackTrace(refused.stderr);
    }
    expect(existsSync(chainDir)).toBe(false);
  });

  it('deploys on the embedded chain, keeps its state, and keeps the deployment on a second deploy', async () => {
    const first = await runCli(['chain', 'deploy', ...on]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/local development chain .*zkai chain deploy --rpc URL/);
    expect(first.stdout).toContain('zkai deployed on chain 31337');
    expect(first.stdout).toMatch(/registry +0x[0-9a-fA-F]{40} +\(\d+ gas\)/);
    expect(existsSync(join(chainDir, 'anvil-state.json'))).toBe(true);
    const file = JSON.parse(await readFile(join(chainDir, 'deployment.json'), 'utf8')) as Deployment['deployment'] & {
      format: string;
    };
    expect(file.format).toBe('zkai-deployment-v2');

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

    const context = json<{ nonce: string; context: string; attester: string; registry: string; chainId: number }>(
      await runCli(['--json', 'chain', 'context', ...on]),
    );
    expect(context.nonce).toMatch(/^0x[0-9a-f]{64}$/);
    expect(context).toMatchObject({ registry: deployment.registry, chainId: 31337, attester: deployment.owner });
    expect(context.context).toBe(
      attestationContext(31337, deployment.registry, deployment.owner, context.nonce).toString(),
    );
    nonce = context.nonce;

    proofPath = join(scratch, 'proof.json');
    const prove = await runCli(
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
        bundle,
        '--out',
        proofPath,
        '--context',
        context.context,
      ],
      { timeoutMs: 600_000 },
    );
    expect(json<{ context: string }>(prove).context).toBe(context.context);
    const proof = JSON.parse(await readFile(proofPath, 'utf8')) as { publicSignals: string[] };
    expect(proof.publicSignals.at(-1)).toBe(context.context);
  }, 600_000);

  it("refuses a proof whose context is not this signer's and nonce's, before sending anything", async () => {
    const other = `0x${'ab'.repeat(32)}`;
    const refused = await runCli(['chain', 'attest', proofPath, '--nonce', other, ...on]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is bound to context \d+, but attesting as 0x[0-9a-fA-F]{40} with nonce 0x(ab){32}/);
    expect(refused.stderr).toContain('zkai chain context --nonce');
    expect(refused.stderr).not.toContain('[chain] registering');
    noStackTrace(refused.stderr);
  });

  it('refuses to attest a proof of an unregistered circuit, naming the registration from source', async () => {
    const refused = await runCli(['chain', 'attest', proofPath, '--nonce', nonce, ...on]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /the dataset-policy circuit 0x[0-9a-f]{64} of .*proof\.json is not registered on registry/,
    );
    expect(refused.stderr).toContain(`zkai chain register ${proofPath} --schema SCHEMA.json --policy POLICY.json`);
    noStackTrace(refused.stderr);
  });

  it("registers the circuit from source: the owner's own single-party setup only with --development, recorded as DEVELOPMENT on chain", async () => {
    const withoutFlag = await runCli(['chain', 'register', proofPath, '--schema', SCHEMA, '--policy', POLICY, ...on]);
    expect(withoutFlag.code).toBe(1);
    expect(withoutFlag.stderr).toContain(
      'the proving key cannot be registered: your own automatic setup is single-party',
    );
    noStackTrace(withoutFlag.stderr);
    const otherPolicy = await runCli([
      'chain',
      'register',
      proofPath,
      '--schema',
      SCHEMA,
      '--policy',
      example('policy-registries.json'),
      '--development',
      ...on,
    ]);
    expect(otherPolicy.code).toBe(1);
    expect(otherPolicy.stderr).toMatch(
      /the policy you give has hash \d+, but .*proof\.json was proven for policy \d+: this is not the circuit of that proof/,
    );
    const registered = json<{
      registered: boolean;
      kind: string;
      keyTrust: string;
      circuit: string;
      source: { schemaHash: string; policyHash: string; depth: number };
    }>(
      await runCli(
        ['--json', 'chain', 'register', proofPath, '--schema', SCHEMA, '--policy', POLICY, '--development', ...on],
        { timeoutMs: 300_000 },
      ),
    );
    expect(registered).toMatchObject({ registered: true, kind: 'dataset-policy', keyTrust: 'development' });
    const proof = JSON.parse(await readFile(proofPath, 'utf8')) as {
      policy: { hash: string };
      commitment: { schemaHash: string; depth: number };
    };
    expect(registered.source).toMatchObject({
      schemaHash: proof.commitment.schemaHash,
      policyHash: proof.policy.hash,
      depth: proof.commitment.depth,
    });
    const again = json<{ registered: boolean; circuit: string }>(
      await runCli([
        '--json',
        'chain',
        'register',
        proofPath,
        '--schema',
        SCHEMA,
        '--policy',
        POLICY,
        '--development',
        ...on,
      ]),
    );
    expect(again).toMatchObject({ registered: false, circuit: registered.circuit });
    // Anyone re-checks the registration from their own schema and policy.
    const recheck = await runCli([
      'chain',
      'check-circuit',
      registered.circuit,
      '--schema',
      SCHEMA,
      '--policy',
      POLICY,
      ...on,
    ]);
    expect(recheck.code, recheck.stdout + recheck.stderr).toBe(0);
    expect(recheck.stdout).toMatch(/^OK: circuit 0x[0-9a-f]{64} is what your source generates/);
    expect(recheck.stdout).toContain('key trust    DEVELOPMENT');
    const otherPolicy2 = await runCli([
      'chain',
      'check-circuit',
      registered.circuit,
      '--schema',
      SCHEMA,
      '--policy',
      example('policy-registries.json'),
      ...on,
    ]);
    expect(otherPolicy2.code).toBe(1);
    expect(otherPolicy2.stdout).toMatch(/^MISMATCH: .*\n {2}- generator: the registration says/);
  }, 300_000);

  it('attests: registers the dataset, then the attestation; a replay is refused', async () => {
    const made = await runCli(['--json', 'chain', 'attest', proofPath, '--nonce', nonce, ...on]);
    const result = json<{
      uid: string;
      gas: string;
      txHash: string;
      circuit: { kind: string; keyTrust: string };
      subject: { version: string; action: string; label: string };
    }>(made);
    expect(result.uid).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(Number(result.gas)).toBeGreaterThan(100_000);
    expect(result.circuit).toMatchObject({ kind: 'dataset-policy', keyTrust: 'development' });
    expect(result.subject.action).toBe('registered');
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

    const rows = json<Array<{ uid: string; kind: string; subject: string; status: string; valid: boolean }>>(
      await runCli(['--json', 'chain', 'attestations', '--subject', version, ...on]),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ uid, kind: 'dataset-policy', subject: version, status: 'revoked', valid: false });
  });

  it('attests a private chunked proof of a policy with aggregates: the owner registers its chunk, node and root circuits from the policy', async () => {
    const context = json<{ nonce: string; context: string }>(await runCli(['--json', 'chain', 'context', ...on]));
    const chunked = join(scratch, 'chunked.json');
    const prove = await runCli(
      [
        '--quiet',
        'data',
        'prove',
        '--schema',
        SCHEMA,
        '--policy',
        POLICY,
        '--bundle',
        bundle,
        '--out',
        chunked,
        '--chunk-depth',
        '0',
        '--context',
        context.context,
      ],
      { timeoutMs: 600_000 },
    );
    expect(prove.code, prove.stderr).toBe(0);
    const unregistered = await runCli(['chain', 'attest', chunked, '--nonce', context.nonce, ...on]);
    expect(unregistered.code).toBe(1);
    expect(unregistered.stderr).toMatch(/the dataset-private-chunk circuit 0x[0-9a-f]{64} of .* is not registered/);
    noStackTrace(unregistered.stderr);
    // Each circuit takes its own key: a ceremony key for the chunk circuit alone leaves the root without one, and the
    // aggregation keys' flags belong to private chunked proofs only.
    const halfKeyed = await runCli([
      'chain',
      'register',
      chunked,
      '--schema',
      SCHEMA,
      '--policy',
      POLICY,
      '--zkey',
      'chunk.zkey',
      '--ptau',
      'pot.ptau',
      ...on,
    ]);
    expect(halfKeyed.code).toBe(1);
    expect(halfKeyed.stderr).toContain(
      "a private chunked proof's root circuit needs a key too: --root-zkey (its ceremony) or --development",
    );
    // For one circuit, a ceremony key and --development contradict each other (a private chunked proof's circuits may
    // mix them: each its own key).
    const both = await runCli([
      'chain',
      'register',
      proofPath,
      '--schema',
      SCHEMA,
      '--zkey',
      'final.zkey',
      '--ptau',
      'p.ptau',
      '--development',
      ...on,
    ]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('--development registers your own automatic setup: it does not go with --zkey');
    const misplaced = await runCli([
      'chain',
      'register',
      proofPath,
      '--schema',
      SCHEMA,
      '--root-zkey',
      'r.zkey',
      '--ptau',
      'p.ptau',
      ...on,
    ]);
    expect(misplaced.code).toBe(1);
    expect(misplaced.stderr).toMatch(/--root-zkey is for the aggregation circuits of a private chunked proof/);
    // A file whose root proof claims another fan-in (padded signals) cannot make the owner register aggregation
    // circuits no real proof uses: the owner's --fan-in (default 16) must be the file's (found by an attack).
    const padded = JSON.parse(await readFile(chunked, 'utf8')) as {
      aggregation: Array<Array<{ publicSignals: string[] }>>;
    };
    padded.aggregation.at(-1)![0]!.publicSignals.push('0');
    await writeFile(join(scratch, 'padded.json'), JSON.stringify(padded));
    const wider = await runCli(
      [
        'chain',
        'register',
        join(scratch, 'padded.json'),
        '--schema',
        SCHEMA,
        '--policy',
        POLICY,
        '--development',
        ...on,
      ],
      { timeoutMs: 300_000 },
    );
    expect(wider.code).toBe(1);
    expect(wider.stderr).toContain('its root aggregation proof takes 17 children, not the fan-in 16 you register');
    const registered = await runCli(
      ['chain', 'register', chunked, '--schema', SCHEMA, '--policy', POLICY, '--development', ...on],
      { timeoutMs: 300_000 },
    );
    expect(registered.code, registered.stderr).toBe(0);
    expect(registered.stdout).toMatch(
      /registered the dataset-private-chunk circuit 0x[0-9a-f]{64} .* from your source/,
    );
    expect(registered.stdout).toMatch(
      /aggregation {2}root 0x[0-9a-f]{64}, node none \(a proof of more than 16 chunks registers it\) \(fan-in 16\): set \(\d+ gas\)/,
    );
    const made = await runCli(['chain', 'attest', chunked, '--nonce', context.nonce, ...on], { timeoutMs: 300_000 });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/attested .*chunked\.json: uid 0x[0-9a-f]{64}/);
    expect(made.stdout).toMatch(/\(2 chunk proofs and 1 aggregation proof in one transaction\)/);
    // Registering again sends nothing: the three circuits and their aggregation are there.
    const again = await runCli(
      ['chain', 'register', chunked, '--schema', SCHEMA, '--policy', POLICY, '--development', ...on],
      { timeoutMs: 300_000 },
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/is already registered/);
    expect(again.stdout).toMatch(/: set already/);
  }, 600_000);

  it('consent belongs to the subject: grants and revokes its own, a delegate only when named, a signed request relayed once', async () => {
    const created = await runCli([
      'chain',
      'consent',
      'create',
      '--purpose',
      'research',
      '--depth',
      '3',
      '--window',
      '3600',
      ...on,
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/consent purpose "research" created: id 0x[0-9a-f]{64}/);

    // The signer grants as itself: the leaf is derived from its account.
    const granted = json<{ index: number; subject: string; leaf: string; root: string }>(
      await runCli(['--json', 'chain', 'consent', 'grant', '--purpose', 'research', ...on]),
    );
    expect(granted).toMatchObject({
      index: 0,
      subject: deployment.owner,
      leaf: accountLeaf(deployment.owner).toString(),
    });
    const again = await runCli(['chain', 'consent', 'grant', '--purpose', 'research', ...on]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${deployment.owner} already has a live grant for purpose`);

    // The attack: the data holder grants for a subject it holds in its data. Refused: it is not that subject's delegate.
    const subject = Wallet.createRandom();
    const forged = await runCli([
      'chain',
      'consent',
      'grant',
      '--purpose',
      'research',
      '--for',
      subject.address,
      ...on,
    ]);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain(`is neither ${subject.address} nor their delegate (NotSubjectOrDelegate)`);
    noStackTrace(forged.stderr);

    // The subject (an account without ether) names the holder its delegate by a signed request the holder relays.
    const asSubject = { env: { ZKAI_PRIVATE_KEY: subject.privateKey } };
    const delegation = join(scratch, 'delegate.json');
    const signed = await runCli(
      ['chain', 'consent', 'sign', '--delegate', deployment.owner, '--out', delegation, ...on],
      asSubject,
    );
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain(`naming ${deployment.owner} your delegate as ${subject.address}`);
    const relayed = await runCli(['chain', 'consent', 'relay', delegation, ...on]);
    expect(relayed.code, relayed.stderr).toBe(0);
    const byDelegate = json<{ index: number; subject: string }>(
      await runCli(['--json', 'chain', 'consent', 'grant', '--purpose', 'research', '--for', subject.address, ...on]),
    );
    expect(byDelegate).toMatchObject({ index: 1, subject: subject.address });
    // A signed request is used once.
    const replay = await runCli(['chain', 'consent', 'relay', delegation, ...on]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain(
      `carries nonce 0 of ${subject.address}, which is used up (the next is 1): it was relayed already, or cancelled`,
    );
    // A request file signed for another registry is refused before anything is sent.
    const elsewhere = JSON.parse(await readFile(delegation, 'utf8')) as { registry: string };
    elsewhere.registry = `0x${'12'.repeat(20)}`;
    await writeFile(join(scratch, 'elsewhere.json'), JSON.stringify(elsewhere));
    const wrongRegistry = await runCli(['chain', 'consent', 'relay', join(scratch, 'elsewhere.json'), ...on]);
    expect(wrongRegistry.code).toBe(1);
    expect(wrongRegistry.stderr).toContain(
      `was signed for consent registry 0x${'12'.repeat(20)} on chain 31337, but this deployment's is ${deployment.consent}`,
    );

    const revoked = await runCli(['chain', 'consent', 'revoke', '--purpose', 'research', '--index', '0', ...on]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const newRoot = /new root (\d+)/.exec(revoked.stdout)?.[1];
    expect(newRoot).toBeDefined();

    const tree = json<{
      root: string;
      depth: number;
      leaves: Array<{ index: number; leaf: string; subject: string; revoked: boolean }>;
    }>(await runCli(['--json', 'chain', 'consent', 'tree', '--purpose', 'research', ...on]));
    expect(tree).toMatchObject({
      root: newRoot,
      depth: 3,
      leaves: [
        { index: 0, leaf: '0', revoked: true },
        { index: 1, leaf: accountLeaf(subject.address).toString(), subject: subject.address, revoked: false },
      ],
    });
    expect(existsSync(join(chainDir, 'lock'))).toBe(false);
  });

  describe('a dataset proven against the on-chain consent tree, through the CLI', () => {
    // examples/consent: every participant's id is its own account (an address column). Each subject (a fresh account
    // without ether) signs its grant; the data holder relays it. The policy: adults, every account consented (the
    // chain's consent tree), none opted out (a curated list).
    const CONSENT_SCHEMA = fileURLToPath(new URL('../examples/consent/schema.json', import.meta.url));
    const policyPath = () => join(scratch, 'consent-policy.json');
    const consentFile = (name: string) => join(scratch, `${name}.json`);
    const optOut = () => join(scratch, 'optout.registry.json');
    const studyBundle = () => join(scratch, 'study.bundle.json');
    const PURPOSE = 'study';
    /** Two participants in the data, one that consented but is not in it, one opted out and one more on a list. */
    const [first, second, stranger, optedOut, listed] = Array.from({ length: 5 }, () => Wallet.createRandom());
    let contexts: Array<{ nonce: string; context: string }>;
    let firstRoot: string;
    let vkeyPath: string;
    let commitment: { root: string; count: number };

    const tree = (out: string) =>
      runCli([
        '--json',
        'chain',
        'consent',
        'tree',
        '--purpose',
        PURPOSE,
        '--schema',
        CONSENT_SCHEMA,
        '--field',
        'account',
        '--name',
        'consent',
        '--ids',
        join(scratch, 'my-ids.txt'),
        '--out',
        out,
        ...on,
      ]);
    const proveWith = (registry: string, out: string, context: string) =>
      runCli(
        [
          '--json',
          '--quiet',
          'data',
          'prove',
          '--schema',
          CONSENT_SCHEMA,
          '--policy',
          policyPath(),
          '--bundle',
          studyBundle(),
          '--registry',
          registry,
          optOut(),
          '--out',
          out,
          '--context',
          context,
        ],
        { timeoutMs: 600_000 },
      );
    /** The subject signs a request (no ether needed); the data holder (the default account) relays it. */
    const signedBy = async (subject: { privateKey: string }, action: string[], name: string) => {
      const file = join(scratch, `${name}.json`);
      const signed = await runCli(['chain', 'consent', 'sign', ...action, '--out', file, ...on], {
        env: { ZKAI_PRIVATE_KEY: subject.privateKey },
      });
      expect(signed.code, signed.stderr).toBe(0);
      return json<{ index?: number; root?: string }>(
        await runCli(['--json', 'chain', 'consent', 'relay', file, ...on]),
      );
    };

    it('grants consent for the subjects, exports the tree as a registry file, proves and attests with the consent root checked', async () => {
      await writeFile(
        policyPath(),
        JSON.stringify({
          name: 'adults who consented, not opted out',
          rules: [{ field: 'age', op: 'GTE', value: 18 }],
          aggregates: [{ kind: 'UNIQUE', field: 'account' }],
          registries: [
            { kind: 'MEMBER-OF', field: 'account', registry: 'consent', depth: 3 },
            { kind: 'NOT-MEMBER-OF', field: 'account', registry: 'optout', depth: 2 },
          ],
        }),
      );
      await writeFile(
        join(scratch, 'study.csv'),
        `account,age,cohort\n${first!.address},34,A\n${second!.address},51,B\n`,
      );
      const committed = await runCli([
        '--quiet',
        'data',
        'commit',
        '--schema',
        CONSENT_SCHEMA,
        '--data',
        join(scratch, 'study.csv'),
        '--bundle',
        studyBundle(),
      ]);
      expect(committed.code, committed.stderr).toBe(0);
      await writeFile(join(scratch, 'optout.txt'), `${optedOut!.address}\n${listed!.address}\n`);
      const optout = await runCli([
        '--quiet',
        'data',
        'registry',
        '--schema',
        CONSENT_SCHEMA,
        '--field',
        'account',
        '--ids',
        join(scratch, 'optout.txt'),
        '--name',
        'optout',
        '--depth',
        '2',
        '--out',
        optOut(),
      ]);
      expect(optout.code, optout.stderr).toBe(0);

      // A purpose whose replaced roots are refused at once (window 0): a proof made before a revocation is stale after it.
      const created = await runCli([
        'chain',
        'consent',
        'create',
        '--purpose',
        PURPOSE,
        '--depth',
        '3',
        '--window',
        '0',
        ...on,
      ]);
      expect(created.code, created.stderr).toBe(0);
      for (const [index, subject] of [first!, second!].entries()) {
        expect((await signedBy(subject, ['--grant', '--purpose', PURPOSE], `grant-${index}`)).index).toBe(index);
      }
      // The data holder's ids (the stranger never consented).
      await writeFile(join(scratch, 'my-ids.txt'), `${first!.address}\n${second!.address}\n${stranger!.address}\n`);

      // --out needs the schema, the column and the name, checked before any chain starts.
      const incomplete = await runCli([
        'chain',
        'consent',
        'tree',
        '--purpose',
        PURPOSE,
        '--out',
        consentFile('x'),
        ...on,
      ]);
      expect(incomplete.code).toBe(1);
      expect(incomplete.stderr).toContain(
        '--out writes a consent registry file: it also needs --schema, --field, --name',
      );
      noStackTrace(incomplete.stderr);
      // Only an address column can match the chain's leaves.
      const wrongColumn = await runCli([
        'chain',
        'consent',
        'tree',
        '--purpose',
        PURPOSE,
        '--schema',
        CONSENT_SCHEMA,
        '--field',
        'age',
        '--name',
        'consent',
        '--out',
        consentFile('x'),
        ...on,
      ]);
      expect(wrongColumn.code).toBe(1);
      expect(wrongColumn.stderr).toContain('column age is an integer column, but on-chain consent belongs to accounts');

      const exported = json<{
        root: string;
        blockNumber: number;
        registryFile: { out: string; root: string; ids: number; live: number; revoked: number; none: number };
      }>(await tree(consentFile('consent-1')));
      expect(exported.registryFile).toMatchObject({ root: exported.root, ids: 3, live: 2, revoked: 0, none: 1 });
      const file = JSON.parse(await readFile(consentFile('consent-1'), 'utf8')) as {
        kind: string;
        root: string;
        depth: number;
        leaves: string[];
        chain: { purposeId: string; blockNumber: number; chainId: number; contract: string };
      };
      expect(file).toMatchObject({
        kind: 'consent',
        root: exported.root,
        depth: 3,
        chain: {
          purposeId: purposeId(PURPOSE),
          blockNumber: exported.blockNumber,
          chainId: 31337,
          contract: deployment.consent,
        },
      });
      expect(file.leaves).toEqual([accountLeaf(first!.address).toString(), accountLeaf(second!.address).toString()]);
      firstRoot = exported.root;

      const check = await runCli([
        'data',
        'check',
        '--schema',
        CONSENT_SCHEMA,
        '--policy',
        policyPath(),
        '--bundle',
        studyBundle(),
        '--registry',
        consentFile('consent-1'),
        optOut(),
      ]);
      expect(check.code, check.stdout + check.stderr).toBe(0);
      expect(check.stdout).toMatch(/^PASS: 2 records satisfy policy/);

      // Two proofs bound to two nonces: one attested now, one kept for after the revocation.
      contexts = [];
      for (let i = 0; i < 2; i += 1)
        contexts.push(json<{ nonce: string; context: string }>(await runCli(['--json', 'chain', 'context', ...on])));
      for (const [i, { context }] of contexts.entries()) {
        const proved = json<{
          registries: Array<{ name: string; root: string }>;
          vkey: string;
          commitment: { root: string; count: number };
        }>(await proveWith(consentFile('consent-1'), join(scratch, `consent-proof-${i}.json`), context));
        expect(proved.registries).toEqual([
          { name: 'consent', root: firstRoot },
          { name: 'optout', root: expect.stringMatching(/^\d+$/) },
        ]);
        vkeyPath = proved.vkey;
        commitment = proved.commitment;
      }

      // Registering with the consent purpose bound to a registry on a column that is not an address is refused.
      const register = (...extra: string[]) =>
        runCli(
          [
            '--json',
            'chain',
            'register',
            join(scratch, 'consent-proof-0.json'),
            '--schema',
            CONSENT_SCHEMA,
            '--policy',
            policyPath(),
            '--development',
            '--purpose',
            PURPOSE,
            ...extra,
            ...on,
          ],
          { timeoutMs: 300_000 },
        );
      const notConsent = await register('--consent-registry', 'optout');
      expect(notConsent.code).toBe(1);
      expect((JSON.parse(notConsent.stdout) as { error: { message: string } }).error.message).toContain(
        'a consent purpose can only back a MEMBER-OF requirement',
      );
      // The opt-out registry must be bound to a curated list: registering without one is refused.
      const unbound = await register('--consent-registry', 'consent');
      expect(unbound.code).toBe(1);
      const unboundError = (JSON.parse(unbound.stdout) as { error: { code: string; message: string; hint: string } })
        .error;
      expect(unboundError.message).toContain(
        'the circuit\'s registry "optout" would be bound to nothing: a proof could use a list of the data holder\'s own',
      );
      expect(unboundError.hint).toContain('--list optout=NAME');
      // The registry owner creates the list and names its curator; only the curator (or the owner) publishes roots.
      const listCreated = await runCli([
        'chain',
        'list',
        'create',
        'optout',
        '--curator',
        deployment.owner,
        '--window',
        '0',
        ...on,
      ]);
      expect(listCreated.code, listCreated.stderr).toBe(0);
      const optoutRoot = JSON.parse(await readFile(optOut(), 'utf8')) as { root: string };
      const published = json<{ root: string }>(
        await runCli([
          '--json',
          'chain',
          'list',
          'publish',
          'optout',
          '--registry',
          optOut(),
          '--schema',
          CONSENT_SCHEMA,
          ...on,
        ]),
      );
      expect(published.root).toBe(optoutRoot.root);
      const bound = json<{ registered: boolean; lists: Record<string, { list: string }> }>(
        await register('--consent-registry', 'consent', '--list', 'optout'),
      );
      expect(bound).toMatchObject({ registered: true, lists: { optout: { list: 'optout' } } });

      const attested = await runCli([
        '--json',
        'chain',
        'attest',
        join(scratch, 'consent-proof-0.json'),
        '--nonce',
        contexts[0]!.nonce,
        ...on,
      ]);
      const result = json<{ uid: string; circuit: { kind: string } }>(attested);
      expect(result.uid).toMatch(/^0x[0-9a-f]{64}$/);

      // A data holder that proves against an opt-out list of its own (without the subject who opted out) is refused on chain.
      await writeFile(join(scratch, 'my-optout.txt'), `${listed!.address}\n`);
      const mine = join(scratch, 'my-optout.registry.json');
      expect(
        (
          await runCli([
            '--quiet',
            'data',
            'registry',
            '--schema',
            CONSENT_SCHEMA,
            '--field',
            'account',
            '--ids',
            join(scratch, 'my-optout.txt'),
            '--name',
            'optout',
            '--depth',
            '2',
            '--out',
            mine,
          ])
        ).code,
      ).toBe(0);
      const own = json<{ nonce: string; context: string }>(await runCli(['--json', 'chain', 'context', ...on]));
      const ownProof = join(scratch, 'own-optout-proof.json');
      const provedOwn = await runCli(
        [
          '--quiet',
          'data',
          'prove',
          '--schema',
          CONSENT_SCHEMA,
          '--policy',
          policyPath(),
          '--bundle',
          studyBundle(),
          '--registry',
          consentFile('consent-1'),
          mine,
          '--out',
          ownProof,
          '--context',
          own.context,
        ],
        { timeoutMs: 600_000 },
      );
      expect(provedOwn.code, provedOwn.stderr).toBe(0);
      const ownRoot = (JSON.parse(await readFile(mine, 'utf8')) as { root: string }).root;
      const refusedOwn = await runCli(['chain', 'attest', ownProof, '--nonce', own.nonce, ...on]);
      expect(refusedOwn.code).toBe(1);
      expect(refusedOwn.stderr).toMatch(
        new RegExp(
          `root ${ownRoot} is not a current or recent root of curated list 0x[0-9a-f]{64}: the proof was made against a list its curator did not publish .*\\(StaleListRoot\\)`,
        ),
      );
      noStackTrace(refusedOwn.stderr);

      // A verifier trusts the consent root by the file (its root is rebuilt from the chain's leaves) or by NAME=ROOT.
      const verify = (registry: string) =>
        runCli([
          'data',
          'verify',
          '--vkey',
          vkeyPath,
          '--proof',
          join(scratch, 'consent-proof-0.json'),
          '--schema',
          CONSENT_SCHEMA,
          '--policy',
          policyPath(),
          '--root',
          commitment.root,
          '--count',
          String(commitment.count),
          '--registry',
          registry,
          optOut(),
        ]);
      const byFile = await verify(consentFile('consent-1'));
      expect(byFile.code, byFile.stdout + byFile.stderr).toBe(0);
      expect(byFile.stdout).toMatch(new RegExp(`^OK: .* against registries consent \\(root ${firstRoot}\\)`));
      expect((await verify(`consent=${firstRoot}`)).code).toBe(0);
    }, 900_000);

    it('after a subject revokes (a signed request, relayed): the re-exported registry names the row in the pre-flight, and the older proof is refused on chain', async () => {
      // The holder cannot revoke for the subject, nor grant it back afterwards; the subject's own signature revokes.
      const holderRevokes = await runCli(['chain', 'consent', 'revoke', '--purpose', PURPOSE, '--index', '1', ...on]);
      expect(holderRevokes.code).toBe(1);
      expect(holderRevokes.stderr).toContain(
        `is neither the subject of leaf 1 (${second!.address}) nor their delegate`,
      );
      await signedBy(second!, ['--revoke', '1', '--purpose', PURPOSE], 'revoke-1');
      const regrant = await runCli([
        'chain',
        'consent',
        'grant',
        '--purpose',
        PURPOSE,
        '--for',
        second!.address,
        ...on,
      ]);
      expect(regrant.code).toBe(1);
      expect(regrant.stderr).toContain('(NotSubjectOrDelegate)');
      // Replaying the subject's old grant signature does not undo the revocation either.
      const replayed = await runCli(['chain', 'consent', 'relay', join(scratch, 'grant-1.json'), ...on]);
      expect(replayed.code).toBe(1);
      expect(replayed.stderr).toContain('which is used up');

      const exported = json<{
        root: string;
        blockNumber: number;
        registryFile: { root: string; live: number; revoked: number; none: number };
      }>(await tree(consentFile('consent-2')));
      expect(exported.registryFile).toMatchObject({ live: 1, revoked: 1, none: 1 });
      expect(exported.root).not.toBe(firstRoot);

      const check = await runCli([
        'data',
        'check',
        '--schema',
        CONSENT_SCHEMA,
        '--policy',
        policyPath(),
        '--bundle',
        studyBundle(),
        '--registry',
        consentFile('consent-2'),
        optOut(),
      ]);
      expect(check.code).toBe(1);
      expect(check.stdout).toContain(
        `row 3: account = ${second!.address} breaks registry requirement: account MEMBER-OF registry consent (not listed in registry consent of root ${exported.root}): the subject REVOKED consent: leaf 1 is revoked (purpose "${PURPOSE}" on chain 31337, tree read at block ${exported.blockNumber})`,
      );
      expect(check.stdout).not.toMatch(/row 2:/);
      const checked = await runCli([
        '--json',
        'data',
        'check',
        '--schema',
        CONSENT_SCHEMA,
        '--policy',
        policyPath(),
        '--bundle',
        studyBundle(),
        '--registry',
        consentFile('consent-2'),
        optOut(),
      ]);
      expect(checked.code).toBe(1);
      expect((JSON.parse(checked.stdout) as { violations: unknown[] }).violations).toMatchObject([
        { row: 3, value: second!.address, consent: { state: 'revoked', index: 1 } },
      ]);

      const refused = await proveWith(
        consentFile('consent-2'),
        join(scratch, 'consent-proof-x.json'),
        contexts[1]!.context,
      );
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain(`row 3: account = ${second!.address} breaks registry requirement`);
      expect(refused.stdout).toContain('the subject REVOKED consent');
      expect(existsSync(join(scratch, 'consent-proof-x.json'))).toBe(false);

      // The proof made before the revocation carries the replaced root; with a window of 0 the registry refuses it.
      const stale = await runCli([
        'chain',
        'attest',
        join(scratch, 'consent-proof-1.json'),
        '--nonce',
        contexts[1]!.nonce,
        ...on,
      ]);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain(
        `consent root ${firstRoot} is not a current or recent root of purpose ${purposeId(PURPOSE)}`,
      );
      noStackTrace(stale.stderr);
    }, 600_000);

    it('refuses a consent registry file whose root or leaves were edited', async () => {
      const file = JSON.parse(await readFile(consentFile('consent-2'), 'utf8')) as {
        root: string;
        leaves: string[];
        revoked: Array<{ index: number; leaf: string }>;
      };
      file.leaves[1] = file.revoked[0]!.leaf; // the revoked consent brought back
      file.revoked = [];
      await writeFile(consentFile('edited'), JSON.stringify(file));
      const check = await runCli([
        'data',
        'check',
        '--schema',
        CONSENT_SCHEMA,
        '--policy',
        policyPath(),
        '--bundle',
        studyBundle(),
        '--registry',
        consentFile('edited'),
        optOut(),
      ]);
      expect(check.code).toBe(1);
      expect(check.stderr).toMatch(
        /edited\.json: the consent leaves in the file give root \d+ at depth 3, but the file says \d+ \(the chain's root at block \d+\): the file is corrupted or was edited/,
      );
      noStackTrace(check.stderr);
    });
  });
});
