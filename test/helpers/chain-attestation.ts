/**
 * A real anvil with a zkai deployment and attestations on it, for tests that read attestations back: a tiny model's
 * inference circuit registered by the owner, the model registered by an attester, two attestations by that attester
 * (real proofs bound to their contexts), the second one revoked. Close it with `close()`.
 */
import { inferenceStatement } from '../../src/statement/index.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectChain, type ChainConnection } from '../../src/chain/anvil.ts';
import { deployZkai, saveDeployment, type ZkaiDeployment } from '../../src/chain/deployment.ts';
import { randomNonce } from '../../src/chain/registry.ts';
import { createBundle, type DatasetBundle } from '../../src/data/bundle.ts';
import { encodeRecord } from '../../src/data/encode.ts';
import { parseSchema } from '../../src/data/schema.ts';
import { proveInference, type InferenceProof } from '../../src/model/inference.ts';
import { parseNativeModel } from '../../src/model/native.ts';
import { quantizeInput, quantizeModel, type QuantizedModel } from '../../src/model/quantize.ts';
import type { ProverPool } from '../../src/prover/pool.ts';

/** The tiny model as a native model file's content (tests that run the CLI write it out; same name: same circuits). */
export const TINY_MODEL_SPEC = {
  format: 'zkai-model-v1',
  name: 'registry-tiny',
  input: { size: 2, min: -2, max: 2 },
  layers: [
    {
      type: 'dense',
      weights: [
        [1, -0.5],
        [-0.25, 0.75],
      ],
      bias: [0.125, 0],
    },
    { type: 'argmax' },
  ],
};

/** A two-input, two-class model: its inference circuit is one of the cheapest statement circuits (it has a context). */
export function tinyModel(): { quantized: QuantizedModel; input: (values: number[]) => bigint[] } {
  const model = parseNativeModel(TINY_MODEL_SPEC);
  const quantized = quantizeModel(model, 4);
  return { quantized, input: (values) => quantizeInput(quantized, values, model) };
}

/** The tiny model's labelled test set: two features in [-2, 2] and a class; the model predicts 4 of its 5 records right. */
export const TINY_TEST_ROWS = [
  { x0: 1, x1: -1, label: 0 },
  { x0: -2, x1: 2, label: 1 },
  { x0: 2, x1: 1, label: 0 },
  { x0: 0, x1: 2, label: 0 }, // predicted 1: a wrong prediction
  { x0: -1, x1: 0, label: 1 },
];

/** The test set's schema (one schema for every test, so they share one compiled accuracy circuit). */
export const TINY_SCHEMA_SPEC = {
  name: 'tiny-accuracy-test',
  columns: [
    { name: 'x0', type: 'integer', min: -2, max: 2 },
    { name: 'x1', type: 'integer', min: -2, max: 2 },
    { name: 'label', type: 'integer', min: 0, max: 1 },
  ],
};
export const TINY_TEST_SCHEMA = parseSchema(TINY_SCHEMA_SPEC);

/** A committed copy of the tiny test set (fresh salts on every call, so every call has another root). */
export function tinyTestSet(): DatasetBundle {
  return createBundle(
    TINY_TEST_SCHEMA,
    TINY_TEST_ROWS.map((r, i) => encodeRecord(TINY_TEST_SCHEMA, r, i + 2)),
  );
}

/** An inference proof as `zkai model prove` writes it (without the prover's private extras). */
export function publishedInference(result: InferenceProof & { prepared?: unknown; salt?: bigint }): InferenceProof {
  const { prepared: _prepared, salt: _salt, ...published } = result;
  return JSON.parse(JSON.stringify(published)) as InferenceProof;
}

/** The chain, its deployment file, and what was attested. */
export interface AttestedChain {
  chain: ChainConnection;
  deployment: ZkaiDeployment;
  deploymentPath: string;
  attester: string;
  modelVersion: string;
  circuit: string;
  kept: { uid: string; proof: InferenceProof };
  revoked: { uid: string; proof: InferenceProof };
  close(): Promise<void>;
}

/** Start anvil, deploy zkai, register the tiny model's circuit and the model, attest twice and revoke the second. */
export async function attestedChain(pool: ProverPool): Promise<AttestedChain> {
  const chain = await connectChain();
  const dir = await mkdtemp(join(tmpdir(), 'zkai-attested-'));
  try {
    const { deployment, registry } = await deployZkai(chain.signer);
    const deploymentPath = join(dir, 'deployment.json');
    await saveDeployment(deploymentPath, deployment);
    const alice = await chain.provider.getSigner(1);
    const attester = await alice.getAddress();
    const asAlice = registry.connect(alice);
    const { quantized, input } = tinyModel();
    const prove = async (values: number[]) => {
      const nonce = randomNonce();
      const result = await proveInference(quantized, input(values), {
        pool,
        visibility: 'hashed',
        context: await registry.contextFor(nonce, attester),
      });
      return { nonce, result };
    };
    const first = await prove([1, -1]);
    const { circuit } = await registry.registerCircuit({
      zkeyPath: first.result.prepared.keys.zkeyPath,
      statement: inferenceStatement(quantized, { visibility: 'hashed', weights: 'fixed' }),
    });
    const modelVersion = (await asAlice.registerModel('tiny-classifier', first.result.model.hash as string)).version;
    const kept = await asAlice.attest(
      { circuit, subject: modelVersion, nonce: first.nonce },
      first.result.proof,
      first.result.publicSignals,
    );
    const second = await prove([-1, 1]);
    const revoked = await asAlice.attest(
      { circuit, subject: modelVersion, nonce: second.nonce },
      second.result.proof,
      second.result.publicSignals,
    );
    await asAlice.revoke(revoked.uid);
    return {
      chain,
      deployment,
      deploymentPath,
      attester,
      modelVersion,
      circuit,
      kept: { uid: kept.uid, proof: publishedInference(first.result) },
      revoked: { uid: revoked.uid, proof: publishedInference(second.result) },
      async close() {
        await chain.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await chain.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
