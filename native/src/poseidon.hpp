// Poseidon over BN254's scalar field with circomlib's parameters: S-box x^5, 8 full rounds (4 before and 4 after the
// partial ones), circomlib's partial-round counts for widths t = 2 to 17, a state that starts as [0, inputs...] and
// whose first element is the hash. It is the hash of circomlib's `Poseidon(n)` and of poseidon-lite, whose round
// constants and MDS matrices JavaScript hands over (src/crypto/poseidon-native.ts); the tests compare every width
// with poseidon-lite on random inputs.
#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "field.hpp"

namespace zkai {

inline constexpr unsigned POSEIDON_FULL_ROUNDS = 8;
/** Partial rounds for t = 2 .. 17 (circomlib's and poseidon-lite's table). */
inline constexpr unsigned POSEIDON_PARTIAL_ROUNDS[16] = {56, 57, 56, 60, 60, 63, 64, 63,
                                                         60, 66, 60, 65, 70, 60, 64, 68};
inline constexpr unsigned POSEIDON_MIN_WIDTH = 2;
inline constexpr unsigned POSEIDON_MAX_WIDTH = 17;

/** Round constants of width t: t per round. */
inline constexpr std::size_t poseidon_constant_count(unsigned t) {
  return std::size_t{t} * (POSEIDON_FULL_ROUNDS + POSEIDON_PARTIAL_ROUNDS[t - POSEIDON_MIN_WIDTH]);
}

/** A sponge or hash asked for a width whose constants were not given, or of a bad length. */
struct PoseidonError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/** Poseidon of every width whose constants it was given (Montgomery form inside). */
class Poseidon {
 public:
  /** Set the constants of width t: `constants` (t per round) and `mds` (t x t, row major), both in Montgomery form. */
  void set_width(unsigned t, std::vector<Fr> constants, std::vector<Fr> mds) {
    if (t < POSEIDON_MIN_WIDTH || t > POSEIDON_MAX_WIDTH) throw PoseidonError("Poseidon width must be 2 to 17");
    if (constants.size() != poseidon_constant_count(t) || mds.size() != std::size_t{t} * t)
      throw PoseidonError("Poseidon constants of the wrong size");
    widths_[t].constants = std::move(constants);
    widths_[t].mds = std::move(mds);
  }

  /** Poseidon of 1 to 16 inputs (width count + 1). */
  Fr hash(const Fr* inputs, unsigned count) const {
    if (count < 1 || count + 1 > POSEIDON_MAX_WIDTH) throw PoseidonError("Poseidon takes 1 to 16 inputs");
    const unsigned t = count + 1;
    const Width& width = widths_[t];
    if (width.mds.empty()) throw PoseidonError("no Poseidon constants for this width");
    Fr state[POSEIDON_MAX_WIDTH];
    Fr mixed[POSEIDON_MAX_WIDTH];
    state[0] = Fr::zero();
    for (unsigned i = 0; i < count; ++i) state[i + 1] = inputs[i];
    const unsigned partial = POSEIDON_PARTIAL_ROUNDS[t - POSEIDON_MIN_WIDTH];
    const unsigned rounds = POSEIDON_FULL_ROUNDS + partial;
    const Fr* constant = width.constants.data();
    for (unsigned round = 0; round < rounds; ++round) {
      const bool full = round < POSEIDON_FULL_ROUNDS / 2 || round >= POSEIDON_FULL_ROUNDS / 2 + partial;
      for (unsigned i = 0; i < t; ++i) state[i] += *constant++;
      if (full)
        for (unsigned i = 0; i < t; ++i) state[i] = pow5(state[i]);
      else
        state[0] = pow5(state[0]);
      const Fr* row = width.mds.data();
      for (unsigned i = 0; i < t; ++i, row += t) {
        Fr sum = row[0] * state[0];
        for (unsigned j = 1; j < t; ++j) sum += row[j] * state[j];
        mixed[i] = sum;
      }
      for (unsigned i = 0; i < t; ++i) state[i] = mixed[i];
    }
    return state[0];
  }

  /**
   * The sponge of src/crypto/poseidon.ts (`spongeChunks`): the first call hashes up to 16 elements, each later call the
   * previous output and up to 15 more.
   */
  Fr sponge(const Fr* elements, std::size_t count) const {
    if (count == 0) throw PoseidonError("a Poseidon sponge hashes at least one element");
    const unsigned first = static_cast<unsigned>(count < 16 ? count : 16);
    Fr accumulator = hash(elements, first);
    Fr inputs[16];
    for (std::size_t start = 16; start < count; start += 15) {
      const unsigned take = static_cast<unsigned>(count - start < 15 ? count - start : 15);
      inputs[0] = accumulator;
      for (unsigned i = 0; i < take; ++i) inputs[i + 1] = elements[start + i];
      accumulator = hash(inputs, take + 1);
    }
    return accumulator;
  }

 private:
  static Fr pow5(const Fr& x) {
    const Fr square = x * x;
    return square * square * x;
  }
  struct Width {
    std::vector<Fr> constants;
    std::vector<Fr> mds;
  };
  std::array<Width, POSEIDON_MAX_WIDTH + 1> widths_{};
};

}  // namespace zkai
