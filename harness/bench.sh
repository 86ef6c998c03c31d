#!/usr/bin/env bash
# make bench: the benchmarks (st_bench, see harness/guest/bench) on both
# implementations, ROUNDS boots of each kernel with the same QEMU settings.
# Prints per figure the median of each side and the median, min and max of
# the per-round ratios Rust/C, and keeps every round's output in DEST. The
# guests get one CPU (BENCH_SMP): TCG runs each vCPU as a host thread, and on
# a 2-core host two vCPUs share the cores with QEMU's own threads, which
# spread the ratios over 0.5-2.
#
# BENCH_PAIRED=1 (the default) boots the Rust and the C guest of a round at
# the same time, one per host core: whatever else loads the host then slows
# both alike, and each round's ratio compares runs made side by side.
# BENCH_PAIRED=0 boots them one after the other (Rust, C, Rust, C, ...).
#
# ICOUNT=1 adds ICOUNT_ROUNDS (3) rounds under QEMU's instruction counting
# (qemu.sh): the guest's clock then counts executed instructions, so every
# time figure becomes instructions per operation, which host load cannot
# move. Both tables go into the same summary. DEST/bench.svg plots the
# per-round ratios of both (bench-plot.py).
#
# usage: bench.sh RUST_OUT C_OUT ROUNDS DEST
set -u
here=$(cd "$(dirname "$0")" && pwd)
rust=$1 c=$2 rounds=$3 dest=$4
mkdir -p "$dest"
rm -rf "$dest"/round*.* "$dest/summary.txt" "$dest/wall" "$dest/icount" "$dest/ratios.tsv"
bad=0
paired=${BENCH_PAIRED:-1}

# boot KIND IMPL OUT ROUND: one guest; its verdict goes to DEST/KIND/roundR.IMPL.status.
boot() {
	local kind=$1 impl=$2 out=$3 r=$4 status icount=0 norand=
	# Under icount, norandmaps: user address space layouts (mmap base,
	# stack) come from the host's random numbers (RDRAND), and fork's page
	# table work varied with them by up to 6 % between rounds.
	[ "$kind" = icount ] && icount=1 norand=norandmaps
	# BENCH_SCXR: the sched_ext project's schedulers (make bench
	# SCX_RUST=1), added to the initramfs.
	local initrd=$out/initramfs.cpio.gz
	if [ -n "${BENCH_SCXR:-}" ]; then
		initrd=$out/initramfs-bench.cpio.gz
		cat "$out/initramfs.cpio.gz" "$BENCH_SCXR" > "$initrd"
	fi
	ST_INITRD=$initrd QEMU_QUIET=1 ICOUNT=$icount QEMU_SMP=${BENCH_SMP:-1} \
		KCMDLINE="tsc=reliable $norand ${KCMDLINE:-}" \
		"$here/qemu.sh" "$out" bench 1800 2>/dev/null
	status=$?
	tr -d '\r' < "$out/logs/bench.results" > "$dest/$kind/round$r.$impl" 2>/dev/null
	cp "$out/logs/bench.console" "$dest/$kind/round$r.$impl.console" 2>/dev/null
	echo "$status" > "$dest/$kind/round$r.$impl.status"
}

# verdict KIND IMPL ROUND: reports a failed guest, an error or a splat.
verdict() {
	local kind=$1 impl=$2 r=$3 status splat f="$dest/$1/round$3.$2"
	status=$(cat "$f.status")
	rm -f "$f.status"
	if [ "$status" != 0 ] || grep -q '^error' "$f"; then
		echo "bench: $kind round $r on $impl: guest status $status" >&2
		grep '^error' "$f" >&2
		bad=1
	fi
	if splat=$("$here/check-log.sh" "$f.console"); then :; else
		echo "bench: $kind round $r on $impl: kernel log has:" >&2
		echo "$splat" >&2
		bad=1
	fi
}

# rounds KIND N: N rounds of both kernels.
run_rounds() {
	local kind=$1 n=$2 r
	mkdir -p "$dest/$kind"
	for r in $(seq 1 "$n"); do
		if [ "$paired" = 1 ]; then
			boot "$kind" rust "$rust" "$r" &
			boot "$kind" c "$c" "$r" &
			wait
		else
			boot "$kind" rust "$rust" "$r"
			boot "$kind" c "$c" "$r"
		fi
		verdict "$kind" rust "$r"
		verdict "$kind" c "$r"
		echo "bench: $kind round $r/$n done" >&2
	done
}

# table KIND: the summary table of one kind of rounds; appends the per-round
# ratios to DEST/ratios.tsv. Under icount, time figures are turned into
# instructions per operation (the guest's nanosecond is one instruction):
# ns -> insns, µs -> 1000 insns, a rate per second -> 1e9 / rate insns per
# unit; figures that are not times (bytes, ratios of two times) are left out.
table() {
	local kind=$1
	awk -v kind="$kind" -v tsv="$dest/ratios.tsv" '
	function median(s, n,   a, i, j, t, k) {
		k = split(s, a, " ")
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		if (k == 0) return "-"
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	FNR == 1 {
		n = split(FILENAME, p, "."); impl = p[n]
		m = split(p[n - 1], q, "round"); round = q[m]
	}
	$1 == "bench" {
		name = $2; x = $3; u = $4; b = $5
		if (kind == "icount") {
			if (u ~ /^ns/) { sub(/^ns/, "insns", u) }
			else if (u ~ /^us/) { x = x * 1000; sub(/^us/, "insns", u) }
			else if (u == "MiB/s") { x = x > 0 ? 1e9 / (x * 1048576) : 0; u = "insns/byte" }
			else if (u ~ /\/s$/) {
				x = x > 0 ? 1e9 / x : 0; sub(/\/s$/, "", u)
				sub(/s$/, "", u); u = "insns/" u
			} else next
			b = "lower"
		}
		if (!(name in unit)) { order[++names] = name }
		unit[name] = u; better[name] = b
		val[name, impl] = val[name, impl] " " x
		v[name, impl, round] = x; rounds[round] = 1
	}
	END {
		printf "%-24s %-12s %14s %14s %9s %9s %9s  %s\n", "figure", "unit",
			"C median", "Rust median", "Rust/C", "min", "max", "better"
		for (i = 1; i <= names; i++) {
			name = order[i]; ratios = ""; lo = ""; hi = ""
			for (r in rounds)
				if ((name, "c", r) in v && (name, "rust", r) in v && v[name, "c", r] != 0) {
					x = v[name, "rust", r] / v[name, "c", r]
					ratios = ratios " " x
					if (lo == "" || x < lo) lo = x
					if (hi == "" || x > hi) hi = x
					printf "%s\t%s\t%s\t%.6f\t%s\n", kind, name, r, x, better[name] >> tsv
				}
			med = median(ratios)
			printf "%-24s %-12s %14.3f %14.3f %9s %9s %9s  %s\n", name, unit[name],
				median(val[name, "c"]), median(val[name, "rust"]),
				med == "-" ? "-" : sprintf("%.3f", med),
				lo == "" ? "-" : sprintf("%.3f", lo), hi == "" ? "-" : sprintf("%.3f", hi),
				better[name]
		}
	}' "$dest/$kind"/round*.rust "$dest/$kind"/round*.c
}

[ "$rounds" -gt 0 ] && run_rounds wall "$rounds"
icount_rounds=0
[ "${ICOUNT:-0}" = 1 ] && icount_rounds=${ICOUNT_ROUNDS:-3} && run_rounds icount "$icount_rounds"

{
	if [ "$paired" = 1 ]; then how="Rust and C side by side"; else how="alternating"; fi
	if [ "$rounds" -gt 0 ]; then
		echo "struct_ops benchmarks, wall clock: $rounds rounds per implementation, $how"
		echo "Guest timings under QEMU TCG (no KVM): absolute numbers mean little,"
		echo "compare the ratios. Ratio = Rust/C per round; 'better' says which way."
		echo
		table wall
	fi
	if [ "$icount_rounds" -gt 0 ]; then
		[ "$rounds" -gt 0 ] && echo
		echo "struct_ops benchmarks, instructions (QEMU -icount shift=0,sleep=off):"
		echo "$icount_rounds rounds per implementation; guest instructions per operation,"
		echo "timer interrupts and preemptions included; Rust/C per round."
		echo
		table icount
	fi
} | tee "$dest/summary.txt"
if [ -s "$dest/ratios.tsv" ]; then
	python3 "$here/bench-plot.py" "$dest/ratios.tsv" "$dest/bench.svg" &&
		echo "bench: plot in $dest/bench.svg"
fi
[ "$bad" = 0 ]
