pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/comparators.circom";
include "circomlib/circuits/bitify.circom";
include "../lib/merkle.circom";

// Registry membership and non-membership, against the sorted, indexed Merkle tree built by src/data/registry.ts:
//   leaf 0 = Poseidon(0, k1 + 1, 0) (sentinel), leaf i = Poseidon(ki + 1, k(i+1) + 1 or 0 when last, vi), rest 0.
// Keys are stored plus one so that 0 means "none"; keys of a registry over a column of keyBits bits lie in
// [0, 2^keyBits), so stored keys lie in [0, 2^keyBits]. A leaf's path is checked by MerklePathRoot of
// circuits/lib/merkle.circom (the prover gives the position bits; that template constrains each to 0 or 1).

// When enabled: value is listed in the registry of this root. The prover names its leaf's stored key and next key;
// the leaf (key, next, value) must lie under the root, and key != 0 (only the sentinel has key 0, and it holds 0).
template RegistryMember(depth) {
    signal input enabled;
    signal input root;
    signal input value;
    signal input key;
    signal input next;
    signal input siblings[depth];
    signal input bits[depth];

    component leaf = Poseidon(3);
    leaf.inputs[0] <== key;
    leaf.inputs[1] <== next;
    leaf.inputs[2] <== value;
    component path = MerklePathRoot(depth);
    path.leaf <== leaf.out;
    for (var i = 0; i < depth; i++) {
        path.siblings[i] <== siblings[i];
        path.bits[i] <== bits[i];
    }
    enabled * (path.root - root) === 0;

    // key != 0 when enabled: only the sentinel has key 0 (and value 0, which may be a real encoded id).
    component keyIsZero = IsZero();
    keyIsZero.in <== key;
    enabled * keyIsZero.out === 0;
}

// When enabled: no listed id has this key (so no listed id equals the value the key was read from). The prover names
// the "low" leaf, whose stored key is below key + 1 and whose next stored key is above key + 1 or 0 (none). The caller
// range-checks key to [0, 2^keyBits).
template RegistryNonMember(depth, keyBits) {
    signal input enabled;
    signal input root;
    signal input key;
    signal input lowKey;
    signal input lowNext;
    signal input lowValue;
    signal input siblings[depth];
    signal input bits[depth];

    component leaf = Poseidon(3);
    leaf.inputs[0] <== lowKey;
    leaf.inputs[1] <== lowNext;
    leaf.inputs[2] <== lowValue;
    component path = MerklePathRoot(depth);
    path.leaf <== leaf.out;
    for (var i = 0; i < depth; i++) {
        path.siblings[i] <== siblings[i];
        path.bits[i] <== bits[i];
    }
    enabled * (path.root - root) === 0;

    // The comparators need every input below 2^(keyBits + 1): key + 1 <= 2^keyBits by the caller's range check, and
    // the stored keys are checked here (a well-formed registry has them in [0, 2^keyBits] anyway).
    component lowRange = Num2Bits(keyBits + 1);
    lowRange.in <== lowKey;
    component nextRange = Num2Bits(keyBits + 1);
    nextRange.in <== lowNext;
    component above = LessThan(keyBits + 1);
    above.in[0] <== lowKey;
    above.in[1] <== key + 1;
    component below = LessThan(keyBits + 1);
    below.in[0] <== key + 1;
    below.in[1] <== lowNext;
    component last = IsZero();
    last.in <== lowNext;
    enabled * (1 - above.out) === 0;
    // next = 0 (no listed key above) or key + 1 < next; both cannot hold, since key + 1 < 0 is false.
    enabled * (1 - below.out - last.out) === 0;
}
