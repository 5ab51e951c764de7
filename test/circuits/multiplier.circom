pragma circom 2.1.0;
// c = a * b with a public: the smallest useful circuit for fast tests.
template Multiplier() {
    signal input a;
    signal input b;
    signal output c;
    c <== a * b;
}
component main {public [a]} = Multiplier();
