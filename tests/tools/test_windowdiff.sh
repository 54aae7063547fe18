#!/usr/bin/env bash
# Self-test of tests/tools/windowdiff.py: the comparisons the integration
# tests rely on accept equal output and reject every kind of difference,
# and never pass on missing or empty output. Registered with CTest.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wd="python3 $here/windowdiff.py"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/windowdiff-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

n_pass=0
n_fail=0

# expect RC DESCRIPTION COMMAND...: the command must exit with RC.
expect() {
    local want=$1 what=$2
    shift 2
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq "$want" ]; then
        n_pass=$((n_pass + 1))
    else
        n_fail=$((n_fail + 1))
        echo "FAIL: $what: exit $rc, wanted $want"
        echo "$out" | sed 's/^/    /'
    fi
}

# output DIR FILE CONTENT: writes DIR/FILE (creating DIR).
output() {
    mkdir -p "$1"
    printf '%b' "$3" > "$1/$2"
}

cat > "$tmp/exp.csv" <<'EOF'
zone,window_start,window_end,count,sum_fare,avg_s
1,0,3600000,2,16.5,
1,3600000,7200000,1,8.0,2.5
"a,b",0,3600000,3,0.1,0.3333333333333333
EOF

# Equal, split over two part files, numbers written differently, plus an
# in-progress file that must be ignored.
d=$tmp/equal
output "$d" part-0-1.csv 'zone,window_start,window_end,count,sum_fare,avg_s\n1,3600000,7200000,1,8,2.50\n'
output "$d" part-1-1.csv 'zone,window_start,window_end,count,sum_fare,avg_s\n"a,b",0,3600000,3,0.1,0.33333333333333331\n1,0,3600000,2,16.5,\n'
output "$d" .part-1-2.csv.inprogress 'garbage\n'
expect 0 "equal output" $wd "$tmp/exp.csv" "$d"
expect 0 "equal output, explicit windows mode" $wd windows "$tmp/exp.csv" "$d"

expect 1 "missing directory" $wd "$tmp/exp.csv" "$tmp/nowhere"
mkdir -p "$tmp/empty"
expect 1 "empty directory" $wd "$tmp/exp.csv" "$tmp/empty"
output "$tmp/hidden" .part-0.csv.inprogress 'zone,window_start,window_end,count,sum_fare,avg_s\n'
expect 1 "only an in-progress file" $wd "$tmp/exp.csv" "$tmp/hidden"
output "$tmp/nohdr" part-0.csv ''
expect 1 "part file without header" $wd "$tmp/exp.csv" "$tmp/nohdr"

hdr='zone,window_start,window_end,count,sum_fare,avg_s\n'
all="1,0,3600000,2,16.5,\n1,3600000,7200000,1,8.0,2.5\n\"a,b\",0,3600000,3,0.1,0.3333333333333333\n"
output "$tmp/value" part-0.csv "$hdr${all/16.5/16.6}"
expect 1 "a value differs" $wd "$tmp/exp.csv" "$tmp/value"
output "$tmp/close" part-0.csv "$hdr${all/16.5/16.500000000000004}"
expect 0 "a value within 1e-9" $wd "$tmp/exp.csv" "$tmp/close"
output "$tmp/null" part-0.csv "$hdr${all/16.5,/16.5,0}"
expect 1 "0 where NULL is expected" $wd "$tmp/exp.csv" "$tmp/null"
output "$tmp/notnull" part-0.csv "$hdr${all/8.0,2.5/8.0,}"
expect 1 "NULL where a value is expected" $wd "$tmp/exp.csv" "$tmp/notnull"
output "$tmp/missing" part-0.csv "${hdr}1,0,3600000,2,16.5,\n1,3600000,7200000,1,8.0,2.5\n"
expect 1 "a window is missing" $wd "$tmp/exp.csv" "$tmp/missing"
output "$tmp/extra" part-0.csv "$hdr${all}2,0,3600000,1,1,1\n"
expect 1 "an unexpected window" $wd "$tmp/exp.csv" "$tmp/extra"
output "$tmp/key" part-0.csv "$hdr${all/\"a,b\"/\"a;b\"}"
expect 1 "a key differs" $wd "$tmp/exp.csv" "$tmp/key"
output "$tmp/header" part-0.csv "zone,window_start,window_end,count,sum_fare,avg_x\n$all"
expect 1 "the header differs" $wd "$tmp/exp.csv" "$tmp/header"
output "$tmp/short" part-0.csv "$hdr${all}3,0,3600000\n"
expect 1 "a short row" $wd "$tmp/exp.csv" "$tmp/short"

# Several rows for one window: an error, unless --last-wins and the last
# row (files in natural order: part-2 before part-10) is right.
output "$tmp/dup" part-2.csv "${hdr}1,0,3600000,1,8.0,\n"
output "$tmp/dup" part-10.csv "$hdr$all"
expect 1 "a duplicate window" $wd "$tmp/exp.csv" "$tmp/dup"
expect 0 "a duplicate window with --last-wins" $wd --last-wins "$tmp/exp.csv" "$tmp/dup"
output "$tmp/dup2" part-2.csv "$hdr$all"
output "$tmp/dup2" part-10.csv "${hdr}1,0,3600000,1,8.0,\n"
expect 1 "--last-wins with a wrong last row" $wd --last-wins "$tmp/exp.csv" "$tmp/dup2"

# A pane column: several rows per window without --last-wins, the last
# one (pane included) is the final value, and panes keep their order.
printf 'k,window_start,window_end,count,pane\nk,0,10,5,on_time\nk,20,30,1,late\n' > "$tmp/exp_pane.csv"
ph='k,window_start,window_end,count,pane\n'
output "$tmp/pane_ok" part-0.csv "${ph}k,0,10,2,early\nk,0,10,4,early\nk,0,10,5,on_time\nk,20,30,1,late\n"
expect 0 "pane: early rows then the final one" $wd "$tmp/exp_pane.csv" "$tmp/pane_ok"
output "$tmp/pane_last" part-0.csv "${ph}k,0,10,5,on_time\nk,20,30,1,late\nk,0,10,5,late\n"
expect 1 "pane: the final row's pane differs" $wd "$tmp/exp_pane.csv" "$tmp/pane_last"
output "$tmp/pane_order" part-0.csv "${ph}k,0,10,4,on_time\nk,0,10,5,early\nk,0,10,5,on_time\nk,20,30,1,late\n"
expect 1 "pane: early after on_time" $wd "$tmp/exp_pane.csv" "$tmp/pane_order"
output "$tmp/pane_twice" part-0.csv "${ph}k,0,10,5,on_time\nk,0,10,5,on_time\nk,20,30,1,late\n"
expect 1 "pane: on_time twice" $wd "$tmp/exp_pane.csv" "$tmp/pane_twice"
output "$tmp/pane_early" part-0.csv "${ph}k,0,10,5,on_time\nk,20,30,1,late\nk,40,50,1,early\n"
expect 1 "pane: a window left with an early pane" $wd "$tmp/exp_pane.csv" "$tmp/pane_early"
output "$tmp/pane_bad" part-0.csv "${ph}k,0,10,5,on_time\nk,20,30,1,lately\n"
expect 1 "pane: an unknown pane" $wd "$tmp/exp_pane.csv" "$tmp/pane_bad"

# sequence: every row in order per key; keys may interleave.
printf 'k,window_start,window_end,count,pane\na,0,10,2,early\na,0,10,3,on_time\nb,0,10,1,on_time\na,10,20,1,on_time\n' > "$tmp/exp_seq.csv"
output "$tmp/seq_ok" part-0.csv "${ph}b,0,10,1,on_time\na,0,10,2,early\n"
output "$tmp/seq_ok" part-1.csv "${ph}a,0,10,3.0,on_time\na,10,20,1,on_time\n"
expect 0 "sequence: equal, keys interleaved" $wd sequence "$tmp/exp_seq.csv" "$tmp/seq_ok"
output "$tmp/seq_swap" part-0.csv "${ph}a,0,10,3,on_time\na,0,10,2,early\nb,0,10,1,on_time\na,10,20,1,on_time\n"
expect 1 "sequence: two rows of a key swapped" $wd sequence "$tmp/exp_seq.csv" "$tmp/seq_swap"
output "$tmp/seq_more" part-0.csv "${ph}a,0,10,2,early\na,0,10,3,on_time\nb,0,10,1,on_time\na,10,20,1,on_time\nb,0,10,1,late\n"
expect 1 "sequence: a row too many" $wd sequence "$tmp/exp_seq.csv" "$tmp/seq_more"
output "$tmp/seq_less" part-0.csv "${ph}a,0,10,3,on_time\nb,0,10,1,on_time\na,10,20,1,on_time\n"
expect 1 "sequence: a row missing" $wd sequence "$tmp/exp_seq.csv" "$tmp/seq_less"
expect 1 "sequence: missing directory" $wd sequence "$tmp/exp_seq.csv" "$tmp/nowhere"

# An empty result equals an empty expectation only when there is output.
printf 'k,window_start,window_end,count\n' > "$tmp/exp_empty.csv"
output "$tmp/hdronly" part-0.csv 'k,window_start,window_end,count\n'
expect 0 "empty result, empty expectation" $wd "$tmp/exp_empty.csv" "$tmp/hdronly"
expect 1 "empty expectation, no output" $wd "$tmp/exp_empty.csv" "$tmp/empty"

# Rows: a multiset, numbers by value.
printf 'ts,zone,fare,s\n1000,7,8.0,\n1000,7,8.0,\n2000,9,1.25,2.5\n' > "$tmp/rows.csv"
output "$tmp/r_ok" part-0.csv 'ts,zone,fare,s\n2000,9,1.25,2.5\n1000,7,8,\n'
output "$tmp/r_ok" part-1.csv 'ts,zone,fare,s\n1000,7,8.0,\n'
expect 0 "rows: equal multiset" $wd rows "$tmp/rows.csv" "$tmp/r_ok"
output "$tmp/r_less" part-0.csv 'ts,zone,fare,s\n2000,9,1.25,2.5\n1000,7,8,\n'
expect 1 "rows: one copy missing" $wd rows "$tmp/rows.csv" "$tmp/r_less"
output "$tmp/r_more" part-0.csv 'ts,zone,fare,s\n2000,9,1.25,2.5\n1000,7,8,\n1000,7,8,\n1000,7,8,\n'
expect 1 "rows: one copy too many" $wd rows "$tmp/rows.csv" "$tmp/r_more"
output "$tmp/r_null" part-0.csv 'ts,zone,fare,s\n2000,9,1.25,2.5\n1000,7,8,0\n1000,7,8,\n'
expect 1 "rows: 0 for NULL" $wd rows "$tmp/rows.csv" "$tmp/r_null"
expect 1 "rows: missing directory" $wd rows "$tmp/rows.csv" "$tmp/nowhere"

# sum and count
expect 0 "sum" test "$($wd sum count "$d")" = 6
expect 0 "count" test "$($wd count "$d")" = 3
expect 0 "count --allow-missing" test "$($wd count --allow-missing "$tmp/nowhere")" = 0
expect 1 "count of a missing directory" $wd count "$tmp/nowhere"
expect 1 "sum of an unknown column" $wd sum nope "$d"

# The checked-in expectations compare equal to themselves, cut into parts.
for f in "$here"/../expected/*_results.csv; do
    p=$tmp/self/$(basename "$f" .csv)
    mkdir -p "$p"
    head -n 1 "$f" > "$p/part-0.csv"
    head -n 1 "$f" > "$p/part-1.csv"
    tail -n +2 "$f" | awk -v p="$p" 'NR % 2 { print >> (p "/part-0.csv"); next } { print >> (p "/part-1.csv") }'
    expect 0 "$(basename "$f") against itself" $wd "$f" "$p"
done
late=$here/../expected/taxi_30m_late.csv
mkdir -p "$tmp/self/late"
{ head -n 1 "$late"; tail -n +2 "$late" | sort -r; } > "$tmp/self/late/part-0.csv"
expect 0 "taxi_30m_late.csv against itself, reordered" $wd rows "$late" "$tmp/self/late"

echo "windowdiff: $n_pass passed, $n_fail failed"
[ "$n_fail" -eq 0 ]
