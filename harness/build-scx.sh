#!/usr/bin/env bash
# Builds sched_ext's userspace against one kernel build: the base tree's
# sched_ext selftests (runner) and its example schedulers scx_simple,
# scx_qmap and scx_central. Both Makefiles build their own libbpf and
# bpftool from the base tree; the BPF side takes its types from this
# kernel's BTF.
#
# usage: build-scx.sh SRC OUT DEST
#   DEST gets runner and the three schedulers
set -euo pipefail
src=$1 out=$2 dest=$3
work="$out/userspace/scx"
mkdir -p "$work/selftests" "$work/examples" "$dest"
# For arm64 they cross-compile (CROSS_COMPILE), with build-userspace.sh's
# host (bootstrap) bpftool. The selftests' Makefile links the runner with
# the host's libbpf: we hand it the target's for that. tools/sched_ext's
# builds a target libbpf of its own.
. "$(dirname "$0")/arch.sh"
# Their BPF programs with clang 22: 7.3's scx_qmap clears three adjacent
# fields of an arena struct, which LLVM merges into a memset, and LLVM
# before 22 lowers a memset on an arena pointer through the pointer as it
# is, without the address-space cast (the verifier then refuses
# qmap_dequeue: "R7 invalid mem access 'scalar'"). LLVM 22 casts it.
flags=(CLANG=clang-22 LLVM_STRIP=llvm-strip-22 VMLINUX_BTF="$out/vmlinux" CROSS_COMPILE="$cross")
sflags=()
[ -n "$cross" ] && flags+=(BPFTOOL="$out/userspace/bpftool/bootstrap/bpftool") sflags=(HOST_BPFOBJ='$(BPFOBJ)')
q="-s --no-print-directory"

make $q -C "$src/tools/testing/selftests/sched_ext" "${flags[@]}" ${sflags[@]+"${sflags[@]}"} \
	OUTPUT="$work/selftests" > "$work/selftests.log" 2>&1 ||
	{ tail -40 "$work/selftests.log" >&2; exit 1; }
make $q -C "$src/tools/sched_ext" "${flags[@]}" O="$work/examples" \
	scx_simple scx_qmap scx_central > "$work/examples.log" 2>&1 ||
	{ tail -40 "$work/examples.log" >&2; exit 1; }

cp "$work/selftests/runner" "$work/examples/build/bin/"scx_{simple,qmap,central} "$dest/"
