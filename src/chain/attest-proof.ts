/**
 * Attest a zkai proof file on the registry, as the CLI's `zkai chain attest`, the library and the service can: check
 * that the proof is bound to the attester and nonce (before anything is sent), find its key and the circuit the
 * registry owner registered from source, find or register its subject (a dataset or model version, and an accuracy
 * proof's test set), then attest it (whole, in chunks, or as an accuracy attestation).
 */
import { AbiCoder, ZeroAddress, keccak256, type EventLog } from 'ethers';
import { resolve } from 'node:path';
import { resolveCacheDir } from '../cache/cache-dir.ts';
import { findKeys } from '../cache/find-keys.ts';
import { ChainError, InputFileError, ZkaiError } from '../errors.ts';
import {
  accuracyStatement,
  inferenceStatement,
  parseProofFile,
  proofParts,
  type ProofFile,
  type Statement,
} from '../statement/index.ts';
import { readJsonFile } from '../util/json-file.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import { verifyProof } from '../verifier/verify.ts';
import type { ConnectedDeployment, ZkaiDeployment } from './deployment.ts';
import { verificationKeyId, type Groth16VerificationKey } from './groth16-template.ts';
import {
  attestationContext,
  labelBytes,
  PRIVATE_CHUNKS_PER_TRANSACTION,
  type CircuitKind,
  type DatasetCommitmentFields,
  type RegistryClient,
} from './registry.ts';
import { readVerificationKey } from './solidity-verifier.ts';

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEX32 = /^0x[0-9a-fA-F]{64}$/;

/** A label of at most 31 UTF-8 bytes, cut at a character boundary. */
function clipLabel(text: string): string {
  let out = '';
  for (const char of text) {
    if (Buffer.byteLength(out + char, 'utf8') > 31) break;
    out += char;
  }
  return out;
}

function bytes32Option(value: string, option: string, what: string): string {
  if (!HEX32.test(value))
    throw new ZkaiError('BAD_OPTION', `${option} must be ${what}: 0x followed by 64 hex digits, got "${value}"`);
  return value.toLowerCase();
}

/** What `chain attest` needs from a proof file. */
export interface AttestableProof {
  format: string;
  kind: CircuitKind;
  /** The compiled circuit's id (the key cache is searched by it). */
  compiledId: string;
  /**
   * The statement the file describes (refined from the owner's --schema/--policy when registering a dataset circuit):
   * only used to register a circuit that is not registered yet; a registered circuit's layout is the chain's.
   */
  statement: Exclude<Statement, { kind: 'circuit' }>;
  policyHash?: string;
  /** The policy's registries, in signal order (consent candidates). */
  registryNames: string[];
  subject:
    | { kind: 'dataset'; root: string; schemaHash: string; commitment?: DatasetCommitmentFields }
    | { kind: 'model'; hash: string; name: string };
  chunks: Array<{ proof: Groth16Proof; publicSignals: string[] }>;
  chunked: boolean;
  /**
   * A private chunked proof's aggregation proofs, level by level (the root alone last): attested with its chunks in
   * one transaction by the registry's ZkaiPrivateChunks.
   */
  aggregation?: Array<Array<{ proof: Groth16Proof; publicSignals: string[] }>>;
  /** Accuracy proofs: the test set's commitment (a dataset the registry must know too). */
  testSet?: DatasetCommitmentFields;
  /** Accuracy proofs: the total of correct predictions the file states (the registry checks the last commitment). */
  correct?: number;
}

function commitmentOf(path: string, value: unknown): DatasetCommitmentFields {
  const c = value as Partial<Record<string, unknown>> | null;
  if (
    typeof c?.root !== 'string' ||
    !DECIMAL.test(c.root) ||
    typeof c.schemaHash !== 'string' ||
    !DECIMAL.test(c.schemaHash) ||
    !Number.isSafeInteger(c.count) ||
    !Number.isSafeInteger(c.depth)
  ) {
    throw new InputFileError(path, 'the commitment must be {root, count, depth, schemaHash}');
  }
  return { root: c.root, count: c.count as number, depth: c.depth as number, schemaHash: c.schemaHash };
}

/**
 * Read a zkai proof file that can be attested (with the statement module's one proof-file reader).
 *
 * @throws {InputFileError} naming the file and what is wrong.
 */
export async function readAttestableProof(path: string): Promise<AttestableProof> {
  const file = parseProofFile(await readJsonFile(path, 'proof'), path);
  const compiledId = file.circuitId ?? '';
  const required = (value: string | undefined, name: string): string => {
    if (value === undefined) throw new InputFileError(path, `"${name}" must be a decimal string`);
    return value;
  };
  const parts = proofParts(file);
  /** A model proof's subject: the model's commitment (private weights) or its hash. */
  const modelHashOf = (model: { weights: string; model: { commitment?: string; hash?: string } }): string =>
    model.weights === 'hashed'
      ? required(model.model.commitment, 'model.commitment')
      : required(model.model.hash, 'model.hash');
  switch (file.format) {
    case 'zkai-dataset-proof-v1':
    case 'zkai-chunked-dataset-proof-v1':
    case 'zkai-chunked-dataset-proof-v2':
      return attestableDataset(file, compiledId, parts);
    case 'zkai-inference-proof-v1': {
      const hash = modelHashOf(file);
      return {
        format: file.format,
        kind: 'inference',
        compiledId,
        statement: inferenceStatement(
          { inputSize: file.input?.length ?? 0 },
          { visibility: file.visibility, weights: file.weights },
        ),
        registryNames: [],
        subject: { kind: 'model', hash, name: file.model.name ?? '' },
        chunks: parts,
        chunked: false,
      };
    }
    case 'zkai-inclusion-proof-v1':
      return {
        format: file.format,
        kind: 'inclusion',
        compiledId,
        statement: { kind: 'inclusion', schemaHash: file.schemaHash },
        registryNames: [],
        subject: { kind: 'dataset', root: file.root, schemaHash: file.schemaHash },
        chunks: parts,
        chunked: false,
      };
    case 'zkai-accuracy-proof-v2': {
      const hash = modelHashOf(file);
      return {
        format: file.format,
        kind: 'accuracy',
        compiledId,
        statement: accuracyStatement(undefined, file.task, {
          weights: file.weights,
          samplesPerChunk: file.samplesPerChunk,
        }),
        policyHash: file.task.taskHash,
        registryNames: [],
        subject: { kind: 'model', hash, name: file.model.name ?? '' },
        chunks: parts,
        chunked: true,
        testSet: file.testSet,
        correct: file.correct,
      };
    }
    case 'plain':
      throw new InputFileError(
        path,
        'not a zkai proof that can be attested (a dataset, chunked dataset, inference, inclusion or accuracy proof written by zkai)',
      );
    default:
      return file satisfies never;
  }
}

/** A dataset proof file (whole, chunked, or private chunks with their aggregation proofs) as something to attest. */
function attestableDataset(
  file: Extract<
    ProofFile,
    { format: 'zkai-dataset-proof-v1' | 'zkai-chunked-dataset-proof-v1' | 'zkai-chunked-dataset-proof-v2' }
  >,
  compiledId: string,
  parts: AttestableProof['chunks'],
): AttestableProof {
  const registryNames = file.registries.map((r) => r.name);
  const described = { schemaHash: file.commitment.schemaHash, policyHash: file.policy.hash, registries: registryNames };
  const shape = (partials: string[]) => ({
    ...described,
    partials,
    subtrees: file.format === 'zkai-dataset-proof-v1' ? 1 : file.subtreesPerChunk,
    chunkDepth: file.format === 'zkai-dataset-proof-v1' ? 0 : file.chunkDepth,
  });
  const statement: AttestableProof['statement'] =
    file.format === 'zkai-dataset-proof-v1'
      ? { kind: 'dataset-policy', ...described }
      : file.format === 'zkai-chunked-dataset-proof-v1'
        ? { kind: 'dataset-chunk', ...shape([]) }
        : { kind: 'dataset-private-chunk', ...shape(['commitment']) };
  const onlyProof = (p: { proof: Groth16Proof; publicSignals: string[] }) => ({
    proof: p.proof,
    publicSignals: p.publicSignals,
  });
  return {
    format: file.format,
    kind: statement.kind,
    compiledId,
    statement,
    policyHash: file.policy.hash,
    registryNames,
    subject: {
      kind: 'dataset',
      root: file.commitment.root,
      schemaHash: file.commitment.schemaHash,
      commitment: file.commitment,
    },
    // proofParts lists a private chunked proof's aggregation proofs after its chunks: here they go apart.
    chunks: file.format === 'zkai-chunked-dataset-proof-v2' ? file.chunks.map(onlyProof) : parts,
    chunked: file.format !== 'zkai-dataset-proof-v1',
    ...(file.format === 'zkai-chunked-dataset-proof-v2'
      ? { aggregation: file.aggregation.map((level) => level.map(onlyProof)) }
      : {}),
  };
}

/** The default label of a proof's subject: the model name, or `data-` and the start of the schema hash. */
function defaultLabel(proof: AttestableProof): string {
  if (proof.subject.kind === 'model')
    return clipLabel(proof.subject.name) || `model-${proof.subject.hash.slice(0, 20)}`;
  return `data-${proof.subject.schemaHash.slice(0, 20)}`;
}

/** The proving key (and its verification key) the proof was made with: `zkey`, else the one in the cache. */
async function keysFor(
  proof: AttestableProof,
  options: { zkey?: string; cacheDir?: string },
  proofPath: string,
): Promise<{ zkeyPath: string; vkey: Groth16VerificationKey; checked: boolean }> {
  const first = proof.chunks[0]!;
  if (options.zkey)
    return { zkeyPath: resolve(options.zkey), vkey: await readVerificationKey(options.zkey), checked: false };
  const cacheDir = resolveCacheDir(options.cacheDir);
  const candidates = proof.compiledId ? await findKeys(cacheDir, proof.compiledId) : [];
  if (candidates.length === 0) {
    throw new ZkaiError(
      'KEY_NOT_FOUND',
      `no proving key for the circuit of ${proofPath} (circuit ${proof.compiledId || 'unnamed'}) in the cache ${cacheDir}`,
      {
        hint: 'pass --zkey FILE, the proving key the proof was made with (or the --cache-dir it was proven with)',
      },
    );
  }
  const keys = await Promise.all(
    candidates.map(async (c) => ({
      ...c,
      vkey: (await readJsonFile(c.vkeyPath, 'verification key')) as Groth16VerificationKey,
    })),
  );
  if (keys.length === 1) return { zkeyPath: keys[0]!.zkeyPath, vkey: keys[0]!.vkey, checked: false };
  // Several setups of one circuit (other ptau or beacon): the proof verifies against one of them.
  for (const key of keys) {
    if ((await verifyProof(key.vkey, first.proof, first.publicSignals)).valid)
      return { zkeyPath: key.zkeyPath, vkey: key.vkey, checked: true };
  }
  throw new ZkaiError(
    'KEY_NOT_FOUND',
    `${proofPath} does not verify against any of the ${keys.length} proving keys of its circuit in the cache`,
    { hint: 'pass --zkey FILE, the proving key the proof was made with' },
  );
}

/** Which registered version a proof's subject (or test set) is, and how it was found. */
export interface SubjectChoice {
  version: string;
  subjectId: string;
  label: string;
  action: 'existing' | 'registered' | 'new-version' | 'given';
  gas?: string;
}

/** The version a proof's subject is, found among the signer's registered datasets or models, or registered now. */
async function findOrRegisterSubject(
  registry: RegistryClient,
  deployment: ZkaiDeployment,
  proof: AttestableProof,
  flags: { label?: string; commitment?: string; subject?: string },
  me: string,
): Promise<SubjectChoice> {
  const contract = registry.contract;
  if (flags.subject)
    return {
      version: bytes32Option(flags.subject, '--subject', 'a dataset or model version id'),
      subjectId: '',
      label: '',
      action: 'given',
    };
  const want = proof.subject;
  const kindCode = want.kind === 'dataset' ? 1n : 2n;
  const label = flags.label ?? defaultLabel(proof);
  const labelHex = labelBytes(label);
  const labelled = keccak256(AbiCoder.defaultAbiCoder().encode(['address', 'bytes32'], [me, labelHex]));
  const matches = (v: {
    kind: bigint;
    root: bigint;
    count: bigint;
    depth: bigint;
    schemaHash: bigint;
    modelHash: bigint;
  }) => {
    if (v.kind !== kindCode) return false;
    if (want.kind === 'model') return v.modelHash === BigInt(want.hash);
    if (v.root !== BigInt(want.root) || v.schemaHash !== BigInt(want.schemaHash)) return false;
    return (
      want.commitment === undefined ||
      (v.count === BigInt(want.commitment.count) && v.depth === BigInt(want.commitment.depth))
    );
  };
  // The signer's subjects (all of them, or the one of --label), newest version first.
  let owned: string[];
  if (flags.label !== undefined) {
    owned = [labelled];
  } else {
    const logs = (await contract.queryFilter(
      contract.filters.SubjectRegistered!(null, me),
      deployment.blockNumber,
    )) as EventLog[];
    owned = [...new Set(logs.map((log) => String(log.args[0])))];
  }
  for (const subjectId of owned) {
    const s = (await contract.getFunction('subjects').staticCall(subjectId)) as unknown as [
      string,
      bigint,
      bigint,
      string,
    ];
    if (s[0].toLowerCase() !== me.toLowerCase() || s[1] !== kindCode) continue;
    for (let number = Number(s[2]); number >= 1; number -= 1) {
      const id = keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32', 'uint256'], [subjectId, number]));
      const v = (await contract.getFunction('getVersion').staticCall(id)) as unknown as {
        kind: bigint;
        root: bigint;
        count: bigint;
        depth: bigint;
        schemaHash: bigint;
        modelHash: bigint;
      };
      if (matches(v)) return { version: id, subjectId, label: subjectId === labelled ? label : '', action: 'existing' };
    }
  }
  // None: register it under the label (a new version when the label is taken by this signer's same kind of subject).
  const s = (await contract.getFunction('subjects').staticCall(labelled)) as unknown as [
    string,
    bigint,
    bigint,
    string,
  ];
  const exists = s[0] !== ZeroAddress;
  if (exists && s[1] !== kindCode) {
    throw new ChainError(
      `your label "${label}" already names a ${s[1] === 1n ? 'dataset' : 'model'}, not a ${want.kind}`,
      { hint: 'pass another --label' },
    );
  }
  let commitment: DatasetCommitmentFields | undefined;
  if (want.kind === 'dataset') {
    commitment = want.commitment;
    if (!commitment) {
      if (!flags.commitment) {
        throw new ChainError(
          `no dataset of yours with root ${want.root} is registered, and an inclusion proof does not carry the record count`,
          {
            hint: 'attest a dataset proof of it first, or pass --commitment COMMITMENT.json (written by zkai data commit --public) to register it, or --subject VERSION for a dataset registered by someone else',
          },
        );
      }
      commitment = commitmentOf(flags.commitment, await readJsonFile(flags.commitment, 'commitment'));
      if (commitment.root !== want.root || commitment.schemaHash !== want.schemaHash)
        throw new InputFileError(
          flags.commitment,
          `it is the commitment of root ${commitment.root}, not of the proof's root ${want.root} (or another schema)`,
        );
    }
  }
  const made =
    want.kind === 'dataset'
      ? exists
        ? await registry.publishDatasetVersion(labelled, commitment!)
        : await registry.registerDataset(label, commitment!)
      : exists
        ? await registry.publishModelVersion(labelled, want.hash)
        : await registry.registerModel(label, want.hash);
  return {
    version: made.version,
    subjectId: made.subjectId,
    label,
    action: exists ? 'new-version' : 'registered',
    gas: made.gasUsed.toString(),
  };
}

/** Options of {@link attestProof}. */
export interface AttestProofOptions {
  /** The nonce the proof's context was made with (0x and 64 hex digits). */
  nonce: string;
  /** The label to find or register the subject under (default: the model's name, or `data-` and the schema hash). */
  label?: string;
  /** A dataset or model version id to attest about, instead of finding one. */
  subject?: string;
  /** An inclusion proof's dataset commitment file (to register the dataset, which the proof does not describe). */
  commitment?: string;
  /** An accuracy proof's test set: a version id, or a label to find or register it under. */
  testSet?: string;
  testSetLabel?: string;
  /** Unix time after which the attestation expires. */
  expirationTime?: number;
  /** An attestation this one refers to. */
  refUID?: string;
  /** Default true. */
  revocable?: boolean;
  /** The proving key the proof was made with (default: found in the cache by the proof's circuit id). */
  zkey?: string;
  cacheDir?: string;
  onProgress?: (text: string) => void;
  /** Words naming the circuit's source for the `zkai chain register` hint of an unregistered circuit. */
  registerWords?: string;
  /** Chain options to repeat in the commands hints suggest (the CLI's --rpc, --deployment, --chain-dir). */
  hintFlags?: string;
}

/** What {@link attestProof} did. */
export type AttestProofResult = {
  registry: string;
  chainId: number;
  attester: string;
  circuit: { id: string; kind: string; keyTrust: string };
  subject: SubjectChoice;
  nonce: string;
  uid: string;
  gas: string;
  txHash: string;
  /** A private chunked proof: the transactions it took (one, or batches of chunks and the aggregation proofs). */
  transactions?: number;
} & ({ chunkGas?: undefined } | { chunkGas: string[] }) &
  (
    | { testSet?: undefined; accuracy?: undefined }
    | { testSet: SubjectChoice; accuracy: { correct: number; total: number } }
  );

/**
 * Attest `proof` (read with {@link readAttestableProof} from `proofPath`) on the deployment's registry, as `me` (the
 * deployment's signer).
 *
 * @throws {ChainError} for a proof bound to another attester or nonce, an unregistered circuit, a subject that cannot
 *   be found or registered; the registry's refusals as RegistryRevertError.
 * @throws {ZkaiError} KEY_NOT_FOUND, KEY_MISMATCH for the proving key.
 */
export async function attestProof(
  connected: ConnectedDeployment,
  me: string,
  proof: AttestableProof,
  proofPath: string,
  options: AttestProofOptions,
): Promise<AttestProofResult> {
  const { deployment, registry } = connected;
  const nonce = options.nonce;
  const hintFlags = options.hintFlags ?? '';
  const progress = options.onProgress ?? (() => undefined);

  // 1. The proof must be bound to this signer and nonce, or the registry refuses it (checked before sending anything).
  {
    const expected = attestationContext(deployment.chainId, deployment.registry, me, nonce).toString();
    for (const [j, chunk] of proof.chunks.entries()) {
      const got = chunk.publicSignals.at(-1);
      if (got === expected) continue;
      const where = proof.chunked ? `chunk ${j} of ${proofPath}` : proofPath;
      throw new ChainError(
        got === '0'
          ? `${where} was made without a context (context 0): the registry accepts only proofs bound to the attester and a nonce`
          : `${where} is bound to context ${got}, but attesting as ${me} with nonce ${nonce} on registry ${deployment.registry} (chain ${deployment.chainId}) needs context ${expected}`,
        {
          hint:
            got === '0'
              ? `prove again with --context ${expected} (this is the context of nonce ${nonce}; zkai chain context --nonce ${nonce}${hintFlags} prints it), then attest with --nonce ${nonce}`
              : `pass the --nonce the proof's context was made with (zkai chain context --nonce NONCE${hintFlags} prints the context of a nonce, for this account), or prove again with --context ${expected} and attest with --nonce ${nonce}; a proof made for another account cannot be attested by this one`,
        },
      );
    }
  }

  // 2. The circuit: its id is the verification key's; the registry owner registered it from its source
  // (zkai chain register), and its registration decides what the proof's signals mean.
  const keys = await keysFor(proof, options, proofPath);
  const signalCount = proof.chunks[0]!.publicSignals.length;
  if (keys.vkey.nPublic !== signalCount) {
    throw new ZkaiError(
      'KEY_MISMATCH',
      `the proving key ${keys.zkeyPath} has ${keys.vkey.nPublic} public signals, but the ${proof.kind} proof of ${proofPath} has ${signalCount}: it is not this proof's key`,
    );
  }
  const circuitId = verificationKeyId(keys.vkey);
  const stored = await registry.registeredCircuit(circuitId);
  if (!stored) {
    const owner = String(await registry.contract.getFunction('owner').staticCall());
    throw new ChainError(
      `the ${proof.kind} circuit ${circuitId} of ${proofPath} is not registered on registry ${deployment.registry}`,
      {
        hint: `the registry owner (${owner}${owner.toLowerCase() === me.toLowerCase() ? ', you' : ''}) registers it from its own source: zkai chain register ${proofPath} ${options.registerWords ?? '--schema SCHEMA.json --policy POLICY.json --development'}${hintFlags} (add --consent-registry NAME --purpose P and --list REGISTRY=LIST for a policy with registries)`,
      },
    );
  }
  const circuit = { id: circuitId, kind: stored.kind, keyTrust: stored.provenance?.keyTrust ?? 'none' };
  const base = { registry: deployment.registry, chainId: deployment.chainId, attester: me, circuit };

  // 3. The subject: a registered dataset or model version whose fields are the proof's.
  const subject = await findOrRegisterSubject(registry, deployment, proof, options, me);
  if (subject.action === 'registered' || subject.action === 'new-version')
    progress(
      `[chain] ${subject.action === 'registered' ? 'registered' : 'published a new version of'} ${proof.subject.kind} "${subject.label}": version ${subject.version}`,
    );
  // An accuracy proof's test set is a registered dataset too, found or registered the same way.
  const testSet = proof.testSet
    ? await findOrRegisterSubject(
        registry,
        deployment,
        {
          ...proof,
          subject: {
            kind: 'dataset',
            root: proof.testSet.root,
            schemaHash: proof.testSet.schemaHash,
            commitment: proof.testSet,
          },
        },
        {
          ...(options.testSetLabel !== undefined ? { label: options.testSetLabel } : {}),
          ...(options.testSet !== undefined ? { subject: options.testSet } : {}),
        },
        me,
      )
    : undefined;
  if (testSet && (testSet.action === 'registered' || testSet.action === 'new-version'))
    progress(
      `[chain] ${testSet.action === 'registered' ? 'registered' : 'published a new version of'} test set "${testSet.label}": version ${testSet.version}`,
    );

  // 4. Attest.
  const request = {
    circuit: circuit.id,
    subject: subject.version,
    nonce,
    ...(options.expirationTime === undefined ? {} : { expirationTime: options.expirationTime }),
    ...(options.refUID ? { refUID: options.refUID } : {}),
    revocable: options.revocable ?? true,
  };
  if (testSet) {
    const pending = await registry.accuracyProgress(subject.version, circuit.id, testSet.version);
    if (pending.records > 0) {
      progress(
        `[chain] dropping an unfinished accuracy attestation of this model on this test set (${pending.records} records accepted earlier)`,
      );
      await registry.resetAccuracyChunks(subject.version, circuit.id, testSet.version);
    }
    const made = await registry.attestAccuracy(
      request,
      testSet.version,
      proof.chunks,
      proof.correct ?? 0,
      (done, total, gas) => progress(`[chain] accuracy chunk ${done}/${total} accepted (${gas} gas)`),
    );
    const record = (
      await registry.attestations({ subject: subject.version, attester: me, fromBlock: deployment.blockNumber })
    ).find((a) => a.uid === made.uid);
    return {
      ...base,
      subject,
      testSet,
      accuracy: made.accuracy,
      nonce,
      uid: made.uid,
      gas: made.gas.reduce((a, b) => a + b, 0n).toString(),
      chunkGas: made.gas.map(String),
      txHash: record?.txHash ?? '',
    };
  }
  if (proof.aggregation) {
    const aggregation = await registry.aggregationOf(circuit.id);
    if (!aggregation) {
      const owner = String(await registry.contract.getFunction('owner').staticCall());
      throw new ChainError(
        `the private chunk circuit ${circuit.id} of ${proofPath} is registered, but not its aggregation circuits`,
        {
          hint: `the registry owner (${owner}) registers them from the same source: zkai chain register ${proofPath} ${options.registerWords ?? '--schema SCHEMA.json --policy POLICY.json --development'}${hintFlags}`,
        },
      );
    }
    progress(
      `[chain] attesting ${proof.chunks.length} chunk proofs and ${proof.aggregation.flat().length} aggregation proof(s)${proof.chunks.length > PRIVATE_CHUNKS_PER_TRANSACTION ? `: chunks in batches of ${PRIVATE_CHUNKS_PER_TRANSACTION}, then the aggregation proofs` : ' in one transaction'}`,
    );
    const made = await registry.attestPrivateChunks(request, proof.chunks, proof.aggregation, {
      onTransaction: (what, gas) => progress(`[chain] ${what} accepted (${gas} gas)`),
    });
    return {
      ...base,
      subject,
      nonce,
      uid: made.uid,
      gas: made.gasUsed.toString(),
      txHash: made.txHash,
      transactions: made.transactions,
    };
  }
  if (proof.chunked) {
    const [, records] = (await registry.contract
      .getFunction('chunkProgress')
      .staticCall(subject.version, circuit.id, me)) as unknown as [bigint, bigint];
    if (records > 0n) {
      progress(
        `[chain] dropping an unfinished chunked attestation of this dataset (${records} records accepted earlier)`,
      );
      await registry.resetChunks(subject.version, circuit.id);
    }
    const made = await registry.attestChunks(request, proof.chunks, (done, total, gas) =>
      progress(`[chain] chunk ${done}/${total} accepted (${gas} gas)`),
    );
    const record = (
      await registry.attestations({ subject: subject.version, attester: me, fromBlock: deployment.blockNumber })
    ).find((a) => a.uid === made.uid);
    return {
      ...base,
      subject,
      nonce,
      uid: made.uid,
      gas: made.gas.reduce((a, b) => a + b, 0n).toString(),
      chunkGas: made.gas.map(String),
      txHash: record?.txHash ?? '',
    };
  }
  const made = await registry.attest(request, proof.chunks[0]!.proof, proof.chunks[0]!.publicSignals);
  return { ...base, subject, nonce, uid: made.uid, gas: made.gasUsed.toString(), txHash: made.txHash };
}
