/**
 * `zkai chain register` (a circuit, only from its source) and `zkai chain list create | publish | show` (curated lists
 * such as opt-out lists, whose roots only their curator publishes).
 */
import { getAddress, isAddress } from 'ethers';
import { ChainError, InputFileError, ZkaiError } from '../errors.ts';
import { listId } from '../chain/lists.ts';
import {
  recheckRegistration,
  registerCircuitFromSource,
  registerPrivateChunksFromSource,
  type CircuitSource,
  type RegisteredFromSource,
  type PrivateChunkRegistrationKeys,
  type RegistrationKey,
} from '../chain/register-source.ts';
import type { ProgressEvent } from '../setup/progress.ts';
import { loadPolicy } from '../policy/policy.ts';
import { loadRegistry } from '../data/registry-file.ts';
import { loadSchema } from '../data/schema.ts';
import { accuracyTask } from '../model/accuracy.ts';
import { quantizeModel } from '../model/quantize.ts';
import { parseProofFile, type ProofFile } from '../statement/index.ts';
import type { InputVisibility, WeightVisibility } from '../model/circuit-gen.ts';
import {
  chainFlagsText,
  deploymentOf,
  positiveInteger,
  progressLine,
  purposeOf,
  withSession,
} from './chain-commands.ts';
import { readJsonFile } from './io.ts';
import { loadAnyModel, verifierFracBits, verifierTask } from './model-options.ts';
import { emit } from './output.ts';
import type {
  ChainCheckCircuitFlags,
  ChainListCreateFlags,
  ChainListPublishFlags,
  ChainListShowFlags,
  ChainRegisterFlags,
} from './groups/chain.ts';
import type { AggregationLevel } from '../data/aggregation-gen.ts';
import { MAX_FAN_IN } from '../data/aggregation-gen.ts';

/** The source flags `zkai chain register` and `zkai chain check-circuit` both have (each declares them). */
type SourceKeys =
  'schema' | 'policy' | 'model' | 'fracBits' | 'inputMin' | 'inputMax' | 'label' | 'features' | 'allFeatures' | 'scale';
type SourceFlags = Pick<ChainRegisterFlags, SourceKeys> & Pick<ChainCheckCircuitFlags, SourceKeys>;

/** `--list NAME=LIST ...`: which curated list each of the policy's registries is checked against. */
function listBindings(values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values ?? []) {
    const at = value.indexOf('=');
    const name = at < 0 ? value : value.slice(0, at);
    const list = at < 0 ? value : value.slice(at + 1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || list.length === 0)
      throw new ZkaiError(
        'BAD_OPTION',
        `--list takes REGISTRY=LIST (or REGISTRY when the list has the registry's name), got "${value}"`,
      );
    if (out[name] !== undefined) throw new ZkaiError('BAD_OPTION', `--list names registry "${name}" twice`);
    out[name] = list;
  }
  return out;
}

function need(value: string | undefined, flag: string, why: string): string {
  if (value === undefined)
    throw new ZkaiError('BAD_OPTION', `give ${flag}: ${why}`, {
      hint: 'registration regenerates the circuit from what YOU trust; the proof file only gives its shape',
    });
  return value;
}

/** A circuit's shape: what the proof file or the registered descriptor says, and nothing it means. */
type SourceShape =
  | { kind: 'dataset-policy'; depth: number }
  | { kind: 'dataset-chunk'; chunkDepth: number; subtrees: number; committed?: boolean }
  | { kind: 'dataset-aggregation'; level: AggregationLevel; fanIn: number }
  | { kind: 'inclusion'; depth: number }
  | { kind: 'inference'; visibility: InputVisibility; weights: WeightVisibility }
  | { kind: 'accuracy'; samplesPerChunk: number; weights: WeightVisibility };

/** The source of a circuit of this shape, from the files the flags name (the registrant's or checker's own). */
async function sourceFromShape(shape: SourceShape, flags: SourceFlags): Promise<CircuitSource> {
  const schemaOf = () =>
    loadSchema(need(flags.schema, '--schema FILE', `the schema the ${shape.kind} circuit is generated from`));
  const modelOf = async () => {
    const modelPath = need(
      flags.model,
      '--model FILE',
      `the model the ${shape.kind} circuit is generated from (fixed weights are in the circuit; a private-weights circuit needs its architecture)`,
    );
    const fracBits = verifierFracBits(flags.fracBits, `the model ${modelPath}`);
    return { fracBits, model: quantizeModel((await loadAnyModel(modelPath, flags)).model, fracBits) };
  };
  /** The schema and the policy a dataset circuit is generated from. */
  const datasetOf = async () => {
    const schema = await schemaOf();
    const policy = await loadPolicy(
      need(flags.policy, '--policy FILE', 'the policy the dataset circuit is generated from'),
      schema,
    );
    return { schema, policy };
  };
  switch (shape.kind) {
    case 'dataset-policy':
      return { ...shape, ...(await datasetOf()) };
    case 'dataset-chunk':
      return { ...shape, ...(await datasetOf()) };
    case 'dataset-aggregation':
      return { ...shape, ...(await datasetOf()) };
    case 'inclusion':
      return { ...shape, schema: await schemaOf() };
    case 'inference':
      return { ...shape, model: (await modelOf()).model };
    case 'accuracy': {
      const given = verifierTask(flags);
      const schema = await schemaOf();
      const { model, fracBits } = await modelOf();
      return { ...shape, model, schema, task: accuracyTask(schema, fracBits, given) };
    }
    default:
      return shape satisfies never;
  }
}

/** The hash a source pins and the proof's own, by name, to name a proof of another circuit. */
function sourceHashes(source: CircuitSource): Record<string, string> {
  switch (source.kind) {
    case 'dataset-policy':
    case 'dataset-chunk':
    case 'dataset-aggregation':
      return { schema: source.schema.hash, policy: source.policy.hash };
    case 'inclusion':
      return { schema: source.schema.hash };
    case 'inference':
      return {};
    case 'accuracy':
      return { schema: source.schema.hash, task: source.task.taskHash };
    default:
      return source satisfies never;
  }
}

/** The source to regenerate the proof's circuit from: its shape from the file, everything it means from the flags. */
async function sourceOf(file: ProofFile, path: string, flags: ChainRegisterFlags): Promise<CircuitSource> {
  let shape: SourceShape;
  let proven: Record<string, string>;
  switch (file.format) {
    case 'zkai-dataset-proof-v1':
      shape = { kind: 'dataset-policy', depth: file.commitment.depth };
      proven = { schema: file.commitment.schemaHash, policy: file.policy.hash };
      break;
    case 'zkai-chunked-dataset-proof-v1':
      shape = { kind: 'dataset-chunk', chunkDepth: file.chunkDepth, subtrees: file.subtreesPerChunk };
      proven = { schema: file.commitment.schemaHash, policy: file.policy.hash };
      break;
    case 'zkai-inclusion-proof-v1': {
      const depth =
        file.depth ?? (flags.depth === undefined ? undefined : positiveInteger(flags.depth, '--depth', 1, 30));
      if (depth === undefined)
        throw new ZkaiError('BAD_OPTION', `${path} does not say its dataset's tree depth: give --depth N`);
      shape = { kind: 'inclusion', depth };
      proven = { schema: file.schemaHash };
      break;
    }
    case 'zkai-inference-proof-v1':
      shape = { kind: 'inference', visibility: file.visibility, weights: file.weights };
      proven = {};
      break;
    case 'zkai-accuracy-proof-v2':
      shape = { kind: 'accuracy', samplesPerChunk: file.samplesPerChunk, weights: file.weights };
      proven = { schema: file.testSet.schemaHash, task: file.task.taskHash };
      break;
    case 'zkai-chunked-dataset-proof-v2':
      // Three circuits (registerPrivateChunks); here, the chunk circuit's source.
      shape = { kind: 'dataset-chunk', chunkDepth: file.chunkDepth, subtrees: file.subtreesPerChunk, committed: true };
      proven = { schema: file.commitment.schemaHash, policy: file.policy.hash };
      break;
    case 'plain':
      throw new InputFileError(
        path,
        "a bare snarkjs proof says nothing about what its circuit proves: the registry registers zkai's dataset, inclusion, inference and accuracy circuits, regenerated from their source",
      );
    default:
      return file satisfies never;
  }
  const source = await sourceFromShape(shape, flags);
  for (const [what, hash] of Object.entries(sourceHashes(source))) {
    if (proven[what] !== undefined && proven[what] !== hash) {
      throw new ZkaiError(
        'BAD_OPTION',
        `the ${what} you give has hash ${hash}, but ${path} was proven for ${what} ${proven[what]}: this is not the circuit of that proof`,
      );
    }
  }
  return source;
}

/** The key to register: a ceremony's (checked), or with --development the registrant's own setup. */
function keyOf(flags: ChainRegisterFlags): RegistrationKey {
  if (flags.zkey !== undefined) {
    if (flags.development)
      throw new ZkaiError('BAD_OPTION', '--development registers your own automatic setup: it does not go with --zkey');
    if (flags.ptau === undefined)
      throw new ZkaiError(
        'BAD_OPTION',
        `--zkey ${flags.zkey} needs --ptau: the ptau its ceremony started from (the key is checked against it and the circuit regenerated here)`,
      );
    if (flags.contribution !== undefined && flags.transcript === undefined)
      throw new ZkaiError(
        'BAD_OPTION',
        '--contribution goes with --transcript: the ceremony transcript you verify, and a contribution in it you trust',
      );
    return {
      kind: 'ceremony',
      zkeyPath: flags.zkey,
      ptauPath: flags.ptau,
      ...(flags.transcript ? { transcriptPath: flags.transcript } : {}),
      ...(flags.contribution ? { trustedContributions: flags.contribution } : {}),
    };
  }
  if (flags.transcript !== undefined || flags.contribution !== undefined)
    throw new ZkaiError('BAD_OPTION', "--transcript and --contribution go with --zkey (the ceremony's final key)");
  return { kind: 'own-setup', ...(flags.ptau ? { ptauPath: flags.ptau } : {}) };
}

/** The flags of the aggregation circuits' ceremony keys (private chunked proofs only). */
const AGGREGATION_KEY_FLAGS = [
  ['nodeZkey', '--node-zkey'],
  ['rootZkey', '--root-zkey'],
  ['nodeTranscript', '--node-transcript'],
  ['rootTranscript', '--root-transcript'],
  ['nodeContribution', '--node-contribution'],
  ['rootContribution', '--root-contribution'],
] as const;

/**
 * The keys of a private chunked proof's circuits: each circuit's ceremony key (--zkey for the chunk circuit,
 * --root-zkey, --node-zkey; one --ptau), and with --development the registrant's own setup for each circuit without
 * one. Without any ceremony key, the own setup of all three (--development, as for any circuit).
 */
function privateChunkKeysOf(flags: ChainRegisterFlags): RegistrationKey | PrivateChunkRegistrationKeys {
  if (flags.zkey === undefined && flags.rootZkey === undefined && flags.nodeZkey === undefined) return keyOf(flags);
  if (flags.ptau === undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      'the ceremony keys (--zkey, --root-zkey, --node-zkey) need --ptau: the ptau their ceremonies started from',
    );
  const own: RegistrationKey = { kind: 'own-setup', ptauPath: flags.ptau };
  const one = (
    what: string,
    zkey: string | undefined,
    transcript: string | undefined,
    contribution: string[] | undefined,
    flag: string,
  ): RegistrationKey | undefined => {
    if (zkey !== undefined)
      return {
        kind: 'ceremony',
        zkeyPath: zkey,
        ptauPath: flags.ptau as string,
        ...(transcript ? { transcriptPath: transcript } : {}),
        ...(contribution ? { trustedContributions: contribution } : {}),
      };
    if (transcript !== undefined || contribution !== undefined)
      throw new ZkaiError('BAD_OPTION', `a transcript or contribution for the ${what} circuit goes with ${flag}`);
    return flags.development ? own : undefined;
  };
  const chunk = one('chunk', flags.zkey, flags.transcript, flags.contribution, '--zkey');
  const root = one('root', flags.rootZkey, flags.rootTranscript, flags.rootContribution, '--root-zkey');
  const node = one('node', flags.nodeZkey, flags.nodeTranscript, flags.nodeContribution, '--node-zkey');
  const missing = chunk === undefined ? '--zkey' : root === undefined ? '--root-zkey' : undefined;
  if (chunk === undefined || root === undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      `a private chunked proof's ${missing === '--zkey' ? 'chunk' : 'root'} circuit needs a key too: ${missing} (its ceremony) or --development (your own setup, recorded as DEVELOPMENT)`,
    );
  return { chunk, root, ...(node ? { node } : {}) };
}

/** `zkai chain register <proof.json>`: register the proof's circuit, regenerated from the registrant's own source. */
export async function chainRegisterCommand(proofPath: string, flags: ChainRegisterFlags): Promise<void> {
  if (Boolean(flags.consentRegistry) !== Boolean(flags.purpose))
    throw new ZkaiError(
      'BAD_OPTION',
      "--consent-registry NAME and --purpose PURPOSE go together: the policy registry whose root is the purpose's on-chain consent root",
    );
  // The key flags that need no file: checked before it is read.
  const zkey = (
    [
      ['--zkey', flags.zkey],
      ['--root-zkey', flags.rootZkey],
      ['--node-zkey', flags.nodeZkey],
    ] as const
  ).find(([, path]) => path !== undefined);
  if (zkey && flags.ptau === undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      `${zkey[0]} ${zkey[1]} needs --ptau: the ptau its ceremony started from (the key is checked against it and the circuit regenerated here)`,
    );
  if (flags.zkey === undefined && (flags.transcript !== undefined || flags.contribution !== undefined))
    throw new ZkaiError('BAD_OPTION', "--transcript and --contribution go with --zkey (the ceremony's final key)");
  const lists = listBindings(flags.list);
  const file = parseProofFile(await readJsonFile(proofPath, 'proof'), proofPath);
  const privateChunks = file.format === 'zkai-chunked-dataset-proof-v2';
  if (!privateChunks) {
    const given = AGGREGATION_KEY_FLAGS.find(([field]) => flags[field] !== undefined);
    if (given)
      throw new ZkaiError(
        'BAD_OPTION',
        `${given[1]} is for the aggregation circuits of a private chunked proof; ${proofPath} is a ${file.format} file`,
      );
  }
  const keys = privateChunks ? privateChunkKeysOf(flags) : undefined;
  const key = privateChunks ? undefined : keyOf(flags);
  const source = await sourceOf(file, proofPath, flags);
  const progress = (text: string) => progressLine(flags, text);
  const result = await withSession(flags, async (session) => {
    const { deployment, registry, lists: listRegistry } = await deploymentOf(session);
    const me = await session.chain.signer.getAddress();
    const owner = String(await registry.contract.getFunction('owner').staticCall());
    if (owner.toLowerCase() !== me.toLowerCase())
      throw new ChainError(`only the registry owner ${owner} registers circuits (you are ${me})`);
    for (const [name, list] of Object.entries(lists)) {
      if (!(await listRegistry.getList(list)))
        throw new ChainError(`--list ${name}=${list}: there is no curated list "${list}" on this deployment`, {
          hint: `create it first: zkai chain list create ${list} --curator ADDRESS --window SECONDS${chainFlagsText(flags)}`,
        });
    }
    const options = {
      ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
      ...(flags.development ? { development: true } : {}),
      ...(flags.consentRegistry && flags.purpose
        ? { consent: { registryName: flags.consentRegistry, purpose: purposeOf(flags.purpose) } }
        : {}),
      lists,
      ...(flags.uri ? { uri: flags.uri } : {}),
      onProgress: (event: ProgressEvent) => {
        if (!event.transient) progress(`[${event.stage}] ${event.message}`);
      },
    };
    let made: RegisteredFromSource;
    let aggregation: { node?: string; root: string; fanIn: number; set: boolean; gas?: string } | undefined;
    if (file.format === 'zkai-chunked-dataset-proof-v2' && source.kind === 'dataset-chunk') {
      progress(
        '[chain] regenerating the private chunk, node and root circuits from your source and checking their keys',
      );
      // The fan-in is the owner's (--fan-in, default 16, as data prove's): the registry records it with the aggregation,
      // once per chunk circuit. The file's root proof (count, slots, policy hash, then its children) must agree, so a
      // file cannot make the owner register aggregation circuits for a fan-in no real proof uses.
      const fanIn = positiveInteger(flags.fanIn ?? '16', '--fan-in', 2, MAX_FAN_IN);
      const width = (file.aggregation.at(-1)?.[0]?.publicSignals.length ?? 0) - 3;
      if (width !== fanIn)
        throw new InputFileError(
          proofPath,
          `its root aggregation proof takes ${width} children, not the fan-in ${fanIn} you register: give --fan-in ${width} if that is the fan-in the proof was made with (data prove --fan-in)`,
        );
      const three = await registerPrivateChunksFromSource(
        registry,
        { ...source, fanIn, withNode: file.aggregation.length > 1 },
        keys ?? keyOf(flags),
        options,
      );
      made = three.chunk;
      aggregation = {
        ...(three.node ? { node: three.node.circuit } : {}),
        root: three.root.circuit,
        fanIn: three.fanIn,
        set: three.aggregationSet,
        ...(three.aggregationGas === undefined ? {} : { gas: three.aggregationGas.toString() }),
      };
    } else {
      progress(`[chain] regenerating the ${source.kind} circuit from your source and checking the key against it`);
      made = await registerCircuitFromSource(registry, source, key ?? keyOf(flags), options);
    }
    return {
      registry: deployment.registry,
      chainId: deployment.chainId,
      circuit: made.circuit,
      kind: made.statement.kind,
      registered: made.registered,
      ...(made.verifier ? { verifier: made.verifier } : {}),
      ...(made.gasUsed === undefined ? {} : { gas: made.gasUsed.toString() }),
      ...(made.verifierDeployGas === undefined ? {} : { verifierDeployGas: made.verifierDeployGas.toString() }),
      keyTrust: made.key.keyTrust,
      ...(made.key.transcriptSha256 ? { transcriptSha256: made.key.transcriptSha256 } : {}),
      checked: made.key.checked,
      ptau: made.key.ptau,
      lists: Object.fromEntries(Object.entries(lists).map(([name, list]) => [name, { list, id: listId(list) }])),
      ...(made.consentPurpose ? { consent: made.consentPurpose } : {}),
      source: made.descriptor,
      ...(aggregation ? { aggregation } : {}),
    };
  });
  emit(flags, result, () =>
    [
      result.registered
        ? `registered the ${result.kind} circuit ${result.circuit} on registry ${result.registry} (chain ${result.chainId}) from your source`
        : `the ${result.kind} circuit ${result.circuit} is already registered on registry ${result.registry}: nothing sent (the key was checked all the same)`,
      ...(result.registered
        ? [`  gas          ${result.gas}${result.verifierDeployGas ? ` (verifier ${result.verifierDeployGas})` : ''}`]
        : []),
      ...(result.aggregation
        ? [
            `  aggregation  root ${result.aggregation.root}, node ${result.aggregation.node ?? `none (a proof of more than ${result.aggregation.fanIn} chunks registers it)`} (fan-in ${result.aggregation.fanIn})${result.aggregation.set ? `: set (${result.aggregation.gas} gas)` : ': set already'}`,
          ]
        : []),
      `  key          ${result.keyTrust === 'development' ? 'DEVELOPMENT: your own single-party setup (the chain records it as such)' : result.keyTrust === 'own-contribution' ? 'a ceremony key holding your own contribution, ending with a beacon' : 'a ceremony key whose transcript you verified, ending with a beacon'}`,
      ...result.checked.map((line) => `  checked      ${line}`),
      ...Object.entries(result.lists).map(
        ([name, { list }]) => `  registry     ${name}: checked against curated list "${list}"`,
      ),
      ...(result.consent
        ? [
            `  registry     ${result.consent.registryName}: checked against consent purpose ${result.consent.purpose} (admin ${result.consent.admin}, depth ${result.consent.depth}, replaced roots accepted for ${result.consent.rootWindow} s)`,
            '               a purpose name belongs to whoever created it first: check that this admin and window are the ones you meant',
          ]
        : []),
    ].join('\n'),
  );
}

/** `zkai chain list create NAME --curator ADDRESS --window SECONDS` (registry owner). */
export async function chainListCreateCommand(name: string, flags: ChainListCreateFlags): Promise<void> {
  if (!isAddress(flags.curator))
    throw new ZkaiError('BAD_OPTION', `--curator must be an address (0x and 40 hex digits), got "${flags.curator}"`);
  const window = positiveInteger(flags.window, '--window', 0, 10 * 365 * 24 * 3600);
  const result = await withSession(flags, async (session) => {
    const { deployment, lists } = await deploymentOf(session);
    const made = await lists.createList(name, getAddress(flags.curator), window);
    return {
      lists: deployment.lists,
      name,
      id: made.id,
      curator: getAddress(flags.curator),
      window,
      gas: made.gasUsed.toString(),
    };
  });
  emit(flags, result, () =>
    [
      `created curated list "${name}" (${result.id})`,
      `  curator      ${result.curator} (publishes its roots)`,
      `  window       ${window} s (how long a replaced root stays acceptable)`,
    ].join('\n'),
  );
}

/** `zkai chain list publish NAME --registry FILE --schema S` (the list's curator): publish the file's root. */
export async function chainListPublishCommand(name: string, flags: ChainListPublishFlags): Promise<void> {
  let root: string;
  if (flags.registry !== undefined) {
    if (flags.root !== undefined) throw new ZkaiError('BAD_OPTION', 'give --registry FILE or --root ROOT, not both');
    const schemaPath = need(
      flags.schema,
      '--schema FILE',
      "the registry file's ids are encoded with it, and its root is rebuilt from them before publishing",
    );
    const registry = await loadRegistry(flags.registry, await loadSchema(schemaPath));
    if (registry.consent)
      throw new InputFileError(
        flags.registry,
        'a consent registry file is read from the consent registry, not published to a curated list',
      );
    root = registry.root;
  } else if (flags.root !== undefined && /^[1-9][0-9]*$/.test(flags.root)) {
    root = flags.root;
  } else {
    throw new ZkaiError(
      'BAD_OPTION',
      'give --registry FILE (zkai data registry wrote it; its root is rebuilt from its ids) or --root ROOT (decimal)',
    );
  }
  const result = await withSession(flags, async (session) => {
    const { lists } = await deploymentOf(session);
    const before = await lists.getList(name);
    if (!before)
      throw new ChainError(`there is no curated list "${name}" on this deployment`, {
        hint: `the registry owner creates it: zkai chain list create ${name} --curator ADDRESS --window SECONDS${chainFlagsText(flags)}`,
      });
    const sent = await lists.publishRoot(name, root);
    return {
      name,
      id: before.id,
      root,
      previous: before.root ?? null,
      gas: sent.gasUsed.toString(),
      txHash: sent.txHash,
    };
  });
  emit(flags, result, () =>
    [
      `published root ${root} of list "${name}"`,
      ...(result.previous ? [`  replaces     ${result.previous} (still accepted for the list's window)`] : []),
    ].join('\n'),
  );
}

/** `zkai chain list show NAME`. */
export async function chainListShowCommand(name: string, flags: ChainListShowFlags): Promise<void> {
  const result = await withSession(flags, async (session) => {
    const { lists } = await deploymentOf(session);
    const list = await lists.getList(name);
    if (!list) throw new ChainError(`there is no curated list "${name}" on this deployment`);
    return list;
  });
  emit(flags, result, () =>
    [
      `curated list "${result.name}" (${result.id})`,
      `  curator      ${result.curator}`,
      `  window       ${result.window} s`,
      `  root         ${result.root ?? '(none published yet)'}${result.updated ? ` (published ${new Date(result.updated * 1000).toISOString()})` : ''}`,
    ].join('\n'),
  );
}

/** The source of a registered circuit from its descriptor's shape and the checker's own files. */
async function sourceFromDescriptor(descriptor: Record<string, unknown>, flags: SourceFlags): Promise<CircuitSource> {
  const shape = (field: string): number => {
    const value = descriptor[field];
    if (!Number.isSafeInteger(value))
      throw new ChainError(`the registered source descriptor has no integer "${field}"`);
    return value as number;
  };
  const weights = (): WeightVisibility => {
    if (descriptor.weights !== 'fixed' && descriptor.weights !== 'hashed')
      throw new ChainError('the registered source descriptor has no valid weights');
    return descriptor.weights;
  };
  const kind = descriptor.kind;
  switch (kind) {
    case 'dataset-policy':
    case 'inclusion':
      return sourceFromShape({ kind, depth: shape('depth') }, flags);
    case 'dataset-chunk':
      return sourceFromShape(
        {
          kind,
          chunkDepth: shape('chunkDepth'),
          subtrees: shape('subtrees'),
          ...(descriptor.committed === true ? { committed: true } : {}),
        },
        flags,
      );
    case 'dataset-aggregation': {
      const level = descriptor.level;
      if (level !== 'node' && level !== 'root')
        throw new ChainError('the registered source descriptor has no valid aggregation level');
      return sourceFromShape({ kind, level, fanIn: shape('fanIn') }, flags);
    }
    case 'inference': {
      const visibility = descriptor.visibility;
      if (visibility !== 'public' && visibility !== 'hashed' && visibility !== 'private')
        throw new ChainError('the registered source descriptor has no valid visibility');
      return sourceFromShape({ kind, visibility, weights: weights() }, flags);
    }
    case 'accuracy':
      return sourceFromShape({ kind, samplesPerChunk: shape('samplesPerChunk'), weights: weights() }, flags);
    default:
      throw new ChainError(
        `the registered source descriptor names no circuit kind zkai generates (${JSON.stringify(kind)})`,
      );
  }
}

/**
 * \`zkai chain check-circuit <id>\`: anyone re-checks a registration: regenerate the circuit from your own source with
 * the registered shape, compare it with the registered descriptor, and check the published zkey against it.
 */
export async function chainCheckCircuitCommand(id: string, flags: ChainCheckCircuitFlags): Promise<void> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(id))
    throw new ZkaiError(
      'BAD_OPTION',
      `the circuit id must be 0x and 64 hex digits (its verification key id), got "${id}"`,
    );
  if (flags.zkey !== undefined && flags.ptau === undefined)
    throw new ZkaiError('BAD_OPTION', '--zkey needs --ptau: the ptau its chain started from');
  const result = await withSession(flags, async (session) => {
    const { deployment, registry } = await deploymentOf(session);
    const descriptor = await registry.circuitSource(id, Math.max(0, deployment.blockNumber - 5));
    if (!descriptor)
      throw new ChainError(
        `circuit ${id} has no source descriptor on registry ${deployment.registry}: it is not registered, or was registered without one`,
      );
    const source = await sourceFromDescriptor(descriptor, flags);
    progressLine(flags, `[chain] regenerating the ${source.kind} circuit from your source with the registered shape`);
    return recheckRegistration(registry, id, source, {
      ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
      ...(flags.zkey ? { zkeyPath: flags.zkey } : {}),
      ...(flags.ptau ? { ptauPath: flags.ptau } : {}),
      fromBlock: Math.max(0, deployment.blockNumber - 5),
    });
  });
  emit(flags, result, () =>
    [
      result.matches
        ? `OK: circuit ${id} is what your source generates${flags.zkey ? ', and the published zkey is its registered key' : ' (give --zkey and --ptau to check the published key too)'}`
        : `MISMATCH: circuit ${id} is not what your source generates:`,
      ...result.problems.map((problem) => `  - ${problem}`),
      ...result.checked.map((line) => `  checked      ${line}`),
      `  key trust    ${result.keyTrust === 'development' ? "DEVELOPMENT (the registrant's own single-party setup)" : result.keyTrust}`,
    ].join('\n'),
  );
  if (!result.matches) process.exitCode = 1;
}
