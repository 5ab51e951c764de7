pragma circom 2.1.0;
include "no/such/file.circom";
template T() { signal input a; signal output b; b <== a; }
component main = T();
