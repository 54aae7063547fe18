#!/usr/bin/env bash
# A node dies (kill -9) while a job runs on it. With no restart strategy
# the job must fail, promptly and visibly: within 15 s of the kill
# `weir status` says FAILED and names the dead node, and the
# `weir submit --wait` that was waiting for the job exits non-zero. Every
# step runs under a timeout, so nothing can hang.
source "$(dirname "$0")/lib.sh"

gen=$T_BUILD/weir-gen-trips
[ -x "$gen" ] || t_fail "$gen is missing: build first (scripts/build)"
rows=${WEIR_KILL_ROWS:-2000000}
t_timeout 120 "$gen" "$rows" 7 >"$T_TMP/trips.csv" || t_fail "weir-gen-trips failed"
t_log "generated $rows trips ($(du -m "$T_TMP/trips.csv" | cut -f1) MB)"

t_cluster_up 2
t_job taxi_slow

# submit --wait in the background; its first stdout line is the job id.
timeout --kill-after=5 300 "$WEIR" submit "$T_JOBFILE" --wait \
    >"$T_TMP/submit.out" 2>"$T_TMP/submit.err" </dev/null 3>&- 4>&- &
submit_pid=$!
T_BG+=("$submit_pid")

deadline=$((SECONDS + 30))
until T_JOB_ID=$(grep -m 1 -v '^[[:space:]]*$' "$T_TMP/submit.out" 2>/dev/null | tr -d '[:space:]') &&
        [ -n "$T_JOB_ID" ]; do
    kill -0 "$submit_pid" 2>/dev/null ||
        t_fail "weir submit --wait ended before printing a job id: $(cat "$T_TMP/submit.err")"
    [ $SECONDS -lt $deadline ] || t_fail "weir submit printed no job id within 30 s"
    sleep 0.2
done
t_log "job $T_JOB_ID submitted"

# Wait until it runs.
deadline=$((SECONDS + 30))
while :; do
    status=$(t_weir status "$T_JOB_ID" 2>&1 || true)
    grep -qiw RUNNING <<<"$status" && break
    grep -qiwE 'FINISHED|FAILED|CANCELED' <<<"$status" &&
        t_fail "job ended before the node was killed: $status"
    [ $SECONDS -lt $deadline ] || t_fail "job not RUNNING within 30 s: $status"
    sleep 0.2
done
sleep 1
status=$(t_weir status "$T_JOB_ID" 2>&1 || true)
grep -qiw RUNNING <<<"$status" || t_fail "job no longer RUNNING before the kill: $status"

victim=$(t_node_names | tail -n 1)
victim_pid=$(t_pid "$victim")
[[ $victim_pid =~ ^[0-9]+$ ]] || t_fail "no pid for $victim in $T_CLUSTER/pids"
kill -0 "$victim_pid" || t_fail "node $victim (pid $victim_pid) is not running"
t_log "kill -9 $victim (pid $victim_pid)"
kill -KILL "$victim_pid"
killed_at=$SECONDS

# Within 15 s: FAILED, and the dead node named as the cause (on a line that
# speaks of a failure, not merely in the table of where tasks ran).
cause="fail|lost|dead|died|down|gone|timed out|timeout|unreachable|reason"
while :; do
    status=$(t_weir status "$T_JOB_ID" 2>&1 || true)
    if grep -qw FAILED <<<"$status" &&
        grep -w -- "$victim" <<<"$status" | grep -qiE "$cause"; then
        break
    fi
    [ $((SECONDS - killed_at)) -le 15 ] ||
        t_fail "15 s after the kill, weir status does not say FAILED naming $victim: $status"
    sleep 0.5
done
t_log "FAILED after $((SECONDS - killed_at)) s: $status"

# The waiting submit ends, with a non-zero status.
while kill -0 "$submit_pid" 2>/dev/null; do
    [ $((SECONDS - killed_at)) -le 30 ] ||
        t_fail "weir submit --wait still running 30 s after the kill"
    sleep 0.2
done
rc=0
wait "$submit_pid" || rc=$?
t_log "weir submit --wait exited $rc: $(tail -n 2 "$T_TMP/submit.err")"
[ $rc -ne 0 ] || t_fail "weir submit --wait exited 0 for a failed job"
[ $rc -ne 124 ] && [ $rc -ne 137 ] || t_fail "weir submit --wait timed out"

# The cluster still answers.
t_weir list >/dev/null || t_fail "weir list fails after the node died"
t_weir nodes >/dev/null || t_fail "weir nodes fails after the node died"
