#!/usr/bin/env bash
# The example job examples/taxi-zone-hourly.yaml, unchanged (two source
# splits, four window tasks), on two nodes. Which rows are late depends on
# how the two splits interleave, but no trip may be lost or counted twice:
# trips counted + late rows = 10,000. Then the same query with a 24 h bound,
# larger than any lateness in the file, must give exactly the reference
# results whatever the interleaving.
source "$(dirname "$0")/lib.sh"

t_cluster_up 2

t_example taxi-zone-hourly
t_submit_wait "$T_JOBFILE" || t_fail "weir submit --wait failed (example job)"
t_check_job_finished
out=$T_TMP/out/taxi-zone-hourly
t_check_published "$out/results"
counted=$(t_windowdiff sum trips "$out/results") || t_fail "no results in $out/results"
late=$(t_windowdiff count --allow-missing "$out/late") || t_fail "cannot read $out/late"
bad=$(t_bad_rows "$out/bad")
t_log "example job: $counted trips counted, $late late rows, $bad bad rows"
[ "$bad" -eq 0 ] || t_fail "$bad bad rows in $out/bad"
[ $((counted + late)) -eq 10000 ] ||
    t_fail "counted ($counted) + late ($late) = $((counted + late)), not 10000"

# Every result row of a keyed task (no allowed lateness: each is written
# when the watermark passes its window) has its latency measured, also
# when the frame that moved the watermark came from the other node. (Frames
# from other nodes once lost their ingest time, and their results went
# unmeasured.)
status=$(t_weir status "$T_JOB_ID")
awk '$2 == "window" { out[$1] = $8 } /^TASK +QUEUED/ { on = 1; next }
     on && NF == 7 { if ($7 != out[$1]) { print "task " $1 ": " $7 " measured, " out[$1] " written"; bad = 1 } }
     END { exit bad }' <<<"$status" || t_fail "latency not measured for every result: $status"

t_job taxi_24h
t_submit_wait "$T_JOBFILE" || t_fail "weir submit --wait failed (taxi_24h)"
t_check_job_finished
out=$T_TMP/out/taxi_24h
t_check_published "$out/results"
t_windowdiff "$T_ROOT/tests/expected/taxi_24h_results.csv" "$out/results" ||
    t_fail "results differ from tests/expected/taxi_24h_results.csv"
late=$(t_windowdiff count --allow-missing "$out/late") || t_fail "cannot read $out/late"
[ "$late" -eq 0 ] || t_fail "$late late rows with a 24 h bound, expected none"
