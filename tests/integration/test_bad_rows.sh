#!/usr/bin/env bash
# Rows that cannot be parsed do not stop a job and are not lost: each goes
# to bad/ beside the results with its line and reason, `weir status`
# counts them, and the good rows (including quoted commas and a quoted
# line break) are aggregated.
source "$(dirname "$0")/lib.sh"

cp "$T_ROOT/tests/integration/data/messy.csv" "$T_TMP/messy.csv"
t_cluster_up 2
t_job messy
t_submit_wait "$T_JOBFILE" || t_fail "weir submit --wait failed"
t_check_job_finished

out=$T_TMP/out/messy
t_check_published "$out/results"
bad=$(t_bad_rows "$out/bad")
[ "$bad" -eq 4 ] || t_fail "$bad bad rows in $out/bad, expected 4: $(cat "$out"/bad/* 2>/dev/null)"
for reason in "value" "ts" "fields" ; do
    grep -qi -- "$reason" "$out"/bad/*.csv || t_fail "no bad row mentions '$reason': $(cat "$out"/bad/*)"
done
grep -q 'x,bad number' "$out"/bad/*.csv || t_fail "the raw record is not kept: $(cat "$out"/bad/*)"
status=$(t_weir status "$T_JOB_ID")
bad_in_status=$(awk '$2 == "source" { s += $10 } END { print s + 0 }' <<<"$status")
[ "$bad_in_status" -eq 4 ] || t_fail "weir status counts $bad_in_status bad rows, expected 4: $status"

cat >"$T_TMP/expected.csv" <<'CSV'
key,window_start,window_end,n,total
a,0,10000,1,1.5
b,0,10000,2,5.5
a,10000,20000,1,4.0
b,10000,20000,1,1e+23
c,10000,20000,1,100000.0
CSV
t_windowdiff "$T_TMP/expected.csv" "$out/results" || t_fail "results differ from the good rows' sums"
