/**
 * The one way zkai's contract clients send a transaction: estimate first (a refusal surfaces here with its custom
 * error, before anything is sent), send with 10% headroom, wait for the receipt, and turn any failure into a readable
 * error with the contract's custom errors decoded.
 */
import type { Contract, ContractTransactionReceipt, InterfaceAbi } from 'ethers';
import { decodeRegistryError } from './registry-errors.ts';

/**
 * The gas limit to send with, from an estimate: 10% more. The estimate runs in a pending block whose timestamp may
 * differ from the block that includes the transaction, and a contract's gas can depend on it (the consent registry
 * stores `block.timestamp` in a slot that may already hold the same value: 100 gas instead of 2,900), so a limit of
 * exactly the estimate can run out of gas.
 */
export function withGasHeadroom(estimate: bigint): bigint {
  return estimate + estimate / 10n;
}

/**
 * Call `method` of `contract` with `args` as a transaction and wait for it.
 *
 * @param action what is being done, for the error message ("registering the circuit")
 * @throws {RegistryRevertError} with the custom error in words when the contract refuses; ChainError otherwise
 */
export async function sendEstimated(
  contract: Contract,
  abi: InterfaceAbi,
  action: string,
  method: string,
  args: readonly unknown[],
): Promise<ContractTransactionReceipt> {
  try {
    const fn = contract.getFunction(method);
    const tx = await fn.send(...args, { gasLimit: withGasHeadroom(await fn.estimateGas(...args)) });
    const receipt = (await tx.wait()) as ContractTransactionReceipt | null;
    if (!receipt) throw new Error('the transaction has no receipt');
    return receipt;
  } catch (error) {
    throw decodeRegistryError(abi, action, error);
  }
}
