#!/usr/bin/env bash
# Installs what the build needs, quietly and only when missing.
set -euo pipefail
# One at a time: CI runs a make beside another (apt and dpkg take one).
mkdir -p "$(dirname "$0")/../build"
exec 9> "$(dirname "$0")/../build/.deps.lock"
flock 9

PKGS="rustc-web rust-web-src rust-web-clippy clang-19 lld-19 llvm-19 libclang-19-dev clang-22 llvm-22
lld-22 libclang-22-dev bc flex bison libelf-dev libssl-dev dwarves qemu-system-x86 busybox-static cpio
libzstd-dev zlib1g-dev libcap-dev pkg-config ccache python3 iproute2"
BINDGEN_VERSION=0.72.1

# arm64 (ST_ARCH=arm64): QEMU's aarch64 system emulator, the cross gcc and
# the arm64 libraries the guest's programs link (Debian multiarch); the
# guest's busybox is unpacked from busybox-static:arm64 at build time
# (installing it would replace the host's).
ARM64_PKGS="qemu-system-arm gcc-aarch64-linux-gnu libc6-dev:arm64 libelf-dev:arm64
zlib1g-dev:arm64 libzstd-dev:arm64 libcap-dev:arm64 libssl-dev:arm64"
# make scx-rust (ST_SCX_RUST=1): what the sched_ext project's Rust
# schedulers link beyond the above (scx_rustland's libseccomp); cargo is
# the machine's (rustup's), at least 1.91.
SCX_RUST_PKGS="libseccomp-dev"
[ "${ST_SCX_RUST:-0}" = 1 ] && PKGS="$PKGS $SCX_RUST_PKGS"
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
if [ "${ST_ARCH:-x86_64}" = arm64 ]; then
	PKGS="$PKGS $ARM64_PKGS"
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		echo "deps: adding Debian's arm64 architecture"
		$sudo dpkg --add-architecture arm64
	fi
fi

missing=()
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bindgen="$HOME/.cargo/bin/bindgen"
if ! "$bindgen" --version 2>/dev/null | grep -q " $BINDGEN_VERSION\$"; then
	echo "deps: installing bindgen-cli $BINDGEN_VERSION"
	cargo install -q bindgen-cli --version "$BINDGEN_VERSION" --locked
fi

# The base, Debian's linux-source-7.3 from trixie-backports, fetched with a
# private apt configuration (harness/trixie.sh), and a pahole of at least
# 1.26, which 7.3 needs (its KF_IMPLICIT_ARGS kfuncs get wrong BTF from
# older ones) and Debian 12 has not: trixie's 1.30, run with trixie's
# loader and libraries from a private root by build/trixie/bin/pahole.
base=7.3
here=$(cd "$(dirname "$0")" && pwd)
trixie=$here/../build/trixie
if [ ! -f "$trixie/src/usr/src/linux-source-$base.tar.xz" ]; then
	echo "deps: fetching linux-source-$base from trixie-backports"
	"$here/trixie.sh" extract "$trixie/src" "linux-source-$base"
fi
host_pahole=$(pahole --version 2>/dev/null | tr -d v || echo 0)
if [ "$(printf '%s\n' 1.26 "$host_pahole" | sort -V | head -1)" = 1.26 ]; then
	mkdir -p "$trixie/bin"
	ln -sf "$(command -v pahole)" "$trixie/bin/pahole"
elif ! "$trixie/bin/pahole" --version >/dev/null 2>&1; then
	echo "deps: pahole $host_pahole is older than 1.26: trixie's, in $trixie/pahole"
	root=$trixie/pahole
	"$here/trixie.sh" extract "$root" pahole libc6 libbpf1 libdw1t64 libelf1t64 zlib1g \
		liblzma5 libbz2-1.0 libzstd1
	lib=$root/usr/lib/x86_64-linux-gnu
	mkdir -p "$trixie/bin"
	printf '#!/bin/sh\nexec %s --library-path %s %s "$@"\n' \
		"$lib/ld-linux-x86-64.so.2" "$lib" "$root/usr/bin/pahole" > "$trixie/bin/pahole"
	chmod +x "$trixie/bin/pahole"
	"$trixie/bin/pahole" --version
fi
