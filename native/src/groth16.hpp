// A Groth16 proof from a proving key and a witness, in the form snarkjs's `groth16.prove` gives (and its verifier
// accepts): pi_a and pi_c in G1, pi_b in G2, and the public signals w[1..nPublic].
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "files.hpp"
#include "msm.hpp"

namespace zkai {

struct Proof {
  G1Affine a, c;
  G2Affine b;
  std::vector<std::string> public_signals;  // decimal
};

/**
 * Proves with `key` for `witness` (standard scalars, four limbs each; its length must be the key's signal count),
 * on `threads` threads, with r and s drawn from the operating system (getrandom). Throws FileError
 * (WITNESS_MISMATCH) for a witness of another length and Cancelled when `cancel` is raised.
 */
Proof prove(const ProvingKey& key, const std::vector<u64>& witness, unsigned threads, const CancelFlag& cancel);

/** The decimal digits of a standard integer of four limbs. */
std::string to_decimal(const u64 value[4]);

/** A uniformly random element of Fr (standard form), from the operating system's generator. */
void random_scalar(u64 out[4]);

}  // namespace zkai
