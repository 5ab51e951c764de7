/**
 * The one Merkle tree of zkai, for every tree it builds: dataset commitments (src/data/commitment.ts), registries
 * (src/data/registry.ts), consent trees (src/data/consent-tree.ts, src/chain/consent.ts and
 * contracts/ConsentRegistry.sol) and accuracy test sets. Its circuits are circuits/lib/merkle.circom.
 *
 * Binary, fixed depth, nodes Poseidon(2)(left, right) (circomlib's `Poseidon(2)`, the circomlibjs `poseidon(uint256[2])`
 * contract on chain), leaves in index order, every leaf after the given ones 0. The root of 2^h zero leaves is
 * zeros[h]: zeros[0] = 0 and zeros[h + 1] = Poseidon(zeros[h], zeros[h]), so a level's missing tail is zero subtrees.
 * Roots and paths are on chain and in proofs: any change here changes every commitment.
 */
import { ZkaiError } from '../errors.ts';
import { poseidon, poseidonSponges } from './poseidon.ts';

/** A leaf's sibling path: one sibling per level from the leaves up, and the leaf index's bits (least significant first: 1 when the node at that height is a right child). */
export interface MerklePath {
  siblings: bigint[];
  bits: number[];
}

/** zeros[h] for every height computed so far (they never change, and every path and sparse level needs them). */
const ZEROS: bigint[] = [0n];

/** Roots of all-zero subtrees: `zeros[h]` is the root of 2^h zero leaves, for h = 0..depth (a new array). */
export function zeroRoots(depth: number): bigint[] {
  while (ZEROS.length <= depth) ZEROS.push(poseidon([ZEROS.at(-1) as bigint, ZEROS.at(-1) as bigint]));
  return ZEROS.slice(0, depth + 1);
}

/** The smallest depth, at least 1, of a tree with room for `count` leaves (2^depth >= count). */
export function merkleDepth(count: number): number {
  let depth = 1;
  while (2 ** depth < count) depth += 1;
  return depth;
}

/**
 * The levels of the tree of `depth` over `leaves`, from the leaves up (level 0 the leaves, level `depth` the root),
 * where each level holds only its non-empty prefix, `ceil(leaves.length / 2^h)` nodes: the nodes after it are zero
 * subtrees, `zeroRoots(depth)[h]`. With no leaves, the top level is empty too ({@link merkleRoot} gives zeros[depth]).
 *
 * @throws {ZkaiError} BAD_INPUT when there are more than 2^depth leaves.
 */
export function sparseTreeLevels(leaves: readonly bigint[], depth: number): bigint[][] {
  if (leaves.length > 2 ** depth)
    throw new ZkaiError('BAD_INPUT', `${leaves.length} leaves do not fit a tree of depth ${depth}`);
  const zeros = zeroRoots(depth);
  const levels: bigint[][] = [[...leaves]];
  for (let h = 0; h < depth; h += 1) {
    const below = levels[h] as bigint[];
    const pairs: Array<[bigint, bigint]> = [];
    for (let i = 0; i < below.length; i += 2) pairs.push([below[i] as bigint, below[i + 1] ?? (zeros[h] as bigint)]);
    levels.push(poseidonSponges(pairs)); // a sponge of two elements is Poseidon(2); one native call per level
  }
  return levels;
}

/**
 * All levels of the tree of `depth` over `leaves` padded with zero leaves to 2^depth, from the leaves up: every level
 * complete (level h has 2^(depth - h) nodes), the last level is [root]. The same tree as {@link sparseTreeLevels}.
 *
 * @param depth default: the smallest that holds the leaves ({@link merkleDepth}).
 * @throws {ZkaiError} BAD_INPUT when there are more than 2^depth leaves.
 */
export function merkleLevels(leaves: readonly bigint[], depth = merkleDepth(leaves.length)): bigint[][] {
  const padding = Math.max(0, 2 ** depth - leaves.length);
  return sparseTreeLevels([...leaves, ...Array<bigint>(padding).fill(0n)], depth);
}

/** The root of a tree's levels (dense or sparse): its top node, or the root of an all-zero tree when it has no leaves. */
export function merkleRoot(levels: readonly (readonly bigint[])[]): bigint {
  const depth = levels.length - 1;
  return (levels[depth] as readonly bigint[])[0] ?? (zeroRoots(depth)[depth] as bigint);
}

/**
 * The sibling path and position bits of leaf `index` in a tree's levels (dense or sparse: a sibling past a level's
 * prefix is that level's zero subtree root). What the circuits' MerklePathRoot and MerkleIndexRoot take, and what the
 * consent contract takes to revoke a leaf.
 *
 * @throws {RangeError} when `index` is not an integer in [0, 2^depth).
 */
export function merklePath(levels: readonly (readonly bigint[])[], index: number): MerklePath {
  const depth = levels.length - 1;
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** depth)
    throw new RangeError(`leaf index ${index} is outside a tree of depth ${depth}`);
  const zeros = zeroRoots(depth);
  const siblings: bigint[] = [];
  const bits: number[] = [];
  for (let h = 0; h < depth; h += 1) {
    const position = Math.floor(index / 2 ** h);
    siblings.push((levels[h] as readonly bigint[])[position ^ 1] ?? (zeros[h] as bigint));
    bits.push(position & 1);
  }
  return { siblings, bits };
}
