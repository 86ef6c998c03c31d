#!/usr/bin/env bash
# Turns a guest's result lines and console log into the test report:
# one line per test, then "N passed, N failed". Exit 1 on any failure.
#
# usage: report.sh RESULTS CONSOLE GUEST_STATUS
set -u
here=$(cd "$(dirname "$0")" && pwd)
results=$1 console=$2 status=$3
pass=0 fail=0
while IFS= read -r line; do
	case "$line" in
	"ok "*)     pass=$((pass + 1)); echo "PASS ${line#ok }" ;;
	"not ok "*) fail=$((fail + 1)); echo "FAIL ${line#not ok }" ;;
	*)          [ -n "$line" ] && echo "     $line" ;;
	esac
done < <(tr -d '\r' < "$results" 2>/dev/null)

# The guest must have finished and its kernel log must be clean.
if [ "$status" = 0 ] || [ "$pass$fail" != 00 ]; then :; fi
case "$status" in
0|1) pass=$((pass + 1)); echo "PASS guest.finished" ;;
*)   fail=$((fail + 1)); echo "FAIL guest.finished - the guest did not finish (status $status)" ;;
esac
if splat=$("$here/check-log.sh" "$console"); then
	pass=$((pass + 1)); echo "PASS guest.log_clean"
else
	fail=$((fail + 1)); echo "FAIL guest.log_clean - kernel log has:"
	echo "$splat" | sed 's/^/     /'
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
