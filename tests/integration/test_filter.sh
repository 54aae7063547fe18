#!/usr/bin/env bash
# Filters drop rows at the source with SQL NULL logic: the trips counted
# equal the rows of the file that satisfy the expression (computed here
# with awk); a filter that keeps nothing gives no results and the job still
# finishes; a filter naming an unknown column is refused at its character.
source "$(dirname "$0")/lib.sh"

data=$T_ROOT/examples/data/nyc_taxi/yellow_tripdata_sample_2019-01.by_dropoff.csv
t_cluster_up 2
run() { # OUTNAME FILTER
    t_job filtered "$1"
    sed -i "s|__FILTER__|$2|" "$T_JOBFILE"
    t_submit_wait "$T_JOBFILE" || t_fail "job $1 failed"
    t_check_job_finished
}

# fare_amount is column 11, congestion_surcharge column 18 (empty = NULL).
run a "fare_amount >= 10 and congestion_surcharge is null"
want=$(awk -F, 'NR > 1 && $11 >= 10 && $18 == ""' "$data" | wc -l)
got=$(t_windowdiff sum trips "$T_TMP/out/a/results") || t_fail "no results"
[ "$got" -eq "$want" ] || t_fail "filter a counted $got trips, expected $want"

# NULL is not TRUE: a comparison with an empty surcharge drops the row.
run b "congestion_surcharge < 1 or fare_amount > 50"
want=$(awk -F, 'NR > 1 && (($18 != "" && $18 < 1) || $11 > 50)' "$data" | wc -l)
got=$(t_windowdiff sum trips "$T_TMP/out/b/results") || t_fail "no results"
[ "$got" -eq "$want" ] || t_fail "filter b counted $got trips, expected $want"

run none "fare_amount < -1000"
rows=$(tail -q -n +2 "$T_TMP"/out/none/results/part-*.csv | wc -l)
[ "$rows" -eq 0 ] || t_fail "a filter that keeps nothing wrote $rows rows"

t_job filtered bad
sed -i "s|__FILTER__|fare_amount > 2 and zone = 1|" "$T_JOBFILE"
rc=0
t_weir submit "$T_JOBFILE" >/dev/null 2>"$T_TMP/bad.err" || rc=$?
[ $rc -eq 2 ] || t_fail "a filter with an unknown column: exit $rc, expected 2"
grep -q "filtered.yaml:16:[0-9]*: filter: unknown column 'zone'" "$T_TMP/bad.err" ||
    t_fail "unclear refusal: $(cat "$T_TMP/bad.err")"
