// Internal: what the CPU offers beyond baseline x86-64 (F16C, AVX2), checked at run time, and
// the F16C float16 widening. Not part of the public API.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include <cstdint>

namespace onnx_opt::quant::internal {

#if defined(__x86_64__) && defined(__GNUC__)
// The CPU's own float16 conversion (F16C, exact), 8 values per instruction; this library is built
// for baseline x86-64, so it is used only where the CPU reports it. Returns how many leading values
// it converted (a multiple of 8).
// CPUID rather than __builtin_cpu_supports: clang 14 does not know the "f16c" feature name.
inline bool HasF16c() {
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    if ((ecx & bit_OSXSAVE) == 0 || (ecx & bit_AVX) == 0 || (ecx & bit_F16C) == 0) return false;
    // VEX instructions also need the OS to save the SSE and AVX registers (XCR0 bits 1 and 2).
    unsigned xcr0_low = 0, xcr0_high = 0;
    __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    return (xcr0_low & 6u) == 6u;
  }();
  return has;
}
// AVX2 (with the OS saving its registers), for the tile loops below.
inline bool HasAvx2() {
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!HasF16c()) return false;  // AVX and the OS's register saving, checked there
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
    return (ebx & bit_AVX2) != 0;
  }();
  return has;
}
__attribute__((target("avx,f16c"))) inline int64_t WidenHalvesF16c(const uint8_t* src, int64_t n,
                                                                   float* dst) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  return i;
}
#else
inline bool HasF16c() { return false; }
inline bool HasAvx2() { return false; }
inline int64_t WidenHalvesF16c(const uint8_t*, int64_t, float*) { return 0; }
#endif

}  // namespace onnx_opt::quant::internal
