#!/usr/bin/env bash
# The code bar: clippy on the Rust we build (the kernel crate with
# rust/kernel/bpf, kernel/bpf/struct_ops.rs, when the build has it
# net/ipv4/bpf_tcp_ca_ops.rs, and the test module bpf_test_struct_ops_rust),
# rustfmt, checkpatch on our C files and patches. Exit status 1 on any
# finding.
#
# usage: lint.sh REPO SRC OUT
set -uo pipefail
repo=$(cd "$1" && pwd) src=$2 out=$3
. "$repo/harness/kmake.sh"
rc=0
log="$out/lint.log"

# clippy only speaks while a crate compiles: drop the objects so they do.
rm -f "$out/rust/kernel.o" "$out/kernel/bpf/struct_ops.o" "$out/net/ipv4/bpf_tcp_ca_ops.o"
kmake CLIPPY=1 CLIPPY_DRIVER=/usr/bin/clippy-driver -j"$(($(nproc) + 1))" \
	rust/ kernel/bpf/ net/ipv4/ > "$log" 2>&1 || { echo "lint: build failed, see $log"; rc=1; }
# The Rust test module is a module crate of its own, built with M= in a
# copy of the selftests' test_kmods/.
mod="$out/lint-test_kmods"
rm -rf "$mod"
cp -r "$src/tools/testing/selftests/bpf/test_kmods" "$mod"
# Only its Rust object: the clippy build of the kernel crate above is not
# the one vmlinux exports, so the module would not link.
kmake CLIPPY=1 CLIPPY_DRIVER=/usr/bin/clippy-driver M="$mod" bpf_test_struct_ops_rust_ops.o >> "$log" 2>&1 ||
	{ echo "lint: bpf_test_struct_ops_rust build failed, see $log"; rc=1; }
rustfmt --edition 2021 --config-path "$src/.rustfmt.toml" --check "$mod"/*.rs >> "$log" 2>&1 ||
	{ echo "lint: rustfmt differences in bpf_test_struct_ops_rust, see $log"; rc=1; }
# What a module's safe code must not do through kernel::bpf: each case in
# harness/api-misuse/ must fail to compile, with the error its "expect:"
# line names and no other (a case that compiles is a door left open).
mis="$out/lint-api-misuse"
rm -rf "$mis"
mkdir -p "$mis"
for f in "$repo"/harness/api-misuse/*.rs; do
	n=$(basename "$f" .rs)
	want=$(sed -n 's|^// expect: \(E[0-9]*\)$|\1|p' "$f")
	cp "$f" "$mis/"
	echo "obj-m := $n.o" > "$mis/Makefile"
	if kmake M="$mis" "$n.o" > "$mis/$n.log" 2>&1; then
		echo "lint: api-misuse/$n.rs compiles: a module's safe code can do it"
		rc=1
		continue
	fi
	got=$(grep -oE '^error\[E[0-9]+\]' "$mis/$n.log" | sort -u | grep -oE 'E[0-9]+' | paste -sd ' ')
	if [ "$got" != "$want" ]; then
		echo "lint: api-misuse/$n.rs: want error $want, got ${got:-another failure} ($mis/$n.log)"
		rc=1
	fi
done

if grep -qE '^(warning|error)' "$log"; then
	grep -E '^(warning|error)' -A12 "$log"
	echo "lint: clippy findings, see $log"
	rc=1
fi

if ! kmake rustfmtcheck > "$out/rustfmt.log" 2>&1; then
	grep -E '^Diff in' "$out/rustfmt.log" | sed "s|$src/||" | sort -u
	echo "lint: rustfmt differences, see $out/rustfmt.log"
	rc=1
fi

cd "$repo"
# The C of the series and all of our tests: the test modules and programs
# (bpf_struct_ops/), and those in the selftests' tree (prog_tests/
# struct_ops_map*, their helpers and BPF programs).
cfiles=$(git ls-files -- include kernel net rust/helpers \
	tools/testing/selftests/bpf_struct_ops tools/testing/selftests/bpf | grep -E '\.[ch]$')
for f in $cfiles; do
	(cd "$src" && ./scripts/checkpatch.pl --no-tree --quiet --strict -f "$f") || rc=1
done
cd "$repo/patches"
for p in upstream-edits/*.patch fixes/*.patch; do
	"$src/scripts/checkpatch.pl" --no-tree --quiet --strict --no-signoff \
		--ignore COMMIT_MESSAGE,COMMIT_LOG_LONG_LINE,FILE_PATH_CHANGES "$p" || rc=1
done
[ $rc = 0 ] && echo "lint: clean (clippy, rustfmt, checkpatch)"
exit $rc
