/**
 * Reading a `POST /v1/verify` body: a bare snarkjs proof and its public signals (or chunks), or a proof file as the CLI
 * writes it, parsed by the statement module's one proof-file reader. What a file states about its signals is kept as
 * claims to check; which signal is which is never read from the body (see verification.ts).
 */
import { InputFileError, ServiceError, type FieldProblem } from '../errors.ts';
import {
  fileStatementShape,
  parseProofFile,
  proofParts,
  statedClaims,
  type ProofFile,
  type ProofFileFormat,
} from '../statement/index.ts';
import type { ServiceCircuitKind } from './signals.ts';

/** A verify request body, as the schema lets it through. */
export interface VerifyBody {
  format?: ProofFileFormat;
  proof?: unknown;
  publicSignals?: string[];
  chunks?: Array<{ index?: number; proof: unknown; publicSignals: string[] }>;
  circuit?: string;
  verificationKey?: unknown;
  /** The kind the caller believes the circuit is: checked against the service's, never used. */
  kind?: ServiceCircuitKind;
  /** The names the caller (or a chunked proof file) gives the signals: checked against the service's, never used. */
  signalNames?: string[];
  expect?: Record<string, string>;
  circuitId?: string;
  [field: string]: unknown;
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
  /** The zkai proof file the body is, when it names a format. */
  file?: ProofFile;
  /** Which statement the file says it proves (a sentence and its kind), to compare with the service's. */
  shape?: ReturnType<typeof fileStatementShape>;
  /** What the file states about its signals, by signal name; every chunk of a chunked file shares these. */
  declared: Record<string, string>;
  /** The compiled circuit id the file names (used to find its key, never its layout). */
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
  return new ServiceError(400, 'BAD_REQUEST', `the request is not valid: ${list}`, {
    fields,
    ...(hint ? { hint } : {}),
  });
}

const CHUNKED_FORMATS: readonly ProofFileFormat[] = [
  'zkai-chunked-dataset-proof-v1',
  'zkai-chunked-dataset-proof-v2',
  'zkai-accuracy-proof-v2',
];

/** Interpret a validated body; throws a 400 {@link ServiceError} naming what is missing or inconsistent. */
export function interpretBody(body: VerifyBody): InterpretedBody {
  const hasSingle = body.proof !== undefined || body.publicSignals !== undefined;
  if (hasSingle && body.chunks !== undefined)
    throw missing(
      '/chunks',
      'must not come with proof and publicSignals: give one proof, or the chunks of a chunked proof',
    );
  if (body.format !== undefined) {
    const chunkedFormat = CHUNKED_FORMATS.includes(body.format);
    if (chunkedFormat !== (body.chunks !== undefined)) {
      throw missing(
        chunkedFormat ? '/chunks' : '/proof',
        chunkedFormat
          ? `is required by format ${body.format}`
          : `is required by format ${body.format} (it has no chunks)`,
      );
    }
    let file: ProofFile;
    try {
      file = parseProofFile(body, 'body');
    } catch (error) {
      if (!(error instanceof InputFileError)) throw error;
      const [, field = '', message = error.message] = /^body: ([^:]+): (.*)$/s.exec(error.message) ?? [];
      throw missing(`/${field.replace(/\./g, '/').replace(/\[(\d+)\]/g, '/$1')}`, `${message} (format ${body.format})`);
    }
    return {
      file,
      shape: fileStatementShape(file),
      declared: statedClaims(file),
      ...(file.circuitId ? { compiledId: file.circuitId } : {}),
      jobs: proofParts(file),
      chunked: body.chunks !== undefined,
    };
  }
  let jobs: ProofJob[];
  if (body.chunks !== undefined) {
    jobs = body.chunks.map((chunk, j) => ({
      index: chunk.index ?? j,
      proof: chunk.proof,
      publicSignals: chunk.publicSignals,
    }));
  } else {
    if (body.proof === undefined)
      throw missing('/proof', 'is required (a snarkjs Groth16 proof), or chunks for a chunked proof');
    if (body.publicSignals === undefined) throw missing('/publicSignals', "is required (the proof's public signals)");
    jobs = [{ index: 0, proof: body.proof, publicSignals: body.publicSignals }];
  }
  return {
    declared: {},
    ...(body.circuitId ? { compiledId: body.circuitId } : {}),
    jobs,
    chunked: body.chunks !== undefined,
  };
}
