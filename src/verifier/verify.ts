import * as snarkjs from 'snarkjs';
import { MalformedProofError } from '../errors.ts';
import { BN254_BASE_FIELD, BN254_SCALAR_FIELD, type Groth16Proof, type VerificationKey } from './types.ts';

/** Why a proof was rejected. */
export type RejectionReason = 'malformed' | 'wrong-signal-count' | 'claim-mismatch' | 'invalid-proof';

/** The result of {@link verifyProof}: never an exception for a bad proof, always a reason. */
export interface VerificationResult {
  valid: boolean;
  reason?: RejectionReason;
  /** Human-readable detail of the rejection. */
  detail?: string;
  /** For a claim mismatch: which public signals differ from what the caller expected. */
  mismatches?: Array<{ index: number; name?: string; expected: string; actual: string }>;
}

/** Expected public signals: by position, or by name through `signalNames`. Values are decimal strings or bigints. */
export type ExpectedClaims = Record<number | string, string | bigint | number>;

/**
 * The pairing check itself. Default: snarkjs's `groth16.verify` in this thread; the verification service passes one
 * that runs in a worker pool, so the checks before it stay here and the pairing leaves the event loop.
 */
export type PairingCheck = (vkey: VerificationKey, publicSignals: string[], proof: Groth16Proof) => Promise<boolean>;

const snarkjsPairing: PairingCheck = (vkey, publicSignals, proof) => snarkjs.groth16.verify(vkey, publicSignals, proof);

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function fieldElement(value: unknown, bound: bigint, what: string): bigint {
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw new MalformedProofError(`${what} must be a decimal string, got ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  const parsed = BigInt(value);
  if (parsed >= bound) throw new MalformedProofError(`${what} = ${value} is not below the field modulus ${bound}`);
  return parsed;
}

function point(value: unknown, length: number, what: string, shape: 'G1' | 'G2'): void {
  if (!Array.isArray(value) || value.length !== length) {
    throw new MalformedProofError(
      `${what} must be an array of ${length} ${shape === 'G1' ? 'coordinates' : 'coordinate pairs'}`,
    );
  }
  value.forEach((entry: unknown, index) => {
    if (shape === 'G2') {
      if (!Array.isArray(entry) || entry.length !== 2)
        throw new MalformedProofError(`${what}[${index}] must be a pair of decimal strings`);
      entry.forEach((coordinate: unknown, inner) =>
        fieldElement(coordinate, BN254_BASE_FIELD, `${what}[${index}][${inner}]`),
      );
    } else {
      fieldElement(entry, BN254_BASE_FIELD, `${what}[${index}]`);
    }
  });
}

/**
 * Check that a value has the shape of a snarkjs Groth16 proof with every coordinate a field element.
 * Throws {@link MalformedProofError} naming the first bad field.
 */
export function assertProofShape(proof: unknown): asserts proof is Groth16Proof {
  if (typeof proof !== 'object' || proof === null)
    throw new MalformedProofError('proof must be a JSON object with pi_a, pi_b, pi_c');
  const candidate = proof as Record<string, unknown>;
  if (candidate.protocol !== undefined && candidate.protocol !== 'groth16') {
    throw new MalformedProofError(`proof.protocol is "${String(candidate.protocol)}", expected "groth16"`);
  }
  if (candidate.curve !== undefined && candidate.curve !== 'bn128') {
    throw new MalformedProofError(`proof.curve is "${String(candidate.curve)}", expected "bn128"`);
  }
  point(candidate.pi_a, 3, 'proof.pi_a', 'G1');
  point(candidate.pi_b, 3, 'proof.pi_b', 'G2');
  point(candidate.pi_c, 3, 'proof.pi_c', 'G1');
}

/** Check public signals: an array of decimal strings, each below the BN254 scalar field modulus. */
export function assertPublicSignals(publicSignals: unknown): asserts publicSignals is string[] {
  if (!Array.isArray(publicSignals))
    throw new MalformedProofError('public signals must be an array of decimal strings');
  publicSignals.forEach((signal: unknown, index) =>
    fieldElement(signal, BN254_SCALAR_FIELD, `publicSignals[${index}]`),
  );
}

/** Check the parts of a verification key that verification relies on. */
export function assertVerificationKey(vkey: unknown): asserts vkey is VerificationKey {
  if (typeof vkey !== 'object' || vkey === null)
    throw new MalformedProofError('verification key must be a JSON object');
  const candidate = vkey as Record<string, unknown>;
  if (candidate.protocol !== 'groth16')
    throw new MalformedProofError(`verification key protocol is "${String(candidate.protocol)}", expected "groth16"`);
  if (candidate.curve !== 'bn128')
    throw new MalformedProofError(`verification key curve is "${String(candidate.curve)}", expected "bn128"`);
  if (
    !Number.isInteger(candidate.nPublic) ||
    !Array.isArray(candidate.IC) ||
    candidate.IC.length !== (candidate.nPublic as number) + 1
  ) {
    throw new MalformedProofError('verification key is inconsistent: IC must have nPublic + 1 points');
  }
}

/**
 * Verify a Groth16 proof off-chain, and optionally that its public signals are the ones the caller expects
 * (a dataset commitment, a policy hash...). Malformed input, a wrong number of public signals, a claim mismatch
 * and an invalid proof all give `{ valid: false, reason, detail }` rather than an exception.
 *
 * Uses snarkjs's cached multithreaded curve in this thread (unless `pairing` is given): call `releaseCurves()` before
 * the process should exit.
 */
export async function verifyProof(
  vkey: unknown,
  proof: unknown,
  publicSignals: unknown,
  options: { expect?: ExpectedClaims; signalNames?: readonly string[]; pairing?: PairingCheck } = {},
): Promise<VerificationResult> {
  try {
    assertVerificationKey(vkey);
    assertProofShape(proof);
    assertPublicSignals(publicSignals);
  } catch (error) {
    if (error instanceof MalformedProofError) return { valid: false, reason: 'malformed', detail: error.message };
    throw error;
  }
  if (publicSignals.length !== vkey.nPublic) {
    return {
      valid: false,
      reason: 'wrong-signal-count',
      detail: `the circuit has ${vkey.nPublic} public signals, the proof came with ${publicSignals.length}`,
    };
  }
  if (options.signalNames && options.signalNames.length !== vkey.nPublic) {
    // A layout that does not name every public signal would leave some unchecked (another circuit's proof, or a
    // registry root nobody compared): refuse it.
    return {
      valid: false,
      reason: 'wrong-signal-count',
      detail: `the circuit has ${vkey.nPublic} public signals, but the expected layout names ${options.signalNames.length} (${options.signalNames.join(', ')}): this is not a proof of the expected kind`,
    };
  }
  if (options.expect) {
    const mismatches: NonNullable<VerificationResult['mismatches']> = [];
    for (const [key, expectedValue] of Object.entries(options.expect)) {
      const index = /^\d+$/.test(key) ? Number(key) : (options.signalNames?.indexOf(key) ?? -1);
      if (index < 0 || index >= publicSignals.length) {
        return { valid: false, reason: 'claim-mismatch', detail: `expected claim "${key}" names no public signal` };
      }
      const expected = BigInt(expectedValue).toString();
      const actual = publicSignals[index] as string;
      if (expected !== actual)
        mismatches.push({
          index,
          ...(options.signalNames?.[index] ? { name: options.signalNames[index] } : {}),
          expected,
          actual,
        });
    }
    if (mismatches.length > 0) {
      const list = mismatches
        .map((m) => `${m.name ?? `signal ${m.index}`}: expected ${m.expected}, proof says ${m.actual}`)
        .join('; ');
      return { valid: false, reason: 'claim-mismatch', detail: list, mismatches };
    }
  }
  const ok = await (options.pairing ?? snarkjsPairing)(vkey, publicSignals, proof);
  return ok
    ? { valid: true }
    : {
        valid: false,
        reason: 'invalid-proof',
        detail: 'the pairing check failed: the proof does not prove these public signals',
      };
}
