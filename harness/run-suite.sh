#!/usr/bin/env bash
# Runs the test suite in the guest and reports it.
# usage: run-suite.sh OUT TIMEOUT IMPL
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$1 tmo=$2 impl=$3
"$here/qemu.sh" "$out" test "$tmo"
status=$?
exec "$here/report.sh" "$out/logs/test.results" "$out/logs/test.console" "$status" "$impl"
