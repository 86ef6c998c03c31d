// SPDX-License-Identifier: GPL-2.0

//! Calling, from Rust, the ops BPF programs implement.

use super::{Published, StructOpsTable, StructOpsType};
use crate::{
    bindings,
    bpf::btf::{Btf, BtfType},
    error::{code::*, Result},
    str::CStr,
    types::Opaque,
};
use core::{
    marker::PhantomData,
    mem::size_of,
    sync::atomic::{AtomicUsize, Ordering},
};

/// What an argument or the return value of an op is, as BTF must agree.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum Kind {
    /// No value: a `void` return.
    Void,
    /// An integer or enum of this many bytes.
    Int(usize),
    /// A pointer to a struct of `size` bytes, NULL if `nullable`.
    Ptr {
        /// The size of the struct.
        size: usize,
        /// Whether the caller may pass NULL.
        nullable: bool,
    },
}

mod private {
    pub trait SealedArg {}
    pub trait SealedArgs {}
    pub trait SealedRet {}
}

/// An argument of an op: an integer, a [`Ref`] or a [`Nullable`].
pub trait OpArg: private::SealedArg {
    /// What C takes.
    type Raw: Copy;
    /// What a Rust caller gives.
    type Value<'a>;
    #[doc(hidden)]
    const KIND: Kind;
    #[doc(hidden)]
    fn into_raw(v: Self::Value<'_>) -> Self::Raw;
}

/// The return value of an op: `()` or an integer.
pub trait OpRet: private::SealedRet {
    #[doc(hidden)]
    const KIND: Kind;
}

impl private::SealedRet for () {}
impl OpRet for () {
    const KIND: Kind = Kind::Void;
}

macro_rules! int_kind {
    ($($t:ty),*) => {$(
        impl private::SealedArg for $t {}
        impl OpArg for $t {
            type Raw = $t;
            type Value<'a> = $t;
            const KIND: Kind = Kind::Int(size_of::<$t>());
            #[inline(always)]
            fn into_raw(v: $t) -> $t {
                v
            }
        }
        impl private::SealedRet for $t {}
        impl OpRet for $t {
            const KIND: Kind = Kind::Int(size_of::<$t>());
        }
    )*};
}
int_kind!(i8, u8, i16, u16, i32, u32, i64, u64);

/// A pointer to a `T` that is never NULL: programs may dereference it
/// unchecked. The caller gives a `&Opaque<T>`, as programs may write it
/// where the type lets them.
pub struct Ref<T>(PhantomData<T>);

impl<T> private::SealedArg for Ref<T> {}
impl<T: 'static> OpArg for Ref<T> {
    type Raw = *mut T;
    type Value<'a> = &'a Opaque<T>;
    const KIND: Kind = Kind::Ptr {
        size: size_of::<T>(),
        nullable: false,
    };
    #[inline(always)]
    fn into_raw(v: &Opaque<T>) -> *mut T {
        v.get()
    }
}

/// A pointer to a `T` that may be NULL: the stub's parameter must be
/// `__nullable`, which makes the verifier refuse programs that dereference it
/// unchecked.
pub struct Nullable<T>(PhantomData<T>);

impl<T> private::SealedArg for Nullable<T> {}
impl<T: 'static> OpArg for Nullable<T> {
    type Raw = *mut T;
    type Value<'a> = Option<&'a Opaque<T>>;
    const KIND: Kind = Kind::Ptr {
        size: size_of::<T>(),
        nullable: true,
    };
    #[inline(always)]
    fn into_raw(v: Option<&Opaque<T>>) -> *mut T {
        v.map_or(core::ptr::null_mut(), Opaque::get)
    }
}

/// The arguments of an op returning `R`: a tuple of up to four [`OpArg`]s.
pub trait OpArgs<R>: private::SealedArgs {
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
}

macro_rules! op_args {
    ($($a:ident),*) => {
        impl<$($a: OpArg),*> private::SealedArgs for ($($a,)*) {}
        impl<R, $($a: OpArg),*> OpArgs<R> for ($($a,)*) {
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
/// pointer of as many arguments, each an integer of the same size or a
/// pointer to a struct of the same size, a [`Nullable`] one only where the
/// stub's parameter is `__nullable`, and the same return. Calls of a
/// declaration BTF disagrees with fail with `EINVAL`.
///
/// # Examples
///
/// ```ignore
/// static CALC: Op<MyType, (u32, Nullable<bindings::my_arg>), u32> = Op::new(c_str!("calc"));
///
/// fn calc(ops: &Published<MyType>, x: u32) -> Result<Option<u32>> {
///     CALC.call(ops, (x, None))
/// }
/// ```
pub struct Op<T, A, R> {
    name: &'static CStr,
    /// [`UNCHECKED`], [`REFUSED`], or the member's offset plus one shifted
    /// left by one, [`SLEEPABLE`] set for a sleepable member.
    resolved: AtomicUsize,
    _type: PhantomData<fn(&T, A) -> R>,
}

impl<T: StructOpsType, A: OpArgs<R>, R: OpRet> Op<T, A, R> {
    /// The op of member `name`.
    pub const fn new(name: &'static CStr) -> Self {
        Self {
            name,
            resolved: AtomicUsize::new(UNCHECKED),
            _type: PhantomData,
        }
    }

    /// Calls the op of `ops` with `args`: `Ok(None)` when the map leaves the
    /// member NULL or its registration has not completed (as in `reg`), else
    /// what the program returned. A sleepable member is called after
    /// `might_sleep()`.
    #[inline]
    pub fn call(&self, ops: &Published<T>, args: A::Values<'_>) -> Result<Option<R>> {
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
        let Some(f) = f else {
            return Ok(None);
        };
        if sleepable {
            might_sleep();
        }
        // SAFETY: `f` is the trampoline of a program for the member, alive
        // while the map is (`ops` keeps it) since its registration is done.
        // The trampoline takes the prototype BTF gives the member, which
        // `resolved` checked `A` and `R` against: integers of the same size
        // and pointers to structs of the same size, given as references
        // alive for the call, NULL only where the verifier makes programs
        // check. Programs run under the trampoline's own RCU protection, and
        // sleepable ones only for members `T::SLEEPABLE` declares, whose
        // contract is that the subsystem calls them where it may sleep.
        Ok(Some(unsafe { A::call(f, args) }))
    }

    /// The member's offset, and whether it is sleepable, checked against
    /// BTF on the first call.
    #[inline]
    fn resolved(&self) -> Result<(usize, bool)> {
        let r = self.resolved.load(Ordering::Relaxed);
        match r {
            REFUSED => Err(EINVAL),
            UNCHECKED => self.resolve(),
            _ => Ok(((r >> 1).saturating_sub(1), r & SLEEPABLE != 0)),
        }
    }

    #[cold]
    fn resolve(&self) -> Result<(usize, bool)> {
        let table: &StructOpsTable<T> = T::table();
        let r = match resolve_member(table.btf(), table.ops_id(), self.name, A::KINDS, R::KIND) {
            Ok(off) => {
                let sleepable = T::SLEEPABLE.has(self.name);
                Ok((off, sleepable))
            }
            Err(e) => {
                crate::pr_err!(
                    "bpf: struct_ops {}: Rust's call of {} disagrees with BTF\n",
                    T::NAME,
                    self.name
                );
                Err(e)
            }
        };
        let v = match r {
            Ok((off, s)) => ((off + 1) << 1) | usize::from(s),
            Err(_) => REFUSED,
        };
        self.resolved.store(v, Ordering::Relaxed);
        r
    }
}

/// `might_sleep()`: a debug kernel warns when the caller may not sleep.
#[inline]
fn might_sleep() {
    // SAFETY: Only checks the context.
    unsafe { bindings::might_sleep() }
}

/// The offset of member `name` of the ops struct `ops_id` of `btf`, once its
/// prototype is checked against `args` and `ret` (see [`Op`]).
fn resolve_member(
    btf: Option<&Btf>,
    ops_id: u32,
    name: &CStr,
    args: &[Kind],
    ret: Kind,
) -> Result<usize> {
    let btf = btf.ok_or(EINVAL)?;
    let ops = btf.type_by_id(ops_id).ok_or(EINVAL)?;
    let m = ops
        .members()
        .find(|m| btf.name_by_offset(m.name_off()).as_bytes() == name.as_bytes())
        .ok_or(EINVAL)?;
    let off = m.offset();
    let ptr_size = size_of::<usize>();
    if !m.is_byte_aligned() || off % ptr_size != 0 || off + ptr_size > ops.size() as usize {
        return Err(EINVAL);
    }
    let proto = btf.resolve_func_ptr(m.type_id()).ok_or(EINVAL)?;
    let params = proto.params();
    if params.len() != args.len() || !kind_matches(btf, proto.type_id(), ret) {
        return Err(EINVAL);
    }
    let nullable = nullable_args(btf, ops_id, m.index());
    for (i, (p, kind)) in params.iter().zip(args).enumerate() {
        if !kind_matches(btf, p.type_, *kind) {
            return Err(EINVAL);
        }
        if let Kind::Ptr { nullable: true, .. } = kind {
            // Each argument is one u64 of the trampoline's ctx.
            let ctx_off = i * size_of::<u64>();
            if !nullable.iter().any(|&o| o as usize == ctx_off) {
                return Err(EINVAL);
            }
        }
    }
    Ok(off)
}

/// Whether BTF type `id` is what `kind` says.
fn kind_matches(btf: &Btf, id: u32, kind: Kind) -> bool {
    match kind {
        Kind::Void => id == 0,
        Kind::Int(size) => btf
            .skip_modifiers(id)
            .is_some_and(|(t, _)| is_int_or_enum(t) && t.size() as usize == size),
        Kind::Ptr { size, .. } => btf
            .resolve_ptr(id)
            .is_some_and(|(t, _)| t.is_struct_or_union() && t.size() as usize == size),
    }
}

fn is_int_or_enum(t: &BtfType) -> bool {
    t.is_int() || t.is_enum()
}

/// The ctx offsets of the arguments of member `index` that the core made
/// nullable (`__nullable` in the stub), from its descriptor of the type.
fn nullable_args(btf: &Btf, ops_id: u32, index: usize) -> NullableOffsets {
    let mut out = NullableOffsets::default();
    // SAFETY: `btf` is valid; the descriptor, if any, lives as long as it.
    let desc = unsafe { bindings::bpf_struct_ops_find(btf.as_raw(), ops_id) };
    if desc.is_null() {
        return out;
    }
    // SAFETY: A registered type's descriptor is immutable, and `arg_info`
    // holds one entry per member of the ops struct, which `index` is.
    let info = unsafe { &*(*desc).arg_info.add(index) };
    if info.info.is_null() {
        return out;
    }
    // SAFETY: `info` holds `cnt` entries, immutable as the descriptor.
    let entries = unsafe { core::slice::from_raw_parts(info.info, info.cnt as usize) };
    for e in entries {
        if e.reg_type & bindings::bpf_type_flag_PTR_MAYBE_NULL != 0 {
            out.push(e.offset);
        }
    }
    out
}

/// The ctx offsets of up to four nullable arguments (ops take at most four).
#[derive(Default)]
struct NullableOffsets {
    offs: [u32; 4],
    len: usize,
}

impl NullableOffsets {
    fn push(&mut self, off: u32) {
        if let Some(o) = self.offs.get_mut(self.len) {
            *o = off;
            self.len += 1;
        }
    }

    fn iter(&self) -> impl Iterator<Item = &u32> {
        self.offs.iter().take(self.len)
    }
}
