#!/usr/bin/env bash
# Throughput and memory benchmark: hourly trips per pickup zone over a
# generated taxi file, on a local cluster of a coordinator and two nodes.
#
#   bench/run.sh
#
# Builds, generates the input once (cached in bench/out/), writes the job,
# starts `weir local up`, runs `weir submit --wait`, and prints a table:
# rows, wall time from submit to finish, rows per second, and the peak
# resident memory (VmHWM) of the coordinator and of every node, read before
# the cluster is stopped; then the targets: >= 1,000,000 rows/s, and every
# node under 256 MB. It also checks that every row was counted or late.
#
# Environment:
#   WEIR_BENCH_ROWS    rows to generate (default 5000000)
#   WEIR_BENCH_SEED    generator seed (default 1)
#   WEIR_BENCH_NODES   nodes (default 2)
#   WEIR_BENCH_STRICT=1  exit 3 when a target is missed
#   WEIR_BENCH_CHECKPOINT  checkpoint interval, e.g. 1s (default: none); the
#                      checkpoints' durations are printed (bench/out/run/checkpoints)
#   WEIR_BUILD         build directory (default build)
#
# Exit status: 0 when the job finished (and, if strict, met the targets),
# 1 when it did not, 3 when strict and a target was missed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rows=${WEIR_BENCH_ROWS:-5000000}
seed=${WEIR_BENCH_SEED:-1}
nodes=${WEIR_BENCH_NODES:-2}
build=${WEIR_BUILD:-build}
[[ $build == /* ]] || build=$root/$build
out=$root/bench/out
target_rows_per_s=1000000
target_node_mb=256

[[ $rows =~ ^[1-9][0-9]*$ ]] || { echo "bench: WEIR_BENCH_ROWS must be a positive integer" >&2; exit 2; }

mkdir -p "$out"
if ! WEIR_BUILD=$build scripts/build >"$out/build.log" 2>&1; then
    tail -n 30 "$out/build.log" >&2
    echo "bench: build failed (bench/out/build.log)" >&2
    exit 1
fi

# Input, generated once per (rows, seed); written under a temporary name so
# that an interrupted run never leaves a truncated file in the cache.
input=$out/trips-$rows-$seed.csv
if [ ! -s "$input" ]; then
    echo "bench: generating $rows rows into $input" >&2
    "$build/weir-gen-trips" "$rows" "$seed" >"$input.tmp"
    mv "$input.tmp" "$input"
fi

run=$out/run
rm -rf "$run"
mkdir -p "$run"
job=$run/taxi-zone-hourly.yaml
cat >"$job" <<EOF
# Written by bench/run.sh. Paths are relative to this file.
name: bench-taxi-zone-hourly
parallelism: 4
max_key_groups: 128
source:
  type: file
  path: ../$(basename "$input")
  format: csv
  splits: 2
  schema:
    - {name: pickup_datetime, type: timestamp, format: "%Y-%m-%d %H:%M:%S"}
    - {name: pickup_location_id, type: int64}
    - {name: fare_amount, type: double}
    - {name: tip_amount, type: double}
  event_time: pickup_datetime
  watermark: {max_out_of_orderness: 30m}
key_by: [pickup_location_id]
window: {type: tumbling, size: 1h}
late: {policy: file, path: late/}
aggregate:
  - {fn: count, as: trips}
  - {fn: sum, field: fare_amount, as: fare_sum}
  - {fn: avg, field: tip_amount, as: tip_avg}
sink: {type: file, path: results/, format: csv}
EOF
ck=${WEIR_BENCH_CHECKPOINT:-}
[ -z "$ck" ] || echo "checkpoint: {interval: $ck}" >>"$job"

cluster=$run/cluster
up=0
stop_cluster() {
    [ $up = 1 ] || return 0
    up=0
    timeout --kill-after=5 30 "$build/weir" local down --dir "$cluster" >/dev/null 2>&1 ||
        echo "bench: weir local down failed; see $cluster" >&2
}
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
up=1
timeout --kill-after=5 60 "$build/weir" local up --nodes "$nodes" --dir "$cluster" --port "$port" \
    >"$run/up.out" 2>"$run/up.err" || {
    cat "$run/up.err" >&2
    echo "bench: weir local up failed" >&2
    exit 1
}
endpoint=$(grep -v '^[[:space:]]*$' "$run/up.out" | tail -n 1)
[[ $endpoint == WEIR_COORDINATOR=* ]] || { echo "bench: weir local up printed no endpoint" >&2; exit 1; }
export WEIR_COORDINATOR=${endpoint#WEIR_COORDINATOR=}

# Nodes register asynchronously: wait until `weir nodes` names them all.
names=$(awk '$1 !~ /coord/ && NF >= 2 { print $1 }' "$cluster/pids")
for _ in $(seq 60); do
    listed=$(timeout 10 "$build/weir" nodes 2>/dev/null || true)
    missing=0
    for n in $names; do
        grep -qwF -- "$n" <<<"$listed" || missing=1
    done
    [ $missing = 0 ] && break
    sleep 0.5
done
[ $missing = 0 ] || { echo "bench: nodes did not register: $names" >&2; exit 1; }

echo "bench: weir submit (--wait), $rows rows, $nodes nodes" >&2
start=$(date +%s.%N)
rc=0
timeout --kill-after=5 3600 "$build/weir" submit "$job" --wait >"$run/submit.out" 2>"$run/submit.err" || rc=$?
end=$(date +%s.%N)
if [ $rc -ne 0 ]; then
    tail -n 20 "$run/submit.err" >&2
    echo "bench: the job did not finish (exit $rc); logs in $cluster" >&2
    exit 1
fi

# The job's checkpoints, while the coordinator runs.
job_id=$(grep -m 1 -v '^[[:space:]]*$' "$run/submit.out" | tr -d '[:space:]')
[ -z "$ck" ] || timeout 10 "$build/weir" checkpoints "$job_id" >"$run/checkpoints" 2>&1 || true

# Peak memory of every process, while they still run.
rss_lines=""
worst_node_kb=0
while read -r name pid; do
    kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    if [ -z "$kb" ]; then
        rss_lines+="$name gone"$'\n'
        [[ $name == *coord* ]] || worst_node_kb=-1
        continue
    fi
    rss_lines+="$name $kb"$'\n'
    if [[ $name != *coord* ]] && [ "$worst_node_kb" -ge 0 ] && [ "$kb" -gt "$worst_node_kb" ]; then
        worst_node_kb=$kb
    fi
done <"$cluster/pids"
stop_cluster

wd="python3 $root/tests/tools/windowdiff.py"
counted=$($wd sum trips "$run/results") || { echo "bench: no results in $run/results" >&2; exit 1; }
late=$($wd count --allow-missing "$run/late") || { echo "bench: cannot read $run/late" >&2; exit 1; }

wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')
rate=$(awk -v r="$rows" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", r / (e - s) }')

echo
echo "weir benchmark: trips per pickup zone and hour (count, sum, avg), splits 2, parallelism 4"
printf '%-12s %10s %12s\n' rows wall_s rows_per_s
printf '%-12s %10s %12s\n' "$rows" "$wall" "$rate"
echo
printf '%-16s %14s\n' process peak_rss_mb
while read -r name kb; do
    [ -n "$name" ] || continue
    if [ "$kb" = gone ]; then
        printf '%-16s %14s\n' "$name" "(exited)"
    else
        printf '%-16s %14s\n' "$name" "$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')"
    fi
done <<<"$rss_lines"
if [ -n "$ck" ]; then
    echo
    # Completed ones by duration (column 5), then p50, max and sizes.
    awk '$2 == "checkpoint" && $3 == "completed"' "$run/checkpoints" | sort -k5,5n |
        awk -v ck="$ck" -v ab="$(grep -c 'aborted' "$run/checkpoints" || true)" \
            '{ d[++n] = $5; s += $6; u += $7 }
             END { if (!n) { printf "checkpoints every %s: none completed\n", ck; exit }
                   printf "checkpoints every %s: %d completed, %d aborted; duration p50 %d ms, max %d ms; state %.1f MB, uploaded %.1f MB per checkpoint\n",
                   ck, n, ab, d[int((n + 1) / 2)], d[n], s / n / 1048576, u / n / 1048576 }'
fi
echo
echo "rows counted: $counted, late: $late (of $rows)"

missed=0
if [ "$rate" -ge $target_rows_per_s ]; then verdict=met; else verdict=MISSED; missed=1; fi
echo "target: >= $target_rows_per_s rows/s: $verdict"
if [ "$worst_node_kb" -ge 0 ] && [ "$worst_node_kb" -lt $((target_node_mb * 1024)) ]; then
    verdict=met
else
    verdict=MISSED
    missed=1
fi
echo "target: every node < $target_node_mb MB peak RSS: $verdict"
if [ $((counted + late)) -ne "$rows" ]; then
    echo "bench: counted + late = $((counted + late)), not $rows: rows were lost or counted twice" >&2
    exit 1
fi
if [ "${WEIR_BENCH_STRICT:-0}" = 1 ] && [ $missed = 1 ]; then
    exit 3
fi
exit 0
