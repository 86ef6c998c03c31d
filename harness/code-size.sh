#!/usr/bin/env bash
# The code each struct_ops implementation adds to vmlinux, the map and the
# TCP congestion-control type together, from symbol sizes (not `size
# vmlinux`: its .text is padded to 2 MiB). Each symbol is taken from its
# object's symbol table and sized from vmlinux's, the local ones within
# that object's FILE block there (so that statics of the same name in
# other objects are not counted), aliases once.
#   C     kernel/bpf/bpf_struct_ops.o, net/ipv4/bpf_tcp_ca.o
#   Rust  kernel/bpf/struct_ops.o (the crate with kernel/bpf/struct_ops/*.rs)
#         and its C glue struct_ops_glue.o, net/ipv4/bpf_tcp_ca_ops.o and its
#         C half bpf_tcp_ca_btf.o; the kernel crate's bpf module (symbols of
#         rust/kernel.o whose demangled name has kernel::bpf::, its generic
#         instantiations included); rust/helpers/bpf.c's rust_helper_*
#         (none with CONFIG_RUST_INLINE_HELPERS: inlined into the above).
#         Kernel and core generics instantiated in our crates are in their
#         objects; shared non-generic code (core.o, kernel.o outside
#         kernel::bpf, other helpers) is not counted.
# Which half a build has comes from its .config (CONFIG_BPF_STRUCT_OPS_RUST,
# CONFIG_BPF_TCP_CA_RUST). text: symbols in executable sections; data:
# rodata + data + bss. Anonymous string literals (.rodata.str*) have no
# symbol and are not counted on either side.
# usage: code-size.sh C_BUILD RUST_BUILD   (kernel build dirs, O=, with vmlinux)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
NM=${NM:-llvm-nm-19} READELF=${READELF:-llvm-readelf-19}
OBJDUMP=${OBJDUMP:-llvm-objdump-19} CXXFILT=${CXXFILT:-llvm-cxxfilt-19}

if [ $# -ne 2 ]; then
	echo "usage: $0 C_BUILD RUST_BUILD" >&2
	exit 2
fi
for b in "$1" "$2"; do
	[ -f "$b/vmlinux" ] || { echo "code-size: no $b/vmlinux" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# is BUILD CONFIG: whether the build's .config has CONFIG=y
is() { grep -q "^$2=y" "$1/.config"; }

# objects BUILD: "label<TAB>object<TAB>filter" for each object counted
objects() {
	local b=$1 rust=0
	if is "$b" CONFIG_BPF_STRUCT_OPS_RUST; then
		printf '%s\t%s\t-\n' map.rs kernel/bpf/struct_ops.o map.glue.c kernel/bpf/struct_ops_glue.o
		rust=1
	else
		printf '%s\t%s\t-\n' map.c kernel/bpf/bpf_struct_ops.o
	fi
	if is "$b" CONFIG_BPF_TCP_CA_RUST; then
		printf '%s\t%s\t-\n' tcp.rs net/ipv4/bpf_tcp_ca_ops.o tcp.btf.c net/ipv4/bpf_tcp_ca_btf.o
		rust=1
	else
		printf '%s\t%s\t-\n' tcp.c net/ipv4/bpf_tcp_ca.o
	fi
	if [ $rust = 1 ]; then
		printf '%s\t%s\t%s\n' kernel.o:bpf rust/kernel.o kbpf
		# With CONFIG_RUST_INLINE_HELPERS the helpers are inline functions
		# taken into the Rust objects (counted there), with no copy of
		# their own in vmlinux.
		is "$b" CONFIG_RUST_INLINE_HELPERS ||
			printf '%s\t%s\t%s\n' helpers/bpf.c rust/helpers/helpers.o helpers
	fi
}

# helper_names BUILD: the rust_helper_* functions rust/helpers/bpf.c defines
helper_names() {
	local src=$1/source/rust/helpers/bpf.c
	[ -f "$src" ] || src=$here/../rust/helpers/bpf.c
	grep -o '\brust_helper_[A-Za-z0-9_]*(' "$src" | tr -d '(' | sort -u
}

# measure BUILD OUT: OUT gets "label<TAB>class<TAB>size<TAB>addr<TAB>name"
# for each counted symbol (class text/rodata/data/bss, "+init" when in a
# section freed after boot), one per address.
measure() {
	local b=$1 out=$2 w=$tmp/w
	mkdir -p "$w"
	$READELF -S --wide "$b/vmlinux" | sed -n 's/^ *\[ *\([0-9]*\)\] /\1 /p' > "$w/secs"
	$READELF -s --wide "$b/vmlinux" > "$w/vsyms"
	helper_names "$b" > "$w/helpers"
	: > "$w/objsyms"
	local label obj filter
	while IFS=$'\t' read -r label obj filter; do
		if [ ! -f "$b/$obj" ]; then
			echo "code-size: $b/$obj missing" >&2
			exit 1
		fi
		# FILE name, then "bind name" of each symbol the object defines
		$READELF -s --wide "$b/$obj" | awk -v l="$label" -v f="$filter" '
			NF == 8 && $4 == "FILE" { print "F", l, f, $8; next }
			NF == 8 && $7 != "UND" && $7 != "ABS" && $4 != "SECTION" && $4 != "FILE" &&
			    ($5 == "LOCAL" || $5 == "GLOBAL" || $5 == "WEAK") { print "S", l, f, $5, $8 }
		' >> "$w/objsyms"
	done < <(objects "$b")
	# kernel.o: keep those whose demangled name is in kernel::bpf.
	awk '$1 == "S" && $3 == "kbpf" { print $5 }' "$w/objsyms" | sort -u > "$w/kn"
	# kCFI preambles (__cfi_NAME) go with their function
	sed 's/^__cfi_//' "$w/kn" | $CXXFILT > "$w/kd"
	paste "$w/kn" "$w/kd" | awk -F'\t' 'index($2, "kernel::bpf::") { print $1 }' > "$w/kbpf"
	awk -v secs="$w/secs" -v kbpf="$w/kbpf" -v helpers="$w/helpers" -v vsyms="$w/vsyms" '
		BEGIN {
			while ((getline line < secs) > 0) {
				n = split(line, a, " ")
				flg = n == 11 ? a[8] : ""
				cls = ""
				# .rodata is writable in vmlinux (ro_after_init data): by name
				ro = flg !~ /W/ || a[2] ~ /^\.rodata/
				if (flg ~ /A/) cls = flg ~ /X/ ? "text" : a[3] == "NOBITS" ? "bss" : ro ? "rodata" : "data"
				if (cls != "" && a[2] ~ /^\.(init|exit)\./) cls = cls "+init"
				class[a[1]] = cls
			}
			while ((getline line < kbpf) > 0) keep["kbpf", line] = 1
			while ((getline line < helpers) > 0) keep["helpers", line] = 1
			# vmlinux: FILE blocks of locals (block number), globals by name
			blk = 0
			while ((getline line < vsyms) > 0) {
				n = split(line, a, " ")
				if (n != 8 || a[1] !~ /:$/) continue
				if (a[4] == "FILE") { blk++; bname[blk] = a[8]; continue }
				if (a[7] == "UND" || a[7] == "ABS" || a[4] == "SECTION") continue
				rec = a[2] " " a[3] " " a[7]
				if (a[5] == "LOCAL") { loc[blk, a[8]] = rec; nloc[a[8]]++ }
				else glob[a[8]] = rec
			}
		}
		$1 == "F" { ofile[$2] = $4; next }
		$1 == "S" {
			nm = $5
			sub(/^__cfi_/, "", nm)
			if ($3 != "-" && !keep[$3, nm] && !keep[$3, $5]) next
			n = ++ns[$2]; sb[$2, n] = $4; sn[$2, n] = $5
			if (!($2 in order)) { order[$2] = ++nobj; lab[nobj] = $2 }
		}
		END {
			for (o = 1; o <= nobj; o++) {
				l = lab[o]
				# the FILE block of vmlinux holding most of its locals
				best = 0; bestn = 0
				for (k = 1; k <= blk; k++) {
					if (bname[k] != ofile[l]) continue
					m = 0
					for (i = 1; i <= ns[l]; i++)
						if (sb[l, i] == "LOCAL" && ((k, sn[l, i]) in loc)) m++
					if (m > bestn || best == 0) { best = k; bestn = m }
				}
				got = 0
				for (i = 1; i <= ns[l]; i++) {
					name = sn[l, i]
					rec = sb[l, i] == "LOCAL" ? loc[best, name] : glob[name]
					if (rec == "") continue
					got++
					split(rec, r, " ")
					if (r[2] + 0 == 0 || class[r[3]] == "") continue
					if (r[1] in seen) continue
					seen[r[1]] = 1
					print l "\t" class[r[3]] "\t" r[2] "\t" r[1] "\t" name
				}
				if (!got) { printf "code-size: %s: none of its symbols in vmlinux\n", l > "/dev/stderr"; exit 1 }
			}
		}
	' "$w/objsyms" > "$out"
	rm -rf "$w"
}

c=$1 r=$2
# A build whose objects are newer than its vmlinux is mid-rebuild.
for b in "$c" "$r"; do
	while IFS=$'\t' read -r _ obj _; do
		if [ "$b/$obj" -nt "$b/vmlinux" ]; then
			echo "code-size: warning: $b/$obj is newer than its vmlinux (mid-rebuild?)" >&2
		fi
	done < <(objects "$b")
done
is "$c" CONFIG_BPF_STRUCT_OPS_RUST || is "$c" CONFIG_BPF_TCP_CA_RUST &&
	echo "code-size: warning: $c has a Rust half" >&2
measure "$c" "$tmp/c"
measure "$r" "$tmp/r"
# demangled names, one per line of the measure output
for s in c r; do
	cut -f5 "$tmp/$s" | sed 's/^__cfi_//' | $CXXFILT > "$tmp/$s.n"
	paste "$tmp/$s" "$tmp/$s.n" |
		awk -F'\t' -v OFS='\t' '$5 ~ /^__cfi_/ { $6 = "[kCFI preamble] " $6 } 1' > "$tmp/$s.d"
done

# short NAME: a demangled name with the long paths cut
short() {
	sed -E 's/kernel::alloc::allocator::Kmalloc/Kmalloc/g; s/kernel::alloc::kvec::Vec/KVec/g;
		s/kernel::alloc::kbox::Box/KBox/g; s/kernel::bpf::/kbpf::/g; s/kernel::/k::/g;
		s/core::[a-z_]+::([a-z_]+::)?//g; s/bindings::/b::/g' | cut -c1-110
}

echo "Code added to vmlinux, from symbol sizes (bytes; aliases once)"
echo "  C:    $c"
echo "  Rust: $r"
echo "text = symbols in executable sections; data = rodata + data + bss"
echo "kernel.o:bpf = rust/kernel.o symbols whose demangled name has kernel::bpf::"
echo "helpers/bpf.c = rust/helpers/helpers.o's rust_helper_* defined in rust/helpers/bpf.c"
echo
table() {
	awk -F'\t' -v side="$1" '
		{ cl = $2; sub(/\+init/, "", cl); t[$1, cl] += $3; n[$1]++
		  if ($2 ~ /init/) init[$1] += $3
		  if (!($1 in o)) { o[$1] = ++no; lab[no] = $1 } }
		END {
			for (i = 1; i <= no; i++) {
				l = lab[i]; d = t[l, "rodata"] + t[l, "data"] + t[l, "bss"]
				printf "%-5s %-14s %7d %7d %7d %6d %7d %5d%s\n", side, l, t[l, "text"], t[l, "rodata"],
					t[l, "data"], t[l, "bss"], d, n[l], init[l] ? "  (" init[l] " in init sections)" : ""
				T += t[l, "text"]; R += t[l, "rodata"]; D += t[l, "data"]; B += t[l, "bss"]; N += n[l]
			}
			printf "%-5s %-14s %7d %7d %7d %6d %7d %5d\n", side, "TOTAL", T, R, D, B, R + D + B, N
		}' "$2"
}
printf '%-5s %-14s %7s %7s %7s %6s %7s %5s\n' side object text rodata data bss data+ syms
table C "$tmp/c"
table Rust "$tmp/r"
ct=$(awk -F'\t' '$2 ~ /^text/ { s += $3 } END { print s + 0 }' "$tmp/c")
rt=$(awk -F'\t' '$2 ~ /^text/ { s += $3 } END { print s + 0 }' "$tmp/r")
cd_=$(awk -F'\t' '$2 !~ /^text/ { s += $3 } END { print s + 0 }' "$tmp/c")
rd=$(awk -F'\t' '$2 !~ /^text/ { s += $3 } END { print s + 0 }' "$tmp/r")
awk -v c="$ct" -v r="$rt" -v cd="$cd_" -v rd="$rd" 'BEGIN {
	printf "\ntext: C %d (%.1f KB), Rust %d (%.1f KB): Rust/C %.2fx; 1.25x would be %d (%d to cut)\n",
		c, c / 1024, r, r / 1024, c ? r / c : 0, c * 1.25, r - c * 1.25
	printf "data: C %d, Rust %d: Rust/C %.2fx\n", cd, rd, cd ? rd / cd : 0 }'

echo
echo "Rust side, text by where it is (kernel::bpf by its submodule):"
awk -F'\t' '$2 ~ /^text/ {
		k = $1
		if (k == "kernel.o:bpf" && match($6, /kernel::bpf::[a-z_]+/)) k = substr($6, RSTART, RLENGTH)
		t[k] += $3; n[k]++ }
	END { for (k in t) printf "%d\t  %-30s %7d  %4d syms\n", t[k], k, t[k], n[k] }' "$tmp/r.d" |
	sort -rn | cut -f2-

echo
echo "Rust side, text by kind (first match: kCFI preamble, panic/fmt, drop glue, closure, generic instance, other):"
awk -F'\t' '$2 ~ /^text/ {
		d = $6
		if ($5 ~ /^__cfi_/) k = "kCFI preambles (__cfi_)"
		else if (d ~ /core::panicking|panic|bounds|slice_index_fail|fmt/) k = "panic/bounds/fmt names"
		else if (d ~ /drop_in_place/) k = "drop glue (drop_in_place)"
		else if (d ~ /\{closure/) k = "closures"
		else if (d ~ /::</ || d ~ /^<[^>]*<|^<[^ ]* as [^>]*</) k = "generic instances (type args)"
		else k = "other"
		t[k] += $3; n[k]++ }
	END { for (k in t) printf "%d\t  %-32s %7d  %4d syms\n", t[k], k, t[k], n[k] }' "$tmp/r.d" |
	sort -rn | cut -f2-
echo
echo "Rust side, symbols named like panic/bounds/slice_index_fail/fmt (in our objects):"
awk -F'\t' '$5 !~ /^__cfi_/ && $6 ~ /core::panicking|panic|bounds|slice_index_fail|fmt/ {
		printf "  %-12s %-12s %6d  %s\n", $1, $2, $3, $6; s += $3; n++ }
	END { printf "  total %d bytes in %d symbols\n", s, n }' "$tmp/r.d" | short

# Calls from our Rust functions into panic and formatting code (core.o,
# kernel.o): each is an inline cost at the call site, and a path that
# survived optimisation.
echo
echo "Rust side, call sites in our functions to panic/bounds/fmt code (anywhere):"
awk -F'\t' '$2 ~ /^text/ { print $5 }' "$tmp/r" | sort -u > "$tmp/ours"
while IFS=$'\t' read -r _ obj _; do
	case $obj in *.o) ;; *) continue ;; esac
	$OBJDUMP -dr --no-show-raw-insn "$r/$obj" | awk '
		/^[0-9a-f]+ <.*>:$/ { f = $2; gsub(/^<|>:$/, "", f); next }
		/R_X86_64_(PLT32|PC32)/ { t = $NF; sub(/[-+]0x[0-9a-f]+$/, "", t); print f "\t" t }'
done < <(objects "$r") | awk -F'\t' -v ours="$tmp/ours" '
	BEGIN { while ((getline l < ours) > 0) o[l] = 1 }
	o[$1] { print $2 }' > "$tmp/calls"
$CXXFILT < "$tmp/calls" | grep -E 'core::panicking|panic|bounds|slice_index_fail|fmt|overflow' |
	sort | uniq -c | sort -rn | short | sed 's/^/ /' || echo "  none"

echo
echo "Top 15 Rust functions by size:"
awk -F'\t' '$2 ~ /^text/' "$tmp/r.d" | sort -t$'\t' -k3,3nr | head -15 |
	awk -F'\t' '{ printf "  %6d %-7s %-12s %s\n", $3, $2, $1, $6 }' | short
