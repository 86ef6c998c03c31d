# Sourced: progress lines for long phases (kernel builds, guest runs).
#
# progress PID LABEL TOTAL SECS CMD...: while PID runs, every 30 s says how
# far it is: "LABEL: N/TOTAL, elapsed 3:30, about 2:10 left", where N is
# what CMD prints (TOTAL 0: not known). The estimate comes from SECS, how
# long the phase took last time, if known (not 0), else from N/TOTAL. On a
# terminal it is one line, rewritten in place; into a log, plain lines. A
# phase that ends within 30 s prints nothing.
progress() {
	local pid=$1 label=$2 total=$3 secs=$4 start=$SECONDS n el left=-1 line tty=0
	shift 4
	[ -t 2 ] && tty=1
	while kill -0 "$pid" 2>/dev/null; do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
			sleep 2
			kill -0 "$pid" 2>/dev/null || break 2
		done
		n=$("$@" 2>/dev/null) || n=0
		el=$((SECONDS - start))
		line=$(printf '%s: %s%s, elapsed %d:%02d' "$label" "$n" \
			"$([ "$total" -gt 0 ] && echo "/$total")" $((el / 60)) $((el % 60)))
		if [ "$secs" -gt 0 ]; then
			left=$((secs > el ? secs - el : 0))
		elif [ "$total" -gt 0 ] && [ "$n" -gt 0 ] && [ "$n" -lt "$total" ]; then
			left=$((el * (total - n) / n))
		fi
		[ "$left" -ge 0 ] && line+=$(printf ', about %d:%02d left' $((left / 60)) $((left % 60)))
		left=-1
		if [ $tty = 1 ]; then printf '\r\033[K%s' "$line" >&2; else echo "$line" >&2; fi
	done
	[ $tty = 1 ] && [ $((SECONDS - start)) -ge 30 ] && printf '\r\033[K' >&2
	return 0
}
