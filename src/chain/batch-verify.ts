/**
 * Batch verification on chain: k Groth16 proofs of one key checked by one `verifyProofs` call of zkai's generated
 * verifier (k + 3 pairings instead of 4k; see `generateGroth16Verifier` in groth16-template.ts for the math and the
 * Fiat-Shamir scalars, which the contract derives itself: no caller chooses them).
 */
import type { BaseContract, BaseContractMethod } from 'ethers';
import { ChainError, MalformedProofError } from '../errors.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import { shortEthersMessage } from './ethers-errors.ts';
import { ZKAI_MAX_BATCH } from './groth16-template.ts';
import { decodeRevert } from './revert-decoder.ts';
import { toZkaiVerifierArgs } from './solidity-verifier.ts';

/** One proof of a batch: a snarkjs Groth16 proof and its public signals. */
export interface BatchProof {
  readonly proof: Groth16Proof;
  readonly publicSignals: readonly string[];
}

/** Options of {@link verifyBatchOnChain}. */
export interface VerifyBatchOnChainOptions {
  /**
   * Also send a real transaction to `verifyProofs` and report its gas (default `true`). On a public network this
   * spends gas; set `false` to only make the free `eth_call`.
   */
  readonly measureGas?: boolean;
  /** Gas limit of that transaction. Default: `eth_estimateGas` of the call (honest: the verifier reverts). */
  readonly gasLimit?: bigint;
}

/** Result of {@link verifyBatchOnChain}. */
export interface OnChainBatchVerification {
  /** Whether every proof of the batch verified (`eth_call` of `verifyProofs` did not revert). */
  readonly valid: boolean;
  /**
   * Why not: the custom error the verifier reverted with, e.g. `ProofInvalid()` (the batch does not say which proof;
   * `verifyOnChain` each one to find it) or `PublicInputNotInField(5)` (a flat index into the batch's signals).
   */
  readonly reason?: string;
  /** The number of proofs in the batch. */
  readonly count: number;
  /** `eth_estimateGas` of the call, when the transaction was sent with it as its limit. */
  readonly estimatedGas?: bigint;
  /** Gas used by a real `verifyProofs` transaction, from its receipt (21,000 intrinsic gas and calldata included). */
  readonly gasUsed?: bigint;
  /** Hash of that transaction, when one was sent. */
  readonly txHash?: string;
}

/**
 * Validate a batch of proofs like `toZkaiVerifierArgs` (shape, affine points, coordinates below the base field,
 * signals below the scalar field) and convert it to the arguments of the zkai verifier's
 * `verifyProofs(uint256[8][] proofs, uint256[] publicSignals)`: one `uint256[8]` per proof, the signals flat
 * (proof i's at i * n).
 *
 * @param expectedSignals the number of public signals per proof the verifier takes, when known; otherwise every
 *   proof must have as many as the first.
 * @param maxBatch the most proofs the verifier takes (its `MAX_BATCH`). Default {@link ZKAI_MAX_BATCH}.
 * @throws {MalformedProofError} for an empty or too large batch, or naming the first offending proof and field.
 */
export function toZkaiBatchArgs(
  proofs: readonly BatchProof[],
  expectedSignals?: number,
  maxBatch = ZKAI_MAX_BATCH,
): [proofs: bigint[][], publicSignals: bigint[]] {
  if (proofs.length === 0) throw new MalformedProofError('the batch has no proofs');
  if (proofs.length > maxBatch) {
    throw new MalformedProofError(`the batch has ${proofs.length} proofs; the verifier takes at most ${maxBatch}`);
  }
  const signalsEach = expectedSignals ?? proofs[0]!.publicSignals.length;
  const words: bigint[][] = [];
  const signals: bigint[] = [];
  proofs.forEach((item, index) => {
    try {
      const [proof, publicSignals] = toZkaiVerifierArgs(item.proof, item.publicSignals, signalsEach);
      words.push(proof);
      signals.push(...publicSignals);
    } catch (error) {
      if (error instanceof MalformedProofError) throw new MalformedProofError(`proofs[${index}]: ${error.message}`);
      throw error;
    }
  });
  return [words, signals];
}

/**
 * Check a batch of Groth16 proofs of one key against zkai's deployed verifier with one `verifyProofs` call.
 *
 * The batch is validated first ({@link toZkaiBatchArgs}, with the contract's `PUBLIC_INPUTS` and `MAX_BATCH`): a
 * malformed input throws {@link MalformedProofError} and nothing is sent. `valid` comes from an `eth_call`; when it
 * is true and `measureGas` is on, a real transaction is sent with `eth_estimateGas`'s answer as its limit and its
 * receipt's `gasUsed` is reported.
 *
 * @param contract the verifier (`deployVerifier(...).contract`), connected to a signer when `measureGas` is on.
 * @throws {MalformedProofError} when the batch is empty, too large or malformed.
 * @throws {ChainError} when the contract has no `verifyProofs` (a verifier generated before batches: deploy it
 *   again), or the call or the transaction fails for another reason than the verifier's custom errors.
 */
export async function verifyBatchOnChain(
  contract: BaseContract,
  proofs: readonly BatchProof[],
  options: VerifyBatchOnChainOptions = {},
): Promise<OnChainBatchVerification> {
  let verifyProofs: BaseContractMethod;
  try {
    verifyProofs = contract.getFunction('verifyProofs');
  } catch (error) {
    throw new ChainError('the contract ABI has no verifyProofs function', {
      cause: error,
      hint: 'only zkai verifiers generated with batch support have it: compile and deploy the verifier again',
    });
  }
  const [publicInputs, maxBatch] = await Promise.all([
    readConstant(contract, 'PUBLIC_INPUTS'),
    readConstant(contract, 'MAX_BATCH'),
  ]);
  const args = toZkaiBatchArgs(proofs, publicInputs, maxBatch);
  const count = proofs.length;

  try {
    await verifyProofs.staticCall(...args);
  } catch (error) {
    const decoded = decodeRevert(contract.interface, error);
    if (decoded === undefined) throw await callFailure(contract, error);
    return { valid: false, count, reason: `${decoded.name}(${decoded.args.map(String).join(', ')})` };
  }
  if (options.measureGas === false) return { valid: true, count };

  try {
    const estimatedGas = options.gasLimit === undefined ? await verifyProofs.estimateGas(...args) : undefined;
    const receipt = await (await verifyProofs.send(...args, { gasLimit: options.gasLimit ?? estimatedGas })).wait();
    if (!receipt) throw new Error('the transaction has no receipt');
    return {
      valid: true,
      count,
      gasUsed: receipt.gasUsed,
      txHash: receipt.hash,
      ...(estimatedGas === undefined ? {} : { estimatedGas }),
    };
  } catch (error) {
    throw new ChainError(`the verifyProofs transaction (sent to measure gas) failed: ${shortEthersMessage(error)}`, {
      cause: error,
      hint: 'pass measureGas: false to only check validity with eth_call',
    });
  }
}

/** A `uint256` constant of the verifier (`PUBLIC_INPUTS`, `MAX_BATCH`), as a number. */
async function readConstant(contract: BaseContract, name: string): Promise<number> {
  try {
    return Number((await contract.getFunction(name).staticCall()) as bigint);
  } catch (error) {
    throw await callFailure(contract, error, name);
  }
}

async function callFailure(contract: BaseContract, error: unknown, what = 'verifyProofs'): Promise<ChainError> {
  const code = await contract.getDeployedCode().catch(() => undefined);
  if (code === null) {
    return new ChainError(`${what} call failed: there is no contract at ${await contract.getAddress()}`, {
      cause: error,
      hint: 'deploy the verifier first (deployVerifier), on the chain you are connected to',
    });
  }
  return new ChainError(`${what} call failed: ${shortEthersMessage(error)}`, { cause: error });
}
