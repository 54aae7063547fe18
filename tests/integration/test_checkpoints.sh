#!/usr/bin/env bash
# Periodic checkpoints (DESIGN §8, issue 5 cases 4 and 5): they complete
# under backpressure and when a source finished long before the others;
# later checkpoints upload much less than the whole state; storage stays
# bounded over a hundred checkpoints (retain 3, old files collected).
source "$(dirname "$0")/lib.sh"

t_cluster_up 2

# s_ck JOB: "completed aborted" from weir status.
s_ck() {
    t_weir status "$1" | awk '/^checkpoint:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^completed/) c = $i; if ($(i+1) ~ /^aborted/) a = $i } }
                              END { print (c == "" ? 0 : c) + 0, (a == "" ? 0 : a) + 0 }'
}

# --- case 4: under backpressure ----------------------------------------
t_job ck/bp bp
job=$(t_weir submit "$T_JOBFILE") || t_fail "submit failed"
sleep 9
st=$(t_weir status "$job")
bp=$(awk '$2 == "source" && $12 ~ /!/ { n++ } END { print n + 0 }' <<<"$st")
read -r done aborted <<<"$(s_ck "$job")"
t_log "under backpressure: $done checkpoints completed, $aborted aborted, $bp of 2 sources backpressured"
[ "$bp" -ge 1 ] || t_fail "the sources are not backpressured, the test proves nothing: $st"
[ "$done" -ge 3 ] || t_fail "only $done checkpoints completed in 9 s under backpressure: $(t_weir checkpoints "$job")"
[ "$aborted" -eq 0 ] || t_fail "$aborted checkpoints aborted under backpressure: $(t_weir checkpoints "$job")"
t_weir cancel "$job" >/dev/null

# --- case 4: a source that finished long before the others --------------
printf 'pickup_datetime,pickup_location_id,fare_amount\n2019-01-01 00:00:00,1,5.0\n' >"$T_TMP/small.csv"
t_job ck/early_end early_end
job=$(t_weir submit "$T_JOBFILE") || t_fail "submit failed"
sleep 5
st=$(t_weir status "$job")
grep -q "split 0 .*FINISHED" <<<"$st" || t_fail "the file source should have finished: $st"
read -r done aborted <<<"$(s_ck "$job")"
t_log "with a finished source: $done checkpoints completed, $aborted aborted"
[ "$done" -ge 3 ] && [ "$aborted" -eq 0 ] ||
    t_fail "checkpoints with a finished source: $done completed, $aborted aborted: $(t_weir checkpoints "$job")"
t_weir cancel "$job" >/dev/null

# --- case 5: incremental checkpoints, bounded storage -------------------
t_job ck/steady steady
job=$(t_weir submit "$T_JOBFILE") || t_fail "submit failed"
for i in $(seq 1 300); do
    read -r done aborted <<<"$(s_ck "$job")"
    [ "$done" -ge 100 ] && break
    sleep 0.1
done
[ "$done" -ge 100 ] || t_fail "only $done checkpoints completed in 30 s at an interval of 100 ms"
t_weir checkpoints "$job" >"$T_TMP/cks"
t_weir cancel "$job" >/dev/null
# Full state against what each of the last checkpoints uploaded.
read -r full incr n <<<"$(awk '$2 == "checkpoint" && $3 == "completed" { f = $6; s += $7; n++ } END { printf "%d %d %d\n", f, s / (n ? n : 1), n }' "$T_TMP/cks")"
t_log "after $done checkpoints: state $full bytes, $incr bytes uploaded per checkpoint on average over the last $n"
[ "$full" -gt 0 ] || t_fail "no state size in weir checkpoints: $(cat "$T_TMP/cks")"
[ $((incr * 2)) -lt "$full" ] || t_fail "checkpoints upload $incr bytes of a $full-byte state: not incremental"
store=$T_CLUSTER/coordinator/checkpoints
metas=$(find "$store/checkpoints/$job" -name '*.meta' | wc -l)
blob_bytes=$(du -sb "$store/blobs" | cut -f1)
t_log "store: $metas metadata files, $blob_bytes bytes of blobs"
[ "$metas" -le 3 ] || t_fail "$metas checkpoints kept with retain 3"
[ "$blob_bytes" -le $((full * 4 + 1048576)) ] ||
    t_fail "the store holds $blob_bytes bytes for a $full-byte state: old files are not collected"
