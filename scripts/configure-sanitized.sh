#!/usr/bin/env bash
# Configures the one instrumented build that both the sanitizer suite (scripts/asan-test.sh) and
# the fuzzers (scripts/fuzz.sh) use, so the library is compiled once for both:
#
#   scripts/configure-sanitized.sh <build-dir>
#
# clang-14, -fsanitize=address,undefined (-DONNX_OPT_SANITIZE=ON) plus the libFuzzer coverage
# instrumentation, -fsanitize=fuzzer-no-link, in every object (-DONNX_OPT_FUZZ=ON); only the
# <target>-fuzzer executables link libFuzzer itself (fuzz/CMakeLists.txt), the tests link
# GoogleTest's main as usual. -O1 -gline-tables-only: the optimisation level the sanitizers are
# meant for and line tables for symbolized reports, as OSS-Fuzz builds its fuzzers; more debug
# info or -O2 only costs compile time (docs/reliability.md, "What CI costs").
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:?usage: scripts/configure-sanitized.sh <build-dir>}
if ! command -v clang++-14 >/dev/null; then
  echo "configure-sanitized: clang++-14 not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
# A build directory configured before with another compiler (build-asan was GCC's until
# 2026-11-26) must start afresh: CMake cannot switch compilers in place.
cache=$build/CMakeCache.txt
if [[ -f $cache ]] && ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++-14$' "$cache"; then
  rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
fi
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DONNX_OPT_SANITIZE=ON -DONNX_OPT_FUZZ=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" >/dev/null
