/**
 * Deploy a compiled contract and wait for its receipt: the one deployment path of the verifiers and the registries.
 */
import { ContractFactory, type Signer } from 'ethers';
import type { CompiledContract } from './types.ts';

/** A mined deployment. */
export interface MinedDeployment {
  readonly address: string;
  readonly deployGas: bigint;
  readonly blockNumber: number;
  readonly txHash: string;
}

/**
 * Deploy `compiled` with constructor `args` and wait until it is mined. Errors are ethers's, for the caller to word.
 */
export async function deployCompiled(
  signer: Signer,
  compiled: CompiledContract,
  args: readonly unknown[] = [],
): Promise<MinedDeployment> {
  const deployed = await new ContractFactory(compiled.abi as object[], compiled.bytecode, signer).deploy(...args);
  const tx = deployed.deploymentTransaction();
  const receipt = await tx?.wait();
  if (!tx || !receipt) throw new Error('the deployment transaction has no receipt');
  return {
    address: await deployed.getAddress(),
    deployGas: receipt.gasUsed,
    blockNumber: receipt.blockNumber,
    txHash: tx.hash,
  };
}
