pragma circom 2.1.0;

include "ml/gadgets.circom";

// Test wrapper for the gadget of circuits/ml/gadgets.circom.
component main = MaxOf(3, 3);
