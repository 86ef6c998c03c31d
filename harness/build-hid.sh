#!/usr/bin/env bash
# Builds the base tree's HID-BPF selftest against one kernel build: hid_bpf
# (HID-BPF through struct_ops hid_bpf_ops, its BPF object progs/hid.c
# embedded as a skeleton), linked statically for the initramfs. The HID
# directory's other tests (hidraw, and the Python ones) use no BPF. The selftests' Makefile builds its
# own libbpf from the base tree; bpftool is ours (build-userspace.sh's), so
# the Makefile's own host bpftool is not built. The BPF side takes its types
# from this kernel's BTF, though progs/hid_bpf_helpers.h defines the HID
# ones itself (CO-RE), so a kernel without HID_BPF still compiles them.
#
# usage: build-hid.sh SRC OUT DEST [WORK]
#   DEST gets hid_bpf; WORK (default OUT/userspace/hid) the build
set -euo pipefail
src=$1 out=$2 dest=$3
work=${4:-$out/userspace/hid}
mkdir -p "$work/build" "$work/hdr" "$dest"
. "$(dirname "$0")/arch.sh"
q="-s --no-print-directory"

# The test includes <linux/uhid.h> and <linux/hidraw.h>: 7.3's, not the
# host's linux-libc-dev (6.1), which lacks some of what the fixture uses. kbuild's
# "headers" needs no .config and builds nothing of the kernel; a folder of
# its own keeps it out of OUT's objtree.
make $q -C "$src" O="$work/hdr" ARCH="$kbarch" LLVM=-19 headers > "$work/headers.log" 2>&1 ||
	{ tail -20 "$work/headers.log" >&2; exit 1; }

# bpftool runs on the host (vmlinux.h, skeleton): when cross-compiling,
# the bootstrap one. -static goes in LDLIBS, not LDFLAGS: LDFLAGS reaches
# libbpf's sub-make, which links a shared libbpf with it too.
bpftool=$out/userspace/bpftool/bpftool
[ -n "$cross" ] && bpftool=$out/userspace/bpftool/bootstrap/bpftool
flags=(CLANG=clang-19 VMLINUX_BTF="$out/vmlinux" BPFTOOL="$bpftool"
	KHDR_INCLUDES="-isystem $work/hdr/usr/include"
	LDLIBS="-static -lelf -lz -lzstd -lrt -lpthread")
[ -n "$cross" ] && flags+=(ARCH="$kbarch" CROSS_COMPILE="$cross")
# Named targets: "all" would also build the Makefile's own host bpftool
# (TEST_GEN_PROGS_EXTENDED).
make $q -C "$src/tools/testing/selftests/hid" "${flags[@]}" OUTPUT="$work/build" \
	-j"$(($(nproc) + 1))" hid_bpf > "$work/build.log" 2>&1 ||
	{ tail -40 "$work/build.log" >&2; exit 1; }

cp "$work/build/hid_bpf" "$dest/"
