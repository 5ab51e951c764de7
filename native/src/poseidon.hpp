// Poseidon over BN254's scalar field with circomlib's parameters: S-box x^5, 8 full rounds (4 before and 4 after the
// partial ones), circomlib's partial-round counts for widths t = 2 to 17, a state that starts as [0, inputs...] and
// whose first element is the hash. It is the hash of circomlib's `Poseidon(n)` and of poseidon-lite, whose round
// constants and MDS matrices JavaScript hands over (src/crypto/poseidon-native.ts); the tests compare every width
// with poseidon-lite on random inputs.
#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>
#include <utility>
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

/**
 * Poseidon of every width whose constants it was given (Montgomery form inside).
 *
 * The partial rounds run in the sparse form of the Poseidon paper's appendix B (the same permutation, exactly):
 * (1) a partial round's constants on elements 1.. only pass linearly through its S-box, so they move through the MDS
 *     matrix M into the next round's constants; each partial round then adds one constant, to element 0;
 * (2) with M = [[m00, m01], [m10, M11]] in blocks (element 0 and the rest), the matrix of partial round p factors as
 *     diag(1, M11^(p+1)) * S_p with S_p = [[m00, w_p], [v_p, I]], w_p = m01 * M11^p and v_p = M11^-(p+1) * m10; the
 *     left factor fixes element 0, so it commutes with the next round's S-box and constant and moves on into the next
 *     round's matrix, and after the last partial round diag(1, M11^RP) is applied once.
 * A partial round then costs 2t - 1 products instead of t^2: about 4x fewer for t = 17. When M11 is not invertible
 * (never for an MDS matrix) the width keeps the plain rounds.
 */
class Poseidon {
 public:
  /** Set the constants of width t: `constants` (t per round) and `mds` (t x t, row major), both in Montgomery form. */
  void set_width(unsigned t, std::vector<Fr> constants, std::vector<Fr> mds) {
    if (t < POSEIDON_MIN_WIDTH || t > POSEIDON_MAX_WIDTH) throw PoseidonError("Poseidon width must be 2 to 17");
    if (constants.size() != poseidon_constant_count(t) || mds.size() != std::size_t{t} * t)
      throw PoseidonError("Poseidon constants of the wrong size");
    Width& width = widths_[t];
    width.constants = std::move(constants);
    width.mds = std::move(mds);
    width.sparse = sparse_form(t, width.constants, width.mds);
  }

  /** Poseidon of 1 to 16 inputs (width count + 1). */
  Fr hash(const Fr* inputs, unsigned count) const {
    if (count < 1 || count + 1 > POSEIDON_MAX_WIDTH) throw PoseidonError("Poseidon takes 1 to 16 inputs");
    const unsigned t = count + 1;
    const Width& width = widths_[t];
    if (width.mds.empty()) throw PoseidonError("no Poseidon constants for this width");
    Fr state[POSEIDON_MAX_WIDTH];
    state[0] = Fr::zero();
    for (unsigned i = 0; i < count; ++i) state[i + 1] = inputs[i];
    if (width.sparse.ok) {
      hash_sparse(width, t, state);
      return state[0];
    }
    const unsigned partial = POSEIDON_PARTIAL_ROUNDS[t - POSEIDON_MIN_WIDTH];
    const Fr* constant = width.constants.data();
    for (unsigned round = 0; round < POSEIDON_FULL_ROUNDS + partial; ++round) {
      const bool full = round < POSEIDON_FULL_ROUNDS / 2 || round >= POSEIDON_FULL_ROUNDS / 2 + partial;
      for (unsigned i = 0; i < t; ++i) state[i] += *constant++;
      if (full)
        for (unsigned i = 0; i < t; ++i) state[i] = pow5(state[i]);
      else
        state[0] = pow5(state[0]);
      mix(width.mds.data(), t, state);
    }
    return state[0];
  }

  /** The same hash with the plain rounds only (t^2 products each): the tests' reference for the sparse form. */
  Fr hash_plain(const Fr* inputs, unsigned count) {
    const unsigned t = count + 1;
    Sparse saved = std::move(widths_.at(t).sparse);
    widths_[t].sparse = Sparse{};
    const Fr out = hash(inputs, count);
    widths_[t].sparse = std::move(saved);
    return out;
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
  /** The sparse form of one width (see the class comment); `ok` false keeps the plain rounds. */
  struct Sparse {
    bool ok = false;
    std::vector<Fr> first_constants;    // the first RF/2 rounds' constants, t each (as given)
    std::vector<Fr> partial_constants;  // one per partial round, added to element 0
    std::vector<Fr> last_constants;     // the last RF/2 rounds' constants, t each (the first with the carry added)
    std::vector<Fr> w;                  // per partial round, t - 1: the first row of S_p beyond m00
    std::vector<Fr> v;                  // per partial round, t - 1: the first column of S_p below m00
    std::vector<Fr> pending;            // M11^RP, (t - 1) x (t - 1), applied once after the partial rounds
  };
  struct Width {
    std::vector<Fr> constants;
    std::vector<Fr> mds;
    Sparse sparse;
  };

  static Fr pow5(const Fr& x) {
    const Fr square = x * x;
    return square * square * x;
  }

  /** state = M * state for a t x t row-major M. */
  static void mix(const Fr* m, unsigned t, Fr* state) {
    Fr mixed[POSEIDON_MAX_WIDTH];
    for (unsigned i = 0; i < t; ++i, m += t) {
      Fr sum = m[0] * state[0];
      for (unsigned j = 1; j < t; ++j) sum += m[j] * state[j];
      mixed[i] = sum;
    }
    for (unsigned i = 0; i < t; ++i) state[i] = mixed[i];
  }

  static void hash_sparse(const Width& width, unsigned t, Fr* state) {
    const Sparse& sparse = width.sparse;
    const unsigned half = POSEIDON_FULL_ROUNDS / 2;
    const unsigned n = t - 1;
    const Fr* constant = sparse.first_constants.data();
    for (unsigned round = 0; round < half; ++round) {
      for (unsigned i = 0; i < t; ++i) state[i] = pow5(state[i] + *constant++);
      mix(width.mds.data(), t, state);
    }
    const Fr m00 = width.mds[0];
    const Fr* w = sparse.w.data();
    const Fr* v = sparse.v.data();
    for (const Fr& k : sparse.partial_constants) {
      const Fr x0 = pow5(state[0] + k);
      Fr first = m00 * x0;
      for (unsigned j = 0; j < n; ++j) first += w[j] * state[j + 1];
      for (unsigned i = 0; i < n; ++i) state[i + 1] += v[i] * x0;
      state[0] = first;
      w += n;
      v += n;
    }
    Fr rest[POSEIDON_MAX_WIDTH];
    const Fr* row = sparse.pending.data();
    for (unsigned i = 0; i < n; ++i, row += n) {
      Fr sum = row[0] * state[1];
      for (unsigned j = 1; j < n; ++j) sum += row[j] * state[j + 1];
      rest[i] = sum;
    }
    for (unsigned i = 0; i < n; ++i) state[i + 1] = rest[i];
    constant = sparse.last_constants.data();
    for (unsigned round = 0; round < half; ++round) {
      for (unsigned i = 0; i < t; ++i) state[i] = pow5(state[i] + *constant++);
      mix(width.mds.data(), t, state);
    }
  }

  /** n x n row-major product a * b. */
  static std::vector<Fr> multiply(const std::vector<Fr>& a, const std::vector<Fr>& b, unsigned n) {
    std::vector<Fr> out(std::size_t{n} * n, Fr::zero());
    for (unsigned i = 0; i < n; ++i)
      for (unsigned k = 0; k < n; ++k)
        for (unsigned j = 0; j < n; ++j) out[i * n + j] += a[i * n + k] * b[k * n + j];
    return out;
  }

  /** The inverse of an n x n row-major matrix by Gauss-Jordan elimination; false when it is singular. */
  static bool invert(std::vector<Fr> a, unsigned n, std::vector<Fr>& inverse) {
    inverse.assign(std::size_t{n} * n, Fr::zero());
    for (unsigned i = 0; i < n; ++i) inverse[i * n + i] = Fr::one();
    for (unsigned column = 0; column < n; ++column) {
      unsigned pivot = column;
      while (pivot < n && a[pivot * n + column].is_zero()) ++pivot;
      if (pivot == n) return false;
      if (pivot != column)
        for (unsigned j = 0; j < n; ++j) {
          std::swap(a[pivot * n + j], a[column * n + j]);
          std::swap(inverse[pivot * n + j], inverse[column * n + j]);
        }
      const Fr scale = a[column * n + column].inverse();
      for (unsigned j = 0; j < n; ++j) {
        a[column * n + j] *= scale;
        inverse[column * n + j] *= scale;
      }
      for (unsigned i = 0; i < n; ++i) {
        if (i == column || a[i * n + column].is_zero()) continue;
        const Fr factor = a[i * n + column];
        for (unsigned j = 0; j < n; ++j) {
          a[i * n + j] -= factor * a[column * n + j];
          inverse[i * n + j] -= factor * inverse[column * n + j];
        }
      }
    }
    return true;
  }

  static Sparse sparse_form(unsigned t, const std::vector<Fr>& constants, const std::vector<Fr>& mds) {
    const unsigned n = t - 1;
    const unsigned half = POSEIDON_FULL_ROUNDS / 2;
    const unsigned partial = POSEIDON_PARTIAL_ROUNDS[t - POSEIDON_MIN_WIDTH];
    Sparse sparse;
    // M11, m01 (row 0 beyond m00) and m10 (column 0 below m00).
    std::vector<Fr> m11(std::size_t{n} * n);
    std::vector<Fr> m01(n);
    std::vector<Fr> m10(n);
    for (unsigned i = 0; i < n; ++i) {
      m01[i] = mds[i + 1];
      m10[i] = mds[(i + 1) * t];
      for (unsigned j = 0; j < n; ++j) m11[i * n + j] = mds[(i + 1) * t + j + 1];
    }
    std::vector<Fr> m11_inverse;
    if (!invert(m11, n, m11_inverse)) return Sparse{};
    // (1) The constants: each partial round keeps element 0's; the rest, carried through M, joins the next round's.
    sparse.first_constants.assign(constants.begin(), constants.begin() + std::size_t{half} * t);
    std::vector<Fr> carry(t, Fr::zero());
    for (unsigned p = 0; p < partial; ++p) {
      const Fr* round = constants.data() + std::size_t{half + p} * t;
      Fr moved[POSEIDON_MAX_WIDTH];
      for (unsigned i = 0; i < t; ++i) moved[i] = round[i] + carry[i];
      sparse.partial_constants.push_back(moved[0]);
      moved[0] = Fr::zero();
      for (unsigned i = 0; i < t; ++i) {
        Fr sum = Fr::zero();
        for (unsigned j = 1; j < t; ++j) sum += mds[i * t + j] * moved[j];
        carry[i] = sum;
      }
    }
    sparse.last_constants.assign(constants.begin() + std::size_t{half + partial} * t, constants.end());
    for (unsigned i = 0; i < t; ++i) sparse.last_constants[i] += carry[i];
    // (2) The sparse matrices: w_0 = m01, w_p = w_(p-1) * M11; v_0 = M11^-1 m10, v_p = M11^-1 v_(p-1).
    std::vector<Fr> w = m01;
    std::vector<Fr> v(n, Fr::zero());
    for (unsigned i = 0; i < n; ++i)
      for (unsigned j = 0; j < n; ++j) v[i] += m11_inverse[i * n + j] * m10[j];
    for (unsigned p = 0; p < partial; ++p) {
      sparse.w.insert(sparse.w.end(), w.begin(), w.end());
      sparse.v.insert(sparse.v.end(), v.begin(), v.end());
      std::vector<Fr> next_w(n, Fr::zero());
      std::vector<Fr> next_v(n, Fr::zero());
      for (unsigned i = 0; i < n; ++i)
        for (unsigned j = 0; j < n; ++j) {
          next_w[j] += w[i] * m11[i * n + j];
          next_v[i] += m11_inverse[i * n + j] * v[j];
        }
      w = std::move(next_w);
      v = std::move(next_v);
    }
    // M11^RP by repeated squaring.
    std::vector<Fr> power(std::size_t{n} * n, Fr::zero());
    for (unsigned i = 0; i < n; ++i) power[i * n + i] = Fr::one();
    std::vector<Fr> base = m11;
    for (unsigned e = partial; e > 0; e >>= 1) {
      if (e & 1) power = multiply(power, base, n);
      if (e > 1) base = multiply(base, base, n);
    }
    sparse.pending = std::move(power);
    sparse.ok = true;
    return sparse;
  }

  std::array<Width, POSEIDON_MAX_WIDTH + 1> widths_{};
};

}  // namespace zkai
