// SPDX-License-Identifier: GPL-2.0

//! Calling, from Rust, the ops BPF programs implement.

use super::{Published, StructOpsTable, StructOpsType};
use crate::{
    bindings,
    bpf::btf::{ArgTag, Btf, BtfType},
    error::{code::*, Result},
    str::CStr,
    sync::atomic::{Atomic, Relaxed},
    transmute::AsBytes,
};
use core::{ffi::c_void, marker::PhantomData, mem::size_of, ptr::NonNull};

/// What an argument or the return value of an op is, as BTF must agree.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum Kind {
    /// No value: a `void` return.
    Void,
    /// An integer or enum of `size` bytes.
    Int {
        /// Its size.
        size: usize,
        /// Whether it is signed.
        signed: bool,
    },
    /// A pointer to the struct `name` of `size` bytes, NULL if `nullable`.
    Ptr {
        /// The name of the struct in BTF.
        name: &'static CStr,
        /// Its size.
        size: usize,
        /// Whether the caller may pass NULL.
        nullable: bool,
    },
    /// The enum `name` of `size` bytes.
    Enum {
        /// The name of the enum in BTF.
        name: &'static CStr,
        /// Its size.
        size: usize,
        /// Whether it is signed.
        signed: bool,
    },
}

mod private {
    pub trait SealedArg {}
    pub trait SealedArgs {}
    pub trait SealedRet {}
    pub trait SealedRepr {}
}

/// The integer an [`OpEnum`] wraps.
pub trait EnumRepr: private::SealedRepr {
    #[doc(hidden)]
    const SIGNED: bool;
}

/// An argument of an op of struct_ops type `T`: an integer, an [`Enum`], or
/// a pointer: [`Ref`], [`ConstRef`], [`Nullable`] or [`ConstNullable`].
pub trait OpArg<T>: private::SealedArg {
    /// What C takes.
    type Raw: Copy;
    /// What a Rust caller gives.
    type Value<'a>;
    #[doc(hidden)]
    const KIND: Kind;
    #[doc(hidden)]
    fn into_raw(v: Self::Value<'_>) -> Self::Raw;
}

/// The return value of an op: `()`, or an integer of 64 bits, or of 32 on
/// x86_64 and arm64.
pub trait OpRet: private::SealedRet {
    #[doc(hidden)]
    const KIND: Kind;
    #[doc(hidden)]
    const ZERO: Self;
}

impl private::SealedRet for () {}
impl OpRet for () {
    const KIND: Kind = Kind::Void;
    const ZERO: () = ();
}

macro_rules! int_kind {
    ($($t:ty: $signed:literal),*) => {$(
        impl private::SealedArg for $t {}
        impl<T> OpArg<T> for $t {
            type Raw = $t;
            type Value<'a> = $t;
            const KIND: Kind = Kind::Int { size: size_of::<$t>(), signed: $signed };
            #[inline(always)]
            fn into_raw(v: $t) -> $t {
                v
            }
        }
    )*};
}
int_kind!(i8: true, u8: false, i16: true, u16: false, i32: true, u32: false, i64: true, u64: false);

macro_rules! enum_repr {
    ($($t:ty: $signed:literal),*) => {$(
        impl private::SealedRepr for $t {}
        impl EnumRepr for $t {
            const SIGNED: bool = $signed;
        }
    )*};
}
enum_repr!(
    i8: true, u8: false, i16: true, u16: false, i32: true, u32: false, i64: true, u64: false
);

// Returns of 64 bits, and of 32 where the trampoline and the caller agree on
// the upper bits. Nothing checks the range of what a struct_ops program
// returns (the verifier does not for these programs), and the trampoline
// hands back the whole `r0`. Callers built by clang and rustc take an 8- or
// 16-bit return as already extended (`zeroext`/`signext`) on x86_64, and
// every return narrower than a register as extended on powerpc64: a
// program returning 0x1ff for a `u8` would make a `u8` that is not one.
// On x86_64 and arm64 a 32-bit return's upper half is ignored by callers;
// other arches' trampolines extend or not, case by case, so none is
// offered there.
macro_rules! ret_kind {
    ($($t:ty: $signed:literal),*) => {$(
        impl private::SealedRet for $t {}
        impl OpRet for $t {
            const KIND: Kind = Kind::Int { size: size_of::<$t>(), signed: $signed };
            const ZERO: $t = 0;
        }
    )*};
}
ret_kind!(i64: true, u64: false);
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
ret_kind!(i32: true, u32: false);

/// A C struct that Rust passes the ops of struct_ops type `T` by pointer, as
/// a `&Self`.
///
/// # Safety
///
/// `Self` is the C struct BTF names [`OpPointee::NAME`] (bindgen's, or a
/// `#[repr(C)]` mirror), and every `&Self` safe code can hold may be given
/// to the programs of `T`, for which a live shared borrow is enough: no
/// kfunc or helper they have writes it, needs its lock, takes a reference on
/// it or keeps its pointer past the call, and `T`'s `is_valid_access` does
/// not promote a pointer to it to a struct they may write, as TCP's does
/// `sock` to `tcp_sock` (`T`'s writable struct itself is refused when the op
/// is checked). [`AsBytes`]: programs read every byte (padding they could
/// copy out), and Rust must not change any meanwhile (no interior
/// mutability).
pub unsafe trait OpPointee<T: StructOpsType>: AsBytes + 'static {
    /// The struct's name in BTF.
    const NAME: &'static CStr;
}

/// A pointer to a `P` that is never NULL: programs may dereference it
/// unchecked. The stub's parameter may be `__nullable` (programs then check
/// it anyway), but not `__ref` (the program would own a reference the Rust
/// caller only lends) nor an arena pointer.
pub struct Ref<P>(PhantomData<P>);

impl<P> private::SealedArg for Ref<P> {}
impl<T: StructOpsType, P: OpPointee<T>> OpArg<T> for Ref<P> {
    type Raw = *mut P;
    type Value<'a> = &'a P;
    const KIND: Kind = Kind::Ptr {
        name: P::NAME,
        size: size_of::<P>(),
        nullable: false,
    };
    #[inline(always)]
    fn into_raw(v: &P) -> *mut P {
        NonNull::from(v).as_ptr()
    }
}

/// A [`Ref`] for a parameter C declares `const`: the same pointer, whose
/// kCFI type (`*const P`) is the C function pointer's.
pub struct ConstRef<P>(PhantomData<P>);

impl<P> private::SealedArg for ConstRef<P> {}
impl<T: StructOpsType, P: OpPointee<T>> OpArg<T> for ConstRef<P> {
    type Raw = *const P;
    type Value<'a> = &'a P;
    const KIND: Kind = <Ref<P> as OpArg<T>>::KIND;
    #[inline(always)]
    fn into_raw(v: &P) -> *const P {
        v
    }
}

/// A pointer to a `P` that may be NULL: the stub's parameter must be
/// `__nullable` (not `__arena__nullable`), which makes the verifier refuse
/// programs that dereference it unchecked.
pub struct Nullable<P>(PhantomData<P>);

impl<P> private::SealedArg for Nullable<P> {}
impl<T: StructOpsType, P: OpPointee<T>> OpArg<T> for Nullable<P> {
    type Raw = *mut P;
    type Value<'a> = Option<&'a P>;
    const KIND: Kind = Kind::Ptr {
        name: P::NAME,
        size: size_of::<P>(),
        nullable: true,
    };
    #[inline(always)]
    fn into_raw(v: Option<&P>) -> *mut P {
        v.map_or(core::ptr::null_mut(), |v| NonNull::from(v).as_ptr())
    }
}

/// A [`Nullable`] for a parameter C declares `const`, as [`ConstRef`] is a
/// [`Ref`].
pub struct ConstNullable<P>(PhantomData<P>);

impl<P> private::SealedArg for ConstNullable<P> {}
impl<T: StructOpsType, P: OpPointee<T>> OpArg<T> for ConstNullable<P> {
    type Raw = *const P;
    type Value<'a> = Option<&'a P>;
    const KIND: Kind = <Nullable<P> as OpArg<T>>::KIND;
    #[inline(always)]
    fn into_raw(v: Option<&P>) -> *const P {
        v.map_or(core::ptr::null(), core::ptr::from_ref)
    }
}

/// A C enum that Rust passes the ops of struct_ops type `T`, as bindgen's
/// `--newtype-enum` gives it: a struct of one integer, which under kCFI
/// carries the C enum's encoding (`#[cfi_encoding]`, set for an enum in
/// `rust/bindgen_parameters`: modules cannot set it themselves).
///
/// A newtype without that encoding is safe: rustc then encodes the integer,
/// and the op is refused under kCFI. `T` is there so that a module may
/// implement the trait for a type of the bindings crate.
///
/// # Safety
///
/// `Self` is `#[repr(transparent)]` over [`OpEnum::Repr`], so C passes it
/// as it passes that integer (the enum's size and signedness are checked
/// against BTF's enum [`OpEnum::NAME`]).
pub unsafe trait OpEnum<T: StructOpsType>: Copy + 'static {
    /// The integer `Self` wraps, as bindgen declares it.
    type Repr: EnumRepr;
    /// The enum's name in BTF.
    const NAME: &'static CStr;
}

/// An argument C declares as the enum `E`. An integer where C has an enum
/// agrees with BTF, but not with kCFI: rustc encodes an integer, clang the
/// enum's name, so under kCFI only an `Enum` is called.
pub struct Enum<E>(PhantomData<E>);

impl<E> private::SealedArg for Enum<E> {}
impl<T: StructOpsType, E: OpEnum<T>> OpArg<T> for Enum<E> {
    type Raw = E;
    type Value<'a> = E;
    const KIND: Kind = Kind::Enum {
        name: E::NAME,
        // A size no enum has (so the op is refused) if `E` is not as large
        // as its `Repr`, as the contract says it is.
        size: if size_of::<E>() == size_of::<E::Repr>() {
            size_of::<E>()
        } else {
            0
        },
        signed: <E::Repr as EnumRepr>::SIGNED,
    };
    #[inline(always)]
    fn into_raw(v: E) -> E {
        v
    }
}

/// The arguments of an op of type `T` returning `R`: a tuple of up to four
/// [`OpArg`]s.
pub trait OpArgs<T, R>: private::SealedArgs {
    /// The C function pointer.
    type Fn: Copy;
    /// What a Rust caller gives: a tuple of the arguments' values.
    type Values<'a>;
    #[doc(hidden)]
    const KINDS: &'static [Kind];
    /// Calls `f` with `v`.
    ///
    /// # Safety
    ///
    /// `f` is a function of this prototype that may be called here.
    #[doc(hidden)]
    unsafe fn call(f: Self::Fn, v: Self::Values<'_>) -> R;
    /// A Rust function of type [`OpArgs::Fn`], never called: under kCFI
    /// its hash is the one Rust's calls through `Fn` check.
    #[doc(hidden)]
    fn probe() -> *const c_void;
}

macro_rules! op_args {
    ($($a:ident),*) => {
        impl<$($a),*> private::SealedArgs for ($($a,)*) {}
        impl<T, R: OpRet, $($a: OpArg<T>),*> OpArgs<T, R> for ($($a,)*) {
            type Fn = unsafe extern "C" fn($($a::Raw),*) -> R;
            type Values<'a> = ($($a::Value<'a>,)*);
            const KINDS: &'static [Kind] = &[$($a::KIND),*];
            #[inline(always)]
            #[allow(non_snake_case)]
            unsafe fn call(f: Self::Fn, v: Self::Values<'_>) -> R {
                let ($($a,)*) = v;
                // SAFETY: The caller's promise.
                unsafe { f($($a::into_raw($a)),*) }
            }
            #[inline]
            fn probe() -> *const c_void {
                /// Never called: only its kCFI hash is read.
                ///
                /// # Safety
                ///
                /// None: it ignores its arguments (`unsafe` to have the type
                /// of `Fn`).
                // `T` goes unused when there are no arguments.
                #[allow(non_snake_case, clippy::extra_unused_type_parameters)]
                unsafe extern "C" fn probe<T, R: OpRet, $($a: OpArg<T>),*>(
                    $(_: $a::Raw),*
                ) -> R {
                    R::ZERO
                }
                let f: Self::Fn = probe::<T, R, $($a),*>;
                f as *const c_void
            }
        }
    };
}
op_args!();
op_args!(A);
op_args!(A, B);
op_args!(A, B, C);
op_args!(A, B, C, D);

/// What [`Op::resolved`] holds before the op was checked.
const UNCHECKED: usize = 0;
/// What [`Op::resolved`] holds when BTF disagrees with the op.
const REFUSED: usize = usize::MAX;
/// The bit of [`Op::resolved`] set for a member sleepable programs may
/// implement.
const SLEEPABLE: usize = 1;

/// An op of struct_ops type `T` that Rust calls: the member `name`, a
/// function taking `A` (a tuple of [`OpArg`]s) and returning `R`.
///
/// The first call checks the declaration against the BTF the type registered
/// with, the only layout the BPF core knows: the member is a function
/// pointer of as many arguments, each an integer (or enum) of the same size
/// and signedness, an [`Enum`] that is the enum [`OpEnum::NAME`] of the
/// same size and signedness, or a pointer to the struct [`OpPointee::NAME`]
/// of the same size that is not the type's writable struct, a [`Nullable`]
/// or [`ConstNullable`] one only where the stub's parameter is `__nullable`,
/// none where it is `__ref`, `__arena` or `__arena__nullable` (Rust lends
/// its pointers, and they do not point into an arena), and the same return.
/// Calls of a declaration BTF disagrees with fail with `EINVAL`.
///
/// Under kCFI, the trampoline carries the hash of the C stub's type, and
/// Rust's call checks the hash of `A`'s function type, which rustc derives
/// from the Rust types: a pointee's own name (a `#[repr(C)]` mirror must be
/// named as the C struct is), `*mut` or `*const` ([`ConstRef`],
/// [`ConstNullable`]) as C has it, an [`Enum`] where C has an enum (whose
/// `#[cfi_encoding]` names it as clang does). The first call also compares
/// the two hashes (those of the stub and of a Rust function of `A`'s type),
/// and a declaration whose hash differs is refused as above, rather than
/// trapping. An enum behind a `typedef` of an anonymous enum cannot be
/// called under kCFI (clang encodes the typedef's name, BTF has none).
///
/// # Examples
///
/// Not compiled: `MyType` and `struct my_arg` stand for a type and a struct
/// of its C half, which a doctest cannot have. The Rust test module in
/// `tools/testing/selftests/bpf/test_kmods/` is a whole type whose ops Rust
/// calls.
///
/// ```ignore
/// // SAFETY: `struct my_arg`, plain integers; `MyType`'s programs can only
/// // read it (no writable fields, kfuncs or promotion).
/// unsafe impl OpPointee<MyType> for bindings::my_arg {
///     const NAME: &'static CStr = c"my_arg";
/// }
///
/// static CALC: Op<MyType, (u32, Nullable<bindings::my_arg>), u32> = Op::new(c"calc");
///
/// fn calc(ops: &Published<MyType>, x: u32) -> Result<Option<u32>> {
///     CALC.call(ops, (x, None))
/// }
/// ```
///
/// # Invariants
///
/// `resolved` is `UNCHECKED`, `REFUSED`, or `((off + 1) << 1) | s`, where
/// `off` is the offset of the member `name` of the ops struct in the BTF `T`
/// registered with, which `resolve_member` found to be a byte- and
/// pointer-aligned function pointer inside that struct (as large as
/// `T::Ops`) whose prototype agrees with `A` and `R`, and whose stub's kCFI
/// hash is `A::Fn`'s; `s` is `SLEEPABLE` when `name` is one of
/// `T::SLEEPABLE`, else 0.
pub struct Op<T, A, R> {
    name: &'static CStr,
    /// [`UNCHECKED`], [`REFUSED`], or the member's offset plus one shifted
    /// left by one, [`SLEEPABLE`] set for a sleepable member.
    resolved: Atomic<usize>,
    _type: PhantomData<fn(&T, A) -> R>,
}

impl<T: StructOpsType, A: OpArgs<T, R>, R: OpRet> Op<T, A, R> {
    /// The op of member `name`.
    pub const fn new(name: &'static CStr) -> Self {
        // INVARIANT: Not checked yet.
        Self {
            name,
            resolved: Atomic::new(UNCHECKED),
            _type: PhantomData,
        }
    }

    /// Calls the op of `ops` with `args`: `Ok(None)` when the map leaves the
    /// member NULL or its first registration has not completed (its `reg`,
    /// for a map without `BPF_F_LINK`; a `BPF_F_LINK` map is ready before
    /// its `reg` and `update`, which may call it), else what the program
    /// returned. A sleepable member is called after `might_sleep()`.
    #[inline]
    pub fn call(&self, ops: &Published<T>, args: A::Values<'_>) -> Result<Option<R>> {
        Ok(self.bind(ops)?.map(|op| op.call(args)))
    }

    /// The op of `ops`, to call many times while `ops` is borrowed, as a
    /// subsystem keeps a function pointer: `Ok(None)` when
    /// [`Op::call`] would return it.
    #[inline]
    pub fn bind<'a>(&self, ops: &'a Published<T>) -> Result<Option<BoundOp<'a, T, A, R>>> {
        let (off, sleepable) = self.resolved()?;
        if !ops.registration_done() {
            return Ok(None);
        }
        // SAFETY: `resolved` checked that `off` is a function pointer's, in
        // the struct BTF gives as many bytes as `T::Ops` (`register`), so in
        // `ops`; the core wrote it before the registration was done
        // (acquire, above) and nothing writes it later.
        let f = unsafe {
            ops.as_ptr()
                .cast::<u8>()
                .add(off)
                .cast::<Option<A::Fn>>()
                .read()
        };
        // INVARIANT: `f` was read at the offset `resolve` checked, of a value
        // whose registration is done, and its type agrees with `A` and `R`.
        Ok(f.map(|f| BoundOp {
            f,
            sleepable,
            _ops: PhantomData,
        }))
    }

    /// The member's offset, and whether it is sleepable, checked against
    /// BTF on the first call.
    #[inline]
    fn resolved(&self) -> Result<(usize, bool)> {
        let r = self.resolved.load(Relaxed);
        match r {
            REFUSED => Err(EINVAL),
            UNCHECKED => self.resolve(),
            _ => Ok(((r >> 1).saturating_sub(1), r & SLEEPABLE != 0)),
        }
    }

    #[cold]
    fn resolve(&self) -> Result<(usize, bool)> {
        let table: &StructOpsTable<T> = T::table();
        // Not registered yet: nothing to call, and nothing to cache.
        let info = table.resolve_info().ok_or(EINVAL)?;
        let stubs = info.stubs;
        let checked = resolve_member(info, self.name, A::KINDS, R::KIND)
            .map_err(|_| "disagrees with BTF")
            .and_then(|off| {
                // SAFETY: `stubs` is the type's stubs struct, as large as the
                // ops struct, and `off` a pointer-aligned member offset inside
                // it (checked by `resolve_member`).
                if unsafe { cfi_hash_matches(stubs, off, A::probe()) } {
                    Ok(off)
                } else {
                    Err("has another kCFI type than the member's stub")
                }
            });
        match checked {
            Ok(off) => {
                let sleepable = T::SLEEPABLE.has(self.name);
                let v = ((off + 1) << 1) | usize::from(sleepable);
                // INVARIANT: `off` passed both checks above.
                self.resolved.store(v, Relaxed);
                Ok((off, sleepable))
            }
            Err(why) => {
                refused(T::NAME, self.name, why);
                self.resolved.store(REFUSED, Relaxed);
                Err(EINVAL)
            }
        }
    }
}

/// Says why an [`Op`] of type `ty` is refused; not generic.
#[inline]
#[cold]
fn refused(ty: &CStr, op: &CStr, why: &str) {
    crate::pr_err!("bpf: struct_ops {}: Rust's call of {} {}\n", ty, op, why);
}

/// An [`Op`] of a map whose struct is borrowed for `'a`: its trampoline.
///
/// # Invariants
///
/// `f` is the trampoline of a program for the member, in a value whose first
/// registration is done, which the borrow keeps alive; `A` and `R` agree
/// with the member's prototype in BTF (an [`Enum`] is an integer of the
/// enum's size and signedness, as its [`OpEnum`] impl promises), and
/// `A::Fn`'s kCFI type with the trampoline's; `sleepable` says whether the
/// member is one of `T::SLEEPABLE`.
pub struct BoundOp<'a, T: StructOpsType, A: OpArgs<T, R>, R> {
    f: A::Fn,
    sleepable: bool,
    _ops: PhantomData<&'a Published<T>>,
}

impl<T: StructOpsType, A: OpArgs<T, R>, R: OpRet> BoundOp<'_, T, A, R> {
    /// Calls the op with `args`, after `might_sleep()` for a sleepable
    /// member, and returns what the program returned.
    #[inline]
    pub fn call(&self, args: A::Values<'_>) -> R {
        if self.sleepable {
            crate::task::might_sleep();
        }
        // The trampoline takes the prototype BTF gives the member: `A`'s
        // integers and enums (`OpEnum`: integers C passes as it passes the
        // enum) have its sizes and signedness, its pointers are live
        // references to values fit for programs (`OpPointee`), NULL only
        // where the verifier makes programs check. Programs run under the
        // trampoline's own RCU protection; sleepable ones only for members
        // of `T::SLEEPABLE`, whose contract is a caller that may sleep.
        //
        // SAFETY: `f` is a live trampoline of the member, `A` and `R` agree
        // with its prototype (type invariant), as said above.
        unsafe { A::call(self.f, args) }
    }
}

/// What [`resolve_member`] needs of a registered type.
///
/// # Invariants
///
/// `btf` is the BTF the type registered with, `ops` its ops struct there and
/// `writable` its writable struct there, if any; `stubs` points to the
/// type's CFI stubs, a never-written C struct of `ops.size()` bytes.
pub(super) struct TypeInfo<'a> {
    /// The BTF it registered with.
    pub(super) btf: &'a Btf,
    /// Its ops struct there.
    pub(super) ops: &'a BtfType,
    /// Its writable struct there, if any.
    pub(super) writable: Option<&'a BtfType>,
    /// Its CFI stubs: a C struct of `ops.size()` bytes.
    pub(super) stubs: *const u8,
}

/// The offset of member `name` of the type's ops struct, once its prototype
/// is checked against `args` and `ret` (see [`Op`]).
// Not inline: it calls BTF and kallsyms functions C does not export to
// modules, whose `Op`s call it.
fn resolve_member(info: TypeInfo<'_>, name: &CStr, args: &[Kind], ret: Kind) -> Result<usize> {
    let TypeInfo {
        btf,
        ops,
        writable,
        stubs,
    } = info;
    let m = ops
        .members()
        .find(|m| btf.name_by_offset(m.name_off()) == name)
        .ok_or(EINVAL)?;
    let off = m.offset();
    let ptr_size = size_of::<usize>();
    if !m.is_byte_aligned() || off % ptr_size != 0 || off + ptr_size > ops.size() as usize {
        return Err(EINVAL);
    }
    let proto = btf.resolve_func_ptr(m.type_id()).ok_or(EINVAL)?;
    let params = proto.params();
    if params.len() != args.len() || !kind_matches(btf, proto.type_id(), ret, writable) {
        return Err(EINVAL);
    }
    let mut stub = None;
    for (i, (p, kind)) in params.iter().zip(args).enumerate() {
        if !kind_matches(btf, p.type_, *kind, writable) {
            return Err(EINVAL);
        }
        if let Kind::Ptr { nullable, .. } = *kind {
            // SAFETY: `stubs` is the type's stubs struct, as large as the ops
            // struct (the table's contract), and `off` a pointer-aligned
            // offset inside it (checked above).
            let stub =
                *stub.get_or_insert_with(|| unsafe { stubs.add(off).cast::<usize>().read() });
            let fits = match stub_param_tag(btf, stub, i) {
                // Untagged, or no stub found: never NULL.
                None => !nullable,
                Some(ArgTag::Nullable) => true,
                Some(ArgTag::Ref | ArgTag::Arena | ArgTag::ArenaNullable) => false,
            };
            if !fits {
                return Err(EINVAL);
            }
        }
    }
    Ok(off)
}

/// Whether Rust's calls through a function like `probe` pass the kCFI check
/// of the trampolines of the member at `off`, which carry the hash of the
/// member's CFI stub (both hashes are 0 without kCFI). A member without a
/// stub has no trampolines.
///
/// # Safety
///
/// `stubs` points to the type's stubs struct, and `off` is the offset of a
/// pointer-aligned member inside it.
// Not inline: `bpf_cfi_func_hash()` is a helper that may be inlined into
// its caller (`CONFIG_RUST_INLINE_HELPERS`), and then calls
// `cfi_get_func_hash()`, which C does not export to modules, whose `Op`s
// call this.
unsafe fn cfi_hash_matches(stubs: *const u8, off: usize, probe: *const c_void) -> bool {
    // SAFETY: The caller's promise.
    let stub = unsafe { stubs.add(off).cast::<*mut c_void>().read() };
    if stub.is_null() {
        return true;
    }
    // SAFETY: `cfi_get_func_hash()` reads a function's preamble, with
    // `get_kernel_nofault()`; `stub` is a C function, `probe` a Rust one.
    unsafe { bindings::bpf_cfi_func_hash(stub) == bindings::bpf_cfi_func_hash(probe.cast_mut()) }
}

/// Whether BTF type `id` is what `kind` says.
// Not inline: it calls BTF and kallsyms functions C does not export to
// modules, whose `Op`s call it.
fn kind_matches(btf: &Btf, id: u32, kind: Kind, writable: Option<&BtfType>) -> bool {
    match kind {
        Kind::Void => id == 0,
        Kind::Int { size, signed } => btf.skip_modifiers(id).is_some_and(|(t, _)| {
            (t.is_plain_int() || t.is_enum())
                && t.size() as usize == size
                && t.is_signed() == signed
        }),
        // Named: an anonymous enum or struct has the empty name.
        Kind::Enum { name, size, signed } => btf.skip_modifiers(id).is_some_and(|(t, _)| {
            t.is_enum()
                && t.size() as usize == size
                && t.is_signed() == signed
                && !name.is_empty()
                && btf.type_name(t) == name
        }),
        Kind::Ptr { name, size, .. } => btf.resolve_ptr(id).is_some_and(|(t, _)| {
            t.is_struct()
                && !name.is_empty()
                && t.size() as usize == size
                && btf.type_name(t) == name
                && !writable.is_some_and(|w| core::ptr::eq(w.as_raw(), t.as_raw()))
        }),
    }
}

/// The tag of parameter `index` of the CFI stub at `addr`, as the BPF core
/// decides it: the stub's name from kallsyms, its prototype from BTF, the
/// tag from the parameter's name ([`Btf::param_tag`]). `None` when the
/// parameter is untagged or the stub is not found.
// Not inline: it calls BTF and kallsyms functions C does not export to
// modules, whose `Op`s call it.
fn stub_param_tag(btf: &Btf, addr: usize, index: usize) -> Option<ArgTag> {
    let mut buf = [0u8; bindings::KSYM_SYMBOL_LEN];
    // SAFETY: `buf` is `KSYM_SYMBOL_LEN` bytes, as kallsyms wants; the
    // other outputs may be NULL.
    let name = unsafe {
        bindings::kallsyms_lookup(
            addr,
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            buf.as_mut_ptr().cast(),
        )
    };
    if name.is_null() {
        return None;
    }
    // kallsyms wrote the name into `buf`, NUL-terminated.
    let name = buf
        .iter()
        .position(|&b| b == 0)
        .and_then(|n| buf.get(..=n))
        .and_then(|b| CStr::from_bytes_with_nul(b).ok())?;
    let id = btf
        .find_by_name_kind(name, crate::bpf::btf::KIND_FUNC)
        .ok()?;
    let proto = btf
        .type_by_id(id)
        .and_then(|f| btf.type_by_id(f.type_id()))?;
    btf.param_tag(proto.params().get(index)?)
}
