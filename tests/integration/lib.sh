# Shared helpers of the integration tests; every tests/integration/test_*.sh
# sources this file first:
#
#   source "$(dirname "$0")/lib.sh"
#
# It makes a temporary directory, starts clusters of real weir processes on
# a free loopback port (`weir local up`), and always stops them again
# (`weir local down`) from an EXIT trap, whether the test passes, fails or
# is interrupted. Every command that talks to the cluster runs under a
# timeout, so a test fails instead of hanging.
#
# Environment:
#   WEIR_BUILD         build directory, absolute or relative to the repository
#                      root (default: build)
#   WEIR_STEP_TIMEOUT  seconds one CLI command may take (default 60)
#   WEIR_KEEP_TMP=1    keep the temporary directory (it is printed)
#
# Job files: tests/integration/jobs/*.yaml contain the placeholders @DATA@
# (examples/data of this repository), @OUT@ (this job's output directory
# in the temporary directory) and @TMP@ (the temporary directory);
# t_job writes a copy with them replaced. See tests/README.md.

set -Eeuo pipefail

T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T_BUILD=${WEIR_BUILD:-build}
[[ $T_BUILD == /* ]] || T_BUILD=$T_ROOT/$T_BUILD
WEIR=$T_BUILD/weir
T_NAME=$(basename "$0" .sh)
T_STEP_TIMEOUT=${WEIR_STEP_TIMEOUT:-60}
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/weir-$T_NAME.XXXXXX")
T_CLUSTER=""  # the cluster directory while a cluster may be running
T_BG=()       # pids of background commands this test started
T_FG=""       # pid of the command t_timeout is waiting for
T_JOBFILE=""  # set by t_job
T_JOB_ID=""   # set by t_submit_wait and t_submit_bg

# fd 3 and 4 keep the script's own stdout and stderr: messages and the
# cleanup write there even while a function's output is redirected to a
# file (a trap runs inside whatever redirection is active). Commands run
# through t_timeout get them closed, so that no daemon holds them open.
exec 3>&1 4>&2

t_log() {
    printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$T_NAME" "$*" >&4
}

t_fail() {
    printf 'FAIL %s: %s\n' "$T_NAME" "$*" >&4
    exit 1
}

# t_timeout SECS CMD...: runs CMD, sending TERM after SECS seconds and KILL
# 5 s later. Returns CMD's status, or 124 (137 after KILL) on a timeout,
# which is also logged. CMD runs in the background while the shell waits
# for it, because bash runs a trap only after a foreground command ends but
# interrupts `wait` at once: a test told to stop (INT, TERM) cleans up
# without waiting for CMD. CMD's stdin is /dev/null.
t_timeout() {
    local secs=$1 rc=0
    shift
    timeout --kill-after=5 "$secs" "$@" </dev/null 3>&- 4>&- &
    T_FG=$!
    wait "$T_FG" || rc=$?
    T_FG=""
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        t_log "timed out after ${secs}s: $*"
    fi
    return $rc
}

# t_weir ARGS...: the CLI under the step timeout.
t_weir() {
    t_timeout "$T_STEP_TIMEOUT" "$WEIR" "$@"
}

# t_windowdiff ARGS...: tests/tools/windowdiff.py (see its help).
t_windowdiff() {
    python3 "$T_ROOT/tests/tools/windowdiff.py" "$@"
}

t_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# t_dump_logs: the end of every cluster log, for a failed test.
t_dump_logs() {
    [ -n "$T_CLUSTER" ] || return 0
    local f
    for f in "$T_CLUSTER"/*.log "$T_TMP"/*.out "$T_TMP"/*.err; do
        [ -s "$f" ] || continue
        printf -- '--- %s (last 40 lines)\n' "$f" >&2
        tail -n 40 "$f" >&2
    done
}

# Stops what the test started: background commands, then the cluster. A
# process of the cluster still alive after `weir local down` is killed by
# its pid (only if it still is a weir process) and fails the test.
t_cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM ERR
    exec 1>&3 2>&4
    local pid
    for pid in $T_FG "${T_BG[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    if [ -n "$T_CLUSTER" ]; then
        [ $rc -eq 0 ] || t_dump_logs
        if ! timeout --kill-after=5 30 "$WEIR" local down --dir "$T_CLUSTER" \
                >"$T_TMP/down.out" 2>&1; then
            t_log "weir local down failed:"
            cat "$T_TMP/down.out" >&2
        fi
        # A sanitizer build (WEIR_BUILD=build-asan) reports into the logs:
        # any report fails the test, whatever the job's output was.
        local f
        for f in "$T_CLUSTER"/*.log; do
            [ -f "$f" ] || continue
            if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
                printf 'FAIL %s: sanitizer report in %s:\n' "$T_NAME" "$f" >&2
                grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | head -n 40 >&2
                [ $rc -ne 0 ] || rc=1
            fi
        done
        local name left="" p cmd
        if [ -f "$T_CLUSTER/pids" ]; then
            while read -r name pid; do
                [[ $pid =~ ^[0-9]+$ ]] || continue
                if kill -0 "$pid" 2>/dev/null && grep -q weir "/proc/$pid/cmdline" 2>/dev/null; then
                    kill -KILL "$pid" 2>/dev/null
                    left="$left $name($pid)"
                fi
            done < "$T_CLUSTER/pids"
        fi
        # A process that is in no pid file (e.g. `local up` failed half way
        # and forgot it) is still found by its data directory, which lies in
        # this test's own temporary directory.
        for p in /proc/[0-9]*; do
            pid=${p#/proc/}
            [ "$pid" != $$ ] && [ "$pid" != "$BASHPID" ] || continue
            cmd=$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
            if [[ $cmd == *"$T_CLUSTER/"* ]]; then
                kill -KILL "$pid" 2>/dev/null && left="$left pid $pid (${cmd%% *})"
            fi
        done
        if [ -n "$left" ]; then
            printf 'FAIL %s: still running after weir local down, killed:%s\n' "$T_NAME" "$left" >&2
            [ $rc -ne 0 ] || rc=1
        fi
    fi
    # A test with more to undo (network namespaces, mounts) defines
    # t_extra_cleanup; it runs once the cluster is stopped.
    if declare -F t_extra_cleanup >/dev/null; then
        t_extra_cleanup || [ $rc -ne 0 ] || rc=1
    fi
    # Each of these is a `timeout`, which KILLs its command 5 s after TERM.
    for pid in $T_FG "${T_BG[@]}"; do
        wait "$pid" 2>/dev/null
    done
    if [ "${WEIR_KEEP_TMP:-0}" = 1 ]; then
        t_log "kept $T_TMP"
    else
        rm -rf "$T_TMP"
    fi
    if [ $rc -eq 0 ]; then
        printf 'PASS %s\n' "$T_NAME"
    else
        printf 'FAIL %s (exit %d)\n' "$T_NAME" "$rc" >&2
    fi
    exit $rc
}
trap t_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 't_log "failed (exit $?): line $LINENO: $BASH_COMMAND"' ERR

for b in weir weir-coordinator weir-node; do
    [ -x "$T_BUILD/$b" ] || t_fail "$T_BUILD/$b is missing: build first (scripts/build)"
done

# t_cluster_up N_NODES: starts a coordinator and N_NODES nodes on a free
# port, exports WEIR_COORDINATOR, and waits until every node has registered.
t_cluster_up() {
    local n=$1 port rc=0
    T_CLUSTER=$T_TMP/cluster
    mkdir -p "$T_CLUSTER"
    port=$(t_free_port)
    t_log "weir local up --nodes $n --port $port"
    t_timeout 60 "$WEIR" local up --nodes "$n" --dir "$T_CLUSTER" --port "$port" \
        >"$T_TMP/up.out" 2>"$T_TMP/up.err" || rc=$?
    if [ $rc -ne 0 ]; then
        cat "$T_TMP/up.err" >&2
        t_fail "weir local up exited $rc"
    fi
    local last
    last=$(grep -v '^[[:space:]]*$' "$T_TMP/up.out" | tail -n 1 || true)
    [[ $last == WEIR_COORDINATOR=* ]] ||
        t_fail "weir local up: last line of stdout is '$last', not WEIR_COORDINATOR=..."
    export WEIR_COORDINATOR=${last#WEIR_COORDINATOR=}
    [ "$WEIR_COORDINATOR" = "tcp://127.0.0.1:$port" ] ||
        t_log "note: coordinator at $WEIR_COORDINATOR, port asked for was $port"
    [ -s "$T_CLUSTER/pids" ] || t_fail "weir local up wrote no $T_CLUSTER/pids"
    local names
    names=$(t_node_names)
    [ "$(echo "$names" | grep -c .)" -eq "$n" ] ||
        t_fail "$T_CLUSTER/pids lists nodes '$(echo $names)', expected $n"
    t_wait_nodes 30
}

# t_node_names: the node names from the cluster's pid file, one per line
# (every entry but the coordinator).
t_node_names() {
    awk '$1 !~ /coord/ && NF >= 2 { print $1 }' "$T_CLUSTER/pids"
}

# t_pid NAME: the pid of a cluster process from the pid file.
t_pid() {
    awk -v n="$1" '$1 == n { print $2; exit }' "$T_CLUSTER/pids"
}

# t_wait_nodes SECS: waits until `weir nodes` names every node of the pid
# file.
t_wait_nodes() {
    local deadline=$((SECONDS + $1)) out name missing
    while :; do
        out=$(t_weir nodes 2>&1 || true)
        missing=""
        for name in $(t_node_names); do
            grep -qwF -- "$name" <<<"$out" || missing="$missing $name"
        done
        [ -z "$missing" ] && return 0
        if [ $SECONDS -ge $deadline ]; then
            printf '%s\n' "$out" >&2
            t_fail "weir nodes does not list:$missing"
        fi
        sleep 0.5
    done
}

# t_job NAME [OUTNAME]: writes tests/integration/jobs/NAME.yaml with its
# placeholders replaced to $T_TMP/jobs/NAME.yaml and sets T_JOBFILE. The
# job's outputs go to $T_TMP/out/OUTNAME (default NAME). Line numbers are
# kept, so errors point at the same lines as in the original.
t_job() {
    local name=$1 out=$T_TMP/out/${2:-$1}
    local src=$T_ROOT/tests/integration/jobs/$name.yaml
    [ -f "$src" ] || t_fail "no job file $src"
    mkdir -p "$T_TMP/jobs"
    T_JOBFILE=$T_TMP/jobs/$(basename "$name").yaml
    sed -e "s|@DATA@|$T_ROOT/examples/data|g" -e "s|@OUT@|$out|g" -e "s|@TMP@|$T_TMP|g" \
        "$src" >"$T_JOBFILE"
    if grep -n '@[A-Z]*@' "$T_JOBFILE" >&2; then
        t_fail "$src: unknown placeholder"
    fi
}

# t_example NAME: copies examples/NAME.yaml unchanged into $T_TMP/examples/
# beside a link to the repository's examples/data, so that its relative
# paths read the real data and write under $T_TMP/out/. Sets T_JOBFILE.
t_example() {
    mkdir -p "$T_TMP/examples"
    [ -e "$T_TMP/examples/data" ] || ln -s "$T_ROOT/examples/data" "$T_TMP/examples/data"
    cp "$T_ROOT/examples/$1.yaml" "$T_TMP/examples/"
    T_JOBFILE=$T_TMP/examples/$1.yaml
}

# t_submit_wait JOBFILE [SECS]: `weir submit JOBFILE --wait` under a timeout
# (default 300 s). Sets T_JOB_ID from the first line of stdout. Returns
# the exit status of the command; on failure shows its stderr.
t_submit_wait() {
    local job=$1 secs=${2:-300} base rc=0
    base=$T_TMP/submit-$(basename "$job" .yaml)
    t_log "weir submit $(basename "$job") --wait"
    local start=$SECONDS
    t_timeout "$secs" "$WEIR" submit "$job" --wait >"$base.out" 2>"$base.err" || rc=$?
    T_JOB_ID=$(grep -m 1 -v '^[[:space:]]*$' "$base.out" | tr -d '[:space:]' || true)
    t_log "job '$T_JOB_ID' ended in $((SECONDS - start)) s, exit $rc"
    if [ $rc -ne 0 ]; then
        tail -n 20 "$base.err" >&2
    fi
    return $rc
}

# t_check_job_finished: `weir status` of T_JOB_ID says FINISHED.
t_check_job_finished() {
    local out
    out=$(t_weir status "$T_JOB_ID" 2>&1) || t_fail "weir status $T_JOB_ID failed: $out"
    grep -qw FINISHED <<<"$out" || t_fail "weir status $T_JOB_ID does not say FINISHED: $out"
}

# t_check_published DIR: a finished job left no in-progress file in DIR.
t_check_published() {
    local left
    [ -d "$1" ] || t_fail "$1 does not exist"
    left=$(find "$1" -maxdepth 1 -name '.*inprogress*' | head -n 3)
    [ -z "$left" ] || t_fail "in-progress files left after the job finished: $left"
}

# t_bad_rows DIR: number of bad rows written to DIR (0 when it is absent).
# Each file there has a header line.
t_bad_rows() {
    local dir=$1
    if [ ! -d "$dir" ]; then
        echo 0
        return
    fi
    find "$dir" -maxdepth 1 -type f ! -name '.*' -exec awk 'FNR > 1' {} + | wc -l
}
