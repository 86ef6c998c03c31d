#!/usr/bin/env bash
# Configures and builds one kernel: tinyconfig + our fragments, for the
# arch in ST_ARCH (x86_64 or arm64), with kCFI if ST_CFI=1, and the TCP
# congestion control struct_ops type in ST_TCP (rust or c; IMPL's if unset).
#
# usage: build-kernel.sh SRC OUT IMPL DEBUG
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$1 out=$2 impl=$3 debug=$4
. "$here/kmake.sh"
mkdir -p "$out"
# One build of a kernel at a time (CI runs a make beside another of the
# same kernel).
exec 9> "$out/.kernel.lock"
flock 9

frags=("$here/kernel.config" "$here/arch-$karch.config" "$here/impl-$impl.config"
	"$here/tcp-${ST_TCP:-$impl}.config")
[ "$debug" = 1 ] && frags+=("$here/debug.config")
[ "${ST_CFI:-0}" = 1 ] && frags+=("$here/cfi.config")
stamp="$out/.fragments"
if [ ! -f "$out/.config" ] || ! cat "${frags[@]}" | cmp -s - "$stamp"; then
	echo "kernel: configuring $out ($impl, debug=$debug)"
	kmake tinyconfig >/dev/null
	KCONFIG_CONFIG="$out/.config" "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
		"$out/.config" "${frags[@]}" >/dev/null
	kmake olddefconfig >/dev/null
	# Every option we ask for must have landed; kconfig drops what it can't
	# honour. A later fragment may set an option again (debug.config):
	# its value is the one asked for.
	bad=0
	declare -A want=()
	while IFS= read -r line; do
		case "$line" in CONFIG_*=*) want[${line%%=*}]=$line ;; esac
	done < <(cat "${frags[@]}")
	for line in "${want[@]}"; do
		case "$line" in
		CONFIG_*=n) opt=${line%%=*}
			grep -q "^$opt=" "$out/.config" && { echo "kernel: $opt should be off" >&2; bad=1; } ;;
		CONFIG_*) grep -qxF "$line" "$out/.config" ||
			{ echo "kernel: $line did not take ($(grep "^${line%%=*}=" "$out/.config" || echo unset))" >&2; bad=1; } ;;
		esac
	done
	if [ $bad = 1 ] && ! grep -q BPF_STRUCT_OPS_RUST "$src/kernel/bpf/Kconfig"; then
		echo "kernel: this tree does not have the series (no CONFIG_BPF_STRUCT_OPS_RUST);" \
			"apply it (docs/patch-series.md): the tests need it with IMPL=c too" >&2
	fi
	[ $bad = 0 ] || exit 1
	cat "${frags[@]}" > "$stamp"
fi

log="$out/build.log"
# Progress every 30 s: kbuild's steps done, out of those of the last build
# from scratch of this variant (harness/build-steps on a fresh machine).
. "$here/progress.sh"
variant=$(basename "$out")
total=0
if [ ! -f "$out/vmlinux" ]; then
	total=$(cat "$out/.build-steps" 2>/dev/null ||
		awk -v v="$variant" '$1 == v { print $2 }' "$here/build-steps")
fi
set +e
# Shown: errors and warnings, but not resolve_btfids' warnings about the
# symbols the unpatched base tree leaves unresolved too
# (btfids-base-unresolved, with why): expected, and counted below.
expected=$(grep -v '^#' "$here/btfids-base-unresolved" | sed 's/^/WARN: resolve_btfids: /')
{ kmake -j"$(($(nproc) + 1))" "$(basename "$kimage")" modules; echo "$?" > "$out/.build-rc"; } 2>&1 | tee "$log" |
	grep -E '^(  (LD|BTF|AR) .*vmlinux|.*(error|warning|WARN)[: ])' | grep -v '^  ' |
	grep -vxF -e "$expected" &
progress $! "kernel: $variant: build steps" "${total:-0}" 0 grep -cE '^  [A-Z]' "$log"
wait
rc=$(cat "$out/.build-rc")
set -e
if [ "$rc" = 0 ] && [ "${total:-0}" != 0 ]; then grep -cE '^  [A-Z]' "$log" > "$out/.build-steps" || true; fi
if [ "$rc" != 0 ]; then
	grep -E 'error|Error' "$log" | head -40 >&2
	echo "kernel: build failed, see $log" >&2
	exit 1
fi

# resolve_btfids only warns about an unresolved BTF_ID; we fail on any that
# the base tree does not have too.
if grep -q 'resolve_btfids' "$log"; then
	grep -o 'unresolved symbol [A-Za-z0-9_]*' "$log" | sort -u > "$out/.btfids-unresolved" || true
fi
if [ -f "$out/.btfids-unresolved" ]; then
	new=$(grep -vxF -f <(grep -v '^#' "$here/btfids-base-unresolved") "$out/.btfids-unresolved" || true)
	if [ -n "$new" ]; then
		echo "kernel: resolve_btfids: $new (the base tree resolves these)" >&2
		exit 1
	fi
	n=$(grep -c . "$out/.btfids-unresolved" || true)
	[ "$n" = 0 ] || echo "kernel: resolve_btfids: $n unresolved BTF ids, as in the base tree" \
		"(expected, warnings hidden: harness/btfids-base-unresolved)"
fi
echo "kernel: $out/$kimage ($(kmake -s kernelrelease))"
