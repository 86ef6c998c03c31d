#!/usr/bin/env bash
# Builds the base tree's own struct_ops selftests against one kernel build:
# the test_progs framework with just the struct_ops tests and the BPF
# programs they use, and the test modules (test_kmods/: bpf_testmod.ko,
# bpf_test_no_cfi.ko and ours). The full test_progs build compiles every BPF
# program of the tree, which our small config cannot; this builds the subset
# with the tree's own sources, libbpf and bpftool, and the upstream
# Makefile's flags.
#
# usage: build-conformance.sh SRC OUT DEST BPFTOOL
#   DEST gets test_progs, the modules and the tests' list (conformance.tests);
#   BPFTOOL is a bpftool that runs on the host
set -euo pipefail
src=$1 out=$2 dest=$3 bpftool=$4
us="$out/userspace"
work="$us/conformance"
st="$work/bpf"			# our copy of tools/testing/selftests/bpf
gen="$work/gen"			# BPF objects, skeletons, vmlinux.h
obj="$work/obj"			# userspace objects
libbpf="$us/libbpf-root"
clang=clang-19
jobs=$(($(nproc) + 1))

# The test_progs tests (file names in prog_tests/) and the programs whose
# skeletons they include (progs/<name>.c). See docs/conformance.md.
# Every test of 7.3 that makes a struct_ops map (grep struct_ops
# prog_tests/), and global_map_resize for our own check of map resizing.
tests="bad_struct_ops bpf_iter_setsockopt bpf_qdisc bpf_tcp_ca dummy_st_ops
	pro_epilogue struct_ops_autocreate struct_ops_private_stack
	test_struct_ops_arena test_struct_ops_assoc test_struct_ops_id_ops_mapping
	test_struct_ops_kptr_return test_struct_ops_maybe_null test_struct_ops_module
	test_struct_ops_multi_args test_struct_ops_multi_pages test_struct_ops_no_cfi
	test_struct_ops_refcounted token global_map_resize"
progs="bad_struct_ops bad_struct_ops2 bpf_dctcp bpf_cubic bpf_iter_setsockopt
	bpf_qdisc_fifo bpf_qdisc_fq bpf_qdisc_fail__incompl_ops
	bpf_qdisc_fail__invalid_dynptr bpf_qdisc_fail__invalid_dynptr_slice
	bpf_qdisc_fail__invalid_dynptr_cross_frame bpf_qdisc_fail__untrusted_write
	bpf_qdisc_dynptr_use_after_invalidate_clone
	bpf_tcp_nogpl tcp_ca_update bpf_dctcp_release tcp_ca_write_sk_pacing
	tcp_ca_incompl_cong_ops tcp_ca_unsupp_cong_op tcp_ca_kfunc
	tcp_ca_untrusted_btf_write bpf_cc_cubic
	dummy_st_ops_success dummy_st_ops_fail trace_dummy_st_ops
	pro_epilogue epilogue_tailcall pro_epilogue_goto_start epilogue_exit
	pro_epilogue_with_kfunc struct_ops_autocreate struct_ops_autocreate2
	struct_ops_private_stack struct_ops_private_stack_fail
	struct_ops_private_stack_recur struct_ops_arena struct_ops_arena_attach
	struct_ops_arena_fail struct_ops_assoc struct_ops_assoc_reuse
	struct_ops_assoc_in_timer struct_ops_id_ops_mapping1
	struct_ops_id_ops_mapping2 struct_ops_kptr_return
	struct_ops_kptr_return_fail__wrong_type
	struct_ops_kptr_return_fail__invalid_scalar
	struct_ops_kptr_return_fail__nonzero_offset
	struct_ops_kptr_return_fail__local_kptr struct_ops_maybe_null
	struct_ops_maybe_null_fail struct_ops_module struct_ops_nulled_out_cb
	struct_ops_forgotten_cb struct_ops_detach unsupported_ops
	struct_ops_multi_args struct_ops_multi_pages struct_ops_refcounted
	struct_ops_refcounted_fail__ref_leak
	struct_ops_refcounted_fail__global_subprog
	struct_ops_refcounted_fail__tail_call priv_map priv_prog
	token_kallsyms token_lsm priv_freplace_prog test_global_map_resize"
framework="test_progs cgroup_helpers trace_helpers network_helpers
	testing_helpers btf_helpers cap_helpers unpriv_helpers sysctl_helpers
	netlink_helpers jit_disasm_helpers io_helpers test_loader xsk disasm
	disasm_helpers json_writer bpftool_helpers"
# Our own struct_ops map tests (prog_tests/struct_ops_map_*.c, their
# programs and helpers), run by the guest apart from the tree's.
st_tests="struct_ops_map_bad_input struct_ops_map_dummy_ops
	struct_ops_map_introspection struct_ops_map_lifecycle struct_ops_map_link
	struct_ops_map_module struct_ops_map_rust_type struct_ops_map_tcp_ca"
st_progs="ca_count ca_incomplete ca_switch ca_write dummy_ops dummy_unchecked
	many_types st_rust st_sleep testmod_ops"
tests="$tests $st_tests"
progs="$progs $st_progs"
framework="$framework struct_ops_map_helpers"
# Programs the subtests of our fixes add (make test FIXES=1).
[ -f "$src/tools/testing/selftests/bpf/progs/tcp_ca_sleepable.c" ] &&
	progs="$progs tcp_ca_sleepable"

# Our own copy of the selftests: the module builds (M=) and tests.h write
# into it, and the C and Rust builds must not share one.
rm -rf "$st"
mkdir -p "$work" "$gen" "$obj" "$dest"
# -L: disasm.[ch] and json_writer.[ch] are relative symlinks out of the dir.
cp -rL "$src/tools/testing/selftests/bpf" "$st"
rm -rf "$work/bpf_struct_ops"	# where an older build put our test modules

# The test modules, against this kernel (their split BTF must match it),
# all in test_kmods/: the tree's, and ours (bpf_test_struct_ops, and
# bpf_test_struct_ops_rust whose struct_ops type is defined in Rust). pahole
# reports the Rust units it skips for BTF.
. "$(dirname "$0")/kmake.sh"
kmake -s M="$st/test_kmods" RESOLVE_BTFIDS="$out/tools/bpf/resolve_btfids/resolve_btfids" \
	-j"$jobs" modules 2>&1 >/dev/null |
	{ grep -v -e '^die__' -e '^tag__recode_dwarf_type' >&2 || true; }
for m in bpf_testmod bpf_test_no_cfi bpf_test_struct_ops bpf_test_struct_ops_rust; do
	[ -f "$st/test_kmods/$m.ko" ] || { echo "build-conformance: $m.ko not built" >&2; exit 1; }
	cp "$st/test_kmods/$m.ko" "$dest/"
done

# BPF programs and their skeletons, as the upstream Makefile builds them.
"$bpftool" btf dump file "$out/vmlinux" format c > "$gen/vmlinux.h"
sysinc=$($clang --target=$triple -v -E - </dev/null 2>&1 |
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
bpf_cflags="-g -Wall -Werror -D__TARGET_ARCH_$kbarch -mlittle-endian -I$gen
	-I$libbpf/include -I$st -I$src/tools/include/uapi
	-Wno-compare-distinct-pointer-types $sysinc -DENABLE_ATOMICS_TESTS
	-O2 --target=bpf -mcpu=v3"
# 7.3's vmlinux.h embeds anonymous structs by tag (-fms-extensions), and its
# programs include libarena; the upstream Makefile's flags.
bpf_cflags="$bpf_cflags -std=gnu11 -fno-strict-aliasing
	-fms-extensions -Wno-microsoft-anon-tag -Wno-initializer-overrides
	-I$st/libarena/include"
printf '%s\n' $progs | xargs -P"$jobs" -I{} \
	$clang $bpf_cflags -c "$st/progs/{}.c" -o "$gen/{}.bpf.o"
for p in $progs; do
	(cd "$gen" &&
	"$bpftool" gen object "$p.linked1.o" "$p.bpf.o" &&
	"$bpftool" gen object "$p.linked2.o" "$p.linked1.o" &&
	"$bpftool" gen object "$p.linked3.o" "$p.linked2.o" &&
	cmp -s "$p.linked2.o" "$p.linked3.o" &&
	"$bpftool" gen skeleton "$p.linked3.o" name "$p" > "$p.skel.h" &&
	"$bpftool" gen subskeleton "$p.linked3.o" name "$p" > "$p.subskel.h" &&
	rm -f "$p".linked?.o) || { echo "conformance: skeleton of $p failed" >&2; exit 1; }
done

# 7.3's test_progs registers a signing key (for its signed-program tests,
# none of which is ours) and gives up at start without one: our kernels
# have no asymmetric keys, so the copy registers none and goes on.
if grep -q 'register_session_key((const char \*)test_progs_verification_cert' "$st/test_progs.c"; then
	printf 'unsigned char test_progs_verification_cert[] = { 0 };\nunsigned int test_progs_verification_cert_len;\n' \
		> "$st/verification_cert.h"
	python3 - "$st/test_progs.c" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
old = """	err = register_session_key((const char *)test_progs_verification_cert,
				   test_progs_verification_cert_len);
	if (err < 0)
		return err;
"""
if old not in s:
    sys.exit("conformance: test_progs.c's key registration changed")
s = s.replace(old, "	(void)register_session_key;\n")
open(p, "w").write(s)
PY
fi

# trace_helpers.c reads /proc/kallsyms in 256-byte lines and stops at the
# first line it cannot parse: the kernel crate's doctests (RUST_KERNEL_DOCTESTS)
# have longer symbol names, and the reader then never sees the BPF program
# symbols listed last (token/obj_priv_prog_kallsyms fails). The copy reads
# lines of the longest a symbol can make (KSYM_NAME_LEN, 512).
old='	char func[256], buf[256];'
grep -qxF "$old" "$st/trace_helpers.c" ||
	{ echo "conformance: trace_helpers.c's kallsyms reader changed" >&2; exit 1; }
sed -i 's/^\tchar func\[256\], buf\[256\];$/\tchar func[512], buf[1024];/' "$st/trace_helpers.c"

# tests.h with just our tests, as the upstream rule makes it.
{
	echo '/* Generated header, do not edit */'
	for t in $tests; do
		sed -n -E 's/^void (serial_)?test_([a-zA-Z0-9_]+)\((void)?\).*/DEFINE_TEST(\2)/p' \
			"$st/prog_tests/$t.c"
	done | sort
} > "$st/prog_tests/tests.h"
# The tree's tests and ours, each list in tests.h's order.
sed -n 's/^DEFINE_TEST(\(.*\))$/\1/p' "$st/prog_tests/tests.h" |
	grep -v '^struct_ops_map_' > "$dest/conformance.tests" || true
sed -n 's/^DEFINE_TEST(\(.*\))$/\1/p' "$st/prog_tests/tests.h" |
	grep '^struct_ops_map_' > "$dest/struct_ops_map.tests"

# The framework and the tests, linked statically for the initramfs.
ucflags="--target=$triple -g -O0 -Wall -Werror -fno-omit-frame-pointer -I$st -I$gen
	-I$libbpf/include -I$out/include/generated -I$src/tools/lib
	-I$src/tools/include -I$src/tools/arch/$kbarch/include
	-I$src/tools/include/uapi -Wno-unused-command-line-argument
	-Wno-address-of-packed-member -Wno-gnu-variable-sized-type-not-at-end
	-D_GNU_SOURCE="
printf '%s\n' $framework | xargs -P"$jobs" -I{} \
	$clang $ucflags -c "$st/{}.c" -o "$obj/{}.o"
printf '%s\n' $tests | xargs -P"$jobs" -I{} \
	$clang $ucflags -c "$st/prog_tests/{}.c" -o "$obj/{}.test.o"
objs=$(for f in $framework; do echo "$obj/$f.o"; done; for t in $tests; do echo "$obj/$t.test.o"; done)
# shellcheck disable=SC2086
$clang $ucflags -static $objs "$libbpf/lib64/libbpf.a" -lelf -lz -lzstd -lrt -lpthread \
	-o "$dest/test_progs"
echo "conformance: $(wc -l < "$dest/conformance.tests") tests and our $(wc -l < "$dest/struct_ops_map.tests") in $dest"
