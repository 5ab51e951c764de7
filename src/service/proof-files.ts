/**
 * Reading a `POST /v1/verify` body: a bare snarkjs proof and its public signals, or a proof file as the CLI writes it
 * (dataset, chunked dataset, inclusion, inference, accuracy). For a proof file this finds the signal layout its format
 * implies (the generators' own names) and what the file states about its signals, which must be what they prove.
 */
import { CONTEXT_SIGNAL } from '../circuit/context.ts';
import { DATASET_SIGNAL_NAMES, registrySignalName } from '../data/circuit-gen.ts';
import { INCLUSION_SIGNAL_NAMES } from '../data/inclusion.ts';
import { ServiceError, type FieldProblem } from '../errors.ts';
import { accuracySignalNames } from '../model/accuracy.ts';
import { inferenceSignalNames } from '../model/circuit-gen.ts';
import type { ProofFileFormat } from './schemas.ts';
import type { ServiceCircuitKind } from './signals.ts';

/** A verify request body, as the schema lets it through. */
export interface VerifyBody {
  format?: ProofFileFormat;
  proof?: unknown;
  publicSignals?: string[];
  chunks?: Array<{ index?: number; proof: unknown; publicSignals: string[] }>;
  circuit?: string;
  verificationKey?: unknown;
  kind?: ServiceCircuitKind;
  signalNames?: string[];
  expect?: Record<string, string>;
  circuitId?: string;
  commitment?: { root?: string; count?: number; schemaHash?: string };
  testSet?: { root?: string; count?: number; schemaHash?: string };
  policy?: { hash?: string };
  registries?: Array<{ name: string; root: string }>;
  model?: { name?: string; hash?: string; commitment?: string };
  visibility?: 'hashed' | 'public' | 'private';
  weights?: 'fixed' | 'hashed';
  predicted?: number;
  inputHash?: string;
  input?: string[];
  root?: string;
  subjectHash?: string;
  schemaHash?: string;
  chunkDepth?: number;
  subtreesPerChunk?: number;
  samplesPerChunk?: number;
  task?: { taskHash?: string };
}

/** One proof to check. */
export interface ProofJob {
  /** Chunk index for chunked files. */
  index: number;
  proof: unknown;
  publicSignals: string[];
}

/** What a body asks to verify. */
export interface InterpretedBody {
  format?: ProofFileFormat;
  kind?: ServiceCircuitKind;
  /** The layout the format implies (or the body's own `signalNames`). */
  signalNames?: string[];
  /** What the file states about its signals, by signal name; every chunk of a chunked file shares these. */
  declared: Record<string, string>;
  /** The compiled circuit id the file names. */
  compiledId?: string;
  jobs: ProofJob[];
  chunked: boolean;
}

function missing(path: string, message: string): ServiceError {
  return badRequest([{ path, message }]);
}

/** A 400 naming the fields at fault. */
export function badRequest(fields: FieldProblem[], hint?: string): ServiceError {
  const list = fields.map((f) => `${f.path || '(body)'} ${f.message}`).join('; ');
  return new ServiceError(400, 'BAD_REQUEST', `the request is not valid: ${list}`, { fields, ...(hint ? { hint } : {}) });
}

/** Interpret a validated body; throws a 400 {@link ServiceError} naming what is missing or inconsistent. */
export function interpretBody(body: VerifyBody): InterpretedBody {
  const hasSingle = body.proof !== undefined || body.publicSignals !== undefined;
  if (hasSingle && body.chunks !== undefined) throw missing('/chunks', 'must not come with proof and publicSignals: give one proof, or the chunks of a chunked proof');
  let jobs: ProofJob[];
  if (body.chunks !== undefined) {
    jobs = body.chunks.map((chunk, j) => ({ index: chunk.index ?? j, proof: chunk.proof, publicSignals: chunk.publicSignals }));
  } else {
    if (body.proof === undefined) throw missing('/proof', 'is required (a snarkjs Groth16 proof), or chunks for a chunked proof');
    if (body.publicSignals === undefined) throw missing('/publicSignals', 'is required (the proof\'s public signals)');
    jobs = [{ index: 0, proof: body.proof, publicSignals: body.publicSignals }];
  }
  const chunkedFormat = body.format === 'zkai-chunked-dataset-proof-v1' || body.format === 'zkai-accuracy-proof-v1';
  if (body.format !== undefined && chunkedFormat !== (body.chunks !== undefined)) {
    throw missing(chunkedFormat ? '/chunks' : '/proof', chunkedFormat ? `is required by format ${body.format}` : `is required by format ${body.format} (it has no chunks)`);
  }
  const layout = body.format ? fileLayout(body) : { declared: {} };
  const signalNames = body.signalNames ?? layout.signalNames;
  return {
    ...(body.format ? { format: body.format } : {}),
    ...(layout.kind ? { kind: layout.kind } : {}),
    ...(signalNames ? { signalNames } : {}),
    declared: layout.declared,
    ...(body.circuitId ? { compiledId: body.circuitId } : {}),
    jobs,
    chunked: body.chunks !== undefined,
  };
}

function need<T>(value: T | undefined, path: string, what: string): T {
  if (value === undefined) throw missing(path, `is required by this proof file format (${what})`);
  return value;
}

/** The kind, layout and declared claims of a zkai proof file. */
function fileLayout(body: VerifyBody): { kind?: ServiceCircuitKind; signalNames?: string[]; declared: Record<string, string> } {
  const declared: Record<string, string> = {};
  const put = (name: string, value: string | number | undefined) => {
    if (value !== undefined) declared[name] = String(value);
  };
  switch (body.format) {
    case 'zkai-dataset-proof-v1': {
      const commitment = need(body.commitment, '/commitment', 'the dataset commitment');
      const registries = body.registries ?? [];
      put('root', commitment.root);
      put('count', commitment.count);
      put('schemaHash', commitment.schemaHash);
      put('policyHash', body.policy?.hash);
      for (const r of registries) put(registrySignalName(r.name), r.root);
      return { kind: 'dataset-policy', signalNames: [...DATASET_SIGNAL_NAMES, ...registries.map((r) => registrySignalName(r.name)), CONTEXT_SIGNAL], declared };
    }
    case 'zkai-chunked-dataset-proof-v1': {
      const names = need(body.signalNames, '/signalNames', 'the names of each chunk\'s public signals');
      put('schemaHash', body.commitment?.schemaHash);
      put('policyHash', body.policy?.hash);
      put('chunkDepth', body.chunkDepth);
      put('chunkSubtrees', body.chunkDepth === undefined ? undefined : (body.subtreesPerChunk ?? 1));
      for (const r of body.registries ?? []) put(registrySignalName(r.name), r.root);
      return { kind: 'dataset-chunk', signalNames: names, declared };
    }
    case 'zkai-inclusion-proof-v1':
      put('root', body.root);
      put('subjectHash', body.subjectHash);
      put('schemaHash', body.schemaHash);
      return { kind: 'inclusion', signalNames: [...INCLUSION_SIGNAL_NAMES], declared };
    case 'zkai-inference-proof-v1': {
      const visibility = body.visibility ?? 'hashed';
      const weights = body.weights ?? 'fixed';
      if (visibility === 'public' && body.input === undefined) throw missing('/input', 'is required for a public-input inference proof');
      const names = inferenceSignalNames({ inputSize: body.input?.length ?? 0 }, visibility, weights);
      put(weights === 'hashed' ? 'modelCommitment' : 'modelHash', weights === 'hashed' ? body.model?.commitment : body.model?.hash);
      put('class', body.predicted);
      if (visibility !== 'private') put('inputHash', body.inputHash);
      if (visibility === 'public') body.input?.forEach((value, j) => put(`input${j}`, value));
      return { kind: 'inference', signalNames: names, declared };
    }
    case 'zkai-accuracy-proof-v1': {
      const weights = body.weights ?? 'fixed';
      const samples = need(body.samplesPerChunk, '/samplesPerChunk', 'records per chunk proof');
      put(weights === 'hashed' ? 'modelCommitment' : 'modelHash', weights === 'hashed' ? body.model?.commitment : body.model?.hash);
      put('taskHash', body.task?.taskHash);
      return { kind: 'accuracy', signalNames: accuracySignalNames(samples, weights), declared };
    }
    default:
      return { declared };
  }
}
