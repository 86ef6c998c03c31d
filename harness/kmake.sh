# Sourced: the one way we call kbuild. Needs $src and $out; the arch is
# ST_ARCH's (harness/arch.sh).
. "$(dirname "${BASH_SOURCE[0]}")/arch.sh"
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
export CCACHE_BASEDIR="$(dirname "$src")" CCACHE_NOHASHDIR=true CCACHE_COMPILERCHECK=content
export PATH="/usr/lib/llvm-19/bin:$PATH"
# 7.3 needs pahole >= 1.26: harness/deps.sh provides one.
pahole=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/trixie/bin/pahole
kmake() {
	make -C "$src" O="$out" ARCH="$kbarch" LLVM=-19 CC="ccache clang-19" PAHOLE="$pahole" \
		RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN="$HOME/.cargo/bin/bindgen" "$@"
}
