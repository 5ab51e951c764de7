/**
 * Typed errors. Every error zkai throws on purpose is a {@link ZkaiError} with a stable `code`, so callers (and the
 * CLI) can react to the kind of failure without parsing messages. Messages say what was wrong and what to do.
 */

/** The codes of zkai's errors, stable across releases: what callers and `--json` output switch on. */
export const ERROR_CODES = [
  'BAD_DATA',
  'BAD_INPUT',
  'BAD_INPUT_FILE',
  'BAD_MODEL',
  'BAD_ONNX_MODEL',
  'BAD_OPTION',
  'BAD_POLICY',
  'BAD_REGISTRY',
  'BAD_REQUEST',
  'BAD_SCHEMA',
  'BAD_SUBJECT',
  'BUNDLE_EXISTS',
  'BUNDLE_MISMATCH',
  'CHAIN_FAILED',
  'CHAIN_MISMATCH',
  'CHAIN_NOT_CONFIGURED',
  'CHAIN_UNAVAILABLE',
  'CIRCUIT_REFUSED',
  'COMPILE_FAILED',
  'INTERNAL',
  'IN_REGISTRY',
  'JOB_CANCELLED',
  'JOB_TIMEOUT',
  'KEY_MISMATCH',
  'KEY_NOT_FOUND',
  'KEY_NOT_TRUSTED',
  'LISTEN_FAILED',
  'MALFORMED_PROOF',
  'NATIVE_UNAVAILABLE',
  'NOT_IN_REGISTRY',
  'NO_SUBJECT_ID',
  'OUTPUT_EXISTS',
  'POLICY_TOO_WIDE',
  'POLICY_VIOLATED',
  'POOL_CLOSED',
  'PROVE_FAILED',
  'QUEUE_FULL',
  'SETUP_FAILED',
  'SOUNDNESS_SETUP',
  'SUBJECT_AMBIGUOUS',
  'SUBJECT_NOT_FOUND',
  'SUBJECT_NULLABLE',
  'TRUST_STORE_CORRUPT',
  'UNKNOWN_CIRCUIT',
  'UNSOUND_CIRCUIT',
  'UNTRUSTED_KEY',
  'VERIFIER_BUSY',
  'VERIFIER_CLOSED',
  'VERIFY_DEADLINE',
  'VERIFY_FAILED',
  'VERIFY_TIMEOUT',
  'WITNESS_FAILED',
  'ZKEY_MISMATCH',
] as const;

/** Every `code` a {@link ZkaiError} can have: one union, so a misspelt code does not compile. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Base class of every error zkai throws on purpose. */
export class ZkaiError extends Error {
  /** A stable, machine-readable code such as `COMPILE_FAILED`. */
  readonly code: ErrorCode;
  /** What the user can do about it, when there is something to say. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** A compiler (circom, or solc for contracts) rejected the source or wrote no output. `message` carries its own text. */
export class CompileError extends ZkaiError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super('COMPILE_FAILED', message, options);
  }
}

/** A file that should exist, or be of some format, is not. */
export class InputFileError extends ZkaiError {
  readonly path: string;
  constructor(path: string, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super('BAD_INPUT_FILE', `${path}: ${message}`, options);
    this.path = path;
  }
}

/** Trusted-setup problems: a ptau too small, a hash mismatch, a zkey that does not verify. */
export class SetupError extends ZkaiError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super('SETUP_FAILED', message, options);
  }
}

/** The circuit input does not fit the circuit (missing signal, wrong length, failed constraint). */
export class WitnessError extends ZkaiError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super('WITNESS_FAILED', message, options);
  }
}

/** A proving job failed inside a worker. */
export class ProveError extends ZkaiError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super('PROVE_FAILED', message, options);
  }
}

/** The prover pool queue is full: the job was not accepted. */
export class QueueFullError extends ZkaiError {
  constructor(limit: number) {
    super('QUEUE_FULL', `the prover queue is full (${limit} jobs waiting); retry later or raise maxQueue`);
  }
}

/** A proving job ran longer than its timeout and was stopped. */
export class JobTimeoutError extends ZkaiError {
  constructor(timeoutMs: number) {
    super('JOB_TIMEOUT', `the proving job did not finish within ${timeoutMs} ms and was stopped`);
  }
}

/** A proving job was cancelled through its AbortSignal. */
export class JobCancelledError extends ZkaiError {
  constructor(reason?: unknown) {
    super('JOB_CANCELLED', `the proving job was cancelled${reason instanceof Error ? `: ${reason.message}` : ''}`);
  }
}

/** The pool was closed; it accepts no more jobs. */
export class PoolClosedError extends ZkaiError {
  constructor() {
    super('POOL_CLOSED', 'the prover pool is closed');
  }
}

/** A proof, a verification key or public signals are malformed (not merely invalid). */
export class MalformedProofError extends ZkaiError {
  constructor(message: string) {
    super('MALFORMED_PROOF', message);
  }
}

/** Talking to an EVM node failed, or a contract call reverted. */
export class ChainError extends ZkaiError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super('CHAIN_FAILED', message, options);
  }
}

/** A field of a request body or query that an HTTP service refused, as a JSON pointer and what is wrong with it. */
export interface FieldProblem {
  /** JSON pointer into the part of the request named by `in`. */
  path: string;
  message: string;
  /** `body` (the default), `querystring` or `params`. */
  in?: string;
}

/**
 * A refusal of the verification service (src/service): the HTTP status it answers with, a stable code, and the fields
 * at fault when the request was wrong (404 unknown circuit, 400 bad field, 503 no chain configured or verifier busy).
 */
export class ServiceError extends ZkaiError {
  readonly statusCode: number;
  readonly fields: FieldProblem[];
  constructor(
    statusCode: number,
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; hint?: string; fields?: FieldProblem[] } = {},
  ) {
    super(code, message, options);
    this.statusCode = statusCode;
    this.fields = options.fields ?? [];
  }
}

/** Wrap anything thrown into a readable one-line message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
