/**
 * `POST /v1/verify` without HTTP: find the key, take the layout and the pinned values the SERVICE trusts for it (its own
 * compiled circuit, or a statement file it was started with), refuse a request that describes the circuit otherwise,
 * run zkai's verifier (shape, count and claim checks here, the pairing check in the {@link VerifierPool}), and decode
 * what the proof claims. A circuit known only by its key gets a pairing verdict and no decoded claim.
 */
import { verificationKeyId, type Groth16VerificationKey } from '../chain/groth16-template.ts';
import { MalformedProofError, ServiceError } from '../errors.ts';
import type { VerificationKey } from '../verifier/types.ts';
import { verifyProof, type PairingCheck, type VerificationResult } from '../verifier/verify.ts';
import { signalNamesOfRegistration, type RegisteredCircuit } from '../chain/registry.ts';
import { combineChunkRoots } from '../data/chunked.ts';
import { merkleDepth } from '../crypto/merkle.ts';
import { ACCURACY_CHAIN_START, runningTotalCommitment, testSetRootFromLeaves } from '../model/accuracy.ts';
import type { CatalogEntry, CircuitCatalog } from './catalog.ts';
import { PRIVATE_CHUNKS_FORMAT, verifyPrivateChunksRequest, type PrivateChunksSummary } from './private-chunks.ts';
import { badRequest, interpretBody, type InterpretedBody, type ProofJob, type VerifyBody } from './proof-files.ts';
import { decodeClaims, genericSignalNames, type Claims, type ServiceCircuitKind } from './signals.ts';

/** The verdict on one proof. */
export interface ProofVerdict {
  valid: boolean;
  reason: VerificationResult['reason'] | null;
  detail: string | null;
  mismatches?: NonNullable<VerificationResult['mismatches']>;
  claims: Claims | null;
}

/** The answer of `POST /v1/verify`. */
export interface VerifyResponse extends ProofVerdict {
  /** Whether the claims were decoded and checked on a layout the service trusts (false: a pairing verdict only). */
  claimsChecked: boolean;
  circuit: {
    id: string;
    kind: ServiceCircuitKind;
    name: string | null;
    known: boolean;
    namesFrom: CatalogEntry['namesFrom'];
  };
  /** Chunked proofs: each chunk's verdict. */
  chunks?: Array<ProofVerdict & { index: number }>;
  /**
   * Private chunked proofs (`zkai-chunked-dataset-proof-v2`): the trusted statement, fan-in, tree and keys the verdict
   * was reached with, all the service's own (`circuit` is then the root circuit, whose proof carries the verdict).
   */
  privateChunks?: PrivateChunksSummary;
  note?: string;
}

/** Limits of one verify request. */
export interface VerifyLimits {
  /** Most chunk proofs one request may carry. */
  maxChunks: number;
  /** Longest a request may keep the verifiers busy, in ms. */
  deadlineMs: number;
}

/** Default {@link VerifyLimits}: 2,048 chunk proofs (about 15 s of pairing checks on 2 cores), one minute. */
export const DEFAULT_VERIFY_LIMITS: VerifyLimits = { maxChunks: 2048, deadlineMs: 60_000 };

/** What {@link verifyRequest} needs. */
export interface VerifyContext {
  catalog: CircuitCatalog;
  pairing: PairingCheck;
  limits?: Partial<VerifyLimits>;
  /** The chain registry, which says what registered circuits prove (their owner registered kind and layout). */
  registry?: { registeredCircuit(id: string): Promise<RegisteredCircuit | undefined>; describe: string };
  /**
   * Answer a request whose verification key the service does not know (not in its catalog, not registered on the
   * chain) with a pairing verdict (`claimsChecked: false`) instead of refusing it with a 403 `UNTRUSTED_KEY`.
   */
  allowUnknownKeys?: boolean;
}

/**
 * For a key whose layout the service does not know, what the chain registry says (when one is configured): the
 * catalog learns the registered kind, names and pinned policy or task hash. Returns a note when the registry could not
 * be read (the verdict is then a pairing verdict).
 */
async function learnFromRegistry(
  key: ResolvedKey,
  context: VerifyContext,
): Promise<{ key: ResolvedKey; note?: string }> {
  if (!context.registry || key.entry?.namesKnown) return { key };
  let registered: RegisteredCircuit | undefined;
  try {
    registered = await context.registry.registeredCircuit(key.id);
  } catch (error) {
    return {
      key,
      note: `the chain registry could not be read (${error instanceof Error ? error.message : String(error)}), so what its registration says about this circuit was not used.`,
    };
  }
  if (!registered || registered.publicInputs !== key.vkey.nPublic) return { key };
  const pinned =
    registered.policyHash === '0'
      ? {}
      : { [registered.kind === 'accuracy' ? 'taskHash' : 'policyHash']: registered.policyHash };
  const entry = context.catalog.trustRegistered(key.vkey, {
    kind: registered.kind,
    signalNames: signalNamesOfRegistration(registered),
    pins: pinned,
    source: context.registry.describe,
  });
  const trust = registered.provenance?.keyTrust;
  const note =
    trust === 'development'
      ? "The chain registry records this circuit's key as DEVELOPMENT: its registrant's own single-party setup, with which the registrant could forge proofs."
      : trust === 'none' || trust === undefined
        ? "The chain registry does not say how this circuit's key was trusted when it was registered."
        : undefined;
  return { key: { vkey: entry.vkey, id: entry.id, entry }, ...(note ? { note } : {}) };
}

/** Chunk proofs of one request checked at the same time. */
const CHUNKS_IN_FLIGHT = 8;

interface ResolvedKey {
  vkey: VerificationKey;
  id: string;
  entry?: CatalogEntry;
  /** Several cached keys of the file's compiled circuit: try each. */
  alternatives?: CatalogEntry[];
}

/** What the service trusts about a circuit: its layout, kind and pinned values, or nothing. */
interface TrustedLayout {
  /** One name per signal; placeholders (signal0...) when unknown. */
  names: string[];
  known: boolean;
  kind: ServiceCircuitKind;
  pins: Record<string, string>;
  namesFrom: CatalogEntry['namesFrom'];
}

/** The key a request names: its own, a known id, or the known keys of a proof file's compiled circuit. */
function resolveKey(body: VerifyBody, interpreted: InterpretedBody, catalog: CircuitCatalog): ResolvedKey {
  if (body.verificationKey !== undefined) {
    let id: string;
    try {
      id = verificationKeyId(body.verificationKey as Groth16VerificationKey, 'verificationKey');
    } catch (error) {
      throw badRequest([
        {
          path: '/verificationKey',
          message: error instanceof Error ? error.message.replace(/^verificationKey: /, '') : String(error),
        },
      ]);
    }
    const vkey = body.verificationKey as VerificationKey;
    if (vkey.IC.length !== vkey.nPublic + 1)
      throw badRequest([
        {
          path: '/verificationKey/IC',
          message: `must hold nPublic + 1 = ${vkey.nPublic + 1} points, has ${vkey.IC.length}`,
        },
      ]);
    const entry = catalog.get(id);
    if (body.circuit !== undefined && body.circuit.toLowerCase() !== id) {
      throw badRequest([
        { path: '/circuit', message: `is ${body.circuit}, but the verificationKey given has id ${id}` },
      ]);
    }
    return { vkey, id, ...(entry ? { entry } : {}) };
  }
  if (body.circuit !== undefined) {
    const entry = catalog.get(body.circuit);
    if (!entry) {
      throw new ServiceError(404, 'UNKNOWN_CIRCUIT', `no known circuit has id ${body.circuit}`, {
        hint: 'GET /v1/circuits lists the known circuits; or send the verificationKey itself',
      });
    }
    return { vkey: entry.vkey, id: entry.id, entry };
  }
  if (interpreted.compiledId !== undefined) {
    const entries = catalog.byCompiledId(interpreted.compiledId);
    if (entries.length === 0) {
      throw new ServiceError(
        404,
        'UNKNOWN_CIRCUIT',
        `no known verification key was made for the proof file's circuit ${interpreted.compiledId}`,
        {
          hint: "start the service with this circuit's key and what it proves (zkai serve --statement FILE, or the --cache-dir it was compiled in), or send circuit or verificationKey",
        },
      );
    }
    const [first] = entries as [CatalogEntry, ...CatalogEntry[]];
    return { vkey: first.vkey, id: first.id, entry: first, ...(entries.length > 1 ? { alternatives: entries } : {}) };
  }
  throw badRequest([
    { path: '/circuit', message: 'is required: a circuit id of GET /v1/circuits (or send verificationKey)' },
  ]);
}

/** The layout the service trusts for a resolved key: the catalog's, never the request's. */
function trustedLayout(resolved: ResolvedKey): TrustedLayout {
  const entry = resolved.entry;
  if (entry?.namesKnown)
    return { names: entry.signalNames, known: true, kind: entry.kind, pins: entry.pins, namesFrom: entry.namesFrom };
  return { names: genericSignalNames(resolved.vkey.nPublic), known: false, kind: 'generic', pins: {}, namesFrom: null };
}

/**
 * The refusal of a key the request sent that the service knows nothing about: a key handed over with a proof proves
 * nothing (the key of a circuit with the right public signals and no constraints verifies anything).
 */
function untrustedKey(id: string, registryNote: string | undefined): ServiceError {
  const message = `this service does not know the verification key ${id} (it is not the key of one of its compiled circuits, of a statement file it was started with, nor registered on the chain it reads): a key sent with a proof proves nothing on its own, so nothing was verified`;
  return new ServiceError(403, 'UNTRUSTED_KEY', `${message}${registryNote ? ` (${registryNote})` : ''}`, {
    hint: 'send the circuit id of a known circuit (GET /v1/circuits), or start the service with this key and what it proves (zkai serve --statement FILE, --vkey FILE, the --cache-dir of its compiled circuit, or --rpc and --deployment of a registry where it is registered); zkai serve --allow-unknown-keys answers such a request with a pairing verdict that checks no claim',
    fields: [{ path: '/verificationKey', message: `is not a key this service trusts (id ${id})` }],
  });
}

const HOW_TO_TRUST =
  'start the service with what this circuit proves (zkai serve --statement FILE, the --cache-dir of its compiled circuit, or --rpc and --deployment of a registry where it is registered) to decode and check its claims';

/**
 * Refuse a request that describes the circuit otherwise than the service does: other signal names, another kind, a
 * proof file of another statement, or a stated claim on a signal the circuit does not have. For a circuit known only
 * by its key, names, kinds and named claims cannot be checked, so they are refused too.
 */
function refuseDisagreements(body: VerifyBody, interpreted: InterpretedBody, layout: TrustedLayout, id: string): void {
  const problems: Array<{ path: string; message: string }> = [];
  if (body.signalNames !== undefined) {
    if (!layout.known)
      problems.push({
        path: '/signalNames',
        message: `cannot be checked: this service knows circuit ${id} only by its key and never takes a signal layout from a request; ${HOW_TO_TRUST}`,
      });
    else if (
      body.signalNames.length !== layout.names.length ||
      body.signalNames.some((name, j) => name !== layout.names[j])
    ) {
      problems.push({
        path: '/signalNames',
        message: `disagree with circuit ${id}'s signals as this service knows them (${layout.names.join(', ')}): the file was edited or made for another circuit`,
      });
    }
  }
  if (body.kind !== undefined && body.kind !== layout.kind) {
    problems.push({
      path: '/kind',
      message: layout.known
        ? `is ${body.kind}, but circuit ${id} proves ${layout.kind}`
        : `cannot be checked: this service knows circuit ${id} only by its key; ${HOW_TO_TRUST}`,
    });
  }
  if (
    interpreted.shape &&
    layout.known &&
    interpreted.shape.kind !== 'circuit' &&
    interpreted.shape.kind !== layout.kind
  ) {
    problems.push({
      path: '/format',
      message: `the file is ${interpreted.shape.describe}, but circuit ${id} proves ${layout.kind}`,
    });
  }
  if (layout.known) {
    for (const name of Object.keys(interpreted.declared)) {
      if (!layout.names.includes(name))
        problems.push({
          path: '/format',
          message: `the file states ${name} = ${interpreted.declared[name]}, but circuit ${id} has no signal ${name} (signals: ${layout.names.join(', ')})`,
        });
    }
  }
  for (const name of Object.keys(body.expect ?? {})) {
    if (/^\d+$/.test(name)) {
      if (Number(name) >= layout.names.length)
        problems.push({
          path: `/expect/${name}`,
          message: `names signal ${name}, but the circuit has ${layout.names.length} public signals`,
        });
    } else if (!layout.known) {
      problems.push({
        path: `/expect/${name}`,
        message: `names a signal, but this service knows circuit ${id} only by its key: require signals by index, or ${HOW_TO_TRUST}`,
      });
    } else if (!layout.names.includes(name)) {
      problems.push({
        path: `/expect/${name}`,
        message: `names no public signal of this circuit (signals: ${layout.names.join(', ')})`,
      });
    }
  }
  if (problems.length > 0) throw badRequest(problems);
}

/**
 * The claims to require: what the file states, what the caller requires (a conflict between the two is a 400), and
 * the values the service's statement pins. A file or caller that contradicts a pin gets a claim-mismatch verdict.
 */
function expectations(
  declared: Record<string, string>,
  required: Record<string, string> | undefined,
  pins: Record<string, string>,
): { expect: Record<string, string>; pinConflict?: ProofVerdict } {
  const merged: Record<string, string> = { ...declared };
  for (const [name, value] of Object.entries(required ?? {})) {
    const stated = Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (stated !== undefined && BigInt(stated) !== BigInt(value)) {
      throw badRequest([
        { path: `/expect/${name}`, message: `is ${value}, but the proof file itself states ${name} = ${stated}` },
      ]);
    }
    merged[name] = value;
  }
  const conflicts = Object.entries(pins).filter(
    ([name, value]) => Object.hasOwn(merged, name) && BigInt(merged[name] as string) !== BigInt(value),
  );
  const expect = { ...merged, ...pins };
  if (conflicts.length === 0) return { expect };
  const detail = conflicts
    .map(
      ([name, value]) =>
        `the request states ${name} = ${merged[name]}, but the statement this service trusts for the circuit pins ${value}`,
    )
    .join('; ');
  return { expect, pinConflict: { valid: false, reason: 'claim-mismatch', detail, claims: null } };
}

async function verifyJob(
  vkey: VerificationKey,
  job: ProofJob,
  layout: TrustedLayout,
  expect: Record<string, string>,
  pairing: PairingCheck,
): Promise<ProofVerdict> {
  let result: VerificationResult;
  try {
    result = await verifyProof(vkey, job.proof, job.publicSignals, {
      expect,
      ...(layout.known ? { signalNames: layout.names } : {}),
      pairing,
    });
  } catch (error) {
    if (error instanceof MalformedProofError) result = { valid: false, reason: 'malformed', detail: error.message };
    else if (error instanceof SyntaxError || error instanceof RangeError)
      result = { valid: false, reason: 'malformed', detail: error.message };
    else throw error;
  }
  const decodable = layout.known && layout.names.length === job.publicSignals.length;
  return {
    valid: result.valid,
    reason: result.reason ?? null,
    detail: result.detail ?? null,
    ...(result.mismatches ? { mismatches: result.mismatches } : {}),
    claims: decodable ? decodeClaims(layout.kind, layout.names, job.publicSignals) : null,
  };
}

function deadlineError(limits: VerifyLimits, done: number, total: number): ServiceError {
  return new ServiceError(
    503,
    'VERIFY_DEADLINE',
    `verifying this request took longer than the service allows (${limits.deadlineMs} ms): ${done} of ${total} proof(s) checked`,
    {
      hint: 'send fewer chunk proofs per request, or start the service with a longer --verify-deadline',
    },
  );
}

/** Run `work` unless the deadline has passed; a deadline reached while it runs is a 503 too. */
async function withinDeadline<T>(deadline: number, error: () => ServiceError, work: () => Promise<T>): Promise<T> {
  const left = deadline - Date.now();
  if (left <= 0) throw error();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(error()), left))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Verify the proof (or every chunk) a request body carries. Bad proofs give `valid: false` with a reason; a request
 * that names no usable key, is inconsistent or describes the circuit otherwise than the service does throws a
 * {@link ServiceError} (400 or 404); a busy verifier or a request past its deadline, a 503.
 */
export async function verifyRequest(body: VerifyBody, context: VerifyContext): Promise<VerifyResponse> {
  const limits: VerifyLimits = { ...DEFAULT_VERIFY_LIMITS, ...context.limits };
  const deadline = Date.now() + limits.deadlineMs;
  const interpreted = interpretBody(body);
  if (interpreted.jobs.length > limits.maxChunks) {
    throw badRequest(
      [
        {
          path: '/chunks',
          message: `holds ${interpreted.jobs.length} ${interpreted.file?.format === PRIVATE_CHUNKS_FORMAT ? 'proofs (chunk and aggregation proofs)' : 'chunk proofs'}; this service verifies at most ${limits.maxChunks} in one request`,
        },
      ],
      'verify the file in parts, or start the service with a larger --max-chunks',
    );
  }
  if (interpreted.file?.format === PRIVATE_CHUNKS_FORMAT) {
    // Checked with what the service trusts for the policy (its statement and its cache's keys), never the file's word.
    const total = interpreted.jobs.length;
    return verifyPrivateChunksRequest(body, interpreted.file, {
      statements: context.catalog.privateChunks,
      cacheDir: context.catalog.cacheDir,
      pairing: context.pairing,
      inFlight: CHUNKS_IN_FLIGHT,
      within: (done, work) => withinDeadline(deadline, () => deadlineError(limits, done, total), work),
    });
  }
  let resolved = resolveKey(body, interpreted, context.catalog);
  if (resolved.alternatives) {
    // Several setups of the file's circuit are known: the key is the one the proof verifies with, chosen by the
    // pairing check alone; only then are the chosen key's layout, refusals and pins applied (each setup may have a
    // statement of its own).
    const [firstJob] = interpreted.jobs as [ProofJob];
    for (const entry of resolved.alternatives) {
      const candidate: ResolvedKey = { vkey: entry.vkey, id: entry.id, entry };
      const bare: TrustedLayout = {
        names: genericSignalNames(entry.vkey.nPublic),
        known: false,
        kind: 'generic',
        pins: {},
        namesFrom: null,
      };
      const verdict = await withinDeadline(
        deadline,
        () => deadlineError(limits, 0, interpreted.jobs.length),
        () => verifyJob(candidate.vkey, firstJob, bare, {}, context.pairing),
      );
      if (verdict.valid) {
        resolved = candidate;
        break;
      }
    }
  }
  const learned = await learnFromRegistry(resolved, context);
  const key = learned.key;
  if (!key.entry && !context.allowUnknownKeys) throw untrustedKey(key.id, learned.note);
  refuseDisagreements(body, interpreted, trustedLayout(key), key.id);
  const named = trustedLayout(key);
  const { expect, pinConflict } = expectations(named.known ? interpreted.declared : {}, body.expect, named.pins);
  const layout = trustedLayout(key);
  const circuit = {
    id: key.id,
    kind: layout.kind,
    name: key.entry?.name ?? null,
    known: key.entry !== undefined,
    namesFrom: layout.namesFrom,
  };
  // A key learned from the chain registry: what its registration says about how the key was trusted.
  const keyNote = layout.known ? learned.note : undefined;
  const pairingOnly = layout.known
    ? undefined
    : `${learned.note ? `${learned.note} ` : ''}this service knows circuit ${key.id} only by its verification key: "valid" means only that the pairing check passed for these public signals; what they mean${
        Object.keys(interpreted.declared).length > 0
          ? ` (and what the proof file states: ${Object.entries(interpreted.declared)
              .slice(0, 4)
              .map(([n, v]) => `${n} = ${v.length > 20 ? `${v.slice(0, 18)}...` : v}`)
              .join(', ')})`
          : ''
      } was not checked. To decode and check claims, ${HOW_TO_TRUST.replace(/ to decode and check its claims$/, '')}.`;
  if (pinConflict) {
    return { ...pinConflict, claimsChecked: layout.known, circuit, ...(interpreted.chunked ? { chunks: [] } : {}) };
  }
  const registryNote = unpinnedRegistries(layout, interpreted.jobs[0] as ProofJob);
  if (!interpreted.chunked) {
    const verdict = await withinDeadline(
      deadline,
      () => deadlineError(limits, 0, 1),
      () => verifyJob(key.vkey, interpreted.jobs[0] as ProofJob, layout, expect, context.pairing),
    );
    const note = [pairingOnly, keyNote, registryNote].filter(Boolean).join(' ');
    return { ...verdict, claimsChecked: layout.known, circuit, ...(note ? { note } : {}) };
  }
  // Chunks go to the pool a few at a time: enough to keep every worker busy, never enough to fill its queue.
  const chunks: Array<ProofVerdict & { index: number }> = [];
  for (let start = 0; start < interpreted.jobs.length; start += CHUNKS_IN_FLIGHT) {
    const batch = interpreted.jobs.slice(start, start + CHUNKS_IN_FLIGHT);
    const verdicts = await withinDeadline(
      deadline,
      () => deadlineError(limits, chunks.length, interpreted.jobs.length),
      () =>
        Promise.all(
          batch.map(async (job) => ({
            index: job.index,
            ...(await verifyJob(key.vkey, job, layout, expect, context.pairing)),
          })),
        ),
    );
    chunks.push(...verdicts);
  }
  const failed = chunks.find((chunk) => !chunk.valid);
  const whole = failed === undefined && layout.known ? checkChunkedWhole(interpreted, layout) : undefined;
  const what = chunkedNote(interpreted, layout);
  return {
    valid: failed === undefined && (whole === undefined || whole.valid),
    reason: failed?.reason ?? (whole && !whole.valid ? (whole.reason ?? 'claim-mismatch') : null),
    detail: failed
      ? `chunk ${failed.index}: ${failed.detail ?? failed.reason}`
      : whole && !whole.valid
        ? (whole.detail ?? null)
        : null,
    claims: null,
    claimsChecked: layout.known,
    circuit,
    chunks,
    note: [pairingOnly, keyNote, what, registryNote].filter(Boolean).join(' '),
  };
}

/**
 * A note on registry roots the service does not pin: a registry root is a public input the prover chooses (it can
 * prove "every id is in the consent list" against a list of its own), so a verdict means something only against a
 * root the verifier trusts.
 */
function unpinnedRegistries(layout: TrustedLayout, job: ProofJob | undefined): string | undefined {
  if (!layout.known) return undefined;
  const free = layout.names
    .map((name, i) => ({ name, i }))
    .filter(({ name }) => name.startsWith('registry.') && !Object.hasOwn(layout.pins, name));
  if (free.length === 0) return undefined;
  const list = free.map(({ name, i }) => `${name} = ${job?.publicSignals[i] ?? '?'}`).join(', ');
  return `The registry roots (${list}) are the ones the proof was made against, chosen by the prover: compare them with the roots you trust (a statement file can pin them: "registries").`;
}

/** What a verdict on chunks covers and what it leaves to the CLI. */
function chunkedNote(interpreted: InterpretedBody, layout: TrustedLayout): string {
  const format = interpreted.file?.format;
  if (layout.known && format === 'zkai-chunked-dataset-proof-v1') {
    const aggregates = layout.names.some((name) => name.startsWith('aggregate'));
    return `each chunk proof was verified, in order, with its record count, and the chunk roots combine into the root the file states; compare that root and count with the commitment you trust. ${aggregates ? 'The aggregates need the policy: zkai data verify judges them on the summed partials.' : ''}`.trim();
  }
  if (layout.known && format === 'zkai-accuracy-proof-v2') {
    return 'each chunk proof was verified, in order, each opening the commitment of the chunk before it; the leaves rebuild the test set root the file states and the last chunk commits to its count of correct; whether that test set is one you trust, and the accuracy threshold, are checked by zkai model verify';
  }
  return layout.kind === 'accuracy'
    ? 'each chunk proof was verified; the test set root rebuilt from the leaves, the chain of commitments, the total and the accuracy threshold are not checked here: zkai model verify does that'
    : 'each chunk proof was verified; recombining the chunk roots into the dataset root, the record counts per chunk and the aggregates are not checked here: zkai data verify does that';
}

/**
 * The checks of a chunked proof file as a whole, on the service's layout, once every chunk proof is valid: the chunks
 * are in order (no repeat, none missing), a dataset's chunk roots combine into the root the file states with the
 * record count each chunk must hold, an accuracy file's leaves rebuild its test set root and its stated count of
 * correct predictions is the chunks' sum. Without this a file could repeat one chunk or state another total.
 */
function checkChunkedWhole(interpreted: InterpretedBody, layout: TrustedLayout): VerificationResult | undefined {
  const file = interpreted.file;
  const jobs = interpreted.jobs;
  const misplaced = jobs.findIndex((job, j) => job.index !== j);
  if (misplaced >= 0)
    return {
      valid: false,
      reason: 'claim-mismatch',
      detail: `chunk proofs must come in order, each once: position ${misplaced} holds chunk ${jobs[misplaced]!.index}`,
    };
  const signal = (job: ProofJob, name: string): bigint =>
    BigInt(job.publicSignals[layout.names.indexOf(name)] as string);
  if (file?.format === 'zkai-chunked-dataset-proof-v1' && layout.kind === 'dataset-chunk') {
    const { count, root } = file.commitment;
    const chunkDepth = file.chunkDepth;
    const subtrees = file.subtreesPerChunk;
    const size = subtrees * 2 ** chunkDepth;
    const expectedChunks = Math.ceil(count / size);
    if (count < 1 || jobs.length !== expectedChunks)
      return {
        valid: false,
        reason: 'claim-mismatch',
        detail: `${count} records in chunks of ${size} need ${expectedChunks} chunk proofs, the file has ${jobs.length}`,
      };
    const rootNames = subtrees === 1 ? ['root'] : Array.from({ length: subtrees }, (_, t) => `root${t}`);
    const roots: bigint[] = [];
    for (const [j, job] of jobs.entries()) {
      const records = BigInt(Math.min(size, count - j * size));
      if (signal(job, 'count') !== records)
        return {
          valid: false,
          reason: 'claim-mismatch',
          detail: `chunk ${j} proves ${signal(job, 'count')} records, but chunk ${j} of ${count} records in chunks of ${size} holds ${records}`,
        };
      roots.push(...rootNames.map((name) => signal(job, name)));
    }
    return combineChunkRoots(roots, count, chunkDepth, root);
  }
  if (file?.format === 'zkai-accuracy-proof-v2' && layout.kind === 'accuracy') {
    const samples = layout.names.filter((name) => /^leaf\d+$/.test(name)).length;
    const { testSet } = file;
    const expectedChunks = Math.ceil(testSet.count / samples);
    if (jobs.length !== expectedChunks)
      return {
        valid: false,
        reason: 'claim-mismatch',
        detail: `${testSet.count} test records at ${samples} per chunk need ${expectedChunks} chunk proofs, the file has ${jobs.length}`,
      };
    // The tree the leaves rebuild is the count's (a file raising the depth made the service hash 2^depth leaves).
    if (testSet.depth !== merkleDepth(testSet.count))
      return {
        valid: false,
        reason: 'claim-mismatch',
        detail: `the test set's depth ${testSet.depth} is not the depth of a tree of ${testSet.count} records (${merkleDepth(testSet.count)})`,
      };
    if (file.count !== testSet.count)
      return {
        valid: false,
        reason: 'claim-mismatch',
        detail: `the file states ${file.count} records, but its test set has ${testSet.count}`,
      };
    const leaves = jobs.flatMap((job) => Array.from({ length: samples }, (_, i) => signal(job, `leaf${i}`)));
    const rebuilt = testSetRootFromLeaves(leaves, testSet);
    if (rebuilt) return { valid: false, reason: 'claim-mismatch', detail: rebuilt };
    // The chunks are chained by commitments to running totals: each opens the one before it, and the last is
    // Poseidon(total, 0) for the total the file states.
    let previous = ACCURACY_CHAIN_START;
    for (const [j, job] of jobs.entries()) {
      if (signal(job, 'previous') !== previous)
        return {
          valid: false,
          reason: 'claim-mismatch',
          detail: `chunk ${j} does not open the commitment of the chunk before it: the chunks are not one chain`,
        };
      previous = signal(job, 'commitment');
    }
    if (previous !== runningTotalCommitment(BigInt(file.correct), 0n))
      return {
        valid: false,
        reason: 'claim-mismatch',
        detail: `the file states ${file.correct} correct predictions, but its last chunk commits to another total`,
      };
  }
  return undefined;
}
