#!/usr/bin/env bash
# With one source split and batches of one row, weir's lateness decisions
# must equal the per-row reference model exactly: the 10,000 NYC taxi trips
# replayed in dropoff order, hourly windows per pickup zone, 30 min bound on
# out-of-orderness. Results: 8,075 windows counting 9,948 trips; the other
# 52 trips are late rows. Two nodes, so rows cross the network.
source "$(dirname "$0")/lib.sh"

t_cluster_up 2
t_job taxi_exact
t_submit_wait "$T_JOBFILE" || t_fail "weir submit --wait failed"
t_check_job_finished

out=$T_TMP/out/taxi_exact
t_check_published "$out/results"
t_windowdiff "$T_ROOT/tests/expected/taxi_30m_results.csv" "$out/results" ||
    t_fail "results differ from tests/expected/taxi_30m_results.csv"
t_windowdiff rows "$T_ROOT/tests/expected/taxi_30m_late.csv" "$out/late" ||
    t_fail "late rows differ from tests/expected/taxi_30m_late.csv"
bad=$(t_bad_rows "$out/bad")
[ "$bad" -eq 0 ] || t_fail "$bad bad rows in $out/bad"
