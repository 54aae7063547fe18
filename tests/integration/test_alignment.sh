#!/usr/bin/env bash
# Watermark alignment: the coordinator sends each job's watermark (the
# minimum over its keyed tasks) to its nodes, and a source ahead of it by
# more than watermark.max_drift pauses. A fast and a slow generator
# unioned stay within a few minutes of event time of each other (without
# alignment the fast one runs hours ahead), and `weir watermarks` shows
# the fast one paused.
source "$(dirname "$0")/lib.sh"

t_cluster_up 2
t_job aligned
t_weir submit "$T_JOBFILE" >"$T_TMP/id" || t_fail "submit failed"
T_JOB_ID=$(tr -d '[:space:]' <"$T_TMP/id")
sleep 3
saw_pause=0
for i in $(seq 1 10); do
    sleep 0.5
    wm=$(t_weir watermarks "$T_JOB_ID")
    grep -q "paused" <<<"$wm" && saw_pause=1
    gap=$(awk '$2 == "source" && $5 == "RUNNING" { t = $6; sub(/Z$/, "", t); cmd = "date -u -d \"" t "\" +%s"; cmd | getline s; close(cmd); v[$1] = s }
               END { if (length(v) < 2) { print -1; exit } d = v[0] - v[1]; if (d < 0) d = -d; print d }' <<<"$wm")
    [ "$gap" -ge 0 ] || continue
    # 5 minutes of drift, plus what the slow source gains while the
    # coordinator's view travels (about a minute of event time per second).
    [ "$gap" -le 600 ] || t_fail "sources ${gap}s of event time apart (max_drift 5m): $wm"
done
[ $saw_pause = 1 ] || t_fail "weir watermarks never showed a paused source: $wm"
t_weir cancel "$T_JOB_ID" >/dev/null
