#!/usr/bin/env bash
# Exactly-once output across a crash at sink.published of checkpoint 2 (see crash_lib.sh).
source "$(dirname "$0")/crash_lib.sh"
crash_case sink.published
