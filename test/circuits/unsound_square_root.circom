pragma circom 2.1.0;
// DELIBERATELY UNSOUND (test fixture for the soundness helper): `root` is assigned with <-- and never constrained,
// so a prover may output any root. The sound version adds `root * root === square;` (and a range check).
template UnsoundSquareRoot() {
    signal input square;
    signal output root;
    signal output squared;
    root <-- square == 9 ? 3 : 0;
    squared <== square * square;
}
component main = UnsoundSquareRoot();
