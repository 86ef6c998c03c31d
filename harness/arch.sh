# Sourced: what each arch we build for takes, for the one in ST_ARCH
# (x86_64 by default). On arm64 the guest's programs are cross-compiled
# with Debian's aarch64-linux-gnu gcc (or clang --target) against the
# multiarch arm64 libraries (harness/deps.sh installs both).
#   karch      the arch, as ST_ARCH names it
#   kbarch     kbuild's ARCH (its SRCARCH): also __TARGET_ARCH_<kbarch>
#              for BPF programs
#   kimage     the boot image, under the kernel's build folder
#   cross      CROSS_COMPILE prefix ("" for the host's arch)
#   triple     the target's GNU triple, also its multiarch library dir
karch=${ST_ARCH:-x86_64}
case "$karch" in
x86_64) kbarch=x86 kimage=arch/x86/boot/bzImage cross="" triple=x86_64-linux-gnu ;;
arm64) kbarch=arm64 kimage=arch/arm64/boot/Image cross=aarch64-linux-gnu- triple=aarch64-linux-gnu ;;
*) echo "unknown arch $karch" >&2; exit 1 ;;
esac

# busybox DIR DEST: a static busybox for the target at DEST; for another
# arch than the host's, from Debian's busybox-static package of that arch
# (unpacked in DIR: installing it would replace the host's).
busybox() {
	if [ -z "$cross" ]; then
		cp /bin/busybox "$2"
		return
	fi
	local deb="$1/busybox-$karch"
	if [ ! -x "$deb/bin/busybox" ]; then
		rm -rf "$deb" && mkdir -p "$deb"
		(cd "$deb" && apt-get download -q "busybox-static:$karch" >/dev/null 2>&1 &&
			dpkg-deb -x busybox-static_*.deb .) ||
			{ echo "userspace: cannot fetch busybox-static:$karch" >&2; return 1; }
	fi
	cp "$deb/bin/busybox" "$2"
}

# iproute_dash DIR ROOT: iproute2's ip and tc and dash (as /bin/sh) for the
# target in ROOT/bin. The host's for its own arch; for another, Debian's
# packages of that arch unpacked in DIR with the libraries they need and the
# host's multiarch set lacks (shared_libs then finds them in LIBROOT).
LIBROOT=
iproute_dash() {
	local dir=$1 root=$2 pkgs="iproute2 dash libbpf1 libbsd0 libmd0 libmnl0 libxtables12 libcap2"
	if [ -z "$cross" ]; then
		cp /sbin/ip /sbin/tc "$root/bin/"
		cp /bin/dash "$root/bin/sh"
		return
	fi
	local deb="$dir/iproute-$karch"
	if [ ! -x "$deb/root/sbin/tc" ]; then
		rm -rf "$deb" && mkdir -p "$deb/root"
		(cd "$deb" && for p in $pkgs; do apt-get download -q "$p:$karch" >/dev/null 2>&1 || exit 1; done &&
			for d in ./*.deb; do dpkg-deb -x "$d" root; done) ||
			{ echo "userspace: cannot fetch $pkgs for $karch" >&2; return 1; }
	fi
	cp "$deb/root/bin/ip" "$deb/root/sbin/tc" "$root/bin/"
	cp "$deb/root/bin/dash" "$root/bin/sh"
	LIBROOT=$deb/root
}

# shared_libs ROOT BIN...: copies the shared libraries BIN... need
# (transitively) and their ELF interpreter into ROOT at their paths, read
# from the ELF headers (ldd cannot run a foreign arch's binaries).
shared_libs() {
	local root=$1 todo lib path dest interp seen=" "
	shift
	todo=$(for b in "$@"; do readelf -d "$b" 2>/dev/null; done |
		sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
	for b in "$@"; do
		interp=$(readelf -l "$b" 2>/dev/null | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
		[ -n "$interp" ] || continue
		mkdir -p "$root$(dirname "$interp")"
		cp -L "$interp" "$root$interp"
	done
	while [ -n "$todo" ]; do
		set -- $todo
		todo=
		for lib in "$@"; do
			case "$seen" in *" $lib "*) continue ;; esac
			seen+="$lib "
			path=
			for d in /lib/$triple /usr/lib/$triple ${LIBROOT:+$LIBROOT/lib/$triple $LIBROOT/usr/lib/$triple}; do
				[ -e "$d/$lib" ] && { path=$d/$lib; break; }
			done
			[ -n "$path" ] || { echo "userspace: $lib not found for $triple" >&2; return 1; }
			dest=$path
			[ -z "$LIBROOT" ] || dest=${path#"$LIBROOT"}
			mkdir -p "$root$(dirname "$dest")"
			cp -L "$path" "$root$dest"
			todo+=" $(readelf -d "$path" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
		done
	done
}
