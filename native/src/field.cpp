#include "field.hpp"

#include "curve.hpp"

#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <cstdlib>
#endif

namespace zkai {

namespace {
FieldConstants make(u64 l0, u64 l1, u64 l2, u64 l3) {
  FieldConstants k{};
  k.modulus[0] = l0;
  k.modulus[1] = l1;
  k.modulus[2] = l2;
  k.modulus[3] = l3;
  derive(k);
  return k;
}
}  // namespace

const FieldConstants& FqTag::constants() {
  // q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
  static const FieldConstants k = make(0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL,
                                       0x30644e72e131a029ULL);
  return k;
}

const FieldConstants& FrTag::constants() {
  // r = 21888242871839275222246405745257275088548364400416034343698204186575808495617
  static const FieldConstants k = make(0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL,
                                       0x30644e72e131a029ULL);
  return k;
}

Fq g1_b() { return Fq::from_u64(3); }

Fq2 g2_b() {
  const Fq2 nine_plus_u{Fq::from_u64(9), Fq::from_u64(1)};
  const Fq2 three{Fq::from_u64(3), Fq::zero()};
  return three * nine_plus_u.inverse();
}

#if defined(__x86_64__)
namespace {
bool detect_adx() {
  if (const char* portable = std::getenv("ZKAI_NATIVE_PORTABLE"); portable != nullptr && portable[0] == '1') return false;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool bmi2 = (ebx >> 8) & 1;
  const bool adx = (ebx >> 19) & 1;
  return bmi2 && adx;
}
}  // namespace

bool g_use_adx = detect_adx();

// The same CIOS product as mont_mul_portable, with two carry chains at once: mulx multiplies without touching the
// flags, adox adds along the overflow flag and adcx along the carry flag. Four rounds, each t += a * b[i], then
// t += m * p with m = t0 * (-p^-1) (which zeroes t0), then a shift by one limb, done by renaming the registers. The
// result is below 2p; the last subtraction is in C++. GCC extended inline assembly: no separate assembler.
void mont_mul_adx(u64 out[4], const u64 a[4], const u64 b[4], const FieldConstants& k) {
  u64 t0, t1, t2, t3, t4, t5, lo, hi, z;
  __asm__(
      "xorq %[t0], %[t0]\n\t"
      "xorq %[t1], %[t1]\n\t"
      "xorq %[t2], %[t2]\n\t"
      "xorq %[t3], %[t3]\n\t"
      "xorq %[t4], %[t4]\n\t"
      "movq 0(%[b]), %%rdx\n\t"
      "xorq %[z], %[z]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t0]\n\t"
      "adcxq %[hi], %[t1]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t1]\n\t"
      "adcxq %[hi], %[t2]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t2]\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "mulxq 24(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[t4]\n\t"
      "movq $0, %[t5]\n\t"
      "adoxq %[z], %[t4]\n\t"
      "adcxq %[z], %[t5]\n\t"
      "adoxq %[z], %[t5]\n\t"
      "movq %[t0], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorq %[z], %[z]\n\t"
      "mulxq 0(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t0]\n\t"
      "adcxq %[hi], %[t1]\n\t"
      "mulxq 8(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t1]\n\t"
      "adcxq %[hi], %[t2]\n\t"
      "mulxq 16(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t2]\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "mulxq 24(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[t4]\n\t"
      "adoxq %[z], %[t4]\n\t"
      "adcxq %[z], %[t5]\n\t"
      "adoxq %[z], %[t5]\n\t"
      "movq 8(%[b]), %%rdx\n\t"
      "xorq %[z], %[z]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t1]\n\t"
      "adcxq %[hi], %[t2]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t2]\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[t4]\n\t"
      "mulxq 24(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t4]\n\t"
      "adcxq %[hi], %[t5]\n\t"
      "movq $0, %[t0]\n\t"
      "adoxq %[z], %[t5]\n\t"
      "adcxq %[z], %[t0]\n\t"
      "adoxq %[z], %[t0]\n\t"
      "movq %[t1], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorq %[z], %[z]\n\t"
      "mulxq 0(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t1]\n\t"
      "adcxq %[hi], %[t2]\n\t"
      "mulxq 8(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t2]\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "mulxq 16(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[t4]\n\t"
      "mulxq 24(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t4]\n\t"
      "adcxq %[hi], %[t5]\n\t"
      "adoxq %[z], %[t5]\n\t"
      "adcxq %[z], %[t0]\n\t"
      "adoxq %[z], %[t0]\n\t"
      "movq 16(%[b]), %%rdx\n\t"
      "xorq %[z], %[z]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t2]\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[t4]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t4]\n\t"
      "adcxq %[hi], %[t5]\n\t"
      "mulxq 24(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t5]\n\t"
      "adcxq %[hi], %[t0]\n\t"
      "movq $0, %[t1]\n\t"
      "adoxq %[z], %[t0]\n\t"
      "adcxq %[z], %[t1]\n\t"
      "adoxq %[z], %[t1]\n\t"
      "movq %[t2], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorq %[z], %[z]\n\t"
      "mulxq 0(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t2]\n\t"
      "adcxq %[hi], %[t3]\n\t"
      "mulxq 8(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[t4]\n\t"
      "mulxq 16(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t4]\n\t"
      "adcxq %[hi], %[t5]\n\t"
      "mulxq 24(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t5]\n\t"
      "adcxq %[hi], %[t0]\n\t"
      "adoxq %[z], %[t0]\n\t"
      "adcxq %[z], %[t1]\n\t"
      "adoxq %[z], %[t1]\n\t"
      "movq 24(%[b]), %%rdx\n\t"
      "xorq %[z], %[z]\n\t"
      "mulxq 0(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[t4]\n\t"
      "mulxq 8(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t4]\n\t"
      "adcxq %[hi], %[t5]\n\t"
      "mulxq 16(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t5]\n\t"
      "adcxq %[hi], %[t0]\n\t"
      "mulxq 24(%[a]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t0]\n\t"
      "adcxq %[hi], %[t1]\n\t"
      "movq $0, %[t2]\n\t"
      "adoxq %[z], %[t1]\n\t"
      "adcxq %[z], %[t2]\n\t"
      "adoxq %[z], %[t2]\n\t"
      "movq %[t3], %%rdx\n\t"
      "imulq %[inv], %%rdx\n\t"
      "xorq %[z], %[z]\n\t"
      "mulxq 0(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t3]\n\t"
      "adcxq %[hi], %[t4]\n\t"
      "mulxq 8(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t4]\n\t"
      "adcxq %[hi], %[t5]\n\t"
      "mulxq 16(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t5]\n\t"
      "adcxq %[hi], %[t0]\n\t"
      "mulxq 24(%[p]), %[lo], %[hi]\n\t"
      "adoxq %[lo], %[t0]\n\t"
      "adcxq %[hi], %[t1]\n\t"
      "adoxq %[z], %[t1]\n\t"
      "adcxq %[z], %[t2]\n\t"
      "adoxq %[z], %[t2]\n\t"
      : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4), [t5] "=&r"(t5),
        [lo] "=&r"(lo), [hi] "=&r"(hi), [z] "=&r"(z)
      : [a] "r"(a), [b] "r"(b), [p] "r"(k.modulus), [inv] "m"(k.inverse)
      : "rdx", "cc", "memory");
  // Rounds rename t0..t5 by one each: the result is (t4, t5, t0, t1) with t2 above it.
  const u64 t[4] = {t4, t5, t0, t1};
  u64 reduced[4];
  const u64 borrow = sub4(reduced, t, k.modulus);
  if (t2 != 0 || borrow == 0) std::memcpy(out, reduced, sizeof reduced);
  else std::memcpy(out, t, sizeof reduced);
  (void)t3;
  (void)lo;
  (void)hi;
  (void)z;
}

bool using_adx() { return g_use_adx; }
#else
bool using_adx() { return false; }
#endif

}  // namespace zkai
