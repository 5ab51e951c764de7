/**
 * Consent trees kept on chain (contracts/ConsentRegistry.sol): an append-only binary Poseidon(2) tree whose leaves are
 * `registryLeaf(account + 1, 0, account)`, in the order subjects granted consent, with 0 where consent was revoked.
 * A data subject is an account, and the contract derives the leaf from it: only the account (or its delegate, or a
 * relayed signature by it) can put it there. That leaf is exactly what the dataset circuits' `RegistryMember` accepts
 * for a record whose **address column** holds the account (it does not look at `next`), so a policy's MEMBER-OF
 * requirement on that column can be proven against a recent on-chain consent root.
 *
 * What it proves: every record's account consented. Not that the account is the person behind the record: a holder
 * can fill its data with accounts it controls (see the threat model).
 */
import { DataError, encodeCell, type CellValue } from './encode.ts';
import { merkleRoot, sparseTreeLevels } from '../crypto/merkle.ts';
import {
  MAX_REGISTRY_DEPTH,
  RegistryError,
  registryColumn,
  registryLeaf,
  type ConsentSource,
  type Registry,
} from './registry.ts';
import { uniqueKey } from './unique.ts';
import type { Column, Schema } from './types.ts';

/** The consent leaf of an encoded id of `column`. */
export function consentLeafOf(column: Column, value: bigint): bigint {
  return registryLeaf(uniqueKey(column, value) + 1n, 0n, value);
}

/**
 * The column of an on-chain consent tree: it must be an address column (the contract's leaves are derived from
 * accounts, so no other column's values can match them).
 *
 * @throws {RegistryError} naming the column and its type otherwise.
 */
export function consentColumn(schema: Schema, field: string, what: string): Column {
  const column = registryColumn(schema, field, what);
  if (column.spec.type !== 'address') {
    throw new RegistryError(
      `${what}: column ${field} is ${column.spec.type === 'integer' ? 'an' : 'a'} ${column.spec.type} column, but on-chain consent belongs to accounts: the contract derives each leaf from the subject's account, so the consent column must be of type "address" and hold each subject's account`,
    );
  }
  return column;
}

/** The consent leaf of an account written as in the data (`0x` and 40 hex digits), in an address column. */
export function consentLeaf(schema: Schema, field: string, id: CellValue): bigint {
  const column = consentColumn(schema, field, 'consent');
  return consentLeafOf(column, encodeCell(column, id, 1, 'consent id').value);
}

/** Options of {@link consentRegistry}. */
export interface ConsentRegistryOptions {
  /** The registry name the policy uses. */
  name: string;
  /** The schema column the tree's leaves hash (usually the subject id). */
  field: string;
  /** The purpose's tree depth. */
  depth: number;
  /** The chain's leaves by index (0 where revoked). */
  leaves: readonly bigint[];
  /** The subject ids the data holder knows, as written in the data, in any order (repeats are ignored). */
  ids: readonly CellValue[];
  /** Where each id came from, for messages (default `consent id N`), e.g. `ids.txt line 3`. */
  positions?: readonly string[];
  /** The leaf each revoked grant had, by index (from the grant events): lets messages say "revoked". */
  revoked?: ReadonlyMap<number, bigint>;
  /** Where and when the leaves were read from the chain (kept in the registry file). */
  source?: ConsentSource;
}

/**
 * A {@link Registry} over the on-chain consent tree, usable as a policy's MEMBER-OF registry: `leaves` are the chain's
 * leaves by index (0 where revoked); `ids` are the subject ids the data holder knows, in any order. Ids whose leaf is
 * not live in the tree are left out (they have not consented, or revoked). Its root equals the chain's root.
 *
 * @throws {RegistryError} for a bad name or depth, too many leaves, or ids that are not values of the column (every
 *   bad id is named by its position).
 */
export function consentRegistry(schema: Schema, options: ConsentRegistryOptions): Registry {
  const { name, field, depth, leaves } = options;
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name))
    throw new RegistryError(
      `registry name "${name}" must start with a letter and hold only letters, digits, _ and - (at most 64)`,
    );
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_REGISTRY_DEPTH)
    throw new RegistryError(`consent tree depth must be an integer from 1 to ${MAX_REGISTRY_DEPTH}, got ${depth}`);
  if (leaves.length > 2 ** depth)
    throw new RegistryError(`${leaves.length} consent leaves do not fit a tree of depth ${depth}`);
  const column = consentColumn(schema, field, `consent registry ${name}`);
  const position = new Map<bigint, number>();
  leaves.forEach((leaf, index) => {
    if (leaf !== 0n && !position.has(leaf)) position.set(leaf, index);
  });
  const entries: Array<{ id: string; value: bigint; key: bigint; index: number }> = [];
  const errors: DataError[] = [];
  const seen = new Set<bigint>();
  options.ids.forEach((raw, i) => {
    let value: bigint;
    try {
      value = encodeCell(column, raw, i + 1, options.positions?.[i] ?? `consent id ${i + 1}`).value;
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      errors.push(error);
      return;
    }
    if (seen.has(value)) return;
    seen.add(value);
    const index = position.get(consentLeafOf(column, value));
    if (index !== undefined) entries.push({ id: String(raw), value, key: uniqueKey(column, value), index });
  });
  if (errors.length > 0) {
    const shown = errors.slice(0, 20).map((e) => `  ${e.message}`);
    throw new RegistryError(
      `consent registry ${name}: ${errors.length} id(s) are not valid values of column ${field}:\n${shown.join('\n')}${errors.length > 20 ? `\n  ... and ${errors.length - 20} more` : ''}`,
    );
  }
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
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
    leafIndex: entries.map((e) => e.index),
    consent: {
      ...(options.source ? { source: options.source } : {}),
      givenIds: options.ids.map(String),
      revoked: new Map(options.revoked ?? []),
    },
  };
}

/** Why an id is or is not a member of a consent tree registry. */
export type ConsentStatus =
  /** Live consent at leaf `index`, and the id is among the data holder's ids: a member. */
  | { state: 'live'; index: number }
  /** Live consent at leaf `index`, but the id is not among the ids the registry was made with: not a member (yet). */
  | { state: 'unlisted'; index: number }
  /** The subject granted consent at leaf `index` and revoked it (known from the grant's leaf). */
  | { state: 'revoked'; index: number }
  /** No grant of this id in the tree. */
  | { state: 'none' };

/**
 * A lookup of the consent status of encoded ids of `column` in a consent tree registry (built once: call it per row).
 *
 * @throws {RegistryError} when the registry is not a consent tree.
 */
export function consentStatusLookup(registry: Registry, column: Column): (value: bigint) => ConsentStatus {
  if (!registry.leafIndex)
    throw new RegistryError(`registry ${registry.name} is a sorted registry, not a consent tree`);
  const live = new Map<bigint, number>();
  (registry.levels[0] as bigint[]).forEach((leaf, index) => {
    if (leaf !== 0n && !live.has(leaf)) live.set(leaf, index);
  });
  const revoked = new Map<bigint, number>();
  for (const [index, leaf] of registry.consent?.revoked ?? []) if (!revoked.has(leaf)) revoked.set(leaf, index);
  const members = new Set(registry.values);
  return (value) => {
    const leaf = consentLeafOf(column, value);
    const index = live.get(leaf);
    if (index !== undefined) return members.has(value) ? { state: 'live', index } : { state: 'unlisted', index };
    const gone = revoked.get(leaf);
    return gone === undefined ? { state: 'none' } : { state: 'revoked', index: gone };
  };
}
