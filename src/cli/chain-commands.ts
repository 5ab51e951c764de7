/**
 * `zkai chain deploy | context | attest | revoke | attestations | consent ...`: the registry and consent registry of
 * src/chain from the command line. Without --rpc every command runs on an embedded anvil whose state is kept in the
 * cache (a local development chain), one command at a time (a file lock).
 */
import { accuracyStatement, inferenceStatement, parseProofFile, proofParts, type Statement } from '../statement/index.ts';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AbiCoder, getAddress, isAddress, keccak256, type EventLog } from 'ethers';
import { resolveCacheDir } from '../cache/cache-dir.ts';
import { connectChain, type ChainConnection } from '../chain/anvil.ts';
import { purposeId } from '../chain/consent.ts';
import { OutdatedDeploymentError, connectDeployment, deployZkai, loadDeployment, saveDeployment, type ConnectedDeployment, type ZkaiDeployment } from '../chain/deployment.ts';
import { verificationKeyId, type Groth16VerificationKey } from '../chain/groth16-template.ts';
import { CIRCUIT_KINDS, attestationContext, labelBytes, randomNonce, type CircuitKind, type DatasetCommitmentFields, type RegistryClient } from '../chain/registry.ts';
import { readVerificationKey } from '../chain/solidity-verifier.ts';
import { ChainError, InputFileError, ZkaiError } from '../errors.ts';
import { withFileLock } from '../util/file-lock.ts';
import { BN254_SCALAR_FIELD, type Groth16Proof } from '../verifier/types.ts';
import { verifyProof } from '../verifier/verify.ts';
import { readJsonFile } from './io.ts';
import { emit, type GlobalFlags } from './output.ts';

/** Options every `zkai chain` subcommand takes. */
export interface ChainFlags extends GlobalFlags {
  rpc?: string;
  deployment?: string;
  chainDir?: string;
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const ZERO_ADDRESS = `0x${'0'.repeat(40)}`;

/** File of the default deployment with --rpc (in the working folder). */
export const RPC_DEPLOYMENT_FILE = 'zkai-deployment.json';

/**
 * `--context <decimal>` of the prove commands: the value the proof is bound to (see src/circuit/context.ts), or
 * undefined when the option is absent.
 */
export function contextOption(value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!DECIMAL.test(value)) throw new ZkaiError('BAD_OPTION', `--context must be a decimal number (zkai chain context prints it), got "${value}"`);
  const context = BigInt(value);
  if (context >= BN254_SCALAR_FIELD) throw new ZkaiError('BAD_OPTION', `--context ${value} is not below the BN254 scalar field order ${BN254_SCALAR_FIELD}: it is not a context zkai chain context prints`);
  return context;
}

function nonceOption(value: string | undefined, option = '--nonce'): string {
  if (value === undefined) throw new ZkaiError('BAD_OPTION', `give ${option} 0x<64 hex digits>: the nonce the proof's context was made with (zkai chain context prints both)`);
  if (!HEX32.test(value)) throw new ZkaiError('BAD_OPTION', `${option} must be 0x followed by 64 hex digits, got "${value}"`);
  return value.toLowerCase();
}

function bytes32Option(value: string, option: string, what: string): string {
  if (!HEX32.test(value)) throw new ZkaiError('BAD_OPTION', `${option} must be ${what}: 0x followed by 64 hex digits, got "${value}"`);
  return value.toLowerCase();
}

export function positiveInteger(value: string | undefined, option: string, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || !/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) throw new ZkaiError('BAD_OPTION', `${option} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** A purpose given by name (hashed, as purposeId) or as its 0x id. */
export function purposeOf(value: string): string {
  return HEX32.test(value) ? value.toLowerCase() : purposeId(value);
}

export const short = (hex: string) => (hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex);

/** A label of at most 31 UTF-8 bytes, cut at a character boundary. */
function clipLabel(text: string): string {
  let out = '';
  for (const char of text) {
    if (Buffer.byteLength(out + char, 'utf8') > 31) break;
    out += char;
  }
  return out;
}

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
  return [flags.rpc ? ` --rpc ${flags.rpc}` : '', flags.chainDir ? ` --chain-dir ${flags.chainDir}` : '', flags.deployment ? ` --deployment ${flags.deployment}` : ''].join('');
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
  return resolve(flags.chainDir ?? join(resolveCacheDir(flags.cacheDir), 'chain', 'embedded'));
}

/**
 * Run `fn` on the chain the flags name: the node at --rpc, or the embedded anvil, which loads its state from
 * `<chain dir>/anvil-state.json` and writes it back when stopped; a lock on the folder keeps a second command from
 * starting a second anvil on the same state. `fresh` deletes the embedded state (and deployment) first.
 */
export async function withSession<T>(flags: ChainFlags, fn: (session: ChainSession) => Promise<T>, options: { fresh?: boolean } = {}): Promise<T> {
  if (flags.rpc) {
    if (flags.chainDir) throw new ZkaiError('BAD_OPTION', '--chain-dir is the embedded chain\'s folder: it does not go with --rpc');
    if (options.fresh) throw new ZkaiError('BAD_OPTION', '--fresh deletes the embedded development chain: with --rpc, use --force to deploy again');
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
      notice(flags, `note: local development chain (embedded anvil, state kept in ${dir}); for a real chain: zkai chain deploy --rpc URL`);
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
    throw new ChainError(`no zkai deployment at ${session.deploymentPath}`, { hint: `deploy one first: zkai${globalFlagsText(session.flags)} chain deploy${chainFlagsText(session.flags)}` });
  }
  const deployment = await loadDeployment(session.deploymentPath);
  return connectDeployment(deployment, session.chain.signer);
}

// ---------------------------------------------------------------------------------------------------------------
// deploy

/** `zkai chain deploy`. */
export async function chainDeployCommand(flags: ChainFlags & { force?: boolean; fresh?: boolean }): Promise<void> {
  const result = await withSession(
    flags,
    async (session) => {
      const signer = await session.chain.signer.getAddress();
      let replaced: string | undefined;
      const existing = existsSync(session.deploymentPath) && !flags.force ? await loadDeployment(session.deploymentPath).catch((error: unknown) => {
        if (!(error instanceof OutdatedDeploymentError)) throw error;
        replaced = error.message;
        return undefined;
      }) : undefined;
      if (existing) {
        if (existing.chainId !== session.chain.chainId) {
          throw new ChainError(`${session.deploymentPath} records a deployment on chain ${existing.chainId}, but this node is chain ${session.chain.chainId}; it was kept`, {
            hint: 'pass --deployment OTHER.json to record this chain\'s deployment elsewhere, or --force to replace the file',
          });
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
  const total = BigInt(d.gas.poseidon) + BigInt(d.gas.poseidon3) + BigInt(d.gas.consent) + BigInt(d.gas.lists) + BigInt(d.gas.registry);
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
export async function chainContextCommand(flags: ChainFlags & { nonce?: string }): Promise<void> {
  const nonce = flags.nonce === undefined ? randomNonce() : nonceOption(flags.nonce);
  const result = await withSession(flags, async (session) => {
    const { deployment } = await deploymentOf(session);
    const attester = await session.chain.signer.getAddress();
    return { nonce, context: attestationContext(deployment.chainId, deployment.registry, attester, nonce).toString(), attester, registry: deployment.registry, chainId: deployment.chainId };
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

/** What `chain attest` needs from a proof file. */
interface AttestableProof {
  format: string;
  kind: CircuitKind;
  /** The compiled circuit's id (the key cache is searched by it). */
  compiledId: string;
  /**
   * The statement the file describes (refined from the owner's --schema/--policy when registering a dataset circuit):
   * only used to register a circuit that is not registered yet; a registered circuit's layout is the chain's.
   */
  statement: Exclude<Statement, { kind: 'circuit' }>;
  policyHash?: string;
  /** The policy's registries, in signal order (consent candidates). */
  registryNames: string[];
  subject: { kind: 'dataset'; root: string; schemaHash: string; commitment?: DatasetCommitmentFields } | { kind: 'model'; hash: string; name: string };
  chunks: Array<{ proof: Groth16Proof; publicSignals: string[] }>;
  chunked: boolean;
  /** Accuracy proofs: the test set's commitment (a dataset the registry must know too). */
  testSet?: DatasetCommitmentFields;
}

function commitmentOf(path: string, value: unknown): DatasetCommitmentFields {
  const c = value as Partial<Record<string, unknown>> | null;
  if (typeof c?.root !== 'string' || !DECIMAL.test(c.root) || typeof c.schemaHash !== 'string' || !DECIMAL.test(c.schemaHash) || !Number.isSafeInteger(c.count) || !Number.isSafeInteger(c.depth)) {
    throw new InputFileError(path, 'the commitment must be {root, count, depth, schemaHash}');
  }
  return { root: c.root, count: c.count as number, depth: c.depth as number, schemaHash: c.schemaHash };
}

/** Read a zkai proof file that can be attested (with the statement module's one proof-file reader). */
async function readAttestable(path: string): Promise<AttestableProof> {
  const file = parseProofFile(await readJsonFile(path, 'proof'), path);
  const compiledId = file.circuitId ?? '';
  const required = (value: string | undefined, name: string): string => {
    if (value === undefined) throw new InputFileError(path, `"${name}" must be a decimal string`);
    return value;
  };
  const parts = proofParts(file);
  switch (file.format) {
    case 'zkai-dataset-proof-v1':
    case 'zkai-chunked-dataset-proof-v1': {
      const registryNames = file.registries.map((r) => r.name);
      const described = { schemaHash: file.commitment.schemaHash, policyHash: file.policy.hash, registries: registryNames };
      const statement: AttestableProof['statement'] =
        file.format === 'zkai-dataset-proof-v1'
          ? { kind: 'dataset-policy', ...described }
          : { kind: 'dataset-chunk', ...described, partials: [], subtrees: file.subtreesPerChunk, chunkDepth: file.chunkDepth };
      return {
        format: file.format,
        kind: statement.kind,
        compiledId,
        statement,
        policyHash: file.policy.hash,
        registryNames,
        subject: { kind: 'dataset', root: file.commitment.root, schemaHash: file.commitment.schemaHash, commitment: file.commitment },
        chunks: parts,
        chunked: file.format === 'zkai-chunked-dataset-proof-v1',
      };
    }
    case 'zkai-inference-proof-v1': {
      const hash = required(file.weights === 'hashed' ? file.model.commitment : file.model.hash, file.weights === 'hashed' ? 'model.commitment' : 'model.hash');
      return {
        format: file.format,
        kind: 'inference',
        compiledId,
        statement: inferenceStatement({ inputSize: file.input?.length ?? 0 }, { visibility: file.visibility, weights: file.weights }),
        registryNames: [],
        subject: { kind: 'model', hash, name: file.model.name ?? '' },
        chunks: parts,
        chunked: false,
      };
    }
    case 'zkai-inclusion-proof-v1':
      return {
        format: file.format,
        kind: 'inclusion',
        compiledId,
        statement: { kind: 'inclusion', schemaHash: file.schemaHash },
        registryNames: [],
        subject: { kind: 'dataset', root: file.root, schemaHash: file.schemaHash },
        chunks: parts,
        chunked: false,
      };
    case 'zkai-accuracy-proof-v1': {
      const hash = required(file.weights === 'hashed' ? file.model.commitment : file.model.hash, file.weights === 'hashed' ? 'model.commitment' : 'model.hash');
      return {
        format: file.format,
        kind: 'accuracy',
        compiledId,
        statement: accuracyStatement(undefined, file.task, { weights: file.weights, samplesPerChunk: file.samplesPerChunk }),
        policyHash: file.task.taskHash,
        registryNames: [],
        subject: { kind: 'model', hash, name: file.model.name ?? '' },
        chunks: parts,
        chunked: true,
        testSet: file.testSet,
      };
    }
    case 'plain':
      throw new InputFileError(path, 'not a zkai proof that can be attested (a dataset, chunked dataset, inference, inclusion or accuracy proof written by zkai)');
    default:
      return file satisfies never;
  }
}

/** The default label of a proof's subject: the model name, or `data-` and the start of the schema hash. */
function defaultLabel(proof: AttestableProof): string {
  if (proof.subject.kind === 'model') return clipLabel(proof.subject.name) || `model-${proof.subject.hash.slice(0, 20)}`;
  return `data-${proof.subject.schemaHash.slice(0, 20)}`;
}

/** Proving keys in the cache made for a compiled circuit: `<cache>/keys/<dir>/meta.json` names its circuit id. */
async function cachedKeys(cacheDir: string, compiledId: string): Promise<Array<{ zkeyPath: string; vkeyPath: string }>> {
  const keysDir = join(cacheDir, 'keys');
  const dirs = await readdir(keysDir).catch(() => [] as string[]);
  const found: Array<{ zkeyPath: string; vkeyPath: string }> = [];
  for (const dir of dirs) {
    if (dir.startsWith('.')) continue;
    const meta = (await readFile(join(keysDir, dir, 'meta.json'), 'utf8').then(JSON.parse, () => undefined)) as { circuitId?: unknown } | undefined;
    if (meta?.circuitId !== compiledId) continue;
    const zkey = (await readdir(join(keysDir, dir)).catch(() => [] as string[])).find((name) => name.endsWith('.zkey'));
    if (zkey && existsSync(join(keysDir, dir, 'verification_key.json'))) found.push({ zkeyPath: join(keysDir, dir, zkey), vkeyPath: join(keysDir, dir, 'verification_key.json') });
  }
  return found;
}

/** The proving key (and its verification key) the proof was made with: --zkey, else the one in the cache. */
async function keysFor(proof: AttestableProof, flags: GlobalFlags & { zkey?: string }, proofPath: string): Promise<{ zkeyPath: string; vkey: Groth16VerificationKey; checked: boolean }> {
  const first = proof.chunks[0]!;
  if (flags.zkey) return { zkeyPath: resolve(flags.zkey), vkey: await readVerificationKey(flags.zkey), checked: false };
  const cacheDir = resolveCacheDir(flags.cacheDir);
  const candidates = proof.compiledId ? await cachedKeys(cacheDir, proof.compiledId) : [];
  if (candidates.length === 0) {
    throw new ZkaiError('KEY_NOT_FOUND', `no proving key for the circuit of ${proofPath} (circuit ${proof.compiledId || 'unnamed'}) in the cache ${cacheDir}`, {
      hint: 'pass --zkey FILE, the proving key the proof was made with (or the --cache-dir it was proven with)',
    });
  }
  const keys = await Promise.all(candidates.map(async (c) => ({ ...c, vkey: (await readJsonFile(c.vkeyPath, 'verification key')) as Groth16VerificationKey })));
  if (keys.length === 1) return { zkeyPath: keys[0]!.zkeyPath, vkey: keys[0]!.vkey, checked: false };
  // Several setups of one circuit (other ptau or beacon): the proof verifies against one of them.
  for (const key of keys) {
    if ((await verifyProof(key.vkey, first.proof, first.publicSignals)).valid) return { zkeyPath: key.zkeyPath, vkey: key.vkey, checked: true };
  }
  throw new ZkaiError('KEY_NOT_FOUND', `${proofPath} does not verify against any of the ${keys.length} proving keys of its circuit in the cache`, { hint: 'pass --zkey FILE, the proving key the proof was made with' });
}

interface SubjectChoice {
  version: string;
  subjectId: string;
  label: string;
  action: 'existing' | 'registered' | 'new-version' | 'given';
  gas?: string;
}

/** The version a proof's subject is, found among the signer's registered datasets or models, or registered now. */
async function findOrRegisterSubject(registry: RegistryClient, deployment: ZkaiDeployment, proof: AttestableProof, flags: { label?: string; commitment?: string; subject?: string }, me: string): Promise<SubjectChoice> {
  const contract = registry.contract;
  if (flags.subject) return { version: bytes32Option(flags.subject, '--subject', 'a dataset or model version id'), subjectId: '', label: '', action: 'given' };
  const want = proof.subject;
  const kindCode = want.kind === 'dataset' ? 1n : 2n;
  const label = flags.label ?? defaultLabel(proof);
  const labelHex = labelBytes(label);
  const labelled = keccak256(AbiCoder.defaultAbiCoder().encode(['address', 'bytes32'], [me, labelHex]));
  const matches = (v: { kind: bigint; root: bigint; count: bigint; depth: bigint; schemaHash: bigint; modelHash: bigint }) => {
    if (v.kind !== kindCode) return false;
    if (want.kind === 'model') return v.modelHash === BigInt(want.hash);
    if (v.root !== BigInt(want.root) || v.schemaHash !== BigInt(want.schemaHash)) return false;
    return want.commitment === undefined || (v.count === BigInt(want.commitment.count) && v.depth === BigInt(want.commitment.depth));
  };
  // The signer's subjects (all of them, or the one of --label), newest version first.
  let owned: string[];
  if (flags.label !== undefined) {
    owned = [labelled];
  } else {
    const logs = (await contract.queryFilter(contract.filters.SubjectRegistered!(null, me), deployment.blockNumber)) as EventLog[];
    owned = [...new Set(logs.map((log) => String(log.args[0])))];
  }
  for (const subjectId of owned) {
    const s = (await contract.getFunction('subjects').staticCall(subjectId)) as unknown as [string, bigint, bigint, string];
    if (s[0].toLowerCase() !== me.toLowerCase() || s[1] !== kindCode) continue;
    for (let number = Number(s[2]); number >= 1; number -= 1) {
      const id = keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32', 'uint256'], [subjectId, number]));
      const v = (await contract.getFunction('getVersion').staticCall(id)) as unknown as { kind: bigint; root: bigint; count: bigint; depth: bigint; schemaHash: bigint; modelHash: bigint };
      if (matches(v)) return { version: id, subjectId, label: subjectId === labelled ? label : '', action: 'existing' };
    }
  }
  // None: register it under the label (a new version when the label is taken by this signer's same kind of subject).
  const s = (await contract.getFunction('subjects').staticCall(labelled)) as unknown as [string, bigint, bigint, string];
  const exists = s[0] !== ZERO_ADDRESS;
  if (exists && s[1] !== kindCode) {
    throw new ChainError(`your label "${label}" already names a ${s[1] === 1n ? 'dataset' : 'model'}, not a ${want.kind}`, { hint: 'pass another --label' });
  }
  let commitment: DatasetCommitmentFields | undefined;
  if (want.kind === 'dataset') {
    commitment = want.commitment;
    if (!commitment) {
      if (!flags.commitment) {
        throw new ChainError(`no dataset of yours with root ${want.root} is registered, and an inclusion proof does not carry the record count`, {
          hint: 'attest a dataset proof of it first, or pass --commitment COMMITMENT.json (written by zkai data commit --public) to register it, or --subject VERSION for a dataset registered by someone else',
        });
      }
      commitment = commitmentOf(flags.commitment, await readJsonFile(flags.commitment, 'commitment'));
      if (commitment.root !== want.root || commitment.schemaHash !== want.schemaHash) throw new InputFileError(flags.commitment, `it is the commitment of root ${commitment.root}, not of the proof's root ${want.root} (or another schema)`);
    }
  }
  const made = want.kind === 'dataset'
    ? exists
      ? await registry.publishDatasetVersion(labelled, commitment!)
      : await registry.registerDataset(label, commitment!)
    : exists
      ? await registry.publishModelVersion(labelled, want.hash)
      : await registry.registerModel(label, want.hash);
  return { version: made.version, subjectId: made.subjectId, label, action: exists ? 'new-version' : 'registered', gas: made.gasUsed.toString() };
}

/** The expiration time of `--expires`: an ISO date, or +SECONDS from the chain's latest block. */
async function expirationOf(value: string | undefined, chain: ChainConnection): Promise<number | undefined> {
  if (value === undefined) return undefined;
  const relative = /^\+([0-9]+)$/.exec(value);
  if (relative) {
    const block = await chain.provider.getBlock('latest');
    return (block?.timestamp ?? Math.floor(Date.now() / 1000)) + Number(relative[1]);
  }
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new ZkaiError('BAD_OPTION', `--expires must be an ISO date (2027-01-31 or 2027-01-31T12:00:00Z) or +SECONDS, got "${value}"`);
  return Math.floor(ms / 1000);
}

/** The source flags `zkai chain register` needs for a proof of this kind (placeholders for the registrant to fill). */
function registerSourceWords(proof: AttestableProof): string {
  switch (proof.kind) {
    case 'dataset-policy':
    case 'dataset-chunk':
      return '--schema SCHEMA.json --policy POLICY.json --development';
    case 'inclusion':
      return '--schema SCHEMA.json --development';
    case 'inference':
      return '--model MODEL --frac-bits F --development';
    case 'accuracy':
      return '--model MODEL --frac-bits F --schema SCHEMA.json --label L --all-features --scale X --development';
    default:
      return proof.kind satisfies never;
  }
}

/** `zkai chain attest <proof.json>`. */
export async function chainAttestCommand(
  proofPath: string,
  flags: ChainFlags & { nonce?: string; label?: string; expires?: string; irrevocable?: boolean; ref?: string; zkey?: string; subject?: string; commitment?: string; testSet?: string; testSetLabel?: string },
): Promise<void> {
  const nonce = nonceOption(flags.nonce);
  const refUID = flags.ref === undefined ? undefined : bytes32Option(flags.ref, '--ref', 'an attestation uid');
  if (flags.label !== undefined) labelBytes(flags.label);
  if (flags.testSetLabel !== undefined) labelBytes(flags.testSetLabel);
  const proof = await readAttestable(proofPath);
  if (!proof.testSet && (flags.testSet !== undefined || flags.testSetLabel !== undefined)) throw new ZkaiError('BAD_OPTION', '--test-set and --test-set-label go with accuracy proofs only');
  const progress = (text: string) => progressLine(flags, text);

  const result = await withSession(flags, async (session) => {
    const { deployment, registry } = await deploymentOf(session);
    const me = await session.chain.signer.getAddress();

    // 1. The proof must be bound to this signer and nonce, or the registry refuses it (checked before sending anything).
    {
      const expected = attestationContext(deployment.chainId, deployment.registry, me, nonce).toString();
      for (const [j, chunk] of proof.chunks.entries()) {
        const got = chunk.publicSignals.at(-1);
        if (got === expected) continue;
        const where = proof.chunked ? `chunk ${j} of ${proofPath}` : proofPath;
        throw new ChainError(
          got === '0'
            ? `${where} was made without a context (context 0): the registry accepts only proofs bound to the attester and a nonce`
            : `${where} is bound to context ${got}, but attesting as ${me} with nonce ${nonce} on registry ${deployment.registry} (chain ${deployment.chainId}) needs context ${expected}`,
          {
            hint: got === '0'
              ? `prove again with --context ${expected} (this is the context of nonce ${nonce}; zkai chain context --nonce ${nonce}${chainFlagsText(flags)} prints it), then attest with --nonce ${nonce}`
              : `pass the --nonce the proof's context was made with (zkai chain context --nonce NONCE${chainFlagsText(flags)} prints the context of a nonce, for this account), or prove again with --context ${expected} and attest with --nonce ${nonce}; a proof made for another account cannot be attested by this one`,
          },
        );
      }
    }

    // 2. The circuit: its id is the verification key's; the registry owner registered it from its source
    // (zkai chain register), and its registration decides what the proof's signals mean.
    const keys = await keysFor(proof, flags, proofPath);
    const signalCount = proof.chunks[0]!.publicSignals.length;
    if (keys.vkey.nPublic !== signalCount) {
      throw new ZkaiError('KEY_MISMATCH', `the proving key ${keys.zkeyPath} has ${keys.vkey.nPublic} public signals, but the ${proof.kind} proof of ${proofPath} has ${signalCount}: it is not this proof's key`);
    }
    const circuitId = verificationKeyId(keys.vkey);
    const stored = await registry.registeredCircuit(circuitId);
    if (!stored) {
      const owner = String(await registry.contract.getFunction('owner').staticCall());
      throw new ChainError(`the ${proof.kind} circuit ${circuitId} of ${proofPath} is not registered on registry ${deployment.registry}`, {
        hint: `the registry owner (${owner}${owner.toLowerCase() === me.toLowerCase() ? ', you' : ''}) registers it from its own source: zkai chain register ${proofPath} ${registerSourceWords(proof)}${chainFlagsText(flags)} (add --consent-registry NAME --purpose P and --list REGISTRY=LIST for a policy with registries)`,
      });
    }
    const circuit = { id: circuitId, kind: stored.kind, keyTrust: stored.provenance?.keyTrust ?? 'none' };
    const base = { registry: deployment.registry, chainId: deployment.chainId, attester: me, circuit };

    // 3. The subject: a registered dataset or model version whose fields are the proof's.
    const subject = await findOrRegisterSubject(registry, deployment, proof, flags, me);
    if (subject.action === 'registered' || subject.action === 'new-version') progress(`[chain] ${subject.action === 'registered' ? 'registered' : 'published a new version of'} ${proof.subject.kind} "${subject.label}": version ${subject.version}`);
    // An accuracy proof's test set is a registered dataset too, found or registered the same way.
    const testSet = proof.testSet
      ? await findOrRegisterSubject(registry, deployment, { ...proof, subject: { kind: 'dataset', root: proof.testSet.root, schemaHash: proof.testSet.schemaHash, commitment: proof.testSet } }, { ...(flags.testSetLabel !== undefined ? { label: flags.testSetLabel } : {}), ...(flags.testSet !== undefined ? { subject: flags.testSet } : {}) }, me)
      : undefined;
    if (testSet && (testSet.action === 'registered' || testSet.action === 'new-version')) progress(`[chain] ${testSet.action === 'registered' ? 'registered' : 'published a new version of'} test set "${testSet.label}": version ${testSet.version}`);

    // 4. Attest.
    const expirationTime = await expirationOf(flags.expires, session.chain);
    const options = { circuit: circuit.id, subject: subject.version, nonce: nonce as string, ...(expirationTime === undefined ? {} : { expirationTime }), ...(refUID ? { refUID } : {}), revocable: !flags.irrevocable };
    if (testSet) {
      const pending = await registry.accuracyProgress(subject.version, circuit.id, testSet.version);
      if (pending.records > 0) {
        progress(`[chain] dropping an unfinished accuracy attestation of this model on this test set (${pending.records} records accepted earlier)`);
        await registry.resetAccuracyChunks(subject.version, circuit.id, testSet.version);
      }
      const made = await registry.attestAccuracy(options, testSet.version, proof.chunks, (done, total, gas) => progress(`[chain] accuracy chunk ${done}/${total} accepted (${gas} gas)`));
      const record = (await registry.attestations({ subject: subject.version, attester: me, fromBlock: deployment.blockNumber })).find((a) => a.uid === made.uid);
      return { ...base, subject, testSet, accuracy: made.accuracy, nonce, uid: made.uid, gas: made.gas.reduce((a, b) => a + b, 0n).toString(), chunkGas: made.gas.map(String), txHash: record?.txHash ?? '' };
    }
    if (proof.chunked) {
      const [, records] = (await registry.contract.getFunction('chunkProgress').staticCall(subject.version, circuit.id, me)) as unknown as [bigint, bigint];
      if (records > 0n) {
        progress(`[chain] dropping an unfinished chunked attestation of this dataset (${records} records accepted earlier)`);
        await registry.resetChunks(subject.version, circuit.id);
      }
      const made = await registry.attestChunks(options, proof.chunks, (done, total, gas) => progress(`[chain] chunk ${done}/${total} accepted (${gas} gas)`));
      const record = (await registry.attestations({ subject: subject.version, attester: me, fromBlock: deployment.blockNumber })).find((a) => a.uid === made.uid);
      return { ...base, subject, nonce, uid: made.uid, gas: made.gas.reduce((a, b) => a + b, 0n).toString(), chunkGas: made.gas.map(String), txHash: record?.txHash ?? '' };
    }
    const made = await registry.attest(options, proof.chunks[0]!.proof, proof.chunks[0]!.publicSignals);
    return { ...base, subject, nonce, uid: made.uid, gas: made.gasUsed.toString(), txHash: made.txHash };
  });

  const c = result.circuit;
  const circuitLines = [
    `  circuit      ${c.id} (${c.kind}; registered from source, key ${c.keyTrust === 'development' ? 'DEVELOPMENT (single-party)' : c.keyTrust})`,
  ];
  const s = result.subject;
  emit(flags, result, () =>
    [
      `attested ${proofPath}: uid ${result.uid}`,
      `  gas          ${result.gas}${'chunkGas' in result ? ` (${result.chunkGas.length} chunks: ${result.chunkGas.join(', ')})` : ''}`,
      `  tx           ${result.txHash}`,
      ...circuitLines,
      `  subject      ${s.version} (${proof.subject.kind}${s.label ? ` "${s.label}"` : ''}; ${subjectAction(s, '--subject')})`,
      ...('accuracy' in result && result.testSet
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
export async function chainRevokeCommand(uid: string, flags: ChainFlags): Promise<void> {
  const id = bytes32Option(uid, 'the uid', 'an attestation uid');
  const result = await withSession(flags, async (session) => {
    const { registry } = await deploymentOf(session);
    const { gasUsed } = await registry.revoke(id);
    return { uid: id, revoked: true, gas: gasUsed.toString() };
  });
  emit(flags, result, () => `revoked ${result.uid} (${result.gas} gas)`);
}

/** `zkai chain attestations`. */
export async function chainAttestationsCommand(flags: ChainFlags & { subject?: string; attester?: string }): Promise<void> {
  const subject = flags.subject === undefined ? undefined : bytes32Option(flags.subject, '--subject', 'a dataset or model version id');
  if (flags.attester !== undefined && !isAddress(flags.attester)) throw new ZkaiError('BAD_OPTION', `--attester must be an address (0x and 40 hex digits), got "${flags.attester}"`);
  const attester = flags.attester === undefined ? undefined : getAddress(flags.attester);
  const rows = await withSession(flags, async (session) => {
    const { deployment, registry } = await deploymentOf(session);
    const now = (await session.chain.provider.getBlock('latest'))?.timestamp ?? Math.floor(Date.now() / 1000);
    const records = await registry.attestations({ ...(subject ? { subject } : {}), ...(attester ? { attester } : {}), fromBlock: deployment.blockNumber });
    const kinds = new Map<string, string>();
    const out = [];
    for (const a of records) {
      if (!kinds.has(a.circuit)) {
        const c = (await registry.contract.getFunction('getCircuit').staticCall(a.circuit)) as unknown as { kind: bigint };
        kinds.set(a.circuit, CIRCUIT_KINDS[Number(c.kind) - 1] ?? 'unknown');
      }
      const status = a.revocationTime !== 0 ? 'revoked' : a.expirationTime !== 0 && a.expirationTime <= now ? 'expired' : 'valid';
      out.push({ uid: a.uid, kind: kinds.get(a.circuit) as string, circuit: a.circuit, subject: a.subject, attester: a.attester, time: new Date(a.time * 1000).toISOString(), expirationTime: a.expirationTime, revocationTime: a.revocationTime, revocable: a.revocable, refUID: a.refUID, policyHash: a.policyHash, status, valid: a.valid, txHash: a.txHash, ...(a.accuracy ? { accuracy: a.accuracy } : {}) });
    }
    return out;
  });
  emit(flags, rows, () => {
    if (rows.length === 0) return `no attestations${subject ? ` of ${subject}` : ''}${attester ? ` by ${attester}` : ''}`;
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
    const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
    return [line(header), ...table.map(line)].join('\n');
  });
}
