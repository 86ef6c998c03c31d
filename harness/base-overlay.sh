#!/usr/bin/env bash
# The overlay as another base than 6.12 needs it: the overlay's files at
# their kernel paths with base-<base>/overlay.patch applied (the port of
# those files to that base, as one reviewable diff).
#
# usage: base-overlay.sh stage REPO BASE DIR   the base's overlay into DIR
#                                              (made anew)
#        base-overlay.sh diff REPO BASE DIR    base-<base>/overlay.patch
#                                              made anew from DIR's files
set -euo pipefail
cmd=$1 repo=$(cd "$2" && pwd) base=$3 dir=$4
patchf=$repo/base-$base/overlay.patch
kpaths="rust kernel include net tools Documentation lib mm drivers"
files() { (cd "$repo" && git ls-files -co --exclude-standard -- $kpaths); }

case "$cmd" in
stage)
	rm -rf "$dir"
	mkdir -p "$dir"
	files | while read -r f; do
		[ -f "$repo/$f" ] || continue
		mkdir -p "$dir/$(dirname "$f")"
		cp "$repo/$f" "$dir/$f"
	done
	[ ! -s "$patchf" ] || patch -s -p1 -d "$dir" --no-backup-if-mismatch < "$patchf"
	;;
diff)
	tmp=$(mktemp)
	{
		files
		(cd "$dir" && find . -path ./.git -prune -o -type f -print | sed 's|^\./||')
	} | sort -u | while read -r f; do
		a=$repo/$f b=$dir/$f
		[ -f "$a" ] || a=/dev/null
		[ -f "$b" ] || b=/dev/null
		cmp -s "$a" "$b" && continue
		echo "diff -uN a/$f b/$f"
		diff -u --label "a/$f" --label "b/$f" "$a" "$b" || true
	done > "$tmp"
	mv "$tmp" "$patchf"
	echo "base-overlay: $patchf: $(grep -c '^diff ' "$patchf") files"
	;;
*) echo "usage: base-overlay.sh stage|diff REPO BASE DIR" >&2; exit 2 ;;
esac
