import { poseidon3 } from 'poseidon-lite';
import { merklePath, merkleRoot, sparseTreeLevels, type MerklePath } from '../crypto/merkle.ts';
import { DataError, encodeCell, type CellValue } from './encode.ts';
import { ZkaiError } from '../errors.ts';
import { uniqueKey, uniqueKeyBits } from './unique.ts';
import type { Column, Schema } from './types.ts';

/**
 * A registry is a public set of subject ids (a consent set, an opt-out list), committed as the root of a sorted,
 * indexed Merkle tree, so a dataset proof can show that every record's id is IN the set (membership) or that none is
 * (non-membership), without revealing which ids the dataset holds.
 *
 * The tree is a binary Poseidon(2) tree of 2^depth leaves. Its ids are sorted by their key (the same key UNIQUE uses:
 * an integer id's encoded value, a string id's low 128 hash bits) and every leaf links to the next key:
 *
 *     leaf 0      = Poseidon(0,         k1 + 1,   0)      the sentinel: below every key
 *     leaf i (>0) = Poseidon(ki + 1,    k(i+1) + 1 or 0 for the last id,   vi)
 *     other leaves are 0 (no Poseidon output is 0 except with negligible probability)
 *
 * where vi is the encoded id and keys are stored plus one so that 0 can mean "none". Then:
 * - membership of v: a leaf (key, next, v) with key != 0 lies under the root (the sentinel is the only leaf with key 0);
 * - non-membership of v with key k: a leaf (low, next, _) lies under the root with low < k + 1 and either next = 0 or
 *   k + 1 < next. In a sorted list of distinct keys no such leaf exists when k is present: the leaf before it has
 *   next = k + 1 and its own leaf has low = k + 1. Equal ids have equal keys, so excluding the key excludes the id.
 */
export const REGISTRY_FORMAT = 'zkai-registry-v1';

/** Deepest registry tree: 2^24 - 1 ids (the circuit pays about 240 constraints per level per record). */
export const MAX_REGISTRY_DEPTH = 24;

/** A registry loaded and rebuilt: the ids, their tree, and indexes for proving. */
export interface Registry {
  name: string;
  field: string;
  schemaHash: string;
  depth: number;
  /** Root, decimal string: what a verifier trusts. */
  root: string;
  /** The ids as written (column units), in key order. */
  ids: string[];
  /** Encoded ids in key order. */
  values: bigint[];
  /** Keys (not yet plus one) in increasing order. */
  keys: bigint[];
  /** Tree levels from the leaves up; level h holds only its non-empty prefix (the rest are zero subtrees). */
  levels: bigint[][];
  /**
   * Consent trees kept on chain (src/data/consent-tree.ts) are in insertion order, not sorted: the leaf index of each
   * id, aligned with `keys`. Their leaves link to nothing (next = 0), so they prove membership only.
   */
  leafIndex?: number[];
  /** For a consent tree: where it was read and what the data holder gave (see {@link ConsentDetails}). */
  consent?: ConsentDetails;
}

/** Where and when a consent tree was read from the chain (kept in a consent registry file). */
export interface ConsentSource {
  chainId: number;
  /** The ConsentRegistry contract's address. */
  contract: string;
  /** The purpose as it was named (a name or its 0x id), and its id. */
  purpose: string;
  purposeId: string;
  /** The block whose state the leaves and root are. */
  blockNumber: number;
  /** Unix time of that block. */
  blockTime: number;
  /** Seconds a replaced root stays acceptable to the registry (the purpose's window at that block). */
  rootWindow: number;
}

/** What a consent tree registry knows beyond its tree: its source and the data holder's ids, for messages. */
export interface ConsentDetails {
  source?: ConsentSource;
  /** Every id the data holder gave, as written (also those without live consent), in the order given. */
  givenIds: string[];
  /**
   * The leaf each revoked grant had, by leaf index (from the chain's grant events). It only serves to say "revoked"
   * instead of "never granted": it does not enter the root, so a file cannot vouch for it.
   */
  revoked: ReadonlyMap<number, bigint>;
}

/** The public registry file: the set itself and its root (the file a registry operator publishes). */
export interface RegistryFile {
  format: typeof REGISTRY_FORMAT;
  /** Absent (or "sorted") for a sorted registry. */
  kind?: 'sorted';
  name: string;
  /** The schema column whose values the registry lists, and that schema's hash (the encoding depends on it). */
  field: string;
  schemaHash: string;
  depth: number;
  root: string;
  size: number;
  ids: string[];
}

/**
 * A registry file of kind "consent": a purpose's on-chain consent tree as read at one block (`zkai chain consent tree
 * --out`), and the ids of the data holder's subjects, which are looked up in it. Its root is the chain's root at that
 * block; loading it rebuilds the tree from `leaves` and refuses a file whose root differs.
 */
export interface ConsentRegistryFile {
  format: typeof REGISTRY_FORMAT;
  kind: 'consent';
  name: string;
  field: string;
  schemaHash: string;
  depth: number;
  root: string;
  /** Where the tree was read: chain, contract, purpose, block and its time, root window. */
  chain: ConsentSource;
  /** The chain's leaves by index (decimal), "0" where consent was revoked. */
  leaves: string[];
  /** The leaf each revoked grant had (from its grant event), for messages that tell "revoked" from "never granted". */
  revoked: Array<{ index: number; leaf: string }>;
  /** The data holder's ids, as written in the data (not public: they say whom the holder's data is about). */
  ids: string[];
  /** How many of `ids` have live consent in the tree. */
  live: number;
}

/** A registry that does not fit, or a registry file that is malformed. */
export class RegistryError extends ZkaiError {
  constructor(message: string, hint?: string) {
    super('BAD_REGISTRY', message, hint ? { hint } : undefined);
  }
}

/** A registry leaf: (stored key, stored next key, encoded value). */
export function registryLeaf(storedKey: bigint, storedNext: bigint, value: bigint): bigint {
  return poseidon3([storedKey, storedNext, value]);
}

/** The column a registry lists: it must exist and not be nullable. */
export function registryColumn(schema: Schema, field: string, what = 'registry'): Column {
  const column = schema.columns.find((c) => c.name === field);
  if (!column)
    throw new RegistryError(
      `${what}: "${field}" is not a column of schema "${schema.spec.name}" (columns: ${schema.columns.map((c) => c.name).join(', ')})`,
    );
  if (column.nullable)
    throw new RegistryError(
      `${what}: column ${field} is nullable; a registry needs a column whose records always hold a value`,
    );
  return column;
}

/**
 * Build a registry from ids written in the column's units (as in the data: "P00017", 42, "2024-01-31"...). Every id
 * is encoded and checked like a data cell; a duplicate is an error naming both positions. `positions` names where
 * each id came from in messages (default `entry N`).
 */
export function buildRegistry(
  schema: Schema,
  options: { name: string; field: string; depth: number; ids: readonly CellValue[]; positions?: readonly string[] },
): Registry {
  const { name, field, depth } = options;
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name))
    throw new RegistryError(
      `registry name "${name}" must start with a letter and hold only letters, digits, _ and - (at most 64)`,
    );
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_REGISTRY_DEPTH)
    throw new RegistryError(`registry depth must be an integer from 1 to ${MAX_REGISTRY_DEPTH}, got ${depth}`);
  const column = registryColumn(schema, field, `registry ${name}`);
  const capacity = 2 ** depth - 1; // leaf 0 is the sentinel
  if (options.ids.length > capacity) {
    throw new RegistryError(
      `registry ${name}: ${options.ids.length} ids do not fit a tree of depth ${depth} (at most ${capacity})`,
      `use depth ${Math.ceil(Math.log2(options.ids.length + 1))} or more; each level costs about 240 constraints per record in a proof`,
    );
  }
  const errors: DataError[] = [];
  const entries: Array<{ id: string; value: bigint; key: bigint; position: string }> = [];
  options.ids.forEach((raw, index) => {
    const position = options.positions?.[index] ?? `entry ${index + 1}`;
    try {
      const { value } = encodeCell(column, raw, index + 1, position);
      entries.push({ id: String(raw), value, key: uniqueKey(column, value), position });
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      errors.push(error);
    }
  });
  if (errors.length > 0) {
    const shown = errors.slice(0, 20).map((e) => `  ${e.message}`);
    throw new RegistryError(
      `registry ${name}: ${errors.length} id(s) are not valid values of column ${field}:\n${shown.join('\n')}${errors.length > 20 ? `\n  ... and ${errors.length - 20} more` : ''}`,
    );
  }
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let i = 1; i < entries.length; i += 1) {
    const [before, here] = [entries[i - 1]!, entries[i]!];
    if (before.key !== here.key) continue;
    if (before.value === here.value)
      throw new RegistryError(
        `registry ${name}: id ${JSON.stringify(here.id)} is listed twice (${before.position} and ${here.position})`,
      );
    throw new RegistryError(
      `registry ${name}: ids ${JSON.stringify(before.id)} and ${JSON.stringify(here.id)} have the same ${uniqueKeyBits(column)}-bit key (a hash collision of probability about 2^-128): they cannot both be listed`,
    );
  }
  const leaves = [registryLeaf(0n, entries.length > 0 ? entries[0]!.key + 1n : 0n, 0n)];
  entries.forEach((entry, i) =>
    leaves.push(registryLeaf(entry.key + 1n, i + 1 < entries.length ? entries[i + 1]!.key + 1n : 0n, entry.value)),
  );
  const levels = sparseTreeLevels(leaves, depth);
  return {
    name,
    field,
    schemaHash: schema.hash,
    depth,
    root: merkleRoot(levels).toString(),
    ids: entries.map((e) => e.id),
    values: entries.map((e) => e.value),
    keys: entries.map((e) => e.key),
    levels,
  };
}

/** The sibling path and position bits (least significant first) of leaf `index` of a registry tree. */
export function registryPath(registry: Registry, index: number): MerklePath {
  return merklePath(registry.levels, index);
}

/** Position of a key among the registry's sorted keys, or -1. */
function keyPosition(registry: Registry, key: bigint): number {
  let low = 0;
  let high = registry.keys.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const here = registry.keys[middle] as bigint;
    if (here === key) return middle;
    if (here < key) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/** Index (into the sorted ids) of an encoded value, or -1. */
export function registryIndexOf(registry: Registry, column: Column, value: bigint): number {
  const position = keyPosition(registry, uniqueKey(column, value));
  return position >= 0 && registry.values[position] === value ? position : -1;
}

/** Is the encoded value listed? */
export function registryHas(registry: Registry, column: Column, value: bigint): boolean {
  return registryIndexOf(registry, column, value) >= 0;
}

/** Would the circuit see the value as listed? True also when another id shares its key (probability about 2^-128). */
export function registryHasKey(registry: Registry, column: Column, value: bigint): boolean {
  return keyPosition(registry, uniqueKey(column, value)) >= 0;
}

/** Witness of membership of an encoded value: its leaf's link and path. Throws when the value is not listed. */
export function membershipWitness(
  registry: Registry,
  column: Column,
  value: bigint,
): { key: bigint; next: bigint; siblings: bigint[]; bits: number[] } {
  const index = registryIndexOf(registry, column, value);
  if (index < 0) throw new ZkaiError('NOT_IN_REGISTRY', `the value is not in registry ${registry.name}`);
  if (registry.leafIndex)
    return {
      key: (registry.keys[index] as bigint) + 1n,
      next: 0n,
      ...registryPath(registry, registry.leafIndex[index] as number),
    };
  const next = index + 1 < registry.keys.length ? (registry.keys[index + 1] as bigint) + 1n : 0n;
  return { key: (registry.keys[index] as bigint) + 1n, next, ...registryPath(registry, index + 1) };
}

/**
 * Witness of non-membership of an encoded value: the leaf whose key is the largest below the value's key (the
 * sentinel when there is none), and its path. Throws when the value's key is listed.
 */
export function nonMembershipWitness(
  registry: Registry,
  column: Column,
  value: bigint,
): { lowKey: bigint; lowNext: bigint; lowValue: bigint; siblings: bigint[]; bits: number[] } {
  const witness = lowLeafWitness(registry, uniqueKey(column, value));
  if (witness.listed) throw new ZkaiError('IN_REGISTRY', `the value is in registry ${registry.name}`);
  return witness;
}

/**
 * The leaf holding the largest key below `key` (the sentinel when there is none), and its path, whether or not `key`
 * itself is listed. For a listed key this is its predecessor, whose next key is key + 1: the circuit refuses it, which
 * is what a forced proof of a listed value must show.
 */
export function lowLeafWitness(
  registry: Registry,
  key: bigint,
): { listed: boolean; lowKey: bigint; lowNext: bigint; lowValue: bigint; siblings: bigint[]; bits: number[] } {
  if (registry.leafIndex)
    throw new RegistryError(
      `registry ${registry.name} is a consent tree in insertion order: it proves membership only, not absence (use a sorted registry file for NOT-MEMBER-OF)`,
    );
  // count of keys below `key` = position of the low leaf (leaf 0 is the sentinel)
  let low = 0;
  let high = registry.keys.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((registry.keys[middle] as bigint) < key) low = middle + 1;
    else high = middle;
  }
  const listed = low < registry.keys.length && registry.keys[low] === key;
  const leafIndex = low; // keys[low - 1] is the low id, at leaf `low`; the sentinel when low = 0
  const lowKey = low === 0 ? 0n : (registry.keys[low - 1] as bigint) + 1n;
  const lowValue = low === 0 ? 0n : (registry.values[low - 1] as bigint);
  const lowNext = low < registry.keys.length ? (registry.keys[low] as bigint) + 1n : 0n;
  return { listed, lowKey, lowNext, lowValue, ...registryPath(registry, leafIndex) };
}
