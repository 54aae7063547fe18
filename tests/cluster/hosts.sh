#!/usr/bin/env bash
# A cluster across hosts on one machine: a coordinator and three nodes,
# each in its own network namespace with its own address on a private
# bridge that the test makes (root only), so that the control and data
# planes really cross between hosts. Source it from a test script in
# tests/cluster/; it sources tests/integration/lib.sh (t_log, t_fail,
# t_weir, ...) and always removes what it made (processes, namespaces,
# links, bridge), whatever way the test ends.
#
#   h_up             namespaces h0 (coordinator, 10.77.N.10) and h1..h3
#                    (nodes, .11-.13) on bridge; processes started; waits
#                    for the nodes; exports WEIR_COORDINATOR (reachable from
#                    the test through the bridge's address .254)
#   h_kill HOST      kill -9 the weir process of HOST
#   h_start HOST     starts HOST's process again (same id and data dir)
#   h_cut HOST       takes HOST's link down (the process keeps running)
#   h_heal HOST      brings it back
#   h_pid HOST       pid of HOST's process
#
# N is derived from the test's pid, so two runs never share names.
source "$(dirname "$0")/../integration/lib.sh"

if [ "$(id -u)" -ne 0 ] || ! ip netns list >/dev/null 2>&1; then
    echo "SKIP $T_NAME: needs root and ip netns (CI runs as root)" >&2
    exit 0
fi

H_NET=$((($$ % 200) + 20))
H_TAG=w$((($$ % 9000) + 1000))
H_BR=${H_TAG}br
H_PORT=6510
H_HOSTS="h0 h1 h2 h3"
T_CLUSTER=$T_TMP/cluster
mkdir -p "$T_CLUSTER"
: >"$T_CLUSTER/pids"

h_ns() { echo "${H_TAG}-$1"; }
h_ip() { echo "10.77.$H_NET.$((10 + ${1#h}))"; }
h_veth() { echo "${H_TAG}v${1#h}"; }

t_extra_cleanup() {
    local h
    for h in $H_HOSTS; do
        ip netns pids "$(h_ns "$h")" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip link del "$(h_veth "$h")" 2>/dev/null
        ip netns del "$(h_ns "$h")" 2>/dev/null
    done
    ip link del "$H_BR" 2>/dev/null
    local left
    left=$(ip netns list 2>/dev/null | grep -c "^$H_TAG-" || true)
    [ "$left" -eq 0 ] || { echo "FAIL $T_NAME: $left network namespaces left" >&2; return 1; }
    return 0
}

h_start() {
    local h=$1 ns
    ns=$(h_ns "$h")
    if [ "$h" = h0 ]; then
        ip netns exec "$ns" "$T_BUILD/weir-coordinator" --listen "tcp://$(h_ip h0):$H_PORT" \
            --data-dir "$T_CLUSTER/coordinator" >>"$T_CLUSTER/coordinator.log" 2>&1 &
    else
        ip netns exec "$ns" "$T_BUILD/weir-node" --coordinator "tcp://$(h_ip h0):$H_PORT" \
            --listen "tcp://$(h_ip "$h"):0" --data-dir "$T_CLUSTER/$h" --id "$h" \
            >>"$T_CLUSTER/$h.log" 2>&1 &
    fi
    local pid=$!
    # `weir local down` (the cleanup) stops what the pid file lists.
    sed -i "/^$h /d" "$T_CLUSTER/pids"
    echo "$h $pid" >>"$T_CLUSTER/pids"
}

h_pid() { awk -v h="$1" '$1 == h { print $2 }' "$T_CLUSTER/pids"; }
h_kill() { kill -9 "$(h_pid "$1")"; }
h_cut() { ip link set "$(h_veth "$1")" down; }
h_heal() { ip link set "$(h_veth "$1")" up; }

h_up() {
    ip link add "$H_BR" type bridge || t_fail "cannot create bridge $H_BR"
    ip addr add "10.77.$H_NET.254/24" dev "$H_BR"
    ip link set "$H_BR" up
    local h ns
    for h in $H_HOSTS; do
        ns=$(h_ns "$h")
        ip netns add "$ns" || t_fail "cannot create namespace $ns"
        ip link add "$(h_veth "$h")" type veth peer name eth0 netns "$ns"
        ip link set "$(h_veth "$h")" master "$H_BR" up
        ip netns exec "$ns" ip addr add "$(h_ip "$h")/24" dev eth0
        ip netns exec "$ns" ip link set eth0 up
        ip netns exec "$ns" ip link set lo up
    done
    for h in $H_HOSTS; do
        h_start "$h"
        [ "$h" = h0 ] && sleep 0.3
    done
    export WEIR_COORDINATOR=tcp://$(h_ip h0):$H_PORT
    local i
    for i in $(seq 1 100); do
        [ "$(t_weir nodes 2>/dev/null | awk '$3 == "alive"' | wc -l)" -eq 3 ] && break
        sleep 0.1
    done
    [ "$(t_weir nodes 2>/dev/null | awk '$3 == "alive"' | wc -l)" -eq 3 ] ||
        t_fail "three nodes did not register: $(t_weir nodes 2>&1)"
    t_log "hosts up: coordinator $(h_ip h0), nodes $(h_ip h1) $(h_ip h2) $(h_ip h3) on $H_BR"
}
