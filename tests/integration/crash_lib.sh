#!/usr/bin/env bash
# Shared by test_crash_*.sh: exactly-once output across a crash at a named
# point of checkpoint 2 (DESIGN §8; cluster/crash.h), issue case 3.
#
# crash_case POINT: a cluster of two nodes whose processes all carry
# WEIR_CRASH_AT=POINT:2. A followed file gets `1000,a` `2000,b` `11000,a`;
# savepoint 1 is taken; then `12000,b` `21000,a` `25000,a`, and savepoint 2
# makes some process exit at POINT. The process is started again (a
# coordinator on its data directory, or a new node), the job is submitted
# again from its latest checkpoint, its input is ended with `weir stop`,
# and the published output must hold every window once: [0,10000) a=1 and
# b=1, [10000,20000) a=1 and b=1, [20000,30000) a=2, and nothing late.
source "$(dirname "$0")/lib.sh"

# s_wait_rows JOB N: until the job's sources have read N rows.
s_wait_rows() {
    local i out
    for i in $(seq 1 100); do
        out=$(t_weir status "$1" 2>/dev/null) || true
        [ "$(awk '$2 == "source" { n += $7 } END { print n + 0 }' <<<"$out")" -ge "$2" ] && return 0
        sleep 0.1
    done
    t_fail "job $1 did not read $2 rows: $out"
}

# s_dead: names of processes in the cluster's pid file that are gone.
s_dead() {
    local name pid
    while read -r name pid; do
        kill -0 "$pid" 2>/dev/null || echo "$name"
    done <"$T_CLUSTER/pids"
}

crash_case() {
    local point=$1
    export WEIR_CRASH_AT=$point:2
    t_cluster_up 2
    unset WEIR_CRASH_AT
    local port=${WEIR_COORDINATOR##*:}
    printf 'ts,key\n1000,a\n2000,b\n11000,a\n' >"$T_TMP/in.csv"
    t_job ck/crash crash
    t_weir submit "$T_JOBFILE" >"$T_TMP/id" || t_fail "submit failed"
    local job
    job=$(tr -d '[:space:]' <"$T_TMP/id")
    s_wait_rows "$job" 3
    t_weir savepoint "$job" >"$T_TMP/sp1" 2>&1 || t_fail "savepoint 1 failed: $(cat "$T_TMP/sp1")"
    printf '12000,b\n21000,a\n25000,a\n' >>"$T_TMP/in.csv"
    s_wait_rows "$job" 6
    # Savepoint 2 meets the crash; the CLI may fail or not, depending on who died.
    t_timeout 20 "$WEIR" savepoint "$job" >"$T_TMP/sp2" 2>&1 || true
    local dead="" i
    for i in $(seq 1 50); do
        dead=$(s_dead)
        [ -n "$dead" ] && break
        sleep 0.1
    done
    [ -n "$dead" ] || t_fail "no process exited at $point:2 (crash point not reached)"
    t_log "exited at $point:2: $dead"
    grep -l "crash injected at $point (checkpoint 2)" "$T_CLUSTER"/*.log >/dev/null ||
        t_fail "no log says the crash at $point was injected"
    # Every process that exited is started again (both nodes may have
    # crashed: each runs a keyed task that publishes checkpoint 2).
    local name
    for name in $dead; do
        if [ "$name" = coordinator ]; then
            "$T_BUILD/weir-coordinator" --listen "tcp://127.0.0.1:$port" \
                --data-dir "$T_CLUSTER/coordinator" >>"$T_CLUSTER/coordinator-2.log" 2>&1 &
            echo "coordinator-2 $!" >>"$T_CLUSTER/pids"
        else
            "$T_BUILD/weir-node" --coordinator "$WEIR_COORDINATOR" --listen tcp://127.0.0.1:0 \
                --data-dir "$T_CLUSTER/$name-r" --id "$name-r" >>"$T_CLUSTER/$name-r.log" 2>&1 &
            echo "$name-r $!" >>"$T_CLUSTER/pids"
        fi
    done
    # The coordinator must know the dead nodes dead (heartbeat timeout) and
    # see two live ones before the job comes back from its latest checkpoint.
    for i in $(seq 1 150); do
        local st
        st=$(t_weir nodes 2>/dev/null)
        local stale=0
        for name in $dead; do
            [ "$name" = coordinator ] && continue
            awk -v n="$name" '$1 == n && $3 == "alive" { f = 1 } END { exit !f }' <<<"$st" && stale=1
        done
        [ $stale = 0 ] && [ "$(awk '$3 == "alive"' <<<"$st" | wc -l)" -ge 2 ] && break
        sleep 0.1
    done
    local again
    for i in $(seq 1 50); do
        again=$(t_weir submit "$T_JOBFILE" --from-savepoint "$job" 2>"$T_TMP/resubmit.err") && break
        sleep 0.2 # the old attempt may still be running on a node for a moment
    done
    [ -n "$again" ] || t_fail "resubmit from $job failed: $(cat "$T_TMP/resubmit.err")"
    t_log "resubmitted as $again: $(t_weir status "$again" | grep restored)"
    sleep 1
    t_timeout 60 "$WEIR" stop "$again" --wait >"$T_TMP/stop.out" 2>&1 ||
        t_fail "weir stop $again failed: $(cat "$T_TMP/stop.out")"
    local out=$T_TMP/out/crash
    t_check_published "$out/results"
    if find "$out/results" "$out/late" -name '*.pending' | grep -q .; then
        t_fail "pending files left: $(find "$out" -name '*.pending')"
    fi
    printf 'key,window_start,window_end,n\na,0,10000,1\nb,0,10000,1\na,10000,20000,1\nb,10000,20000,1\na,20000,30000,2\n' \
        >"$T_TMP/expected.csv"
    ls -la "$out/results" >&2
    t_windowdiff "$T_TMP/expected.csv" "$out/results" ||
        t_fail "after the crash at $point the published output differs (a window missing or twice)"
    local late
    late=$(t_windowdiff count --allow-missing "$out/late") || t_fail "cannot read $out/late"
    [ "$late" -eq 0 ] || t_fail "$late late rows, expected none"
}
