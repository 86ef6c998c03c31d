#!/usr/bin/env bash
# Turns a guest's result lines and console log into the test report:
# one line per test (the kernel crate's doctests, hundreds of KUnit cases,
# as one line unless one fails), then every failure again with the logs to
# read, then "N passed, N failed". Exit 1 on any failure.
# On the C implementation, the tests listed in c-known-bugs fail as XFAIL
# (with C's TCP congestion control type, those in c-tcp-known-bugs):
# they are counted apart, and the line before the last says how many. So do
# those variant-limits lists for the variant built (ST_ARCH, ST_CFI), on
# both implementations.
#
# usage: report.sh RESULTS CONSOLE GUEST_STATUS [IMPL]
set -u
here=$(cd "$(dirname "$0")" && pwd)
results=$1 console=$2 status=$3 impl=${4:-rust}
pass=0 fail=0 xfail=0 doctests=0
failures=()
known_c_bug() {	# test name -> why C fails it, or nothing
	[ "$impl" = c ] && awk -F'\t' -v n="$1" '!/^#/ && $1 == n { print $2 }' "$here/c-known-bugs"
	# The TCP half (ST_TCP, IMPL's unless set), but with our fixes.
	case "${ST_TCP:-$impl}" in
	c) [ "$impl" = "${impl%-fixes}" ] &&
		awk -F'\t' -v n="$1" '!/^#/ && $1 == n { print $2 }' "$here/c-tcp-known-bugs" ;;
	esac
}
# The variant (ST_ARCH, ST_CFI): arm64, arm64-cfi, cfi, or x86_64.
variant=$([ "${ST_ARCH:-x86_64}" = arm64 ] && echo arm64)$([ "${ST_CFI:-0}" = 1 ] && echo -cfi)
variant=${variant#-}
variant=${variant:-x86_64}
variant_limit() {	# test name -> why 7.3 fails it on this variant, or nothing
	awk -F'\t' -v v="$variant" -v n="$1" '!/^#/ && $1 == v &&
		($2 == n || (substr($2, length($2)) == "*" && index(n, substr($2, 1, length($2) - 1)) == 1)) {
		print $3; exit }' "$here/variant-limits"
}
# The guest's result lines, with the KTAP documents of st_hostile, st_stress
# and st_fault read by the kernel's KTAP parser (kunit.py parse, from the
# kernel's source tree: the build's source link) into lines like the others.
result_lines() {
	local kunit
	kunit=$(dirname "$results")/../source/tools/testing/kunit/kunit.py
	[ -f "$results" ] || return 0
	if [ -f "$kunit" ]; then
		"$here/ktap-results.py" "$results" "$kunit"
	else
		echo "not ok ktap.parse - no $kunit to read KTAP results with"
		tr -d '\r' < "$results"
	fi
}
while IFS= read -r line; do
	case "$line" in
	"ok kunit.rust_doctests_kernel."*)
		pass=$((pass + 1)) doctests=$((doctests + 1)) ;;
	"ok "*)     pass=$((pass + 1)); echo "PASS ${line#ok }" ;;
	"not ok "*)
		name=${line#not ok }
		why=$(known_c_bug "${name%% - *}")
		limit=$(variant_limit "${name%% - *}")
		if [ -n "$why" ]; then
			xfail=$((xfail + 1)); echo "XFAIL $name"; echo "      known 7.3 bug: $why"
		elif [ -n "$limit" ]; then
			xfail=$((xfail + 1)); echo "XFAIL $name"; echo "      7.3 on $variant: $limit"
		else
			fail=$((fail + 1)); echo "FAIL $name"; failures+=("FAIL $name")
		fi ;;
	*)          [ -n "$line" ] && echo "     $line" ;;
	esac
done < <(result_lines)
[ "$doctests" = 0 ] || echo "PASS kunit.rust_doctests_kernel ($doctests doctests, counted one by one)"

# The guest must have finished and its kernel log must be clean.
case "$status" in
0|1) pass=$((pass + 1)); echo "PASS guest.finished" ;;
*)   fail=$((fail + 1)); echo "FAIL guest.finished - the guest did not finish (status $status)"
     failures+=("FAIL guest.finished - the guest did not finish (status $status)") ;;
esac
if splat=$("$here/check-log.sh" "$console"); then
	pass=$((pass + 1)); echo "PASS guest.log_clean"
else
	fail=$((fail + 1)); echo "FAIL guest.log_clean - kernel log has:"
	echo "$splat" | sed 's/^/     /'
	failures+=("FAIL guest.log_clean - a kernel report (above)")
fi
if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "${#failures[@]} failed (results: $results; kernel log: $console):"
	printf '  %s\n' "${failures[@]}"
fi
[ "$xfail" = 0 ] || echo "$xfail expected failures (known bugs of the C implementation, see harness/c-known-bugs; limits of 7.3 on this variant, see harness/variant-limits)"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
