#!/usr/bin/env bash
# Fails when a guest console log holds a kernel splat, whatever the tests said.
# usage: check-log.sh CONSOLE_LOG
set -u
pat='Kernel panic|Oops|BUG:|WARNING:|KASAN|UBSAN|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|lockdep|rcu.*(stall|self-detected)|blocked for more than|soft lockup|hard LOCKUP|general protection fault|kmemleak:.*new suspected|unreferenced object|Call Trace:|refcount_t:'
hits=$(tr -d '\r' < "$1" | grep -E "$pat" | head -20)
if [ -n "$hits" ]; then
	echo "$hits"
	exit 1
fi
exit 0
