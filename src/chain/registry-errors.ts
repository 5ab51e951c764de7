/**
 * Readable, typed errors for the registry's custom errors (and the verifier's, which the registry bubbles up).
 */
import { Interface, type InterfaceAbi } from 'ethers';
import { ChainError } from '../errors.ts';
import { ZKAI_VERIFIER_ERRORS } from './groth16-template.ts';
import { shortEthersMessage } from './ethers-errors.ts';
import { decodeRevert } from './revert-decoder.ts';
import { STATEMENT_KINDS } from '../statement/statement.ts';

/** A transaction or call the registry refused, with the contract's custom error decoded. */
export class RegistryRevertError extends ChainError {
  /** The custom error's name, e.g. `ContextMismatch`. */
  readonly errorName: string;
  /** Its arguments, in order. */
  readonly args: readonly unknown[];
  constructor(
    action: string,
    errorName: string,
    args: readonly unknown[],
    explanation: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${action} refused: ${explanation} (${errorName})`, options);
    this.errorName = errorName;
    this.args = args;
  }
}

/** The registry's Kind enum by value: every statement kind but a plain circuit, in its order. */
const KIND_NAMES = ['none', ...STATEMENT_KINDS.filter((kind) => kind !== 'circuit')];
const SUBJECT_KIND_NAMES = ['none', 'dataset', 'model'];

/** One sentence per custom error; `a` holds the decoded arguments. */
const EXPLANATIONS: Record<string, (a: readonly unknown[]) => string> = {
  NotOwner: (a) => `${String(a[0])} is not the registry owner (${String(a[1])})`,
  CircuitExists: (a) => `circuit ${String(a[0])} is already registered`,
  CircuitUnknown: (a) => `no circuit ${String(a[0])} is registered`,
  VerifierKeyMismatch: (a) =>
    `the verifier's verification key id is ${String(a[1])}, not the circuit id ${String(a[0])}`,
  BadLayout: (a) => `the circuit's signal layout is not accepted: ${String(a[0])}`,
  WrongKind: (a) =>
    `circuit ${String(a[0])} is a ${KIND_NAMES[Number(a[1])] ?? String(a[1])} circuit, which this call does not take (dataset chunk circuits go through attestChunk or, with their aggregation proofs, attestPrivateChunks; accuracy circuits through attestAccuracyChunk; aggregation circuits only with their chunks; the others through attest)`,
  SubjectExists: (a) => `a dataset or model with id ${String(a[0])} (same owner and label) is already registered`,
  SubjectUnknown: (a) => `no dataset or model (version) ${String(a[0])} is registered`,
  NotSubjectOwner: (a) => `${String(a[1])} does not own ${String(a[0])}; its owner is ${String(a[2])}`,
  SubjectKindMismatch: (a) =>
    `${String(a[0])} is a ${SUBJECT_KIND_NAMES[Number(a[2])] ?? String(a[2])}, but a ${SUBJECT_KIND_NAMES[Number(a[1])] ?? String(a[1])} was expected`,
  BadSubject: (a) => `the commitment is not accepted: ${String(a[0])}`,
  PublicInputCount: (a) => `the circuit has ${String(a[0])} public signals, the proof gives ${String(a[1])}`,
  ContextMismatch: (a) =>
    `the proof is bound to context ${String(a[1])}, but this sender and nonce need ${String(a[0])}: it was made for another chain, registry, attester or nonce (a replayed or taken proof)`,
  FieldMismatch: (a) => `the proof's ${String(a[0])} is ${String(a[2])}, the registered value is ${String(a[1])}`,
  StaleConsentRoot: (a) =>
    `consent root ${String(a[1])} is not a current or recent root of purpose ${String(a[0])} (it expired or never existed)`,
  RegistryRootsChanged: (a) =>
    `chunk ${String(a[0])} was proven against other registry roots (consent, curated lists) than the session's first chunk: every chunk must use the same roots, so the last chunk's check covers them all (prove the chunks again against the current roots, after resetChunks)`,
  ProofAlreadyUsed: (a) => `this statement (nullifier ${String(a[0])}) was already attested: a proof is accepted once`,
  BadExpiration: (a) => `expiration time ${String(a[0])} is not in the future`,
  RefUnknown: (a) => `the referenced attestation ${String(a[0])} does not exist`,
  AttestationUnknown: (a) => `no attestation ${String(a[0])}`,
  NotAttester: (a) => `${String(a[1])} is not the attester of ${String(a[0])} (${String(a[2])} is)`,
  NotRevocable: (a) => `attestation ${String(a[0])} was made irrevocable`,
  AlreadyRevoked: (a) => `attestation ${String(a[0])} is already revoked`,
  ChunkShape: (a) => `the chunk does not fit: ${String(a[0])}`,
  RootMismatch: (a) =>
    `the chunks' subtree roots (or leaves) combine to ${String(a[0])}, not to the registered root ${String(a[1])}`,
  UnboundSignal: (a) =>
    `public signal ${String(a[0])} is bound to nothing: it is neither compared with registered state (a layout field, a consent or curated-list root, a chunk's roots or commitment) nor declared the attested claim, so a prover could set it to anything`,
  ListUnknown: (a) =>
    `no curated list ${String(a[0])} exists (the registry owner creates lists: zkai chain list create)`,
  StaleListRoot: (a) =>
    `root ${String(a[1])} is not a current or recent root of curated list ${String(a[0])}: the proof was made against a list its curator did not publish (or a root that expired)`,
  BadProvenance: (a) => `the circuit's provenance is not accepted: ${String(a[0])}`,
  NoAggregation: (a) =>
    `the chunk circuit ${String(a[0])} has no aggregation circuits for this tree (the registry owner sets them with setAggregation, from the same schema and policy)`,
  ListExists: (a) => `a curated list ${String(a[0])} already exists`,
  NotCurator: (a) => `${String(a[1])} is not the curator of list ${String(a[0])} (${String(a[2])} is) nor the owner`,
  BadList: (a) => `the list is not accepted: ${String(a[0])}`,
  ProofInvalid: () =>
    "the proof does not verify against the circuit's verification key (in a batch: one of the batch's proofs does not)",
  PublicInputNotInField: (a) => `public signal ${String(a[0])} is not below the BN254 scalar field`,
};

/**
 * Turn an ethers error from a registry call into a {@link RegistryRevertError} when it carries one of the contract's
 * (or the verifier's) custom errors, else into a {@link ChainError} with ethers's short message.
 */
export function decodeRegistryError(abi: InterfaceAbi, action: string, error: unknown): ChainError {
  if (error instanceof ChainError) return error;
  const iface = new Interface([
    ...(abi as readonly (string | object)[]),
    ...ZKAI_VERIFIER_ERRORS.filter((e) => !hasError(abi, e)),
  ] as InterfaceAbi);
  const decoded = decodeRevert(iface, error);
  if (decoded) {
    const explain = EXPLANATIONS[decoded.name];
    const args = [...decoded.args];
    return new RegistryRevertError(
      action,
      decoded.name,
      args,
      explain ? explain(args) : `${decoded.name}(${args.map(String).join(', ')})`,
      { cause: error },
    );
  }
  return new ChainError(`${action} failed: ${shortEthersMessage(error)}`, { cause: error });
}

function hasError(abi: InterfaceAbi, fragment: string): boolean {
  const name = fragment.slice('error '.length, fragment.indexOf('('));
  return (abi as readonly unknown[]).some(
    (f) =>
      typeof f === 'object' &&
      f !== null &&
      (f as { type?: string; name?: string }).type === 'error' &&
      (f as { name?: string }).name === name,
  );
}
