#!/usr/bin/env bash
# make test CFI=1: shows that kCFI is enforced on the struct_ops path. Boots
# the guest in mode cfi (harness/guest/cfi: test_progs' test
# struct_ops_map_cfi_mistyped_call), in which bpf_test_struct_ops calls a registered
# st_ops3's op0 (int op0(int), a BPF trampoline) through a function pointer
# of another type, and prints result lines for report.sh:
#   cfi.right_type   the same op through its own type ran (from the guest)
#   cfi.trap         the console has the kernel's CFI report for the call,
#                    with the trampoline (bpf__st_ops3_op0) as its target
#   cfi.stopped      the call never returned (the oops panicked the guest)
#   cfi.log_check    check-log.sh fails that console, as it must fail any
#                    run where a CFI check fires
# usage: cfi-check.sh OUT
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
# The guest is expected to die without reporting: qemu.sh's words on it
# are not shown.
QEMU_QUIET=1 "$here/qemu.sh" "$out" cfi 300 2>/dev/null
status=$?
console="$out/logs/cfi.console" results="$out/logs/cfi.results"
# The guest's own line, cfi.right_type; test_progs' lines say whether the
# call returned (what failed is in cfi.stopped).
tr -d '\r' < "$results" 2>/dev/null | grep '^\(not \)\?ok cfi\.'
report=$(tr -d '\r' < "$console" | grep -m1 'CFI failure at')
if [[ "$report" == *"target: bpf__st_ops3_op0"* ]]; then
	echo "ok cfi.trap"
else
	echo "not ok cfi.trap - no CFI report for bpf__st_ops3_op0 in $console${report:+ ($report)}"
fi
if grep -q 'struct_ops_map_cfi_mistyped_call:FAIL' "$results" 2>/dev/null || [ "$status" = 0 ]; then
	echo "not ok cfi.stopped - the mistyped call returned (guest status $status)"
else
	echo "ok cfi.stopped"
fi
if "$here/check-log.sh" "$console" > /dev/null; then
	echo "not ok cfi.log_check - check-log.sh passed a console with a CFI report"
else
	echo "ok cfi.log_check"
fi
