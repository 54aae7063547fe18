#!/usr/bin/env bash
# A union of two sources into one keyed task over two nodes, with one credit
# per channel and no floating buffers, finishes (no deadlock) and equals the
# reference: once with the trips cut in two halves, once with a source that
# finishes long before the other (100 rows against 9,900).
source "$(dirname "$0")/lib.sh"

data=$T_ROOT/examples/data/nyc_taxi/yellow_tripdata_sample_2019-01.by_dropoff.csv
expected=$T_ROOT/tests/expected/taxi_24h_results.csv
t_cluster_up 2
for cut in 5000 100; do
    awk -v cut="$cut" 'NR <= cut + 1' "$data" >"$T_TMP/a.csv"
    awk -v cut="$cut" 'NR == 1 || NR > cut + 1' "$data" >"$T_TMP/b.csv"
    [ $(($(wc -l <"$T_TMP/a.csv") + $(wc -l <"$T_TMP/b.csv"))) -eq 10002 ] ||
        t_fail "cutting the trips at $cut lost rows"
    t_job union "union-$cut"
    t_submit_wait "$T_JOBFILE" 120 || t_fail "the union job (cut at $cut) did not finish"
    t_check_job_finished
    out=$T_TMP/out/union-$cut
    t_check_published "$out/results"
    t_windowdiff "$expected" "$out/results" ||
        t_fail "union cut at $cut differs from tests/expected/taxi_24h_results.csv"
    late=$(t_windowdiff count --allow-missing "$out/late") || t_fail "cannot read $out/late"
    [ "$late" -eq 0 ] || t_fail "$late late rows with a 24 h bound"
done
