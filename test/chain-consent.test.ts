/**
 * The consent registry against a REAL anvil node (no mocks): circomlibjs's Poseidon contract against poseidon-lite,
 * ConsentRegistry.sol's tree against the TypeScript tree after every change, delegates, revocations, refusals decoded
 * into ConsentError, the root window, and events read back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Contract, ZeroAddress, type Signer } from 'ethers';
import { poseidon2 } from 'poseidon-lite';
import { ChainError } from '../src/errors.ts';
import { BN254_SCALAR_FIELD } from '../src/verifier/types.ts';
import { registryLeaf } from '../src/data/registry.ts';
import { connectChain, type ChainConnection } from '../src/chain/anvil.ts';
import { isAlive } from './helpers/process.ts';
import { deployPoseidon, poseidonAbi } from '../src/chain/poseidon.ts';
import {
  ConsentError,
  ConsentRegistryClient,
  buildConsentTree,
  compileConsentRegistry,
  consentZeroRoots,
  deployConsentRegistry,
  purposeId,
} from '../src/chain/consent.ts';

const r = BN254_SCALAR_FIELD;

/** A consent leaf as zkai makes them: Poseidon(key + 1, 0, encodedId), here with key = id = n. */
const leafOf = (n: number) => registryLeaf(BigInt(n) + 1n, 0n, BigInt(n));

/** The ConsentError a promise rejects with (fails the test when it resolves or rejects with something else). */
async function refusal(promise: Promise<unknown>): Promise<ConsentError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConsentError);
  return error as ConsentError;
}


let chain: ChainConnection;
let poseidonAddress: string;
let poseidonDeployGas: bigint;
/** Registry client acting as dev account 0 (the deployer). */
let owner: ConsentRegistryClient;
let registryDeployGas: bigint;
let signers: Signer[];
let addresses: string[];
/** Registry clients acting as dev accounts 1..4. */
let alice: ConsentRegistryClient;
let bob: ConsentRegistryClient;
let carol: ConsentRegistryClient;
let mallory: ConsentRegistryClient;

beforeAll(async () => {
  chain = await connectChain();
  ({ address: poseidonAddress, deployGas: poseidonDeployGas } = await deployPoseidon(chain.signer));
  const deployed = await deployConsentRegistry(chain.signer, poseidonAddress);
  owner = deployed.client;
  registryDeployGas = deployed.deployGas;
  signers = await Promise.all([1, 2, 3, 4].map((i) => chain.provider.getSigner(i)));
  addresses = await Promise.all(signers.map((s) => s.getAddress()));
  [alice, bob, carol, mallory] = signers.map((s) => owner.connect(s)) as [ConsentRegistryClient, ConsentRegistryClient, ConsentRegistryClient, ConsentRegistryClient];
}, 120_000);

afterAll(async () => {
  const pid = chain?.anvil?.pid;
  await chain?.close();
  if (pid !== undefined) expect(isAlive(pid)).toBe(false);
});

const [ALICE, BOB, CAROL, MALLORY] = [0, 1, 2, 3] as const;

describe('Poseidon on chain (circomlibjs)', () => {
  it('hashes exactly like poseidon-lite', async () => {
    const contract = new Contract(poseidonAddress, poseidonAbi(2), chain.provider);
    const inputs: Array<[bigint, bigint]> = [
      [0n, 0n],
      [1n, 2n],
      [2n, 1n],
      [r - 1n, r - 1n],
      [123456789012345678901234567890n, 98765432109876543210n],
      [leafOf(7), leafOf(8)],
    ];
    for (const pair of inputs) {
      expect(await contract.getFunction('poseidon').staticCall(pair)).toBe(poseidon2(pair));
    }
    expect(poseidonDeployGas).toBeGreaterThan(0n);
  });

  it('refuses an input count circomlibjs cannot generate', async () => {
    await expect(deployPoseidon(chain.signer, 9)).rejects.toThrow(ChainError);
    await expect(deployPoseidon(chain.signer, 0)).rejects.toThrow(/1 to 8 inputs/);
  });
});

describe('ConsentRegistry deployment', () => {
  it('computes the same zero subtree roots as the TypeScript tree', async () => {
    const contract = await owner.contract();
    const zeros = (await contract.getFunction('zeroRoots').staticCall()) as bigint[];
    expect([...zeros]).toEqual(consentZeroRoots(24));
  });

  it('refuses a Poseidon address without code (NotAContract)', async () => {
    const error = await refusal(deployConsentRegistry(chain.signer, addresses[MALLORY]!));
    expect(error.errorName).toBe('NotAContract');
    expect(error.message).toContain(`there is no contract at ${addresses[MALLORY]}`);
  });

  it('refuses a contract that is not Poseidon(2) (PoseidonFailed)', async () => {
    // Poseidon(3) has no poseidon(uint256[2]) function: the constructor's first hash fails.
    const { address } = await deployPoseidon(chain.signer, 3);
    const error = await refusal(deployConsentRegistry(chain.signer, address));
    expect(error.errorName).toBe('PoseidonFailed');
  });
});

describe('purposes', () => {
  const purpose = purposeId('zkai-test:purposes');

  it('creates a purpose once, with the caller as admin and the empty tree as root', async () => {
    await alice.createPurpose(purpose, { depth: 8, rootWindow: 60, description: 'a purpose' });
    const info = await owner.purposeInfo(purpose);
    expect(info).toEqual({ admin: addresses[ALICE], depth: 8, rootWindow: 60, leafCount: 0, root: consentZeroRoots(8)[8] });
    expect(await owner.currentRoot(purpose)).toBe(consentZeroRoots(8)[8]);
    expect(await owner.isKnownRoot(purpose, consentZeroRoots(8)[8]!)).toBe(true);

    const again = await refusal(bob.createPurpose(purpose, { depth: 4, rootWindow: 0 }));
    expect(again.errorName).toBe('PurposeExists');
    expect(again.message).toBe(`createPurpose refused: purpose ${purpose} already exists (PurposeExists)`);
    expect((await owner.purposeInfo(purpose)).admin).toBe(addresses[ALICE]); // unchanged
  });

  it('emits PurposeCreated with the description', async () => {
    const contract = await owner.contract();
    const [event] = await contract.queryFilter(contract.filters.PurposeCreated!(purpose));
    expect(event && 'args' in event ? [...event.args] : undefined).toEqual([purpose, addresses[ALICE], 8n, 60n, 'a purpose']);
  });

  it('refuses depths outside 1..24 and unknown purposes', async () => {
    expect((await refusal(alice.createPurpose(purposeId('d0'), { depth: 0, rootWindow: 0 }))).errorName).toBe('BadDepth');
    const deep = await refusal(alice.createPurpose(purposeId('d25'), { depth: 25, rootWindow: 0 }));
    expect(deep.errorName).toBe('BadDepth');
    expect(deep.args.depth).toBe(25n);
    const unknown = purposeId('zkai-test:never-created');
    expect((await refusal(alice.grant(unknown, leafOf(1)))).errorName).toBe('PurposeUnknown');
    expect((await refusal(owner.currentRoot(unknown))).errorName).toBe('PurposeUnknown');
    expect(await owner.isKnownRoot(unknown, 0n)).toBe(false);
    await expect(owner.currentRoot('not-an-id')).rejects.toThrow(/32-byte hex/);
  });
});

describe('grants, delegates and revocations', () => {
  const purpose = purposeId('zkai-test:grants');
  const DEPTH = 6;
  /** What the chain should hold, maintained by the test independently of the client. */
  const expected = {
    /** Leaves as granted. */
    granted: [] as bigint[],
    /** Leaves now (0 once revoked). */
    leaves: [] as bigint[],
    subjects: [] as string[],
    by: [] as string[],
    revokedBy: new Map<number, string>(),
  };
  const expectGrant = (leaf: bigint, subject: string, by: string) => {
    expected.granted.push(leaf);
    expected.leaves.push(leaf);
    expected.subjects.push(subject);
    expected.by.push(by);
  };
  const expectedRoot = () => buildConsentTree(DEPTH, expected.leaves).root;

  beforeAll(async () => {
    await owner.createPurpose(purpose, { depth: DEPTH, rootWindow: 3_600, description: 'grants' });
  });

  it('a subject grants: the chain root equals the TypeScript tree root', async () => {
    const before = await owner.currentRoot(purpose);
    for (const [who, client] of [[ALICE, alice], [BOB, bob], [ALICE, alice]] as const) {
      const leaf = leafOf(expected.leaves.length + 10);
      const result = await client.grant(purpose, leaf);
      expect(result.index).toBe(expected.leaves.length);
      expectGrant(leaf, addresses[who]!, addresses[who]!);
      expect(result.root).toBe(expectedRoot());
      expect(await owner.currentRoot(purpose)).toBe(expectedRoot());
    }
    expect(await owner.currentRoot(purpose)).not.toBe(before);
    expect((await owner.purposeInfo(purpose)).leafCount).toBe(3);
    const contract = await owner.contract();
    expect(await contract.getFunction('subjectOf').staticCall(purpose, 1)).toBe(addresses[BOB]);
    expect(await contract.getFunction('leafOf').staticCall(purpose, 2)).toBe(expected.leaves[2]);
  });

  it('grantFor: the named delegate may, a stranger may not', async () => {
    await alice.setDelegate(addresses[CAROL]!);
    expect(await owner.delegateOf(addresses[ALICE]!)).toBe(addresses[CAROL]);
    const leaf = leafOf(99);
    const result = await carol.grantFor(addresses[ALICE]!, purpose, leaf);
    expect(result.index).toBe(3);
    expectGrant(leaf, addresses[ALICE]!, addresses[CAROL]!);
    expect(result.root).toBe(expectedRoot());

    const rootBefore = await owner.currentRoot(purpose);
    const refused = await refusal(mallory.grantFor(addresses[ALICE]!, purpose, leafOf(100)));
    expect(refused.errorName).toBe('NotSubjectOrDelegate');
    expect(refused.args).toEqual({ caller: addresses[MALLORY], subject: addresses[ALICE] });
    expect(refused.message).toBe(`grantFor refused: ${addresses[MALLORY]} is neither ${addresses[ALICE]} nor their delegate (NotSubjectOrDelegate)`);
    // Bob has no delegate: nobody else may grant for him.
    expect((await refusal(carol.grantFor(addresses[BOB]!, purpose, leafOf(101)))).errorName).toBe('NotSubjectOrDelegate');
    expect(await owner.currentRoot(purpose)).toBe(rootBefore);
    expect((await refusal(alice.setDelegate(ZeroAddress))).errorName).toBe('ZeroDelegate');
  });

  it('refuses leaf 0 and leaves outside the BN254 scalar field, accepts r - 1', async () => {
    const zero = await refusal(alice.grant(purpose, 0n));
    expect(zero.errorName).toBe('ZeroLeaf');
    const big = await refusal(alice.grant(purpose, r));
    expect(big.errorName).toBe('LeafNotInField');
    expect(big.args.leaf).toBe(r);
    expect((await refusal(alice.grant(purpose, 2n ** 256n - 1n))).errorName).toBe('LeafNotInField');
    const result = await bob.grant(purpose, r - 1n);
    expect(result.index).toBe(4);
    expectGrant(r - 1n, addresses[BOB]!, addresses[BOB]!);
    expect(result.root).toBe(expectedRoot());
  });

  it('revoke by the subject sets the leaf to 0; by the delegate too', async () => {
    const byAlice = await alice.revoke(purpose, 0);
    expected.leaves[0] = 0n;
    expected.revokedBy.set(0, addresses[ALICE]!);
    expect(byAlice.root).toBe(expectedRoot());
    expect(await owner.currentRoot(purpose)).toBe(expectedRoot());

    const byCarol = await carol.revoke(purpose, 3); // Carol is Alice's delegate; leaf 3 is Alice's
    expected.leaves[3] = 0n;
    expected.revokedBy.set(3, addresses[CAROL]!);
    expect(byCarol.root).toBe(expectedRoot());
  });

  it('refuses a revocation by a stranger, naming the leaf and its subject', async () => {
    const rootBefore = await owner.currentRoot(purpose);
    const error = await refusal(mallory.revoke(purpose, 1));
    expect(error.errorName).toBe('NotSubjectOrDelegate');
    expect(error.message).toBe(
      `revoke refused: ${addresses[MALLORY]} is neither the subject of leaf 1 (${addresses[BOB]}) nor their delegate (NotSubjectOrDelegate)`,
    );
    // Alice's delegate is not Bob's delegate.
    expect((await refusal(carol.revoke(purpose, 1))).errorName).toBe('NotSubjectOrDelegate');
    expect(await owner.currentRoot(purpose)).toBe(rootBefore);
  });

  it('refuses revoking twice, and an unknown index', async () => {
    const twice = await refusal(alice.revoke(purpose, 0));
    expect(twice.errorName).toBe('AlreadyRevoked');
    expect(twice.message).toContain('leaf 0 of purpose');
    const count = expected.leaves.length;
    const unknown = await refusal(alice.revoke(purpose, count));
    expect(unknown.errorName).toBe('UnknownIndex');
    expect(unknown.args).toEqual({ purpose, index: BigInt(count), leafCount: BigInt(count) });
  });

  it('refuses wrong siblings and paths of the wrong length', async () => {
    const rootBefore = await owner.currentRoot(purpose);
    const tree = await owner.readConsentTree(purpose);
    const { siblings } = tree.pathOf(2);
    for (const level of [0, DEPTH - 1]) {
      const wrong = [...siblings];
      wrong[level] = wrong[level]! + 1n;
      const error = await refusal(alice.revoke(purpose, 2, { siblings: wrong }));
      expect(error.errorName).toBe('BadSiblings');
      expect(error.args).toEqual({ purpose, index: 2n });
    }
    // A sibling replaced by an equivalent value modulo r is refused too (siblings must be canonical).
    const shifted = [...siblings];
    shifted[1] = shifted[1]! + r;
    expect((await refusal(alice.revoke(purpose, 2, { siblings: shifted }))).errorName).toBe('BadSiblings');
    // Another leaf's path.
    expect((await refusal(alice.revoke(purpose, 2, { siblings: tree.pathOf(1).siblings }))).errorName).toBe('BadSiblings');
    const short = await refusal(alice.revoke(purpose, 2, { siblings: siblings.slice(1) }));
    expect(short.errorName).toBe('BadPathLength');
    expect(short.args).toEqual({ given: BigInt(DEPTH - 1), depth: BigInt(DEPTH) });
    expect(await owner.currentRoot(purpose)).toBe(rootBefore);
    expect(await (await owner.contract()).getFunction('leafOf').staticCall(purpose, 2)).toBe(expected.leaves[2]);
  });

  it('after clearDelegate the former delegate is refused', async () => {
    await alice.clearDelegate();
    expect(await owner.delegateOf(addresses[ALICE]!)).toBeUndefined();
    expect((await refusal(carol.revoke(purpose, 2))).errorName).toBe('NotSubjectOrDelegate');
    expect((await refusal(carol.grantFor(addresses[ALICE]!, purpose, leafOf(5)))).errorName).toBe('NotSubjectOrDelegate');
  });

  it('reads back the events and rebuilds the tree from them', async () => {
    const { grants, revokes } = await owner.consentEvents(purpose);
    expect(grants.map((g) => [g.index, g.subject, g.by])).toEqual(expected.subjects.map((s, i) => [i, s, expected.by[i]]));
    expect(grants.map((g) => g.leaf)).toEqual(expected.granted);
    expect(revokes.map((e) => [e.index, e.subject, e.by])).toEqual([
      [0, addresses[ALICE], expected.revokedBy.get(0)],
      [3, addresses[ALICE], expected.revokedBy.get(3)],
    ]);

    const tree = await bob.readConsentTree(purpose);
    expect(tree.depth).toBe(DEPTH);
    expect(tree.leaves).toEqual(expected.leaves);
    expect(tree.subjects).toEqual(expected.subjects);
    expect(tree.root).toBe(await owner.currentRoot(purpose));
    expect(tree.levels[DEPTH]).toEqual([tree.root]);
    // A path rebuilt by hand leads to the root.
    for (const index of [1, 4, 7]) {
      const { siblings, bits } = tree.pathOf(index);
      expect(bits).toEqual(Array.from({ length: DEPTH }, (_, h) => (index >> h) & 1));
      let node = expected.leaves[index] ?? 0n;
      siblings.forEach((sibling, h) => {
        node = bits[h] === 0 ? poseidon2([node, sibling]) : poseidon2([sibling, node]);
      });
      expect(node).toBe(tree.root);
    }
  });

  it('a client that starts scanning after the first grants notices missing events', async () => {
    const late = new ConsentRegistryClient(owner.address, chain.provider, { fromBlock: await chain.provider.getBlockNumber() });
    await expect(late.readConsentTree(purpose)).rejects.toThrow(/no ConsentGranted event for leaf 0/);
  });
});

describe('the tree stays right through interleaved grants and revocations', () => {
  it('matches the TypeScript tree after every change, up to a full tree (frontier updates)', async () => {
    const purpose = purposeId('zkai-test:frontier');
    const DEPTH = 4;
    await owner.createPurpose(purpose, { depth: DEPTH, rootWindow: 0 });
    const leaves: bigint[] = [];
    // Revocations chosen to hit frontier nodes: after 6 grants the next appends read node(1, 2) = leaves 4..5 and
    // node(2, 0) = leaves 0..3; revoking 4 and 1 changes both. Later ones revoke the last leaf and leaves of a full
    // left half. A seeded pseudo-random tail adds more.
    const script: Array<['grant'] | ['revoke', number]> = [
      ['grant'], ['grant'], ['grant'], ['grant'], ['grant'], ['grant'],
      ['revoke', 4], ['revoke', 1], ['grant'], ['grant'], ['revoke', 7], ['grant'], ['revoke', 8],
      ['revoke', 5], ['revoke', 6], ['grant'], ['grant'],
    ];
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const live = () => leaves.flatMap((leaf, i) => (leaf === 0n ? [] : [i]));
    const step = async (op: ['grant'] | ['revoke', number]) => {
      if (op[0] === 'grant') {
        const leaf = leafOf(1_000 + leaves.length);
        const result = await alice.grant(purpose, leaf);
        expect(result.index).toBe(leaves.length);
        leaves.push(leaf);
        expect(result.root).toBe(buildConsentTree(DEPTH, leaves).root);
      } else {
        const result = await alice.revoke(purpose, op[1]);
        leaves[op[1]] = 0n;
        expect(result.root).toBe(buildConsentTree(DEPTH, leaves).root);
      }
    };
    for (const op of script) await step(op);
    while (leaves.length < 2 ** DEPTH) {
      const candidates = live();
      await step(random() < 0.4 && candidates.length > 0 ? ['revoke', candidates[Math.floor(random() * candidates.length)]!] : ['grant']);
    }
    const full = await refusal(alice.grant(purpose, leafOf(1)));
    expect(full.errorName).toBe('TreeFull');
    // Revoke everything left: the tree is empty again, and its root is the empty root.
    for (const index of live()) await step(['revoke', index]);
    expect(await owner.currentRoot(purpose)).toBe(consentZeroRoots(DEPTH)[DEPTH]);
    expect((await owner.readConsentTree(purpose)).leaves).toEqual(new Array(2 ** DEPTH).fill(0n));
  });
});

describe('gas headroom', () => {
  it('sends with 10% over the estimate: a revoke whose oldRoot recurs can cost more when mined than when estimated', async () => {
    // The contract stores block.timestamp in supersededAt[oldRoot]. When a root recurs (grant k, revoke k) the slot
    // already holds a timestamp, and an estimate made in a pending block of that same second pays 100 gas for the write
    // where the mined block pays 2,900: a limit of exactly the estimate ran out of gas in CI.
    const purpose = purposeId('zkai-test:headroom');
    await owner.createPurpose(purpose, { depth: 3, rootWindow: 0 });
    await alice.grant(purpose, leafOf(1));
    await alice.grant(purpose, leafOf(2));
    await alice.revoke(purpose, 1);
    const siblings = (await alice.readConsentTree(purpose)).pathOf(0).siblings;
    const contract = new Contract(owner.address, (await compileConsentRegistry()).abi as object[], signers[ALICE]!);
    const estimate = await contract.getFunction('revoke').estimateGas(purpose, 0, [...siblings]);
    const result = await alice.revoke(purpose, 0, { siblings });
    const sent = await chain.provider.getTransaction(result.txHash);
    expect(sent?.gasLimit).toBe(estimate + estimate / 10n);
  });
});

describe('root window', () => {
  it('accepts the current root and a just-replaced one, and forgets the replaced one after the window', async () => {
    const purpose = purposeId('zkai-test:window');
    await owner.createPurpose(purpose, { depth: 5, rootWindow: 100 });
    const first = (await alice.grant(purpose, leafOf(1))).root;
    const second = (await alice.grant(purpose, leafOf(2))).root;
    expect(second).not.toBe(first);
    expect(await owner.isKnownRoot(purpose, second)).toBe(true);
    expect(await owner.isKnownRoot(purpose, first)).toBe(true);
    expect(await owner.isKnownRoot(purpose, 12345n)).toBe(false);

    await chain.provider.send('evm_increaseTime', [50]);
    await chain.provider.send('evm_mine', []);
    expect(await owner.isKnownRoot(purpose, first)).toBe(true);

    await chain.provider.send('evm_increaseTime', [60]);
    await chain.provider.send('evm_mine', []);
    expect(await owner.isKnownRoot(purpose, first)).toBe(false);
    expect(await owner.isKnownRoot(purpose, second)).toBe(true); // still current

    // A revocation replaces the current root too, which then gets its own window.
    const third = (await alice.revoke(purpose, 0)).root;
    expect(third).not.toBe(first);
    expect(await owner.isKnownRoot(purpose, third)).toBe(true);
    expect(await owner.isKnownRoot(purpose, second)).toBe(true);
    await chain.provider.send('evm_increaseTime', [101]);
    await chain.provider.send('evm_mine', []);
    expect(await owner.isKnownRoot(purpose, second)).toBe(false);

    // The supersession time is recorded.
    const contract = await owner.contract();
    expect(await contract.getFunction('supersededAt').staticCall(purpose, first)).toBeGreaterThan(0n);
    expect(await contract.getFunction('supersededAt').staticCall(purpose, third)).toBe(0n);
  });

  it('with a window of 0 only the current root is known', async () => {
    const purpose = purposeId('zkai-test:window-0');
    await owner.createPurpose(purpose, { depth: 3, rootWindow: 0 });
    const empty = await owner.currentRoot(purpose);
    const first = (await bob.grant(purpose, leafOf(3))).root;
    expect(await owner.isKnownRoot(purpose, first)).toBe(true);
    expect(await owner.isKnownRoot(purpose, empty)).toBe(false);
    // Revoking the only leaf brings the empty tree back: its root is current (and known) again.
    expect((await bob.revoke(purpose, 0)).root).toBe(empty);
    expect(await owner.isKnownRoot(purpose, empty)).toBe(true);
    expect(await owner.isKnownRoot(purpose, first)).toBe(false);
  });
});

describe('gas', () => {
  it('measures deployment, createPurpose, grant and revoke at depth 16 and 24', async () => {
    const rows: string[] = [`deploy Poseidon(2): ${poseidonDeployGas}`, `deploy ConsentRegistry: ${registryDeployGas}`];
    for (const depth of [16, 24]) {
      const purpose = purposeId(`zkai-test:gas-${depth}`);
      const created = await owner.createPurpose(purpose, { depth, rootWindow: 3_600 });
      const grants: bigint[] = [];
      const leaves: bigint[] = [];
      for (let i = 0; i < 8; i += 1) {
        const result = await (i % 2 === 0 ? alice : bob).grant(purpose, leafOf(i));
        leaves.push(leafOf(i));
        grants.push(result.gasUsed);
      }
      expect(await owner.currentRoot(purpose)).toBe(buildConsentTree(depth, leaves).root);
      const revokes: bigint[] = [];
      for (const index of [5, 0]) revokes.push((await (index % 2 === 0 ? alice : bob).revoke(purpose, index)).gasUsed);
      const range = (values: bigint[]) => `${values.reduce((a, b) => (a < b ? a : b))}..${values.reduce((a, b) => (a > b ? a : b))}`;
      rows.push(`depth ${depth}: createPurpose ${created.gasUsed}, grant ${range(grants)}, revoke ${range(revokes)}`);
      expect(created.gasUsed).toBeLessThan(150_000n);
    }
    console.info(`ConsentRegistry gas (circomlibjs Poseidon):\n  ${rows.join('\n  ')}`);
  });
});

describe('compileConsentRegistry', () => {
  it('caches the compiled contract in memory', async () => {
    const first = await compileConsentRegistry();
    expect(await compileConsentRegistry()).toBe(first);
    expect(first.bytecode).toMatch(/^0x[0-9a-f]+$/);
  });
});
