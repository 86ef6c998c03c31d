#!/usr/bin/env bash
# Builds the sched_ext project's published Rust schedulers (crates.io, with
# cargo install --locked) and packs them, with the libraries they need, as
# an initramfs addition for the guest (/opt/scx-rust/bin, and the guest
# script /opt/st/scx-rust). Cached: cargo's
# own registry, and one target folder and install root for all of them
# under DIR, so a second run costs seconds.
#
# usage: [SCXR_SCHEDS="scx_rusty ..."] build-scx-rust.sh DIR CPIO
#   DIR   the cache (build/scx-rust)
#   CPIO  the archive to write (the kernel build's scx-rust.cpio.gz)
#
# The release: scx 1.1.4 (December 2026's newest), every scheduler crate of
# it; scx_cosmos is published on its own, 1.1.7. Their build scripts want
# clang on PATH (clang-22 here, as our own sched_ext builds use) and check
# the host's pahole as a stand-in for the one that built the kernel: ours
# is built with set-up's pahole 1.30, put first on PATH.
#
# x86_64 only: cross-compiling the crates (and their vendored libbpf,
# libelf and zlib) for arm64 is not done.
set -euo pipefail
dir=$1 cpio=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/arch.sh"
[ "$karch" = x86_64 ] || { echo "scx-rust: x86_64 only" >&2; exit 1; }

# NAME VERSION: the release's schedulers, and what is left out:
# - scx_mitosis and scx_wd40 are not published on crates.io;
# - scx_rlfifo is rustland's example (scx_rustland_core), kept: a user-space
#   scheduler, the other shape of client.
SCHEDS="scx_beerland 1.1.4
scx_bpfland 1.1.4
scx_chaos 1.1.4
scx_cosmos 1.1.7
scx_flash 1.1.4
scx_lavd 1.1.4
scx_layered 1.1.4
scx_p2dq 1.1.4
scx_rlfifo 1.1.4
scx_rustland 1.1.4
scx_rusty 1.1.4
scx_tickless 1.1.4"

# SCXR_SCHEDS (names, space or comma separated): only these of the release.
if [ -n "${SCXR_SCHEDS:-}" ]; then
	SCHEDS=$(echo "$SCHEDS" | grep -wF -f <(echo "$SCXR_SCHEDS" | tr ', ' '\n\n' | grep .)) ||
		{ echo "scx-rust: SCXR_SCHEDS=$SCXR_SCHEDS names none of the release" >&2; exit 1; }
fi

mkdir -p "$dir/bin" "$dir/logs"
dir=$(cd "$dir" && pwd)
ln -sf "$(command -v clang-22)" "$dir/bin/clang"
ln -sf "$here/../build/trixie/bin/pahole" "$dir/bin/pahole"
export PATH="$dir/bin:$PATH"

built=()
while read -r name ver; do
	bin="$dir/root/bin/$name"
	if [ -x "$bin" ] && [ "$(cat "$dir/root/$name.version" 2>/dev/null)" = "$ver" ]; then
		built+=("$bin")
		continue
	fi
	echo "scx-rust: building $name $ver"
	if cargo install -q --locked --root "$dir/root" --target-dir "$dir/target" \
		"$name" --version "$ver" > "$dir/logs/$name.log" 2>&1; then
		echo "$ver" > "$dir/root/$name.version"
		built+=("$bin")
	else
		echo "scx-rust: $name $ver did not build (log: $dir/logs/$name.log):" >&2
		tail -5 "$dir/logs/$name.log" >&2
	fi
done <<< "$SCHEDS"
[ ${#built[@]} -gt 0 ] || { echo "scx-rust: nothing built" >&2; exit 1; }

root="$dir/initramfs"
rm -rf "$root"
mkdir -p "$root/opt/scx-rust/bin" "$root/opt/st"
cp "${built[@]}" "$root/opt/scx-rust/bin/"
cp "$here/guest/scx-rust" "$root/opt/st/"
echo "$SCHEDS" > "$root/opt/scx-rust/release"
for b in "${built[@]}"; do
	n=${b##*/}
	echo "$n $(cat "$dir/root/$n.version")"
done > "$root/opt/scx-rust/versions"
shared_libs "$root" "${built[@]}"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$cpio.new"
mv "$cpio.new" "$cpio"
echo "scx-rust: ${#built[@]} schedulers in $cpio ($(du -h "$cpio" | cut -f1))"
