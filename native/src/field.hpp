// BN254 prime fields in Montgomery form on four 64-bit limbs (little-endian limb order, R = 2^256).
//
// Fq is the base field of the curve (coordinates of G1 and, through Fq2, of G2); Fr is the scalar field (witness
// values, polynomial evaluations). Each field's constants are derived from its modulus alone when the program starts
// (R mod p, R^2 mod p, -p^-1 mod 2^64) at compile time, so the only numbers written here are the two moduli.
//
// Multiplication is the coarsely integrated operand scanning (CIOS) Montgomery product on `unsigned __int128`; on
// x86-64 CPUs with BMI2 and ADX, `mont_mul_adx` (field_adx.hpp, GCC extended inline assembly, no assembler file)
// does the same product with mulx/adcx/adox, chosen once at start-up. Both moduli are below 2^254, so every reduced value and every sum of two fits in four limbs.
#pragma once

#include <cstdint>
#include <cstring>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace zkai {

using u64 = std::uint64_t;

/** Inlined wherever it is called: the field operations are a few instructions, and a call per operation (GCC's
 * choice for these at -O3) costs as much as the operation. */
#define ZKAI_INLINE __attribute__((always_inline)) inline
using u128 = unsigned __int128;

/** The constants of one prime field, all derived from `modulus` (see `derive`). */
struct FieldConstants {
  u64 modulus[4];
  u64 inverse;       // -modulus^-1 mod 2^64
  u64 one[4];        // R mod p: 1 in Montgomery form
  u64 r2[4];         // R^2 mod p: converts into Montgomery form
  u64 minus_two[4];  // p - 2, the exponent of the inverse
};

/** a + b with carry out (limb arrays of four). */
constexpr u64 add4(u64 out[4], const u64 a[4], const u64 b[4]) {
#if defined(__x86_64__)
  if (!__builtin_is_constant_evaluated()) {  // one add/adc chain (the 128-bit form below compiles to more)
    unsigned long long o0 = 0, o1 = 0, o2 = 0, o3 = 0;
    unsigned char c = _addcarry_u64(0, a[0], b[0], &o0);
    c = _addcarry_u64(c, a[1], b[1], &o1);
    c = _addcarry_u64(c, a[2], b[2], &o2);
    c = _addcarry_u64(c, a[3], b[3], &o3);
    out[0] = o0;
    out[1] = o1;
    out[2] = o2;
    out[3] = o3;
    return c;
  }
#endif
  u128 carry = 0;
  for (int i = 0; i < 4; ++i) {
    carry += static_cast<u128>(a[i]) + b[i];
    out[i] = static_cast<u64>(carry);
    carry >>= 64;
  }
  return static_cast<u64>(carry);
}

/** a - b with borrow out (1 when b > a). */
constexpr u64 sub4(u64 out[4], const u64 a[4], const u64 b[4]) {
#if defined(__x86_64__)
  if (!__builtin_is_constant_evaluated()) {  // one sub/sbb chain
    unsigned long long o0 = 0, o1 = 0, o2 = 0, o3 = 0;
    unsigned char c = _subborrow_u64(0, a[0], b[0], &o0);
    c = _subborrow_u64(c, a[1], b[1], &o1);
    c = _subborrow_u64(c, a[2], b[2], &o2);
    c = _subborrow_u64(c, a[3], b[3], &o3);
    out[0] = o0;
    out[1] = o1;
    out[2] = o2;
    out[3] = o3;
    return c;
  }
#endif
  u64 borrow = 0;
  for (int i = 0; i < 4; ++i) {
    const u128 difference = static_cast<u128>(a[i]) - b[i] - borrow;
    out[i] = static_cast<u64>(difference);
    borrow = static_cast<u64>(difference >> 64) & 1;
  }
  return borrow;
}

/** a >= b, as integers. */
constexpr bool geq4(const u64 a[4], const u64 b[4]) {
  for (int i = 3; i >= 0; --i) {
    if (a[i] != b[i]) return a[i] > b[i];
  }
  return true;
}

constexpr bool is_zero4(const u64 a[4]) { return (a[0] | a[1] | a[2] | a[3]) == 0; }

/** The portable Montgomery product a * b / R mod p (CIOS); inputs below p, output below p. */
inline void mont_mul_portable(u64 out[4], const u64 a[4], const u64 b[4], const FieldConstants& k) {
  u64 t[6] = {0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) {
    u128 carry = 0;
    for (int j = 0; j < 4; ++j) {
      carry += static_cast<u128>(a[j]) * b[i] + t[j];
      t[j] = static_cast<u64>(carry);
      carry >>= 64;
    }
    carry += t[4];
    t[4] = static_cast<u64>(carry);
    t[5] = static_cast<u64>(carry >> 64);
    const u64 m = t[0] * k.inverse;
    carry = static_cast<u128>(m) * k.modulus[0] + t[0];
    carry >>= 64;
    for (int j = 1; j < 4; ++j) {
      carry += static_cast<u128>(m) * k.modulus[j] + t[j];
      t[j - 1] = static_cast<u64>(carry);
      carry >>= 64;
    }
    carry += t[4];
    t[3] = static_cast<u64>(carry);
    t[4] = t[5] + static_cast<u64>(carry >> 64);
  }
  u64 reduced[4];
  const u64 borrow = sub4(reduced, t, k.modulus);
  if (t[4] != 0 || borrow == 0) std::memcpy(out, reduced, sizeof reduced);
  else std::memcpy(out, t, sizeof reduced);
}

/** The constants of the field of modulus (l0, l1, l2, l3) (an odd prime below 2^254), computed at compile time. */
constexpr FieldConstants make_constants(u64 l0, u64 l1, u64 l2, u64 l3) {
  FieldConstants k{{l0, l1, l2, l3}, 0, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}};
  // -p^-1 mod 2^64 by Newton's iteration: x = x * (2 - p x) doubles the correct low bits each step.
  u64 x = 1;
  for (int i = 0; i < 7; ++i) x *= 2 - k.modulus[0] * x;
  k.inverse = ~x + 1;
  // R mod p and R^2 mod p by doubling 1 modulo p, 256 and 512 times.
  u64 value[4] = {1, 0, 0, 0};
  for (int i = 0; i < 512; ++i) {
    u64 doubled[4] = {0, 0, 0, 0};
    add4(doubled, value, value);  // below 2p < 2^255: no carry out
    u64 reduced[4] = {0, 0, 0, 0};
    const bool below = sub4(reduced, doubled, k.modulus) != 0;
    for (int j = 0; j < 4; ++j) value[j] = below ? doubled[j] : reduced[j];
    if (i == 255)
      for (int j = 0; j < 4; ++j) k.one[j] = value[j];
  }
  for (int j = 0; j < 4; ++j) k.r2[j] = value[j];
  const u64 two[4] = {2, 0, 0, 0};
  sub4(k.minus_two, k.modulus, two);
  return k;
}

/** q = 21888242871839275222246405745257275088696311157297823662689037894645226208583, the base field. */
inline constexpr FieldConstants FQ_CONSTANTS =
    make_constants(0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL);
/** r = 21888242871839275222246405745257275088548364400416034343698204186575808495617, the scalar field. */
inline constexpr FieldConstants FR_CONSTANTS =
    make_constants(0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL);

#if defined(__x86_64__)
/** Set once at start-up: the CPU has BMI2 and ADX (and ZKAI_NATIVE_PORTABLE is not set). */
extern bool g_use_adx;
}  // namespace zkai
#include "field_adx.hpp"
namespace zkai {
#endif

/** The Montgomery product every field element uses: the mulx/adcx/adox one when the CPU has them, else portable. */
ZKAI_INLINE void mont_mul(u64 out[4], const u64 a[4], const u64 b[4], const FieldConstants& k) {
#if defined(__x86_64__)
  if (g_use_adx) {
    mont_mul_adx(out, a, b, k);
    return;
  }
#endif
  mont_mul_portable(out, a, b, k);
}

/** Whether `mont_mul` is the mulx/adcx/adox product (for `zkai doctor` and the bench). */
bool using_adx();

/**
 * An element of the prime field `Tag::constants()`, in Montgomery form. Plain data: arrays of elements are arrays of
 * limbs, and a zkey's little-endian Montgomery coordinates are read into it byte for byte.
 */
template <typename Tag>
struct Fp {
  u64 limbs[4];

  static const FieldConstants& k() { return Tag::constants(); }
  static Fp zero() { return Fp{{0, 0, 0, 0}}; }
  static Fp one() {
    Fp out;
    std::memcpy(out.limbs, k().one, sizeof out.limbs);
    return out;
  }
  /** From a standard integer below p (four limbs) into Montgomery form. */
  static Fp from_standard(const u64 value[4]) {
    Fp out;
    mont_mul(out.limbs, value, k().r2, k());
    return out;
  }
  static Fp from_u64(u64 value) {
    const u64 limbs[4] = {value, 0, 0, 0};
    return from_standard(limbs);
  }
  /** The standard integer (four limbs). */
  void to_standard(u64 out[4]) const {
    const u64 unit[4] = {1, 0, 0, 0};
    mont_mul(out, limbs, unit, k());
  }

  bool is_zero() const { return is_zero4(limbs); }
  bool operator==(const Fp& other) const { return std::memcmp(limbs, other.limbs, sizeof limbs) == 0; }
  bool operator!=(const Fp& other) const { return !(*this == other); }

  // The sums and differences select with masks, not branches: whether a reduction is needed is data, and a
  // mispredicted branch costs about as much as the operation.
  ZKAI_INLINE friend Fp operator+(const Fp& a, const Fp& b) {
    u64 sum[4];
    add4(sum, a.limbs, b.limbs);  // below 2p < 2^255: no carry out
    u64 reduced[4];
    const u64 keep = 0 - sub4(reduced, sum, k().modulus);  // all ones when sum < p
    Fp out;
    for (int i = 0; i < 4; ++i) out.limbs[i] = (sum[i] & keep) | (reduced[i] & ~keep);
    return out;
  }
  ZKAI_INLINE friend Fp operator-(const Fp& a, const Fp& b) {
    Fp out;
    const u64 wrap = 0 - sub4(out.limbs, a.limbs, b.limbs);  // all ones when a < b
    const u64* p = k().modulus;
    const u64 addend[4] = {p[0] & wrap, p[1] & wrap, p[2] & wrap, p[3] & wrap};
    add4(out.limbs, out.limbs, addend);
    return out;
  }
  Fp operator-() const { return is_zero() ? *this : zero() - *this; }
  ZKAI_INLINE friend Fp operator*(const Fp& a, const Fp& b) {
    Fp out;
    mont_mul(out.limbs, a.limbs, b.limbs, k());
    return out;
  }
  Fp& operator+=(const Fp& b) { return *this = *this + b; }
  Fp& operator-=(const Fp& b) { return *this = *this - b; }
  Fp& operator*=(const Fp& b) { return *this = *this * b; }
  Fp square() const { return *this * *this; }
  Fp doubled() const { return *this + *this; }

  /** this^e for a standard exponent of four limbs. */
  Fp pow(const u64 e[4]) const {
    Fp result = one();
    for (int i = 255; i >= 0; --i) {
      result = result.square();
      if ((e[i / 64] >> (i % 64)) & 1) result *= *this;
    }
    return result;
  }
  /** The inverse (0 for 0), by Fermat: this^(p-2). */
  Fp inverse() const { return pow(k().minus_two); }
};

struct FqTag {
  static constexpr const FieldConstants& constants() { return FQ_CONSTANTS; }
};
struct FrTag {
  static constexpr const FieldConstants& constants() { return FR_CONSTANTS; }
};
using Fq = Fp<FqTag>;
using Fr = Fp<FrTag>;

/** Montgomery's trick: replaces every nonzero element of `values` by its inverse with one field inversion. */
template <typename F>
void batch_inverse(F* values, std::size_t count, F* scratch) {
  F running = F::one();
  for (std::size_t i = 0; i < count; ++i) {
    scratch[i] = running;
    if (!values[i].is_zero()) running *= values[i];
  }
  F inverse = running.inverse();
  for (std::size_t i = count; i-- > 0;) {
    if (values[i].is_zero()) continue;
    const F original = values[i];
    values[i] = inverse * scratch[i];
    inverse *= original;
  }
}

}  // namespace zkai
