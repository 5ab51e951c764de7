// Phase times on stderr for profiling the native code by hand (ZKAI_NATIVE_TRACE=1); silent otherwise.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace zkai {

/** Phase times on stderr when ZKAI_NATIVE_TRACE=1 (for profiling; never on by default). */
struct PhaseClock {
  bool on = std::getenv("ZKAI_NATIVE_TRACE") != nullptr;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  void mark(const char* phase) {
    if (!on) return;
    const auto now = std::chrono::steady_clock::now();
    std::fprintf(stderr, "[native] %s %.1f ms\n", phase, std::chrono::duration<double, std::milli>(now - last).count());
    last = now;
  }
};

}  // namespace zkai
