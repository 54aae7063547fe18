#!/usr/bin/env bash
# Automatic recovery (DESIGN §9, issue 6 cases 1 and 6, on one host): a
# node running part of a checkpointed job is killed (kill -9); the
# coordinator cancels the attempt, starts attempt 2 on the live nodes from
# the latest checkpoint, and the published output equals a run without the
# kill. `weir status` shows the attempt, the restarts and the failure.
source "$(dirname "$0")/lib.sh"

t_cluster_up 3

# s_wait_state JOB STATE SECS
s_wait_state() {
    local i
    for i in $(seq 1 $(($3 * 10))); do
        t_weir status "$1" 2>/dev/null | grep -q "^state: *$2" && return 0
        sleep 0.1
    done
    t_fail "job $1 not $2 after $3 s: $(t_weir status "$1" 2>&1 | head -n 8)"
}

t_job ck/recover whole
whole=$(t_weir submit "$T_JOBFILE") || t_fail "submit failed"
s_wait_state "$whole" FINISHED 60

t_job ck/recover killed
job=$(t_weir submit "$T_JOBFILE") || t_fail "submit failed"
# Kill a node that runs a keyed task once a checkpoint or two completed.
for i in $(seq 1 100); do
    t_weir status "$job" | grep -q "^checkpoint: latest [2-9]" && break
    sleep 0.1
done
victim=$(t_weir status "$job" | awk '$2 == "window" && $6 == "RUNNING" { print $5; exit }')
[ -n "$victim" ] || t_fail "no running keyed task to kill the node of: $(t_weir status "$job")"
pid=$(t_pid "$victim")
kill_ms=$(date +%s%3N)
kill -9 "$pid"
t_log "killed $victim (pid $pid)"
for i in $(seq 1 200); do
    st=$(t_weir status "$job")
    if grep -q "^attempt: *2" <<<"$st" && ! awk '/^TASK +KIND/ { t = 1; next } t && NF == 0 { t = 0 } t && $6 != "RUNNING" && $6 != "FINISHED" { bad = 1 } END { exit !bad }' <<<"$st"; then
        break
    fi
    sleep 0.05
done
back_ms=$(date +%s%3N)
grep -q "^attempt: *2" <<<"$st" || t_fail "no second attempt after the kill: $st"
t_log "attempt 2 running $((back_ms - kill_ms)) ms after the kill"
grep -q "^restarts: *1 (last failure: .*$victim" <<<"$st" ||
    t_fail "status does not name the restart and the lost node $victim: $(head -n 8 <<<"$st")"
grep -q "restored:  from $job/" <<<"$st" || t_fail "attempt 2 did not start from a checkpoint: $(head -n 8 <<<"$st")"
if awk '/^TASK +KIND/ { t = 1; next } t && NF == 0 { t = 0 } t { print $5 }' <<<"$st" | grep -qx "$victim"; then
    t_fail "attempt 2 placed a task on the dead node $victim"
fi
s_wait_state "$job" FINISHED 60
{ head -n 1 "$(ls "$T_TMP"/out/whole/results/part-*.csv | head -n 1)"; tail -q -n +2 "$T_TMP"/out/whole/results/part-*.csv | sort; } >"$T_TMP/whole.csv"
t_windowdiff "$T_TMP/whole.csv" "$T_TMP/out/killed/results" ||
    t_fail "the output after the recovery differs from the run without a kill (a window missing or twice)"
n=$(tail -q -n +2 "$T_TMP"/out/killed/results/part-*.csv | awk -F, '{ s += $4 } END { print s + 0 }')
[ "$n" -eq 120000 ] || t_fail "$n trips counted after the recovery, expected 120000"
t_log "recovered: $n trips counted once, output equal to the run without the kill"

# --- the coordinator killed and started again on its data directory -----
t_job ck/recover coord
job=$(t_weir submit "$T_JOBFILE") || t_fail "submit failed"
for i in $(seq 1 100); do
    t_weir status "$job" | grep -q "^checkpoint: latest [2-9]" && break
    sleep 0.1
done
cpid=$(t_pid coordinator)
port=${WEIR_COORDINATOR##*:}
kill -9 "$cpid"
t_log "killed the coordinator (pid $cpid)"
sleep 0.5
"$T_BUILD/weir-coordinator" --listen "tcp://127.0.0.1:$port" --data-dir "$T_CLUSTER/coordinator" \
    >>"$T_CLUSTER/coordinator-2.log" 2>&1 &
echo "coordinator-2 $!" >>"$T_CLUSTER/pids"
for i in $(seq 1 100); do
    t_weir status "$job" >/dev/null 2>&1 && break
    sleep 0.1
done
s_wait_state "$job" FINISHED 60
st=$(t_weir status "$job")
grep -q "coordinator restarted" <<<"$st" || t_fail "status does not say the coordinator restarted: $(head -n 8 <<<"$st")"
grep -q "restored:  from $job/" <<<"$st" || t_fail "the job did not resume from a checkpoint: $(head -n 8 <<<"$st")"
t_windowdiff "$T_TMP/whole.csv" "$T_TMP/out/coord/results" ||
    t_fail "the output after the coordinator restart differs from the run without it"
t_log "coordinator restart: the job resumed ($(grep -o "from $job/[0-9]*" <<<"$st")) and its output is equal"

# --- two of three nodes killed, one brought back, weir rebalance ---------
live_nodes() { t_weir nodes | awk '$3 == "alive" { print $1 }'; }
# Three live nodes again (one was killed above).
"$T_BUILD/weir-node" --coordinator "$WEIR_COORDINATOR" --listen tcp://127.0.0.1:0 \
    --data-dir "$T_CLUSTER/node-new" --id node-new >>"$T_CLUSTER/node-new.log" 2>&1 &
echo "node-new $!" >>"$T_CLUSTER/pids"
for i in $(seq 1 100); do
    [ "$(live_nodes | wc -l)" -ge 3 ] && break
    sleep 0.1
done
[ "$(live_nodes | wc -l)" -eq 3 ] || t_fail "expected 3 live nodes: $(t_weir nodes)"
t_job ck/recover_slow rebalance
job=$(t_weir submit "$T_JOBFILE") || t_fail "submit failed"
for victim in $(live_nodes | head -n 2); do
    for i in $(seq 1 100); do
        t_weir status "$job" | grep -q "^checkpoint: latest" && break
        sleep 0.1
    done
    kill -9 "$(t_pid "$victim")" 2>/dev/null || true
    t_log "killed $victim"
    sleep 1.5
done
s_nodes_of() { t_weir status "$1" | awk '/^TASK +KIND/ { t = 1; next } t && NF == 0 { t = 0 } t { print $5 }' | sort -u; }
for i in $(seq 1 100); do
    [ "$(s_nodes_of "$job" | wc -l)" -eq 1 ] && t_weir status "$job" | grep -q "^state: *RUNNING" && break
    sleep 0.1
done
[ "$(s_nodes_of "$job" | wc -l)" -eq 1 ] || t_fail "the job should run on the last node: $(t_weir status "$job" | head -n 12)"
t_log "running on $(s_nodes_of "$job") alone"
"$T_BUILD/weir-node" --coordinator "$WEIR_COORDINATOR" --listen tcp://127.0.0.1:0 \
    --data-dir "$T_CLUSTER/node-back" --id node-back >>"$T_CLUSTER/node-back.log" 2>&1 &
echo "node-back $!" >>"$T_CLUSTER/pids"
for i in $(seq 1 100); do
    live_nodes | grep -qx node-back && break
    sleep 0.1
done
t_weir rebalance "$job" >"$T_TMP/rebalance.out" 2>&1 || t_fail "weir rebalance failed: $(cat "$T_TMP/rebalance.out")"
t_log "$(cat "$T_TMP/rebalance.out")"
[ "$(s_nodes_of "$job" | wc -l)" -eq 2 ] || t_fail "after rebalance the job should run on 2 nodes: $(t_weir status "$job" | head -n 12)"
s_wait_state "$job" FINISHED 90
t_windowdiff "$T_TMP/whole.csv" "$T_TMP/out/rebalance/results" ||
    t_fail "the output after losing two nodes and rebalancing differs from the run without"
t_log "two nodes lost, one back, rebalanced: output equal"
