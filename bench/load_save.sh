#!/usr/bin/env bash
# Load+save of a large model versus `cp` of the same files: wall time (median of 3 after a warm-up
# run, each run after `sync`), CPU time and peak RSS (/usr/bin/time). Prints a Markdown table
# (see docs/performance.md).
#   bench/load_save.sh [BUILD_DIR=build] [SIZE_MIB=1024] [WORK_DIR=/tmp/onnx-opt-bench]
set -euo pipefail
BUILD=$(realpath "${1:-build}")
SIZE_MIB=${2:-1024}
WORK=${3:-/tmp/onnx-opt-bench}
MAKE_MODEL=$BUILD/bench/make_model
ROUNDTRIP=$BUILD/bench/roundtrip
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
[[ -x $MAKE_MODEL && -x $ROUNDTRIP ]] || { echo "build make_model and roundtrip in $BUILD" >&2; exit 1; }

mkdir -p "$WORK"
rm -f "$WORK"/*.onnx "$WORK"/*.data
"$MAKE_MODEL" "$WORK/model.onnx" --size-mib "$SIZE_MIB"
"$MAKE_MODEL" "$WORK/model_ext.onnx" --size-mib "$SIZE_MIB" --external

source "$(dirname "${BASH_SOURCE[0]}")/measure.sh"  # measure CMD...: medians of 3 runs

size_mib() { du -cbm "$@" | tail -1 | cut -f1; }

report() {  # report LABEL MODEL_MIB CP_STATS RT_STATS
  read -r cp_wall cp_cpu _ <<< "$3"
  read -r rt_wall rt_cpu rt_rss <<< "$4"
  awk -v l="$1" -v m="$2" -v cw="$cp_wall" -v cc="$cp_cpu" -v rw="$rt_wall" -v rc="$rt_cpu" \
      -v rr="$rt_rss" 'BEGIN {
    printf "| %s | %d MiB | %.2f s | %.2f s (%.2fx) | %.2f s | %.2f s | %d MiB (%.2fx model) |\n",
      l, m, cw, rw, rw / cw, cc, rc, rr / 1024, rr / 1024 / m }'
}

cd "$WORK"
proto_cp=$(measure cp model.onnx copy.onnx)
proto_rt=$(measure "$ROUNDTRIP" model.onnx out.onnx)
ext_cp=$(measure sh -c 'cp model_ext.onnx copy_ext.onnx && cp model_ext.onnx.data copy_ext.onnx.data')
ext_rt=$(measure "$ROUNDTRIP" model_ext.onnx out_ext.onnx --external-data-threshold 1024)
cmp -s model.onnx out.onnx && cmp -s model_ext.onnx.data out_ext.onnx.data \
  && echo "round trips are byte-identical to their inputs" >&2

echo "| form | model | cp (wall) | load+save (wall, vs cp) | cp CPU | load+save CPU | load+save peak RSS |"
echo "|---|---|---|---|---|---|---|"
report "protobuf" "$(size_mib model.onnx)" "$proto_cp" "$proto_rt"
report "external data" "$(size_mib model_ext.onnx model_ext.onnx.data)" "$ext_cp" "$ext_rt"
echo
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
