#!/usr/bin/env bash
# Both implementations side by side: one row per test, with the result on
# the stock C implementation and on ours, then "N passed, N failed" for the
# Rust column. Where C fails a test for a known bug of 7.3
# (harness/c-known-bugs), the row says why. The inputs are the guest's
# result lines (ok/not ok) or report.sh's output (PASS/FAIL/XFAIL).
#
# usage: conformance-table.sh C_RESULTS RUST_RESULTS [SECTIONS]
#   SECTIONS: the test name prefixes to list, "conformance st" by default:
#   the upstream struct_ops selftests and ours.
set -u
here=$(cd "$(dirname "$0")" && pwd)
c=$1 rust=$2 sections=${3:-conformance st}
declare -A rc rr
parse() {	# results file, array name
	local -n res=$2
	local line n r
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"PASS "*) r=pass ;;
		"not ok "*" - skipped") r=skip ;;
		"not ok "*|"FAIL "*|"XFAIL "*) r=FAIL ;;
		*) continue ;;
		esac
		n=${line#not }
		n=${n#* }
		res[${n%% - *}]=$r
	done < <(tr -d '\r' < "$1" 2>/dev/null)
}
parse "$c" rc
parse "$rust" rr
pass=0 fail=0
for section in $sections; do
	mapfile -t order < <(printf '%s\n' "${!rc[@]}" "${!rr[@]}" | grep "^$section\." | sort -u)
	[ "${#order[@]}" = 0 ] && continue
	echo
	printf '%-58s %-5s %-5s\n' "$section: test/subtest" "C" "Rust"
	for n in "${order[@]}"; do
		a=${rc[$n]:--} b=${rr[$n]:--}
		note=""
		[ "$a" = pass ] && [ "$b" != pass ] && note="  <- regression"
		if [ "$a" = FAIL ]; then
			why=$(awk -F'\t' -v n="$n" '!/^#/ && $1 == n { print $2 }' "$here/c-known-bugs")
			[ -n "$why" ] && note="  <- C: known 7.3 bug: $why"
		fi
		printf '%-58s %-5s %-5s%s\n' "${n#"$section".}" "$a" "$b" "$note"
		if [ "$b" = pass ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
	done
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
