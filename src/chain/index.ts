/**
 * On-chain verification: a local anvil node, ethers connections, and Groth16 Solidity verifiers (zkai's reverting
 * template, or snarkjs's for comparison: generate, compile, deploy, verify).
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
  ZKAI_VERIFIER_CONTRACT,
  ZKAI_MAX_BATCH,
  ZKAI_VERIFIER_ERRORS,
  ZKAI_VERIFY_BATCH_SIGNATURE,
  ZKAI_VERIFY_SIGNATURE,
  generateGroth16Verifier,
  verificationKeyId,
  type Groth16TemplateOptions,
  type Groth16VerificationKey,
} from './groth16-template.ts';
export {
  DEFAULT_VERIFY_GAS_LIMIT,
  GROTH16_VERIFIER_CONTRACT,
  SolidityCompileError,
  compileSolidity,
  compileVerifier,
  deployVerifier,
  readVerificationKey,
  revertData,
  shortEthersMessage,
  toZkaiVerifierArgs,
  generateSolidityVerifier,
  solcVersion,
  toVerifierCallArgs,
  verifyOnChain,
  type CompileSolidityOptions,
  type DeployVerifierOptions,
  type DeployedVerifier,
  type VerifierTemplate,
  type OnChainVerification,
  type SolcDiagnostic,
  type VerifyOnChainOptions,
} from './solidity-verifier.ts';
export {
  toZkaiBatchArgs,
  verifyBatchOnChain,
  type BatchProof,
  type OnChainBatchVerification,
  type VerifyBatchOnChainOptions,
} from './batch-verify.ts';
export type { CompiledContract, VerifierCallArgs } from './types.ts';
export { deployPoseidon, poseidonAbi, type DeployedPoseidon } from './poseidon.ts';
export {
  CONSENT_REGISTRY_CONTRACT,
  ConsentError,
  ConsentRegistryClient,
  MAX_CONSENT_DEPTH,
  accountLeaf,
  buildConsentTree,
  compileConsentRegistry,
  consentDomain,
  deployConsentRegistry,
  purposeId,
  signDelegate,
  signGrant,
  signRevoke,
  type ChainConsentTree,
  type ConsentSignature,
  type ConsentTree,
  type DelegateRequest,
  type DeployedConsentRegistry,
  type GrantRequest,
  type PurposeInfo,
  type RevokeRequest,
  type SignedConsentRequest,
} from './consent.ts';
export {
  CIRCUIT_KINDS,
  RegistryClient,
  attestationContext,
  compileRegistry,
  labelBytes,
  layoutFromSignalNames,
  bindSignals,
  canonicalDescriptor,
  isClaimSignal,
  randomNonce,
  KEY_TRUSTS,
  SOURCE_FORMAT,
  type AttestOptions,
  type CircuitProvenance,
  type KeyTrust,
  type ListBinding,
  type RegisteredCircuit,
  type RegisteredProvenance,
  type AttestationRecord,
  type CircuitKind,
  type DatasetCommitmentFields,
  type RegisteredVersion,
  type SignalLayout,
} from './registry.ts';
export { RegistryRevertError, decodeRegistryError } from './registry-errors.ts';
export {
  attestProof,
  readAttestableProof,
  type AttestableProof,
  type AttestProofOptions,
  type AttestProofResult,
  type SubjectChoice,
} from './attest-proof.ts';
export { findKeys, keysDir, type CachedKeys } from '../cache/find-keys.ts';
export { ListRegistryClient, compileListRegistry, listId, LIST_REGISTRY_SOURCE, type CuratedList } from './lists.ts';
export {
  checkRegistrationKey,
  registerCircuitFromSource,
  sourceCircuit,
  type CircuitSource,
  type RegisterFromSourceOptions,
  type RegisteredFromSource,
  type RegistrationKey,
  type RegistrationKeyCheck,
  type SourceCircuit,
} from './register-source.ts';
export {
  DEPLOYMENT_FORMAT,
  OutdatedDeploymentError,
  connectDeployment,
  deployZkai,
  loadDeployment,
  saveDeployment,
  type ConnectedDeployment,
  type ZkaiDeployment,
} from './deployment.ts';
