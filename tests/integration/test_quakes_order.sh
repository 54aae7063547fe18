#!/usr/bin/env bash
# The earthquake feed (12,569 events, stored newest first) with no
# out-of-orderness allowed (B=0), count per network per hour:
# - read bottom-up (oldest first) with one split: the results equal the
#   reference model's (tests/expected/quakes_b0_results.csv) and nothing
#   is late;
# - read as stored (newest first) with one split: only the first row is
#   counted, the other 12,568 are late, as the reference model says
#   (tests/expected/quakes_newest_first_b0_results.csv);
# - either order with two splits: the interleaving decides which rows are
#   late, but counted + late is always 12,569.
source "$(dirname "$0")/lib.sh"

feed=$T_ROOT/examples/data/usgs_earthquakes/all_month.csv
total=12569
t_cluster_up 2

# run ORDER SPLITS: runs the job over the feed in ORDER (oldest_first or
# as_stored) with SPLITS splits; sets out.
run() {
    local order=$1 splits=$2
    if [ "$order" = oldest_first ]; then
        { head -n 1 "$feed"; tail -n +2 "$feed" | tac; } >"$T_TMP/quakes.csv"
    else
        cp "$feed" "$T_TMP/quakes.csv"
    fi
    t_job "quakes_b0_s$splits" "$order-$splits"
    t_submit_wait "$T_JOBFILE" || t_fail "weir submit --wait failed ($order, $splits splits)"
    t_check_job_finished
    out=$T_TMP/out/$order-$splits
    t_check_published "$out/results"
    local bad counted late
    bad=$(t_bad_rows "$out/bad")
    [ "$bad" -eq 0 ] || t_fail "$bad bad rows ($order, $splits splits)"
    counted=$(t_windowdiff sum count "$out/results") || t_fail "no results in $out/results"
    late=$(t_windowdiff count --allow-missing "$out/late") || t_fail "cannot read $out/late"
    t_log "$order, $splits splits: $counted counted, $late late"
    [ $((counted + late)) -eq $total ] ||
        t_fail "$order, $splits splits: $counted counted + $late late != $total events"
    last_late=$late
}

run oldest_first 1
t_windowdiff "$T_ROOT/tests/expected/quakes_b0_results.csv" "$out/results" ||
    t_fail "oldest first: results differ from tests/expected/quakes_b0_results.csv"
[ "$last_late" -eq 0 ] || t_fail "oldest first: $last_late late rows, expected none"

run as_stored 1
t_windowdiff "$T_ROOT/tests/expected/quakes_newest_first_b0_results.csv" "$out/results" ||
    t_fail "as stored: results differ from tests/expected/quakes_newest_first_b0_results.csv"
[ "$last_late" -eq $((total - 1)) ] || t_fail "as stored: $last_late late rows, expected $((total - 1))"

run oldest_first 2
run as_stored 2
