# Shared by the bench scripts: `measure CMD...` runs CMD once as a warm-up, then 3 times, each
# after `sync` (no backlog of dirty pages from the previous run), and prints the medians
# "wall_s cpu_s rss_kib" (cpu = user + sys) from /usr/bin/time. Needs $WORK (scratch folder).
measure() {
  local stats=$WORK/time.txt runs=$WORK/runs.txt
  "$@" > /dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
  : > "$runs"
  for _ in 1 2 3; do
    sync
    /usr/bin/time -f "%e %U %S %M" -o "$stats" "$@" > /dev/null 2>&1
    awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$stats" >> "$runs"
  done
  local medians=()
  for column in 1 2 3; do
    medians+=("$(cut -d' ' -f$column "$runs" | sort -g | sed -n 2p)")
  done
  echo "${medians[*]}"
}
