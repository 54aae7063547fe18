#!/usr/bin/env bash
# Savepoints (DESIGN §8, issue 5 cases 1 and 2): a job stopped with a
# savepoint and submitted again from it writes exactly what a run without
# the stop writes, and the restored job has the watermark of the cut.
source "$(dirname "$0")/lib.sh"

t_cluster_up 2

# s_wait_rows JOB N: until the job's sources have read N rows.
s_wait_rows() {
    local i out
    for i in $(seq 1 200); do
        out=$(t_weir status "$1" 2>/dev/null) || true
        [ "$(awk '$2 == "source" { n += $7 } END { print n + 0 }' <<<"$out")" -ge "$2" ] && return 0
        sleep 0.1
    done
    t_fail "job $1 did not read $2 rows: $out"
}

# s_submit JOBFILE [ARGS]: prints the id.
s_submit() {
    t_weir submit "$@" 2>"$T_TMP/submit.err" || t_fail "weir submit $* failed: $(cat "$T_TMP/submit.err")"
}

# s_sorted DIR: every data row of the part files in DIR, sorted.
s_sorted() { tail -q -n +2 "$1"/part-*.csv | sort; }

# --- case 2: a savepoint restores the watermark -------------------------
printf 'ts,key\n1000,k\n6000,k\n11000,k\n' >"$T_TMP/sliding.csv"
t_job ck/sp_sliding sliding
job=$(s_submit "$T_JOBFILE")
s_wait_rows "$job" 3
sp=$(t_weir savepoint "$job" --stop 2>"$T_TMP/sp.err") || t_fail "savepoint --stop failed: $(cat "$T_TMP/sp.err")"
[ "$sp" = "$job/1" ] || t_fail "savepoint id '$sp', expected $job/1"
t_weir status "$job" | grep -q "stopped with savepoint $sp" || t_fail "status does not say the job stopped with $sp"
printf '2000,k\n12000,k\n21000,k\n' >>"$T_TMP/sliding.csv"
job2=$(s_submit "$T_JOBFILE" --from-savepoint "$sp")
t_weir status "$job2" | grep -q "restored:  from $sp" || t_fail "status of $job2 does not name $sp"
s_wait_rows "$job2" 3
t_timeout 60 "$WEIR" stop "$job2" --wait >/dev/null 2>"$T_TMP/stop.err" || t_fail "stop failed: $(cat "$T_TMP/stop.err")"
printf 'key,window_start,window_end,n\nk,-5000,5000,1\nk,0,10000,2\nk,5000,15000,3\nk,10000,20000,2\nk,15000,25000,1\nk,20000,30000,1\n' >"$T_TMP/exp.csv"
t_windowdiff "$T_TMP/exp.csv" "$T_TMP/out/sliding/results" || t_fail "case 2: results differ"
printf 'ts,key\n2000,k\n' >"$T_TMP/exp_late.csv"
t_windowdiff rows "$T_TMP/exp_late.csv" "$T_TMP/out/sliding/late" || t_fail "case 2: 2000 must be late exactly once"

# Restored again from savepoint 1 into the same directory, which now holds
# what came after it: the output would repeat, so the deployment fails.
again=$(s_submit "$T_JOBFILE" --from-savepoint "$sp")
for i in $(seq 1 50); do
    t_weir status "$again" | grep -q "^state: *FAILED" && break
    sleep 0.1
done
t_weir status "$again" | grep -q "written after checkpoint 1" ||
    t_fail "restoring an old savepoint over newer output was not refused: $(t_weir status "$again" | head -n 6)"

# A savepoint holds state of one shape: another window is refused, naming both.
sed -e 's/size: 10000, slide: 5000/size: 20000, slide: 5000/' "$T_JOBFILE" >"$T_TMP/jobs/other_window.yaml"
t_weir submit "$T_TMP/jobs/other_window.yaml" --from-savepoint "$sp" >/dev/null 2>"$T_TMP/e0" &&
    t_fail "a savepoint was restored into a job with another window"
grep -q "holds state of another shape.*window=sliding 10000ms/5000ms.*window=sliding 20000ms/5000ms" "$T_TMP/e0" ||
    t_fail "unclear error for a changed window: $(cat "$T_TMP/e0")"

# --- case 1: the taxi job, stopped and resumed halfway ------------------
taxi=$T_ROOT/examples/data/nyc_taxi/yellow_tripdata_sample_2019-01.by_dropoff.csv
total=$(($(wc -l <"$taxi") - 1))
half=$((total / 2))
# uninterrupted
cp "$taxi" "$T_TMP/taxi.csv"
t_job ck/sp_taxi taxi_whole
job=$(s_submit "$T_JOBFILE")
s_wait_rows "$job" "$total"
t_timeout 120 "$WEIR" stop "$job" --wait >/dev/null 2>&1 || t_fail "stop of the whole taxi run failed"
# interrupted
head -n $((half + 1)) "$taxi" >"$T_TMP/taxi.csv"
t_job ck/sp_taxi taxi_split
job=$(s_submit "$T_JOBFILE")
s_wait_rows "$job" "$half"
sp=$(t_weir savepoint "$job" --stop 2>"$T_TMP/sp.err") || t_fail "taxi savepoint failed: $(cat "$T_TMP/sp.err")"
tail -n +$((half + 2)) "$taxi" >>"$T_TMP/taxi.csv"
job=$(s_submit "$T_JOBFILE" --from-savepoint "$sp")
s_wait_rows "$job" $((total - half))
t_timeout 120 "$WEIR" stop "$job" --wait >/dev/null 2>&1 || t_fail "stop of the resumed taxi run failed"
for d in results late; do
    s_sorted "$T_TMP/out/taxi_whole/$d" >"$T_TMP/whole.$d"
    s_sorted "$T_TMP/out/taxi_split/$d" >"$T_TMP/split.$d"
    cmp -s "$T_TMP/whole.$d" "$T_TMP/split.$d" ||
        t_fail "taxi $d differ between the run without a stop and the stopped one: $(diff "$T_TMP/whole.$d" "$T_TMP/split.$d" | head -n 5)"
done
[ "$(cut -d, -f1-3 "$T_TMP/split.results" | sort | uniq -d | wc -l)" -eq 0 ] ||
    t_fail "a taxi window was written twice"
t_log "taxi: $(wc -l <"$T_TMP/whole.results") windows and $(wc -l <"$T_TMP/whole.late") late rows, equal with and without the stop"

# --- case 1: a generator job with sliding windows -----------------------
t_job ck/sp_gen gen_whole
job=$(s_submit "$T_JOBFILE")
t_timeout 120 "$WEIR" status "$job" >/dev/null
for i in $(seq 1 300); do
    t_weir status "$job" | grep -q FINISHED && break
    sleep 0.1
done
t_weir status "$job" | grep -q FINISHED || t_fail "the generator job did not finish"
t_job ck/sp_gen gen_split
job=$(s_submit "$T_JOBFILE")
sleep 1
sp=$(t_weir savepoint "$job" --stop 2>"$T_TMP/sp.err") || t_fail "generator savepoint failed: $(cat "$T_TMP/sp.err")"
read_before=$(t_weir status "$job" | awk '$2 == "source" { n += $7 } END { print n + 0 }')
[ "$read_before" -gt 0 ] && [ "$read_before" -lt 60000 ] ||
    t_fail "the savepoint should cut the generator in the middle, read $read_before"
job=$(s_submit "$T_JOBFILE" --from-savepoint "$sp")
for i in $(seq 1 300); do
    t_weir status "$job" | grep -q FINISHED && break
    sleep 0.1
done
t_weir status "$job" | grep -q FINISHED || t_fail "the resumed generator job did not finish"
# Two splits meet in any order, so fare sums may differ in their last
# digits (floating point): windowdiff compares numbers to 1e-9.
{ head -n 1 "$(ls "$T_TMP"/out/gen_whole/results/part-*.csv | head -n 1)"; s_sorted "$T_TMP/out/gen_whole/results"; } >"$T_TMP/gw.csv"
t_windowdiff "$T_TMP/gw.csv" "$T_TMP/out/gen_split/results" ||
    t_fail "generator results differ with and without the stop at row $read_before"
t_log "generator: $(($(wc -l <"$T_TMP/gw.csv") - 1)) windows, equal with a stop after $read_before of 60000 rows"

# --- two savepoints asked at once: never the same id reported twice -----
t_job ck/sp_gen gen_two
sed -i 's/rate: 20000/rate: 5000/' "$T_JOBFILE" # runs 12 s: long enough for both
two=$(s_submit "$T_JOBFILE")
sleep 0.5
t_weir savepoint "$two" >"$T_TMP/spa" 2>"$T_TMP/spa.err" &
pa=$!
t_weir savepoint "$two" >"$T_TMP/spb" 2>"$T_TMP/spb.err" &
pb=$!
wait $pa || true
wait $pb || true
ids=$(cat "$T_TMP/spa" "$T_TMP/spb")
[ -n "$ids" ] || t_fail "neither savepoint completed: $(cat "$T_TMP/spa.err" "$T_TMP/spb.err")"
[ "$(sort <<<"$ids" | uniq -d | wc -l)" -eq 0 ] || t_fail "two savepoints reported the same id: $ids"
for f in spa spb; do
    [ -s "$T_TMP/$f" ] || grep -q "asked for already" "$T_TMP/$f.err" ||
        t_fail "a savepoint failed without saying why: $(cat "$T_TMP/$f.err")"
done
t_log "two savepoints at once: $(echo $ids)"
t_weir cancel "$two" >/dev/null

# --- what the CLI refuses -----------------------------------------------
t_weir submit "$T_JOBFILE" --from-savepoint nosuchjob/3 >/dev/null 2>"$T_TMP/e1" &&
    t_fail "a missing savepoint was accepted"
grep -q "no stored checkpoint or savepoint nosuchjob/3" "$T_TMP/e1" || t_fail "unclear error: $(cat "$T_TMP/e1")"
t_weir submit "$T_JOBFILE" --from-savepoint "a/b/0" >/dev/null 2>"$T_TMP/e2" &&
    t_fail "a malformed savepoint id was accepted"
grep -q "is not a savepoint id" "$T_TMP/e2" || t_fail "unclear error: $(cat "$T_TMP/e2")"
t_weir submit "$T_JOBFILE" --from-savepoint "" >/dev/null 2>"$T_TMP/e5" &&
    t_fail "an empty savepoint id was accepted (it would start from nothing)"
grep -q "needs an id" "$T_TMP/e5" || t_fail "unclear error: $(cat "$T_TMP/e5")"
# Checkpoint storage that cannot be used is refused at submit, not found
# out at the first checkpoint's timeout.
sed -e 's|^name: sp-gen|name: sp-gen-bad-storage\ncheckpoint: {interval: 1s, storage: "file:///proc/weir-no-such"}|' \
    "$T_TMP/jobs/sp_gen.yaml" >"$T_TMP/jobs/bad_storage.yaml"
t_weir submit "$T_TMP/jobs/bad_storage.yaml" >/dev/null 2>"$T_TMP/e6" &&
    t_fail "unusable checkpoint storage was accepted"
grep -q "checkpoint.storage.*/proc/weir-no-such" "$T_TMP/e6" || t_fail "unclear error: $(cat "$T_TMP/e6")"
t_weir savepoint "$job" >/dev/null 2>"$T_TMP/e3" && t_fail "a savepoint of a finished job was accepted"
grep -q "not running" "$T_TMP/e3" || t_fail "unclear error: $(cat "$T_TMP/e3")"
t_weir checkpoints "${sp%/*}" >"$T_TMP/cks" || t_fail "weir checkpoints failed"
grep -q "savepoint" "$T_TMP/cks" || t_fail "weir checkpoints does not list the savepoint: $(cat "$T_TMP/cks")"
t_weir savepoint --delete "$sp" >/dev/null || t_fail "deleting $sp failed"
t_weir submit "$T_JOBFILE" --from-savepoint "$sp" >/dev/null 2>"$T_TMP/e4" &&
    t_fail "a deleted savepoint was accepted"
grep -q "no stored checkpoint or savepoint $sp" "$T_TMP/e4" || t_fail "unclear error: $(cat "$T_TMP/e4")"
