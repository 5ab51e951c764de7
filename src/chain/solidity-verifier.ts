/**
 * On-chain Groth16 verification: generate a Solidity verifier for a zkey (zkai's reverting template, or snarkjs's
 * for comparison), compile it with solc (npm, wasm), deploy it with ethers, and check proofs against it.
 */
import { open, readFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as snarkjs from 'snarkjs';
import { Contract, Interface, type BaseContract, type BaseContractMethod, type Signer } from 'ethers';
import { ChainError, CompileError, InputFileError, MalformedProofError, describeError } from '../errors.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import { assertProofShape, assertPublicSignals } from '../verifier/verify.ts';
import type { CompiledContract, VerifierCallArgs } from './types.ts';
import { deployCompiled } from './deploy-contract.ts';
import { revertData, shortEthersMessage } from './ethers-errors.ts';
import { decodeRevert } from './revert-decoder.ts';
import { compiledSolidityPath, keepCompiledSolidity, readCompiledSolidity } from './solidity-cache.ts';

export { revertData, shortEthersMessage };
import {
  ZKAI_VERIFIER_CONTRACT,
  ZKAI_VERIFY_SIGNATURE,
  generateGroth16Verifier,
  type Groth16VerificationKey,
} from './groth16-template.ts';

/** Name of the contract in the snarkjs Groth16 template. */
export const GROTH16_VERIFIER_CONTRACT = 'Groth16Verifier';

/** Default gas limit of the transaction sent by {@link verifyOnChain} to measure gas. */
export const DEFAULT_VERIFY_GAS_LIMIT = 1_000_000n;

// ---------------------------------------------------------------------------------------------------------------
// snarkjs: export the verifier

/** Directory of the installed snarkjs package (its `exports` map hides `snarkjs/package.json`). */
function snarkjsPackageDir(): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve('snarkjs'));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'snarkjs') return dir;
      } catch {
        // not a readable package.json: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new ChainError('could not locate the snarkjs package directory');
    dir = parent;
  }
}

let groth16Template: string | undefined;

/** The snarkjs Groth16 Solidity template (`templates/verifier_groth16.sol.ejs`). */
async function loadGroth16Template(): Promise<string> {
  groth16Template ??= await readFile(join(snarkjsPackageDir(), 'templates', 'verifier_groth16.sol.ejs'), 'utf8');
  return groth16Template;
}

interface TerminableCurve {
  terminate(): Promise<void>;
}

/** Serializes the calls that may create the shared snarkjs curve, so one call never terminates another's curve. */
let curveQueue: Promise<unknown> = Promise.resolve();

/**
 * Run `fn` (which may make snarkjs build its multithreaded BN254 curve, cached on `globalThis.curve_bn128`) and
 * terminate that curve afterwards if `fn` created it, so its worker threads do not keep the process alive. A curve
 * that already existed before the call belongs to someone else and is left running.
 */
async function withTransientCurve<T>(fn: () => Promise<T>): Promise<T> {
  const run = curveQueue.then(async () => {
    const g = globalThis as { curve_bn128?: TerminableCurve | null };
    const before = g.curve_bn128;
    try {
      return await fn();
    } finally {
      const after = g.curve_bn128;
      if (after && after !== before) await after.terminate();
    }
  });
  curveQueue = run.catch(() => undefined);
  return run;
}

/**
 * Fail early, with a clear message, on a path that is not a zkey (snarkjs would leak an open file handle on it).
 */
async function checkZkeyMagic(zkeyPath: string): Promise<void> {
  let magic: string;
  try {
    const handle = await open(zkeyPath, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
      magic = buffer.subarray(0, bytesRead).toString('latin1');
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new InputFileError(zkeyPath, 'the zkey file does not exist or is not readable', { cause: error });
  }
  if (magic !== 'zkey') {
    throw new InputFileError(zkeyPath, `not a zkey file (it starts with ${JSON.stringify(magic)}, not "zkey")`);
  }
}

/**
 * Generate the Solidity source of a Groth16 verifier contract (`Groth16Verifier`) for a zkey, with snarkjs's own
 * template. snarkjs builds its BN254 curve to read the verification key; if no curve existed before, it is terminated
 * before this returns, so the call leaves no worker threads behind.
 *
 * @param zkeyPath path of a Groth16 `.zkey` (BN254).
 * @returns the Solidity source (pragma `>=0.7.0 <0.9.0`).
 * @throws {InputFileError} when the file is missing or is not a Groth16 zkey snarkjs can read.
 */
export async function generateSolidityVerifier(zkeyPath: string): Promise<string> {
  await checkZkeyMagic(zkeyPath);
  const template = await loadGroth16Template();
  let source: string;
  try {
    source = await withTransientCurve(() => snarkjs.zKey.exportSolidityVerifier(zkeyPath, { groth16: template }));
  } catch (error) {
    throw new InputFileError(zkeyPath, `snarkjs could not export a Solidity verifier: ${describeError(error)}`, {
      cause: error,
      hint: 'only Groth16 zkeys on BN254 (bn128) are supported on chain',
    });
  }
  if (typeof source !== 'string' || !source.includes(`contract ${GROTH16_VERIFIER_CONTRACT}`)) {
    throw new InputFileError(zkeyPath, 'snarkjs did not produce a Groth16 verifier (is this a Groth16 zkey?)');
  }
  return source;
}

// ---------------------------------------------------------------------------------------------------------------
// solc: compile

/** One diagnostic from solc's standard-JSON output. */
export interface SolcDiagnostic {
  readonly severity: 'error' | 'warning' | 'info';
  readonly type: string;
  readonly message: string;
  readonly formattedMessage?: string;
}

/** solc rejected a Solidity source. `message` carries solc's formatted diagnostics. */
export class SolidityCompileError extends CompileError {
  /** solc's error-severity diagnostics. */
  readonly diagnostics: readonly SolcDiagnostic[];
  constructor(message: string, diagnostics: readonly SolcDiagnostic[]) {
    super(message);
    this.diagnostics = diagnostics;
  }
}

/** Options of {@link compileSolidity}. */
export interface CompileSolidityOptions {
  /** Optimizer runs. Default 200 (the optimizer is always on). */
  readonly optimizerRuns?: number;
  /** EVM version to target, e.g. `'cancun'` for a chain without Prague. Default: solc's default. */
  readonly evmVersion?: string;
  /**
   * The cache folder where the output is kept by content (see src/chain/solidity-cache.ts). Default: the one
   * `$ZKAI_CACHE_DIR` or the default names. `false`: compile and keep nothing.
   */
  readonly cacheDir?: string | false;
}

interface SolcOutput {
  errors?: SolcDiagnostic[];
  contracts?: Record<string, Record<string, { abi?: object[]; evm?: { bytecode?: { object?: string } } }>>;
}

interface Solc {
  compile(input: string): string;
  version(): string;
}

let solcPromise: Promise<Solc> | undefined;

/** Load solc lazily: its wasm build takes a few hundred ms to load. */
function loadSolc(): Promise<Solc> {
  solcPromise ??= import('solc').then((mod) => mod.default as Solc);
  return solcPromise;
}

/** The version string of the bundled solc, e.g. `0.8.30+commit.73712a01.Emscripten.clang`. */
export async function solcVersion(): Promise<string> {
  return (await loadSolc()).version();
}

/**
 * Compile one Solidity source with the bundled solc (npm, wasm; standard-JSON input, optimizer on) and return one
 * contract of it. Warnings are ignored. solc runs synchronously: the event loop is blocked during the compilation
 * (about a second for a verifier). The output is kept in the cache folder by content (solc's version and the whole
 * input), so the same source compiles once per machine and later calls do not load solc at all.
 *
 * @param source Solidity source text (no imports).
 * @param contractName the contract to return, e.g. `Groth16Verifier`.
 * @throws {SolidityCompileError} (a {@link CompileError}) with solc's formatted messages when compilation fails, or
 *   when the source has no contract of that name.
 */
export async function compileSolidity(
  source: string,
  contractName: string,
  options: CompileSolidityOptions = {},
): Promise<CompiledContract> {
  const fileName = `${contractName}.sol`;
  const input = JSON.stringify({
    language: 'Solidity',
    sources: { [fileName]: { content: source } },
    settings: {
      optimizer: { enabled: true, runs: options.optimizerRuns ?? 200 },
      ...(options.evmVersion ? { evmVersion: options.evmVersion } : {}),
      outputSelection: { [fileName]: { [contractName]: ['abi', 'evm.bytecode.object'] } },
    },
  });
  const keptAt = options.cacheDir === false ? undefined : compiledSolidityPath(input, options.cacheDir);
  const kept = keptAt === undefined ? undefined : await readCompiledSolidity(keptAt);
  if (kept) return kept;
  const compiled = await runSolc(input, fileName, contractName);
  if (keptAt !== undefined) await keepCompiledSolidity(keptAt, compiled);
  return compiled;
}

/** Compile a standard-JSON input with the bundled solc and return its one contract `contractName` of `fileName`. */
async function runSolc(input: string, fileName: string, contractName: string): Promise<CompiledContract> {
  const solc = await loadSolc();
  let output: SolcOutput;
  try {
    output = JSON.parse(solc.compile(input)) as SolcOutput;
  } catch (error) {
    throw new SolidityCompileError(`solc ${solc.version()} failed to run: ${describeError(error)}`, []);
  }
  const errors = (output.errors ?? []).filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const text = errors.map((d) => (d.formattedMessage ?? `${d.type}: ${d.message}`).trim()).join('\n\n');
    throw new SolidityCompileError(`solc ${solc.version()} rejected ${fileName}:\n${text}`, errors);
  }
  const contract = output.contracts?.[fileName]?.[contractName];
  const bytecode = contract?.evm?.bytecode?.object;
  if (contract?.abi === undefined || !bytecode) {
    throw new SolidityCompileError(`solc produced no contract named ${contractName} in ${fileName}`, []);
  }
  return { abi: contract.abi, bytecode: `0x${bytecode}` };
}

// ---------------------------------------------------------------------------------------------------------------
// ethers: deploy and verify

/** Which Solidity verifier template to use. */
export type VerifierTemplate = 'zkai' | 'snarkjs';

/** A deployed verifier contract. */
export interface DeployedVerifier {
  readonly address: string;
  /** Gas used by the deployment transaction. */
  readonly deployGas: bigint;
  /** The contract, connected to the signer that deployed it. */
  readonly contract: Contract;
  /** Hash of the deployment transaction. */
  readonly txHash: string;
  /** The template the contract was generated from (`zkai` unless a compiled contract or `snarkjs` was given). */
  readonly template: VerifierTemplate;
}

/** Options of {@link deployVerifier}. */
export interface DeployVerifierOptions extends CompileSolidityOptions {
  /**
   * `zkai` (default): zkai's own verifier ({@link generateGroth16Verifier}), which reverts on an invalid proof, so gas
   * estimation is honest. `snarkjs`: snarkjs's template, which returns `false` (kept for comparison).
   */
  readonly template?: VerifierTemplate;
}

/**
 * Read a zkey's verification key with snarkjs (its curve is terminated afterwards if this call created it).
 *
 * @throws {InputFileError} when the file is missing or not a Groth16 zkey.
 */
export async function readVerificationKey(zkeyPath: string): Promise<Groth16VerificationKey> {
  await checkZkeyMagic(zkeyPath);
  try {
    return (await withTransientCurve(() =>
      snarkjs.zKey.exportVerificationKey(zkeyPath),
    )) as unknown as Groth16VerificationKey;
  } catch (error) {
    throw new InputFileError(zkeyPath, `snarkjs could not read the verification key: ${describeError(error)}`, {
      cause: error,
    });
  }
}

/**
 * Compile a verifier for a zkey with either template.
 *
 * @throws {InputFileError} when the zkey cannot be read; {@link SolidityCompileError} when solc rejects the source.
 */
export async function compileVerifier(
  zkeyPath: string,
  options: DeployVerifierOptions = {},
): Promise<CompiledContract & { template: VerifierTemplate }> {
  const template = options.template ?? 'zkai';
  if (template === 'snarkjs') {
    const compiled = await compileSolidity(
      await generateSolidityVerifier(zkeyPath),
      GROTH16_VERIFIER_CONTRACT,
      options,
    );
    return { ...compiled, template };
  }
  const source = generateGroth16Verifier(await readVerificationKey(zkeyPath), { source: zkeyPath });
  return { ...(await compileSolidity(source, ZKAI_VERIFIER_CONTRACT, options)), template };
}

/**
 * Deploy a Groth16 verifier contract.
 *
 * @param signer a signer connected to a provider (e.g. `connectChain().signer`).
 * @param verifier a zkey path (the verifier is generated from it with the chosen template and compiled with
 *   {@link compileSolidity}), or an already compiled contract.
 * @throws {ChainError} when the deployment transaction fails or reverts; the errors of generation and compilation.
 */
export async function deployVerifier(
  signer: Signer,
  verifier: string | CompiledContract,
  options: DeployVerifierOptions = {},
): Promise<DeployedVerifier> {
  const compiled = typeof verifier === 'string' ? await compileVerifier(verifier, options) : verifier;
  const template: VerifierTemplate = isZkaiVerifierAbi(compiled.abi) ? 'zkai' : 'snarkjs';
  try {
    const { address, deployGas, txHash } = await deployCompiled(signer, compiled);
    return { address, deployGas, contract: new Contract(address, compiled.abi as object[], signer), txHash, template };
  } catch (error) {
    throw new ChainError(`deploying the verifier failed: ${shortEthersMessage(error)}`, { cause: error });
  }
}

/** Is this the ABI of a zkai verifier (`verifyProof(uint256[8],uint256[])`)? */
function isZkaiVerifierAbi(abi: readonly object[]): boolean {
  try {
    return new Interface(abi as object[]).getFunction(ZKAI_VERIFY_SIGNATURE) !== null;
  } catch {
    return false;
  }
}

/** Options of {@link verifyOnChain}. */
export interface VerifyOnChainOptions {
  /**
   * Also send a real transaction to `verifyProof` and report its gas (default `true`). On a public network this
   * spends gas; set `false` to only make the free `eth_call`.
   */
  readonly measureGas?: boolean;
  /** Gas limit of that transaction. Default {@link DEFAULT_VERIFY_GAS_LIMIT} (1,000,000). */
  readonly gasLimit?: bigint;
}

/** Result of {@link verifyOnChain}. */
export interface OnChainVerification {
  /** Whether the proof verified (`eth_call`: the zkai verifier did not revert, or the snarkjs one returned true). */
  readonly valid: boolean;
  /** Why not, for the zkai verifier: the custom error it reverted with, e.g. `ProofInvalid()`. */
  readonly reason?: string;
  /**
   * `eth_estimateGas` of the call, for a valid proof on the zkai verifier: the transaction that measures gas is sent
   * with exactly this limit, which shows the estimate is enough.
   */
  readonly estimatedGas?: bigint;
  /**
   * Gas used by a real transaction calling `verifyProof` with the same arguments, from its receipt. Includes the
   * 21,000 intrinsic gas and the calldata cost. Undefined when `measureGas` is false.
   */
  readonly gasUsed?: bigint;
  /** Hash of that transaction, when one was sent. */
  readonly txHash?: string;
}

/**
 * Check a Groth16 proof against a deployed verifier contract: zkai's (reverting) or snarkjs's (returning a bool),
 * told apart by the contract's ABI.
 *
 * The proof and the public signals are validated first (shape, coordinates below the BN254 base field, signals
 * below the scalar field, signal count matching the contract): a malformed input throws {@link MalformedProofError}
 * and nothing is sent to the node.
 *
 * `valid` comes from an `eth_call` of `verifyProof`. Gas is measured by sending a real transaction and reading
 * `gasUsed` from its receipt. On the zkai verifier that transaction's gas limit is `eth_estimateGas`'s answer, which
 * is honest because the contract reverts unless the proof verifies. On the snarkjs verifier the limit is
 * {@link DEFAULT_VERIFY_GAS_LIMIT}: it returns `false` instead of reverting, including when the pairing precompile
 * runs out of gas, so the node's estimate (the lowest limit that does not revert) converges on the cheap failure path
 * and is far too low.
 *
 * @param contract the verifier (e.g. `deployVerifier(...).contract`), connected to a signer when `measureGas` is on.
 * @throws {MalformedProofError} when the proof or the signals are malformed.
 * @throws {ChainError} when the call or the transaction fails (e.g. no contract at that address).
 */
export async function verifyOnChain(
  contract: BaseContract,
  proof: Groth16Proof,
  publicSignals: readonly string[],
  options: VerifyOnChainOptions = {},
): Promise<OnChainVerification> {
  let verifyProof: BaseContractMethod;
  try {
    verifyProof = contract.getFunction('verifyProof');
  } catch (error) {
    throw new ChainError('the contract ABI has no verifyProof function', { cause: error });
  }
  const zkai = verifyProof.fragment.inputs.length === 2;
  let args: unknown[];
  if (zkai) {
    const expected = await readPublicInputCount(contract);
    args = toZkaiVerifierArgs(proof, publicSignals, expected);
  } else {
    const signalsParam = verifyProof.fragment.inputs[3];
    const expected =
      signalsParam && signalsParam.arrayLength !== null && signalsParam.arrayLength >= 0
        ? signalsParam.arrayLength
        : undefined;
    args = [...toVerifierCallArgs(proof, publicSignals, expected)];
  }

  let valid: boolean;
  let reason: string | undefined;
  try {
    const returned = (await verifyProof.staticCall(...args)) as unknown;
    if (zkai) valid = true;
    else if (typeof returned === 'boolean') valid = returned;
    else throw new ChainError(`verifyProof returned ${String(returned)}, not a boolean`);
  } catch (error) {
    if (error instanceof ChainError) throw error;
    const revert = zkai ? verifierRevertName(contract, error) : undefined;
    if (revert === undefined) throw await callFailure(contract, error);
    valid = false;
    reason = revert;
  }
  if (!valid) return reason === undefined ? { valid } : { valid, reason };
  if (options.measureGas === false) return { valid };

  let estimatedGas: bigint | undefined;
  try {
    if (zkai) estimatedGas = options.gasLimit ?? (await verifyProof.estimateGas(...args));
    const tx = await verifyProof.send(...args, {
      gasLimit: estimatedGas ?? options.gasLimit ?? DEFAULT_VERIFY_GAS_LIMIT,
    });
    const receipt = await tx.wait();
    if (!receipt) throw new Error('the transaction has no receipt');
    return {
      valid,
      gasUsed: receipt.gasUsed,
      txHash: receipt.hash,
      ...(zkai && !options.gasLimit ? { estimatedGas } : {}),
    };
  } catch (error) {
    throw new ChainError(`the verifyProof transaction (sent to measure gas) failed: ${shortEthersMessage(error)}`, {
      cause: error,
      hint: 'pass measureGas: false to only check validity with eth_call',
    });
  }
}

/** `PUBLIC_INPUTS()` of a zkai verifier. */
async function readPublicInputCount(contract: BaseContract): Promise<number> {
  try {
    return Number((await contract.getFunction('PUBLIC_INPUTS').staticCall()) as bigint);
  } catch (error) {
    throw await callFailure(contract, error);
  }
}

/** The name and arguments of a zkai verifier's custom error in a failed call, or undefined when it is not one. */
function verifierRevertName(contract: BaseContract, error: unknown): string | undefined {
  const decoded = decodeRevert(contract.interface, error);
  return decoded ? `${decoded.name}(${decoded.args.map(String).join(', ')})` : undefined;
}

async function callFailure(contract: BaseContract, error: unknown): Promise<ChainError> {
  const code = await contract.getDeployedCode().catch(() => undefined);
  if (code === null) {
    return new ChainError(`verifyProof call failed: there is no contract at ${await contract.getAddress()}`, {
      cause: error,
      hint: 'deploy the verifier first (deployVerifier), on the chain you are connected to',
    });
  }
  return new ChainError(`verifyProof call failed: ${shortEthersMessage(error)}`, { cause: error });
}

// ---------------------------------------------------------------------------------------------------------------
// proof JSON -> calldata

/** snarkjs writes affine points in projective form with z = 1 (G1) or z = [1, 0] (G2); anything else is not affine. */
function assertAffine(proof: Groth16Proof): void {
  for (const name of ['pi_a', 'pi_c'] as const) {
    if (proof[name][2] !== '1') {
      throw new MalformedProofError(
        `proof.${name} is not in affine form: its z coordinate is ${proof[name][2]}, not 1`,
      );
    }
  }
  const z = proof.pi_b[2];
  if (z?.[0] !== '1' || z[1] !== '0') {
    throw new MalformedProofError(
      `proof.pi_b is not in affine form: its z coordinate is [${z?.join(', ')}], not [1, 0]`,
    );
  }
}

/**
 * Validate a snarkjs Groth16 proof and its public signals, and convert them to the arguments of the verifier's
 * `verifyProof`: the same encoding as snarkjs `groth16.exportSolidityCallData`, as bigints. The G2 point's
 * coordinate pairs are swapped (`[[b[0][1], b[0][0]], [b[1][1], b[1][0]]]`): the EVM pairing precompile takes Fq2
 * elements as (c1, c0).
 *
 * Validation is the off-chain verifier's ({@link assertProofShape}, {@link assertPublicSignals}: decimal strings,
 * coordinates below the BN254 base field, signals below the scalar field, groth16/bn128), plus what the contract
 * needs: affine points and, when `expectedSignals` is given, exactly that many public signals.
 *
 * @param expectedSignals the number of public signals the verifier takes, when known.
 * @throws {MalformedProofError} naming the first offending field.
 */
export function toVerifierCallArgs(
  proof: Groth16Proof,
  publicSignals: readonly string[],
  expectedSignals?: number,
): VerifierCallArgs {
  assertProofShape(proof);
  assertAffine(proof);
  assertPublicSignals(publicSignals);
  if (expectedSignals !== undefined && publicSignals.length !== expectedSignals) {
    throw new MalformedProofError(
      `got ${publicSignals.length} public signals; the verifier takes exactly ${expectedSignals}`,
    );
  }
  // assertProofShape checked every coordinate (3 rows/pairs, decimal strings below the base field).
  const n = (value: string | undefined) => BigInt(value as string);
  const [b0, b1] = [proof.pi_b[0]!, proof.pi_b[1]!];
  return [
    [n(proof.pi_a[0]), n(proof.pi_a[1])],
    [
      [n(b0[1]), n(b0[0])],
      [n(b1[1]), n(b1[0])],
    ],
    [n(proof.pi_c[0]), n(proof.pi_c[1])],
    publicSignals.map((signal) => BigInt(signal)),
  ];
}

/**
 * Validate a proof and its public signals like {@link toVerifierCallArgs} and convert them to the arguments of the
 * zkai verifier's `verifyProof(uint256[8] proof, uint256[] publicSignals)`.
 *
 * @throws {MalformedProofError} naming the first offending field.
 */
export function toZkaiVerifierArgs(
  proof: Groth16Proof,
  publicSignals: readonly string[],
  expectedSignals?: number,
): [proof: bigint[], publicSignals: bigint[]] {
  const [a, b, c, signals] = toVerifierCallArgs(proof, publicSignals, expectedSignals);
  return [[a[0], a[1], b[0][0], b[0][1], b[1][0], b[1][1], c[0], c[1]], [...signals]];
}
