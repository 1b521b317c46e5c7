#!/usr/bin/env bash
# Installs the Debian packages onnx-opt needs that are not there yet (no-op when all are present).
# Usage: scripts/install-deps.sh [--eval]   (--eval adds what the evaluation harness needs)
set -euo pipefail

packages=(cmake ninja-build g++ pkg-config libonnx-dev libprotobuf-dev protobuf-compiler libabsl-dev libeigen3-dev libssl-dev
          llvm-14-tools googletest libgtest-dev libbenchmark-dev python3 nodejs
          libonnx-testdata  # ONNX backend node tests: conformance and round trips
          python3-dev pybind11-dev python3-onnx python3-pytest  # the Python module and its tests
          bsdutils  # script(1): lit-tests/driver/terminal.onnxtxt
          clang-14 libclang-rt-14-dev libomp-14-dev)  # clang: scripts/configure-sanitized.sh
if [[ "${1:-}" == "--eval" ]]; then
  packages+=(python3-numpy python3-pil python3-skimage python3-onnx espeak-ng sox fonts-dejavu-core
            python3-opencv)  # OpenCV 4.6: eval/opencv46_forward.py, lit-tests/legalize/opencv46*
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm ships with some Node.js builds; Debian's npm package conflicts with those, so only ask for
# it when there is no npm at all.
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi
