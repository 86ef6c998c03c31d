#!/usr/bin/env bash
# KSRC=: build and test a kernel tree you already have (typically one with
# the series applied by git am, docs/patch-series.md), without writing to
# it. Its sources are mirrored into SRC, the harness's own tree for it
# ($(BUILD)/ksrc/linux), where kbuild and the tools build; nothing of the
# series is applied (the tree needs it, whatever IMPL: our Rust test
# module is built on its kernel::bpf). The one addition is the harness's own tests
# (tools/testing/selftests/bpf_struct_ops/, which the guest scripts drive),
# copied over the mirror's.
#
# Sources: a git checkout's tracked and untracked, not ignored files (its
# build output is ignored); any other tree whole, which must then not have
# been built in place. Later runs copy only the files changed since the
# last (timestamps kept, so kbuild rebuilds only what an edit touched) and
# remove the ones gone.
#
# usage: mirror-tree.sh REPO KSRC SRC
set -euo pipefail
repo=$(cd "$1" && pwd)
ksrc=$(cd "$2" && pwd) || { echo "tree: KSRC=$2 does not exist" >&2; exit 1; }
mkdir -p "$(dirname "$3")"
src=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
tests=tools/testing/selftests/bpf_struct_ops

if [ ! -f "$ksrc/Makefile" ] || [ ! -f "$ksrc/kernel/bpf/syscall.c" ]; then
	echo "tree: KSRC=$ksrc is not a kernel tree" >&2
	exit 1
fi
case "$src/" in
"$ksrc/"*)
	echo "tree: BUILD= must be outside KSRC ($ksrc)" >&2
	exit 1
	;;
esac
exec 9> "$src.lock"
flock 9

list=$src.files
if git -C "$ksrc" rev-parse --show-toplevel 2>/dev/null | grep -qxF "$ksrc"; then
	# Tracked (less those deleted in the work tree) and untracked files.
	git -C "$ksrc" ls-files -d | sort > "$list.deleted"
	git -C "$ksrc" ls-files -co --exclude-standard | sort | comm -23 - "$list.deleted" > "$list.new"
	rm -f "$list.deleted"
else
	if [ -e "$ksrc/.config" ] || [ -d "$ksrc/include/config" ]; then
		echo "tree: KSRC=$ksrc was configured or built in place and is not a" \
			"git checkout, so its sources cannot be told from its build output;" \
			"run 'make mrproper' there first" >&2
		exit 1
	fi
	(cd "$ksrc" && find . \( -type f -o -type l \) -printf '%P\n') > "$list.new"
fi
# The harness's tests are ours, not the tree's.
grep -v "^$tests/" "$list.new" | sort > "$list.sorted" || true
mv "$list.sorted" "$list.new"

stamp=$src.stamp
if [ -f "$list" ] && [ -d "$src" ]; then
	# Gone from KSRC: gone from the mirror.
	comm -23 "$list" "$list.new" | while read -r f; do
		rm -f "$src/$f"
		echo "tree: removed $f"
	done
	# Changed since the last mirror (or new).
	comm -13 "$list" "$list.new" > "$list.copy"
	(cd "$ksrc" && find . -newer "$stamp" \( -type f -o -type l \) -printf '%P\n' |
		sort | comm -12 - "$list.new") >> "$list.copy"
else
	# Never replace a tree this harness did not make.
	if [ -e "$src" ] && [ -n "$(ls -A "$src" 2>/dev/null)" ] && [ ! -f "$list" ]; then
		echo "tree: $src exists and is not this harness's mirror; not replacing it" >&2
		exit 1
	fi
	echo "tree: mirroring $ksrc into $src"
	rm -rf "$src"
	mkdir -p "$src"
	cp "$list.new" "$list.copy"
fi
touch "$stamp.new"
n=$(sort -u "$list.copy" | tee "$list.copy.u" | wc -l)
if [ "$n" -gt 0 ]; then
	tar -C "$ksrc" -cf - --no-recursion -T "$list.copy.u" | tar -C "$src" -xf -
	echo "tree: $n files copied from $ksrc"
fi
mv "$stamp.new" "$stamp"
mv "$list.new" "$list"
rm -f "$list.copy" "$list.copy.u"

# Our tests, copied where they differ.
(cd "$repo" && git ls-files -co --exclude-standard -- "$tests") | while read -r f; do
	if ! cmp -s "$repo/$f" "$src/$f"; then
		mkdir -p "$(dirname "$src/$f")"
		cp "$repo/$f" "$src/$f"
		echo "tree: test $f"
	fi
done

have=$(make -s -C "$src" kernelversion 2>/dev/null)
echo "$have" > "$src/.base-version"
want=$(cat "$repo/patches/BASE_VERSION")
if [ "$have" != "$want" ]; then
	echo "tree: note: KSRC is $have; the series was made on $want" >&2
fi
