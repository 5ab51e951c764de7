pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";

// The Merkle templates every zkai circuit uses: the tree of src/crypto/merkle.ts (binary, node = Poseidon(2)(left,
// right), leaves in index order, 0 past the last one). Dataset circuits (circuits/data/dataset.circom) rebuild a whole
// tree with MerkleRoot; registry membership (circuits/data/registry.circom) checks a path with MerklePathRoot (bits
// given by the prover); record inclusion (circuits/data/inclusion.circom) with MerkleIndexRoot (bits of an index).
// No template here uses `<--`: every signal is fixed by `<==` or checked with `===`.

// The root of 2^depth leaves, every node hashed (2^depth - 1 Poseidon(2)).
template MerkleRoot(depth) {
    var n = 1 << depth;
    signal input leaves[n];
    signal output root;
    component hashes[n - 1];
    signal level[2 * n - 1];
    for (var i = 0; i < n; i++) {
        level[i] <== leaves[i];
    }
    // Nodes are stored level by level after the leaves: node k (k >= n) hashes the pair starting at 2 * (k - n).
    for (var k = 0; k < n - 1; k++) {
        hashes[k] = Poseidon(2);
        hashes[k].inputs[0] <== level[2 * k];
        hashes[k].inputs[1] <== level[2 * k + 1];
        level[n + k] <== hashes[k].out;
    }
    root <== level[2 * n - 2];
}

// The root seen from one leaf: bits[i] (1 when the node at height i is a right child) and one sibling per level, from
// the leaves up (merklePath in src/crypto/merkle.ts).
// SOUNDNESS: this template does NOT constrain the bits. The caller must pin every bit to 0 or 1 (MerklePathRoot and
// MerkleIndexRoot below do); with a non-boolean bit the hashed pair is not a permutation of (node, sibling) and the
// "root" proves nothing. It exists so that each of those pays for its bits only once.
template MerklePathRootUncheckedBits(depth) {
    signal input leaf;
    signal input siblings[depth];
    signal input bits[depth];
    signal output root;
    component hashes[depth];
    signal node[depth + 1];
    signal left[depth];
    node[0] <== leaf;
    for (var i = 0; i < depth; i++) {
        // bit 0: (node, sibling); bit 1: (sibling, node). One multiplication; the right input is linear in the rest,
        // so for a boolean bit the pair is always a permutation of (node, sibling).
        left[i] <== node[i] + bits[i] * (siblings[i] - node[i]);
        hashes[i] = Poseidon(2);
        hashes[i].inputs[0] <== left[i];
        hashes[i].inputs[1] <== node[i] + siblings[i] - left[i];
        node[i + 1] <== hashes[i].out;
    }
    root <== node[depth];
}

// The root seen from one leaf, with the position bits as inputs: each bit is constrained to 0 or 1 here.
template MerklePathRoot(depth) {
    signal input leaf;
    signal input siblings[depth];
    signal input bits[depth];
    signal output root;
    component path = MerklePathRootUncheckedBits(depth);
    path.leaf <== leaf;
    for (var i = 0; i < depth; i++) {
        bits[i] * (bits[i] - 1) === 0;
        path.siblings[i] <== siblings[i];
        path.bits[i] <== bits[i];
    }
    root <== path.root;
}

// The root seen from leaf number `index`: the index is decomposed with Num2Bits(depth), which pins every bit to 0 or 1
// and the index to [0, 2^depth), and its bits, least significant first, are the path's position bits.
template MerkleIndexRoot(depth) {
    signal input leaf;
    signal input index;
    signal input siblings[depth];
    signal output root;
    component bits = Num2Bits(depth);
    bits.in <== index;
    component path = MerklePathRootUncheckedBits(depth);
    path.leaf <== leaf;
    for (var i = 0; i < depth; i++) {
        path.siblings[i] <== siblings[i];
        path.bits[i] <== bits.out[i];
    }
    root <== path.root;
}
