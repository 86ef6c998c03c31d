// SPDX-License-Identifier: GPL-2.0

//! BPF programs, as struct_ops trampolines take them.
//!
//! C header: [`include/linux/bpf.h`](srctree/include/linux/bpf.h).

use crate::{
    bindings,
    error::{from_err_ptr, Result},
    sync::aref::{ARef, AlwaysRefCounted},
    types::Opaque,
};
use core::ptr::NonNull;

/// Verifier ops without any callback, for program types whose checks come
/// from elsewhere (struct_ops programs: the subsystem's own ops).
pub const EMPTY_VERIFIER_OPS: bindings::bpf_verifier_ops = pin_init::zeroed();

/// A loaded BPF program (`struct bpf_prog`), reference-counted: held as
/// `ARef<Prog>`.
///
/// # Invariants
///
/// A `&Prog` is a loaded program whose count is not zero.
#[repr(transparent)]
pub struct Prog(Opaque<bindings::bpf_prog>);

// SAFETY: `bpf_prog_inc()` and `bpf_prog_put()` keep the program alive until
// the count drops to zero, which it does not while a `&Prog` exists (type
// invariant).
unsafe impl AlwaysRefCounted for Prog {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: The count is not zero, by the type invariant.
        unsafe { bindings::bpf_prog_inc(self.as_raw()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up a reference it owns; the free is
        // deferred, so any context will do.
        unsafe { bindings::bpf_prog_put(obj.as_ptr().cast()) };
    }
}

// SAFETY: Every accessor only reads fields that are fixed once loaded;
// references may be taken and dropped on any thread.
unsafe impl Send for Prog {}
// SAFETY: As above.
unsafe impl Sync for Prog {}

impl Prog {
    /// Takes a reference to the program behind file descriptor `fd`.
    #[inline]
    pub fn from_fd(fd: u32) -> Result<ARef<Self>> {
        // SAFETY: No preconditions; errors come back as error pointers.
        let p = from_err_ptr(unsafe { bindings::bpf_prog_get(fd) })?;
        let p = NonNull::new(p.cast::<Prog>()).ok_or(crate::error::code::EBADF)?;
        // SAFETY: `bpf_prog_get` returned a loaded program and its
        // reference, which we hand over.
        Ok(unsafe { ARef::from_raw(p) })
    }

    /// The raw program, for C calls.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::bpf_prog {
        self.0.get()
    }

    /// The program type (`BPF_PROG_TYPE_*`).
    #[inline]
    pub fn prog_type(&self) -> u32 {
        // SAFETY: By the type invariant the program is alive; fields fixed at
        // load are read in place, as others change concurrently.
        unsafe { (*self.as_raw()).type_ }
    }

    /// The expected attach type; for struct_ops, the member index.
    #[inline]
    pub fn expected_attach_type(&self) -> u32 {
        // SAFETY: As above.
        unsafe { (*self.as_raw()).expected_attach_type }
    }

    /// The BTF id of the type the program attaches to.
    #[inline]
    pub fn attach_btf_id(&self) -> u32 {
        // SAFETY: As above; a loaded program always has its aux.
        unsafe { (*(*self.as_raw()).aux).attach_btf_id }
    }

    /// Whether the program was loaded against `btf`: its `attach_btf_id`
    /// names a type of that BTF.
    #[inline]
    pub fn attaches_to(&self, btf: &super::btf::Btf) -> bool {
        // SAFETY: As above.
        unsafe { (*(*self.as_raw()).aux).attach_btf == btf.as_raw() }
    }

    /// The program id, as userspace sees it.
    #[inline]
    pub fn id(&self) -> u32 {
        // SAFETY: As above.
        unsafe { (*(*self.as_raw()).aux).id }
    }

    /// Whether the program may sleep.
    #[inline]
    pub fn sleepable(&self) -> bool {
        // SAFETY: As above; the bitfield is read through the raw pointer.
        unsafe { bindings::bpf_prog::sleepable_raw(self.as_raw()) != 0 }
    }
}

/// A BPF program the verifier is checking (`struct bpf_prog`), as the
/// verifier callbacks of its type see it.
///
/// Unlike [`Prog`], it cannot be held: a program whose load fails is freed
/// whatever its count.
///
/// # Invariants
///
/// Wraps a program being loaded, whose type, attach type and flags are
/// fixed, alive for the lifetime of the reference.
#[repr(transparent)]
pub struct LoadingProg(Opaque<bindings::bpf_prog>);

impl LoadingProg {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is a program being loaded, alive for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *const bindings::bpf_prog) -> &'a Self {
        // SAFETY: Transparent wrapper; validity is the caller's promise.
        unsafe { &*ptr.cast() }
    }

    /// The raw program, for C calls.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::bpf_prog {
        self.0.get()
    }

    /// The expected attach type; for struct_ops, the member index.
    #[inline]
    pub fn expected_attach_type(&self) -> u32 {
        // SAFETY: By the type invariant the program is alive and the field
        // fixed; read in place.
        unsafe { (*self.as_raw()).expected_attach_type }
    }

    /// Whether the program may sleep.
    #[inline]
    pub fn sleepable(&self) -> bool {
        // SAFETY: As above; the bitfield is read through the raw pointer.
        unsafe { bindings::bpf_prog::sleepable_raw(self.as_raw()) != 0 }
    }
}
