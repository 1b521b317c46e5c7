#!/usr/bin/env bash
# Run two onnx-opt binaries over every model of eval/models.json x every configuration of
# eval/configs.json, the way eval/evaluate.js builds each configuration, and `cmp` the outputs.
# A refactoring that must not change behaviour is proven by exit status 0.
#
#   scripts/compare-outputs.sh [options] BASELINE_BIN NEW_BIN
#     --models a,b     only these model ids (default: every model of a target)
#     --configs a,b    only these configuration ids (default: all)
#     --reports        also write report=FILE with each quantize-weights run and cmp the reports
#     --no-generate    skip (and list) configurations whose sensitivity/calibration file is missing
#                      instead of generating it with BASELINE_BIN
#     --work DIR       scratch folder (default: /tmp/compare-outputs)
#     --keep-going     run every job even after a difference
#
# Per job and binary: the model (from the harness cache) is upgraded first when the configuration
# has upgrade=true and the model's opset is below configs.json's upgrade.below_opset (with that
# binary, so the upgrade is compared too), then the configuration's pipeline runs with --stats.
# Compared: the output model bytes, and the statistics printed on standard error. Each job's line
# ends with the SHA-256 of the new binary's output model (for the record of a proof).
# @SENSITIVITY@ / @CALIBRATION@ are the files evaluate.js uses (<cache>/work/sensitivity/...,
# <cache>/work/calibration/...); a missing one is made with eval/sensitivity.js /
# eval/activations.js and BASELINE_BIN (slow: minutes per target), once, and reused after.
# Skipped as evaluate.js skips them: skip_targets, only_with_matmul members without MatMul.
# The cache (ONNX_OPT_MODEL_CACHE, default ~/.cache/onnx-opt/models) is shared by everyone on a
# machine and the harness re-dumps files it finds stale: for a long comparison, copy the models,
# calib/, work/calibration/ and work/sensitivity/ and point ONNX_OPT_MODEL_CACHE at the copy
# (a sensitivity_probe's folder name hashes the calibration path, so those files move folders).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
cache="${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}"
die() { echo "compare-outputs: error: $*" >&2; exit 2; }

models="" configs="" reports=0 generate=1 work=/tmp/compare-outputs keep_going=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --models) models="$2"; shift 2 ;;
    --configs) configs="$2"; shift 2 ;;
    --reports) reports=1; shift ;;
    --no-generate) generate=0; shift ;;
    --work) work="$2"; shift 2 ;;
    --keep-going) keep_going=1; shift ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[[ $# -eq 2 ]] || die "usage: compare-outputs.sh [options] BASELINE_BIN NEW_BIN (--help)"
bin_a="$(realpath "$1")" bin_b="$(realpath "$2")"
[[ -x "$bin_a" ]] || die "not an executable: $1"
[[ -x "$bin_b" ]] || die "not an executable: $2"
mkdir -p "$work"

# One line per job: target \t member \t config \t upgrade(0/1) \t pipeline (empty = none).
jobs="$(node -e '
  const [models, configs, onlyModels, onlyConfigs] = process.argv.slice(1);
  const m = require(models), c = require(configs);
  const pick = (s) => (s ? new Set(s.split(",")) : null);
  const om = pick(onlyModels), oc = pick(onlyConfigs);
  const byId = new Map(m.models.map((x) => [x.id, x]));
  for (const cfg of c.configs) {
    if (oc && !oc.has(cfg.id)) continue;
    for (const t of m.targets) {
      if ((cfg.skip_targets || []).includes(t.id)) continue;
      const hasMatmul = t.members.some((id) => byId.get(id).matmuls > 0);
      if (cfg.only_with_matmul && !hasMatmul) continue;
      for (const id of t.members) {
        if (om && !om.has(id)) continue;
        const meta = byId.get(id);
        const up = cfg.upgrade && meta.opset < c.upgrade.below_opset ? 1 : 0;
        const pipe = cfg.pipeline && !(cfg.only_with_matmul && !(meta.matmuls > 0)) ? cfg.pipeline : "";
        console.log([t.id, id, cfg.id, up, pipe].join("\t"));
      }
    }
  }' "$root/eval/models.json" "$root/eval/configs.json" "$models" "$configs")" ||
  die "cannot read eval/models.json / eval/configs.json"
upgrade_pipeline="$(node -e 'console.log(require(process.argv[1]).upgrade.pipeline)' "$root/eval/configs.json")"
default_probe='quantize-weights{bits=4,block-size=32,symmetric=false}'

# JSON.stringify of a path (how evaluate.js puts files into pipelines).
quoted() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"; }

calibration_file() {  # target member
  local f="$cache/work/calibration/$1/$2.calib"  # as eval/evaluate.js names it
  if [[ ! -f "$f" ]]; then
    [[ $generate -eq 1 ]] || return 1
    echo "compare-outputs: dumping calibration activations of $1 (eval/activations.js)" >&2
    ONNX_OPT="$bin_a" node "$root/eval/activations.js" "$1" --out-dir "$cache/work/calibration/$1" >&2
  fi
  echo "$f"
}

sensitivity_file() {  # target member probe
  local dir="$cache/work/sensitivity/$1"
  if [[ "$3" != "$default_probe" ]]; then
    dir="$dir/probe-$(printf '%s' "$3" | sha256sum | cut -c1-12)"
  fi
  local f="$dir/$2.json"
  if [[ ! -f "$f" ]]; then
    [[ $generate -eq 1 ]] || return 1
    echo "compare-outputs: measuring sensitivities of $1 (eval/sensitivity.js)" >&2
    ONNX_OPT="$bin_a" node "$root/eval/sensitivity.js" "$1" --out-dir "$dir" --probe "$3" >&2
  fi
  echo "$f"
}

# The configuration's pipeline with the harness's files in place of @SENSITIVITY@/@CALIBRATION@.
resolve_pipeline() {  # target member config pipeline
  local pipe="$4" probe f
  if [[ "$pipe" == *@SENSITIVITY@* ]]; then
    probe="$(node -e '
      const c = require(process.argv[1]).configs.find((x) => x.id === process.argv[2]);
      console.log(c.sensitivity_probe || process.argv[3])' "$root/eval/configs.json" "$3" "$default_probe")"
    if [[ "$probe" == *@CALIBRATION@* ]]; then
      f="$(calibration_file "$1" "$2")" || return 1
      probe="${probe//@CALIBRATION@/$(quoted "$f")}"
    fi
    f="$(sensitivity_file "$1" "$2" "$probe")" || return 1
    pipe="${pipe//@SENSITIVITY@/$(quoted "$f")}"
  fi
  if [[ "$pipe" == *@CALIBRATION@* ]]; then
    f="$(calibration_file "$1" "$2")" || return 1
    pipe="${pipe//@CALIBRATION@/$(quoted "$f")}"
  fi
  echo "$pipe"
}

# run BIN TAG MEMBER CONFIG UPGRADE PIPELINE: writes $work/TAG/CONFIG/MEMBER.{onnx,stats[,report.json]}
run() {
  local bin="$1" tag="$2" member="$3" config="$4" up="$5" pipe="$6"
  local src="$cache/$member.onnx" dir="$work/$tag/$config"
  mkdir -p "$dir" "$work/$tag/upgraded"
  if [[ "$up" == 1 ]]; then
    local upgraded="$work/$tag/upgraded/$member.onnx"
    if [[ ! -f "$upgraded" ]]; then
      "$bin" "$src" -p "$upgrade_pipeline" -o "$upgraded.tmp" && mv "$upgraded.tmp" "$upgraded"
    fi
    src="$upgraded"
  fi
  if [[ -z "$pipe" ]]; then
    cp "$src" "$dir/$member.onnx"
    : > "$dir/$member.stats"
    return
  fi
  if [[ $reports -eq 1 && "$pipe" == *quantize-weights* ]]; then
    # One path for both binaries (the statistics print the pipeline); moved after the run.
    local q
    q="$(quoted "$work/report.json")"
    # report= goes into the last pass (the configurations end with quantize-weights).
    if [[ "$pipe" == *\} ]]; then pipe="${pipe%\}},report=$q}"; else pipe="$pipe{report=$q}"; fi
  fi
  rm -f "$work/report.json"
  "$bin" "$src" -p "$pipe" -o "$dir/$member.onnx" --stats 2> "$dir/$member.stats" || return 1
  if [[ -f "$work/report.json" ]]; then mv "$work/report.json" "$dir/$member.report.json"; fi
}

same=0 differ=0 skipped=0
declare -a skipped_jobs=() differing=()
while IFS=$'\t' read -r target member config up pipe; do
  [[ -n "$target" ]] || continue
  if [[ ! -f "$cache/$member.onnx" ]]; then
    skipped=$((skipped + 1)); skipped_jobs+=("$member x $config (model not fetched)"); continue
  fi
  if ! resolved="$(resolve_pipeline "$target" "$member" "$config" "$pipe")"; then
    skipped=$((skipped + 1)); skipped_jobs+=("$member x $config (no sensitivity/calibration file)")
    continue
  fi
  t0=$SECONDS
  run "$bin_a" a "$member" "$config" "$up" "$resolved" || die "baseline failed on $member x $config"
  run "$bin_b" b "$member" "$config" "$up" "$resolved" || die "new binary failed on $member x $config"
  result=same
  for ext in onnx stats report.json; do
    fa="$work/a/$config/$member.$ext" fb="$work/b/$config/$member.$ext"
    [[ -e "$fa" || -e "$fb" ]] || continue
    if ! cmp -s "$fa" "$fb"; then result="DIFFERENT ($ext)"; fi
  done
  sha="$(sha256sum < "$work/b/$config/$member.onnx" | cut -d' ' -f1)"  # of the new binary's output
  printf 'compare-outputs: %-11s %-28s %s (%ds) sha256 %s\n' "$member" "$config" "$result" \
    $((SECONDS - t0)) "$sha"
  if [[ "$result" == same ]]; then
    same=$((same + 1))
    rm -f "$work"/[ab]/"$config/$member".{onnx,stats,report.json}  # keep the disk small
  else
    differ=$((differ + 1)); differing+=("$member x $config: $result")
    [[ $keep_going -eq 1 ]] || break
  fi
done <<< "$jobs"

echo "compare-outputs: $same identical, $differ different, $skipped skipped"
for s in "${skipped_jobs[@]+"${skipped_jobs[@]}"}"; do echo "  skipped: $s"; done
for d in "${differing[@]+"${differing[@]}"}"; do echo "  different: $d (files under $work)"; done
[[ $differ -eq 0 ]]
