#!/usr/bin/env bash
# Turns a guest's result lines and console log into the test report:
# one line per test, then "N passed, N failed". Exit 1 on any failure.
# On the C implementation, the tests listed in c-known-bugs fail as XFAIL:
# they are counted apart, and the line before the last says how many.
#
# usage: report.sh RESULTS CONSOLE GUEST_STATUS [IMPL]
set -u
here=$(cd "$(dirname "$0")" && pwd)
results=$1 console=$2 status=$3 impl=${4:-rust}
pass=0 fail=0 xfail=0
known_c_bug() {	# test name -> why C fails it, or nothing
	[ "$impl" = c ] && awk -F'\t' -v n="$1" '!/^#/ && $1 == n { print $2 }' "$here/c-known-bugs"
}
while IFS= read -r line; do
	case "$line" in
	"ok "*)     pass=$((pass + 1)); echo "PASS ${line#ok }" ;;
	"not ok "*)
		name=${line#not ok }
		why=$(known_c_bug "${name%% - *}")
		if [ -n "$why" ]; then
			xfail=$((xfail + 1)); echo "XFAIL $name"; echo "      known 6.12 bug: $why"
		else
			fail=$((fail + 1)); echo "FAIL $name"
		fi ;;
	*)          [ -n "$line" ] && echo "     $line" ;;
	esac
done < <(tr -d '\r' < "$results" 2>/dev/null)

# The guest must have finished and its kernel log must be clean.
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
[ "$xfail" = 0 ] || echo "$xfail expected failures (known bugs of the C implementation, see harness/c-known-bugs)"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
