/**
 * `zkai chain deploy | context | attest | revoke | attestations | consent ...`: the registry and consent registry of
 * src/chain from the command line. Without --rpc every command runs on an embedded anvil whose state is kept in the
 * cache (a local development chain), one command at a time (a file lock).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { getAddress, isAddress } from 'ethers';
import { cacheLayout } from '../cache/layout.ts';
import { connectChain, type ChainConnection } from '../chain/anvil.ts';
import { purposeId } from '../chain/consent.ts';
import {
  OutdatedDeploymentError,
  connectDeployment,
  deployZkai,
  loadDeployment,
  saveDeployment,
  type ConnectedDeployment,
} from '../chain/deployment.ts';
import { attestProof, readAttestableProof, type AttestableProof, type SubjectChoice } from '../chain/attest-proof.ts';
import { CIRCUIT_KINDS, attestationContext, labelBytes, randomNonce } from '../chain/registry.ts';
import { ChainError, ZkaiError } from '../errors.ts';
import { withFileLock } from '../util/file-lock.ts';
import { BN254_SCALAR_FIELD } from '../verifier/types.ts';
import { emit, type GlobalFlags } from './output.ts';
import type {
  ChainAttestationsFlags,
  ChainAttestFlags,
  ChainContextFlags,
  ChainDeployFlags,
  ChainOptionFlags,
  ChainRevokeFlags,
} from './groups/chain.ts';

/** Options every `zkai chain` subcommand takes (`groups/chain.ts` declares them). */
export type ChainFlags = ChainOptionFlags;

const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** File of the default deployment with --rpc (in the working folder). */
export const RPC_DEPLOYMENT_FILE = 'zkai-deployment.json';

/**
 * `--context <decimal>` of the prove commands: the value the proof is bound to (see src/circuit/context.ts), or
 * undefined when the option is absent.
 */
export function contextOption(value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!DECIMAL.test(value))
    throw new ZkaiError(
      'BAD_OPTION',
      `--context must be a decimal number (zkai chain context prints it), got "${value}"`,
    );
  const context = BigInt(value);
  if (context >= BN254_SCALAR_FIELD)
    throw new ZkaiError(
      'BAD_OPTION',
      `--context ${value} is not below the BN254 scalar field order ${BN254_SCALAR_FIELD}: it is not a context zkai chain context prints`,
    );
  return context;
}

function nonceOption(value: string | undefined, option = '--nonce'): string {
  if (value === undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      `give ${option} 0x<64 hex digits>: the nonce the proof's context was made with (zkai chain context prints both)`,
    );
  if (!HEX32.test(value))
    throw new ZkaiError('BAD_OPTION', `${option} must be 0x followed by 64 hex digits, got "${value}"`);
  return value.toLowerCase();
}

function bytes32Option(value: string, option: string, what: string): string {
  if (!HEX32.test(value))
    throw new ZkaiError('BAD_OPTION', `${option} must be ${what}: 0x followed by 64 hex digits, got "${value}"`);
  return value.toLowerCase();
}

export function positiveInteger(value: string | undefined, option: string, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || !/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new ZkaiError('BAD_OPTION', `${option} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** A purpose given by name (hashed, as purposeId) or as its 0x id. */
export function purposeOf(value: string): string {
  return HEX32.test(value) ? value.toLowerCase() : purposeId(value);
}

export const short = (hex: string) => (hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex);

// ---------------------------------------------------------------------------------------------------------------
// Sessions: the embedded chain (kept in the cache, locked) or a node given by --rpc.

export interface ChainSession {
  chain: ChainConnection;
  /** The deployment file. */
  deploymentPath: string;
  /** The embedded chain's folder, when no --rpc was given. */
  chainDir?: string;
  flags: ChainFlags;
}

/** The chain options to repeat in a suggested command, so it talks to the same chain and deployment. */
export function chainFlagsText(flags: ChainFlags): string {
  return [
    flags.rpc ? ` --rpc ${flags.rpc}` : '',
    flags.chainDir ? ` --chain-dir ${flags.chainDir}` : '',
    flags.deployment ? ` --deployment ${flags.deployment}` : '',
  ].join('');
}

function globalFlagsText(flags: GlobalFlags): string {
  return flags.cacheDir ? ` --cache-dir ${flags.cacheDir}` : '';
}

/** A notice for people on stderr: not with --json or --quiet. */
function notice(flags: GlobalFlags, text: string): void {
  if (!flags.json && !flags.quiet) process.stderr.write(`${text}\n`);
}

/** A progress line on stderr (also with --json, as every command's progress); not with --quiet. */
export function progressLine(flags: GlobalFlags, text: string): void {
  if (!flags.quiet) process.stderr.write(`${text}\n`);
}

/** Where the embedded chain keeps its state and deployment. */
function embeddedDir(flags: ChainFlags): string {
  return resolve(flags.chainDir ?? cacheLayout(flags.cacheDir).embeddedChainDir);
}

/**
 * Run `fn` on the chain the flags name: the node at --rpc, or the embedded anvil, which loads its state from
 * `<chain dir>/anvil-state.json` and writes it back when stopped; a lock on the folder keeps a second command from
 * starting a second anvil on the same state. `fresh` deletes the embedded state (and deployment) first.
 */
export async function withSession<T>(
  flags: ChainFlags,
  fn: (session: ChainSession) => Promise<T>,
  options: { fresh?: boolean } = {},
): Promise<T> {
  if (flags.rpc) {
    if (flags.chainDir)
      throw new ZkaiError('BAD_OPTION', "--chain-dir is the embedded chain's folder: it does not go with --rpc");
    if (options.fresh)
      throw new ZkaiError(
        'BAD_OPTION',
        '--fresh deletes the embedded development chain: with --rpc, use --force to deploy again',
      );
    const chain = await connectChain(flags.rpc);
    try {
      return await fn({ chain, deploymentPath: resolve(flags.deployment ?? RPC_DEPLOYMENT_FILE), flags });
    } finally {
      await chain.close();
    }
  }
  const dir = embeddedDir(flags);
  await mkdir(dir, { recursive: true });
  const statePath = join(dir, 'anvil-state.json');
  const deploymentPath = resolve(flags.deployment ?? join(dir, 'deployment.json'));
  return withFileLock(
    join(dir, 'lock'),
    async () => {
      if (options.fresh) {
        await rm(statePath, { force: true });
        await rm(deploymentPath, { force: true });
      }
      notice(
        flags,
        `note: local development chain (embedded anvil, state kept in ${dir}); for a real chain: zkai chain deploy --rpc URL`,
      );
      const chain = await connectChain(undefined, { anvil: { extraArgs: ['--state', statePath] } });
      try {
        return await fn({ chain, deploymentPath, chainDir: dir, flags });
      } finally {
        await chain.close(); // SIGTERM: anvil writes its state
      }
    },
    { onWait: (pid) => progressLine(flags, `waiting for another zkai chain command (pid ${pid}) using ${dir}`) },
  );
}

/** The session's deployment, connected; a clear error when there is none or it is not on this chain. */
export async function deploymentOf(session: ChainSession): Promise<ConnectedDeployment> {
  if (!existsSync(session.deploymentPath)) {
    throw new ChainError(`no zkai deployment at ${session.deploymentPath}`, {
      hint: `deploy one first: zkai${globalFlagsText(session.flags)} chain deploy${chainFlagsText(session.flags)}`,
    });
  }
  const deployment = await loadDeployment(session.deploymentPath);
  return connectDeployment(deployment, session.chain.signer);
}

// ---------------------------------------------------------------------------------------------------------------
// deploy

/** `zkai chain deploy`. */
export async function chainDeployCommand(flags: ChainDeployFlags): Promise<void> {
  const result = await withSession(
    flags,
    async (session) => {
      const signer = await session.chain.signer.getAddress();
      let replaced: string | undefined;
      const existing =
        existsSync(session.deploymentPath) && !flags.force
          ? await loadDeployment(session.deploymentPath).catch((error: unknown) => {
              if (!(error instanceof OutdatedDeploymentError)) throw error;
              replaced = error.message;
              return undefined;
            })
          : undefined;
      if (existing) {
        if (existing.chainId !== session.chain.chainId) {
          throw new ChainError(
            `${session.deploymentPath} records a deployment on chain ${existing.chainId}, but this node is chain ${session.chain.chainId}; it was kept`,
            {
              hint: "pass --deployment OTHER.json to record this chain's deployment elsewhere, or --force to replace the file",
            },
          );
        }
        const code = await session.chain.provider.getCode(existing.registry);
        if (code && code !== '0x') return { kept: true, deployment: existing, path: session.deploymentPath, signer };
        replaced = `the registry recorded in ${session.deploymentPath} (${existing.registry}) is not on this chain any more`;
      }
      const { deployment } = await deployZkai(session.chain.signer);
      await saveDeployment(session.deploymentPath, deployment);
      return { kept: false, deployment, path: session.deploymentPath, signer, ...(replaced ? { replaced } : {}) };
    },
    { fresh: Boolean(flags.fresh) },
  );
  const d = result.deployment;
  const total =
    BigInt(d.gas.poseidon) +
    BigInt(d.gas.poseidon3) +
    BigInt(d.gas.consent) +
    BigInt(d.gas.lists) +
    BigInt(d.gas.registry);
  emit(flags, { ...result, rpc: flags.rpc ?? 'embedded', totalGas: total.toString() }, () =>
    [
      result.kept
        ? `zkai is already deployed on chain ${d.chainId} (${result.path}); kept it (--force deploys again)`
        : `zkai deployed on chain ${d.chainId}${'replaced' in result ? ` (${result.replaced})` : ''}`,
      `  registry     ${d.registry}${result.kept ? '' : `  (${d.gas.registry} gas)`}`,
      `  consent      ${d.consent}${result.kept ? '' : `  (${d.gas.consent} gas)`}`,
      `  lists        ${d.lists}${result.kept ? '' : `  (${d.gas.lists} gas)`}`,
      `  poseidon     ${d.poseidon}${result.kept ? '' : `  (${d.gas.poseidon} gas)`}`,
      `  poseidon3    ${d.poseidon3}${result.kept ? '' : `  (${d.gas.poseidon3} gas)`}`,
      `  owner        ${d.owner} (registers circuits)${d.owner.toLowerCase() === result.signer.toLowerCase() ? '' : `; you are ${result.signer}`}`,
      ...(result.kept ? [] : [`  gas          ${total} in all`]),
      `  deployment   ${result.path}`,
      `  next: zkai${globalFlagsText(flags)} chain context${chainFlagsText(flags)}`,
    ].join('\n'),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// context

/** `zkai chain context`. */
export async function chainContextCommand(flags: ChainContextFlags): Promise<void> {
  const nonce = flags.nonce === undefined ? randomNonce() : nonceOption(flags.nonce);
  const result = await withSession(flags, async (session) => {
    const { deployment } = await deploymentOf(session);
    const attester = await session.chain.signer.getAddress();
    return {
      nonce,
      context: attestationContext(deployment.chainId, deployment.registry, attester, nonce).toString(),
      attester,
      registry: deployment.registry,
      chainId: deployment.chainId,
    };
  });
  const chain = chainFlagsText(flags);
  const global = globalFlagsText(flags);
  emit(flags, result, () =>
    [
      `context for ${result.attester} on registry ${result.registry} (chain ${result.chainId}):`,
      `  nonce     ${result.nonce}`,
      `  context   ${result.context}`,
      'prove with this context, then attest with the same nonce, from the same account:',
      `  zkai${global} data prove --schema SCHEMA --policy POLICY --bundle BUNDLE --out PROOF.json --context ${result.context}`,
      '    (or data include / model prove, with the same --context)',
      `  zkai${global} chain attest PROOF.json --nonce ${result.nonce}${chain}`,
    ].join('\n'),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// attest

/** The expiration time of `--expires`: an ISO date, or +SECONDS from the chain's latest block. */
async function expirationOf(value: string | undefined, chain: ChainConnection): Promise<number | undefined> {
  if (value === undefined) return undefined;
  const relative = /^\+([0-9]+)$/.exec(value);
  if (relative) {
    const block = await chain.provider.getBlock('latest');
    return (block?.timestamp ?? Math.floor(Date.now() / 1000)) + Number(relative[1]);
  }
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new ZkaiError(
      'BAD_OPTION',
      `--expires must be an ISO date (2027-01-31 or 2027-01-31T12:00:00Z) or +SECONDS, got "${value}"`,
    );
  return Math.floor(ms / 1000);
}

/** The source flags `zkai chain register` needs for a proof of this kind (placeholders for the registrant to fill). */
function registerSourceWords(proof: AttestableProof): string {
  switch (proof.kind) {
    case 'dataset-policy':
    case 'dataset-chunk':
    case 'dataset-private-chunk':
      return '--schema SCHEMA.json --policy POLICY.json --development';
    case 'inclusion':
      return '--schema SCHEMA.json --development';
    case 'inference':
      return '--model MODEL --frac-bits F --development';
    case 'accuracy':
      return '--model MODEL --frac-bits F --schema SCHEMA.json --label L --all-features --scale X --development';
    case 'dataset-aggregation':
      throw new ZkaiError('INTERNAL', 'an aggregation proof is attested with its chunk proofs, not on its own');
    default:
      return proof.kind satisfies never;
  }
}

/** `zkai chain attest <proof.json>`. */
export async function chainAttestCommand(proofPath: string, flags: ChainAttestFlags): Promise<void> {
  const nonce = nonceOption(flags.nonce);
  const refUID = flags.ref === undefined ? undefined : bytes32Option(flags.ref, '--ref', 'an attestation uid');
  if (flags.label !== undefined) labelBytes(flags.label);
  if (flags.testSetLabel !== undefined) labelBytes(flags.testSetLabel);
  const proof = await readAttestableProof(proofPath);
  if (!proof.testSet && (flags.testSet !== undefined || flags.testSetLabel !== undefined))
    throw new ZkaiError('BAD_OPTION', '--test-set and --test-set-label go with accuracy proofs only');
  const progress = (text: string) => progressLine(flags, text);

  const result = await withSession(flags, async (session) => {
    const expirationTime = await expirationOf(flags.expires, session.chain);
    return attestProof(await deploymentOf(session), await session.chain.signer.getAddress(), proof, proofPath, {
      nonce,
      ...(flags.label !== undefined ? { label: flags.label } : {}),
      ...(flags.subject !== undefined ? { subject: flags.subject } : {}),
      ...(flags.commitment !== undefined ? { commitment: flags.commitment } : {}),
      ...(flags.testSet !== undefined ? { testSet: flags.testSet } : {}),
      ...(flags.testSetLabel !== undefined ? { testSetLabel: flags.testSetLabel } : {}),
      ...(expirationTime !== undefined ? { expirationTime } : {}),
      ...(refUID ? { refUID } : {}),
      revocable: !flags.irrevocable,
      ...(flags.zkey !== undefined ? { zkey: flags.zkey } : {}),
      ...(flags.cacheDir !== undefined ? { cacheDir: flags.cacheDir } : {}),
      onProgress: progress,
      registerWords: registerSourceWords(proof),
      hintFlags: chainFlagsText(flags),
    });
  });

  const c = result.circuit;
  const circuitLines = [
    `  circuit      ${c.id} (${c.kind}; registered from source, key ${c.keyTrust === 'development' ? 'DEVELOPMENT (single-party)' : c.keyTrust})`,
  ];
  const s = result.subject;
  emit(flags, result, () =>
    [
      `attested ${proofPath}: uid ${result.uid}`,
      `  gas          ${result.gas}${result.chunkGas ? ` (${result.chunkGas.length} chunks: ${result.chunkGas.join(', ')})` : proof.aggregation ? ` (${proof.chunks.length} chunk proofs and ${proof.aggregation.flat().length} aggregation proof${proof.aggregation.flat().length === 1 ? '' : 's'} in ${result.transactions === undefined || result.transactions === 1 ? 'one transaction' : `${result.transactions} transactions`})` : ''}`,
      `  tx           ${result.txHash}`,
      ...circuitLines,
      `  subject      ${s.version} (${proof.subject.kind}${s.label ? ` "${s.label}"` : ''}; ${subjectAction(s, '--subject')})`,
      ...(result.accuracy && result.testSet
        ? [
            `  test set     ${result.testSet.version} (dataset${result.testSet.label ? ` "${result.testSet.label}"` : ''}; ${subjectAction(result.testSet, '--test-set')})`,
            `  accuracy     ${result.accuracy.correct} of ${result.accuracy.total} correct (${((100 * result.accuracy.correct) / result.accuracy.total).toFixed(2)}%), recorded on chain`,
          ]
        : []),
      `  attester     ${result.attester}`,
      `  list with: zkai${globalFlagsText(flags)} chain attestations --subject ${s.version}${chainFlagsText(flags)}`,
    ].join('\n'),
  );
}

/** How a subject version was found, for the attest report. */
function subjectAction(s: SubjectChoice, option: string): string {
  if (s.action === 'existing') return 'registered earlier';
  if (s.action === 'given') return `given with ${option}`;
  return s.action === 'registered' ? `registered now, ${s.gas} gas` : `new version, ${s.gas} gas`;
}

// ---------------------------------------------------------------------------------------------------------------
// revoke, attestations

/** `zkai chain revoke <uid>`. */
export async function chainRevokeCommand(uid: string, flags: ChainRevokeFlags): Promise<void> {
  const id = bytes32Option(uid, 'the uid', 'an attestation uid');
  const result = await withSession(flags, async (session) => {
    const { registry } = await deploymentOf(session);
    const { gasUsed } = await registry.revoke(id);
    return { uid: id, revoked: true, gas: gasUsed.toString() };
  });
  emit(flags, result, () => `revoked ${result.uid} (${result.gas} gas)`);
}

/** `zkai chain attestations`. */
export async function chainAttestationsCommand(flags: ChainAttestationsFlags): Promise<void> {
  const subject =
    flags.subject === undefined
      ? undefined
      : bytes32Option(flags.subject, '--subject', 'a dataset or model version id');
  if (flags.attester !== undefined && !isAddress(flags.attester))
    throw new ZkaiError('BAD_OPTION', `--attester must be an address (0x and 40 hex digits), got "${flags.attester}"`);
  const attester = flags.attester === undefined ? undefined : getAddress(flags.attester);
  const rows = await withSession(flags, async (session) => {
    const { deployment, registry } = await deploymentOf(session);
    const now = (await session.chain.provider.getBlock('latest'))?.timestamp ?? Math.floor(Date.now() / 1000);
    const records = await registry.attestations({
      ...(subject ? { subject } : {}),
      ...(attester ? { attester } : {}),
      fromBlock: deployment.blockNumber,
    });
    const kinds = new Map<string, string>();
    const out = [];
    for (const a of records) {
      if (!kinds.has(a.circuit)) {
        const c = (await registry.contract.getFunction('getCircuit').staticCall(a.circuit)) as unknown as {
          kind: bigint;
        };
        kinds.set(a.circuit, CIRCUIT_KINDS[Number(c.kind) - 1] ?? 'unknown');
      }
      const status =
        a.revocationTime !== 0 ? 'revoked' : a.expirationTime !== 0 && a.expirationTime <= now ? 'expired' : 'valid';
      out.push({
        uid: a.uid,
        kind: kinds.get(a.circuit) as string,
        circuit: a.circuit,
        subject: a.subject,
        attester: a.attester,
        time: new Date(a.time * 1000).toISOString(),
        expirationTime: a.expirationTime,
        revocationTime: a.revocationTime,
        revocable: a.revocable,
        refUID: a.refUID,
        policyHash: a.policyHash,
        status,
        valid: a.valid,
        txHash: a.txHash,
        ...(a.accuracy ? { accuracy: a.accuracy } : {}),
      });
    }
    return out;
  });
  emit(flags, rows, () => {
    if (rows.length === 0)
      return `no attestations${subject ? ` of ${subject}` : ''}${attester ? ` by ${attester}` : ''}`;
    const header = ['uid', 'kind', 'subject', 'attester', 'time', 'status', 'result'];
    const table = rows.map((r) => [
      r.uid,
      r.kind,
      short(r.subject),
      short(r.attester),
      r.time.replace('.000Z', 'Z'),
      `${r.status}${r.revocable ? '' : ' (irrevocable)'}`,
      r.accuracy ? `${r.accuracy.correct}/${r.accuracy.total} correct on test set ${short(r.accuracy.testSet)}` : '',
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
    const line = (cells: string[]) =>
      cells
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd();
    return [line(header), ...table.map(line)].join('\n');
  });
}
