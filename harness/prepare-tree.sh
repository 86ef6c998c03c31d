#!/usr/bin/env bash
# Extracts the base tree once, then brings our overlay and patches onto it.
# Idempotent: files whose content did not change keep their timestamps, so
# kbuild rebuilds only what an edit touched.
#
# usage: prepare-tree.sh REPO SRC
set -euo pipefail
repo=$(cd "$1" && pwd)
mkdir -p "$(dirname "$2")"
src=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
# One at a time: CI builds one variant while another's make runs.
exec 9> "$src.lock"
flock 9
# The base: Debian's linux-source-7.3 (harness/deps.sh fetched it).
base=7.3
tarball=$repo/build/trixie/src/usr/src/linux-source-$base.tar.xz
patches=$repo/patches/upstream-edits
want=$(cat "$repo/patches/BASE_VERSION")

if [ ! -f "$src/.extracted" ]; then
	# Never replace a tree that is not ours (an existing checkout).
	if [ -e "$src" ] && [ -n "$(ls -A "$src" 2>/dev/null)" ]; then
		echo "tree: $src exists and was not extracted by this harness;" \
			"not replacing it (move it, or set BUILD= elsewhere)" >&2
		exit 1
	fi
	echo "tree: extracting $tarball"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar xf "$tarball" -C "$src.tmp" --strip-components=1
	mv "$src.tmp" "$src"
	touch "$src/.extracted"
fi

have=$(make -s -C "$src" kernelversion 2>/dev/null)
echo "$have" > "$src/.base-version"
if [ "$have" != "$want" ]; then
	echo "tree: WARNING: base tree is $have, our patches were made on $want" >&2
fi

# Patches: patches/upstream-edits/, and with FIXES=1 the fixes of 7.3's C
# after them (patches/fixes/). The set applied last time is kept in $src/.patches; if it
# changed, reverse the old set and apply the new one.
want_dir="$src.patches-wanted"
rm -rf "$want_dir"
cp -r "$patches" "$want_dir"
if [ "${FIXES:-0}" = 1 ]; then
	{ grep -v '^\s*#' "$repo/patches/fixes/series" || true; } | while read -r f; do
		[ -n "$f" ] || continue
		cp "$repo/patches/fixes/$f.patch" "$want_dir/fix-$f.patch"
		echo "fix-$f.patch" >> "$want_dir/series"
	done
fi
applied="$src/.patches"
if ! diff -qr "$want_dir" "$applied" >/dev/null 2>&1; then
	if [ -f "$applied/series" ]; then
		{ tac "$applied/series" | grep -v '^\s*#' || true; } | while read -r p; do
			[ -n "$p" ] || continue
			patch -s -R -p1 -d "$src" < "$applied/$p" ||
				{ echo "tree: cannot reverse $p; run 'make distclean'" >&2; exit 1; }
		done
	fi
	rm -rf "$applied"
	{ grep -v '^\s*#' "$want_dir/series" || true; } | while read -r p; do
		[ -n "$p" ] || continue
		if ! patch -s -p1 -N --dry-run -d "$src" < "$want_dir/$p" >/dev/null; then
			echo "tree: patch $p does not apply to $have (made on $want)" >&2
			exit 1
		fi
		patch -s -p1 -N -d "$src" < "$want_dir/$p"
		echo "tree: applied $p"
	done
	mv "$want_dir" "$applied"
fi
rm -rf "$want_dir"

# Overlay: every file under the kernel paths, copied when it differs.
cd "$repo"
list="$src/.overlay-files"
git -C "$repo" ls-files -co --exclude-standard -- rust kernel include net tools Documentation lib mm drivers |
	sort > "$list.new"
while read -r f; do
	[ -f "$f" ] || continue
	if ! cmp -s "$f" "$src/$f"; then
		mkdir -p "$(dirname "$src/$f")"
		cp "$f" "$src/$f"
		echo "tree: overlay $f"
	fi
done < "$list.new"
# A file dropped from the overlay goes back to its base version (or away).
if [ -f "$list" ]; then
	comm -23 "$list" "$list.new" | while read -r f; do
		rm -f "$src/$f"
		tar xf "$tarball" -C "$src" --strip-components=1 "linux-source-$base/$f" 2>/dev/null ||
			# Not in the base: its folder goes too once empty, as in a fresh tree.
			rmdir -p --ignore-fail-on-non-empty "$(dirname "$src/$f")" 2>/dev/null || true
		echo "tree: restored $f"
	done
fi
mv "$list.new" "$list"
