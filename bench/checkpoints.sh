#!/usr/bin/env bash
# Throughput with and without checkpoints: bench/run.sh twice over the same
# generated file (default 20,000,000 rows, so that a run lasts several
# seconds), once without checkpoints and once with one every second, then
# a table and the target: with checkpoints >= 90 % of the rows per second
# without. Environment as for bench/run.sh (WEIR_BENCH_ROWS, ...), plus
# WEIR_BENCH_CHECKPOINT (default 1s).
set -euo pipefail
cd "$(dirname "$0")/.."
export WEIR_BENCH_ROWS=${WEIR_BENCH_ROWS:-20000000}
ck=${WEIR_BENCH_CHECKPOINT:-1s}
out=bench/out
mkdir -p "$out"
WEIR_BENCH_CHECKPOINT= bench/run.sh >"$out/ck-none.txt"
WEIR_BENCH_CHECKPOINT=$ck bench/run.sh >"$out/ck-on.txt"
rate() { awk 'f { print $3; exit } $1 == "rows" && $3 == "rows_per_s" { f = 1 }' "$1"; }
wall() { awk 'f { print $2; exit } $1 == "rows" && $3 == "rows_per_s" { f = 1 }' "$1"; }
none=$(rate "$out/ck-none.txt")
on=$(rate "$out/ck-on.txt")
echo "weir benchmark: checkpoints ($WEIR_BENCH_ROWS rows, the job of bench/run.sh)"
printf '%-22s %10s %12s\n' run wall_s rows_per_s
printf '%-22s %10s %12s\n' "no checkpoints" "$(wall "$out/ck-none.txt")" "$none"
printf '%-22s %10s %12s\n' "checkpoint every $ck" "$(wall "$out/ck-on.txt")" "$on"
grep '^checkpoints every' "$out/ck-on.txt" || true
pct=$(awk -v a="$on" -v b="$none" 'BEGIN { printf "%.0f", 100 * a / b }')
echo "with checkpoints: $pct % of the throughput without"
if [ "$pct" -ge 90 ]; then echo "target: >= 90 %: met"; else echo "target: >= 90 %: MISSED"; fi
