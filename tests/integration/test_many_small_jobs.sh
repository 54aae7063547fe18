#!/usr/bin/env bash
# Forty tiny jobs at once all finish. A node once dropped the final report
# of a task that ended while another task's end was being handled, and such
# a job stayed RUNNING forever (now it would fail after 10 s); tiny jobs
# whose tasks end together make that race likely.
source "$(dirname "$0")/lib.sh"

cp "$T_ROOT/tests/integration/data/messy.csv" "$T_TMP/messy.csv"
t_cluster_up 2
ids=()
for i in $(seq 1 40); do
    t_job messy "messy-$i"
    ids+=("$(t_weir submit "$T_JOBFILE")") || t_fail "submit $i failed"
done
deadline=$((SECONDS + 60))
for id in "${ids[@]}"; do
    while :; do
        state=$(t_weir status "$id" | awk '/^state:/ { print $2 }')
        [ "$state" = FINISHED ] && break
        [ "$state" = RUNNING ] || t_fail "job $id ended $state: $(t_weir status "$id")"
        [ $SECONDS -lt $deadline ] || t_fail "job $id still RUNNING: $(t_weir status "$id")"
        sleep 0.2
    done
done
for i in $(seq 1 40); do
    n=$(tail -q -n +2 "$T_TMP/out/messy-$i/results"/part-*.csv | wc -l)
    [ "$n" -eq 5 ] || t_fail "job $i wrote $n result rows, expected 5"
done
