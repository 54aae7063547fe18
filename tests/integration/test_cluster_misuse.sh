#!/usr/bin/env bash
# Misuse of a running cluster must not take it over or leave work behind:
#   - `weir local up` on a port already in use refuses before starting
#     anything, and the running cluster keeps its nodes;
#   - a second node claiming a live node's id is refused;
#   - a node that stops answering (SIGSTOP) long enough to be declared dead
#     fails its job, and when it comes back it cancels that job's tasks
#     instead of running them on;
#   - a node stopped on purpose (SIGTERM) says so and is dead at once, not
#     after the 3 s heartbeat timeout, so no new task goes to it.
source "$(dirname "$0")/lib.sh"

t_cluster_up 2
port=${WEIR_COORDINATOR##*:}
before=$(t_weir nodes)

rc=0
t_timeout 30 "$WEIR" local up --nodes 1 --dir "$T_TMP/other" --port "$port" \
    >"$T_TMP/other.out" 2>"$T_TMP/other.err" || rc=$?
[ $rc -ne 0 ] || t_fail "weir local up on a port in use succeeded"
grep -q "in use" "$T_TMP/other.err" || t_fail "no 'in use' message: $(cat "$T_TMP/other.err")"
[ ! -f "$T_TMP/other/pids" ] || t_fail "it started processes anyway: $(cat "$T_TMP/other/pids")"

"$T_BUILD/weir-node" --coordinator "$WEIR_COORDINATOR" --listen tcp://127.0.0.1:0 \
    --data-dir "$T_TMP/rogue" --id node-1 >"$T_TMP/rogue.log" 2>&1 &
rogue=$!
T_BG+=("$rogue")
deadline=$((SECONDS + 10))
until grep -q "taken by a live node" "$T_TMP/rogue.log"; do
    [ $SECONDS -lt $deadline ] || t_fail "the second node-1 was not refused: $(cat "$T_TMP/rogue.log")"
    sleep 0.2
done
kill "$rogue"
after=$(t_weir nodes)
for n in node-1 node-2; do
    pid=$(t_pid "$n")
    grep -E "^$n " <<<"$after" | grep -qw "$pid" || t_fail "$n lost its entry: $after (before: $before)"
    grep -E "^$n " <<<"$after" | grep -qw alive || t_fail "$n is not alive: $after"
done

# A job that runs for a while on both nodes.
gen=$T_BUILD/weir-gen-trips
t_timeout 60 "$gen" 400000 3 >"$T_TMP/trips.csv" || t_fail "weir-gen-trips failed"
t_job taxi_slow
t_weir submit "$T_JOBFILE" >"$T_TMP/id" || t_fail "submit failed"
T_JOB_ID=$(tr -d '[:space:]' <"$T_TMP/id")
sleep 2
victim=node-2
vpid=$(t_pid $victim)
threads_before=$(ls /proc/"$vpid"/task | wc -l)
t_log "SIGSTOP $victim (pid $vpid, $threads_before threads) for 5 s"
kill -STOP "$vpid"
sleep 5
kill -CONT "$vpid"
status=$(t_weir status "$T_JOB_ID")
grep -qw FAILED <<<"$status" || t_fail "the job did not fail while $victim was silent: $status"
deadline=$((SECONDS + 15))
# It cancels them when it finds it has heard nothing from the coordinator
# for the timeout, or when the coordinator tells it so.
until grep -q "no word from the coordinator\|no longer counts this node\|does not run this attempt" "$T_CLUSTER/$victim.log"; do
    [ $SECONDS -lt $deadline ] ||
        t_fail "$victim kept the failed job's tasks: $(tail -n 5 "$T_CLUSTER/$victim.log")"
    sleep 0.5
done
deadline=$((SECONDS + 15))
while [ "$(ls /proc/"$vpid"/task | wc -l)" -ge "$threads_before" ]; do
    [ $SECONDS -lt $deadline ] || t_fail "$victim still has $(ls /proc/"$vpid"/task | wc -l) threads"
    sleep 0.5
done
t_wait_nodes 15

vpid=$(t_pid node-2)
kill -TERM "$vpid"
t0=$(date +%s%N)
while :; do
    nodes=$(t_weir nodes)
    grep -E "^node-2 " <<<"$nodes" | grep -qw dead && break
    [ $((($(date +%s%N) - t0) / 1000000)) -lt 2500 ] ||
        t_fail "node-2 stopped but is not dead within 2.5 s: $nodes"
    sleep 0.1
done
t_log "node-2 dead $((($(date +%s%N) - t0) / 1000000)) ms after SIGTERM"
