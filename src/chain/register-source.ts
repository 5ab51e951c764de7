/**
 * Register a circuit only from its source. The registrant regenerates the circuit on its own machine from what it
 * trusts (a schema and a policy, or a model and its quantization), compiles it, and accepts a proving key only when:
 *
 * - the key belongs to that r1cs and a ptau (snarkjs `zKey.verifyFromR1cs`, the whole contribution chain), and the
 *   ptau is a PRODUCTION file (pinned hash) or one this machine generated itself;
 * - its chain ends with a public beacon and holds a contribution of the registrant's own (recorded when it ran
 *   `zkai ceremony contribute`) or the registrant verifies the ceremony's transcript now;
 * - or, explicitly (`development`), the key is the registrant's own automatic single-party setup, made here: the
 *   registration then says DEVELOPMENT on chain.
 *
 * A key handed over by a prover is never registered as it is: a constraint-free circuit with the right public signals
 * would verify anything. The chain record keeps what the circuit was made from (a source descriptor and its hash, the
 * schema, policy or model hash, the transcript hash and how the key was trusted) so anyone can re-check it.
 */
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { CompiledCircuit } from '../circuit/compile.ts';
import { resolveCacheDir } from '../cache/cache-dir.ts';
import { generateAggregationCircuit, type AggregationLevel } from '../data/aggregation-gen.ts';
import { generateDatasetCircuit } from '../data/circuit-gen.ts';
import { generateInclusionCircuit } from '../data/inclusion.ts';
import type { Policy } from '../policy/policy.ts';
import { compileGenerated } from '../data/prepare-generated.ts';
import type { Schema } from '../data/types.ts';
import { ChainError, ZkaiError } from '../errors.ts';
import { generateAccuracyCircuit, type AccuracyTask } from '../model/accuracy.ts';
import { generateModelCircuit, modelHash, type InputVisibility, type WeightVisibility } from '../model/circuit-gen.ts';
import type { QuantizedModel } from '../model/quantize.ts';
import {
  canonicalJson,
  normalizeHash,
  readCeremonyTranscript,
  verifyCeremony,
  type CeremonyVerification,
} from '../setup/ceremony.ts';
import { listDevPtaus } from '../setup/dev-ptau.ts';
import { setupCircuit } from '../setup/phase2.ts';
import { blake2b512File } from '../setup/ptau-file.ts';
import type { ProgressListener } from '../setup/progress.ts';
import { isOwnContribution } from '../setup/trust-store.ts';
import { readZkeyInfo } from '../setup/zkey-file.ts';
import {
  accuracyStatement,
  committedChunkStatement,
  datasetAggregationStatement,
  datasetChunkStatement,
  datasetStatement,
  inferenceStatement,
  type Statement,
} from '../statement/statement.ts';
import { verificationKeyId, type Groth16VerificationKey } from './groth16-template.ts';
import { readVerificationKey } from './solidity-verifier.ts';
import { SOURCE_FORMAT, type CircuitProvenance, type KeyTrust, type RegistryClient } from './registry.ts';
import { listId } from './lists.ts';
import { ConsentError, ConsentRegistryClient } from './consent.ts';

/** What a circuit is regenerated from: only what the registrant trusts. */
export type CircuitSource =
  | { kind: 'dataset-policy'; schema: Schema; policy: Policy; depth: number }
  | {
      kind: 'dataset-chunk';
      schema: Schema;
      policy: Policy;
      chunkDepth: number;
      subtrees: number;
      /** A private chunk circuit (`committed-chunk` mode: one salted commitment to its partials). */
      committed?: boolean;
    }
  | { kind: 'dataset-aggregation'; schema: Schema; policy: Policy; level: AggregationLevel; fanIn: number }
  | { kind: 'inclusion'; schema: Schema; depth: number }
  | { kind: 'inference'; model: QuantizedModel; visibility: InputVisibility; weights: WeightVisibility }
  | {
      kind: 'accuracy';
      model: QuantizedModel;
      schema: Schema;
      task: AccuracyTask;
      samplesPerChunk: number;
      weights: WeightVisibility;
    };

/** Where the proving key comes from. */
export type RegistrationKey =
  /** zkai's automatic single-party setup on this machine: DEVELOPMENT-ONLY, and only when asked for. */
  | { kind: 'own-setup'; ptauPath?: string }
  /**
   * A ceremony's final zkey, checked against the regenerated r1cs and its ptau. Without a contribution of the
   * registrant's own in its chain, the transcript is verified and `trustedContributions` names at least one
   * contribution (its hash) of a party the registrant trusts: a transcript shows that the files agree, not who
   * contributed (its names are what each participant typed).
   */
  | {
      kind: 'ceremony';
      zkeyPath: string;
      ptauPath: string;
      transcriptPath?: string;
      trustedContributions?: readonly string[];
    };

/** The circuit regenerated and compiled here, with the statement it proves and its source descriptor. */
export interface SourceCircuit {
  compiled: CompiledCircuit;
  statement: Statement;
  descriptor: Record<string, unknown>;
  schemaHash?: string;
  modelHash?: string;
  policy?: Policy;
}

/** How a key was judged for registration. */
export interface RegistrationKeyCheck {
  zkeyPath: string;
  vkey: Groth16VerificationKey;
  keyTrust: KeyTrust;
  transcriptSha256?: string;
  /** The contributions the registrant named as trusted (verified-transcript keys). */
  trustedContributions?: string[];
  /** What was checked, one line each (for the command's output). */
  checked: string[];
  ptau: { path: string; blake2b512: string; trust: 'production' | 'own'; reason: string };
  contributions: Array<{ type: string; name?: string; hash: string; own?: boolean }>;
}

/** Regenerate and compile the circuit of a source (cached), and describe it. */
export async function sourceCircuit(
  source: CircuitSource,
  options: { cacheDir?: string; onProgress?: ProgressListener } = {},
): Promise<SourceCircuit> {
  const cache = options.cacheDir ? { cacheDir: options.cacheDir } : {};
  const base = { format: SOURCE_FORMAT, kind: source.kind };
  switch (source.kind) {
    case 'dataset-policy': {
      const generated = await generateDatasetCircuit(source.schema, source.policy, source.depth, cache);
      const compiled = await compileGenerated(generated.path, options);
      return {
        compiled,
        statement: datasetStatement(source.schema, source.policy),
        descriptor: {
          ...base,
          generator: generated.id,
          schemaHash: source.schema.hash,
          policyHash: source.policy.hash,
          depth: source.depth,
          ...r1csFacts(compiled),
        },
        schemaHash: source.schema.hash,
        policy: source.policy,
      };
    }
    case 'dataset-chunk': {
      const generated = await generateDatasetCircuit(source.schema, source.policy, source.chunkDepth, {
        ...cache,
        mode: source.committed ? 'committed-chunk' : 'chunk',
        subtrees: source.subtrees,
      });
      const compiled = await compileGenerated(generated.path, options);
      const shape = { subtrees: source.subtrees, chunkDepth: source.chunkDepth };
      return {
        compiled,
        statement: source.committed
          ? committedChunkStatement(source.schema, source.policy, shape)
          : datasetChunkStatement(source.schema, source.policy, shape),
        descriptor: {
          ...base,
          generator: generated.id,
          schemaHash: source.schema.hash,
          policyHash: source.policy.hash,
          chunkDepth: source.chunkDepth,
          subtrees: source.subtrees,
          ...(source.committed ? { committed: true } : {}),
          ...r1csFacts(compiled),
        },
        schemaHash: source.schema.hash,
        policy: source.policy,
      };
    }
    case 'dataset-aggregation': {
      const generated = await generateAggregationCircuit(source.schema, source.policy, {
        ...cache,
        level: source.level,
        fanIn: source.fanIn,
      });
      const compiled = await compileGenerated(generated.path, options);
      return {
        compiled,
        statement: datasetAggregationStatement(source.policy, source.level, source.fanIn),
        descriptor: {
          ...base,
          generator: generated.id,
          schemaHash: source.schema.hash,
          policyHash: source.policy.hash,
          level: source.level,
          fanIn: source.fanIn,
          ...r1csFacts(compiled),
        },
        schemaHash: source.schema.hash,
        policy: source.policy,
      };
    }
    case 'inclusion': {
      const generated = await generateInclusionCircuit(source.schema, source.depth, cache);
      const compiled = await compileGenerated(generated.path, options);
      return {
        compiled,
        statement: { kind: 'inclusion', schemaHash: source.schema.hash },
        descriptor: {
          ...base,
          generator: generated.id,
          schemaHash: source.schema.hash,
          depth: source.depth,
          ...r1csFacts(compiled),
        },
        schemaHash: source.schema.hash,
      };
    }
    case 'inference': {
      const generated = await generateModelCircuit(source.model, source.visibility, {
        ...cache,
        weights: source.weights,
      });
      const compiled = await compileGenerated(generated.path, options);
      const hash = source.weights === 'fixed' ? modelHash(source.model) : undefined;
      return {
        compiled,
        statement: inferenceStatement(source.model, { visibility: source.visibility, weights: source.weights }),
        descriptor: {
          ...base,
          generator: generated.id,
          visibility: source.visibility,
          weights: source.weights,
          inputSize: source.model.inputSize,
          fracBits: source.model.fracBits,
          ...(hash ? { modelHash: hash } : {}),
          ...r1csFacts(compiled),
        },
        ...(hash ? { modelHash: hash } : {}),
      };
    }
    case 'accuracy': {
      const generated = await generateAccuracyCircuit(
        source.model,
        source.schema,
        source.task,
        source.samplesPerChunk,
        { ...cache, weights: source.weights },
      );
      const compiled = await compileGenerated(generated.path, options);
      const hash = source.weights === 'fixed' ? modelHash(source.model) : undefined;
      return {
        compiled,
        statement: accuracyStatement(source.model, source.task, {
          weights: source.weights,
          samplesPerChunk: source.samplesPerChunk,
        }),
        descriptor: {
          ...base,
          generator: generated.id,
          weights: source.weights,
          samplesPerChunk: source.samplesPerChunk,
          schemaHash: source.schema.hash,
          taskHash: source.task.taskHash,
          fracBits: source.model.fracBits,
          ...(hash ? { modelHash: hash } : {}),
          ...r1csFacts(compiled),
        },
        schemaHash: source.schema.hash,
        ...(hash ? { modelHash: hash } : {}),
      };
    }
    default:
      return source satisfies never;
  }
}

function r1csFacts(compiled: CompiledCircuit): Record<string, unknown> {
  return {
    circuit: compiled.name,
    constraints: compiled.info.constraints,
    publicSignals: compiled.info.publicInputs + compiled.info.outputs,
  };
}

/** The error every refused key gets: what failed, and the ways a registrant can get a key it may register. */
function refused(detail: string): ZkaiError {
  return new ZkaiError('KEY_NOT_TRUSTED', `the proving key cannot be registered: ${detail}`, {
    hint:
      'register a ceremony key (zkai ceremony init | contribute | beacon | finalize) with --zkey FINAL.zkey --ptau PTAU and either your own contribution in its chain ' +
      'or --transcript TRANSCRIPT.json --contribution HASH (a contribution of a party you trust); or, on a development chain only, --development to register your own single-party setup',
  });
}

/**
 * Judge the key a circuit would be registered with, against the circuit regenerated here. Throws `KEY_NOT_TRUSTED`
 * (a ZkaiError) naming what failed.
 */
export async function checkRegistrationKey(
  circuit: CompiledCircuit,
  key: RegistrationKey,
  options: { cacheDir?: string; development?: boolean; onProgress?: ProgressListener } = {},
): Promise<RegistrationKeyCheck> {
  const cacheDir = resolveCacheDir(options.cacheDir);
  if (key.kind === 'own-setup') {
    if (!options.development)
      throw refused(
        'your own automatic setup is single-party (you alone could forge proofs with it): registering it needs --development, and the chain will say DEVELOPMENT',
      );
    const keys = await setupCircuit(circuit, {
      cacheDir,
      ...(key.ptauPath ? { ptauPath: key.ptauPath } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const info = await readZkeyInfo(keys.zkeyPath);
    return {
      zkeyPath: keys.zkeyPath,
      vkey: keys.vkey as unknown as Groth16VerificationKey,
      keyTrust: 'development',
      checked: [
        `the key is your own automatic setup of the circuit regenerated here (${circuit.name}), made in ${cacheDir}: single-party, DEVELOPMENT-ONLY`,
      ],
      ptau: {
        path: keys.ptau.path,
        blake2b512: keys.ptau.blake2b512,
        trust: keys.ptau.trust === 'production' ? 'production' : 'own',
        reason: keys.ptau.trustReason,
      },
      contributions: info.contributions.map((step) => ({
        type: step.type,
        ...(step.name ? { name: step.name } : {}),
        hash: step.hash,
        own: step.type === 'contribution',
      })),
    };
  }
  if (!existsSync(key.zkeyPath)) throw refused(`${key.zkeyPath} does not exist`);
  const transcript = key.transcriptPath ? await readCeremonyTranscript(key.transcriptPath) : undefined;
  const verification: CeremonyVerification = await verifyCeremony(
    key.zkeyPath,
    { name: circuit.name, r1csPath: circuit.r1csPath, info: circuit.info },
    key.ptauPath,
    {
      cacheDir,
      ...(transcript ? { transcript } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  );
  if (!verification.valid)
    throw refused(
      `it is not a key of the circuit regenerated here (${circuit.name}, ${circuit.info.constraints} constraints) with a valid chain: ${verification.problems.join('; ')}`,
    );
  const checked = [
    `the key's whole chain verifies against the r1cs regenerated here (${circuit.name}) and the ptau (snarkjs zkey verify)`,
  ];

  let ptauTrust: 'production' | 'own';
  if (verification.ptau.trust === 'production') {
    ptauTrust = 'production';
    checked.push(`the ptau is a published ceremony file (${verification.ptau.trustReason})`);
  } else {
    const own = await ownDevPtau(cacheDir, verification.ptau.blake2b512);
    if (!own)
      throw refused(
        `the ptau ${key.ptauPath} is neither a published ceremony file (pinned hash) nor one this machine generated (${cacheDir}/ptau): whoever made it may hold its toxic waste`,
      );
    ptauTrust = 'own';
    checked.push(`the ptau is one this machine generated (${own})`);
  }

  const steps = verification.contributions;
  if (steps.at(-1)?.type !== 'beacon')
    throw refused('its chain does not end with a public random beacon (zkai ceremony beacon)');
  const contributions = await Promise.all(
    steps.map(async (step) => ({
      type: step.type,
      ...(step.name ? { name: step.name } : {}),
      hash: step.hash,
      ...(step.type === 'contribution' ? { own: await isOwnContribution(cacheDir, step.hash) } : {}),
    })),
  );
  const secret = contributions.filter((step) => step.type === 'contribution');
  if (secret.length === 0) throw refused('its chain has no secret contribution: its toxic waste is public');
  const ownStep = secret.find((step) => step.own);
  let keyTrust: KeyTrust;
  let transcriptSha256: string | undefined;
  let trustedContributions: string[] | undefined;
  if (ownStep) {
    keyTrust = 'own-contribution';
    checked.push(
      `the chain holds your own contribution ${ownStep.hash.slice(0, 16)}... (recorded when you contributed) and ends with a beacon`,
    );
  } else if (transcript && key.transcriptPath) {
    const named = (key.trustedContributions ?? []).map(normalizeHash);
    if (named.length === 0) {
      throw refused(
        'its chain holds no contribution of yours, and a transcript only shows that the files agree, not who contributed (its names are what each participant typed: one party can make every contribution and forge proofs): name a contribution you trust with --contribution HASH (published by a party you trust), or contribute yourself',
      );
    }
    const missing = named.filter((hash) => !secret.some((step) => step.hash === hash));
    if (missing.length > 0)
      throw refused(
        `the contribution${missing.length > 1 ? 's' : ''} you trust ${missing.map((h) => `${h.slice(0, 16)}...`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in the key's chain`,
      );
    keyTrust = 'verified-transcript';
    trustedContributions = named;
    transcriptSha256 = `0x${createHash('sha256')
      .update(canonicalJson(JSON.parse(await readFile(key.transcriptPath, 'utf8'))))
      .digest('hex')}`;
    checked.push(
      `the ceremony transcript ${key.transcriptPath} matches the chain step by step (${secret.length} contribution(s), then the beacon), and the chain holds the contribution${named.length > 1 ? 's' : ''} you trust (${named.map((h) => `${h.slice(0, 16)}...`).join(', ')})`,
    );
  } else {
    throw refused(
      'its chain holds no contribution of yours (none of its contribution hashes is one this machine recorded with zkai ceremony contribute), and no --transcript with a --contribution you trust was given',
    );
  }
  const vkey = (verification.verificationKey ??
    (await readVerificationKey(key.zkeyPath))) as unknown as Groth16VerificationKey;
  return {
    zkeyPath: key.zkeyPath,
    vkey,
    keyTrust,
    ...(transcriptSha256 ? { transcriptSha256 } : {}),
    ...(trustedContributions ? { trustedContributions } : {}),
    checked,
    ptau: {
      path: key.ptauPath,
      blake2b512: verification.ptau.blake2b512,
      trust: ptauTrust,
      reason: verification.ptau.trustReason,
    },
    contributions,
  };
}

/** The path of the development ptau of this cache with this blake2b-512, if any. */
async function ownDevPtau(cacheDir: string, blake2b512: string): Promise<string | undefined> {
  for (const path of (await listDevPtaus(cacheDir)).values()) {
    if ((await blake2b512File(path)) === blake2b512) return path;
  }
  return undefined;
}

/**
 * A registry bound to an on-chain consent purpose must be a MEMBER-OF requirement on an address column: the consent
 * contract derives every leaf from a subject's account, so only an address column's values can be members, and a
 * NOT-MEMBER-OF requirement against a consent tree would claim that no record consented. The column must be the
 * subject id with UNIQUE in the policy: otherwise one consenting account could stand on every record.
 *
 * @throws {ChainError} naming the registry, its column and what is wrong.
 */
export function checkConsentRequirement(source: CircuitSource, registryName: string): void {
  if (source.kind !== 'dataset-policy' && source.kind !== 'dataset-chunk')
    throw new ChainError(
      `--consent-registry ${registryName}: only dataset policy circuits check registries, this is a ${source.kind} circuit`,
    );
  const requirement = source.policy.registries.find((r) => r.name === registryName);
  if (!requirement)
    throw new ChainError(
      `--consent-registry ${registryName}: the policy has no registry "${registryName}" (its registries: ${source.policy.registries.map((r) => r.name).join(', ') || 'none'})`,
    );
  if (requirement.kind !== 'MEMBER-OF')
    throw new ChainError(
      `--consent-registry ${registryName}: the policy's requirement is "${requirement.text}"; a consent purpose can only back a MEMBER-OF requirement (every record's subject consented)`,
    );
  if (requirement.column.spec.type !== 'address') {
    throw new ChainError(
      `--consent-registry ${registryName}: the policy checks column ${requirement.column.name} (${requirement.column.spec.type}) against it, but on-chain consent leaves are derived from accounts: only an address column holding each subject's account can match them`,
      {
        hint: "give the schema an address column with each subject's consent account and require it MEMBER-OF the consent registry",
      },
    );
  }
  if (
    !source.policy.aggregates.some(
      (aggregate) => aggregate.kind === 'UNIQUE' && aggregate.column.name === requirement.column.name,
    )
  ) {
    throw new ChainError(
      `--consent-registry ${registryName}: the policy does not require UNIQUE(${requirement.column.name}), so one consenting account could stand on every record`,
      {
        hint: `make ${requirement.column.name} the schema's subject id and add { "kind": "UNIQUE", "field": "${requirement.column.name}" } to the policy's aggregates`,
      },
    );
  }
}

/**
 * The consent purpose a circuit is about to be bound to must exist on the registry's consent contract, with the tree
 * depth the policy's requirement names (else no proof could ever be attested); returns its settings to show.
 *
 * @throws {ChainError} for an unknown purpose or another depth.
 */
export async function checkConsentPurpose(
  registry: RegistryClient,
  source: CircuitSource,
  consent: { registryName: string; purpose: string },
): Promise<{ admin: string; depth: number; rootWindow: number }> {
  const runner = registry.contract.runner;
  if (!runner) throw new ChainError('the registry client has no provider');
  const address = (await registry.contract.getFunction('consent').staticCall()) as string;
  const info = await new ConsentRegistryClient(address, runner).purposeInfo(consent.purpose).catch((error: unknown) => {
    if (error instanceof ConsentError && error.errorName === 'PurposeUnknown') {
      throw new ChainError(
        `consent purpose ${consent.purpose} does not exist on the consent registry ${address}: binding a circuit to it would let whoever creates it first choose its depth and root window`,
        {
          hint: 'create it first (zkai chain consent create --purpose NAME --depth D --window SECONDS), then register',
        },
      );
    }
    throw error;
  });
  const requirement =
    source.kind === 'dataset-policy' || source.kind === 'dataset-chunk'
      ? source.policy.registries.find((r) => r.name === consent.registryName)
      : undefined;
  if (requirement && requirement.depth !== info.depth) {
    throw new ChainError(
      `consent purpose ${consent.purpose} has tree depth ${info.depth}, but the policy's registry "${consent.registryName}" has depth ${requirement.depth}: no proof could be attested`,
    );
  }
  return { admin: info.admin, depth: info.depth, rootWindow: info.rootWindow };
}

/** Options of {@link registerCircuitFromSource}. */
export interface RegisterFromSourceOptions {
  cacheDir?: string;
  /** Accept the registrant's own single-party setup (the chain records DEVELOPMENT). */
  development?: boolean;
  consent?: { registryName: string; purpose: string };
  /** Registry name -> curated list name, for every registry other than consent. */
  lists?: Readonly<Record<string, string>>;
  uri?: string;
  onProgress?: ProgressListener;
}

/** What {@link registerCircuitFromSource} did. */
export interface RegisteredFromSource {
  circuit: string;
  /** False when the circuit (this key) was registered already: nothing was sent. */
  registered: boolean;
  verifier?: string;
  gasUsed?: bigint;
  verifierDeployGas?: bigint;
  statement: Statement;
  descriptor: Record<string, unknown>;
  key: RegistrationKeyCheck;
  /** The consent purpose the circuit is bound to, as it is on chain (a purpose name belongs to its first creator). */
  consentPurpose?: { purpose: string; registryName: string; admin: string; depth: number; rootWindow: number };
}

/**
 * Regenerate a circuit from its source, check the key against it ({@link checkRegistrationKey}) and register it with
 * its provenance (owner only).
 */
export async function registerCircuitFromSource(
  registry: RegistryClient,
  source: CircuitSource,
  key: RegistrationKey,
  options: RegisterFromSourceOptions = {},
): Promise<RegisteredFromSource> {
  let consentPurpose: RegisteredFromSource['consentPurpose'];
  if (options.consent) {
    checkConsentRequirement(source, options.consent.registryName);
    consentPurpose = { ...options.consent, ...(await checkConsentPurpose(registry, source, options.consent)) };
  }
  const progress = options.onProgress ? { onProgress: options.onProgress } : {};
  const regenerated = await sourceCircuit(source, {
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...progress,
  });
  const checked = await checkRegistrationKey(regenerated.compiled, key, {
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.development ? { development: true } : {}),
    ...progress,
  });
  const descriptor = {
    ...regenerated.descriptor,
    key: {
      trust: checked.keyTrust,
      ptau: { blake2b512: checked.ptau.blake2b512, trust: checked.ptau.trust },
      contributions: checked.contributions.map((step) => ({ type: step.type, hash: step.hash })),
      ...(checked.trustedContributions ? { trustedContributions: checked.trustedContributions } : {}),
    },
  };
  const provenance: CircuitProvenance = {
    descriptor,
    ...(regenerated.schemaHash ? { schemaHash: regenerated.schemaHash } : {}),
    ...(regenerated.modelHash ? { modelHash: regenerated.modelHash } : {}),
    keyTrust: checked.keyTrust,
    ...(checked.transcriptSha256 ? { transcriptSha256: checked.transcriptSha256 } : {}),
  };
  if (regenerated.statement.kind === 'circuit') throw new ChainError('internal: a source circuit has a statement kind');
  const id = verificationKeyId(checked.vkey);
  const stored = await registry.registeredCircuit(id);
  if (stored) {
    // Registered once: say so, and refuse to report bindings the chain does not have.
    const wantedPurpose = (options.consent?.purpose ?? `0x${'0'.repeat(64)}`).toLowerCase();
    const wantedLists = Object.entries(options.lists ?? {})
      .map(([name, list]) => `${name}=${listId(list)}`)
      .sort();
    const storedLists = (stored.lists ?? []).map((b) => `${b.name}=${b.list}`).sort();
    const differences = [
      ...(stored.consentPurpose !== undefined && stored.consentPurpose.toLowerCase() !== wantedPurpose
        ? [`consent purpose ${stored.consentPurpose} (you asked for ${wantedPurpose})`]
        : []),
      ...(storedLists.join(',') !== wantedLists.join(',')
        ? [`curated lists [${storedLists.join(', ') || 'none'}] (you asked for [${wantedLists.join(', ') || 'none'}])`]
        : []),
    ];
    if (differences.length > 0)
      throw new ChainError(
        `circuit ${id} is already registered with ${differences.join(' and ')}: a circuit is registered once`,
        {
          hint: 'attest with it as it is registered, or register another key (another ceremony) of the circuit with the bindings you want',
        },
      );
    return {
      circuit: id,
      registered: false,
      statement: regenerated.statement,
      descriptor,
      key: checked,
      ...(consentPurpose ? { consentPurpose } : {}),
    };
  }
  const made = await registry.registerCircuit({
    zkeyPath: checked.zkeyPath,
    vkey: checked.vkey,
    statement: regenerated.statement,
    ...(regenerated.policy ? { policy: regenerated.policy } : {}),
    ...(options.consent ? { consent: options.consent } : {}),
    ...(options.lists ? { lists: options.lists } : {}),
    provenance,
    ...(options.uri ? { uri: options.uri } : {}),
  });
  return {
    ...made,
    registered: true,
    statement: regenerated.statement,
    descriptor,
    key: checked,
    ...(consentPurpose ? { consentPurpose } : {}),
  };
}

/** What {@link registerPrivateChunksFromSource} did. */
export interface RegisteredPrivateChunks {
  chunk: RegisteredFromSource;
  root: RegisteredFromSource;
  fanIn: number;
  /** False when the chunk circuit had these aggregation circuits already: nothing was sent. */
  aggregationSet: boolean;
  /** Registered only when asked for (`withNode`) or when the chain has one already. */
  node?: RegisteredFromSource;
  aggregationGas?: bigint;
}

/**
 * The keys of a private chunked proof's circuits, one per circuit: a ceremony's key (checked against that circuit) or
 * the registrant's own setup. A node key is needed only when a node is registered.
 */
export interface PrivateChunkRegistrationKeys {
  chunk: RegistrationKey;
  root: RegistrationKey;
  node?: RegistrationKey;
}

/**
 * Register the three circuits of a private chunked proof (issue 18) from their source, each regenerated here and its
 * key checked like any registration: the chunk circuit (`committed-chunk` mode, with the consent and list bindings),
 * the root over `fanIn` children and, with `withNode` (a proof of more than `fanIn` chunks), the aggregation node;
 * then give the chunk circuit its aggregation circuits (ZkaiPrivateChunks.setAggregation: once, except that a node
 * may be added later to an aggregation set without one). Keys: one per circuit ({@link PrivateChunkRegistrationKeys}:
 * each circuit's ceremony key, or the registrant's own setup), or one own-setup key for all three; each circuit's
 * provenance records how its key was trusted. A ceremony key given for all three is refused: a key is of one circuit.
 *
 * @throws {ZkaiError} BAD_OPTION for one ceremony key, or no key for the node when one is registered.
 * @throws {ChainError} when the chunk circuit already has other aggregation circuits.
 */
export async function registerPrivateChunksFromSource(
  registry: RegistryClient,
  source: {
    schema: Schema;
    policy: Policy;
    chunkDepth: number;
    subtrees: number;
    fanIn: number;
    withNode: boolean;
  },
  key: RegistrationKey | PrivateChunkRegistrationKeys,
  options: RegisterFromSourceOptions = {},
): Promise<RegisteredPrivateChunks> {
  if ('kind' in key && key.kind === 'ceremony')
    throw new ZkaiError(
      'BAD_OPTION',
      "a private chunked proof has three circuits, each with its own ceremony: give the chunk circuit's key (--zkey), the root's (--root-zkey) and, for a proof of more chunks than the fan-in, the node's (--node-zkey)",
    );
  const keys: PrivateChunkRegistrationKeys = 'kind' in key ? { chunk: key, root: key, node: key } : key;
  if (source.withNode && keys.node === undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      `a proof of more chunks than the fan-in ${source.fanIn} has aggregation nodes: give the node circuit's key too (--node-zkey, or --development for your own setup)`,
    );
  const { schema, policy, fanIn } = source;
  const chunk = await registerCircuitFromSource(
    registry,
    {
      kind: 'dataset-chunk',
      schema,
      policy,
      chunkDepth: source.chunkDepth,
      subtrees: source.subtrees,
      committed: true,
    },
    keys.chunk,
    options,
  );
  const { consent: _consent, lists: _lists, ...unbound } = options;
  const aggregationCircuit = (level: AggregationLevel, levelKey: RegistrationKey) =>
    registerCircuitFromSource(
      registry,
      { kind: 'dataset-aggregation', schema, policy, level, fanIn },
      levelKey,
      unbound,
    );
  const root = await aggregationCircuit('root', keys.root);
  const existing = await registry.aggregationOf(chunk.circuit);
  // The node when this proof needs one, or when the chain has one already and its key was given (re-checked).
  const node =
    keys.node !== undefined && (source.withNode || existing?.node !== undefined)
      ? await aggregationCircuit('node', keys.node)
      : undefined;
  if (existing) {
    const other =
      existing.root !== root.circuit ||
      existing.fanIn !== fanIn ||
      (existing.node !== undefined && node !== undefined && existing.node !== node.circuit);
    if (other)
      throw new ChainError(
        `the chunk circuit ${chunk.circuit} already has other aggregation circuits (root ${existing.root}, node ${existing.node ?? 'none'}, fan-in ${existing.fanIn}): they are set once`,
        {
          hint: 'prove with the fan-in and keys of the registered aggregation circuits, or register another key of the chunk circuit',
        },
      );
    if (existing.node !== undefined || node === undefined)
      return { chunk, root, ...(node ? { node } : {}), fanIn, aggregationSet: false };
  }
  const set = await registry.setAggregation(chunk.circuit, {
    ...(node ? { node: node.circuit } : {}),
    root: root.circuit,
    fanIn,
  });
  return { chunk, root, ...(node ? { node } : {}), fanIn, aggregationSet: true, aggregationGas: set.gasUsed };
}

/** What {@link recheckRegistration} found. */
export interface RegistrationRecheck {
  circuit: string;
  /** True when the circuit regenerated from the given source is the registered one (and the key checks, when given). */
  matches: boolean;
  /** What differs, one sentence each (empty when it matches). */
  problems: string[];
  /** What was checked, one line each. */
  checked: string[];
  /** How the registrant said it trusted the key. */
  keyTrust: KeyTrust | 'none';
  /** The source descriptor the circuit was registered with. */
  descriptor: Record<string, unknown>;
}

/** The descriptor fields a regenerated circuit must share with the registered one. */
const RECHECKED_FIELDS = [
  'kind',
  'generator',
  'circuit',
  'constraints',
  'publicSignals',
  'schemaHash',
  'policyHash',
  'depth',
  'chunkDepth',
  'subtrees',
  'visibility',
  'weights',
  'inputSize',
  'fracBits',
  'modelHash',
  'taskHash',
  'samplesPerChunk',
  'committed',
  'level',
  'fanIn',
] as const;

/**
 * Re-check a registration, as anyone can: regenerate the circuit from a source (the checker's own schema and policy,
 * or model and task; the shape comes from the registered descriptor), compare it with the source descriptor the
 * registry emitted, and with the published zkey and its ptau, check the key's whole chain against the regenerated
 * r1cs, that it is the registered key (its id) and that its ptau and contributions are the ones registered.
 *
 * @throws ChainError when no circuit or no source descriptor is registered under `id`
 */
export async function recheckRegistration(
  registry: RegistryClient,
  id: string,
  source: CircuitSource,
  options: {
    zkeyPath?: string;
    ptauPath?: string;
    cacheDir?: string;
    fromBlock?: number;
    onProgress?: ProgressListener;
  } = {},
): Promise<RegistrationRecheck> {
  const stored = await registry.registeredCircuit(id);
  if (!stored) throw new ChainError(`no circuit ${id} is registered on registry ${registry.address}`);
  const descriptor = await registry.circuitSource(id, options.fromBlock ?? 0);
  if (!descriptor)
    throw new ChainError(
      `circuit ${id} was registered without a source descriptor (no CircuitSource event): there is nothing to re-check it against`,
    );
  const cache = options.cacheDir ? { cacheDir: options.cacheDir } : {};
  const regenerated = await sourceCircuit(source, {
    ...cache,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const problems: string[] = [];
  const checked: string[] = [];
  for (const field of RECHECKED_FIELDS) {
    const mine = regenerated.descriptor[field];
    const theirs = descriptor[field];
    if (mine === undefined && theirs === undefined) continue;
    if (JSON.stringify(mine) !== JSON.stringify(theirs))
      problems.push(
        `${field}: the registration says ${JSON.stringify(theirs)}, the circuit regenerated from your source has ${JSON.stringify(mine)}`,
      );
  }
  if (problems.length === 0)
    checked.push(
      `the circuit regenerated from your source is the registered one (${String(descriptor.circuit)}, ${String(descriptor.constraints)} constraints)`,
    );
  if (stored.kind !== regenerated.statement.kind)
    problems.push(
      `the registry records a ${stored.kind} circuit, your source makes a ${regenerated.statement.kind} circuit`,
    );
  if (options.zkeyPath) {
    if (!options.ptauPath)
      throw new ZkaiError('BAD_OPTION', 'checking the published zkey needs the ptau its chain started from (--ptau)');
    const verification = await verifyCeremony(
      options.zkeyPath,
      { name: regenerated.compiled.name, r1csPath: regenerated.compiled.r1csPath, info: regenerated.compiled.info },
      options.ptauPath,
      cache,
    );
    if (!verification.valid)
      problems.push(`the zkey is not a valid chain for the regenerated circuit: ${verification.problems.join('; ')}`);
    else
      checked.push("the zkey's whole chain verifies against the regenerated r1cs and the ptau (snarkjs zkey verify)");
    const vkey = verification.verificationKey ?? (await readVerificationKey(options.zkeyPath));
    const keyId = verificationKeyId(vkey as unknown as Groth16VerificationKey);
    if (keyId !== id.toLowerCase())
      problems.push(`the zkey's verification key is ${keyId}, not the registered circuit ${id}`);
    else checked.push('the zkey is the registered key (same verification key id)');
    const key = (descriptor.key ?? {}) as { ptau?: { blake2b512?: string }; contributions?: Array<{ hash?: string }> };
    if (key.ptau?.blake2b512 !== undefined && key.ptau.blake2b512 !== verification.ptau.blake2b512)
      problems.push(`the ptau is not the one registered (blake2b-512 ${key.ptau.blake2b512.slice(0, 16)}...)`);
    const registeredSteps = (key.contributions ?? []).map((step) => step.hash);
    const steps = verification.contributions.map((step) => step.hash);
    if (registeredSteps.length > 0 && JSON.stringify(registeredSteps) !== JSON.stringify(steps))
      problems.push("the zkey's contributions are not the ones registered");
    else if (registeredSteps.length > 0)
      checked.push(`its ${steps.length} step(s) and its ptau are the ones registered`);
  }
  return {
    circuit: id,
    matches: problems.length === 0,
    problems,
    checked,
    keyTrust: stored.provenance?.keyTrust ?? 'none',
    descriptor,
  };
}
