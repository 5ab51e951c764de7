/**
 * The one way zkai's contract clients send a transaction: estimate first (a refusal surfaces here with its custom
 * error, before anything is sent), send with 10% headroom, wait for the receipt, and turn any failure into a readable
 * error with the contract's custom errors decoded.
 */
import type { Contract, ContractTransactionReceipt, InterfaceAbi } from 'ethers';
import { decodeRegistryError } from './registry-errors.ts';

/**
 * Call `method` of `contract` with `args` as a transaction and wait for it.
 *
 * @param action what is being done, for the error message ("registering the circuit")
 * @throws {RegistryRevertError} with the custom error in words when the contract refuses; ChainError otherwise
 */
export async function sendEstimated(contract: Contract, abi: InterfaceAbi, action: string, method: string, args: readonly unknown[]): Promise<ContractTransactionReceipt> {
  try {
    const fn = contract.getFunction(method);
    const gasLimit = await fn.estimateGas(...args);
    const tx = await fn.send(...args, { gasLimit: gasLimit + gasLimit / 10n });
    const receipt = (await tx.wait()) as ContractTransactionReceipt | null;
    if (!receipt) throw new Error('the transaction has no receipt');
    return receipt;
  } catch (error) {
    throw decodeRegistryError(abi, action, error);
  }
}
