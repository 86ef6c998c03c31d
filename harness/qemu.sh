#!/usr/bin/env bash
# Boots a kernel build under QEMU in one mode and carries back its output.
#   console log (ttyS0; arm64: ttyAMA0) -> $out/logs/$mode.console (and the terminal with -v)
#   results (ttyS1; arm64: hvc0)         -> $out/logs/$mode.results
# Exit status: the guest's, or 124 on timeout, 125 when the guest died.
#
# usage: qemu.sh OUT MODE [TIMEOUT_S] [-v]	(QEMU_SMP: CPUs, 3 by default;
# QEMU_QUIET=1: no progress lines; QEMU_MONITOR=PATH: the human monitor on
# that unix socket; QEMU_EXTRA: more QEMU arguments, split on spaces;
# ST_ARCH: x86_64 (the pc machine) or arm64 (the virt machine))
set -uo pipefail
out=$1 mode=$2 tmo=${3:-600} verbose=${4:-}
logs="$out/logs"
mkdir -p "$logs"
console="$logs/$mode.console" results="$logs/$mode.results"
rm -f "$console" "$results"

# Debug kernels poison freed slab objects and leave allocations unzeroed
# (see debug.config), so uninitialised reads see poison, not stale zeroes.
extra=
case "$out" in *-debug | *-debug-*) extra="slub_debug=P init_on_alloc=0" ;; esac
# loglevel=5: the console shows KERN_WARNING, where WARN() and lockdep
# print their reports (check-log.sh reads the console); info stays out.
# ICOUNT=1: QEMU's instruction counting. The guest's clock then advances
# one nanosecond per instruction executed (shift=0), and jumps to the next
# timer when the guest idles (sleep=off), whatever the host's load; it needs
# single-threaded TCG.
accel=()
[ "${ICOUNT:-0}" = 1 ] && accel=(-accel tcg,thread=single -icount shift=0,sleep=off)
# arm64: single-threaded TCG too. Debian 12's QEMU 7.2, multi-threaded,
# oopses every arm64 kernel, C's map as ours, at the same place of
# sched_ext's selftests (scx_root NULL in __scx_update_idle, after
# nohz_tick), as if a vCPU ran a static branch that had been patched
# back; single-threaded 7.2 and multi-threaded 10.0 (trixie's) run
# them clean (docs/arm64-kcfi.md). QEMU_ARM64_MTTCG=1: multi-threaded.
if [ "${ST_ARCH:-x86_64}" = arm64 ] && [ "${ICOUNT:-0}" != 1 ] && [ "${QEMU_ARM64_MTTCG:-0}" != 1 ]; then
	accel=(-accel tcg,thread=single)
fi
# arm64: virt has one UART (the console); the results go to a virtio
# console. pauth-impdef: TCG's QARMA pointer authentication costs much
# more than the implementation-defined one, which the guest cannot tell.
case "${ST_ARCH:-x86_64}" in
arm64)
	qemu=qemu-system-aarch64 kcons=ttyAMA0
	args=(-M virt -cpu max,pauth-impdef=on -kernel "$out/arch/arm64/boot/Image")
	res_dev=(-device virtio-serial-device -device virtconsole,chardev=res) ;;
*)
	# No LA57: with five-level paging (QEMU's max CPU has it), a KASAN
	# kernel once reported a wild access on an irq_desc lock (direct map at
	# ff11...) in an interrupt during boot, before any BPF: 7.3's early
	# KASAN with LA57 under TCG, not our code. Four levels, as most x86
	# machines run.
	qemu=qemu-system-x86_64 kcons=ttyS0
	args=(-cpu max,la57=off -kernel "$out/arch/x86/boot/bzImage")
	res_dev=(-device isa-serial,chardev=res) ;;
esac

# KVM=1 (x86_64, not with ICOUNT): the guest under KVM, many times faster
# than TCG, if a bounded probe shows that KVM boots this kernel: the
# kernel alone, which must reach its "no root" panic within 20 s (on some
# hosts /dev/kvm exists and the guest hangs after the BIOS). The verdict
# is kept in $out/logs/kvm-probe; where KVM fails, TCG runs, with a note.
kvm_boots() {
	local f="$logs/kvm-probe"
	if [ ! -f "$f" ] || [ "$f" -ot "${args[-1]}" ]; then
		timeout -k 2 20 $qemu -accel kvm -cpu host -m 512M -smp 1 -no-reboot \
			-kernel "${args[-1]}" -append "console=$kcons panic=-1" \
			-display none -monitor none -serial file:"$f.console" < /dev/null > /dev/null 2>&1
		if grep -q 'Kernel panic' "$f.console" 2>/dev/null; then echo yes; else echo no; fi > "$f"
	fi
	[ "$(cat "$f")" = yes ]
}
if [ "${KVM:-0}" = 1 ] && [ "${ICOUNT:-0}" != 1 ] && [ "${ST_ARCH:-x86_64}" = x86_64 ]; then
	if [ -w /dev/kvm ] && kvm_boots; then
		accel=(-accel kvm)
		args[1]=host
	else
		echo "qemu: KVM=1, but KVM does not boot a guest here (probe: $logs/kvm-probe.console): TCG" >&2
	fi
fi
# Three CPUs, the last one full-dynticks (nohz_full): sched_ext's
# cyclic_kick_wait needs three, its nohz_tick a nohz_full CPU.
smp=${QEMU_SMP:-3}
nohz=
[ "$smp" -ge 3 ] && nohz="nohz_full=$((smp - 1))"
args+=("${accel[@]}" -m 2G -smp "$smp" -no-reboot -initrd "${ST_INITRD:-$out/initramfs.cpio.gz}"
      -append "console=$kcons panic=-1 oops=panic quiet loglevel=5 stmode=$mode $extra $nohz ${ST_IMPL:+st_impl=$ST_IMPL} ${ST_TCP:+st_tcp=$ST_TCP} ${KCMDLINE:-}")
monitor=none
# After the results port, so that it stays ttyS1.
# shellcheck disable=SC2206 # QEMU_EXTRA is a list of arguments
extra_args=(${QEMU_EXTRA:-})
[ -n "${QEMU_MONITOR:-}" ] && monitor="unix:$QEMU_MONITOR,server=on,wait=off"
if [ "$mode" = shell ]; then
	exec $qemu "${args[@]}" -nographic
fi
start=$(date +%s.%N)
if [ -n "$verbose" ]; then
	timeout --foreground -k 5 "$tmo" $qemu "${args[@]}" -display none \
		-monitor none -serial stdio \
		-chardev file,id=res,path="$results" "${res_dev[@]}" \
		< /dev/null | tee "$console" | grep --line-buffered -v '^rust_doctests_kernel: '
	rc=${PIPESTATUS[0]}
else
	timeout -k 5 "$tmo" $qemu "${args[@]}" -display none -serial file:"$console" \
		-chardev file,id=res,path="$results" "${res_dev[@]}" \
		-monitor "$monitor" "${extra_args[@]}" < /dev/null > /dev/null &
	qpid=$! qstart=$SECONDS
	# Progress every 30 s: result lines so far, out of the last run's, and the
	# time left by the last run's duration.
	if [ -z "${QEMU_QUIET:-}" ]; then
		. "$(dirname "$0")/progress.sh"
		progress $qpid "guest: $mode: results" "$(cat "$logs/$mode.count" 2>/dev/null || echo 0)" \
			"$(cat "$logs/$mode.secs" 2>/dev/null || echo 0)" \
			grep -cE '^(not )?ok ' "$results"
	fi
	wait $qpid
	rc=$?
	if [ $rc = 0 ]; then
		grep -cE '^(not )?ok ' "$results" > "$logs/$mode.count"
		echo $((${SECONDS} - qstart)) > "$logs/$mode.secs"
	fi
fi
end=$(date +%s.%N)
printf 'guest: %s mode ran %.1f s\n' "$mode" "$(echo "$end - $start" | bc)" >&2
[ $rc = 124 ] && { echo "guest: timed out after $tmo s" >&2; exit 124; }
status=$(tr -d '\r' < "$console" | sed -n 's/^GUEST-EXIT \([0-9]*\)$/\1/p' | tail -1)
[ -n "$status" ] || { echo "guest: died without reporting (see $console)" >&2; exit 125; }
exit "$status"
