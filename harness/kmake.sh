# Sourced: the one way we call kbuild. Needs $src and $out; the arch is
# ST_ARCH's (harness/arch.sh).
. "$(dirname "${BASH_SOURCE[0]}")/arch.sh"
# clang of rustc's LLVM major (rustc-web 1.96: LLVM 22), so that
# CONFIG_RUST_INLINE_HELPERS can inline C's inline functions into Rust
# (kernel.config); bindgen parses with the same clang. series.py's KLLVM
# is the same.
kllvm=22
export LIBCLANG_PATH=/usr/lib/llvm-$kllvm/lib
export CCACHE_BASEDIR="$(dirname "$src")" CCACHE_NOHASHDIR=true CCACHE_COMPILERCHECK=content
export PATH="/usr/lib/llvm-$kllvm/bin:$PATH"
# 7.3 needs pahole >= 1.26: harness/deps.sh provides one.
pahole=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/trixie/bin/pahole
kmake() {
	make -C "$src" O="$out" ARCH="$kbarch" LLVM=-$kllvm CC="ccache clang-$kllvm" PAHOLE="$pahole" \
		RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc BINDGEN="$HOME/.cargo/bin/bindgen" "$@"
}
