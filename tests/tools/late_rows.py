#!/usr/bin/env python3
"""Reshape rows of a CSV file the way weir writes late rows.

weir's late output holds only the columns of the job's schema, in schema
order, with timestamps as integer milliseconds since the Unix epoch (UTC)
and NULL as an empty field. This turns a file that holds whole input rows
(every column of the source file) into that shape, so that it can be
checked in as the expected late output of a job.

  late_rows.py INPUT.csv --columns c1,c2,... [--ts COL] [--tz +HH:MM] > OUT.csv

--columns  the job's schema column names, in schema order.
--ts       a timestamp column to convert (may be repeated); the text is
           ISO-8601 ("2019-01-01 00:16:10", "2023-04-04T15:03:48.180Z");
           a value without a zone is read in --tz (default UTC).
Standard library only.
"""
import argparse
import csv
import datetime as dt
import sys

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def parse_offset(text):
    sign = -1 if text.startswith("-") else 1
    hh, _, mm = text.lstrip("+-").partition(":")
    return dt.timezone(sign * dt.timedelta(hours=int(hh), minutes=int(mm or 0)))


def epoch_ms(text, zone):
    text = text.strip()
    if text == "":
        return ""
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    t = dt.datetime.fromisoformat(text.replace("T", " "))
    if t.tzinfo is None:
        t = t.replace(tzinfo=zone)
    d = t - EPOCH
    return str((d.days * 86_400 + d.seconds) * 1000 + d.microseconds // 1000)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input")
    p.add_argument("--columns", required=True)
    p.add_argument("--ts", action="append", default=[])
    p.add_argument("--tz", default="+00:00")
    a = p.parse_args()
    cols = a.columns.split(",")
    zone = parse_offset(a.tz)
    with open(a.input, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in cols + a.ts if c not in (reader.fieldnames or [])]
        if missing:
            sys.exit(f"late_rows.py: {a.input} has no column {', '.join(missing)}")
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(cols)
        for row in reader:
            out.writerow([epoch_ms(row[c], zone) if c in a.ts else row[c] for c in cols])


if __name__ == "__main__":
    main()
