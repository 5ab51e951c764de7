/**
 * Private chunked dataset proofs (`zkai-chunked-dataset-proof-v2`, docs/design/private-chunks.md) in the verification
 * service. The service verifies such a file only against what it trusts itself:
 *
 * - a statement file of kind `dataset-private-chunks` it was started with (`zkai serve --statement FILE`): the schema,
 *   the policy, the fan-in of the aggregation tree, the registry roots, optionally the chunk shape;
 * - the verification keys of the three circuits that statement generates (the committed chunk circuit of the file's
 *   chunk shape, the aggregation node and the root, of its policy and fan-in), found in the service's cache and trusted
 *   by the same rule as `zkai data verify` (`trustedKeySource`): its own setup of that very circuit, or a ceremony of
 *   that circuit's r1cs it verified with a contribution it trusts.
 *
 * Nothing in the file decides the verdict: its stated policy hash only selects which trusted statement is checked (every
 * proof must then prove that policy, under keys made for it), the aggregation tree is derived from the count and the
 * service's fan-in, and the file's circuit id, signal names or any fan-in it states are never read. The checks are those
 * of `verifyPrivateChunks` (src/data/private-chunked.ts), step for step, with the pairing checks in the service's worker
 * pool and the request's deadline between batches (the library function pairs in its own thread).
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { cacheLayout, circuitNameOfDir, isBuildDir, keyFiles } from '../cache/layout.ts';
import { verificationKeyId, type Groth16VerificationKey } from '../chain/groth16-template.ts';
import { CONTEXT_SIGNAL } from '../circuit/context.ts';
import {
  aggregationSignalNames,
  childSignalNames,
  childSlots,
  generateAggregationCircuit,
  MAX_FAN_IN,
  type AggregationLevel,
} from '../data/aggregation-gen.ts';
import { combineChunkRoots } from '../data/chunked.ts';
import {
  committedChunkSignalNames,
  datasetCircuitName,
  generateDatasetCircuit,
  MAX_SUBTREES_PER_CHUNK,
  registrySignalName,
} from '../data/circuit-gen.ts';
import { treeDepth } from '../data/commitment.ts';
import { trustedRegistryRoots, type RegistryRoot } from '../data/dataset-proof.ts';
import { compileGenerated } from '../data/prepare-generated.ts';
import { AGGREGATION_FAN_IN, aggregationShape } from '../data/private-chunked.ts';
import { loadSchema } from '../data/schema.ts';
import type { Schema } from '../data/types.ts';
import { InputFileError, MalformedProofError, ServiceError, ZkaiError } from '../errors.ts';
import { chunkPartials } from '../policy/chunks.ts';
import { loadPolicy, type Policy } from '../policy/policy.ts';
import type { ProofFile } from '../statement/index.ts';
import { readJsonFile } from '../util/json-file.ts';
import { trustedKeySource, type KeySourceKind, type StatementCircuit } from '../verifier/key-source.ts';
import type { VerificationKey } from '../verifier/types.ts';
import { assertVerificationKey, verifyProof, type PairingCheck, type VerificationResult } from '../verifier/verify.ts';
import { badRequest, type VerifyBody } from './proof-files.ts';

/** The statement-file kind of a private chunked proof (its three circuits are trusted together). */
export const PRIVATE_CHUNKS_STATEMENT_KIND = 'dataset-private-chunks';

/** The format of a private chunked proof file. */
export const PRIVATE_CHUNKS_FORMAT = 'zkai-chunked-dataset-proof-v2';

/** A private chunked proof file as parsed. */
export type PrivateChunkedFile = Extract<ProofFile, { format: typeof PRIVATE_CHUNKS_FORMAT }>;

/** What the service trusts about private chunked proofs of one policy. */
export interface PrivateChunksStatement {
  /** A name for messages (the statement file's `name`, or its file name). */
  name: string;
  /** The statement file, for messages. */
  source: string;
  schema: Schema;
  policy: Policy;
  /** Children per aggregation proof: the verifier's, never the file's. */
  fanIn: number;
  /** The registry roots the verifier trusts, in the policy's order (every registry the policy checks). */
  registries: RegistryRoot[];
  /** The chunk shape the verifier accepts, when it pins one (each field on its own). */
  chunkDepth?: number;
  subtreesPerChunk?: number;
}

/** An example statement file, for hints. */
export const PRIVATE_CHUNKS_STATEMENT_EXAMPLE = `{"format": "zkai-statement-v1", "kind": "${PRIVATE_CHUNKS_STATEMENT_KIND}", "schema": "schema.json", "policy": "policy.json", "fanIn": ${AGGREGATION_FAN_IN}, "registries": {"NAME": "ROOT"}}`;

/**
 * Read a statement file of kind `dataset-private-chunks`; `undefined` for a statement file of another kind (read by
 * `loadStatementFile`). Paths are relative to the file, as in every statement file.
 *
 * @throws {InputFileError} naming the file and the field at fault; the loaders' errors for the schema and policy.
 */
export async function loadPrivateChunksStatement(path: string): Promise<PrivateChunksStatement | undefined> {
  const source = resolve(path);
  const raw = await readJsonFile(source, 'statement file');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const spec = raw as Record<string, unknown>;
  const fail = (field: string, message: string): never => {
    throw new InputFileError(source, `"${field}" ${message}`, {
      hint: `a statement of private chunked proofs is ${PRIVATE_CHUNKS_STATEMENT_EXAMPLE} (fanIn defaults to ${AGGREGATION_FAN_IN}; chunkDepth and subtreesPerChunk pin the chunk shape); the keys of its three circuits are found in the service's --cache-dir`,
    });
  };
  if (spec.kind === 'dataset-private-chunk' || spec.kind === 'dataset-aggregation')
    return fail(
      'kind',
      `is ${String(spec.kind)}: the circuits of a private chunked proof mean something only together, so the service trusts them together, with kind "${PRIVATE_CHUNKS_STATEMENT_KIND}"`,
    );
  if (spec.kind !== PRIVATE_CHUNKS_STATEMENT_KIND) return undefined;
  if (spec.format !== 'zkai-statement-v1') fail('format', 'must be "zkai-statement-v1"');
  if (spec.verificationKey !== undefined)
    fail(
      'verificationKey',
      "is not taken: a private chunked proof is checked with three keys, which the service takes only from its cache (its own setup of each circuit its schema, policy and fan-in generate, or a ceremony of it that this machine verified), never from a file's word",
    );
  const here = dirname(source);
  const file = (field: string): string => {
    const v = spec[field];
    if (typeof v !== 'string' || v.length === 0)
      return fail(field, 'must name a file (relative to the statement file)');
    return resolve(here, v);
  };
  const integer = (field: string, min: number, max: number): number | undefined => {
    const v = spec[field];
    if (v === undefined) return undefined;
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max)
      return fail(field, `must be an integer from ${min} to ${max}`);
    return v as number;
  };
  const schema = await loadSchema(file('schema'));
  const policy = await loadPolicy(file('policy'), schema);
  if (chunkPartials(policy).length === 0)
    fail(
      'policy',
      `names policy "${policy.spec.name}", which has no aggregate over records: it has no private chunked proofs (trust its proofs with a dataset-policy or dataset-chunk statement)`,
    );
  const given = spec.registries ?? {};
  if (
    typeof given !== 'object' ||
    given === null ||
    Array.isArray(given) ||
    Object.values(given).some((root) => typeof root !== 'string' || !/^(0|[1-9][0-9]*)$/.test(root))
  )
    fail(
      'registries',
      'must map each registry the policy checks to the root you trust (a decimal string): {"consent": "123..."}',
    );
  let registries: RegistryRoot[];
  try {
    registries = trustedRegistryRoots(policy, new Map(Object.entries(given as Record<string, string>)));
  } catch (error) {
    return fail('registries', `does not fit the policy: ${error instanceof Error ? error.message : String(error)}`);
  }
  const fanIn = integer('fanIn', 2, MAX_FAN_IN) ?? AGGREGATION_FAN_IN;
  const chunkDepth = integer('chunkDepth', 0, 30);
  const subtreesPerChunk = integer('subtreesPerChunk', 1, MAX_SUBTREES_PER_CHUNK);
  return {
    name: typeof spec.name === 'string' && spec.name.length > 0 ? spec.name : basename(source).replace(/\.json$/, ''),
    source,
    schema,
    policy,
    fanIn,
    registries,
    ...(chunkDepth === undefined ? {} : { chunkDepth }),
    ...(subtreesPerChunk === undefined ? {} : { subtreesPerChunk }),
  };
}

/** A trusted key of one of the three circuits. */
export interface TrustedCircuitKey {
  vkey: VerificationKey;
  /** The registry's id of the key. */
  id: string;
  /** The compiled circuit's name (`dataset_committed_*`, `dataset_node_*`, `dataset_root_*`). */
  circuit: string;
  source: Exclude<KeySourceKind, 'explicit'>;
  detail: string;
}

/** The circuits a statement generates, each written into the cache and named once, compiled only to compare keys. */
class GeneratedCircuits {
  private readonly memo = new Map<string, StatementCircuit>();

  constructor(private readonly cacheDir: string) {}

  private circuit(key: string, describe: string, generate: () => Promise<{ path: string }>): StatementCircuit {
    const known = this.memo.get(key);
    if (known) return known;
    let generated: Promise<{ name: string; compile(): Promise<{ id: string; r1csPath: string }> }> | undefined;
    const circuit: StatementCircuit = {
      describe,
      generate: () => {
        generated ??= generate().then(({ path }) => {
          let compiled: Promise<{ id: string; r1csPath: string }> | undefined;
          return {
            name: basename(path).replace(/\.circom$/, ''),
            compile: () => {
              compiled ??= compileGenerated(path, { cacheDir: this.cacheDir });
              compiled.catch(() => (compiled = undefined));
              return compiled;
            },
          };
        });
        generated.catch(() => (generated = undefined));
        return generated;
      },
    };
    // A bound on what one service keeps (a file's chunk shape names a circuit; shapes are bounded by the count).
    if (this.memo.size >= 256) this.memo.clear();
    this.memo.set(key, circuit);
    return circuit;
  }

  chunk(statement: PrivateChunksStatement, chunkDepth: number, subtrees: number): StatementCircuit {
    return this.circuit(
      `chunk:${statement.schema.hash}:${statement.policy.hash}:${chunkDepth}:${subtrees}`,
      `schema and policy of statement ${statement.name} (private chunk circuit, chunks of ${subtrees} subtree(s) of 2^${chunkDepth} records)`,
      () =>
        generateDatasetCircuit(statement.schema, statement.policy, chunkDepth, {
          cacheDir: this.cacheDir,
          mode: 'committed-chunk',
          subtrees,
        }),
    );
  }

  aggregation(statement: PrivateChunksStatement, level: AggregationLevel): StatementCircuit {
    return this.circuit(
      `${level}:${statement.schema.hash}:${statement.policy.hash}:${statement.fanIn}`,
      `schema and policy of statement ${statement.name} (aggregation ${level} circuit, ${statement.fanIn} children)`,
      () =>
        generateAggregationCircuit(statement.schema, statement.policy, {
          cacheDir: this.cacheDir,
          level,
          fanIn: statement.fanIn,
        }),
    );
  }
}

const generatedByCache = new Map<string, GeneratedCircuits>();

/**
 * The keys in the cache that the verifier trusts for the circuit `circuit` generates: key folders of that circuit's
 * name (own setups and ceremony imports), each kept only when `trustedKeySource` binds it to that very circuit. A
 * circuit without any key folder of its name is never compiled.
 */
async function trustedKeysOf(
  cacheDir: string,
  circuit: StatementCircuit,
  /** The circuit's name when known without generating it: nothing is written to the cache unless it has keys. */
  knownName?: string,
): Promise<{ name: string; keys: TrustedCircuitKey[] }> {
  const keysDir = cacheLayout(cacheDir).keysDir;
  const keyFolders = (await readdir(keysDir).catch(() => [] as string[])).filter((folder) => !isBuildDir(folder));
  const named = (name: string) =>
    keyFolders.filter((folder) => circuitNameOfDir(folder.replace(/^ceremony-/, '')) === name).sort();
  if (knownName !== undefined && named(knownName).length === 0) return { name: knownName, keys: [] };
  const { name } = await circuit.generate();
  const folders = named(name);
  const keys: TrustedCircuitKey[] = [];
  for (const folder of folders) {
    const { vkeyPath } = keyFiles(join(keysDir, folder));
    const vkey = await readJsonFile(vkeyPath, 'verification key').catch(() => undefined);
    try {
      assertVerificationKey(vkey);
    } catch {
      continue;
    }
    let id: string;
    try {
      id = verificationKeyId(vkey as unknown as Groth16VerificationKey, vkeyPath);
    } catch {
      continue;
    }
    if (keys.some((key) => key.id === id)) continue;
    const source = await trustedKeySource(vkey, { cacheDir, statement: circuit, path: vkeyPath }).catch(
      (error: unknown) => {
        if (error instanceof ZkaiError && error.code === 'UNTRUSTED_KEY') return undefined;
        throw error;
      },
    );
    if (!source || source.bound !== true || source.source === 'explicit') continue;
    keys.push({ vkey, id, circuit: name, source: source.source, detail: source.detail });
  }
  return { name, keys };
}

/** The refusal of a request the service cannot verify: what it lacks, and how to configure it. */
function missingKeys(
  what: 'chunk' | 'node' | 'root',
  name: string,
  statement: PrivateChunksStatement,
  cacheDir: string,
  shape?: { chunkDepth: number; subtrees: number },
): ServiceError {
  const circuit =
    what === 'chunk'
      ? `the private chunk circuit ${name} (chunks of ${shape?.subtrees} subtree(s) of 2^${shape?.chunkDepth} records)`
      : `the aggregation ${what} circuit ${name} (fan-in ${statement.fanIn})`;
  return new ServiceError(
    422,
    'KEY_NOT_FOUND',
    `this service has no key it trusts for ${circuit} of policy "${statement.policy.spec.name}" (statement ${statement.name}): its cache ${cacheDir} holds no key made for that circuit by its own setup, nor one from a ceremony of it that this machine verified, so nothing was verified`,
    {
      hint: `set up the circuits in the service's cache (zkai data prove of the same schema and policy with the same chunk shape there, --cache-dir ${cacheDir}; the prover then proves with its zkeys: --zkey, --node-zkey, --root-zkey), or verify the ceremony of each circuit there with a contribution you trust (zkai ceremony verify ... --contribution HASH records its key), and restart nothing: keys are looked up at each request`,
    },
  );
}

/** The verdict on one chunk proof, as the service answers it (never its claims: they hold the chunk's commitment). */
export interface PrivateChunkVerdict {
  index: number;
  valid: boolean;
  reason: VerificationResult['reason'] | null;
  detail: string | null;
  claims: null;
}

/** What a v2 verdict covers: the statement, the tree and the keys, all the service's own. */
export interface PrivateChunksSummary {
  statement: string;
  policy: { name: string; hash: string };
  schemaHash: string;
  fanIn: number;
  chunkDepth: number;
  subtreesPerChunk: number;
  /** The aggregation levels the service derives from the count and its fan-in (proofs per level, up to the root). */
  aggregationLevels: number[];
  /** Aggregation proofs checked, all levels (fewer than the levels hold when the verdict stopped earlier). */
  aggregationChecked: number;
  registries: Array<{ name: string; root: string }>;
  keys: Record<'chunk' | 'node' | 'root', { id: string; circuit: string; source: string; detail: string } | null>;
}

/** What the service answers for a v2 file (the fields of `VerifyResponse` it sets). */
export interface PrivateChunksAnswer {
  valid: boolean;
  reason: VerificationResult['reason'] | null;
  detail: string | null;
  claims: null;
  claimsChecked: boolean;
  circuit: {
    id: string;
    kind: 'dataset-aggregation';
    name: string;
    known: true;
    namesFrom: 'statement';
  };
  chunks: PrivateChunkVerdict[];
  privateChunks: PrivateChunksSummary;
  note: string;
}

/** What the verify route gives this module. */
export interface PrivateChunksContext {
  statements: readonly PrivateChunksStatement[];
  cacheDir: string | undefined;
  pairing: PairingCheck;
  /** Run a batch of work within the request's deadline (a 503 past it), with the proofs checked so far. */
  within<T>(done: number, work: () => Promise<T>): Promise<T>;
  /** Proofs checked at the same time. */
  inFlight: number;
}

const EXPECTABLE = ['root', 'count', 'policyHash', 'schemaHash', CONTEXT_SIGNAL];

/** The claims a caller may require of a v2 file, checked against what the file states (a conflict is a 400). */
function requiredClaims(
  body: VerifyBody,
  file: PrivateChunkedFile,
): {
  root: string;
  count: number;
  policyHash: string;
  schemaHash: string;
  context?: bigint;
  registries: Record<string, string>;
} {
  const stated: Record<string, string> = {
    root: file.commitment.root,
    count: String(file.commitment.count),
    policyHash: file.policy.hash,
    schemaHash: file.commitment.schemaHash,
    ...Object.fromEntries(file.registries.map((r) => [registrySignalName(r.name), r.root])),
  };
  const problems: Array<{ path: string; message: string }> = [];
  const merged = { ...stated };
  for (const [name, value] of Object.entries(body.expect ?? {})) {
    if (!EXPECTABLE.includes(name) && !name.startsWith('registry.')) {
      problems.push({
        path: `/expect/${name}`,
        message: `names no claim of a private chunked proof (it proves root, count, policyHash, schemaHash, registry.<name> and the chunks' ${CONTEXT_SIGNAL}; there is no one layout to index)`,
      });
      continue;
    }
    const known = Object.hasOwn(stated, name) ? stated[name] : undefined;
    if (known !== undefined && BigInt(known) !== BigInt(value)) {
      problems.push({
        path: `/expect/${name}`,
        message: `is ${value}, but the proof file itself states ${name} = ${known}`,
      });
      continue;
    }
    merged[name] = value;
  }
  if (problems.length > 0) throw badRequest(problems);
  const registries = Object.fromEntries(
    Object.entries(merged)
      .filter(([name]) => name.startsWith('registry.'))
      .map(([name, root]) => [name.slice('registry.'.length), root]),
  );
  return {
    root: merged.root as string,
    count: Number(merged.count),
    policyHash: merged.policyHash as string,
    schemaHash: merged.schemaHash as string,
    ...(merged[CONTEXT_SIGNAL] === undefined ? {} : { context: BigInt(merged[CONTEXT_SIGNAL]) }),
    registries,
  };
}

/** Refuse what a request says about the circuits of a v2 file: the service derives them, and never takes them. */
function refuseCircuitFields(body: VerifyBody): void {
  const problems: Array<{ path: string; message: string }> = [];
  const never =
    'a private chunked proof is checked with the keys of the three circuits this service derives from its own trusted statement (schema, policy, fan-in), never with a circuit, key or layout a request names';
  if (body.verificationKey !== undefined)
    problems.push({ path: '/verificationKey', message: `is not taken: ${never}` });
  if (body.circuit !== undefined) problems.push({ path: '/circuit', message: `is not taken: ${never}` });
  if (body.signalNames !== undefined) problems.push({ path: '/signalNames', message: `are not taken: ${never}` });
  if (body.kind !== undefined && body.kind !== 'dataset-aggregation' && body.kind !== 'dataset-private-chunk')
    problems.push({
      path: '/kind',
      message: `is ${body.kind}, but a private chunked proof is a dataset-aggregation tree over dataset-private-chunk proofs`,
    });
  if (problems.length > 0) throw badRequest(problems);
}

/** The trusted statement of the policy a request is about, or a 422 saying what the service lacks. */
function statementFor(policyHash: string, context: PrivateChunksContext): PrivateChunksStatement {
  const trusted = context.statements.find((s) => s.policy.hash === policyHash);
  if (trusted) return trusted;
  const known = context.statements.map(
    (s) => `"${s.policy.spec.name}" (policy hash ${s.policy.hash}, statement ${s.name})`,
  );
  throw new ServiceError(
    422,
    'UNKNOWN_CIRCUIT',
    known.length === 0
      ? `this service verifies no private chunked proofs (zkai-chunked-dataset-proof-v2): it was started with no statement of kind "${PRIVATE_CHUNKS_STATEMENT_KIND}", so it knows no schema, policy and fan-in to derive their chunk, node and root circuits from, and nothing was verified`
      : `this service verifies private chunked proofs only of ${known.join(', ')}, not of policy hash ${policyHash}: nothing was verified`,
    {
      hint: `start the service with a statement file of the policy (zkai serve --statement FILE, with FILE ${PRIVATE_CHUNKS_STATEMENT_EXAMPLE}) and the --cache-dir holding the keys of its three circuits; or verify the file with zkai data verify`,
    },
  );
}

function invalid(reason: NonNullable<VerificationResult['reason']>, detail: string): VerificationResult {
  return { valid: false, reason, detail };
}

/**
 * The checks of {@link verifyPrivateChunks} that need no key, in its order: the count, the chunk shape within the
 * count's tree, one chunk proof per chunk in order, and the aggregation levels the verifier derives from the count and
 * its fan-in. Returns the tree's shape when they hold.
 */
function checkTreeShape(
  file: PrivateChunkedFile,
  count: number,
  fanIn: number,
): { valid: true; chunkCount: number; size: number; shape: number[] } | (VerificationResult & { valid: false }) {
  const fail = (reason: NonNullable<VerificationResult['reason']>, detail: string) =>
    ({ valid: false, reason, detail }) as const;
  if (!Number.isSafeInteger(count) || count < 1)
    return fail('malformed', `the published count must be a positive integer, got ${String(count)}`);
  const depth = treeDepth(count);
  const { chunkDepth, subtreesPerChunk: subtrees } = file;
  if (!Number.isInteger(chunkDepth) || chunkDepth < 0 || chunkDepth > depth)
    return fail('malformed', `chunk depth ${String(chunkDepth)} does not fit a tree of depth ${depth}`);
  if (!Number.isInteger(subtrees) || subtrees < 1 || subtrees > MAX_SUBTREES_PER_CHUNK)
    return fail(
      'malformed',
      `subtrees per chunk ${String(subtrees)} is not an integer from 1 to ${MAX_SUBTREES_PER_CHUNK}`,
    );
  const size = subtrees * 2 ** chunkDepth;
  const chunkCount = Math.ceil(count / size);
  if (file.chunks.length !== chunkCount)
    return fail(
      'claim-mismatch',
      `${count} records in chunks of ${size} need ${chunkCount} chunk proofs, got ${file.chunks.length}`,
    );
  const misplaced = file.chunks.findIndex((chunk, j) => chunk.index !== j);
  if (misplaced >= 0)
    return fail(
      'claim-mismatch',
      `chunk proofs are out of order: position ${misplaced} holds chunk ${file.chunks[misplaced]!.index}`,
    );
  const shape = aggregationShape(chunkCount, fanIn);
  if (file.aggregation.length !== shape.length)
    return fail(
      'claim-mismatch',
      `${chunkCount} chunks need ${shape.length} aggregation level(s) at this service's fan-in of ${fanIn}, got ${file.aggregation.length}`,
    );
  const short = shape.findIndex((width, level) => file.aggregation[level]!.length !== width);
  if (short >= 0)
    return fail(
      'claim-mismatch',
      `aggregation level ${short} needs ${shape[short]} proofs, got ${file.aggregation[short]!.length}`,
    );
  return { valid: true, chunkCount, size, shape };
}

/** One proof checked with the pool's pairing; a proof whose points snarkjs cannot read is a malformed verdict. */
async function checkProof(
  vkey: VerificationKey,
  part: { proof: unknown; publicSignals: string[] },
  options: { expect: Record<string, string | number | bigint>; signalNames?: readonly string[] },
  pairing: PairingCheck,
): Promise<VerificationResult> {
  try {
    return await verifyProof(vkey, part.proof, part.publicSignals, { ...options, pairing });
  } catch (error) {
    if (error instanceof MalformedProofError) return invalid('malformed', error.message);
    throw error;
  }
}

/** The first trusted key under which `part` pairs (several setups of one circuit may be trusted); the first otherwise. */
async function keyFor(
  keys: readonly TrustedCircuitKey[],
  part: { proof: unknown; publicSignals: string[] },
  pairing: PairingCheck,
): Promise<TrustedCircuitKey> {
  if (keys.length === 1) return keys[0]!;
  for (const key of keys) {
    // The layout and claims come after: here only which setup the proof was made with.
    const paired = await checkProof(key.vkey, part, { expect: {} }, pairing).catch(() => undefined);
    if (paired?.valid) return key;
  }
  return keys[0]!;
}

/**
 * Verify a private chunked proof file against a trusted statement: everything `verifyPrivateChunks` checks, with the
 * keys the service trusts, its fan-in, the count and root the file states (or the caller requires), and the pool's
 * pairing checks. Throws a 4xx {@link ServiceError} when the service lacks a statement or a key; a 503 past the deadline.
 */
export async function verifyPrivateChunksRequest(
  body: VerifyBody,
  file: PrivateChunkedFile,
  context: PrivateChunksContext,
): Promise<PrivateChunksAnswer> {
  refuseCircuitFields(body);
  const required = requiredClaims(body, file);
  const statement = statementFor(required.policyHash, context);
  const cacheDir = context.cacheDir;
  if (cacheDir === undefined)
    throw new ServiceError(
      422,
      'KEY_NOT_FOUND',
      `this service trusts private chunked proofs of policy "${statement.policy.spec.name}" (statement ${statement.name}), but it was started without a cache folder, where it finds the keys of their chunk, node and root circuits: nothing was verified`,
      { hint: 'start the service with --cache-dir (and without --no-cache-keys)' },
    );
  const { policy, schema, fanIn } = statement;
  let generated = generatedByCache.get(cacheDir);
  if (!generated) generatedByCache.set(cacheDir, (generated = new GeneratedCircuits(cacheDir)));
  const root = await trustedKeysOf(cacheDir, generated.aggregation(statement, 'root'));
  if (root.keys.length === 0) throw missingKeys('root', root.name, statement, cacheDir);
  const rootKey = await keyFor(root.keys, file.aggregation.at(-1)![0]!, context.pairing);
  const keySummary = (key: TrustedCircuitKey | undefined) =>
    key ? { id: key.id, circuit: key.circuit, source: key.source, detail: key.detail } : null;
  const summary: PrivateChunksSummary = {
    statement: statement.name,
    policy: { name: policy.spec.name, hash: policy.hash },
    schemaHash: schema.hash,
    fanIn,
    chunkDepth: file.chunkDepth,
    subtreesPerChunk: file.subtreesPerChunk,
    aggregationLevels: [],
    aggregationChecked: 0,
    registries: statement.registries.map((r) => ({ name: r.name, root: r.root })),
    keys: { chunk: null, node: null, root: keySummary(rootKey) },
  };
  const chunks: PrivateChunkVerdict[] = [];
  const answer = (result: VerificationResult): PrivateChunksAnswer => ({
    valid: result.valid,
    reason: result.reason ?? null,
    detail: result.detail ?? null,
    claims: null,
    claimsChecked: true,
    circuit: {
      id: rootKey.id,
      kind: 'dataset-aggregation',
      name: rootKey.circuit,
      known: true,
      namesFrom: 'statement',
    },
    chunks,
    privateChunks: summary,
    note: privateChunksNote(summary, result.valid),
  });

  // The commitment the file states must be under the trusted schema; registry roots are the statement's.
  if (required.schemaHash !== schema.hash)
    return answer(
      invalid(
        'claim-mismatch',
        `the commitment was made with schema hash ${required.schemaHash}, but the statement ${statement.name} this service trusts for policy "${policy.spec.name}" has schema hash ${schema.hash}`,
      ),
    );
  const pinConflicts = statement.registries.filter(
    (r) => Object.hasOwn(required.registries, r.name) && BigInt(required.registries[r.name]!) !== BigInt(r.root),
  );
  const unknownRegistries = Object.keys(required.registries).filter(
    (name) => !statement.registries.some((r) => r.name === name),
  );
  if (pinConflicts.length > 0 || unknownRegistries.length > 0)
    return answer(
      invalid(
        'claim-mismatch',
        [
          ...pinConflicts.map(
            (r) =>
              `the request states registry ${r.name} root ${required.registries[r.name]}, but the statement this service trusts pins ${r.root}`,
          ),
          ...unknownRegistries.map((name) => `policy "${policy.spec.name}" checks no registry ${name}`),
        ].join('; '),
      ),
    );
  if (statement.chunkDepth !== undefined && statement.chunkDepth !== file.chunkDepth)
    throw shapeRefused(statement, 'chunkDepth', file.chunkDepth, statement.chunkDepth);
  if (statement.subtreesPerChunk !== undefined && statement.subtreesPerChunk !== file.subtreesPerChunk)
    throw shapeRefused(statement, 'subtreesPerChunk', file.subtreesPerChunk, statement.subtreesPerChunk);

  const tree = checkTreeShape(file, required.count, fanIn);
  if (!tree.valid) return answer(tree);
  summary.aggregationLevels = tree.shape;

  // The chunk circuit of the file's shape (a wrong shape only names another circuit, whose keys the service lacks).
  // A file's chunk shape names a circuit: its source is written to the cache only when the cache holds keys of it.
  const chunkKeys = await trustedKeysOf(
    cacheDir,
    generated.chunk(statement, file.chunkDepth, file.subtreesPerChunk),
    datasetCircuitName(statement.schema, statement.policy, file.chunkDepth, {
      mode: 'committed-chunk',
      subtrees: file.subtreesPerChunk,
    }).name,
  );
  if (chunkKeys.keys.length === 0)
    throw missingKeys('chunk', chunkKeys.name, statement, cacheDir, {
      chunkDepth: file.chunkDepth,
      subtrees: file.subtreesPerChunk,
    });
  const chunkKey = await keyFor(chunkKeys.keys, file.chunks[0]!, context.pairing);
  summary.keys.chunk = keySummary(chunkKey);
  let nodeKey: TrustedCircuitKey | undefined;
  if (tree.shape.length > 1) {
    const node = await trustedKeysOf(cacheDir, generated.aggregation(statement, 'node'));
    if (node.keys.length === 0) throw missingKeys('node', node.name, statement, cacheDir);
    nodeKey = await keyFor(node.keys, file.aggregation[0]![0]!, context.pairing);
    summary.keys.node = keySummary(nodeKey);
  }

  // Every chunk proof: its record count, the policy, schema, chunk shape, registry roots (and context when required).
  const chunkNames = committedChunkSignalNames(policy, file.subtreesPerChunk);
  const registryClaims = Object.fromEntries(statement.registries.map((r) => [registrySignalName(r.name), r.root]));
  for (let start = 0; start < tree.chunkCount; start += context.inFlight) {
    const batch = file.chunks.slice(start, start + context.inFlight);
    const verdicts = await context.within(chunks.length, () =>
      Promise.all(
        batch.map(async (chunk, k) => {
          const j = start + k;
          const result = await checkProof(
            chunkKey.vkey,
            chunk,
            {
              expect: {
                count: Math.min(tree.size, required.count - j * tree.size),
                policyHash: policy.hash,
                schemaHash: schema.hash,
                chunkDepth: file.chunkDepth,
                chunkSubtrees: file.subtreesPerChunk,
                ...registryClaims,
                ...(required.context === undefined ? {} : { [CONTEXT_SIGNAL]: required.context }),
              },
              signalNames: chunkNames,
            },
            context.pairing,
          );
          return {
            index: j,
            valid: result.valid,
            reason: result.reason ?? null,
            detail: result.valid ? null : withoutStatedValues(result),
            claims: null,
          } satisfies PrivateChunkVerdict;
        }),
      ),
    );
    chunks.push(...verdicts);
  }
  const failed = chunks.find((chunk) => !chunk.valid);
  if (failed)
    return answer(
      invalid(failed.reason ?? 'invalid-proof', `chunk ${failed.index}: ${failed.detail ?? failed.reason}`),
    );

  // The subtree roots of the chunks, in order, give the root of the commitment.
  const subtreeRoots = file.chunks.flatMap((chunk) =>
    Array.from({ length: file.subtreesPerChunk }, (_, t) => BigInt(chunk.publicSignals[t]!)),
  );
  const combined = combineChunkRoots(subtreeRoots, required.count, file.chunkDepth, required.root);
  if (!combined.valid)
    return answer(
      /^the chunk roots combine to /.test(combined.detail ?? '')
        ? // The library names the root the chunks give: a value of the file's records this service does not return.
          invalid('claim-mismatch', `the chunk roots do not combine to the published root ${required.root}`)
        : combined,
    );

  // The tree the service derives: each proof's public children are the commitments below it, the root's count the
  // published count.
  const commitmentAt = chunkNames.indexOf('commitment');
  let commitments = file.chunks.map((chunk) => BigInt(chunk.publicSignals[commitmentAt]!));
  for (const [level, width] of tree.shape.entries()) {
    const isRoot = level === tree.shape.length - 1;
    const what: AggregationLevel = isRoot ? 'root' : 'node';
    const key = isRoot ? rootKey : nodeKey!;
    const names = aggregationSignalNames(what, fanIn);
    const proofs = file.aggregation[level]!;
    for (let start = 0; start < width; start += context.inFlight) {
      const groups = Array.from({ length: Math.min(context.inFlight, width - start) }, (_, k) => start + k);
      const results = await context.within(chunks.length + summary.aggregationChecked, () =>
        Promise.all(
          groups.map((g) => {
            const group = commitments.slice(g * fanIn, (g + 1) * fanIn);
            return checkProof(
              key.vkey,
              proofs[g]!,
              {
                expect: {
                  ...Object.fromEntries(childSlots(group, fanIn).map((c, j) => [childSignalNames(fanIn)[j]!, c])),
                  slots: group.length,
                  policyHash: policy.hash,
                  ...(isRoot ? { count: required.count } : {}),
                },
                signalNames: names,
              },
              context.pairing,
            );
          }),
        ),
      );
      summary.aggregationChecked += results.length;
      const bad = results.findIndex((result) => !result.valid);
      if (bad >= 0) {
        const result = results[bad]!;
        return answer({
          valid: false,
          reason: result.reason ?? 'invalid-proof',
          detail: `aggregation level ${level} proof ${groups[bad]}: ${withoutStatedValues(result)}`,
        });
      }
    }
    commitments = isRoot ? [] : proofs.map((proof) => BigInt(proof.publicSignals[0]!));
  }
  return answer({ valid: true });
}

/**
 * A rejection's detail without the values the proof states: a signal that is not what the service expects is named
 * with the expected value, never the stated one (in a v2 file the signals the service does not fix are salted
 * commitments and subtree roots of the records), and a child that is not the commitment below it is named only.
 */
function withoutStatedValues(result: VerificationResult): string {
  if (!result.mismatches) return result.detail ?? String(result.reason);
  return result.mismatches
    .map((m) =>
      /^child\d+$/.test(m.name ?? '')
        ? `${m.name} is not the commitment of the proof below it at its position${m.expected === '0' ? ' (0: no child there)' : ''}`
        : `${m.name ?? `signal ${m.index}`}: expected ${m.expected}, the proof states another value`,
    )
    .join('; ');
}

function shapeRefused(
  statement: PrivateChunksStatement,
  field: 'chunkDepth' | 'subtreesPerChunk',
  stated: number,
  pinned: number,
): ServiceError {
  return new ServiceError(
    422,
    'UNKNOWN_CIRCUIT',
    `this service verifies private chunked proofs of policy "${statement.policy.spec.name}" only with ${field} ${pinned} (statement ${statement.name}); the file's chunks have ${field} ${stated}, a chunk circuit it does not trust: nothing was verified`,
    {
      hint: `prove with the chunk shape the service pins, or start it with a statement without "${field}" (the keys of each shape's chunk circuit must then be in its cache)`,
      fields: [
        {
          path: field === 'chunkDepth' ? '/chunkDepth' : '/subtreesPerChunk',
          message: `is ${stated}; this service takes ${pinned}`,
        },
      ],
    },
  );
}

/** What a v2 verdict covers, in words (no value derived from records). */
function privateChunksNote(summary: PrivateChunksSummary, valid: boolean): string {
  const levels = summary.aggregationLevels;
  const tree =
    levels.length > 0
      ? `the aggregation tree this service derives from the count and its own fan-in of ${summary.fanIn} (${levels.join(', ')} proof(s) per level, up to the root)`
      : `the aggregation tree this service derives from the count and its own fan-in of ${summary.fanIn}`;
  return [
    `${valid ? 'Checked' : 'What this service checks:'} against statement ${summary.statement} (policy "${summary.policy.name}", this service's schema, registry roots and fan-in) with the chunk, node and root keys of its own cache:`,
    `every chunk proof in order with its record count, the policy, schema and chunk shape; that the chunks' subtree roots combine into the root the file states; that ${tree} links each chunk's commitment to the root proof, which proves every aggregate of the policy on the summed partials with the count the file states.`,
    valid
      ? 'Compare that root and count with the commitment you trust (or require them: expect.root, expect.count).'
      : '',
    "No chunk's partials are published by such a file, and no commitment or subtree root is returned here; the file's circuit id and anything else it says about its circuits were not used.",
  ]
    .filter(Boolean)
    .join(' ');
}
