/**
 * Private chunked dataset proofs on chain (issue 18): REAL chunk, node and root proofs attested on a REAL anvil in one
 * transaction (`attestPrivateChunks`). The registry checks every chunk like a chunk of today's chunked proofs, folds
 * their subtree roots into the registered root, walks the aggregation tree it derives from the chunk count and the
 * registered fan-in, and verifies each key's proofs in batches. Every way of cutting, mixing or replaying the proofs is
 * refused; the gas comes from the receipt.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCacheDir } from '../src/cache/cache-dir.ts';
import { Contract, ZeroAddress, ZeroHash, type InterfaceAbi, type Signer } from 'ethers';
import { connectChain, type ChainConnection } from '../src/chain/anvil.ts';
import { deployPoseidon } from '../src/chain/poseidon.ts';
import { registerPrivateChunksFromSource, sourceCircuit } from '../src/chain/register-source.ts';
import { compileRegistry, privateChunksStatement, RegistryClient, randomNonce } from '../src/chain/registry.ts';
import { sendEstimated } from '../src/chain/send-transaction.ts';
import { toZkaiVerifierArgs } from '../src/chain/solidity-verifier.ts';
import type { DatasetBundle } from '../src/data/bundle.ts';
import { provePrivateChunks, type PublishedProof } from '../src/data/private-chunked.ts';
import { ProverPool } from '../src/prover/pool.ts';
import { committedChunkStatement, datasetAggregationStatement } from '../src/statement/index.ts';
import { ceremonyBeacon, ceremonyContribute, ceremonyInit } from '../src/setup/ceremony.ts';
import { findDevPtau } from '../src/setup/dev-ptau.ts';
import { recordOwnContribution } from '../src/setup/trust-store.ts';
import { releaseCurves } from '../src/util/curves.ts';
import {
  PRIVATE_CHUNKS_FAN_IN as FAN_IN,
  PRIVATE_CHUNKS_POLICY as policy,
  PRIVATE_CHUNKS_SCHEMA as schema,
  PRIVATE_CHUNKS_SHAPE as SHAPE,
  privateChunksBundle,
} from './helpers/private-chunks-fixture.ts';
import { registryRefusal } from './helpers/rogue.ts';

let chain: ChainConnection;
let pool: ProverPool;
let owner: Signer;
let alice: Signer; // the data holder, who attests
let registry: RegistryClient;
let bundle: DatasetBundle;
let circuit: string;
let version: string;
let nonce: string;
let proof: Awaited<ReturnType<typeof provePrivateChunks>>;
let circuits: { chunk: string; node: string; root: string };

/** The same records proven again for the same nonce (other salts): valid proofs that link to no other tree. */
let again: Awaited<ReturnType<typeof provePrivateChunks>> | undefined;
const provenAgain = async () => (again ??= await proveFor(bundle, nonce));

/** The fixture's chunk shape and fan-in as a registration source (with or without an aggregation node). */
const fixtureSource = (withNode: boolean) => ({
  schema,
  policy,
  chunkDepth: SHAPE.chunkDepth,
  subtrees: SHAPE.subtreesPerChunk,
  fanIn: FAN_IN,
  withNode,
});

/** Proofs and their signals as the contract takes them (proof words; every proof's signals, in order). */
const zkaiArgs = (proofs: readonly PublishedProof[]): [bigint[][], bigint[]] => {
  const args = proofs.map((p) => toZkaiVerifierArgs(p.proof, p.publicSignals));
  return [args.map(([words]) => words), args.flatMap(([, signals]) => signals)];
};

const proveFor = async (data: DatasetBundle, forNonce: string) =>
  provePrivateChunks(data, schema, policy, {
    ...SHAPE,
    pool,
    fanIn: FAN_IN,
    context: await registry.contextFor(forNonce, await alice.getAddress()),
  });

beforeAll(async () => {
  chain = await connectChain();
  pool = new ProverPool({ workers: 1 });
  owner = chain.signer;
  alice = await chain.provider.getSigner(1);
  const poseidon = await deployPoseidon(owner);
  registry = (await RegistryClient.deploy(owner, poseidon.address, ZeroAddress)).client;
  bundle = privateChunksBundle(20);
  nonce = randomNonce();
  proof = await proveFor(bundle, nonce);
  const { prepared } = proof;
  const register = async (zkeyPath: string, statement: Parameters<RegistryClient['registerCircuit']>[0]['statement']) =>
    (await registry.registerCircuit({ zkeyPath, statement })).circuit;
  circuits = {
    chunk: await register(
      prepared.chunk.keys.zkeyPath,
      committedChunkStatement(schema, policy, { subtrees: SHAPE.subtreesPerChunk }),
    ),
    node: await register(prepared.node!.keys.zkeyPath, datasetAggregationStatement(policy, 'node', FAN_IN)),
    root: await register(prepared.root.keys.zkeyPath, datasetAggregationStatement(policy, 'root', FAN_IN)),
  };
  circuit = circuits.chunk;
  version = (await registry.connect(alice).registerDataset('private-chunks', bundle.commitment)).version;
}, 900_000);

afterAll(async () => {
  await pool?.close();
  await chain?.close();
  await releaseCurves();
});

describe('registry: private chunked datasets', () => {
  it('takes the aggregation circuits from the owner only, once, each in its role', async () => {
    const set = { node: circuits.node, root: circuits.root, fanIn: FAN_IN };
    expect((await registryRefusal(registry.connect(alice).setAggregation(circuit, set))).errorName).toBe('NotOwner');
    // The node passed off as the root (it publishes a commitment where the root publishes the count), another fan-in.
    const swapped = await registryRefusal(
      registry.setAggregation(circuit, { node: circuits.root, root: circuits.node, fanIn: FAN_IN }),
    );
    expect(swapped.errorName).toBe('BadLayout');
    expect((await registryRefusal(registry.setAggregation(circuit, { ...set, fanIn: 8 }))).errorName).toBe(
      'PublicInputCount',
    );
    // Before its aggregation circuits are set, the chunk circuit's proofs are refused.
    const early = await registryRefusal(
      registry
        .connect(alice)
        .attestPrivateChunks({ circuit, subject: version, nonce }, proof.chunks, proof.aggregation),
    );
    expect(early.errorName).toBe('NoAggregation');
    // Set without a node (a small dataset's proofs need none): a tree with a node level is refused, until the owner
    // adds the node (the one change allowed once set).
    await registry.setAggregation(circuit, { root: circuits.root, fanIn: FAN_IN });
    const noNode = await registryRefusal(
      registry
        .connect(alice)
        .attestPrivateChunks({ circuit, subject: version, nonce }, proof.chunks, proof.aggregation),
    );
    expect(noNode.errorName).toBe('NoAggregation');
    await registry.setAggregation(circuit, set);
    expect(await registry.aggregationOf(circuit)).toEqual(set);
    expect((await registryRefusal(registry.setAggregation(circuit, set))).errorName).toBe('CircuitExists');
    const otherRoot = { ...set, root: circuits.node, node: circuits.root };
    expect((await registryRefusal(registry.setAggregation(circuit, otherRoot))).errorName).toBe('CircuitExists');
    // An aggregation circuit is not attested on its own, and the chunks are not attested one by one.
    const root = proof.aggregation[proof.aggregation.length - 1]![0]!;
    const alone = await registryRefusal(
      registry
        .connect(alice)
        .attest({ circuit: circuits.root, subject: version, nonce }, root.proof, root.publicSignals),
    );
    expect(alone.errorName).toBe('WrongKind');
    // A private chunk circuit is a kind of its own: not attested chunk by chunk (attestChunk would fold its roots and
    // read its commitment as nothing).
    const chunkByChunk = await registryRefusal(
      registry.connect(alice).attestChunks({ circuit, subject: version, nonce }, proof.chunks.slice(0, 1)),
    );
    expect(chunkByChunk.errorName).toBe('WrongKind');
    // Registration from source takes one key per circuit: one ceremony key for all three is refused by name, before
    // anything is regenerated or sent.
    await expect(
      registerPrivateChunksFromSource(registry, fixtureSource(true), {
        kind: 'ceremony',
        zkeyPath: 'final.zkey',
        ptauPath: 'pot.ptau',
      }),
    ).rejects.toThrow(
      /three circuits, each with its own ceremony: give the chunk circuit's key \(--zkey\), the root's/,
    );
    await expect(
      registerPrivateChunksFromSource(registry, fixtureSource(true), {
        chunk: { kind: 'own-setup' },
        root: { kind: 'own-setup' },
      }),
    ).rejects.toThrow(/has aggregation nodes: give the node circuit's key too/);
  }, 300_000);

  it("registers the three circuits from source with a key each: the root's from a ceremony holding the owner's contribution, the others its own setups; each circuit's trust is on chain", async () => {
    // A registry of its own (this file's has other aggregation circuits set for the chunk circuit).
    const poseidon = await deployPoseidon(owner);
    const fresh = (await RegistryClient.deploy(owner, poseidon.address, ZeroAddress)).client;
    const cacheDir = resolveCacheDir();
    const ptau = (await findDevPtau(cacheDir, 3))!.path;
    const rootSource = { kind: 'dataset-aggregation', schema, policy, level: 'root', fanIn: FAN_IN } as const;
    const { compiled } = await sourceCircuit(rootSource, { cacheDir });
    const circuit = { name: compiled.name, r1csPath: compiled.r1csPath, info: compiled.info };
    const folder = await mkdtemp(join(tmpdir(), 'zkai-root-ceremony-'));
    try {
      await ceremonyInit(circuit, ptau, join(folder, '0000.zkey'));
      const mine = await ceremonyContribute(join(folder, '0000.zkey'), join(folder, '0001.zkey'), { name: 'owner' });
      await recordOwnContribution(cacheDir, {
        contributionHash: mine.contribution.hash,
        circuit: compiled.name,
        name: 'owner',
      });
      await ceremonyBeacon(join(folder, '0001.zkey'), join(folder, 'final.zkey'), {
        hashHex: 'ab'.repeat(32),
        iterationsExp: 10,
      });
      const rootKey = { kind: 'ceremony', zkeyPath: join(folder, 'final.zkey'), ptauPath: ptau } as const;
      const made = await registerPrivateChunksFromSource(
        fresh,
        fixtureSource(true),
        { chunk: { kind: 'own-setup' }, root: rootKey, node: { kind: 'own-setup' } },
        { cacheDir, development: true },
      );
      expect(made.aggregationSet).toBe(true);
      const trust = async (id: string) => (await fresh.registeredCircuit(id))!.provenance?.keyTrust;
      expect(await trust(made.root.circuit)).toBe('own-contribution');
      expect(await trust(made.chunk.circuit)).toBe('development');
      expect(await trust(made.node!.circuit)).toBe('development');
      expect(await fresh.aggregationOf(made.chunk.circuit)).toEqual({
        node: made.node!.circuit,
        root: made.root.circuit,
        fanIn: FAN_IN,
      });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 600_000);

  it('refuses a cut, reordered, duplicated or foreign tree, and another sender, before anything is stored', async () => {
    const client = registry.connect(alice);
    const request = { circuit, subject: version, nonce };
    const { chunks, aggregation } = proof;
    const refused = async (
      changed: { chunks?: typeof chunks; aggregation?: PublishedProof[][] },
      error: string,
      from: RegistryClient = client,
    ) => {
      const refusal = await registryRefusal(
        from.attestPrivateChunks(request, changed.chunks ?? chunks, changed.aggregation ?? aggregation),
      );
      expect(refusal.errorName, refusal.message).toBe(error);
      return refusal;
    };
    // 20 records in chunks of 4: five chunk proofs, two nodes, one root.
    expect([chunks.length, ...aggregation.map((level) => level.length)]).toEqual([5, 2, 1]);
    await refused({}, 'ContextMismatch', registry.connect(await chain.provider.getSigner(2)));
    await refused({ chunks: chunks.slice(0, -1) }, 'ChunkShape');
    await refused({ chunks: [chunks[0]!, ...chunks] }, 'ChunkShape'); // one chunk too many
    await refused({ chunks: [chunks[0]!, chunks[0]!, ...chunks.slice(2)] }, 'RootMismatch');
    await refused({ chunks: [chunks[1]!, chunks[0]!, ...chunks.slice(2)] }, 'RootMismatch');
    await refused({ aggregation: [[aggregation[0]![1]!, aggregation[0]![0]!], aggregation[1]!] }, 'FieldMismatch');
    await refused({ aggregation: [aggregation[1]!] }, 'ChunkShape'); // the node level left out
    // The same records proven again (other salts): each of its proofs is valid, none links to this tree.
    const again = await provenAgain();
    await refused({ chunks: [again.chunks[0]!, ...chunks.slice(1)] }, 'FieldMismatch');
    await refused({ aggregation: [aggregation[0]!, again.aggregation[1]!] }, 'FieldMismatch');
    // A proof whose points were changed: the batch does not verify.
    const [first, ...rest] = chunks;
    const forged = { ...first!, proof: { ...first!.proof, pi_a: again.chunks[0]!.proof.pi_a } };
    await refused({ chunks: [forged, ...rest] }, 'ProofInvalid');
    const rootProof = aggregation[1]![0]!;
    const forgedRoot = { ...rootProof, proof: { ...rootProof.proof, pi_c: again.aggregation[1]![0]!.proof.pi_c } };
    await refused({ aggregation: [aggregation[0]!, [forgedRoot]] }, 'ProofInvalid');
  }, 600_000);

  it('attests a proof too large for one transaction in batches of chunks, then the aggregation proofs, as the same statement as one call', async () => {
    const client = registry.connect(alice);
    const options = { circuit, subject: version, nonce };
    const batched = await provenAgain(); // the same records, other salts: another statement than `proof`'s
    const contract = new Contract(
      String(await registry.contract.getFunction('privateChunks').staticCall()),
      (await compileRegistry('ZkaiPrivateChunks')).abi as object[],
      alice,
    );
    const progress = async () =>
      Array.from(
        (await contract
          .getFunction('privateChunksProgress')
          .staticCall(await alice.getAddress(), circuit, version, nonce)) as bigint[],
      ).map(Number);
    const send = (from: Contract, method: string, args: unknown) =>
      sendEstimated(from, registry.abi as InterfaceAbi, method, method, [args]);
    const add = (chunks: readonly PublishedProof[]) => {
      const [chunkProofs, chunkSignals] = zkaiArgs(chunks);
      return send(contract, 'addPrivateChunks', { circuit, subject: version, nonce, chunkProofs, chunkSignals });
    };
    const commitments = batched.chunks.map((c) => BigInt(c.publicSignals[SHAPE.subtreesPerChunk]!));
    const [nodeProofs, nodeSignals] = zkaiArgs(batched.aggregation.slice(0, -1).flat());
    const [[rootProof], rootSignals] = zkaiArgs(batched.aggregation.at(-1)!);
    const finish = (changed: { commitments?: bigint[]; firstChunkSignals?: bigint[] }, from = contract) =>
      send(from, 'finishPrivateChunks', {
        circuit,
        subject: version,
        expirationTime: 0,
        refUID: ZeroHash,
        revocable: true,
        nonce,
        commitments: changed.commitments ?? commitments,
        firstChunkSignals: changed.firstChunkSignals ?? zkaiArgs(batched.chunks.slice(0, 1))[1],
        nodeProofs,
        nodeSignals,
        rootProof,
        rootSignals,
      });
    // The client refuses a tree that is not the one its chunks need before sending anything; on chain, finishing
    // before the chunks cover the dataset is refused, and the 4 chunks added stay until dropped.
    await expect(
      client.attestPrivateChunks(options, batched.chunks.slice(0, 4), batched.aggregation, { chunksPerTransaction: 2 }),
    ).rejects.toThrow(/aggregation level 0 is not the one 4 chunks need at fan-in 4/);
    await add(batched.chunks.slice(0, 2));
    await add(batched.chunks.slice(2, 4));
    const short = await registryRefusal(finish({ commitments: commitments.slice(0, 4) }));
    expect([short.errorName, short.args[0]]).toEqual(['ChunkShape', "the chunks do not cover the dataset's records"]);
    expect(await progress()).toEqual([4, 16]);
    // A fifth chunk, then a finish naming other commitments than the added chunks' (two swapped) or another first
    // chunk, is refused; so is a chunk past the dataset's records.
    await add(batched.chunks.slice(4));
    expect(await progress()).toEqual([5, 20]);
    const past = await registryRefusal(add(batched.chunks.slice(4)));
    expect([past.errorName, past.args[0]]).toEqual(['ChunkShape', "more chunks than the dataset's records need"]);
    const swapped = [commitments[1]!, commitments[0]!, ...commitments.slice(2)];
    expect((await registryRefusal(finish({ commitments: swapped }))).args[0]).toBe(
      'the commitments are not those of the added chunks',
    );
    expect(
      (await registryRefusal(finish({ firstChunkSignals: zkaiArgs(batched.chunks.slice(1, 2))[1] }))).args[0],
    ).toBe("the first chunk's signals are not those of the first added chunk");
    // Another sender has no attestation in progress for this nonce.
    const bob = contract.connect(await chain.provider.getSigner(2)) as Contract;
    const bobs = await registryRefusal(finish({}, bob));
    expect(bobs.args[0]).toBe('no chunk proofs were added (addPrivateChunks)');
    // The client drops the unfinished attempt and sends everything again: 3 batches of 2, 2 and 1, then the tree.
    const steps: string[] = [];
    const made = await client.attestPrivateChunks(options, batched.chunks, batched.aggregation, {
      chunksPerTransaction: 2,
      onTransaction: (what) => steps.push(what),
    });
    expect(steps).toEqual(['chunks 1 to 2 of 5', 'chunks 3 to 4 of 5', 'chunks 5 to 5 of 5', 'the aggregation proofs']);
    expect(made.transactions).toBe(5); // the reset, three batches, the aggregation proofs
    console.info(`attestPrivateChunks in batches of 2: ${made.gasUsed} gas in ${made.transactions} transactions`);
    expect(await client.getAttestation(made.uid)).toMatchObject({ valid: true, circuit, subject: version });
    expect(await progress()).toEqual([0, 0]);
    // The same statement as one call would make (the client computes it as the registry does): the same proofs in one
    // transaction are a replay, and in batches the client refuses them before mining any batch.
    expect(
      await registry.contract.getFunction('usedStatements').staticCall(privateChunksStatement(circuit, batched.chunks)),
    ).toBe(true);
    const once = await registryRefusal(client.attestPrivateChunks(options, batched.chunks, batched.aggregation));
    expect(once.errorName).toBe('ProofAlreadyUsed');
    const inBatches = { chunksPerTransaction: 2 };
    await expect(client.attestPrivateChunks(options, batched.chunks, batched.aggregation, inBatches)).rejects.toThrow(
      /is attested already \(a replay\): nothing was sent/,
    );
    // A tree that does not link to the chunks (another proof's), and more chunks than a finishing transaction holds,
    // are refused before anything is sent too (found by attacking this code: every batch's gas was lost first).
    await expect(client.attestPrivateChunks(options, proof.chunks, batched.aggregation, inBatches)).rejects.toThrow(
      /does not take the commitments below it: the tree is not this proof's \(nothing was sent\)/,
    );
    await expect(
      client.attestPrivateChunks(options, Array(1_501).fill(proof.chunks[0]!), proof.aggregation),
    ).rejects.toThrow(/a proof of 1501 chunks: more than the 1500/);
    expect(await progress()).toEqual([0, 0]);
  }, 300_000);

  it('attests 20 records (5 chunk proofs, 2 node proofs, the root proof) in one transaction, once', async () => {
    const client = registry.connect(alice);
    const made = await client.attestPrivateChunks(
      { circuit, subject: version, nonce },
      proof.chunks,
      proof.aggregation,
    );
    console.info(`attestPrivateChunks: 20 records, 5 chunks, 3 aggregation proofs: ${made.gasUsed} gas`);
    expect(await client.getAttestation(made.uid)).toMatchObject({
      valid: true,
      circuit,
      subject: version,
      policyHash: policy.hash,
    });
    const replay = await registryRefusal(
      client.attestPrivateChunks({ circuit, subject: version, nonce }, proof.chunks, proof.aggregation),
    );
    expect(replay.errorName).toBe('ProofAlreadyUsed');
    // The statement is the chunk proofs': any other tree over the same chunks is the same statement (aggregation
    // proofs salted afresh once made a second attestation of the same chunk proofs: found by attacking this code).
    const again = await provenAgain();
    const resalted = await registryRefusal(
      client.attestPrivateChunks({ circuit, subject: version, nonce }, proof.chunks, again.aggregation),
    );
    expect(resalted.errorName).toBe('ProofAlreadyUsed');
  }, 300_000);
});
