import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBundle } from '../src/data/bundle.ts';
import { verifyChunkedDataset, proveDatasetInChunks } from '../src/data/chunked.ts';
import { datasetCircuitInput } from '../src/data/circuit-gen.ts';
import {
  PolicyViolationError,
  proveDataset,
  trustedRegistryRoots,
  verifyDatasetProof,
} from '../src/data/dataset-proof.ts';
import { encodeRecord } from '../src/data/encode.ts';
import { evaluatePolicy, parsePolicy, PolicyError, type PolicySpec } from '../src/policy/policy.ts';
import { sparseTreeLevels } from '../src/crypto/merkle.ts';
import {
  buildRegistry,
  nonMembershipWitness,
  registryLeaf,
  registryPath,
  RegistryError,
  type ConsentSource,
  type Registry,
} from '../src/data/registry.ts';
import {
  consentRegistryFile,
  loadRegistry,
  readIdList,
  registryFile,
  saveRegistry,
} from '../src/data/registry-file.ts';
import { consentLeaf, consentRegistry, consentStatusLookup } from '../src/data/consent-tree.ts';
import { InputFileError } from '../src/errors.ts';
import { parseSchema } from '../src/data/schema.ts';
import type { EncodedRecord } from '../src/data/types.ts';
import { uniqueKey } from '../src/data/unique.ts';
import { checkSoundness } from '../src/testing/soundness.ts';
import { releaseCurves } from '../src/util/curves.ts';
import { datasetCircuits, witnessAccepts } from './helpers/circuits.ts';

const scratch = await mkdtemp(join(tmpdir(), 'zkai-registry-'));
afterAll(async () => {
  await releaseCurves();
  await rm(scratch, { recursive: true, force: true });
});

// Subjects have a string id (the realistic case: a string key is the low 128 bits of its hash) and an integer
// account number, to cover both kinds of key. `acct` starts at 0, so an encoded id can be 0 like the sentinel's value.
const schema = parseSchema({
  name: 'subjects',
  subjectId: 'id',
  columns: [
    { name: 'id', type: 'string', maxBytes: 16 },
    { name: 'acct', type: 'integer', min: 0, max: 1000 },
  ],
});

const record = (id: string, acct: number, row = 2): EncodedRecord => encodeRecord(schema, { id, acct }, row);

const consent = buildRegistry(schema, { name: 'consent', field: 'id', depth: 3, ids: ['S1', 'S2', 'S3', 'S4', 'S5'] });
const optOut = buildRegistry(schema, { name: 'optout', field: 'id', depth: 3, ids: ['S6', 'S7'] });
const emptyOptOut = buildRegistry(schema, { name: 'optout', field: 'id', depth: 3, ids: [] });
const accounts = buildRegistry(schema, { name: 'accounts', field: 'acct', depth: 2, ids: ['5', '9', '700'] });
const blocked = buildRegistry(schema, { name: 'blocked', field: 'acct', depth: 2, ids: ['0', '40', '1000'] });

const policySpec: PolicySpec = {
  name: 'consented, not opted out',
  rules: [],
  registries: [
    { kind: 'MEMBER-OF', field: 'id', registry: 'consent', depth: 3 },
    { kind: 'NOT-MEMBER-OF', field: 'id', registry: 'optout', depth: 3 },
  ],
};
const integerSpec: PolicySpec = {
  name: 'account checks',
  rules: [],
  registries: [
    { kind: 'MEMBER-OF', field: 'acct', registry: 'accounts', depth: 2 },
    { kind: 'NOT-MEMBER-OF', field: 'acct', registry: 'blocked', depth: 2 },
  ],
};

const circuitFor = datasetCircuits(schema);
const accepts = witnessAccepts;

describe('registries: building and files', () => {
  it('sorts ids by key, links each leaf to the next key, and gives one root whatever the input order', () => {
    const shuffled = buildRegistry(schema, {
      name: 'consent',
      field: 'id',
      depth: 3,
      ids: ['S4', 'S2', 'S5', 'S1', 'S3'],
    });
    expect(shuffled.root).toBe(consent.root);
    for (let i = 1; i < consent.keys.length; i += 1) expect(consent.keys[i - 1]! < consent.keys[i]!).toBe(true);
    // leaf 0 is the sentinel (0, first key + 1, 0); leaf 1 holds the smallest key and links to the next one
    expect(consent.levels[0]![0]).toBe(registryLeaf(0n, consent.keys[0]! + 1n, 0n));
    expect(consent.levels[0]![1]).toBe(registryLeaf(consent.keys[0]! + 1n, consent.keys[1]! + 1n, consent.values[0]!));
    expect(consent.levels[0]!.at(-1)).toBe(registryLeaf(consent.keys.at(-1)! + 1n, 0n, consent.values.at(-1)!));
    expect(emptyOptOut.levels[0]).toEqual([registryLeaf(0n, 0n, 0n)]);
  });

  it('refuses duplicates, invalid ids, a full tree and a bad name, naming the entry', () => {
    expect(() => buildRegistry(schema, { name: 'c', field: 'id', depth: 3, ids: ['S1', 'S2', 'S1'] })).toThrow(
      /"S1" is listed twice \(entry 1 and entry 3\)|"S1" is listed twice \(entry 3 and entry 1\)/,
    );
    expect(() => buildRegistry(schema, { name: 'c', field: 'acct', depth: 3, ids: ['5', '1001', 'x'] })).toThrow(
      /2 id\(s\) are not valid values of column acct[\s\S]*1001[\s\S]*"x"/,
    );
    expect(() => buildRegistry(schema, { name: 'c', field: 'id', depth: 2, ids: ['a', 'b', 'c', 'd'] })).toThrow(
      /4 ids do not fit a tree of depth 2 \(at most 3\)/,
    );
    expect(() => buildRegistry(schema, { name: '1bad', field: 'id', depth: 2, ids: [] })).toThrow(RegistryError);
    expect(() => buildRegistry(schema, { name: 'c', field: 'nope', depth: 2, ids: [] })).toThrow(
      /"nope" is not a column/,
    );
  });

  it('round-trips through its file; an edited file or another schema is refused', async () => {
    const path = join(scratch, 'consent.json');
    await saveRegistry(path, consent);
    const loaded = await loadRegistry(path, schema);
    expect(loaded.root).toBe(consent.root);
    const file = JSON.parse(await readFile(path, 'utf8')) as { ids: string[] };
    file.ids[0] = 'S9';
    await writeFile(path, JSON.stringify(file));
    await expect(loadRegistry(path, schema)).rejects.toThrow(
      /give root .* but the file says .*corrupted or was edited/,
    );
    const other = parseSchema({ name: 'other', columns: [{ name: 'id', type: 'string' }] });
    await saveRegistry(path, consent);
    await expect(loadRegistry(path, other)).rejects.toThrow(/made for schema hash .* not for schema "other"/);
  });

  describe('consent registry files (kind "consent": an on-chain consent tree, as zkai chain consent tree --out writes it)', () => {
    // On-chain consent belongs to accounts: the consent column is an address column holding each subject's account.
    // Leaves as the chain holds them: S1, S2 and S3 granted in that order, S2 revoked (its leaf is 0), S9 granted by
    // someone this data holder does not know. Sn is the account 0x00..0n.
    const S = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;
    const [S1, S2, S3, S4, S9] = [1, 2, 3, 4, 9].map(S) as [string, string, string, string, string];
    const schema = parseSchema({
      name: 'subjects with accounts',
      subjectId: 'id',
      columns: [
        { name: 'id', type: 'address' },
        { name: 'acct', type: 'integer', min: 0, max: 1000 },
      ],
    });
    const record = (id: string, acct: number, row = 2): EncodedRecord => encodeRecord(schema, { id, acct }, row);
    const leafOf = (id: string) => consentLeaf(schema, 'id', id);
    const leaves = [leafOf(S1), 0n, leafOf(S3), leafOf(S9)];
    const source: ConsentSource = {
      chainId: 31337,
      contract: `0x${'12'.repeat(20)}`,
      purpose: 'research',
      purposeId: `0x${'ab'.repeat(32)}`,
      blockNumber: 42,
      blockTime: 1_800_000_000,
      rootWindow: 3600,
    };
    const made = () =>
      consentRegistry(schema, {
        name: 'consent',
        field: 'id',
        depth: 3,
        leaves,
        ids: [S3, S1, S2, S4],
        revoked: new Map([[1, leafOf(S2)]]),
        source,
      });
    const path = join(scratch, 'consent-tree.json');
    const edit = async (
      change: (
        file: Record<string, unknown> & { leaves: string[]; revoked: Array<{ index: number; leaf: string }> },
      ) => void,
    ) => {
      await saveRegistry(path, made());
      const file = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown> & {
        leaves: string[];
        revoked: Array<{ index: number; leaf: string }>;
      };
      change(file);
      await writeFile(path, JSON.stringify(file));
    };

    it("round-trips: the same root (the tree of the chain's leaves), members, leaf indexes and source", async () => {
      const registry = made();
      await saveRegistry(path, registry);
      const file = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
      expect(file).toMatchObject({
        format: 'zkai-registry-v1',
        kind: 'consent',
        name: 'consent',
        depth: 3,
        root: registry.root,
        chain: source,
        live: 2,
        ids: [S3, S1, S2, S4],
        revoked: [{ index: 1, leaf: leafOf(S2).toString() }],
      });
      expect(file.leaves).toEqual(leaves.map(String));
      const loaded = await loadRegistry(path, schema);
      expect(loaded.root).toBe(registry.root);
      expect(loaded.root).toBe(sparseTreeLevels(leaves, 3)[3]![0]!.toString());
      expect([...loaded.ids].sort()).toEqual([S1, S3]);
      expect(loaded.leafIndex).toEqual(registry.leafIndex);
      expect(loaded.consent?.source).toEqual(source);
      // Status by id: a member, revoked, never granted, and live but not among the data holder's ids.
      const column = schema.columns[0]!;
      const status = consentStatusLookup(loaded, column);
      const value = (id: string) => encodeRecord(schema, { id, acct: 0 }, 2).values[0]!;
      expect(status(value(S1))).toEqual({ state: 'live', index: 0 });
      expect(status(value(S2))).toEqual({ state: 'revoked', index: 1 });
      expect(status(value(S4))).toEqual({ state: 'none' });
      expect(status(value(S9))).toEqual({ state: 'unlisted', index: 3 });
      // The pre-flight judges by it: S2 (revoked) and S4 (never granted) are not members.
      const policy = parsePolicy(
        {
          name: 'consented',
          rules: [],
          registries: [{ kind: 'MEMBER-OF', field: 'id', registry: 'consent', depth: 3 }],
        },
        schema,
      );
      const report = evaluatePolicy(
        policy,
        [record(S1, 1, 2), record(S2, 2, 3), record(S3, 3, 4), record(S4, 4, 5)],
        [loaded],
      );
      expect(report.violations.map((v) => v.row)).toEqual([3, 5]);
    });

    it('refuses a tampered root or leaf, a revoked entry whose leaf is not 0, another schema and an unknown kind, naming the file', async () => {
      await edit((file) => {
        file.root = '12345';
      });
      await expect(loadRegistry(path, schema)).rejects.toThrow(
        /consent-tree\.json: the consent leaves in the file give root \d+ at depth 3, but the file says 12345 \(the chain's root at block 42\): the file is corrupted or was edited/,
      );
      await edit((file) => {
        file.leaves[2] = leafOf(S4).toString(); // S3's grant replaced by S4's: the root no longer matches
      });
      const error = await loadRegistry(path, schema).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InputFileError);
      expect((error as InputFileError).message).toMatch(
        /give root \d+ at depth 3, but the file says \d+ .*corrupted or was edited/,
      );
      expect((error as InputFileError).hint).toContain('zkai chain consent tree');
      await edit((file) => {
        file.depth = 4;
      });
      await expect(loadRegistry(path, schema)).rejects.toThrow(/at depth 4, but the file says/);
      await edit((file) => {
        file.leaves[1] = 'x';
      });
      await expect(loadRegistry(path, schema)).rejects.toThrow(
        /leaves\[1\] must be a decimal string below the BN254 scalar field, got "x"/,
      );
      await edit((file) => {
        file.revoked = [{ index: 0, leaf: leafOf(S1).toString() }];
      });
      await expect(loadRegistry(path, schema)).rejects.toThrow(
        /revoked\[0\] names leaf 0 as revoked, but leaves\[0\] is \d+, not 0/,
      );
      await edit((file) => {
        delete file.chain;
      });
      await expect(loadRegistry(path, schema)).rejects.toThrow(/a consent registry needs its "chain"/);
      await edit((file) => {
        file.kind = 'merkle';
      });
      await expect(loadRegistry(path, schema)).rejects.toThrow(/unknown registry kind "merkle"/);
      await saveRegistry(path, made());
      const other = parseSchema({ name: 'other', columns: [{ name: 'id', type: 'address' }] });
      await expect(loadRegistry(path, other)).rejects.toThrow(/made for schema hash .* not for schema "other"/);
    });

    it('refuses any column but an address column: the contract derives leaves from accounts', () => {
      expect(() => consentRegistry(schema, { name: 'consent', field: 'acct', depth: 3, leaves, ids: ['5'] })).toThrow(
        /column acct is an integer column, but on-chain consent belongs to accounts[\s\S]*must be of type "address"/,
      );
      const strings = parseSchema({ name: 'strings', columns: [{ name: 'id', type: 'string' }] });
      expect(() => consentRegistry(strings, { name: 'consent', field: 'id', depth: 3, leaves, ids: [] })).toThrow(
        /column id is a string column/,
      );
      expect(() => consentLeaf(strings, 'id', 'S1')).toThrow(/must be of type "address"/);
    });

    it('the leaf of an account is the one the contract derives: Poseidon3(account + 1, 0, account)', () => {
      const account = 0xab12n;
      expect(leafOf(S(0xab12))).toBe(registryLeaf(account + 1n, 0n, account));
      expect(leafOf(S(0xab12).toUpperCase().replace('0X', '0x'))).toBe(leafOf(S(0xab12)));
    });

    it('names bad ids by position; a consent tree has no sorted registry file', () => {
      expect(() =>
        consentRegistry(schema, {
          name: 'consent',
          field: 'id',
          depth: 3,
          leaves,
          ids: [S1, 'S2', `${S3} `],
          positions: ['ids.txt line 1', 'ids.txt line 2', 'ids.txt line 3'],
        }),
      ).toThrow(/2 id\(s\) are not valid values of column id:[\s\S]*ids\.txt line 2[\s\S]*ids\.txt line 3/);
      expect(() => consentRegistry(schema, { name: '1bad', field: 'id', depth: 3, leaves, ids: [] })).toThrow(
        /registry name "1bad"/,
      );
      expect(() => registryFile(made())).toThrow(/is a consent tree/);
      expect(() =>
        consentRegistryFile(consentRegistry(schema, { name: 'consent', field: 'id', depth: 3, leaves, ids: [] })),
      ).toThrow(/needs its source/);
    });
  });

  it('reads id lists exactly: one per line or a JSON array; a blank line is an error', async () => {
    const text = join(scratch, 'ids.txt');
    await writeFile(text, 'S1\r\nS2 \nS3\n');
    expect((await readIdList(text)).ids).toEqual(['S1', 'S2 ', 'S3']);
    await writeFile(text, 'S1\n\nS3\n');
    await expect(readIdList(text)).rejects.toThrow(/line 2 is empty/);
    const json = join(scratch, 'ids.json');
    await writeFile(json, '["S1", 7]');
    expect((await readIdList(json)).ids).toEqual(['S1', '7']);
  });
});

describe('registries in policies', () => {
  it('validates requirements: kind, depth, nullable column, unknown keys, one name per requirement', () => {
    const nullable = parseSchema({ name: 'n', columns: [{ name: 'id', type: 'string', nullable: true }] });
    const base = { name: 'p', rules: [] };
    expect(() =>
      parsePolicy({ ...base, registries: [{ kind: 'IN-SET', field: 'id', registry: 'c', depth: 3 }] }, schema),
    ).toThrow(/kind must be MEMBER-OF or NOT-MEMBER-OF/);
    expect(() =>
      parsePolicy({ ...base, registries: [{ kind: 'MEMBER-OF', field: 'id', registry: 'c', depth: 0 }] }, schema),
    ).toThrow(/"depth" must be an integer from 1 to 24/);
    expect(() =>
      parsePolicy(
        { ...base, registries: [{ kind: 'MEMBER-OF', field: 'id', registry: 'c', depth: 3, when: {} }] } as never,
        schema,
      ),
    ).toThrow(/unknown key "when"/);
    expect(() =>
      parsePolicy({ ...base, registries: [{ kind: 'MEMBER-OF', field: 'id', registry: 'c', depth: 3 }] }, nullable),
    ).toThrow(/not nullable; id is nullable/);
    expect(() =>
      parsePolicy(
        {
          ...base,
          registries: [
            { kind: 'MEMBER-OF', field: 'id', registry: 'c', depth: 3 },
            { kind: 'NOT-MEMBER-OF', field: 'acct', registry: 'c', depth: 3 },
          ],
        },
        schema,
      ),
    ).toThrow(/"c" is named twice/);
    expect(() => parsePolicy(policySpec, schema)).not.toThrow(PolicyError);
  });

  it('binds the requirements in the policy hash; an empty list hashes like none', () => {
    const none = parsePolicy({ name: 'p', rules: [] }, schema).hash;
    expect(parsePolicy({ name: 'p', rules: [], registries: [] }, schema).hash).toBe(none);
    const a = parsePolicy(
      { name: 'p', rules: [], registries: [{ kind: 'MEMBER-OF', field: 'id', registry: 'c', depth: 3 }] },
      schema,
    ).hash;
    const b = parsePolicy(
      { name: 'p', rules: [], registries: [{ kind: 'MEMBER-OF', field: 'id', registry: 'c', depth: 4 }] },
      schema,
    ).hash;
    expect(new Set([none, a, b]).size).toBe(3);
  });

  it('pre-flight names every row whose id breaks a requirement, and needs every registry', () => {
    const policy = parsePolicy(policySpec, schema);
    const records = [record('S1', 1, 2), record('S8', 2, 3), record('S6', 3, 4)];
    const report = evaluatePolicy(policy, records, [consent, optOut]);
    expect(report.ok).toBe(false);
    expect(report.violations.map((v) => [v.row, v.registry])).toEqual([
      [3, 'consent'],
      [4, 'consent'],
      [4, 'optout'],
    ]);
    expect(report.violations[0]!.ruleText).toMatch(/id MEMBER-OF registry consent \(not listed in registry consent/);
    expect(() => evaluatePolicy(policy, records, [consent])).toThrow(/needs registry "optout"/);
    expect(() => evaluatePolicy(policy, records, [consent, optOut, accounts])).toThrow(
      /does not use registry "accounts"/,
    );
    const wrongDepth = buildRegistry(schema, { name: 'optout', field: 'id', depth: 4, ids: ['S6'] });
    expect(() => evaluatePolicy(policy, records, [consent, wrongDepth])).toThrow(/has depth 4, but the policy says 3/);
  });
});

describe('registry circuits agree with the pre-flight, and refuse the known traps', () => {
  const cases = async (spec: PolicySpec, registries: Registry[], list: Array<[EncodedRecord[], boolean]>) => {
    const { circuit, policy } = await circuitFor(spec);
    for (const [records, expected] of list) {
      const what = records.map((r) => `${r.values[1]}`).join(',');
      expect(evaluatePolicy(policy, records, registries).ok, `pre-flight ${what}`).toBe(expected);
      expect(
        await accepts(
          circuit,
          datasetCircuitInput(
            records,
            records.map((_, i) => BigInt(i + 3)),
            schema,
            policy,
            1,
            registries,
          ),
        ),
        `circuit ${what}`,
      ).toBe(expected);
    }
  };

  it('string ids: member of consent, not in the opt-out list (below, between, above every listed key)', async () => {
    // Which consent ids fall below, between and above the opt-out keys depends on their hashes: cover all of them.
    const records = ['S1', 'S2', 'S3', 'S4', 'S5'].map((id, i) => record(id, i));
    await cases(
      policySpec,
      [consent, optOut],
      [
        ...records.map((r): [EncodedRecord[], boolean] => [[r], true]),
        [[records[0]!, records[4]!], true],
        [[record('S6', 1)], false], // opted out, and not consented
        [[record('S1', 1), record('S9', 1)], false], // S9 not consented
      ],
    );
    await cases(policySpec, [consent, emptyOptOut], [[[record('S2', 1)], true]]);
    const both = buildRegistry(schema, { name: 'optout', field: 'id', depth: 3, ids: ['S3', 'S6'] });
    await cases(
      policySpec,
      [consent, both],
      [
        [[record('S3', 1)], false],
        [[record('S2', 1)], true],
      ],
    );
  });

  it('integer ids at the edges of the column: 0 (the sentinel value), the maximum, and their neighbours', async () => {
    await cases(
      integerSpec,
      [accounts, blocked],
      [
        [[record('S1', 5)], true],
        [[record('S1', 700), record('S2', 9)], true],
        [[record('S1', 6)], false], // not an account
        [[record('S1', 40)], false], // an account? no, and blocked
      ],
    );
    const all = buildRegistry(schema, { name: 'accounts', field: 'acct', depth: 2, ids: ['0', '1', '999'] });
    await cases(
      integerSpec,
      [all, blocked],
      [
        [[record('S1', 1)], true],
        [[record('S1', 999)], true],
        [[record('S1', 0)], false],
        [[record('S1', 1), record('S2', 1000)], false],
      ],
    );
    const none = buildRegistry(schema, { name: 'blocked', field: 'acct', depth: 2, ids: ['1'] });
    await cases(
      integerSpec,
      [all, none],
      [
        [[record('S1', 0)], true],
        [[record('S1', 999)], true],
        [[record('S1', 1)], false],
      ],
    );
  });

  it('non-membership of a present value cannot be proven with any leaf: its predecessor, its own leaf, or a forged one', async () => {
    const { circuit, policy } = await circuitFor(policySpec);
    const present = record('S3', 1);
    const both = buildRegistry(schema, { name: 'optout', field: 'id', depth: 3, ids: ['S1', 'S3', 'S6'] });
    const honest = datasetCircuitInput([present], [3n], schema, policy, 1, [consent, both]);
    const column = schema.columns[0]!;
    const at = both.keys.indexOf(uniqueKey(column, present.values[0]!));
    const keyPlusOne = both.keys[at]! + 1n;
    const withLeaf = (leaf: { key: bigint; next: bigint; value: bigint; siblings: bigint[]; bits: number[] }) => ({
      ...honest,
      registry1Key: [leaf.key, 0n],
      registry1Next: [leaf.next, 0n],
      registry1Value: [leaf.value, 0n],
      registry1Siblings: [leaf.siblings, Array(3).fill(0n)],
      registry1Bits: [leaf.bits, Array(3).fill(0)],
    });
    // 1. the leaf just before it: next key = its key + 1, not above it
    const before = registryPath(both, at);
    const lowBefore = at === 0 ? 0n : both.keys[at - 1]! + 1n;
    expect(
      await accepts(
        circuit,
        withLeaf({ key: lowBefore, next: keyPlusOne, value: at === 0 ? 0n : both.values[at - 1]!, ...before }),
      ),
    ).toBe(false);
    // 2. its own leaf: key = its key + 1, not below it
    const own = registryPath(both, at + 1);
    const ownNext = at + 1 < both.keys.length ? both.keys[at + 1]! + 1n : 0n;
    expect(
      await accepts(circuit, withLeaf({ key: keyPlusOne, next: ownNext, value: present.values[0]!, ...own })),
    ).toBe(false);
    // 3. a forged leaf that brackets it (low < key + 1 < next), on the predecessor's path: not under the root
    expect(await accepts(circuit, withLeaf({ key: lowBefore, next: keyPlusOne + 1n, value: 0n, ...before }))).toBe(
      false,
    );
    // 4. the forged leaf that says "no key above" (next = 0)
    expect(await accepts(circuit, withLeaf({ key: lowBefore, next: 0n, value: 0n, ...before }))).toBe(false);
    // ...while an absent value next to it is excluded by the same leaves
    const absent = record('S2', 1);
    const witness = nonMembershipWitness(both, column, absent.values[0]!);
    expect(witness.lowNext === 0n || witness.lowNext > uniqueKey(column, absent.values[0]!) + 1n).toBe(true);
    expect(await accepts(circuit, datasetCircuitInput([absent], [3n], schema, policy, 1, [consent, both]))).toBe(true);
  });

  it('membership cannot be claimed through the sentinel (its value 0 is a real encoded id here) or an empty slot', async () => {
    const { circuit, policy } = await circuitFor(integerSpec);
    const zero = record('S1', 0); // acct 0 encodes to 0, the sentinel's value; 0 is not an account
    const honest = datasetCircuitInput([zero], [3n], schema, policy, 1, [accounts, blocked]);
    expect(await accepts(circuit, honest)).toBe(false);
    const sentinel = registryPath(accounts, 0);
    const viaSentinel = {
      ...honest,
      registry0Key: [0n, 0n],
      registry0Next: [accounts.keys[0]! + 1n, 0n],
      registry0Siblings: [sentinel.siblings, [0n, 0n]],
      registry0Bits: [sentinel.bits, [0, 0]],
    };
    // the sentinel leaf (0, k1 + 1, 0) really is under the root: only the key != 0 constraint stops this
    expect(registryLeaf(0n, accounts.keys[0]! + 1n, 0n)).toBe(accounts.levels[0]![0]);
    expect(
      await accepts(circuit, {
        ...viaSentinel,
        registry1Key: honest.registry1Key,
        registry1Next: honest.registry1Next,
      }),
    ).toBe(false);
    // the same dataset with acct 0 listed as an account is accepted through its own leaf
    const withZero = buildRegistry(schema, { name: 'accounts', field: 'acct', depth: 2, ids: ['0', '5'] });
    const unblocked = buildRegistry(schema, { name: 'blocked', field: 'acct', depth: 2, ids: ['40'] });
    expect(await accepts(circuit, datasetCircuitInput([zero], [3n], schema, policy, 1, [withZero, unblocked]))).toBe(
      true,
    );
  });

  it('padding records are not checked against registries, and every signal is pinned (soundness helper)', async () => {
    const { circuit, policy } = await circuitFor(policySpec);
    const input = datasetCircuitInput([record('S2', 1)], [3n], schema, policy, 1, [consent, optOut]);
    expect(await accepts(circuit, input)).toBe(true);
    const report = await checkSoundness(circuit, input);
    expect(report.checkedSignals).toBeGreaterThan(1000);
    expect(report.unpinned).toEqual([]);
    for (const hint of report.benignHints) expect(hint.name).toMatch(/\.inv$/);
  });
});

describe('registry proofs, end to end', () => {
  it('proves, verifies against trusted roots, and rejects another root; a violating dataset gets no proof', async () => {
    const policy = parsePolicy(policySpec, schema);
    const bad = createBundle(schema, [record('S1', 1, 2), record('S7', 2, 3)]);
    const refused = await proveDataset(bad, schema, policy, { registries: [consent, optOut] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PolicyViolationError);
    expect((refused as Error).message).toMatch(/row 3: id = \d+ \(encoded\) breaks registry requirement/);
    await expect(proveDataset(bad, schema, policy, { registries: [consent] })).rejects.toThrow(
      /needs registry "optout"/,
    );

    const good = createBundle(schema, [record('S1', 1, 2), record('S4', 2, 3)]);
    const result = await proveDataset(good, schema, policy, { registries: [optOut, consent] });
    expect(result.registries).toEqual([
      { name: 'consent', root: consent.root },
      { name: 'optout', root: optOut.root },
    ]);
    expect(result.publicSignals).toEqual([
      good.commitment.root,
      '2',
      policy.hash,
      schema.hash,
      consent.root,
      optOut.root,
      '0',
    ]); // context 0: an off-chain proof
    const trusted = trustedRegistryRoots(
      policy,
      new Map([
        ['consent', consent.root],
        ['optout', optOut.root],
      ]),
    );
    const expected = {
      root: good.commitment.root,
      count: 2,
      policyHash: policy.hash,
      schemaHash: schema.hash,
      registries: trusted,
    };
    expect(await verifyDatasetProof(result.prepared.keys.vkey, result.proof, result.publicSignals, expected)).toEqual({
      valid: true,
    });
    // A verifier that trusts another opt-out root (a newer list) rejects the proof.
    const newer = buildRegistry(schema, { name: 'optout', field: 'id', depth: 3, ids: ['S6', 'S7', 'S4'] });
    const stale = await verifyDatasetProof(result.prepared.keys.vkey, result.proof, result.publicSignals, {
      ...expected,
      registries: trustedRegistryRoots(
        policy,
        new Map([
          ['consent', consent.root],
          ['optout', newer.root],
        ]),
      ),
    });
    expect(stale).toMatchObject({ valid: false, reason: 'claim-mismatch' });
    expect(stale.detail).toContain('registry.optout');
    expect(() => trustedRegistryRoots(policy, new Map([['consent', consent.root]]))).toThrow(
      /checks registry "optout": say which root you trust/,
    );
    // A caller that forgets the registries does not get a valid result with the roots unchecked.
    const { registries: _omitted, ...withoutRegistries } = expected;
    expect(
      await verifyDatasetProof(result.prepared.keys.vkey, result.proof, result.publicSignals, withoutRegistries),
    ).toMatchObject({ valid: false, reason: 'wrong-signal-count' });
  }, 600_000); // the first run generates a 2^13 development ptau (about 2 minutes)

  it('chunked: every chunk proof carries the registry roots, and the verifier checks them', async () => {
    const policy = parsePolicy(policySpec, schema);
    const bundle = createBundle(
      schema,
      ['S1', 'S2', 'S3', 'S4', 'S5'].map((id, i) => record(id, i, i + 2)),
    );
    const result = await proveDatasetInChunks(bundle, schema, policy, { chunkDepth: 1, registries: [consent, optOut] });
    expect(result.chunks).toHaveLength(3);
    const roots = trustedRegistryRoots(
      policy,
      new Map([
        ['consent', consent.root],
        ['optout', optOut.root],
      ]),
    );
    const expected = { root: bundle.commitment.root, count: 5, schemaHash: schema.hash, registries: roots };
    expect(await verifyChunkedDataset(result.prepared.keys.vkey, result, expected, policy)).toEqual({ valid: true });
    const other = buildRegistry(schema, {
      name: 'consent',
      field: 'id',
      depth: 3,
      ids: ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'],
    });
    const rejected = await verifyChunkedDataset(
      result.prepared.keys.vkey,
      result,
      { ...expected, registries: [{ name: 'consent', root: other.root }, roots[1]!] },
      policy,
    );
    expect(rejected).toMatchObject({ valid: false, reason: 'claim-mismatch' });
    expect(rejected.detail).toMatch(/chunk 0/);
    expect(
      await verifyChunkedDataset(result.prepared.keys.vkey, result, { ...expected, registries: [] }, policy),
    ).toMatchObject({ valid: false, reason: 'malformed' });
  }, 600_000);
});
