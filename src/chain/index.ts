/**
 * On-chain verification: a local anvil node, ethers connections, and the snarkjs Groth16 Solidity verifier
 * (generate, compile, deploy, verify).
 */
export {
  connectChain,
  resolveAnvilBinary,
  rpcRequest,
  startAnvil,
  withChain,
  type AnvilHandle,
  type ChainConnection,
  type ConnectChainOptions,
  type StartAnvilOptions,
} from './anvil.ts';
export {
  DEFAULT_VERIFY_GAS_LIMIT,
  GROTH16_VERIFIER_CONTRACT,
  SolidityCompileError,
  compileSolidity,
  deployVerifier,
  generateSolidityVerifier,
  solcVersion,
  toVerifierCallArgs,
  verifyOnChain,
  type CompileSolidityOptions,
  type DeployedVerifier,
  type OnChainVerification,
  type SolcDiagnostic,
  type VerifyOnChainOptions,
} from './solidity-verifier.ts';
export type { CompiledContract, VerifierCallArgs } from './types.ts';
