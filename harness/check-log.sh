#!/usr/bin/env bash
# Fails when a guest console log holds a kernel splat, whatever the tests said.
# usage: check-log.sh CONSOLE_LOG
set -u
pat='Kernel panic|Oops|CFI failure|BUG:|WARNING:|KASAN|UBSAN|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|lockdep|rcu.*(stall|self-detected)|blocked for more than|soft lockup|hard LOCKUP|general protection fault|kmemleak:.*new suspected|unreferenced object|Call Trace:|refcount_t:'
# After "st_fault: start" (make stress injects allocation failures), the
# kernel's reports of a failed allocation, stack dump included, are expected.
hits=$(tr -d '\r' < "$1" | awk '
	/st_fault: start/ { faults = 1 }
	/st_fault: end/ { faults = 0 }
	faults && /(page allocation failure|vmalloc error|allocation failure):/ { skip = 1 }
	skip { if (/<\/TASK>/) skip = 0; next }
	{ print }' | grep -E "$pat" | head -20)
if [ -n "$hits" ]; then
	echo "$hits"
	exit 1
fi
exit 0
