/**
 * On-chain benchmark, on an embedded anvil: gas of zkai's verifier against the EIP-1108 floor and against snarkjs's
 * template, for 1, 4 and 16 public inputs; gas of every registry operation (register, attest, chunked attestation,
 * revoke, consent grant and revoke), beside Semaphore's `validateProof` (verify + nullifier write + event), the nearest
 * public anchor for "verify and record". Gas comes from transaction receipts (21,000 base and calldata included).
 *
 * Called by bench/main.ts (`runChainBench`); returns the `chain` section of the results file. A new row is one more
 * `operations.push(...)`: the report and `--compare` pick it up by its `operation` text.
 */
import {
  accuracyStatement,
  datasetChunkStatement,
  datasetStatement,
  inferenceStatement,
} from '../src/statement/index.ts';
import * as snarkjs from 'snarkjs';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { compileCircuit } from '../src/circuit/compile.ts';
import { setupCircuit } from '../src/setup/phase2.ts';
import { connectChain } from '../src/chain/anvil.ts';
import { ConsentRegistryClient, purposeId, signGrant } from '../src/chain/consent.ts';
import { deployZkai } from '../src/chain/deployment.ts';
import { randomNonce } from '../src/chain/registry.ts';
import { writeGeneratedSource } from '../src/circuit/generated-source.ts';
import { deployVerifier, toVerifierCallArgs, toZkaiVerifierArgs } from '../src/chain/solidity-verifier.ts';
import { createBundle } from '../src/data/bundle.ts';
import { proveDatasetInChunks } from '../src/data/chunked.ts';
import { consentRegistry } from '../src/data/consent-tree.ts';
import { proveDataset } from '../src/data/dataset-proof.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { parsePolicy } from '../src/policy/policy.ts';
import { parseSchema } from '../src/data/schema.ts';
import { proveAccuracy } from '../src/model/accuracy.ts';
import { proveInference } from '../src/model/inference.ts';
import { parseNativeModel } from '../src/model/native.ts';
import { quantizeInput, quantizeModel } from '../src/model/quantize.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { releaseCurves } from '../src/util/curves.ts';
import type { Groth16Proof } from '../src/verifier/types.ts';
import { Wallet, type ContractTransactionResponse, type Contract } from 'ethers';
import { privateChunksGas, type PrivateChunksProfile } from './chain-private-chunks.ts';
import { progress } from './common.ts';
import type { ChainSection, OperationGasRow, VerifierGasRow } from './results.ts';

/** Semaphore's validateProof, measured by its maintainers (cited, not measured here). */
export const SEMAPHORE = { low: 285_577, high: 290_087 };

/** EIP-2028 calldata gas: 4 per zero byte, 16 per other byte. */
export function calldataGas(data: string): number {
  let gas = 0;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === '00' ? 4 : 16;
  return gas;
}

/** The EIP-1108 floor of a Groth16 verification transaction with this calldata. */
export function floorOf(publicInputs: number, data: string): number {
  return 181_000 + 6_150 * publicInputs + 21_000 + calldataGas(data);
}

/** A circuit with exactly n public inputs (each bound by one constraint). */
async function circuitWithInputs(n: number, cacheDir: string): Promise<string> {
  const source = `pragma circom 2.1.0;\n// zkai bench: ${n} public inputs\ntemplate PublicInputs(n) {\n    signal input pub[n];\n    signal input w;\n    signal product[n];\n    for (var i = 0; i < n; i++) { product[i] <== pub[i] * w; }\n}\ncomponent main {public [pub]} = PublicInputs(${n});\n`;
  return writeGeneratedSource(`bench_public_${n}`, source, { cacheDir });
}

type VerifierRow = VerifierGasRow;
type OperationRow = OperationGasRow;

export interface ChainProfile {
  /** Public-input counts of the verifier gas table. */
  verifierInputs: number[];
  /** The private chunked dataset attested (bench/chain-private-chunks.ts). */
  privateChunks: PrivateChunksProfile;
}

export function estimateChain(profile: ChainProfile): number {
  const privateChunks = 60 + profile.privateChunks.rows * 0.5;
  return 90 + profile.verifierInputs.length * 10 + Math.round(privateChunks);
}

async function sendAndMeasure(
  contract: Contract,
  args: unknown[],
): Promise<{ gas: number; data: string; estimate: number }> {
  const fn = contract.getFunction('verifyProof');
  const estimate = Number(await fn.estimateGas(...args));
  const tx = (await fn.send(...args, { gasLimit: 1_000_000n })) as ContractTransactionResponse;
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error('verification transaction failed');
  return { gas: Number(receipt.gasUsed), data: tx.data, estimate };
}

export async function runChainBench(profile: ChainProfile, options: { cacheDir?: string } = {}): Promise<ChainSection> {
  const cacheDir = resolveCacheDir(options.cacheDir);
  const cache = { cacheDir };
  const chain = await connectChain();
  const pool = new ProverPool();
  const verifierRows: VerifierRow[] = [];
  const operations: OperationRow[] = [];
  try {
    // 1. Verifiers: 1, 4 and 16 public inputs, both templates.
    for (const n of profile.verifierInputs) {
      progress(`chain: verifier gas with ${n} public input(s)`);
      const circuit = await compileCircuit(await circuitWithInputs(n, cacheDir), cache);
      const keys = await setupCircuit(circuit, cache);
      const input = { pub: Array.from({ length: n }, (_, i) => String(1000 + i)), w: '7' };
      const { proof, publicSignals } = (await snarkjs.groth16.fullProve(input, circuit.wasmPath, keys.zkeyPath)) as {
        proof: Groth16Proof;
        publicSignals: string[];
      };
      const ours = await deployVerifier(chain.signer, keys.zkeyPath);
      const theirs = await deployVerifier(chain.signer, keys.zkeyPath, { template: 'snarkjs' });
      const a = await sendAndMeasure(ours.contract, toZkaiVerifierArgs(proof, publicSignals));
      const b = await sendAndMeasure(theirs.contract, [...toVerifierCallArgs(proof, publicSignals)]);
      verifierRows.push({
        publicInputs: n,
        zkaiGas: a.gas,
        zkaiFloor: floorOf(n, a.data),
        snarkjsGas: b.gas,
        snarkjsFloor: floorOf(n, b.data),
        estimateZkai: a.estimate,
        estimateSnarkjs: b.estimate,
      });
      if (n === profile.verifierInputs[0])
        operations.push({
          operation: `deploy a zkai verifier (${n} public input${n === 1 ? '' : 's'})`,
          gas: Number(ours.deployGas),
          note: `snarkjs template: ${theirs.deployGas}`,
        });
    }
    await releaseCurves();

    progress('chain: deploying the registries and measuring every operation');
    // 2. The registry: a tiny dataset with a consent requirement, its chunks, and a tiny model.
    const { deployment, registry, consent } = await deployZkai(chain.signer);
    operations.push({
      operation: 'deploy Poseidon(2) (circomlibjs bytecode)',
      gas: Number(deployment.gas.poseidon),
      note: '',
    });
    operations.push({
      operation: 'deploy Poseidon(3) (circomlibjs bytecode)',
      gas: Number(deployment.gas.poseidon3),
      note: 'consent leaves from accounts',
    });
    operations.push({
      operation: 'deploy ConsentRegistry',
      gas: Number(deployment.gas.consent),
      note: '24 zero roots computed once',
    });
    operations.push({
      operation: 'deploy ListRegistry',
      gas: Number(deployment.gas.lists),
      note: 'curated lists (opt-out lists)',
    });
    operations.push({
      operation: 'deploy ZkaiRegistry',
      gas: Number(deployment.gas.registry),
      note: '32 zero roots computed and stored; deploys its registration rules',
    });
    // A subject is an account: the consent leaf is derived from it on chain, and the data's id column holds it.
    const schema = parseSchema({
      name: 'bench-chain',
      subjectId: 'id',
      columns: [
        { name: 'id', type: 'address' },
        { name: 'age', type: 'integer', min: 0, max: 120 },
      ],
    });
    const policy = parsePolicy(
      {
        name: 'bench adults who consented',
        rules: [{ field: 'age', op: 'GTE', value: 18 }],
        registries: [{ kind: 'MEMBER-OF', field: 'id', registry: 'consent', depth: 8 }],
      },
      schema,
    );
    const subjects = await Promise.all([1, 2, 3, 4].map((i) => chain.provider.getSigner(i)));
    const people = await Promise.all(
      subjects.map(async (signer, i) => ({ id: await signer.getAddress(), age: 20 + i })),
    );
    // Consent trees of depth 16 (65,536 subjects) for the gas of grant and revoke; of depth 8 for the proofs (each
    // level costs about 240 constraints per record, and the bench keeps to the cached 2^14 ptau).
    const wide = purposeId('zkai-bench/wide');
    operations.push({
      operation: 'consent: create purpose (depth 16)',
      gas: Number((await consent.createPurpose(wide, { depth: 16, rootWindow: 3600 })).gasUsed),
      note: '',
    });
    const grants: number[] = [];
    for (const signer of subjects)
      grants.push(Number((await new ConsentRegistryClient(deployment.consent, signer).grant(wide)).gasUsed));
    operations.push({
      operation: 'consent: grant (depth 16)',
      gas: Math.max(...grants),
      note: `${grants.length} grants, ${Math.min(...grants)} to ${Math.max(...grants)}; leaf derived from the sender`,
    });
    // A relayed grant: a fresh account that holds no ether signs (EIP-712), the deployer sends it.
    const fresh = Wallet.createRandom();
    const relayed = await consent.grantBySig(
      await signGrant(fresh, await consent.domain(), {
        subject: fresh.address,
        purpose: wide,
        nonce: 0n,
        deadline: 2n ** 40n,
      }),
    );
    operations.push({
      operation: 'consent: grant by relayed EIP-712 signature (depth 16)',
      gas: Number(relayed.gasUsed),
      note: 'the subject holds no ether',
    });
    const purpose = purposeId('zkai-bench/research');
    await consent.createPurpose(purpose, { depth: 8, rootWindow: 3600 });
    for (const signer of subjects) await new ConsentRegistryClient(deployment.consent, signer).grant(purpose);
    const bundle = createBundle(
      schema,
      people.map((p, i) => encodeRecord(schema, p, i + 2)),
    );
    const tree = await consent.readConsentTree(purpose);
    const registries = [
      consentRegistry(schema, {
        name: 'consent',
        field: 'id',
        depth: 8,
        leaves: tree.leaves,
        ids: people.map((p) => p.id),
      }),
    ];
    const owner = await chain.signer.getAddress();

    const nonce = randomNonce();
    const single = await proveDataset(bundle, schema, policy, {
      ...cache,
      pool,
      registries,
      context: await registry.contextFor(nonce, owner),
    });
    const circuit = await registry.registerCircuit({
      zkeyPath: single.prepared.keys.zkeyPath,
      statement: datasetStatement(schema, policy),
      consent: { registryName: 'consent', purpose },
    });
    operations.push({
      operation: 'register a circuit (dataset policy)',
      gas: Number(circuit.gasUsed),
      note: `plus its verifier's deployment: ${circuit.verifierDeployGas}`,
    });
    const dataset = await registry.registerDataset('bench-dataset', bundle.commitment);
    operations.push({ operation: 'register a dataset', gas: Number(dataset.gasUsed), note: '' });
    const attested = await registry.attest(
      { circuit: circuit.circuit, subject: dataset.version, nonce },
      single.proof,
      single.publicSignals,
    );
    operations.push({
      operation: `attest a dataset policy proof (${single.publicSignals.length} public signals, consent root checked)`,
      gas: Number(attested.gasUsed),
      note: '',
      publicInputs: single.publicSignals.length,
    });
    operations.push({
      operation: 'revoke an attestation',
      gas: Number((await registry.revoke(attested.uid)).gasUsed),
      note: '',
    });

    const chunkNonce = randomNonce();
    const chunked = await proveDatasetInChunks(bundle, schema, policy, {
      ...cache,
      pool,
      registries,
      chunkDepth: 1,
      context: await registry.contextFor(chunkNonce, owner),
    });
    const chunkCircuit = await registry.registerCircuit({
      zkeyPath: chunked.prepared.keys.zkeyPath,
      statement: datasetChunkStatement(schema, policy, { subtrees: 1 }),
      consent: { registryName: 'consent', purpose },
    });
    const made = await registry.attestChunks(
      { circuit: chunkCircuit.circuit, subject: dataset.version, nonce: chunkNonce },
      chunked.chunks,
    );
    operations.push({
      operation: `attest a chunk (${chunked.signalNames.length} public signals, 1 subtree of 2 records)`,
      gas: Number(made.gas[0]),
      note: 'a chunk that is not the last',
      publicInputs: chunked.signalNames.length,
    });
    operations.push({
      operation: 'attest the last chunk (combines the roots, stores the attestation)',
      gas: Number(made.gas.at(-1)),
      note: `${made.gas.length} chunks in all`,
      publicInputs: chunked.signalNames.length,
    });

    const model = parseNativeModel({
      format: 'zkai-model-v1',
      name: 'bench-tiny',
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
    });
    const quantized = quantizeModel(model, 4);
    const modelNonce = randomNonce();
    const inference = await proveInference(quantized, quantizeInput(quantized, [1, -1], model), {
      ...cache,
      pool,
      visibility: 'hashed',
      context: await registry.contextFor(modelNonce, owner),
    });
    const modelCircuit = await registry.registerCircuit({
      zkeyPath: inference.prepared.keys.zkeyPath,
      statement: inferenceStatement(quantized, { visibility: 'hashed', weights: 'fixed' }),
    });
    const modelVersion = await registry.registerModel('bench-model', inference.model.hash!);
    operations.push({ operation: 'register a model', gas: Number(modelVersion.gasUsed), note: '' });
    const modelAttested = await registry.attest(
      { circuit: modelCircuit.circuit, subject: modelVersion.version, nonce: modelNonce },
      inference.proof,
      inference.publicSignals,
    );
    operations.push({
      operation: `attest an inference proof (${inference.publicSignals.length} public signals)`,
      gas: Number(modelAttested.gasUsed),
      note: '',
      publicInputs: inference.publicSignals.length,
    });

    // Accuracy: the tiny model on an 8-record labelled test set, 4 records per chunk proof.
    const testSchema = parseSchema({
      name: 'bench-accuracy',
      columns: [
        { name: 'x0', type: 'integer', min: -2, max: 2 },
        { name: 'x1', type: 'integer', min: -2, max: 2 },
        { name: 'label', type: 'integer', min: 0, max: 1 },
      ],
    });
    const testRows = Array.from({ length: 8 }, (_, i) => ({ x0: (i % 5) - 2, x1: ((i * 3) % 5) - 2, label: i % 2 }));
    const testSet = createBundle(
      testSchema,
      testRows.map((r, i) => encodeRecord(testSchema, r, i + 2)),
    );
    const accuracyNonce = randomNonce();
    const accuracy = await proveAccuracy(quantized, testSet, testSchema, {
      ...cache,
      label: 'label',
      samplesPerChunk: 4,
      pool,
      context: await registry.contextFor(accuracyNonce, owner),
    });
    const accuracyCircuit = await registry.registerCircuit({
      zkeyPath: accuracy.prepared.keys.zkeyPath,
      statement: accuracyStatement(undefined, accuracy.task, { weights: 'fixed', samplesPerChunk: 4 }),
    });
    const testSetVersion = await registry.registerDataset('bench-test-set', testSet.commitment);
    const accuracyMade = await registry.attestAccuracy(
      { circuit: accuracyCircuit.circuit, subject: modelVersion.version, nonce: accuracyNonce },
      testSetVersion.version,
      accuracy.chunks,
      accuracy.correct,
    );
    const accuracySignals = accuracy.chunks[0]!.publicSignals.length;
    operations.push({
      operation: `attest an accuracy chunk (${accuracySignals} public signals, 4 test records)`,
      gas: Number(accuracyMade.gas[0]),
      note: 'a chunk that is not the last: verify, fold 4 leaves, check and keep its commitment',
      publicInputs: accuracySignals,
    });
    operations.push({
      operation: 'attest the last accuracy chunk (rebuilds the test set root, opens the total, records the result)',
      gas: Number(accuracyMade.gas.at(-1)),
      note: `${accuracyMade.gas.length} chunks in all; ${accuracyMade.accuracy.correct} of ${accuracyMade.accuracy.total} correct`,
      publicInputs: accuracySignals,
    });
    const accuracyTotal = accuracyMade.gas.reduce((a, b) => a + b, 0n);
    operations.push({
      operation: 'accuracy attestation, per test record (all chunks / records)',
      gas: Math.round(Number(accuracyTotal) / testRows.length),
      note: `${accuracyTotal} gas for ${testRows.length} records in ${accuracyMade.gas.length} chunks`,
    });

    operations.push(...(await privateChunksGas(profile.privateChunks, { registry, pool, owner, cacheDir })));

    const revokeSubject = new ConsentRegistryClient(deployment.consent, await chain.provider.getSigner(1));
    operations.push({
      operation: 'consent: revoke (depth 16, sibling path given)',
      gas: Number((await revokeSubject.revoke(wide, 0)).gasUsed),
      note: '',
    });
  } finally {
    await pool.close();
    await chain.close();
    await releaseCurves();
  }

  return { verifiers: verifierRows, operations };
}
