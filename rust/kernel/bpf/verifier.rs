// SPDX-License-Identifier: GPL-2.0

//! What the verifier asks of a program type: its log, the context accesses
//! it allows (`is_valid_access`) and the helpers it offers
//! (`get_func_proto`).
//!
//! C headers: [`include/linux/bpf.h`](srctree/include/linux/bpf.h) and
//! [`include/linux/bpf_verifier.h`](srctree/include/linux/bpf_verifier.h).

use crate::{
    bindings, bpf::prog::LoadingProg, ffi::c_void, str::CStrExt as _, sync::atomic::Atomic,
    types::Opaque,
};
use core::{fmt, marker::PhantomData, ptr::NonNull};

/// The verifier's log of one program load (`struct bpf_verifier_log`).
///
/// # Invariants
///
/// Wraps a valid log that nothing else writes while the `&mut` lives.
#[repr(transparent)]
pub struct VerifierLog(Opaque<bindings::bpf_verifier_log>);

impl VerifierLog {
    /// Creates a reference from a raw pointer, `None` for NULL.
    ///
    /// # Safety
    ///
    /// `ptr` is NULL or a log nobody else writes for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::bpf_verifier_log) -> Option<&'a mut Self> {
        // SAFETY: Transparent wrapper; validity is the caller's promise.
        NonNull::new(ptr).map(|p| unsafe { &mut *p.as_ptr().cast() })
    }

    /// The raw pointer, for C calls.
    #[inline]
    pub fn as_raw(&mut self) -> *mut bindings::bpf_verifier_log {
        self.0.get()
    }

    /// Appends `args` to the log, as `bpf_log()` does: nothing when the
    /// loader asked for no log.
    pub fn write(&mut self, args: fmt::Arguments<'_>) {
        // SAFETY: The log is valid (type invariant); "%pA" takes a pointer to
        // a `fmt::Arguments`, which lives across the call.
        unsafe {
            bindings::bpf_log(
                self.as_raw(),
                c"%pA".as_char_ptr(),
                core::ptr::from_ref(&args).cast::<c_void>(),
            )
        };
    }
}

/// Writes a formatted message to an optional [`VerifierLog`], as C's
/// `bpf_log(log, fmt, ...)`.
#[macro_export]
macro_rules! bpf_log {
    ($log:expr, $($arg:tt)*) => {
        if let Some(log) = $log {
            log.write($crate::prelude::fmt!($($arg)*));
        }
    };
}

/// How a program accesses its context (`enum bpf_access_type`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AccessType {
    /// A load.
    Read,
    /// A store.
    Write,
}

impl AccessType {
    /// The Rust value of a C access type.
    #[inline]
    pub(crate) fn from_raw(t: bindings::bpf_access_type) -> Self {
        if t == bindings::bpf_access_type::BPF_WRITE {
            AccessType::Write
        } else {
            AccessType::Read
        }
    }

    /// The C value of an access type.
    #[inline]
    fn to_raw(self) -> bindings::bpf_access_type {
        match self {
            AccessType::Read => bindings::bpf_access_type::BPF_READ,
            AccessType::Write => bindings::bpf_access_type::BPF_WRITE,
        }
    }
}

/// What `is_valid_access` tells the verifier about a context access
/// (`struct bpf_insn_access_aux`): the type of the loaded value.
///
/// # Invariants
///
/// Wraps a valid `struct bpf_insn_access_aux` that only this reference
/// accesses while it lives; when its `reg_type` is `PTR_TO_BTF_ID` (with
/// any flags), the `btf`/`btf_id` arm of its union is the one written (as
/// `btf_ctx_access()` does).
#[repr(transparent)]
pub struct AccessInfo(Opaque<bindings::bpf_insn_access_aux>);

impl AccessInfo {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is valid and nothing else accesses it for `'a`; when its
    /// `reg_type` is `PTR_TO_BTF_ID`, its `btf`/`btf_id` arm is the one
    /// written (see the type invariant).
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::bpf_insn_access_aux) -> &'a mut Self {
        // SAFETY: Transparent wrapper; validity is the caller's promise.
        unsafe { &mut *ptr.cast() }
    }

    /// Checks an access to the arguments of a program that a trampoline
    /// calls (`bpf_tracing_btf_ctx_access()`), filling `self` with the
    /// argument's type; whether the access is allowed.
    #[inline]
    pub(crate) fn check_tracing_ctx(
        &mut self,
        off: i32,
        size: i32,
        ty: AccessType,
        prog: &LoadingProg,
    ) -> bool {
        // SAFETY: `prog` is a loaded program and `self` is valid and ours.
        unsafe {
            bindings::bpf_tracing_btf_ctx_access(
                off,
                size,
                ty.to_raw(),
                prog.as_raw(),
                self.0.get(),
            )
        }
    }

    /// The BTF id of the struct the loaded value points to, when it is a
    /// pointer the verifier trusts (`PTR_TO_BTF_ID` without unsafe
    /// modifiers).
    #[inline]
    pub fn trusted_btf_id(&self) -> Option<u32> {
        let p = self.0.get();
        // SAFETY: `self` is valid (type invariant); a plain field read.
        let reg_type = unsafe { (*p).reg_type };
        // SAFETY: No preconditions; bit arithmetic on the type.
        let (base, unsafe_mods) = unsafe {
            (
                bindings::base_type(reg_type),
                bindings::bpf_type_has_unsafe_modifiers(reg_type),
            )
        };
        if base != bindings::bpf_reg_type_PTR_TO_BTF_ID || unsafe_mods {
            return None;
        }
        // SAFETY: For `PTR_TO_BTF_ID`, the union's `btf`/`btf_id` arm is the
        // one written (type invariant).
        Some(unsafe { (*p).__bindgen_anon_1.__bindgen_anon_1.btf_id })
    }

    /// Makes the loaded pointer point to the struct of BTF id `id` of the
    /// same BTF object (e.g. a `sock` promoted to a `tcp_sock`).
    ///
    /// Nothing changes unless [`AccessInfo::trusted_btf_id`] is `Some`.
    ///
    /// # Safety
    ///
    /// `id` is a struct of the loaded pointer's BTF object, and every object
    /// the pointer can point to at run time is one of that struct (the
    /// verifier lets the program read and write it as such).
    #[inline]
    pub unsafe fn set_trusted_btf_id(&mut self, id: u32) {
        if self.trusted_btf_id().is_some() {
            let p = self.0.get();
            // SAFETY: `self` is valid and ours; the arm is the one in use
            // (type invariant). The id is right, by the caller's promise.
            unsafe { (*p).__bindgen_anon_1.__bindgen_anon_1.btf_id = id };
        }
    }
}

/// A BPF helper as the verifier sees it (`struct bpf_func_proto`): its
/// function, return and argument types, for the programs called by `C` (a
/// program type, e.g. a struct_ops type: the context its programs run in
/// decides which helpers are sound for them).
///
/// # Invariants
///
/// The wrapped prototype is immutable and lives for `'static`; the verifier
/// may offer it to the programs of `C`: its function is sound to call, in
/// the contexts they run in, with any arguments the verifier lets through
/// for it.
#[repr(transparent)]
pub struct FuncProto<C>(bindings::bpf_func_proto, PhantomData<fn(&C)>);

// SAFETY: Immutable after construction; the pointers it holds are to
// `'static` data.
unsafe impl<C> Sync for FuncProto<C> {}

/// The type of a BPF helper's implementation: five `u64` registers in, one
/// out.
pub type HelperFn = unsafe extern "C" fn(u64, u64, u64, u64, u64) -> u64;

impl<C> FuncProto<C> {
    /// A prototype of helper `func` returning an integer, with the argument
    /// types `args` (`ARG_*`, `ARG_DONTCARE` for unused ones) and, for
    /// `ARG_PTR_TO_BTF_ID` arguments, the BTF ids of their structs.
    ///
    /// # Safety
    ///
    /// - `func` is sound to call with any arguments the verifier lets
    ///   through for `args` and `btf_ids`, in every context the programs of
    ///   `C` run in;
    /// - `func` is in the kernel image, not in a module (the verifier keeps
    ///   its distance from `__bpf_call_base` in 32 bits);
    /// - the ids in `btf_ids` are of vmlinux BTF, set before any program of
    ///   `C` is verified.
    pub const unsafe fn new_int(
        func: HelperFn,
        args: [bindings::bpf_arg_type; 5],
        btf_ids: [Option<&'static Atomic<u32>>; 5],
    ) -> Self {
        let mut p: bindings::bpf_func_proto = pin_init::zeroed();
        p.func = Some(func);
        p.ret_type = bindings::bpf_return_type_RET_INTEGER;
        // The arrays have room for `MAX_BPF_FUNC_ARGS`; the rest stay
        // `ARG_DONTCARE` (zero) and NULL.
        const MAX: usize = bindings::MAX_BPF_FUNC_ARGS as usize;
        let mut types = [bindings::bpf_arg_type_ARG_DONTCARE; MAX];
        let mut ids = [core::ptr::null_mut::<u32>(); MAX];
        let mut i = 0;
        while i < 5 {
            types[i] = args[i];
            if let Some(id) = btf_ids[i] {
                ids[i] = id.as_ptr();
            }
            i += 1;
        }
        p.__bindgen_anon_1.arg_type = types;
        p.__bindgen_anon_2.arg_btf_id = ids;
        // INVARIANT: The caller's promise.
        Self(p, PhantomData)
    }

    /// The raw pointer, for C.
    #[inline]
    pub fn as_raw(&'static self) -> *const bindings::bpf_func_proto {
        &self.0
    }

    /// # Safety
    ///
    /// `p` is NULL or a prototype that is never written, lives forever and
    /// is sound for the programs of `C` (see the type invariant).
    #[inline]
    unsafe fn from_raw(p: *const bindings::bpf_func_proto) -> Option<&'static Self> {
        // SAFETY: Transparent wrapper (the marker is zero-sized); validity
        // is the caller's promise.
        NonNull::new(p.cast_mut()).map(|p| unsafe { &*p.as_ptr().cast::<Self>() })
    }

    /// The helpers every program type may call, restricted by the program's
    /// license and its loader's capabilities (`bpf_base_func_proto()`).
    #[inline]
    pub fn base(func_id: bindings::bpf_func_id, prog: &LoadingProg) -> Option<&'static Self> {
        // SAFETY: `prog` is valid; the result is NULL or a static prototype
        // that any program type may offer.
        unsafe { Self::from_raw(bindings::bpf_base_func_proto(func_id, prog.as_raw())) }
    }

    /// `bpf_ktime_get_coarse_ns()`.
    ///
    /// # Safety
    ///
    /// The programs of `C` never run in NMI context (the helper reads the
    /// timekeeper under its seqcount, which is not NMI-safe).
    #[inline]
    pub unsafe fn ktime_get_coarse_ns() -> &'static Self {
        // SAFETY: A static prototype, never written, of a helper without
        // arguments; the context is the caller's promise.
        unsafe { &*(&raw const bindings::bpf_ktime_get_coarse_ns_proto).cast::<Self>() }
    }
}

#[cfg(CONFIG_NET)]
impl<C> FuncProto<C> {
    /// `bpf_sk_storage_get()`.
    ///
    /// # Safety
    ///
    /// The programs of `C` run where a socket's local storage may be used
    /// (e.g. TCP's callbacks, with the socket locked).
    #[inline]
    pub unsafe fn sk_storage_get() -> &'static Self {
        // SAFETY: A static prototype, never written; the context is the
        // caller's promise.
        unsafe { &*(&raw const bindings::bpf_sk_storage_get_proto).cast::<Self>() }
    }

    /// `bpf_sk_storage_delete()`.
    ///
    /// # Safety
    ///
    /// As for [`FuncProto::sk_storage_get`].
    #[inline]
    pub unsafe fn sk_storage_delete() -> &'static Self {
        // SAFETY: As above.
        unsafe { &*(&raw const bindings::bpf_sk_storage_delete_proto).cast::<Self>() }
    }

    /// `bpf_setsockopt()`.
    ///
    /// # Safety
    ///
    /// The programs of `C` are called with a socket (of their arguments)
    /// that their caller holds locked, in a context where its options may
    /// change.
    #[inline]
    pub unsafe fn sk_setsockopt() -> &'static Self {
        // SAFETY: A static prototype, never written; the context is the
        // caller's promise.
        unsafe { &*(&raw const bindings::bpf_sk_setsockopt_proto).cast::<Self>() }
    }

    /// `bpf_setsockopt()` without `TCP_NODELAY` (`-EOPNOTSUPP`), for
    /// programs run from TCP's transmit path, which `TCP_NODELAY` would
    /// re-enter (a congestion control's `CA_EVENT_TX_START`).
    ///
    /// # Safety
    ///
    /// As for [`FuncProto::sk_setsockopt`].
    #[inline]
    pub unsafe fn sk_setsockopt_nodelay() -> &'static Self {
        // SAFETY: A static prototype, never written; the context is the
        // caller's promise.
        unsafe { &*(&raw const bindings::bpf_sk_setsockopt_nodelay_proto).cast::<Self>() }
    }

    /// `bpf_getsockopt()`.
    ///
    /// # Safety
    ///
    /// The programs of `C` are called with a socket (of their arguments)
    /// that their caller holds locked.
    #[inline]
    pub unsafe fn sk_getsockopt() -> &'static Self {
        // SAFETY: A static prototype, never written; the context is the
        // caller's promise.
        unsafe { &*(&raw const bindings::bpf_sk_getsockopt_proto).cast::<Self>() }
    }
}
