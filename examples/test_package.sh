#!/usr/bin/env bash
# ctest's package tests (examples/CMakeLists.txt):
#   test_package.sh install      BUILD SOURCE WORK CXX BUILD_TYPE [LAUNCHER]
#     cmake --install BUILD into WORK/prefix, then build examples/ as its own project with
#     find_package(onnx_opt) from that prefix, and run it; also runs the installed onnx-opt and
#     imports the installed Python package when there is one.
#   test_package.sh subdirectory BUILD SOURCE WORK CXX BUILD_TYPE [LAUNCHER]
#     build examples/ with add_subdirectory(SOURCE), GTest made unfindable (tests are optional),
#     and run it.
set -euo pipefail
mode=$1 build=$2 source=$3 work=$4 cxx=$5 build_type=$6 launcher=${7:-}
configure=(-G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE="$build_type"
           "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g0 -DNDEBUG")
[[ -n $launcher ]] && configure+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")

case $mode in
  install)
    rm -rf "$work/prefix" "$work/installed"
    cmake --install "$build" --prefix "$work/prefix" >"$work.install.log"
    test -f "$work/prefix/include/onnx_opt/onnx_opt.h"
    test -f "$work/prefix/lib/cmake/onnx_opt/onnx_optConfig.cmake"
    cmake -S "$source/examples" -B "$work/installed" "${configure[@]}" \
      -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
    # The example must not see the source tree: only the installed headers.
    if grep -q -- "-I$source\b" "$work/installed/build.ninja"; then
      echo "test_package: the example's build includes the source tree" >&2
      exit 1
    fi
    cmake --build "$work/installed" -j2 >/dev/null
    "$work/installed/embed_example" "$work/installed"
    "$work/prefix/bin/onnx-opt" --version
    if compgen -G "$work/prefix/lib/python3/dist-packages/onnx_opt/_onnx_opt*.so" >/dev/null; then
      PYTHONPATH="$work/prefix/lib/python3/dist-packages" /usr/bin/python3 -c \
        'import onnx_opt; print("python: onnx_opt", onnx_opt.__version__, len(onnx_opt.list_passes()), "passes")'
    fi
    ;;
  subdirectory)
    rm -rf "$work/subdirectory"
    # This build compiles the whole library again and checks only that add_subdirectory works:
    # -O0 (the quantization kernels keep their -O3, quant/CMakeLists.txt; measured on 2 cores
    # without ccache: 165 s wall, 289 s CPU against -O2's 194 s, 347 s).
    configure+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -g0 -DNDEBUG")
    cmake -S "$source/examples" -B "$work/subdirectory" "${configure[@]}" \
      -DONNX_OPT_SOURCE_DIR="$source" -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON >/dev/null
    cmake --build "$work/subdirectory" -j2 --target embed_example >/dev/null
    "$work/subdirectory/embed_example" "$work/subdirectory"
    ;;
  *)
    echo "test_package: unknown mode '$mode'" >&2
    exit 2
    ;;
esac
