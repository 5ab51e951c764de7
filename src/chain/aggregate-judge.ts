/**
 * Deploys a chunked dataset policy's aggregate judge, the Solidity contract src/policy/judge.ts generates from the
 * policy, which the registry calls on the last chunk of a chunked dataset proof.
 */
import type { Signer } from 'ethers';
import { ChainError } from '../errors.ts';
import { AGGREGATE_JUDGE_CONTRACT, generateAggregateJudge, needsAggregateJudge } from '../policy/judge.ts';
import type { Policy } from '../policy/policy.ts';
import { deployCompiled } from './deploy-contract.ts';
import { shortEthersMessage } from './ethers-errors.ts';
import { compileSolidity } from './solidity-verifier.ts';

/** A deployed aggregate judge. */
export interface DeployedAggregateJudge {
  address: string;
  deployGas: bigint;
}

/** Generate, compile and deploy the judge of `policy`. */
export async function deployAggregateJudge(signer: Signer, policy: Policy): Promise<DeployedAggregateJudge> {
  if (!needsAggregateJudge(policy))
    throw new ChainError(`policy "${policy.spec.name}" has no aggregate partials in chunk proofs: it needs no judge`);
  const compiled = await compileSolidity(generateAggregateJudge(policy), AGGREGATE_JUDGE_CONTRACT);
  try {
    const { address, deployGas } = await deployCompiled(signer, compiled);
    return { address, deployGas };
  } catch (error) {
    throw new ChainError(
      `deploying the aggregate judge of policy "${policy.spec.name}" failed: ${shortEthersMessage(error)}`,
      { cause: error },
    );
  }
}
