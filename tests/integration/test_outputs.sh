#!/usr/bin/env bash
# Runs never mix their outputs: a job whose result directory is the output
# of a running job is refused by the coordinator, and `weir submit` refuses
# a result directory that already holds part files of an earlier run
# (results of a parallelism-4 run once stayed beside a parallelism-2 run's).
source "$(dirname "$0")/lib.sh"

t_cluster_up 2
t_timeout 60 "$T_BUILD/weir-gen-trips" 400000 5 >"$T_TMP/trips.csv" || t_fail "generator failed"
t_job taxi_slow
t_weir submit "$T_JOBFILE" >"$T_TMP/id" || t_fail "submit failed"
first=$(tr -d '[:space:]' <"$T_TMP/id")
rc=0
t_weir submit "$T_JOBFILE" >"$T_TMP/id2" 2>"$T_TMP/err2" || rc=$?
[ $rc -ne 0 ] || t_fail "a second job into the same results directory was accepted"
grep -q "output of running job $first" "$T_TMP/err2" || t_fail "unclear refusal: $(cat "$T_TMP/err2")"
t_weir cancel "$first" >/dev/null || t_fail "cancel failed"

t_job quakes
t_submit_wait "$T_JOBFILE" || t_fail "the quakes job failed"
jobs_before=$(t_weir list | grep -c quakes)
rc=0
t_weir submit "$T_JOBFILE" >/dev/null 2>"$T_TMP/err3" || rc=$?
[ $rc -eq 2 ] || t_fail "re-running into a directory with results: exit $rc, expected 2"
grep -q "already holds results" "$T_TMP/err3" || t_fail "unclear refusal: $(cat "$T_TMP/err3")"
grep -q "quakes.yaml:[0-9]*:" "$T_TMP/err3" || t_fail "the refusal names no file and line: $(cat "$T_TMP/err3")"
[ "$(t_weir list | grep -c quakes)" -eq "$jobs_before" ] || t_fail "a job was started anyway"
