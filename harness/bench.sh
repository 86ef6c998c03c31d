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
# usage: bench.sh RUST_OUT C_OUT ROUNDS DEST
set -u
here=$(cd "$(dirname "$0")" && pwd)
rust=$1 c=$2 rounds=$3 dest=$4
mkdir -p "$dest"
rm -f "$dest"/round*.* "$dest/summary.txt"
bad=0
paired=${BENCH_PAIRED:-1}

# boot IMPL OUT ROUND: one guest; its verdict goes to DEST/roundR.IMPL.status.
boot() {
	local impl=$1 out=$2 r=$3 status
	QEMU_SMP=${BENCH_SMP:-1} KCMDLINE="tsc=reliable ${KCMDLINE:-}" \
		"$here/qemu.sh" "$out" bench 900 2>/dev/null
	status=$?
	tr -d '\r' < "$out/logs/bench.results" > "$dest/round$r.$impl" 2>/dev/null
	echo "$status" > "$dest/round$r.$impl.status"
}

# verdict IMPL OUT ROUND: reports a failed guest, an error or a splat.
verdict() {
	local impl=$1 out=$2 r=$3 status splat
	status=$(cat "$dest/round$r.$impl.status")
	rm -f "$dest/round$r.$impl.status"
	if [ "$status" != 0 ] || grep -q '^error' "$dest/round$r.$impl"; then
		echo "bench: round $r on $impl: guest status $status" >&2
		grep '^error' "$dest/round$r.$impl" >&2
		bad=1
	fi
	if splat=$("$here/check-log.sh" "$out/logs/bench.console"); then :; else
		echo "bench: round $r on $impl: kernel log has:" >&2
		echo "$splat" >&2
		bad=1
	fi
}

for r in $(seq 1 "$rounds"); do
	if [ "$paired" = 1 ]; then
		boot rust "$rust" "$r" &
		boot c "$c" "$r" &
		wait
	else
		boot rust "$rust" "$r"
		boot c "$c" "$r"
	fi
	verdict rust "$rust" "$r"
	verdict c "$c" "$r"
	echo "bench: round $r/$rounds done" >&2
done

{
	if [ "$paired" = 1 ]; then how="Rust and C side by side"; else how="alternating"; fi
	echo "struct_ops benchmarks: $rounds rounds per implementation, $how"
	echo "Guest timings under QEMU TCG (no KVM): absolute numbers mean little,"
	echo "compare the ratios. Ratio = Rust/C per round; 'better' says which way."
	echo
	awk '
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
		name = $2
		if (!(name in unit)) { order[++names] = name }
		unit[name] = $4; better[name] = $5
		val[name, impl] = val[name, impl] " " $3
		v[name, impl, round] = $3; rounds[round] = 1
	}
	END {
		printf "%-22s %-9s %14s %14s %9s %9s %9s  %s\n", "figure", "unit",
			"C median", "Rust median", "Rust/C", "min", "max", "better"
		for (i = 1; i <= names; i++) {
			name = order[i]; ratios = ""; lo = ""; hi = ""
			for (r in rounds)
				if ((name, "c", r) in v && (name, "rust", r) in v && v[name, "c", r] != 0) {
					x = v[name, "rust", r] / v[name, "c", r]
					ratios = ratios " " x
					if (lo == "" || x < lo) lo = x
					if (hi == "" || x > hi) hi = x
				}
			med = median(ratios)
			printf "%-22s %-9s %14.3f %14.3f %9s %9s %9s  %s\n", name, unit[name],
				median(val[name, "c"]), median(val[name, "rust"]),
				med == "-" ? "-" : sprintf("%.3f", med),
				lo == "" ? "-" : sprintf("%.3f", lo), hi == "" ? "-" : sprintf("%.3f", hi),
				better[name]
		}
	}' "$dest"/round*.rust "$dest"/round*.c
} | tee "$dest/summary.txt"
[ "$bad" = 0 ]
