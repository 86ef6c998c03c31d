#!/usr/bin/env bash
# Builds the guest's userspace against one kernel build: bpftool and libbpf
# from the base tree, our tests and BPF objects, then the initramfs.
#
# usage: build-userspace.sh REPO SRC OUT
set -euo pipefail
repo=$1 src=$2 out=$3
us="$out/userspace"
mkdir -p "$us/libbpf" "$us/bpftool"

# Progress every 30 s (harness/progress.sh): the files this build has
# written so far, out of the last one's. The build itself is this script
# again, in the background.
if [ -z "${ST_US_BUILD:-}" ]; then
	# One build of a kernel's userspace at a time: CI runs a make beside
	# another of the same kernel (make stress beside make test), and this
	# build removes and rewrites the module copies. The build below inherits
	# the lock.
	exec 9> "$out/.userspace.lock"
	flock 9
	# Up to date: nothing it is built from changed since the last build
	# began: the kernel, the harness, the tree's tools/ and patches (make's
	# tree step copies an edited file in, with a new time). CI's make test,
	# after its background build of the same kernel, then boots at once.
	stamp="$out/.userspace-built"
	if [ -f "$stamp" ] && [ -f "$out/initramfs.cpio.gz" ] && [ -z "$(find "$out/vmlinux" \
		"$repo/harness" "$src/tools" $([ -d "$src/.patches" ] && echo "$src/.patches") -newer "$stamp" -print -quit)" ]; then
		echo "userspace: up to date"
		exit 0
	fi
	. "$repo/harness/progress.sh"
	touch "$us/.start"
	ST_US_BUILD=1 "$0" "$@" &
	pid=$!
	# A background job ignores SIGINT: pass an interrupt on to the build.
	trap 'kill $pid 2>/dev/null; exit 130' INT TERM
	progress $pid "userspace: files written" "$(cat "$out/.userspace-files" 2>/dev/null || echo 0)" 0 \
		bash -c 'find "$1" -type f -newer "$1/.start" | wc -l' _ "$us"
	rc=0
	wait $pid || rc=$?
	if [ $rc = 0 ]; then
		find "$us" -type f -newer "$us/.start" | wc -l > "$out/.userspace-files"
		mv "$us/.start" "$stamp"
	fi
	exit $rc
fi
# No llvm-config on PATH: bpftool would link the 130 MB libLLVM for its disassembler.
q="-s --no-print-directory"
# The arch (ST_ARCH): arm64's userspace is cross-compiled (harness/arch.sh).
. "$repo/harness/kmake.sh"

# libbpf (static, with headers) and bpftool, from the base tree. The host
# runs bpftool too (vmlinux.h, skeletons): when cross-compiling, that is
# the bootstrap bpftool bpftool's build makes for the host.
make $q -C "$src/tools/lib/bpf" OUTPUT="$us/libbpf/" BUILD_STATIC_ONLY=1 \
	CROSS_COMPILE="$cross" DESTDIR="$us/libbpf-root" prefix= install >/dev/null
make $q -C "$src/tools/bpf/bpftool" OUTPUT="$us/bpftool/" CLANG=clang-19 \
	LLVM_STRIP=llvm-strip-19 VMLINUX_BTF="$out/vmlinux" feature-llvm=0 \
	feature-libbfd=0 CROSS_COMPILE="$cross" >/dev/null 2>"$us/bpftool.err" ||
	{ cat "$us/bpftool.err" >&2; exit 1; }
bpftool="$us/bpftool/bpftool"
host_bpftool=$bpftool
[ -n "$cross" ] && host_bpftool="$us/bpftool/bootstrap/bpftool"

# Our tests.
make $q -C "$src/tools/testing/selftests/bpf_struct_ops" OUTPUT="$us/st" \
	VMLINUX="$out/vmlinux" BPFTOOL="$host_bpftool" LIBBPF="$us/libbpf-root" CLANG=clang-19 \
	CC="${cross}gcc" BPF_ARCH="$kbarch" TRIPLE="$triple"

# The initramfs: busybox, bpftool with its libraries, our programs.
root="$us/initramfs"
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,lib,lib64,run,var,opt/st/bin,opt/st/bpf,opt/st/tests,opt/scx,opt/hid}
# /run (and /var/run): where ip netns keeps its namespaces.
ln -s ../run "$root/var/run"
busybox "$us" "$root/bin/busybox"
cp "$repo/harness/guest/init" "$root/init"
cp "$repo/harness/guest/run-tests" "$repo/harness/guest/demo" "$repo/harness/guest/bench" \
	"$repo/harness/guest/scx" "$repo/harness/guest/stress" "$repo/harness/guest/kmemleak" \
	"$repo/harness/guest/profile" "$repo/harness/guest/profile.funcs" "$repo/harness/guest/pcprof" \
	"$repo/harness/guest/cfi" "$repo/harness/guest/test-progs" "$repo/harness/guest/scx-lib" \
	"$root/opt/st/"
cp "$bpftool" "$us/st/tcp_xfer" "$us/st/st_bench" "$us/st/st_stress" "$us/st/st_hostile" "$us/st/st_fault" \
	"$us/st/st_sched_task" "$repo/harness/guest/with-scx" "$root/opt/st/bin/"
cp "$us/st/"*.bpf.o "$root/opt/st/bpf/"
# The base tree's struct_ops selftests and ours (test_progs and its test
# modules).
"$repo/harness/build-conformance.sh" "$src" "$out" "$root/opt/st/conformance" "$host_bpftool"
# st_bench loads the test modules from the current directory, as test_progs
# does (struct_ops_map_helpers.c), and runs in /opt/st/bin.
for m in bpf_test_struct_ops bpf_test_struct_ops_rust; do
	ln -sf "../conformance/$m.ko" "$root/opt/st/bin/$m.ko"
done
# The selftests' BPF cubic and dctcp, for the TCP benchmark.
cp "$us/conformance/gen/bpf_cubic.bpf.o" "$us/conformance/gen/bpf_dctcp.bpf.o" "$root/opt/st/bpf/"
# sched_ext's selftests and example schedulers.
"$repo/harness/build-scx.sh" "$src" "$out" "$root/opt/scx"
# HID-BPF: the base tree's HID selftests (static).
"$repo/harness/build-hid.sh" "$src" "$out" "$root/opt/hid"
for t in "$repo"/harness/guest/tests/*; do
	[ -f "$t" ] && cp "$t" "$root/opt/st/tests/"
done
# The BPF qdisc tests drive veth and qdiscs with iproute2's ip and tc
# (through system()), which busybox's applets cannot do. /bin/sh is then
# dash, as on Debian: busybox's ash runs its own ip and tc applets before
# any on PATH.
iproute_dash "$us" "$root"
shared_libs "$root" "$bpftool" "$root"/opt/scx/* "$root/bin/ip" "$root/bin/tc" "$root/bin/sh"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
# Written aside and renamed: a guest of this kernel may be booting from the
# last one.
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out/initramfs.cpio.gz.new"
mv "$out/initramfs.cpio.gz.new" "$out/initramfs.cpio.gz"
echo "userspace: $out/initramfs.cpio.gz ($(du -h "$out/initramfs.cpio.gz" | cut -f1))"
