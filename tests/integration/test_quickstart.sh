#!/usr/bin/env bash
# The README's first command, as a user runs it: scripts/quickstart exits 0,
# names where the results are and prints the five busiest windows, and
# leaves no cluster behind. (It once exited 141: `sort | head` under
# pipefail.)
source "$(dirname "$0")/lib.sh"

port=$(t_free_port)
rc=0
WEIR_PORT=$port t_timeout 600 "$T_ROOT/scripts/quickstart" >"$T_TMP/qs.out" 2>"$T_TMP/qs.err" || rc=$?
if [ $rc -ne 0 ]; then
    tail -n 30 "$T_TMP/qs.out" "$T_TMP/qs.err" >&2
    t_fail "scripts/quickstart exited $rc"
fi
grep -q '^Results: ' "$T_TMP/qs.out" || t_fail "quickstart does not say where the results are"
grep -q 'The five busiest' "$T_TMP/qs.out" || t_fail "quickstart printed no top five"
rows=$(awk '/The five busiest/ { on = 1; next } on && /^[0-9]+ / { n++ } END { print n + 0 }' "$T_TMP/qs.out")
[ "$rows" -eq 5 ] || t_fail "quickstart printed $rows windows, expected 5"
counted=$(t_windowdiff sum trips "$T_ROOT/out/taxi-zone-hourly/results") || t_fail "no results"
late=$(t_windowdiff count --allow-missing "$T_ROOT/out/taxi-zone-hourly/late") || t_fail "no late dir"
[ $((counted + late)) -eq 10000 ] || t_fail "$counted counted + $late late != 10000"
if [ -f "$T_ROOT/out/local/pids" ]; then
    t_fail "quickstart left a cluster running: $(cat "$T_ROOT/out/local/pids")"
fi
