/**
 * `POST /v1/verify` without HTTP: find the key, the layout and the claims to require, run zkai's verifier (its shape,
 * count and claim checks here, the pairing check in the {@link VerifierPool}), and decode what the proof claims.
 */
import { verificationKeyId, type Groth16VerificationKey } from '../chain/groth16-template.ts';
import { MalformedProofError, ServiceError } from '../errors.ts';
import type { VerificationKey } from '../verifier/types.ts';
import { verifyProof, type PairingCheck, type VerificationResult } from '../verifier/verify.ts';
import type { CatalogEntry, CircuitCatalog } from './catalog.ts';
import { badRequest, interpretBody, type InterpretedBody, type ProofJob, type VerifyBody } from './proof-files.ts';
import { decodeClaims, genericSignalNames, kindFromSignalNames, type Claims, type ServiceCircuitKind } from './signals.ts';

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
  circuit: { id: string; kind: ServiceCircuitKind; name: string | null; known: boolean };
  /** Chunked proofs: each chunk's verdict. */
  chunks?: Array<ProofVerdict & { index: number }>;
  note?: string;
}

/** What {@link verifyRequest} needs. */
export interface VerifyContext {
  catalog: CircuitCatalog;
  pairing: PairingCheck;
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

/** The key a request names: its own, a known id, or the known keys of a proof file's compiled circuit. */
function resolveKey(body: VerifyBody, interpreted: InterpretedBody, catalog: CircuitCatalog): ResolvedKey {
  if (body.verificationKey !== undefined) {
    let id: string;
    try {
      id = verificationKeyId(body.verificationKey as Groth16VerificationKey, 'verificationKey');
    } catch (error) {
      throw badRequest([{ path: '/verificationKey', message: error instanceof Error ? error.message.replace(/^verificationKey: /, '') : String(error) }]);
    }
    const vkey = body.verificationKey as VerificationKey;
    if (vkey.IC.length !== vkey.nPublic + 1) throw badRequest([{ path: '/verificationKey/IC', message: `must hold nPublic + 1 = ${vkey.nPublic + 1} points, has ${vkey.IC.length}` }]);
    const entry = catalog.get(id);
    if (body.circuit !== undefined && body.circuit.toLowerCase() !== id) {
      throw badRequest([{ path: '/circuit', message: `is ${body.circuit}, but the verificationKey given has id ${id}` }]);
    }
    return { vkey, id, ...(entry ? { entry } : {}) };
  }
  if (body.circuit !== undefined) {
    const entry = catalog.get(body.circuit);
    if (!entry) {
      throw new ServiceError(404, 'UNKNOWN_CIRCUIT', `no known circuit has id ${body.circuit}`, { hint: 'GET /v1/circuits lists the known circuits; or send the verificationKey itself' });
    }
    return { vkey: entry.vkey, id: entry.id, entry };
  }
  if (interpreted.compiledId !== undefined) {
    const entries = catalog.byCompiledId(interpreted.compiledId);
    if (entries.length === 0) {
      throw new ServiceError(404, 'UNKNOWN_CIRCUIT', `no known verification key was made for the proof file's circuit ${interpreted.compiledId}`, {
        hint: 'start the service with this circuit\'s key (zkai serve --vkey FILE, or the --cache-dir the proof was made with), or send circuit or verificationKey',
      });
    }
    const [first] = entries as [CatalogEntry, ...CatalogEntry[]];
    return { vkey: first.vkey, id: first.id, entry: first, ...(entries.length > 1 ? { alternatives: entries } : {}) };
  }
  throw badRequest([{ path: '/circuit', message: 'is required: a circuit id of GET /v1/circuits (or send verificationKey)' }]);
}

/** Merge what a file declares with what the verifier requires; a conflict between the two is a 400. */
function expectations(declared: Record<string, string>, required: Record<string, string> | undefined): Record<string, string> {
  const merged = { ...declared };
  for (const [name, value] of Object.entries(required ?? {})) {
    const stated = declared[name];
    if (stated !== undefined && BigInt(stated) !== BigInt(value)) {
      throw badRequest([{ path: `/expect/${name}`, message: `is ${value}, but the proof file itself states ${name} = ${stated}` }]);
    }
    merged[name] = value;
  }
  return merged;
}

async function verifyJob(vkey: VerificationKey, job: ProofJob, layout: { names: string[]; known: boolean; kind: ServiceCircuitKind }, expect: Record<string, string>, pairing: PairingCheck): Promise<ProofVerdict> {
  let result: VerificationResult;
  try {
    result = await verifyProof(vkey, job.proof, job.publicSignals, { expect, signalNames: layout.names, pairing });
  } catch (error) {
    if (error instanceof MalformedProofError) result = { valid: false, reason: 'malformed', detail: error.message };
    else if (error instanceof SyntaxError || error instanceof RangeError) result = { valid: false, reason: 'malformed', detail: error.message };
    else throw error;
  }
  const decodable = layout.names.length === job.publicSignals.length;
  return {
    valid: result.valid,
    reason: result.reason ?? null,
    detail: result.detail ?? null,
    ...(result.mismatches ? { mismatches: result.mismatches } : {}),
    claims: decodable ? decodeClaims(layout.kind, layout.names, job.publicSignals) : null,
  };
}

/**
 * Verify the proof (or every chunk) a request body carries. Bad proofs give `valid: false` with a reason; a request
 * that names no usable key or is inconsistent throws a {@link ServiceError} (400 or 404); a busy verifier, a 503.
 */
export async function verifyRequest(body: VerifyBody, context: VerifyContext): Promise<VerifyResponse> {
  const interpreted = interpretBody(body);
  let key = resolveKey(body, interpreted, context.catalog);
  const expect = expectations(interpreted.declared, body.expect);
  for (const name of Object.keys(body.expect ?? {})) {
    if (/^\d+$/.test(name) && Number(name) >= key.vkey.nPublic) throw badRequest([{ path: `/expect/${name}`, message: `names signal ${name}, but the circuit has ${key.vkey.nPublic} public signals` }]);
  }
  const layoutOf = (resolved: ResolvedKey) => {
    const fromRequest = interpreted.signalNames;
    const names = fromRequest ?? (resolved.entry?.namesKnown ? resolved.entry.signalNames : undefined);
    const known = names !== undefined;
    const finalNames = names ?? genericSignalNames(resolved.vkey.nPublic);
    const kind = body.kind ?? interpreted.kind ?? (known ? kindFromSignalNames(finalNames) : (resolved.entry?.kind ?? 'generic'));
    return { names: finalNames, known, kind };
  };
  // A name to require that the layout does not have is the caller's mistake, not the proof's.
  const named = layoutOf(key);
  for (const name of Object.keys(body.expect ?? {})) {
    if (!/^\d+$/.test(name) && !named.names.includes(name)) {
      throw badRequest([{ path: `/expect/${name}`, message: `names no public signal of this circuit (signals: ${named.names.join(', ')})` }]);
    }
  }
  if (key.alternatives) {
    // Several setups of the file's circuit are known: the proof is checked against the one it verifies with.
    const [firstJob] = interpreted.jobs as [ProofJob];
    for (const entry of key.alternatives) {
      const candidate: ResolvedKey = { vkey: entry.vkey, id: entry.id, entry };
      if ((await verifyJob(candidate.vkey, firstJob, layoutOf(candidate), expect, context.pairing)).valid) {
        key = candidate;
        break;
      }
    }
  }
  const layout = layoutOf(key);
  const circuit = { id: key.id, kind: layout.kind, name: key.entry?.name ?? null, known: key.entry !== undefined };
  if (!interpreted.chunked) {
    const verdict = await verifyJob(key.vkey, interpreted.jobs[0] as ProofJob, layout, expect, context.pairing);
    return { ...verdict, circuit };
  }
  // Chunks go to the pool a few at a time: enough to keep every worker busy, never enough to fill its queue.
  const chunks: Array<ProofVerdict & { index: number }> = [];
  for (let start = 0; start < interpreted.jobs.length; start += CHUNKS_IN_FLIGHT) {
    const batch = interpreted.jobs.slice(start, start + CHUNKS_IN_FLIGHT);
    chunks.push(...(await Promise.all(batch.map(async (job) => ({ index: job.index, ...(await verifyJob(key.vkey, job, layout, expect, context.pairing)) })))));
  }
  const failed = chunks.find((chunk) => !chunk.valid);
  return {
    valid: failed === undefined,
    reason: failed?.reason ?? null,
    detail: failed ? `chunk ${failed.index}: ${failed.detail ?? failed.reason}` : null,
    claims: null,
    circuit,
    chunks,
    note:
      layout.kind === 'accuracy'
        ? 'each chunk proof was verified; the test set root rebuilt from the leaves, the total and the accuracy threshold are not checked here: zkai model verify does that'
        : 'each chunk proof was verified; recombining the chunk roots into the dataset root, the record counts per chunk and the aggregates are not checked here: zkai data verify does that',
  };
}
