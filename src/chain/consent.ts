/**
 * The on-chain consent registry (`contracts/ConsentRegistry.sol`): deploy it, and a TypeScript client that sends its
 * transactions, decodes its custom errors into {@link ConsentError}, and rebuilds each purpose's Merkle tree from the
 * contract's events so that revocations (which need the leaf's sibling path) and proofs can be made.
 *
 * The tree is zkai's one Merkle tree (`src/crypto/merkle.ts`, also the registries'): binary, Poseidon(2) nodes, fixed
 * depth, empty leaves 0, zero subtree roots zeros[0] = 0 and zeros[h + 1] = Poseidon(zeros[h], zeros[h]). A subject is
 * an account, and the contract derives its leaf, `Poseidon3(account + 1, 0, account)` ({@link accountLeaf}): the leaf
 * the dataset circuits' `RegistryMember` accepts for a record whose address column holds that account. Nobody chooses
 * a leaf: only the account, its named delegate, or anyone relaying the account's EIP-712 signature
 * ({@link signGrant}, {@link signRevoke}, {@link signDelegate}) can grant or revoke.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  Contract,
  EventLog,
  Interface,
  Signature,
  ZeroAddress,
  getAddress,
  id,
  isHexString,
  type BlockTag,
  type ContractRunner,
  type ContractTransactionResponse,
  type Log,
  type Provider,
  type Signer,
  type TransactionReceipt,
  type TypedDataDomain,
} from 'ethers';
import { poseidon3 } from 'poseidon-lite';
import { merklePath, merkleRoot, sparseTreeLevels, zeroRoots, type MerklePath } from '../crypto/merkle.ts';
import { ChainError, describeError } from '../errors.ts';
import { compileSolidity, type CompileSolidityOptions } from './solidity-verifier.ts';
import { deployCompiled } from './deploy-contract.ts';
import { shortEthersMessage } from './ethers-errors.ts';
import { decodeRevert } from './revert-decoder.ts';
import { withGasHeadroom } from './send-transaction.ts';
import type { CompiledContract } from './types.ts';

/** Name of the contract in `contracts/ConsentRegistry.sol`. */
export const CONSENT_REGISTRY_CONTRACT = 'ConsentRegistry';

/** Deepest tree a purpose may have (the contract's `MAX_DEPTH`, and zkai's `MAX_REGISTRY_DEPTH`). */
export const MAX_CONSENT_DEPTH = 24;

/** Longest root window a purpose may have, in seconds (the contract's `MAX_ROOT_WINDOW`: 30 days). */
export const MAX_ROOT_WINDOW = 30 * 86_400;

/** Path of the contract's source, inside the package. */
export const CONSENT_REGISTRY_SOURCE = fileURLToPath(new URL('../../contracts/ConsentRegistry.sol', import.meta.url));

// ---------------------------------------------------------------------------------------------------------------
// Errors

/**
 * The consent registry refused a call: one of its custom errors (PurposeExists, NotSubjectOrDelegate, BadSiblings...).
 * The message names the operation, what was wrong and the error, e.g. "revoke refused: 0xabc... is neither the
 * subject of leaf 3 (0xdef...) nor their delegate (NotSubjectOrDelegate)".
 */
export class ConsentError extends ChainError {
  /** The Solidity error's name, e.g. `NotSubjectOrDelegate`. */
  readonly errorName: string;
  /** The error's arguments by name (addresses checksummed, integers as bigint). */
  readonly args: Readonly<Record<string, unknown>>;
  /** The client operation that was refused, e.g. `revoke`. */
  readonly operation: string;

  constructor(
    operation: string,
    errorName: string,
    args: Readonly<Record<string, unknown>>,
    message: string,
    cause?: unknown,
  ) {
    super(`${operation} refused: ${message} (${errorName})`, cause === undefined ? {} : { cause });
    this.errorName = errorName;
    this.args = args;
    this.operation = operation;
  }
}

/** What the client knows about a call, to word an error message. */
interface ErrorContext {
  readonly index?: number;
}

/** Human explanation of each of the contract's errors. */
function explain(name: string, a: Readonly<Record<string, unknown>>, context: ErrorContext): string {
  const leaf = (index: unknown) => `leaf ${String(index)}`;
  switch (name) {
    case 'PurposeExists':
      return `purpose ${String(a.purpose)} already exists`;
    case 'PurposeUnknown':
      return `purpose ${String(a.purpose)} does not exist (create it first)`;
    case 'BadDepth':
      return `depth ${String(a.depth)} is not in 1..${MAX_CONSENT_DEPTH}`;
    case 'BadRootWindow':
      return `a root window of ${String(a.rootWindow)} s is longer than the ${String(a.max)} s (30 days) a replaced root may stay acceptable`;
    case 'AlreadyGranted':
      return `${String(a.subject)} already has a live grant for purpose ${String(a.purpose)} (${leaf(a.index)}); revoke it first to grant again`;
    case 'ZeroSubject':
      return 'the subject cannot be the zero address';
    case 'SignatureExpired':
      return `the signature's deadline ${String(a.deadline)} has passed`;
    case 'BadSignature':
      return `the signature is not ${String(a.subject)}'s over this request (wrong signer, purpose, index, chain, contract, or an already used nonce)`;
    case 'TreeFull':
      return `the tree of purpose ${String(a.purpose)} is full (2^${String(a.depth)} leaves)`;
    case 'NotSubjectOrDelegate':
      return context.index === undefined
        ? `${String(a.caller)} is neither ${String(a.subject)} nor their delegate`
        : `${String(a.caller)} is neither the subject of ${leaf(context.index)} (${String(a.subject)}) nor their delegate`;
    case 'ZeroDelegate':
      return 'the delegate cannot be the zero address (use clearDelegate)';
    case 'UnknownIndex':
      return `${leaf(a.index)} does not exist: purpose ${String(a.purpose)} has ${String(a.leafCount)} leaves`;
    case 'AlreadyRevoked':
      return `${leaf(a.index)} of purpose ${String(a.purpose)} is already revoked`;
    case 'BadPathLength':
      return `the sibling path has ${String(a.given)} nodes, the tree has depth ${String(a.depth)}`;
    case 'BadSiblings':
      return `the sibling path of ${leaf(a.index)} does not lead to the current root of purpose ${String(a.purpose)} (wrong siblings, or the tree changed since it was read)`;
    case 'NotAContract':
      return `there is no contract at ${String(a.account)}`;
    case 'WrongPoseidon':
      return `${String(a.hasher)} is not the circomlib Poseidon contract expected (it hashed the check input to ${String(a.checkHash)})`;
    case 'PoseidonFailed':
      return 'the call to the Poseidon contract failed';
    default:
      return `the contract reverted with ${name}(${Object.entries(a)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')})`;
  }
}

/**
 * Turn anything a call threw into a {@link ConsentError} when it carries one of the contract's custom errors, or a
 * {@link ChainError} otherwise.
 */
function toChainError(error: unknown, iface: Interface, operation: string, context: ErrorContext = {}): ChainError {
  if (error instanceof ChainError) return error;
  const decoded = decodeRevert(iface, error);
  if (decoded)
    return new ConsentError(
      operation,
      decoded.name,
      decoded.named,
      explain(decoded.name, decoded.named, context),
      error,
    );
  return new ChainError(`${operation} failed: ${shortEthersMessage(error)}`, { cause: error });
}

// ---------------------------------------------------------------------------------------------------------------
// Compile and deploy

let compiledPromise: Promise<CompiledContract> | undefined;

/**
 * Compile `contracts/ConsentRegistry.sol` with the bundled solc. The result is cached in memory (per process) unless
 * `options` are given.
 *
 * @throws {CompileError} (solidity-verifier.ts's SolidityCompileError) when solc rejects the source; {@link ChainError}
 *   when the file cannot be read.
 */
export function compileConsentRegistry(options?: CompileSolidityOptions): Promise<CompiledContract> {
  const compile = async () => {
    let source: string;
    try {
      source = await readFile(CONSENT_REGISTRY_SOURCE, 'utf8');
    } catch (error) {
      throw new ChainError(
        `cannot read the consent registry source ${CONSENT_REGISTRY_SOURCE}: ${describeError(error)}`,
        { cause: error },
      );
    }
    return compileSolidity(source, CONSENT_REGISTRY_CONTRACT, options);
  };
  if (options !== undefined) return compile();
  compiledPromise ??= compile().catch((error: unknown) => {
    compiledPromise = undefined;
    throw error;
  });
  return compiledPromise;
}

/** A deployed consent registry. */
export interface DeployedConsentRegistry {
  readonly address: string;
  /** Gas used by the deployment transaction. */
  readonly deployGas: bigint;
  /** Block of the deployment: where event scans start. */
  readonly blockNumber: number;
  readonly txHash: string;
  /** A client of the registry, connected to the signer that deployed it. */
  readonly client: ConsentRegistryClient;
}

/**
 * Compile (once per process) and deploy `ConsentRegistry`.
 *
 * @param signer a signer connected to a provider.
 * @param poseidonAddress a circomlibjs Poseidon(2) contract (see `deployPoseidon`); the constructor checks it hashes
 *   like circomlib's Poseidon.
 * @param poseidon3Address a circomlibjs Poseidon(3) contract (`deployPoseidon(signer, 3)`), for the leaves.
 * @throws {ConsentError} when the constructor refuses a Poseidon address (NotAContract, WrongPoseidon).
 * @throws {ChainError} when the deployment fails otherwise; a CompileError when solc fails.
 */
export async function deployConsentRegistry(
  signer: Signer,
  poseidonAddress: string,
  poseidon3Address: string,
): Promise<DeployedConsentRegistry> {
  const compiled = await compileConsentRegistry();
  const iface = new Interface(compiled.abi as object[]);
  try {
    const { address, deployGas, blockNumber, txHash } = await deployCompiled(signer, compiled, [
      poseidonAddress,
      poseidon3Address,
    ]);
    return {
      address,
      deployGas,
      blockNumber,
      txHash,
      client: new ConsentRegistryClient(address, signer, { fromBlock: blockNumber, abi: compiled.abi }),
    };
  } catch (error) {
    throw toChainError(error, iface, 'deploying the consent registry');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Trees

/**
 * The consent leaf of an account, as the contract computes it: Poseidon3(account + 1, 0, account), i.e. the registry
 * leaf (`registryLeaf` of src/data/registry.ts) of key = value = the account, which is what a dataset circuit computes
 * for a record whose address column holds that account.
 */
export function accountLeaf(account: string): bigint {
  const a = BigInt(getAddress(account));
  return poseidon3([a + 1n, 0n, a]);
}

/** An EIP-712 signature split as the contract takes it. */
export interface ConsentSignature {
  readonly v: number;
  readonly r: string;
  readonly s: string;
}

/** The EIP-712 domain of a consent registry on a chain: no signature made for one works on another, or elsewhere. */
export function consentDomain(chainId: bigint | number, registry: string): TypedDataDomain {
  return { name: 'zkai ConsentRegistry', version: '1', chainId, verifyingContract: getAddress(registry) };
}

const GRANT_TYPES = {
  Grant: [
    { name: 'subject', type: 'address' },
    { name: 'purpose', type: 'bytes32' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
};
const REVOKE_TYPES = {
  Revoke: [
    { name: 'subject', type: 'address' },
    { name: 'purpose', type: 'bytes32' },
    { name: 'index', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
};
const DELEGATE_TYPES = {
  SetDelegate: [
    { name: 'subject', type: 'address' },
    { name: 'delegate', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
};

/** A signed request anyone may relay: what the subject signed, and the signature. */
export interface SignedConsentRequest<T> {
  readonly request: T;
  readonly signature: ConsentSignature;
}

/** What a relayed grant carries. */
export interface GrantRequest {
  readonly subject: string;
  readonly purpose: string;
  readonly nonce: bigint;
  readonly deadline: bigint;
}

/** What a relayed revocation carries. */
export interface RevokeRequest extends GrantRequest {
  readonly index: number;
}

/** What a relayed delegate change carries (delegate ZeroAddress clears it). */
export interface DelegateRequest {
  readonly subject: string;
  readonly delegate: string;
  readonly nonce: bigint;
  readonly deadline: bigint;
}

/** The contract's Authorization struct. */
function authorization(
  deadline: bigint,
  signature: ConsentSignature,
): { deadline: bigint; v: number; r: string; s: string } {
  return { deadline, v: signature.v, r: signature.r, s: signature.s };
}

function split(signature: string): ConsentSignature {
  const sig = Signature.from(signature);
  return { v: sig.v, r: sig.r, s: sig.s };
}

/** Sign a grant for `request.subject` (the signer must be that account) for anyone to relay with grantBySig. */
export async function signGrant(
  signer: Signer,
  domain: TypedDataDomain,
  request: GrantRequest,
): Promise<SignedConsentRequest<GrantRequest>> {
  return { request, signature: split(await signer.signTypedData(domain, GRANT_TYPES, { ...request })) };
}

/** Sign the revocation of leaf `request.index` for anyone to relay with revokeBySig. */
export async function signRevoke(
  signer: Signer,
  domain: TypedDataDomain,
  request: RevokeRequest,
): Promise<SignedConsentRequest<RevokeRequest>> {
  return { request, signature: split(await signer.signTypedData(domain, REVOKE_TYPES, { ...request })) };
}

/** Sign a delegate change for anyone to relay with setDelegateBySig. */
export async function signDelegate(
  signer: Signer,
  domain: TypedDataDomain,
  request: DelegateRequest,
): Promise<SignedConsentRequest<DelegateRequest>> {
  return { request, signature: split(await signer.signTypedData(domain, DELEGATE_TYPES, { ...request })) };
}

/** zeros[h]: the root of 2^h zero leaves (`zeroRoots` of `src/crypto/merkle.ts`). */
export function consentZeroRoots(depth: number): bigint[] {
  return zeroRoots(depth);
}

/** A purpose's consent tree, rebuilt off chain. */
export interface ConsentTree {
  readonly depth: number;
  /** Leaves by index: the granted leaf, or 0 once revoked. Positions past the last grant are 0 and not listed. */
  readonly leaves: bigint[];
  /** The data subject of each leaf (checksummed), kept after a revocation. */
  readonly subjects: string[];
  readonly root: bigint;
  /** Levels from the leaves up; level h holds only its non-empty prefix (the rest are zero subtrees). */
  readonly levels: bigint[][];
  /**
   * Sibling path and position bits (least significant first) of leaf `index`, as `registryPath`.
   *
   * @throws {RangeError} when `index` is not an integer in [0, 2^depth).
   */
  pathOf(index: number): MerklePath;
}

/** A consent tree read from the chain, with the block it was read at. */
export interface ChainConsentTree extends ConsentTree {
  readonly purpose: string;
  /** The block whose state the tree reflects (events up to it, root at it). */
  readonly blockNumber: number;
}

/**
 * Build the tree of `leaves` (index order) at `depth`, exactly as the contract does.
 *
 * @throws {RangeError} when the depth is not in 1..24 or there are more than 2^depth leaves.
 */
export function buildConsentTree(
  depth: number,
  leaves: readonly bigint[],
  subjects: readonly string[] = [],
): ConsentTree {
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_CONSENT_DEPTH)
    throw new RangeError(`consent tree depth must be 1..${MAX_CONSENT_DEPTH}, got ${depth}`);
  if (leaves.length > 2 ** depth) throw new RangeError(`${leaves.length} leaves do not fit a tree of depth ${depth}`);
  const levels = sparseTreeLevels(leaves, depth);
  return {
    depth,
    leaves: [...leaves],
    subjects: [...subjects],
    root: merkleRoot(levels),
    levels,
    pathOf: (index: number) => merklePath(levels, index),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Client

/** The id of a purpose: the keccak256 of its name (any bytes32 is a valid id; this is the convention). */
export function purposeId(name: string): string {
  return id(name);
}

/** A purpose's on-chain settings and state. */
export interface PurposeInfo {
  readonly admin: string;
  readonly depth: number;
  /** Seconds a replaced root stays acceptable. */
  readonly rootWindow: number;
  /** Leaves appended so far, revoked ones included. */
  readonly leafCount: number;
  readonly root: bigint;
}

/** Options of {@link ConsentRegistryClient.createPurpose}. */
export interface CreatePurposeOptions {
  /** Tree depth, 1..24: the purpose holds at most 2^depth grants. */
  readonly depth: number;
  /** Seconds a replaced root stays acceptable to `isKnownRoot` (0: only the current root). */
  readonly rootWindow: number;
  /** Free text, emitted in the PurposeCreated event (not stored). Default empty. */
  readonly description?: string;
}

/** A mined transaction of the registry. */
export interface ConsentTx {
  readonly txHash: string;
  readonly gasUsed: bigint;
  readonly blockNumber: number;
}

/** A mined grant. */
export interface GrantResult extends ConsentTx {
  /** Position of the leaf in the purpose's tree. */
  readonly index: number;
  /** The purpose's root after the grant. */
  readonly root: bigint;
}

/** A mined revocation. */
export interface RevokeResult extends ConsentTx {
  /** The purpose's root after the revocation. */
  readonly root: bigint;
}

/** A ConsentGranted event. */
export interface GrantEvent {
  readonly index: number;
  readonly leaf: bigint;
  readonly subject: string;
  /** Who sent the grant: the subject, or their delegate. */
  readonly by: string;
  readonly blockNumber: number;
  readonly txHash: string;
}

/** A ConsentRevoked event. */
export interface RevokeEvent {
  readonly index: number;
  readonly subject: string;
  readonly by: string;
  readonly blockNumber: number;
  readonly txHash: string;
}

/** Options of {@link ConsentRegistryClient}. */
export interface ConsentRegistryClientOptions {
  /** First block to scan for events: the deployment block (default 0, fine on a local node). */
  readonly fromBlock?: number;
  /** The contract's ABI, when already at hand (default: compiled from the source on first use). */
  readonly abi?: readonly object[];
}

/**
 * A client of a deployed `ConsentRegistry`. Transactions are sent with the runner given (a Signer); use
 * {@link ConsentRegistryClient.connect} to act as another account. Every refusal by the contract is thrown as a
 * {@link ConsentError}; other failures as {@link ChainError}.
 */
export class ConsentRegistryClient {
  readonly address: string;
  readonly runner: ContractRunner;
  /** First block scanned for events. */
  readonly fromBlock: number;
  private readonly abi: readonly object[] | undefined;
  private contractPromise: Promise<Contract> | undefined;

  /**
   * @param address the registry's address.
   * @param runner a Signer to send transactions (a Provider is enough for reads).
   */
  constructor(address: string, runner: ContractRunner, options: ConsentRegistryClientOptions = {}) {
    this.address = getAddress(address);
    this.runner = runner;
    this.fromBlock = options.fromBlock ?? 0;
    this.abi = options.abi;
  }

  /** The same registry, acting as `signer`. */
  connect(signer: ContractRunner): ConsentRegistryClient {
    return new ConsentRegistryClient(this.address, signer, {
      fromBlock: this.fromBlock,
      ...(this.abi ? { abi: this.abi } : {}),
    });
  }

  /** The ethers contract (ABI from the compiled source, compiled once per process if not given). */
  contract(): Promise<Contract> {
    this.contractPromise ??= (async () =>
      new Contract(this.address, (this.abi ?? (await compileConsentRegistry()).abi) as object[], this.runner))();
    return this.contractPromise;
  }

  /**
   * Create a purpose; the sender becomes its admin.
   *
   * @throws {ConsentError} PurposeExists, BadDepth.
   */
  async createPurpose(purpose: string, options: CreatePurposeOptions): Promise<ConsentTx> {
    checkPurpose(purpose);
    const receipt = await this.send('createPurpose', {}, 'createPurpose', [
      purpose,
      options.depth,
      options.rootWindow,
      options.description ?? '',
    ]);
    return txOf(receipt);
  }

  /**
   * Grant consent as the sender (the data subject): the contract appends the sender's {@link accountLeaf}.
   *
   * @throws {ConsentError} PurposeUnknown, AlreadyGranted, TreeFull.
   */
  async grant(purpose: string): Promise<GrantResult> {
    checkPurpose(purpose);
    return this.grantResult(await this.send('grant', {}, 'grant', [purpose]));
  }

  /**
   * Grant consent for `subject`, as their delegate (or as the subject).
   *
   * @throws {ConsentError} NotSubjectOrDelegate, and those of {@link ConsentRegistryClient.grant}.
   */
  async grantFor(subject: string, purpose: string): Promise<GrantResult> {
    checkPurpose(purpose);
    return this.grantResult(await this.send('grantFor', {}, 'grantFor', [subject, purpose]));
  }

  /** The EIP-712 domain of this registry on the connected chain (what {@link signGrant} and friends sign for). */
  async domain(): Promise<TypedDataDomain> {
    return consentDomain((await this.provider().getNetwork()).chainId, this.address);
  }

  /**
   * Cancel every request the sender signed that nobody relayed yet (uses up its nonce). A revocation and a delegate
   * change do the same by themselves.
   */
  async cancelSignatures(): Promise<ConsentTx> {
    return txOf(await this.send('cancelSignatures', {}, 'cancelSignatures', []));
  }

  /** The nonce `subject`'s next signature must carry. */
  async nonceOf(subject: string): Promise<bigint> {
    return (await this.view('nonces', [subject])) as bigint;
  }

  /**
   * Relay a grant the subject signed ({@link signGrant}); the sender pays the gas and may be anyone.
   *
   * @throws {ConsentError} BadSignature (also for a used nonce, another purpose, chain or registry), SignatureExpired,
   *   and those of {@link ConsentRegistryClient.grant}.
   */
  async grantBySig(signed: SignedConsentRequest<GrantRequest>): Promise<GrantResult> {
    const { request, signature } = signed;
    checkPurpose(request.purpose);
    return this.grantResult(
      await this.send('grantBySig', {}, 'grantBySig', [
        request.subject,
        request.purpose,
        authorization(request.deadline, signature),
      ]),
    );
  }

  /**
   * Relay a revocation the subject signed ({@link signRevoke}). The sibling path is read as for
   * {@link ConsentRegistryClient.revoke}.
   *
   * @throws {ConsentError} BadSignature, SignatureExpired, and those of {@link ConsentRegistryClient.revoke}.
   */
  async revokeBySig(
    signed: SignedConsentRequest<RevokeRequest>,
    options: { siblings?: readonly bigint[] } = {},
  ): Promise<RevokeResult> {
    const { request, signature } = signed;
    checkPurpose(request.purpose);
    return this.withFreshSiblings(request.purpose, request.index, options.siblings, async (siblings) =>
      this.send('revokeBySig', { index: request.index }, 'revokeBySig', [
        request.subject,
        request.purpose,
        request.index,
        [...siblings],
        authorization(request.deadline, signature),
      ]),
    );
  }

  /**
   * Relay a delegate change the subject signed ({@link signDelegate}).
   *
   * @throws {ConsentError} BadSignature, SignatureExpired.
   */
  async setDelegateBySig(signed: SignedConsentRequest<DelegateRequest>): Promise<ConsentTx> {
    const { request, signature } = signed;
    return txOf(
      await this.send('setDelegateBySig', {}, 'setDelegateBySig', [
        request.subject,
        request.delegate,
        authorization(request.deadline, signature),
      ]),
    );
  }

  /** 1 + the index of `subject`'s live grant for `purpose`, or 0 when it has none. */
  async liveGrantOf(purpose: string, subject: string): Promise<number> {
    checkPurpose(purpose);
    return Number((await this.view('liveGrantOf', [purpose, subject])) as bigint);
  }

  /**
   * Name the one address that may grant and revoke for the sender.
   *
   * @throws {ConsentError} ZeroDelegate.
   */
  async setDelegate(delegate: string): Promise<ConsentTx> {
    return txOf(await this.send('setDelegate', {}, 'setDelegate', [delegate]));
  }

  /** Remove the sender's delegate. */
  async clearDelegate(): Promise<ConsentTx> {
    return txOf(await this.send('clearDelegate', {}, 'clearDelegate', []));
  }

  /**
   * Revoke leaf `index`, as its subject or their delegate. The sibling path is computed from the tree rebuilt from
   * events ({@link ConsentRegistryClient.readConsentTree}) unless `options.siblings` is given. If another transaction
   * changes the tree between the read and this one, the contract refuses with BadSiblings and the client reads again
   * and retries (a few times; with `options.siblings` given it does not). The subject's outstanding signed requests
   * are cancelled (its nonce is used up), so a grant it signed earlier cannot undo the revocation.
   *
   * @throws {ConsentError} NotSubjectOrDelegate, AlreadyRevoked, UnknownIndex, BadSiblings, BadPathLength,
   *   PurposeUnknown.
   */
  async revoke(purpose: string, index: number, options: { siblings?: readonly bigint[] } = {}): Promise<RevokeResult> {
    checkPurpose(purpose);
    return this.withFreshSiblings(purpose, index, options.siblings, async (siblings) =>
      this.send('revoke', { index }, 'revoke', [purpose, index, [...siblings]]),
    );
  }

  /**
   * Send a revocation with the given siblings, or with siblings read now; when they were read here and another
   * transaction changed the tree in between (BadSiblings), read again and retry, a few times, so that other grants
   * and revocations (or someone doing them on purpose) only delay a revocation.
   */
  private async withFreshSiblings(
    purpose: string,
    index: number,
    given: readonly bigint[] | undefined,
    send: (siblings: readonly bigint[]) => Promise<TransactionReceipt>,
  ): Promise<RevokeResult> {
    const ATTEMPTS = 4;
    for (let attempt = 1; ; attempt += 1) {
      const siblings = given ?? (await this.siblingsOf(purpose, index));
      try {
        return await this.revokeResult(await send(siblings));
      } catch (error) {
        if (
          given !== undefined ||
          attempt >= ATTEMPTS ||
          !(error instanceof ConsentError) ||
          error.errorName !== 'BadSiblings'
        )
          throw error;
      }
    }
  }

  private async siblingsOf(purpose: string, index: number): Promise<readonly bigint[]> {
    const tree = await this.readConsentTree(purpose);
    return index >= 0 && index < 2 ** tree.depth ? tree.pathOf(index).siblings : [];
  }

  private async revokeResult(receipt: TransactionReceipt): Promise<RevokeResult> {
    const changed = await this.parseLogs(receipt, 'RootChanged');
    const newRoot = changed[0]?.args.newRoot as bigint | undefined;
    if (newRoot === undefined) throw new ChainError('revoke: the transaction emitted no RootChanged event');
    return { ...txOf(receipt), root: newRoot };
  }

  /** Is `root` the purpose's current root, or one replaced less than its root window ago? False for an unknown purpose. */
  async isKnownRoot(purpose: string, root: bigint, blockTag?: BlockTag): Promise<boolean> {
    checkPurpose(purpose);
    return (await this.view('isKnownRoot', [purpose, root], blockTag)) as boolean;
  }

  /**
   * The purpose's current root.
   *
   * @throws {ConsentError} PurposeUnknown.
   */
  async currentRoot(purpose: string, blockTag?: BlockTag): Promise<bigint> {
    checkPurpose(purpose);
    return (await this.view('currentRoot', [purpose], blockTag)) as bigint;
  }

  /**
   * A purpose's admin, depth, root window, leaf count and root.
   *
   * @throws {ConsentError} PurposeUnknown.
   */
  async purposeInfo(purpose: string, blockTag?: BlockTag): Promise<PurposeInfo> {
    checkPurpose(purpose);
    const [admin, depth, rootWindow, leafCount, root] = (await this.view('purposeInfo', [purpose], blockTag)) as [
      string,
      bigint,
      bigint,
      bigint,
      bigint,
    ];
    return { admin, depth: Number(depth), rootWindow: Number(rootWindow), leafCount: Number(leafCount), root };
  }

  /** `subject`'s delegate, or undefined when they named none. */
  async delegateOf(subject: string, blockTag?: BlockTag): Promise<string | undefined> {
    const delegate = (await this.view('delegateOf', [subject], blockTag)) as string;
    return delegate === ZeroAddress ? undefined : delegate;
  }

  /** The purpose's grant and revoke events, in chain order, from {@link ConsentRegistryClient.fromBlock} to `toBlock`. */
  async consentEvents(
    purpose: string,
    toBlock: BlockTag = 'latest',
  ): Promise<{ grants: GrantEvent[]; revokes: RevokeEvent[] }> {
    checkPurpose(purpose);
    const contract = await this.contract();
    let granted: Array<EventLog | Log>;
    let revoked: Array<EventLog | Log>;
    try {
      granted = await contract.queryFilter(contract.filters.ConsentGranted!(purpose), this.fromBlock, toBlock);
      revoked = await contract.queryFilter(contract.filters.ConsentRevoked!(purpose), this.fromBlock, toBlock);
    } catch (error) {
      throw toChainError(error, contract.interface, 'reading consent events');
    }
    const grants = granted
      .filter((e): e is EventLog => e instanceof EventLog)
      .map((e) => ({
        index: Number(e.args.index as bigint),
        leaf: e.args.leaf as bigint,
        subject: e.args.subject as string,
        by: e.args.by as string,
        blockNumber: e.blockNumber,
        txHash: e.transactionHash,
      }));
    const revokes = revoked
      .filter((e): e is EventLog => e instanceof EventLog)
      .map((e) => ({
        index: Number(e.args.index as bigint),
        subject: e.args.subject as string,
        by: e.args.by as string,
        blockNumber: e.blockNumber,
        txHash: e.transactionHash,
      }));
    return { grants, revokes };
  }

  /**
   * Rebuild a purpose's tree from the contract's events, at one block (default: the latest), and check that its root
   * is the contract's root at that block.
   *
   * @throws {ConsentError} PurposeUnknown.
   * @throws {ChainError} when events are missing (e.g. `fromBlock` after the purpose's first grants) or the rebuilt
   *   root differs from the contract's.
   */
  async readConsentTree(purpose: string, blockNumber?: number): Promise<ChainConsentTree> {
    checkPurpose(purpose);
    const block = blockNumber ?? (await this.provider().getBlockNumber());
    const info = await this.purposeInfo(purpose, block);
    const { grants, revokes } = await this.consentEvents(purpose, block);
    const leaves: Array<bigint | undefined> = new Array<bigint | undefined>(info.leafCount).fill(undefined);
    const subjects: string[] = new Array<string>(info.leafCount).fill(ZeroAddress);
    for (const grant of grants) {
      if (grant.index >= info.leafCount || leaves[grant.index] !== undefined) {
        throw new ChainError(
          `purpose ${purpose}: unexpected ConsentGranted event for leaf ${grant.index} (the purpose has ${info.leafCount} leaves)`,
        );
      }
      leaves[grant.index] = grant.leaf;
      subjects[grant.index] = grant.subject;
    }
    const missing = leaves.findIndex((leaf) => leaf === undefined);
    if (missing >= 0) {
      throw new ChainError(
        `purpose ${purpose}: no ConsentGranted event for leaf ${missing} between blocks ${this.fromBlock} and ${block}`,
        {
          hint: 'give the client the registry deployment block as fromBlock (or an earlier one)',
        },
      );
    }
    for (const revoke of revokes) {
      if (revoke.index >= info.leafCount)
        throw new ChainError(`purpose ${purpose}: ConsentRevoked event for unknown leaf ${revoke.index}`);
      leaves[revoke.index] = 0n;
    }
    const tree = buildConsentTree(info.depth, leaves as bigint[], subjects);
    if (tree.root !== info.root) {
      throw new ChainError(
        `purpose ${purpose}: the tree rebuilt from events has root ${tree.root}, but the contract's root at block ${block} is ${info.root}`,
      );
    }
    return { ...tree, purpose, blockNumber: block };
  }

  // -------------------------------------------------------------------------------------------------------------

  private provider(): Provider {
    const provider = this.runner.provider;
    if (!provider)
      throw new ChainError('the consent registry client has no provider (connect it to a signer or provider)');
    return provider;
  }

  private async view(method: string, args: readonly unknown[], blockTag?: BlockTag): Promise<unknown> {
    const contract = await this.contract();
    try {
      return await contract.getFunction(method).staticCall(...args, blockTag === undefined ? {} : { blockTag });
    } catch (error) {
      throw toChainError(error, contract.interface, method);
    }
  }

  private async send(
    operation: string,
    context: ErrorContext,
    method: string,
    args: readonly unknown[],
  ): Promise<TransactionReceipt> {
    const contract = await this.contract();
    try {
      const fn = contract.getFunction(method);
      // Estimate first (a refusal surfaces here, decoded), then send with headroom: see withGasHeadroom.
      const tx = (await fn.send(...args, {
        gasLimit: withGasHeadroom(await fn.estimateGas(...args)),
      })) as ContractTransactionResponse;
      const receipt = await tx.wait();
      if (!receipt) throw new Error('the transaction has no receipt');
      return receipt;
    } catch (error) {
      throw toChainError(error, contract.interface, operation, context);
    }
  }

  private async parseLogs(receipt: TransactionReceipt, eventName: string) {
    const contract = await this.contract();
    const address = this.address.toLowerCase();
    return receipt.logs
      .filter((log) => log.address.toLowerCase() === address)
      .map((log) => contract.interface.parseLog(log))
      .filter((parsed) => parsed?.name === eventName)
      .map((parsed) => parsed!);
  }

  private async grantResult(receipt: TransactionReceipt): Promise<GrantResult> {
    const [granted] = await this.parseLogs(receipt, 'ConsentGranted');
    const [changed] = await this.parseLogs(receipt, 'RootChanged');
    if (!granted || !changed)
      throw new ChainError('grant: the transaction emitted no ConsentGranted/RootChanged event');
    return { ...txOf(receipt), index: Number(granted.args.index as bigint), root: changed.args.newRoot as bigint };
  }
}

function txOf(receipt: TransactionReceipt): ConsentTx {
  return { txHash: receipt.hash, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber };
}

function checkPurpose(purpose: string): void {
  if (!isHexString(purpose, 32)) {
    throw new ChainError(`a purpose id is a 0x-prefixed 32-byte hex string, got ${JSON.stringify(purpose)}`, {
      hint: 'derive one from a name with purposeId(name)',
    });
  }
}
