/**
 * Consent trees kept on chain (contracts/ConsentRegistry.sol): an append-only binary Poseidon(2) tree whose leaves are
 * `registryLeaf(key + 1, 0, encodedId)`, in the order subjects granted consent, with 0 where consent was revoked.
 * That leaf is exactly what the dataset circuits' `RegistryMember` accepts (it does not look at `next`), so a policy's
 * MEMBER-OF requirement can be proven against a recent on-chain consent root.
 *
 * A consent leaf hashes the subject's id without a salt: an id with little entropy (a small number, a known format)
 * can be found from its leaf by trying every candidate. Use ids with entropy (random pseudonyms) for public consent
 * trees.
 */
import { encodeCell, type CellValue } from './encode.ts';
import { MAX_REGISTRY_DEPTH, RegistryError, registryColumn, registryLeaf, sparseTreeLevels, zeroRoots, type Registry } from './registry.ts';
import { uniqueKey } from './unique.ts';
import type { Column, Schema } from './types.ts';

/** The consent leaf of an encoded id of `column`. */
export function consentLeafOf(column: Column, value: bigint): bigint {
  return registryLeaf(uniqueKey(column, value) + 1n, 0n, value);
}

/** The consent leaf of an id written in the column's units (as in the data). */
export function consentLeaf(schema: Schema, field: string, id: CellValue): bigint {
  const column = registryColumn(schema, field, 'consent');
  return consentLeafOf(column, encodeCell(column, id, 1, 'consent id').value);
}

/**
 * A {@link Registry} over the on-chain consent tree, usable as a policy's MEMBER-OF registry: `leaves` are the chain's
 * leaves by index (0 where revoked); `ids` are the subject ids the data holder knows, in any order. Ids whose leaf is
 * not live in the tree are left out (they have not consented, or revoked). Its root equals the chain's root.
 */
export function consentRegistry(schema: Schema, options: { name: string; field: string; depth: number; leaves: readonly bigint[]; ids: readonly CellValue[] }): Registry {
  const { name, field, depth, leaves } = options;
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_REGISTRY_DEPTH) throw new RegistryError(`consent tree depth must be an integer from 1 to ${MAX_REGISTRY_DEPTH}, got ${depth}`);
  if (leaves.length > 2 ** depth) throw new RegistryError(`${leaves.length} consent leaves do not fit a tree of depth ${depth}`);
  const column = registryColumn(schema, field, `consent registry ${name}`);
  const position = new Map<bigint, number>();
  leaves.forEach((leaf, index) => {
    if (leaf !== 0n && !position.has(leaf)) position.set(leaf, index);
  });
  const entries: Array<{ id: string; value: bigint; key: bigint; index: number }> = [];
  const seen = new Set<bigint>();
  options.ids.forEach((raw, i) => {
    const { value } = encodeCell(column, raw, i + 1, `consent id ${i + 1}`);
    if (seen.has(value)) return;
    seen.add(value);
    const index = position.get(consentLeafOf(column, value));
    if (index !== undefined) entries.push({ id: String(raw), value, key: uniqueKey(column, value), index });
  });
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const zeros = zeroRoots(depth);
  const levels = sparseTreeLevels(leaves, depth);
  const top = levels[depth] as bigint[];
  return {
    name,
    field,
    schemaHash: schema.hash,
    depth,
    root: (top[0] ?? (zeros[depth] as bigint)).toString(),
    ids: entries.map((e) => e.id),
    values: entries.map((e) => e.value),
    keys: entries.map((e) => e.key),
    levels,
    leafIndex: entries.map((e) => e.index),
  };
}
