#!/usr/bin/env bash
# Canceling a job whose keyed task is deep in a long batch returns at once
# and its node keeps heartbeating (it once waited for the batch inside its
# I/O thread and was declared dead); nothing is published.
source "$(dirname "$0")/lib.sh"

t_cluster_up 2
t_job slow_sliding
t_weir submit "$T_JOBFILE" >"$T_TMP/id" || t_fail "submit failed"
T_JOB_ID=$(tr -d '[:space:]' <"$T_TMP/id")
sleep 3
grep -qw RUNNING <<<"$(t_weir status "$T_JOB_ID")" || t_fail "the job is not running: $(t_weir status "$T_JOB_ID")"
t_weir cancel "$T_JOB_ID" >/dev/null || t_fail "cancel failed"
for i in 1 2 3 4 5 6 7 8; do
    sleep 0.5
    nodes=$(t_weir nodes)
    [ "$(grep -cw alive <<<"$nodes")" -eq 2 ] || t_fail "a node died after the cancel: $nodes"
done
grep -qw CANCELED <<<"$(t_weir status "$T_JOB_ID")" || t_fail "not CANCELED: $(t_weir status "$T_JOB_ID")"
n=$(find "$T_TMP/out/slow_sliding/results" -name 'part-*' 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || t_fail "a canceled job published $n files"
