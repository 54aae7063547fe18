#!/usr/bin/env bash
# Idle inputs and followed files (DESIGN §6; issue cases 6 and 15). Two
# followed CSV files are unioned: a.csv gets four rows of key a (00:00:10,
# 00:00:50, 00:01:10, 00:02:30 on 2024-01-01), b.csv stays empty. Tumbling
# 1 minute, no out-of-orderness. Processing time comes from a test clock
# (WEIR_TEST_CLOCK, a file holding milliseconds) that this script moves, so
# nothing here waits for an idle timeout to pass in real time.
#
# Without idle_timeout: the empty split holds the watermark at its start,
# so no window is written while the job runs, whatever the clock says.
# With idle_timeout: 5s: once the clock has moved 5 s past the empty
# split's last activity (and less than that past a.csv's), the empty split
# is idle, `weir watermarks` says so and names split 0 as the one holding
# the minimum, and [00:00,00:01) a=2 and [00:01,00:02) a=1 are written
# while the job still runs. `weir stop` then ends the input: the last
# window fires, the results are published, and no row is late.
source "$(dirname "$0")/lib.sh"

clock=$T_TMP/clock
set_clock() { echo "$1" >"$clock.tmp" && mv "$clock.tmp" "$clock"; }
set_clock 0
export WEIR_TEST_CLOCK=$clock
t_cluster_up 2

header='ts,key'
rows='2024-01-01T00:00:10Z,a
2024-01-01T00:00:50Z,a
2024-01-01T00:01:10Z,a
2024-01-01T00:02:30Z,a'
last_wm='2024-01-01T00:02:29.999Z'

# wait_split0 JOB: until split 0 has read every row (its watermark).
wait_split0() {
    local i wm
    for i in $(seq 1 100); do
        wm=$(t_weir watermarks "$1") || t_fail "weir watermarks $1 failed"
        awk -v w="$last_wm" '$2 == "source" && $3 == "split" && $4 == 0 && $6 == w { f = 1 }
                             END { exit !f }' <<<"$wm" && return 0
        sleep 0.1
    done
    t_fail "split 0 of $1 never reached $last_wm: $wm"
}

# written DIR: data rows in the in-progress result file of DIR (what the
# job has written so far, not yet published).
written() {
    local f
    f=$(find "$1" -maxdepth 1 -name '.*inprogress' | head -n 1)
    [ -n "$f" ] || t_fail "no in-progress result file in $1"
    tail -n +2 "$f"
}

# finish JOB OUT: weir stop --wait, then the published results and late rows.
finish() {
    t_timeout 60 "$WEIR" stop "$1" --wait >"$T_TMP/stop.out" 2>"$T_TMP/stop.err" ||
        t_fail "weir stop $1 --wait failed: $(cat "$T_TMP/stop.err")"
    T_JOB_ID=$1
    t_check_job_finished
    t_check_published "$2/results"
    printf 'key,window_start,window_end,n\na,1704067200000,1704067260000,2\na,1704067260000,1704067320000,1\na,1704067320000,1704067380000,1\n' \
        >"$T_TMP/expected.csv"
    t_windowdiff "$T_TMP/expected.csv" "$2/results" || t_fail "final results of $1 differ"
    local late
    late=$(t_windowdiff count --allow-missing "$2/late") || t_fail "cannot read $2/late"
    [ "$late" -eq 0 ] || t_fail "$late late rows in $2/late, expected none"
}

# --- without idleness ---------------------------------------------------
mkdir -p "$T_TMP/none"
printf '%s\n%s\n' "$header" "$rows" >"$T_TMP/none/a.csv"
printf '%s\n' "$header" >"$T_TMP/none/b.csv"
t_job idle/follow_none none
t_weir submit "$T_JOBFILE" >"$T_TMP/id" || t_fail "submit failed"
job=$(tr -d '[:space:]' <"$T_TMP/id")
wait_split0 "$job"
set_clock 3600000 # an hour of processing time: still nothing may fire
sleep 1
got=$(written "$T_TMP/out/none/results")
[ -z "$got" ] || t_fail "without idle_timeout a window was written while b.csv holds the watermark: $got"
finish "$job" "$T_TMP/out/none"

# --- with idle_timeout: 5s ----------------------------------------------
t0=3600000
mkdir -p "$T_TMP/idle"
printf '%s\n' "$header" >"$T_TMP/idle/a.csv"
printf '%s\n' "$header" >"$T_TMP/idle/b.csv"
t_job idle/follow_idle idle
t_weir submit "$T_JOBFILE" >"$T_TMP/id" || t_fail "submit failed"
job=$(tr -d '[:space:]' <"$T_TMP/id")
sleep 1
set_clock $((t0 + 3000))
printf '%s\n' "$rows" >>"$T_TMP/idle/a.csv"
wait_split0 "$job"
sleep 0.5
got=$(written "$T_TMP/out/idle/results")
[ -z "$got" ] || t_fail "a window was written before b.csv went idle: $got"
# b.csv has been quiet for 6 s of the test clock, a.csv for 3 s.
set_clock $((t0 + 6000))
expect_early='a,1704067200000,1704067260000,2
a,1704067260000,1704067320000,1'
for i in $(seq 1 50); do
    got=$(written "$T_TMP/out/idle/results" | sort)
    [ "$got" = "$expect_early" ] && break
    sleep 0.1
done
[ "$got" = "$expect_early" ] ||
    t_fail "with b.csv idle, expected [00:00,00:01) a=2 and [00:01,00:02) a=1 written while the job runs, got: $got"
# The view of weir watermarks comes with the nodes' heartbeats (500 ms).
for i in $(seq 1 50); do
    wm=$(t_weir watermarks "$job")
    head -n 1 <<<"$wm" | grep -q "watermark $last_wm" && break
    sleep 0.1
done
echo "$wm"
awk '$2 == "source" && $4 == 1 && $7 == "yes" { f = 1 } END { exit !f }' <<<"$wm" ||
    t_fail "weir watermarks does not show split 1 (b.csv) idle: $wm"
awk '$2 == "source" && $4 == 0 && $7 == "no" && /holds the job.s minimum/ { f = 1 } END { exit !f }' <<<"$wm" ||
    t_fail "weir watermarks does not name split 0 as holding the minimum: $wm"
head -n 1 <<<"$wm" | grep -q "watermark $last_wm, held by source split 0" ||
    t_fail "the job's watermark line does not say split 0 holds $last_wm: $(head -n 1 <<<"$wm")"
# b.csv gets a row again: it is active once more (and the row is on time
# for its window only if W has not passed it: 00:02:40 is not late).
printf '2024-01-01T00:02:40Z,b\n' >>"$T_TMP/idle/b.csv"
for i in $(seq 1 50); do
    wm=$(t_weir watermarks "$job")
    awk '$2 == "source" && $4 == 1 && $7 == "no" { f = 1 } END { exit !f }' <<<"$wm" && break
    sleep 0.1
done
awk '$2 == "source" && $4 == 1 && $7 == "no" { f = 1 } END { exit !f }' <<<"$wm" ||
    t_fail "split 1 still idle after a row arrived: $wm"
t_timeout 60 "$WEIR" stop "$job" --wait >"$T_TMP/stop.out" 2>"$T_TMP/stop.err" ||
    t_fail "weir stop $job --wait failed: $(cat "$T_TMP/stop.err")"
T_JOB_ID=$job
t_check_job_finished
out=$T_TMP/out/idle
t_check_published "$out/results"
printf 'key,window_start,window_end,n\na,1704067200000,1704067260000,2\na,1704067260000,1704067320000,1\na,1704067320000,1704067380000,1\nb,1704067320000,1704067380000,1\n' \
    >"$T_TMP/expected.csv"
t_windowdiff "$T_TMP/expected.csv" "$out/results" || t_fail "final results differ"
late=$(t_windowdiff count --allow-missing "$out/late") || t_fail "cannot read $out/late"
[ "$late" -eq 0 ] || t_fail "$late late rows, expected none"

# A followed file that gets shorter fails its task with a clear message.
mkdir -p "$T_TMP/shrink"
printf '%s\n%s\n' "$header" "$rows" >"$T_TMP/shrink/a.csv"
printf '%s\n' "$header" >"$T_TMP/shrink/b.csv"
sed -e 's|/idle/|/shrink/|g' -e 's|/idle$|/shrink|' "$T_JOBFILE" >"$T_TMP/jobs/shrink.yaml"
t_weir submit "$T_TMP/jobs/shrink.yaml" >"$T_TMP/id" || t_fail "submit failed"
job=$(tr -d '[:space:]' <"$T_TMP/id")
wait_split0 "$job"
truncate -s 7 "$T_TMP/shrink/a.csv"
for i in $(seq 1 50); do
    st=$(t_weir status "$job" 2>&1)
    grep -qw FAILED <<<"$st" && break
    sleep 0.1
done
grep -qw FAILED <<<"$st" || t_fail "the job did not fail after its followed file got shorter: $st"
grep -q "got shorter" <<<"$st" || t_fail "the failure does not say the file got shorter: $st"

# A followed file whose last record never ends (an unclosed quote) is not
# dropped silently: at weir stop it becomes a bad row with the reason.
mkdir -p "$T_TMP/tail"
printf '%s\n%s\n' "$header" "$rows" >"$T_TMP/tail/a.csv"
printf '%s\n' "$header" >"$T_TMP/tail/b.csv"
sed -e 's|/none/|/tail/|g' -e 's|out/none|out/tail|g' "$T_TMP/jobs/follow_none.yaml" >"$T_TMP/jobs/tail.yaml"
t_weir submit "$T_TMP/jobs/tail.yaml" >"$T_TMP/id" || t_fail "submit failed"
job=$(tr -d '[:space:]' <"$T_TMP/id")
wait_split0 "$job"
printf '2024-01-01T00:03:00Z,"never closed\n2024-01-01T00:04:00Z,a\n' >>"$T_TMP/tail/a.csv"
sleep 0.5
t_timeout 60 "$WEIR" stop "$job" --wait >/dev/null 2>&1 || t_fail "weir stop $job failed"
# One bad row (its record spans two lines), with the reason.
bad=$(cat "$T_TMP"/out/tail/bad/*.csv 2>/dev/null | grep -c "incomplete record at the end of the followed file" || true)
[ "$bad" -eq 1 ] ||
    t_fail "expected the unfinished record as 1 bad row with its reason: $(cat "$T_TMP"/out/tail/bad/*.csv 2>&1)"
