pragma circom 2.1.0;
// Does not compile: a cubic constraint.
template Cube() {
    signal input a;
    signal output c;
    c <== a * a * a;
}
component main = Cube();
