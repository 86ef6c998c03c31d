# Sourced: the one way we call kbuild. Needs $src and $out; the arch is
# ST_ARCH's (x86_64 by default). Sets karch and kimage (the boot image's
# path under $out).
karch=${ST_ARCH:-x86_64}
case "$karch" in
x86_64) kimage=arch/x86/boot/bzImage kbarch=x86 ;;
arm64) kimage=arch/arm64/boot/Image kbarch=arm64 ;;
*) echo "kmake: unknown arch $karch" >&2; exit 1 ;;
esac
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
export CCACHE_BASEDIR="$(dirname "$src")" CCACHE_NOHASHDIR=true CCACHE_COMPILERCHECK=content
export PATH="/usr/lib/llvm-19/bin:$PATH"
kmake() {
	make -C "$src" O="$out" ARCH="$kbarch" LLVM=-19 CC="ccache clang-19" \
		RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN="$HOME/.cargo/bin/bindgen" "$@"
}
