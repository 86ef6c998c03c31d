#!/usr/bin/env bash
# Installs what the build needs, quietly and only when missing.
set -euo pipefail

PKGS="linux-source-6.12 rustc-web rust-web-src rust-web-clippy clang-19 lld-19 llvm-19 libclang-19-dev
bc flex bison libelf-dev libssl-dev dwarves qemu-system-x86 busybox-static cpio
libzstd-dev zlib1g-dev libcap-dev pkg-config ccache python3"
BINDGEN_VERSION=0.72.1

missing=()
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bindgen="$HOME/.cargo/bin/bindgen"
if ! "$bindgen" --version 2>/dev/null | grep -q " $BINDGEN_VERSION\$"; then
	echo "deps: installing bindgen-cli $BINDGEN_VERSION"
	cargo install -q bindgen-cli --version "$BINDGEN_VERSION" --locked
fi
