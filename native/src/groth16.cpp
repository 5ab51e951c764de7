#include "groth16.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>

#include "msm.hpp"
#include "ntt.hpp"
#include "trace.hpp"

namespace zkai {

std::string to_decimal(const u64 value[4]) {
  u64 rest[4];
  std::memcpy(rest, value, sizeof rest);
  std::string digits;
  while (!is_zero4(rest)) {
    // Divide by 10^19 (fits a limb), keeping the remainder's 19 digits.
    const u64 divisor = 10000000000000000000ULL;
    u128 remainder = 0;
    for (int i = 3; i >= 0; --i) {
      const u128 current = (remainder << 64) | rest[i];
      rest[i] = static_cast<u64>(current / divisor);
      remainder = current % divisor;
    }
    u64 chunk = static_cast<u64>(remainder);
    for (int d = 0; d < 19; ++d) {
      digits.push_back(static_cast<char>('0' + chunk % 10));
      chunk /= 10;
    }
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  if (digits.empty()) digits = "0";
  return std::string(digits.rbegin(), digits.rend());
}

void random_scalar(u64 out[4]) {
  // Rejection sampling of 254-bit numbers below r: unbiased, and about one draw in four is refused.
  for (;;) {
    std::uint8_t bytes[32];
    std::size_t filled = 0;
    while (filled < sizeof bytes) {
      const ssize_t got = getrandom(bytes + filled, sizeof bytes - filled, 0);
      if (got < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("the operating system's random generator failed: ") + std::strerror(errno));
      }
      filled += static_cast<std::size_t>(got);
    }
    std::memcpy(out, bytes, 32);
    out[3] &= (u64{1} << 62) - 1;
    if (!geq4(out, Fr::k().modulus)) return;
  }
}

namespace {

/** The values of A (or B) at the domain's points, in Montgomery form, and C = A * B point by point. */
void evaluate_abc(const ProvingKey& key, const std::vector<u64>& witness, std::vector<Fr>& a, std::vector<Fr>& b,
                  std::vector<Fr>& c) {
  a.assign(key.domain_size, Fr::zero());
  b.assign(key.domain_size, Fr::zero());
  for (const Coefficient& entry : key.coefficients) {
    Fr product;
    // The stored coefficient is k R^2 (standard limbs) and the witness value w standard: their Montgomery product
    // is k w R, the Montgomery form of k w.
    mont_mul(product.limbs, entry.value.limbs, &witness[4 * entry.signal], Fr::k());
    (entry.matrix == 0 ? a : b)[entry.constraint] += product;
  }
  c.resize(key.domain_size);
  for (std::size_t i = 0; i < key.domain_size; ++i) c[i] = a[i] * b[i];
}

/** From values on the domain to values on its odd coset (the 2n-th roots of unity of odd index). */
void to_odd_coset(std::vector<Fr>& values, unsigned power, const CancelFlag& cancel) {
  ntt(values.data(), power, true, cancel);
  const Fr step = root_of_unity(power + 1);
  Fr factor = Fr::one();
  for (auto& value : values) {
    value *= factor;
    factor *= step;
  }
  ntt(values.data(), power, false, cancel);
}

}  // namespace

Proof prove(const ProvingKey& key, const std::vector<u64>& witness, unsigned threads, const CancelFlag& cancel) {
  if (witness.size() != static_cast<std::size_t>(key.variables) * 4)
    throw FileError("WITNESS_MISMATCH", "the witness has " + std::to_string(witness.size() / 4) +
                                            " values and the proving key's circuit " + std::to_string(key.variables) +
                                            " signals: it is the witness of another circuit");
  if (threads == 0) threads = 1;

  PhaseClock clock;
  // The quotient's scalars: (A B - C) on the odd coset, in standard form (the zkey's H points fold in 1 / Z), written
  // over A's values once B and C are spent (one buffer fewer at the peak).
  std::vector<Fr> quotient;
  {
    std::vector<Fr> a, b, c;
    evaluate_abc(key, witness, a, b, c);
    clock.mark("abc");
    check_cancel(cancel);
    auto run = [&](std::vector<Fr>& values) { to_odd_coset(values, key.power, cancel); };
    if (threads > 1) {
      auto first = std::async(std::launch::async, run, std::ref(a));
      run(b);
      run(c);
      first.get();
    } else {
      run(a);
      run(b);
      run(c);
    }
    for (std::size_t i = 0; i < key.domain_size; ++i) (a[i] * b[i] - c[i]).to_standard(a[i].limbs);
    quotient = std::move(a);
    clock.mark("ntt");
  }
  static_assert(sizeof(Fr) == 4 * sizeof(u64), "an Fr is its four limbs");
  const u64* h_scalars = quotient.front().limbs;

  const u64* w = witness.data();
  const std::size_t first_private = key.public_count + 1;
  const G1 a_sum = msm(key.a.data(), w, key.variables, threads, cancel);
  clock.mark("msm A");
  const G1 b1_sum = msm(key.b1.data(), w, key.variables, threads, cancel);
  clock.mark("msm B1");
  const G2 b2_sum = msm(key.b2.data(), w, key.variables, threads, cancel);
  clock.mark("msm B2");
  const G1 c_sum = msm(key.c.data(), w + 4 * first_private, key.variables - first_private, threads, cancel);
  clock.mark("msm C");
  const G1 h_sum = msm(key.h.data(), h_scalars, key.domain_size, threads, cancel);
  clock.mark("msm H");

  u64 r[4], s[4];
  random_scalar(r);
  random_scalar(s);
  u64 rs[4];
  {
    const Fr product = Fr::from_standard(r) * Fr::from_standard(s);
    (-product).to_standard(rs);  // -(r s)
  }
  const G1 delta1 = G1::from(key.delta1);
  const G1 pi_a = a_sum.add_affine(key.alpha1) + delta1.times(r);
  const G2 pi_b = b2_sum.add_affine(key.beta2) + G2::from(key.delta2).times(s);
  const G1 b1 = b1_sum.add_affine(key.beta1) + delta1.times(s);
  const G1 pi_c = c_sum + h_sum + pi_a.times(s) + b1.times(r) + delta1.times(rs);

  clock.mark("r, s");
  Proof proof;
  proof.a = pi_a.to_affine();
  proof.b = pi_b.to_affine();
  proof.c = pi_c.to_affine();
  for (std::size_t i = 1; i <= key.public_count; ++i) proof.public_signals.push_back(to_decimal(&witness[4 * i]));
  return proof;
}

}  // namespace zkai
