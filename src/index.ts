/**
 * zkai's public API. The pipeline, in the order data flows: compile -> setup -> prove -> verify (off-chain, on chain).
 */
export { compileCircuit, type CompileOptions, type CompiledCircuit } from './circuit/compile.ts';
export { readR1csInfo, type CircuitInfo } from './circuit/r1cs-info.ts';
export { resolveCacheDir, CACHE_DIR_ENV } from './cache/cache-dir.ts';
export { setupCircuit, type SetupOptions, type CircuitKeys } from './setup/phase2.ts';
export { requiredPtauPower } from './setup/power.ts';
export { ensureDevPtau, DEV_PTAU_WARNING } from './setup/dev-ptau.ts';
export { HERMEZ_PTAU, type HermezPtau } from './setup/hermez-ptau.ts';
export {
  ceremonyInit,
  ceremonyContribute,
  ceremonyBeacon,
  finalizeCeremony,
  verifyCeremony,
  readCeremonyTranscript,
  keysFromZkey,
  TRANSCRIPT_FORMAT,
  type CeremonyCircuit,
  type CeremonyTranscript,
  type CeremonyVerification,
  type CeremonyStepResult,
  type CeremonyFinalizeResult,
} from './setup/ceremony.ts';
export {
  ceremonyPhase2Trust,
  automaticPhase2Trust,
  keyWarnings,
  SINGLE_PARTY_WARNING,
  type Phase2Trust,
} from './setup/key-trust.ts';
export { classifyPtau, type PtauTrust } from './setup/ptau-trust.ts';
export type { ProgressEvent, ProgressListener } from './setup/progress.ts';
export {
  ProverPool,
  defaultPoolShape,
  type ProverPoolOptions,
  type ProveOptions,
  type ProvingArtifacts,
  type PoolProof,
  type BatchResult,
  type BatchProgress,
} from './prover/pool.ts';
export * from './verifier/index.ts';
// Where an off-chain verifier's key comes from (its own setup, a ceremony it verified, its word), and the trust store.
export {
  trustedKeySource,
  ownSetupKeys,
  EXPLICIT_KEY_DETAIL,
  UNTRUSTED_KEY_HINT,
  type KeySource,
  type KeySourceKind,
  type KeySourceOptions,
} from './verifier/key-source.ts';
export {
  readTrustStore,
  recordVerifiedCeremonyKey,
  isVerifiedCeremonyKey,
  verifiedCeremonyKey,
  recordOwnContribution,
  isOwnContribution,
  trustStorePath,
  TrustStoreError,
  TRUST_STORE_FORMAT,
  type TrustStore,
  type VerifiedCeremonyKey,
  type OwnContribution,
} from './setup/trust-store.ts';
export {
  connectChain,
  withChain,
  startAnvil,
  deployVerifier,
  verifyOnChain,
  verifyBatchOnChain,
  type BatchProof,
  type OnChainBatchVerification,
  generateSolidityVerifier,
  compileSolidity,
  type ChainConnection,
  type AnvilHandle,
  type DeployedVerifier,
  type OnChainVerification,
  RegistryClient,
  ListRegistryClient,
  deployZkai,
  connectDeployment,
  registerCircuitFromSource,
  checkRegistrationKey,
  sourceCircuit,
  type CircuitSource,
  type RegistrationKey,
  type ZkaiDeployment,
  attestProof,
  readAttestableProof,
  type AttestProofOptions,
  type AttestProofResult,
  ConsentRegistryClient,
  signGrant,
  signRevoke,
  signDelegate,
  accountLeaf,
} from './chain/index.ts';
export { checkSoundness, assertSound, type SoundnessReport } from './testing/soundness.ts';
export { releaseCurves } from './util/curves.ts';
export * from './errors.ts';

// Datasets: schema, ingestion, commitment, policies, dataset proofs.
export { parseSchema, loadSchema, SchemaError } from './data/schema.ts';
export { readDataset, DataError, DatasetErrors } from './data/ingest.ts';
export { encodeRecord, encodeCell } from './data/encode.ts';
export { commitRecords, recordLeaf, treeDepth, type DatasetCommitment } from './data/commitment.ts';
export { createBundle, saveBundle, loadBundle, recommit, type DatasetBundle } from './data/bundle.ts';
export {
  parsePolicy,
  loadPolicy,
  evaluatePolicy,
  PolicyError,
  type Policy,
  type PolicySpec,
  type PolicyReport,
} from './policy/policy.ts';
export { generateDatasetCircuit, datasetCircuitInput, DATASET_SIGNAL_NAMES } from './data/circuit-gen.ts';
export {
  prepareDatasetCircuit,
  proveDataset,
  verifyDatasetProof,
  PolicyViolationError,
  type DatasetProof,
} from './data/dataset-proof.ts';
export type { Schema, SchemaSpec, Column, ColumnSpec, EncodedRecord } from './data/types.ts';
export {
  proveInclusion,
  verifyInclusion,
  generateInclusionCircuit,
  INCLUSION_SIGNAL_NAMES,
  type InclusionProof,
} from './data/inclusion.ts';
export { leafLayout, emitRecordLeaf } from './data/leaf.ts';

// The HTTP verification service (zkai serve): embed it with createVerificationServer.
export {
  createVerificationServer,
  CircuitCatalog,
  VerifierPool,
  AttestationSource,
  verifyRequest,
  buildOpenApiDocument,
  type VerificationServerOptions,
  type CatalogEntry,
  type CircuitSummary,
  type VerifierPoolOptions,
  type AttestationView,
  type VerifyResponse,
  type VerifyBody,
  type Claims,
  type ServiceCircuitKind,
} from './service/index.ts';

// Statements: what a proof means, decided by the verifier (layouts, pinned values, the proof-file parser, statement files).
export {
  STATEMENT_KINDS,
  datasetStatement,
  datasetChunkStatement,
  committedChunkStatement,
  datasetAggregationStatement,
  inferenceStatement,
  accuracyStatement,
  statementSignalNames,
  statementPins,
  describeStatement,
  parseProofFile,
  proofParts,
  statedClaims,
  fileStatementShape,
  PROOF_FILE_FORMATS,
  STATEMENT_FILE_FORMAT,
  loadStatementFile,
  type Statement,
  type StatementKind,
  type ProofFile,
  type ProofFileFormat,
  type TrustedStatement,
} from './statement/index.ts';
