#!/usr/bin/env bash
# Runs the test suite (or the guest script MODE) in the guest and reports
# it, on the terminal and in $out/logs/MODE.report.
# usage: run-suite.sh OUT TIMEOUT IMPL [MODE]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1 tmo=$2 impl=$3 mode=${4:-test}
"$here/qemu.sh" "$out" "$mode" "$tmo"
status=$?
"$here/report.sh" "$out/logs/$mode.results" "$out/logs/$mode.console" "$status" "$impl" |
	tee "$out/logs/$mode.report"
