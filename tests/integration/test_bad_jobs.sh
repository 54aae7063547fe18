#!/usr/bin/env bash
# Bad job files are refused by `weir submit` before anything starts: it
# exits non-zero, its message names the file and the line of the mistake,
# no job appears in `weir list`, and nothing is written. Cases (in
# tests/integration/jobs/bad/, the faulty line marked "# <- error"): an
# unknown key, a value of the wrong type, a source file that does not
# exist, a window of size 0, early results (trigger) without a window; and
# a job file that does not exist.
source "$(dirname "$0")/lib.sh"

t_cluster_up 1
before=$(t_weir list 2>&1) || t_fail "weir list failed: $before"

n_checked=0
for src in "$T_ROOT"/tests/integration/jobs/bad/*.yaml; do
    name=$(basename "$src" .yaml)
    line=$(grep -n '#[[:space:]]*<- error[[:space:]]*$' "$src" | cut -d: -f1)
    [[ $line =~ ^[0-9]+$ ]] || t_fail "$src: no single line marked '# <- error'"
    t_job "bad/$name"
    rc=0
    t_weir submit "$T_JOBFILE" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err" || rc=$?
    err=$(cat "$T_TMP/$name.err")
    t_log "$name.yaml (line $line): exit $rc: $err"
    [ $rc -ne 0 ] || t_fail "$name.yaml: weir submit exited 0 (stdout: $(cat "$T_TMP/$name.out"))"
    [ $rc -ne 124 ] && [ $rc -ne 137 ] || t_fail "$name.yaml: weir submit timed out"
    grep -qF "$name.yaml" <<<"$err" || t_fail "$name.yaml: the message does not name the file: $err"
    # "file.yaml:LINE:COL: ..." or "... line LINE ..."
    grep -Eq "$name\.yaml:$line([^0-9]|$)|[Ll]ine $line([^0-9]|$)" <<<"$err" ||
        t_fail "$name.yaml: the message does not name line $line: $err"
    [ ! -e "$T_TMP/out/bad/$name" ] || t_fail "$name.yaml: output was written to $T_TMP/out/bad/$name"
    n_checked=$((n_checked + 1))
done
[ $n_checked -ge 4 ] || t_fail "only $n_checked bad job files found"

rc=0
t_weir submit "$T_TMP/no-such-job.yaml" >/dev/null 2>"$T_TMP/nojob.err" || rc=$?
[ $rc -ne 0 ] || t_fail "weir submit of a missing job file exited 0"
grep -qF "no-such-job.yaml" "$T_TMP/nojob.err" ||
    t_fail "the message for a missing job file does not name it: $(cat "$T_TMP/nojob.err")"

# No job was started: `weir list` names none of the refused jobs (all named
# bad-...) and has no more lines than before.
after=$(t_weir list 2>&1) || t_fail "weir list failed: $after"
if grep -q 'bad-' <<<"$after" || [ "$(wc -l <<<"$after")" -gt "$(wc -l <<<"$before")" ]; then
    t_fail "weir list shows a job after the refused submits:
before: $before
after:  $after"
fi
