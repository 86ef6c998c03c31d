#!/usr/bin/env bash
# Installs what the build needs, quietly and only when missing.
set -euo pipefail

PKGS="linux-source-6.12 rustc-web rust-web-src rust-web-clippy clang-19 lld-19 llvm-19 libclang-19-dev
bc flex bison libelf-dev libssl-dev dwarves qemu-system-x86 busybox-static cpio
libzstd-dev zlib1g-dev libcap-dev pkg-config ccache python3"
BINDGEN_VERSION=0.72.1

# arm64 (ST_ARCH=arm64): QEMU's aarch64 system emulator, the cross gcc and
# the arm64 libraries the guest's programs link (Debian multiarch); the
# guest's busybox is unpacked from busybox-static:arm64 at build time
# (installing it would replace the host's).
ARM64_PKGS="qemu-system-arm gcc-aarch64-linux-gnu libc6-dev:arm64 libelf-dev:arm64
zlib1g-dev:arm64 libzstd-dev:arm64 libcap-dev:arm64"
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
