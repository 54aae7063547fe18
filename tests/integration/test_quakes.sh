#!/usr/bin/env bash
# The USGS earthquake feed (12,569 events, newest first, quoted place names
# with commas, negative magnitudes and depths, ISO-8601 times) in two
# splits: every row parses, none is late with a 31-day bound, and the
# hourly per-network results equal the reference.
source "$(dirname "$0")/lib.sh"

t_cluster_up 2
t_job quakes
t_submit_wait "$T_JOBFILE" || t_fail "weir submit --wait failed"
t_check_job_finished

out=$T_TMP/out/quakes
t_check_published "$out/results"
bad=$(t_bad_rows "$out/bad")
[ "$bad" -eq 0 ] || t_fail "$bad bad rows in $out/bad: $(find "$out/bad" -type f | head -n 1 | xargs head -n 3)"
counted=$(t_windowdiff sum count "$out/results") || t_fail "no results in $out/results"
[ "$counted" -eq 12569 ] || t_fail "$counted events counted, expected 12569"
late=$(t_windowdiff count --allow-missing "$out/late") || t_fail "cannot read $out/late"
[ "$late" -eq 0 ] || t_fail "$late late rows, expected none"
t_windowdiff "$T_ROOT/tests/expected/quakes_results.csv" "$out/results" ||
    t_fail "results differ from tests/expected/quakes_results.csv"
