#include "field.hpp"

#include "curve.hpp"

#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <cstdlib>
#endif

namespace zkai {

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

bool using_adx() { return g_use_adx; }
#else
bool using_adx() { return false; }
#endif

}  // namespace zkai
