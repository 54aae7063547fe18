#!/usr/bin/env bash
# Latency benchmark: the hourly-zone job shape with one-second windows over
# the generator source, on a local cluster of a coordinator and two nodes.
#
#   bench/latency.sh
#
# 1. Measures the maximum rate: the generator unpaced (rate 0) for
#    WEIR_LAT_MAX_ROWS rows; rows per second from submit to finish.
# 2. Runs the generator paced at half that rate (or WEIR_LAT_RATE) for
#    WEIR_LAT_SECONDS seconds and prints the p50, p99 and p99.9 of the time
#    from a row entering its source to the window result it completed
#    being written (measured by the keyed tasks, shown by `weir status`).
# Target on the 2-core machine: p99 under 20 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${WEIR_BUILD:-build}
[[ $build == /* ]] || build=$root/$build
max_rows=${WEIR_LAT_MAX_ROWS:-3000000}
seconds=${WEIR_LAT_SECONDS:-20}
out=$root/bench/out/latency
weir=$build/weir
mkdir -p "$out"
WEIR_BUILD=$build scripts/build >"$out/build.log" 2>&1 || { tail -n 20 "$out/build.log"; exit 1; }

dir=$out/cluster
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stop() { "$weir" local down --dir "$dir" >/dev/null 2>&1 || true; }
trap stop EXIT
stop
rm -rf "$dir"
eval "$("$weir" local up --nodes 2 --dir "$dir" --port "$port" | tail -n 1)"
export WEIR_COORDINATOR

job() { # NAME ROWS RATE
    cat >"$out/$1.yaml" <<YAML
name: $1
parallelism: 4
max_key_groups: 128
source:
  type: generator
  rows: $2
  rate: $3
  seed: 1
  splits: 2
  schema:
    - {name: pickup_datetime, type: timestamp}
    - {name: pickup_location_id, type: int64}
    - {name: fare_amount, type: double}
    - {name: tip_amount, type: double}
  event_time: pickup_datetime
  watermark: {max_out_of_orderness: 30m}
key_by: [pickup_location_id]
window: {type: tumbling, size: 1s}
aggregate:
  - {fn: count, as: trips}
  - {fn: sum, field: fare_amount, as: fare_sum}
  - {fn: avg, field: tip_amount, as: tip_avg}
sink: {type: file, path: $1/results/}
YAML
    echo "$out/$1.yaml"
}

rm -rf "$out/max" "$out/paced"
start=$(date +%s.%N)
id=$("$weir" submit "$(job max "$max_rows" 0)" --wait 2>"$out/max.err") || { cat "$out/max.err"; exit 1; }
end=$(date +%s.%N)
max_rate=$(python3 -c "print(int($max_rows / ($end - $start)))")
rate=${WEIR_LAT_RATE:-$((max_rate / 2))}
rows=$((rate * seconds))
"$weir" status "$id" >"$out/max.status"

id=$("$weir" submit "$(job paced "$rows" "$rate")" --wait 2>"$out/paced.err") || { cat "$out/paced.err"; exit 1; }
"$weir" status "$id" >"$out/paced.status"
# The worst task's quantiles (each keyed task measures its own results).
read -r p50 p99 p999 n < <(awk '/^TASK +QUEUED/ { on = 1; next }
    on && NF == 7 { if ($4 > a) a = $4; if ($5 > b) b = $5; if ($6 > c) c = $6; n += $7 }
    END { print a + 0, b + 0, c + 0, n + 0 }' "$out/paced.status")

printf '\nweir latency benchmark: generator -> 1 s tumbling windows per zone (count, sum, avg), 2 nodes\n'
printf '%-28s %12s\n' "max rate (rows/s)" "$max_rate"
printf '%-28s %12s\n' "paced rate (rows/s)" "$rate"
printf '%-28s %12s\n' "paced rows" "$rows"
printf '%-28s %12s\n' "window results measured" "$n"
printf '%-28s %12s\n' "latency p50 (ms)" "$p50"
printf '%-28s %12s\n' "latency p99 (ms)" "$p99"
printf '%-28s %12s\n' "latency p99.9 (ms)" "$p999"
ok=$(python3 -c "print('met' if $p99 < 20 else 'MISSED')")
printf 'target: p99 < 20 ms at half the maximum rate: %s\n' "$ok"
