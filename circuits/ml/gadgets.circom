pragma circom 2.1.0;

include "circomlib/circuits/bitify.circom";

// Fixed-point neural network gadgets. Every value is an integer (negative values are field elements p - |v|).
// Each gadget decomposes ONE bounded value into bits with Num2Bits(B) (B < 253, never a 254-bit decomposition) and
// reads quotient, remainder and sign from those bits, so every result is pinned by constraints.

// out = max(0, floor(in / 2^s)) for an integer in in [-2^(B-1), 2^(B-1)). B + 2 constraints.
// x = in + 2^(B-1) lies in [0, 2^B); its top bit is 1 exactly when in >= 0, and for in >= 0,
// floor(in / 2^s) = sum of bits s..B-2 (bit B-1 stands for the 2^(B-1) offset). The low s bits are the remainder.
template RescaleRelu(B, s) {
    assert(B >= s + 1 && B <= 252);
    signal input in;
    signal output out;
    component bits = Num2Bits(B);
    bits.in <== in + (1 << (B - 1));
    var quotient = 0;
    for (var i = s; i < B - 1; i++) {
        quotient += bits.out[i] * (1 << (i - s));
    }
    out <== bits.out[B - 1] * quotient;
}

// out = floor(in / 2^s) + 2^(B-1-s) for an integer in in [-2^(B-1), 2^(B-1)): the rescaled value shifted to be
// non-negative, in [0, 2^(B-s)) (order-preserving, for argmax). B + 1 constraints.
template RescaleShifted(B, s) {
    assert(B >= s + 1 && B <= 252);
    signal input in;
    signal output out;
    component bits = Num2Bits(B);
    bits.in <== in + (1 << (B - 1));
    var shifted = 0;
    for (var i = s; i < B; i++) {
        shifted += bits.out[i] * (1 << (i - s));
    }
    out <== shifted;
}

// low <= in <= high for compile-time integers low <= high with high - low < 2^bits: both in - low and high - in must
// decompose into bits (a negative difference is a field element far above 2^bits). 2 * bits constraints.
template InRange(bits, low, high) {
    assert(bits >= 1 && bits <= 252);
    signal input in;
    component above = Num2Bits(bits);
    above.in <== in - low;
    component below = Num2Bits(bits);
    below.in <== high - in;
}

// index = the FIRST position of the largest of n values, each in [0, 2^bits). The prover names it (one-hot `sel`);
// the constraints check that the named value is >= every value after it and > every value before it, so the index
// is unique: ties go to the lowest index.
template ArgMax(n, bits) {
    assert(n >= 1 && bits >= 1 && bits <= 252);
    signal input in[n];
    signal output index;
    signal sel[n];
    var best = 0;
    var bestValue = in[0];
    for (var k = 1; k < n; k++) {
        if (in[k] > bestValue) {
            best = k;
            bestValue = in[k];
        }
    }
    var total = 0;
    var position = 0;
    for (var k = 0; k < n; k++) {
        sel[k] <-- k == best ? 1 : 0;
        sel[k] * (sel[k] - 1) === 0;
        total += sel[k];
        position += k * sel[k];
    }
    total === 1;
    index <== position;

    signal picked[n];
    var chosen = 0;
    for (var k = 0; k < n; k++) {
        picked[k] <== sel[k] * in[k];
        chosen += picked[k];
    }
    // before[k] = 1 when the chosen index is after k (then in[k] must be strictly smaller).
    component nonNegative[n];
    for (var k = 0; k < n; k++) {
        var before = 0;
        for (var j = k + 1; j < n; j++) {
            before += sel[j];
        }
        // chosen - in[k] - before >= 0, and below 2^bits: a negative difference wraps far above 2^bits.
        nonNegative[k] = Num2Bits(bits);
        nonNegative[k].in <== chosen - in[k] - before;
    }
}

// out = the largest of n values, each in [0, 2^bits) (max pooling). The prover names one position holding a largest
// value (one-hot `sel`); out is that value, and out - in[k] must decompose into bits for every k, which a negative
// difference (a field element far above 2^bits) cannot. So out is the maximum whichever position is named.
// About n * (bits + 2) constraints.
template MaxOf(n, bits) {
    assert(n >= 1 && bits >= 1 && bits <= 252);
    signal input in[n];
    signal output out;
    signal sel[n];
    var best = 0;
    for (var k = 1; k < n; k++) {
        if (in[k] > in[best]) {
            best = k;
        }
    }
    var total = 0;
    for (var k = 0; k < n; k++) {
        sel[k] <-- k == best ? 1 : 0;
        sel[k] * (sel[k] - 1) === 0;
        total += sel[k];
    }
    total === 1;
    signal picked[n];
    var chosen = 0;
    for (var k = 0; k < n; k++) {
        picked[k] <== sel[k] * in[k];
        chosen += picked[k];
    }
    out <== chosen;
    component atLeast[n];
    for (var k = 0; k < n; k++) {
        atLeast[k] = Num2Bits(bits);
        atLeast[k].in <== out - in[k];
    }
}
