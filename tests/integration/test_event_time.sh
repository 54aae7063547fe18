#!/usr/bin/env bash
# Event-time semantics (DESIGN §6, shared/tools/window_oracle.py) pinned
# end to end, case by case, on one cluster of two nodes: windows before
# 1970, negative and positive window offsets, sliding windows whose size is
# not a multiple of the slide, sessions, a union of two sources, allowed
# lateness (a window re-emitted with its full value, pane late), early
# results every N rows (pane early), rows exactly on window edges and on the
# watermark, a bound as large as the window, and RFC 4180 corners of the
# CSV reader. One source split and batches of one row, so lateness
# decisions follow the per-row model exactly. Then early results every T of
# processing time, on a paced generator.
#
# Each job (tests/integration/jobs/event_time/NAME.yaml) reads an input
# written here and gets its own output directory $T_TMP/out/NAME. Every
# job's results AND late rows are compared with the expected rows written
# here (an empty late file means "nothing late": the late sink still has to
# publish a part file with a header); jobs that emit a window more than once
# also have every result row compared, in order (expect_sequence).
# Timestamps are epoch milliseconds.
source "$(dirname "$0")/lib.sh"

in=$T_TMP
exp=$T_TMP/expected
mkdir -p "$exp"
failures=()

# expect NAME: the expected results of job NAME, from stdin.
# expect_late NAME: the expected late rows of job NAME, from stdin (the
# header alone when nothing may be late).
# expect_sequence NAME: every result row of job NAME in emission order per
# key (windowdiff.py sequence), from stdin; optional.
expect() { cat >"$exp/$1.csv"; }
expect_late() { cat >"$exp/$1.late.csv"; }
expect_sequence() { cat >"$exp/$1.seq.csv"; }

# run_job NAME [WINDOWDIFF OPTIONS]: runs the job to the end and compares
# its results and late rows; a difference is recorded and the next job
# runs, so one run shows every failing case.
run_job() {
    local name=$1 out=$T_TMP/out/$1
    shift
    [ -f "$exp/$name.csv" ] && [ -f "$exp/$name.late.csv" ] ||
        t_fail "the test has no expected results or late rows for $name"
    t_job "event_time/$name" "$name"
    if ! t_submit_wait "$T_JOBFILE" 60; then
        failures+=("$name: the job did not finish")
        return
    fi
    t_check_job_finished
    t_check_published "$out/results"
    t_check_published "$out/late"
    local bad
    bad=$(t_bad_rows "$T_TMP/out/$name/bad")
    [ "$bad" -eq 0 ] || failures+=("$name: $bad bad rows: $(cat "$out"/bad/*.csv)")
    if ! t_windowdiff "$@" "$exp/$name.csv" "$out/results"; then
        failures+=("$name: results differ")
        printf -- '--- %s results:\n' "$name"
        cat "$out"/results/part-*.csv 2>/dev/null || true
    fi
    if [ -f "$exp/$name.seq.csv" ] &&
        ! t_windowdiff sequence "$exp/$name.seq.csv" "$out/results"; then
        failures+=("$name: the result rows, in order, differ")
    fi
    if ! t_windowdiff rows "$exp/$name.late.csv" "$out/late"; then
        failures+=("$name: late rows differ")
        printf -- '--- %s late rows:\n' "$name"
        cat "$out"/late/part-*.csv 2>/dev/null || true
    fi
    ran=$((ran + 1))
}
ran=0

# ---- inputs and expected rows --------------------------------------------

# 1. Tumbling 1000 before the epoch: -1 belongs to [-1000, 0), not to
# [0, 1000) (floor, not truncation toward zero). The same as ISO text.
cat >"$in/tumble_neg.csv" <<'CSV'
ts,key
-1500,a
-500,a
-1,a
0,a
CSV
cat >"$in/tumble_neg_iso.csv" <<'CSV'
ts,key
1969-12-31T23:59:58.500Z,a
1969-12-31T23:59:59.500Z,a
1969-12-31T23:59:59.999Z,a
1970-01-01T00:00:00Z,a
CSV
for name in tumble_neg tumble_neg_iso; do
    expect "$name" <<'CSV'
key,window_start,window_end,count
a,-2000,-1000,1
a,-1000,0,2
a,0,1000,1
CSV
    expect_late "$name" <<'CSV'
ts,key
CSV
done

# 2. Sliding 10 s / 5 s: -7000 lies in the two windows that start at
# -10000 and -15000.
cat >"$in/slide_neg.csv" <<'CSV'
ts,key
-7000,a
CSV
expect slide_neg <<'CSV'
key,window_start,window_end,count
a,-15000,-5000,1
a,-10000,0,1
CSV
expect_late slide_neg <<'CSV'
ts,key
CSV

# 3. One-day windows with offset -8h start at 16:00 UTC; +16h is the same
# offset modulo a day. 2024-03-08T16:00Z = 1709913600000,
# 2024-03-09T16:00Z = 1710000000000, 2024-03-10T16:00Z = 1710086400000.
cat >"$in/days.csv" <<'CSV'
ts,key
2024-03-09T15:59:59Z,a
2024-03-09T16:00:00Z,a
2024-03-10T15:59:59.999Z,a
CSV
for name in day_minus8h day_plus16h; do
    expect "$name" <<'CSV'
key,window_start,window_end,count
a,1709913600000,1710000000000,1
a,1710000000000,1710086400000,2
CSV
    expect_late "$name" <<'CSV'
ts,key
CSV
done

# 4. Sliding 5500 / 5000 (windows overlap by 500 ms), bound 10 s: 513040
# is in one window only, 515200 and 510000 in two, 515500 in one.
cat >"$in/slide_uneven.csv" <<'CSV'
ts,key
513040,a
515200,a
510000,a
515500,a
CSV
expect slide_uneven <<'CSV'
key,window_start,window_end,count
a,505000,510500,1
a,510000,515500,3
a,515000,520500,2
CSV
expect_late slide_uneven <<'CSV'
ts,key
CSV

# 4. Sliding 1000 / 1000 equals tumbling 1000, also in what is late:
# 1999,a and 999,b come after the watermark passed 2499.
cat >"$in/slide_eq.csv" <<'CSV'
ts,key
-1500,a
-500,a
-1,a
0,a
2500,b
1999,a
999,b
3000,a
CSV
for name in slide_1000 tumble_1000; do
    expect "$name" <<'CSV'
key,window_start,window_end,count
a,-2000,-1000,1
a,-1000,0,2
a,0,1000,1
b,2000,3000,1
a,3000,4000,1
CSV
    expect_late "$name" <<'CSV'
ts,key
1999,a
999,b
CSV
done

# 5. Sessions, gap 5 s, bound 10 s: 4500 bridges [0,5000) and [9000,14000),
# 14000 touches the merged session; j's session stays apart.
cat >"$in/session_bound.csv" <<'CSV'
ts,key
0,k
9000,k
1000,j
4500,k
14000,k
CSV
expect session_bound <<'CSV'
key,window_start,window_end,count
j,1000,6000,1
k,0,19000,4
CSV
expect_late session_bound <<'CSV'
ts,key
CSV

# 5. Sessions, bound 0, lateness 0: after 6000,z the watermark is 5999, so
# 3000,k (which could only extend k's emitted session) is late.
cat >"$in/session_late.csv" <<'CSV'
ts,key
0,k
6000,z
3000,k
30000,z
CSV
expect session_late <<'CSV'
key,window_start,window_end,count
k,0,5000,1
z,6000,11000,1
z,30000,35000,1
CSV
expect_late session_late <<'CSV'
ts,key
3000,k
CSV

# 6. A union of two sources: b's rows are behind a's watermark but not
# behind the job's (the minimum over both sources). 2024-01-01T00:00Z =
# 1704067200000.
cat >"$in/union_a.csv" <<'CSV'
ts,key
2024-01-01T00:00:05Z,a
2024-01-01T00:01:05Z,a
2024-01-01T00:02:05Z,a
CSV
cat >"$in/union_b.csv" <<'CSV'
ts,key
2024-01-01T00:00:30Z,b
2024-01-01T00:00:55Z,b
CSV
expect union <<'CSV'
key,window_start,window_end,count
a,1704067200000,1704067260000,1
b,1704067200000,1704067260000,2
a,1704067260000,1704067320000,1
a,1704067320000,1704067380000,1
CSV
expect_late union <<'CSV'
ts,key
CSV

# 7. Allowed lateness 5 s: [0,10000) fires at W = 9999 with 3 (on_time),
# again with 11 (4000) and 43 (5000) (late updates); 15000 moves W to 14999
# and drops it, so 6000 is late. Every row carries its pane; the final value
# of a window is its last row.
cat >"$in/lateness_sum.csv" <<'CSV'
ts,key,value
1000,k,1
9000,k,2
10000,k,4
4000,k,8
14999,k,16
5000,k,32
15000,k,64
6000,k,128
30000,k,0
CSV
expect lateness_sum <<'CSV'
key,window_start,window_end,sum_value,pane
k,0,10000,43,late
k,10000,20000,84,on_time
k,30000,40000,0,on_time
CSV
expect_sequence lateness_sum <<'CSV'
key,window_start,window_end,sum_value,pane
k,0,10000,3,on_time
k,0,10000,11,late
k,0,10000,43,late
k,10000,20000,84,on_time
k,30000,40000,0,on_time
CSV
expect_late lateness_sum <<'CSV'
ts,key,value
6000,k,128
CSV

# 8. Sliding 10 s / 5 s, lateness 0: 7000 still reaches [5000,15000) after
# [0,10000) was dropped, so it is not late; 500 has both windows dropped.
cat >"$in/slide_late.csv" <<'CSV'
ts,key
1000,k
12000,k
7000,k
16000,k
500,k
40000,k
CSV
expect slide_late <<'CSV'
key,window_start,window_end,count
k,-5000,5000,1
k,0,10000,1
k,5000,15000,2
k,10000,20000,2
k,15000,25000,1
k,35000,45000,1
k,40000,50000,1
CSV
expect_late slide_late <<'CSV'
ts,key
500,k
CSV

# 9. Window edges: 10000 opens [10000,20000) and moves W to 9999, which
# fires [0,10000); the second 9999 equals W and is late.
cat >"$in/tumble_edges.csv" <<'CSV'
ts,key
0,k
9999,k
10000,k
10000,k
10000,j
9999,k
25000,k
CSV
expect tumble_edges <<'CSV'
key,window_start,window_end,count
k,0,10000,2
k,10000,20000,2
j,10000,20000,1
k,20000,30000,1
CSV
expect_late tumble_edges <<'CSV'
ts,key
9999,k
CSV

# 10. Bound 60 s, tumbling 60 s: after 70000 W is 9999, [0,60000) is still
# open; both windows fire at the end of the input.
cat >"$in/bound_60s.csv" <<'CSV'
ts,key
1000,a
70000,a
CSV
expect bound_60s <<'CSV'
key,window_start,window_end,count
a,0,60000,1
a,60000,120000,1
CSV
expect_late bound_60s <<'CSV'
ts,key
CSV

# 11. CRLF line ends; a quoted comma, a quoted LF, doubled quotes, UTF-8,
# an empty key (NULL, its own group) and an empty value (NULL). Exactly six
# rows: no bad row, and the counts add up to 6.
printf '%s\r\n' 'ts,key,value,note' '1000,"a,1",1,"plain"' $'2000,a,2,"multi\nline"' \
    '3000,"say ""hi""",3,' '4000,b,4,"Pāhala"' '5000,,5,empty key' '6000,b,,missing value' \
    >"$in/csv_quirks.csv"
expect csv_quirks <<'CSV'
key,window_start,window_end,count,sum_value,count_value
"a,1",0,10000,1,1,1
a,0,10000,1,2,1
"say ""hi""",0,10000,1,3,1
b,0,10000,2,4,1
,0,10000,1,5,1
CSV
expect_late csv_quirks <<'CSV'
ts,key,value,note
CSV

# 12. Early results every 2 rows, bound 0: [0,10000) shows 2, then 4 while
# open (pane early), and its final 5 when 20000 moves W to 19999 (on_time);
# [20000,30000) gets one row and fires at the end of the input.
cat >"$in/early_rows.csv" <<'CSV'
ts,key
1000,k
2000,k
3000,k
4000,k
5000,k
20000,k
CSV
expect early_rows <<'CSV'
key,window_start,window_end,count,pane
k,0,10000,5,on_time
k,20000,30000,1,on_time
CSV
expect_sequence early_rows <<'CSV'
key,window_start,window_end,count,pane
k,0,10000,2,early
k,0,10000,4,early
k,0,10000,5,on_time
k,20000,30000,1,on_time
CSV
expect_late early_rows <<'CSV'
ts,key
CSV

# ---- run -----------------------------------------------------------------

jobs=(tumble_neg tumble_neg_iso slide_neg day_minus8h day_plus16h slide_uneven
    slide_1000 tumble_1000 session_bound session_late union lateness_sum slide_late
    tumble_edges bound_60s csv_quirks early_rows)
for f in "$T_ROOT"/tests/integration/jobs/event_time/*.yaml; do
    name=$(basename "$f" .yaml)
    [[ " ${jobs[*]} " == *" $name "* ]] || t_fail "job file $f is not run by this test"
done

t_cluster_up 2
for name in "${jobs[@]}"; do
    if [ "$name" = lateness_sum ]; then
        run_job "$name" --last-wins
    else
        run_job "$name"
    fi
done
[ "$ran" -eq ${#jobs[@]} ] || failures+=("compared $ran of ${#jobs[@]} jobs")

# 7: the window [0,10000) is written three times (its sequence is compared
# above); the other two once.
res=$T_TMP/out/lateness_sum/results
if ls "$res"/part-*.csv >/dev/null 2>&1; then
    rows=$(t_windowdiff count "$res")
    [ "$rows" -eq 5 ] || failures+=("lateness_sum: $rows result rows, expected 5 (3 + 1 + 1)")
fi

# Early results every 100 ms of processing time (not part of the oracle's
# model, so checked by their properties): panes come as early* on_time per
# window, early counts only grow, at least one early pane was written while
# the paced input ran, and the on-time counts add up to every row.
t_job early_every
if ! t_submit_wait "$T_JOBFILE" 60; then
    failures+=("early_every: the job did not finish")
else
    t_check_job_finished
    res=$T_TMP/out/early_every/results
    t_check_published "$res"
    # the final rows as the expectation: windowdiff then checks the pane
    # order and that each window's last row is its on-time one
    awk -F, 'FNR == 1 && NR == 1 { print } FNR > 1 && $5 == "on_time"' \
        $(ls "$res"/part-*.csv | sort -V) >"$exp/early_every.csv"
    t_windowdiff "$exp/early_every.csv" "$res" >/dev/null ||
        failures+=("early_every: $(t_windowdiff "$exp/early_every.csv" "$res" | tail -n 4)")
    read -r early total shrink < <(awk -F, 'FNR > 1 {
            w = $1 "," $2
            if ($5 == "early") n++
            if ($5 == "on_time") t += $4
            if (w in last && $4 < last[w]) s++
            last[w] = $4
        } END { print n + 0, t + 0, s + 0 }' $(ls "$res"/part-*.csv | sort -V))
    [ "$early" -gt 0 ] || failures+=("early_every: no early pane in 3 s of input")
    [ "$total" -eq 3000 ] || failures+=("early_every: the on-time counts add up to $total, not 3000")
    [ "$shrink" -eq 0 ] || failures+=("early_every: $shrink panes show a smaller count than before")
    t_log "early_every: $early early panes"
fi

# 11: six rows in, six rows counted (the expected windows say so too).
total=$(t_windowdiff sum count "$T_TMP/out/csv_quirks/results" 2>/dev/null || echo none)
[ "$total" = 6 ] || failures+=("csv_quirks: the counts add up to $total, expected 6")

if [ ${#failures[@]} -gt 0 ]; then
    printf '  %s\n' "${failures[@]}" >&2
    t_fail "${#failures[@]} event-time checks failed"
fi
