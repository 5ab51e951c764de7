pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";

// Every value of a private list of N numbers lies in the public range [low, high], and the list is the one behind a
// public salted commitment: commitment = Poseidon(salt, Poseidon(values[0], ..., values[N-1])).
//
// Soundness of the range check, all arithmetic mod p (the BN254 scalar field, p > 2^253):
//   1. Num2Bits(BITS) on low and on (high - low): low = l and high - low = s (mod p) with l, s integers in [0, 2^BITS).
//      So high = l + s < 2^(BITS+1) as an integer: no wrap-around, and low <= high.
//   2. For each value v, Num2Bits(BITS) on (v - low) and on (high - v): v - low = a and high - v = b (mod p) with
//      a, b in [0, 2^BITS). Then a + b = high - low = s (mod p); a + b < 2^(BITS+1) < p and s < p, so a + b = s
//      as integers, hence 0 <= a <= s and v = low + a is an integer in [low, high].
// Num2Bits(BITS) is a strict decomposition for BITS < 253 (here 32): each bit is constrained boolean and the bits
// are constrained to sum to the input. No signal is assigned with <--.
template RangeCommitment(N, BITS) {
    signal input values[N];
    signal input salt;
    signal input low;
    signal input high;
    signal output commitment;

    component lowBits = Num2Bits(BITS);
    lowBits.in <== low;
    component spanBits = Num2Bits(BITS);
    spanBits.in <== high - low;

    component aboveLow[N];
    component belowHigh[N];
    for (var i = 0; i < N; i++) {
        aboveLow[i] = Num2Bits(BITS);
        aboveLow[i].in <== values[i] - low;
        belowHigh[i] = Num2Bits(BITS);
        belowHigh[i].in <== high - values[i];
    }

    component listHash = Poseidon(N);
    for (var i = 0; i < N; i++) {
        listHash.inputs[i] <== values[i];
    }
    component salted = Poseidon(2);
    salted.inputs[0] <== salt;
    salted.inputs[1] <== listHash.out;
    commitment <== salted.out;
}

component main {public [low, high]} = RangeCommitment(16, 32);
