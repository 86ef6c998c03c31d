#!/usr/bin/env bash
# Runs the test suite (or the guest script MODE) in the guest and reports
# it, on the terminal and in $out/logs/MODE.report.
# usage: run-suite.sh OUT TIMEOUT IMPL [MODE]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1 tmo=$2 impl=$3 mode=${4:-test}
"$here/qemu.sh" "$out" "$mode" "$tmo"
status=$?
# kCFI kernels: a second boot shows the checks are enforced on struct_ops.
if [ "${ST_CFI:-0}" = 1 ] && [ "$mode" = test ]; then
	"$here/cfi-check.sh" "$out" >> "$out/logs/$mode.results"
fi
"$here/report.sh" "$out/logs/$mode.results" "$out/logs/$mode.console" "$status" "$impl" |
	tee "$out/logs/$mode.report"
