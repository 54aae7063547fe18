#!/usr/bin/env python3
"""Compare weir's file output with an expected CSV file.

weir's file sink writes a directory of part files, `part-*.csv`, each with a
header line; hidden files (`.part-*.inprogress`, still being written) are
not output and are ignored. This tool reads every part file of a directory
and checks it against one expected file.

  windowdiff.py [windows] [--last-wins] [--rel R] EXPECTED.csv DIR
      Window results. The header must be equal. A window is identified by
      the key columns (those before window_start), window_start and
      window_end; both sides must hold the same set of windows, DIR at most
      one row per window, and equal values: numbers within relative R
      (default 1e-9), other text exactly, empty (NULL) only equal to empty.
      --last-wins: DIR may hold several rows for a window (updates from
      allowed lateness); the last one in file order counts (files in
      natural name order, rows in file order).
      A last column named `pane` (jobs with early results or allowed
      lateness) implies --last-wins, and the panes of each window must come
      in the order early* on_time late* (or late+ for a window opened by a
      row after the watermark passed its end): the last row of a window is
      its final value, and its pane is compared like any other column.

  windowdiff.py sequence [--rel R] EXPECTED.csv DIR
      Every row, in emission order. The header must be equal. The rows of
      each key (the columns before window_start) must equal the expected
      rows of that key, in the order listed, as they come in DIR (files in
      natural name order, rows in file order); rows of different keys may
      interleave. For jobs whose early panes, on-time rows and late updates
      are all to be checked.

  windowdiff.py rows [--rel R] EXPECTED.csv DIR
      Rows (e.g. late rows): the header must be equal and the multiset of
      rows the same, comparing numbers by value ("8.0" equals "8").

  windowdiff.py sum COLUMN DIR      prints the sum of a numeric column
  windowdiff.py count [--allow-missing] DIR
                                    prints the number of data rows

A missing directory, or one without part files, is an error (exit 1): a
comparison never passes because there was nothing to compare, and an empty
result is only accepted when the expected file is empty too and the
directory holds part files with the right header. Exit status: 0 equal,
1 different (or no output), 2 usage error. Python 3 standard library only.
"""
import argparse
import collections
import csv
import math
import os
import re
import sys

SHOW = 10  # differences printed per kind


class NoOutput(Exception):
    """DIR is missing or holds no part file."""


def natural_key(name):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def part_files(directory):
    if not os.path.isdir(directory):
        raise NoOutput(f"{directory}: no such directory")
    names = [n for n in os.listdir(directory)
             if not n.startswith(".") and n.startswith("part-") and n.endswith(".csv")]
    if not names:
        raise NoOutput(f"{directory}: no part-*.csv file")
    return [os.path.join(directory, n) for n in sorted(names, key=natural_key)]


def read_csv(path):
    """Returns (header, rows) where rows are (line number, fields)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return None, []
        rows = []
        for fields in reader:
            rows.append((reader.line_num, fields))
        return header, rows


def read_dir(directory, header, problems):
    """Yields (path, line, fields) of every data row of every part file.
    A part file without a header, or with another header than `header`, or
    a row with the wrong number of fields, is recorded in problems."""
    out = []
    for path in part_files(directory):
        h, rows = read_csv(path)
        if h is None:
            problems.append(f"{path}: empty file (no header)")
            continue
        if h != header:
            problems.append(f"{path}: header {h} differs from the expected {header}")
            continue
        for line, fields in rows:
            if len(fields) != len(header):
                problems.append(f"{path}:{line}: {len(fields)} fields, header has {len(header)}")
                continue
            out.append((path, line, fields))
    return out


def number(text):
    """The value of a numeric text, or None. int for integers so that large
    millisecond timestamps stay exact; Python compares 8 == 8.0."""
    t = text.strip()
    if t == "":
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        v = float(t)
    except ValueError:
        return None
    return v


def norm(text):
    """A hashable canonical form of a cell: numbers by value, text as is."""
    v = number(text)
    if v is None:
        return ("s", text)
    if isinstance(v, float) and math.isnan(v):
        return ("nan",)
    return ("n", v)


def close(expected, actual, rel):
    if expected == actual:
        return True
    if expected.strip() == "" or actual.strip() == "":
        return False
    e, a = number(expected), number(actual)
    if e is None or a is None:
        return False
    if isinstance(e, float) and isinstance(a, float) and math.isnan(e) and math.isnan(a):
        return True
    return math.isclose(float(e), float(a), rel_tol=rel, abs_tol=1e-12) or e == a


def show(title, items):
    if not items:
        return
    print(f"{title}: {len(items)}")
    for it in items[:SHOW]:
        print(f"  {it}")
    if len(items) > SHOW:
        print(f"  ... and {len(items) - SHOW} more")


PANE_RANK = {"early": 1, "on_time": 2, "late": 3}


def pane_problems(eh, actual, n_id):
    """Windows whose panes break early* on_time late* (or late+), or whose
    last row is an early pane; actual rows are in output order."""
    if not eh or eh[-1] != "pane":
        return []
    state = {}
    names = {}
    out = []
    for path, line, fields in actual:
        ident = tuple(norm(x) for x in fields[:n_id])
        names[ident] = fields[:n_id]
        pane = fields[-1]
        rank = PANE_RANK.get(pane)
        before = state.get(ident, 0)
        if rank is None:
            out.append(f"{os.path.basename(path)}:{line}: window {fields[:n_id]} pane {pane!r} "
                       f"is none of early, on_time, late")
        elif rank != 3 and before > 1:
            out.append(f"{os.path.basename(path)}:{line}: window {fields[:n_id]} pane {pane} "
                       f"after {'on_time' if before == 2 else 'late'}")
        state[ident] = rank or before
    for ident, rank in state.items():
        if rank == 1:
            out.append(f"window {names[ident]} ends with an early pane (no final value)")
    return out


def cmd_windows(args):
    eh, erows = read_csv(args.expected)
    if eh is None:
        print(f"{args.expected}: empty file (no header)")
        return 1
    if "window_start" not in eh or "window_end" not in eh:
        print(f"{args.expected}: header {eh} has no window_start/window_end")
        return 1
    n_id = eh.index("window_end") + 1
    last_wins = args.last_wins or eh[-1] == "pane"
    problems = []
    actual = read_dir(args.dir, eh, problems)
    panes = pane_problems(eh, actual, n_id)

    expected = {}
    for line, fields in erows:
        expected[tuple(norm(x) for x in fields[:n_id])] = fields
    got = {}
    duplicates = []
    for path, line, fields in actual:
        ident = tuple(norm(x) for x in fields[:n_id])
        if ident in got and not last_wins:
            duplicates.append(f"{os.path.basename(path)}:{line}: window {fields[:n_id]} again")
        got[ident] = fields

    missing = [expected[k][:n_id] for k in expected if k not in got]
    unexpected = [got[k] for k in got if k not in expected]
    values = []
    for k, e in expected.items():
        a = got.get(k)
        if a is None:
            continue
        for name, ev, av in zip(eh[n_id:], e[n_id:], a[n_id:]):
            if not close(ev, av, args.rel):
                values.append(f"window {e[:n_id]} {name}: expected {ev!r}, actual {av!r}")

    n_files = len({p for p, _, _ in actual})
    print(f"windowdiff: {len(expected)} expected windows; {len(got)} actual windows in "
          f"{len(actual)} rows of {n_files} part files of {args.dir}")
    show("malformed output", problems)
    show("missing windows", [str(m) for m in missing])
    show("unexpected windows", [str(u) for u in unexpected])
    show("duplicate window rows", duplicates)
    show("value differences", values)
    show("panes out of order", panes)
    bad = (len(problems) + len(missing) + len(unexpected) + len(duplicates) + len(values) +
           len(panes))
    print(f"windowdiff: {'EQUAL' if bad == 0 else f'{bad} differences'}")
    return 1 if bad else 0


def cmd_sequence(args):
    eh, erows = read_csv(args.expected)
    if eh is None:
        print(f"{args.expected}: empty file (no header)")
        return 1
    if "window_start" not in eh:
        print(f"{args.expected}: header {eh} has no window_start")
        return 1
    n_key = eh.index("window_start")
    problems = []
    actual = read_dir(args.dir, eh, problems)
    exp = collections.defaultdict(list)
    for line, fields in erows:
        exp[tuple(norm(x) for x in fields[:n_key])].append(fields)
    got = collections.defaultdict(list)
    for path, line, fields in actual:
        got[tuple(norm(x) for x in fields[:n_key])].append((path, line, fields))
    diffs = []
    for k in list(exp) + [k for k in got if k not in exp]:
        e, a = exp.get(k, []), got.get(k, [])
        for i in range(max(len(e), len(a))):
            if i >= len(e):
                path, line, fields = a[i]
                diffs.append(f"{os.path.basename(path)}:{line}: row {i + 1} of key "
                             f"{fields[:n_key]} not expected: {fields}")
            elif i >= len(a):
                diffs.append(f"row {i + 1} of key {e[i][:n_key]} missing: {e[i]}")
            elif not all(close(x, y, args.rel) for x, y in zip(e[i], a[i][2])):
                path, line, fields = a[i]
                diffs.append(f"{os.path.basename(path)}:{line}: row {i + 1} of key "
                             f"{fields[:n_key]}: expected {e[i]}, actual {fields}")
    print(f"windowdiff sequence: {len(erows)} expected rows of {len(exp)} keys; "
          f"{len(actual)} actual rows of {len(got)} keys in "
          f"{len({p for p, _, _ in actual})} part files of {args.dir}")
    show("malformed output", problems)
    show("rows that differ, in order per key", diffs)
    bad = len(problems) + len(diffs)
    print(f"windowdiff sequence: {'EQUAL' if bad == 0 else f'{bad} differences'}")
    return 1 if bad else 0


def cmd_rows(args):
    eh, erows = read_csv(args.expected)
    if eh is None:
        print(f"{args.expected}: empty file (no header)")
        return 1
    problems = []
    actual = read_dir(args.dir, eh, problems)
    exp = collections.Counter(tuple(norm(x) for x in f) for _, f in erows)
    act = collections.Counter(tuple(norm(x) for x in f) for _, _, f in actual)
    only_e = list((exp - act).elements())
    left_a = list((act - exp).elements())
    etext = {tuple(norm(x) for x in f): f for _, f in erows}
    atext = {tuple(norm(x) for x in f): f for _, _, f in actual}
    # Rows that differ by rounding only (not equal once parsed, but within
    # rel) still pair up; this pass runs on the leftovers only.
    unmatched_e = []
    for k in only_e:
        ek = etext[k]
        for i, ak in enumerate(left_a):
            if all(close(x, y, args.rel) for x, y in zip(ek, atext[ak])):
                del left_a[i]
                break
        else:
            unmatched_e.append(ek)
    unmatched_a = [atext[k] for k in left_a]
    print(f"windowdiff rows: {len(erows)} expected rows; {len(actual)} actual rows in "
          f"{len({p for p, _, _ in actual})} part files of {args.dir}")
    show("malformed output", problems)
    show("expected rows not in the output", [str(r) for r in unmatched_e])
    show("output rows not expected", [str(r) for r in unmatched_a])
    bad = len(problems) + len(unmatched_e) + len(unmatched_a)
    print(f"windowdiff rows: {'EQUAL' if bad == 0 else f'{bad} differences'}")
    return 1 if bad else 0


def load_any(directory):
    """Rows of all part files with their header (every header must be the
    same), for sum and count."""
    header = None
    rows = []
    for path in part_files(directory):
        h, r = read_csv(path)
        if h is None:
            raise NoOutput(f"{path}: empty file (no header)")
        if header is None:
            header = h
        elif h != header:
            raise NoOutput(f"{path}: header {h} differs from {header}")
        rows.extend(f for _, f in r)
    return header, rows


def cmd_sum(args):
    header, rows = load_any(args.dir)
    if args.column not in header:
        print(f"windowdiff sum: no column {args.column!r} in {header}", file=sys.stderr)
        return 1
    i = header.index(args.column)
    total = 0
    for f in rows:
        if i >= len(f) or f[i].strip() == "":
            continue
        v = number(f[i])
        if v is None:
            print(f"windowdiff sum: {args.column} value {f[i]!r} is not a number", file=sys.stderr)
            return 1
        total += v
    print(total)
    return 0


def cmd_count(args):
    try:
        _, rows = load_any(args.dir)
    except NoOutput:
        if args.allow_missing and not os.path.isdir(args.dir):
            print(0)
            return 0
        raise
    print(len(rows))
    return 0


def main(argv):
    modes = ("windows", "sequence", "rows", "sum", "count")
    if argv and argv[0] not in modes and argv[0] not in ("-h", "--help"):
        argv = ["windows"] + argv
    p = argparse.ArgumentParser(prog="windowdiff.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    w = sub.add_parser("windows")
    w.add_argument("--last-wins", action="store_true")
    w.add_argument("--rel", type=float, default=1e-9)
    w.add_argument("expected")
    w.add_argument("dir")
    q = sub.add_parser("sequence")
    q.add_argument("--rel", type=float, default=1e-9)
    q.add_argument("expected")
    q.add_argument("dir")
    r = sub.add_parser("rows")
    r.add_argument("--rel", type=float, default=1e-9)
    r.add_argument("expected")
    r.add_argument("dir")
    s = sub.add_parser("sum")
    s.add_argument("column")
    s.add_argument("dir")
    c = sub.add_parser("count")
    c.add_argument("--allow-missing", action="store_true")
    c.add_argument("dir")
    args = p.parse_args(argv)
    try:
        return {"windows": cmd_windows, "sequence": cmd_sequence, "rows": cmd_rows,
                "sum": cmd_sum, "count": cmd_count}[args.mode](args)
    except NoOutput as e:
        print(f"windowdiff: {e}")
        return 1
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        print(f"windowdiff: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
