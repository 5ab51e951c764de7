import { compileAndSetupGenerated, type PrepareOptions } from '../data/prepare-generated.ts';
import type { CompiledCircuit } from '../circuit/compile.ts';
import type { CircuitKeys } from '../setup/phase2.ts';
import { ProverPool } from '../prover/pool.ts';
import { ZkaiError } from '../errors.ts';
import { randomFieldSalt } from '../util/salt.ts';
import { verifyProof, type VerificationResult } from '../verifier/verify.ts';
import type { Groth16Proof } from '../verifier/types.ts';
import {
  fieldOf,
  generateModelCircuit,
  inferenceInput,
  inferenceSignalNames,
  inputCommitment,
  modelCommitment,
  modelHash,
  type GeneratedModelCircuit,
  type InputVisibility,
  type WeightVisibility,
} from './circuit-gen.ts';
import { runQuantized, type QuantizedModel } from './quantize.ts';
import { CONTEXT_SIGNAL, NO_CONTEXT } from '../circuit/context.ts';

/** A model's inference circuit, generated, compiled and set up (all cached). */
export interface PreparedModelCircuit {
  generated: GeneratedModelCircuit;
  circuit: CompiledCircuit;
  keys: CircuitKeys;
}

/** Generate, compile and set up the inference circuit of a quantized model for an input and a weight visibility. */
export async function prepareModelCircuit(
  model: QuantizedModel,
  visibility: InputVisibility,
  options: PrepareOptions & { weights?: WeightVisibility } = {},
): Promise<PreparedModelCircuit> {
  const generated = await generateModelCircuit(model, visibility, {
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    weights: options.weights ?? 'fixed',
  });
  return { generated, ...(await compileAndSetupGenerated(generated.path, options)) };
}

/** An inference proof as published: what it claims, and the snarkjs proof. */
export interface InferenceProof {
  format: 'zkai-inference-proof-v1';
  /** Fixed weights: the model hash. Hashed weights: the salted model commitment instead. */
  model: { name: string; hash?: string; commitment?: string };
  visibility: InputVisibility;
  weights: WeightVisibility;
  /** The predicted class (public). */
  predicted: number;
  /** The commitment to the input (salted for `hashed` visibility; salt 0 for `public`, so anyone can recompute it; absent for `private`). */
  inputHash?: string;
  /** `public` visibility: the fixed-point input values. */
  input?: string[];
  circuitId: string;
  proof: Groth16Proof;
  publicSignals: string[];
}

/**
 * Prove that the model predicts its class on this input (fixed-point integers, see quantizeInput). The integer
 * reference runs first; the proof must agree with it, or an internal error is raised (never a published proof).
 * With `hashed` visibility a fresh salt is drawn unless given; keep it to open the input commitment later.
 */
export async function proveInference(
  model: QuantizedModel,
  input: readonly bigint[],
  options: PrepareOptions & {
    visibility?: InputVisibility;
    salt?: bigint;
    weights?: WeightVisibility;
    modelSalt?: bigint;
    pool?: ProverPool;
    context?: bigint;
  } = {},
): Promise<InferenceProof & { prepared: PreparedModelCircuit; salt?: bigint }> {
  const visibility = options.visibility ?? 'hashed';
  const weights = options.weights ?? 'fixed';
  if (weights === 'hashed' && options.modelSalt === undefined)
    throw new ZkaiError(
      'BAD_OPTION',
      'private (hashed) weights are proven against a published model commitment: give the modelSalt it was made with (see modelCommitment)',
    );
  const reference = runQuantized(model, input);
  const prepared = await prepareModelCircuit(model, visibility, { ...options, weights });
  const salt = visibility === 'hashed' ? (options.salt ?? randomFieldSalt()) : 0n;
  const pool = options.pool ?? new ProverPool({ workers: 1 });
  try {
    const circuitInput = {
      ...inferenceInput(
        model,
        input,
        visibility,
        salt,
        weights === 'hashed' ? { visibility: 'hashed', salt: options.modelSalt as bigint } : { visibility: 'fixed' },
      ),
      context: options.context ?? NO_CONTEXT,
    };
    const result = await pool.prove(
      { wasmPath: prepared.circuit.wasmPath, zkeyPath: prepared.keys.zkeyPath },
      circuitInput,
    );
    const names = inferenceSignalNames(model, visibility, weights);
    const predicted = Number(result.publicSignals[names.indexOf('class')]);
    if (predicted !== reference.predicted)
      throw new ZkaiError(
        'INTERNAL',
        `the circuit predicted class ${predicted}, the integer reference ${reference.predicted}`,
      );
    return {
      format: 'zkai-inference-proof-v1',
      model:
        weights === 'hashed'
          ? { name: model.name, commitment: modelCommitment(model, options.modelSalt as bigint) }
          : { name: model.name, hash: modelHash(model) },
      visibility,
      weights,
      predicted,
      ...(visibility === 'private' ? {} : { inputHash: inputCommitment(input, salt) }),
      ...(visibility === 'hashed' ? { salt } : visibility === 'public' ? { input: input.map(String) } : {}),
      circuitId: prepared.circuit.id,
      proof: result.proof,
      publicSignals: result.publicSignals,
      prepared,
    };
  } finally {
    if (!options.pool) await pool.close();
  }
}

/**
 * Verify an inference proof against what the verifier trusts: the verification key of the model's circuit, the model
 * hash, and the claimed class; with `hashed` visibility the input commitment, with `public` the input itself.
 */
export async function verifyInference(
  vkey: unknown,
  proof: unknown,
  publicSignals: unknown,
  expected: {
    /** Fixed weights: the model (its hash is recomputed) or its hash. Hashed weights: its input size, with `modelCommitment`. */
    model: QuantizedModel | { inputSize: number; hash?: string };
    weights?: WeightVisibility;
    /** Hashed weights: the published model commitment the verifier trusts. */
    modelCommitment?: string;
    visibility: InputVisibility;
    predicted: number;
    inputHash?: string;
    input?: readonly bigint[];
    /** The context the proof must be bound to (see src/circuit/context.ts); any when absent. */
    context?: bigint;
  },
): Promise<VerificationResult> {
  const weights = expected.weights ?? 'fixed';
  const names = inferenceSignalNames({ inputSize: expected.model.inputSize }, expected.visibility, weights);
  const expect: Record<string, string | number | bigint> = { class: expected.predicted };
  if (expected.context !== undefined) expect[CONTEXT_SIGNAL] = expected.context;
  if (weights === 'hashed') {
    if (expected.modelCommitment === undefined)
      throw new ZkaiError(
        'BAD_OPTION',
        'a private-weights proof is verified against the model commitment the verifier trusts',
      );
    expect.modelCommitment = expected.modelCommitment;
  } else {
    const hash = 'layers' in expected.model ? modelHash(expected.model) : expected.model.hash;
    if (hash === undefined)
      throw new ZkaiError(
        'BAD_OPTION',
        'a fixed-weights proof is verified against the model (or its hash) the verifier trusts',
      );
    expect.modelHash = hash;
  }
  if (expected.visibility === 'private') {
    // nothing about the input is public
  } else if (expected.visibility === 'hashed') {
    if (expected.inputHash === undefined)
      throw new ZkaiError(
        'BAD_OPTION',
        'a hashed-input proof is verified against the input commitment (inputHash) the verifier expects',
      );
    expect.inputHash = expected.inputHash;
  } else {
    if (!expected.input)
      throw new ZkaiError('BAD_OPTION', 'a public-input proof is verified against the input the verifier expects');
    if (expected.input.length !== expected.model.inputSize)
      throw new ZkaiError(
        'BAD_OPTION',
        `the expected input has ${expected.input.length} values; the model takes ${expected.model.inputSize}`,
      );
    expect.inputHash = inputCommitment(expected.input, 0n);
    expected.input.forEach((value, j) => {
      expect[`input${j}`] = fieldOf(value);
    });
  }
  return verifyProof(vkey, proof, publicSignals, { expect, signalNames: names });
}
