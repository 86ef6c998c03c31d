#!/usr/bin/env bash
# The upstream struct_ops selftests side by side: one row per test and
# subtest, the result on the stock C implementation and on ours, then
# "N passed, N failed" for the Rust column.
#
# usage: conformance-table.sh C_RESULTS RUST_RESULTS
set -u
c=$1 rust=$2
declare -A rc rr
order=()
parse() {	# results file, array name
	local -n res=$2
	while IFS= read -r line; do
		case "$line" in
		"ok conformance."*) n=${line#ok conformance.}; res[$n]=pass ;;
		"not ok conformance."*" - skipped") n=${line#not ok conformance.}; res[${n%% - *}]=skip ;;
		"not ok conformance."*) n=${line#not ok conformance.}; res[${n%% - *}]=FAIL ;;
		*) continue ;;
		esac
	done < <(tr -d '\r' < "$1" 2>/dev/null)
}
parse "$c" rc
parse "$rust" rr
mapfile -t order < <(printf '%s\n' "${!rc[@]}" "${!rr[@]}" | sort -u)
pass=0 fail=0
printf '%-58s %-5s %-5s\n' "test/subtest" "C" "Rust"
for n in "${order[@]}"; do
	a=${rc[$n]:--} b=${rr[$n]:--}
	note=""
	[ "$a" = pass ] && [ "$b" != pass ] && note="  <- regression"
	printf '%-58s %-5s %-5s%s\n' "$n" "$a" "$b" "$note"
	if [ "$b" = pass ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
