#!/usr/bin/env bash
# An input file that shrinks while a job reads it (the reader maps it, so
# a vanished page raises SIGBUS) fails that job with a message naming the
# file, and the node survives: it once died, taking every task with it.
source "$(dirname "$0")/lib.sh"

t_cluster_up 2
t_timeout 60 "$T_BUILD/weir-gen-trips" 1000000 9 >"$T_TMP/trips.csv" || t_fail "generator failed"
t_job taxi_slow
t_weir submit "$T_JOBFILE" >"$T_TMP/id" || t_fail "submit failed"
T_JOB_ID=$(tr -d '[:space:]' <"$T_TMP/id")
sleep 2
truncate -s 100000 "$T_TMP/trips.csv"
deadline=$((SECONDS + 20))
while :; do
    status=$(t_weir status "$T_JOB_ID" 2>&1 || true)
    grep -q "shrank or vanished" <<<"$status" && grep -qw FAILED <<<"$status" && break
    [ $SECONDS -lt $deadline ] || t_fail "no failure naming the shrunk file: $status"
    sleep 0.5
done
for n in $(t_node_names); do
    kill -0 "$(t_pid "$n")" 2>/dev/null || t_fail "$n died: $(tail -n 5 "$T_CLUSTER/$n.log")"
done
nodes=$(t_weir nodes)
[ "$(grep -cw alive <<<"$nodes")" -eq 2 ] || t_fail "not every node is alive: $nodes"
