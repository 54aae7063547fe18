#!/usr/bin/env bash
# Backpressure reaches the sources, drops nothing and keeps memory flat: a
# pass-through job of 120,000 generated rows over two nodes into a sink
# throttled to 2,000 rows/s (about 60 s). Every second the test reads each
# node's resident memory and the sources' rows read from `weir status`:
#   - every node's RSS stays within 32 MB of its value after 5 s;
#   - from 2 s on, the sources read at the sink's pace (at most 1.5 times
#     2,000 rows/s over any 5 s, after the buffers filled);
#   - `weir status` marks the sources backpressured;
#   - the sink writes all 120,000 rows, none twice.
source "$(dirname "$0")/lib.sh"

t_cluster_up 2
t_job passthrough
t_weir submit "$T_JOBFILE" >"$T_TMP/id" || t_fail "weir submit failed"
T_JOB_ID=$(tr -d '[:space:]' <"$T_TMP/id")
t_log "job $T_JOB_ID submitted"
pids=$(for n in $(t_node_names); do t_pid "$n"; done)

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
source_rows() { awk '$2 == "source" { s += $6 } END { print s + 0 }' <<<"$1"; }

declare -A base
start=$SECONDS
rows_at=()
saw_bp=0
state=""
while :; do
    sleep 1
    t=$((SECONDS - start))
    status=$(t_weir status "$T_JOB_ID" 2>&1) || t_fail "weir status failed: $status"
    state=$(awk '/^state:/ { print $2 }' <<<"$status")
    rows_at[$t]=$(source_rows "$status")
    grep -qE '^[0-9]+ +source .*!' <<<"$status" && saw_bp=1
    for p in $pids; do
        kb=$(rss_kb "$p") || t_fail "node pid $p is gone"
        if [ $t -eq 5 ]; then base[$p]=$kb; fi
        if [ -n "${base[$p]:-}" ] && [ $((kb - base[$p])) -gt 32768 ]; then
            t_fail "node pid $p grew from ${base[$p]} kB to $kb kB at ${t}s"
        fi
    done
    [ "$state" = RUNNING ] || break
    [ $t -lt 150 ] || t_fail "still running after 150 s: $status"
done
[ "$state" = FINISHED ] || t_fail "job ended $state: $status"
t_log "finished after ${t}s; RSS after 5 s: ${base[*]} kB"
[ $t -ge 45 ] || t_fail "finished in ${t}s: the sink was not throttled to 2,000 rows/s"
[ $saw_bp = 1 ] || t_fail "weir status never marked a source backpressured"

# The read rate over 5 s windows after the first 2 s, until the sources finish.
for ((a = 2; a + 5 < t; a++)); do
    [ -n "${rows_at[$a]:-}" ] && [ -n "${rows_at[$((a + 5))]:-}" ] || continue
    [ "${rows_at[$((a + 5))]}" -lt 120000 ] || break
    rate=$(((rows_at[$((a + 5))] - rows_at[$a]) / 5))
    [ $rate -le 3000 ] || t_fail "sources read $rate rows/s between ${a}s and $((a + 5))s"
done

out=$T_TMP/out/passthrough/results
t_check_published "$out"
total=$(tail -q -n +2 "$out"/part-*.csv | wc -l)
[ "$total" -eq 120000 ] || t_fail "$total rows written, expected 120000"
dups=$(tail -q -n +2 "$out"/part-*.csv | sort | uniq -d | wc -l)
[ "$dups" -eq 0 ] || t_fail "$dups rows written more than once"
