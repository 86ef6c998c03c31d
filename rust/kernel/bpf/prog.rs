// SPDX-License-Identifier: GPL-2.0

//! BPF programs, as struct_ops trampolines take them.
//!
//! C header: [`include/linux/bpf.h`](srctree/include/linux/bpf.h).

use crate::{
    bindings,
    error::{from_err_ptr, Result},
};
use core::ptr::NonNull;

/// Verifier ops without any callback, for program types whose checks come
/// from elsewhere (struct_ops programs: the subsystem's own ops).
pub const EMPTY_VERIFIER_OPS: bindings::bpf_verifier_ops =
    // SAFETY: All fields are optional function pointers; zeroes are `None`.
    unsafe { core::mem::zeroed() };

/// One reference to a loaded BPF program.
///
/// # Invariants
///
/// `ptr` is a valid `struct bpf_prog` on which this value owns a reference.
pub struct Prog {
    ptr: NonNull<bindings::bpf_prog>,
}

// SAFETY: Program references may be taken and dropped on any thread.
unsafe impl Send for Prog {}
// SAFETY: Every accessor only reads fields that are fixed once loaded.
unsafe impl Sync for Prog {}

impl Prog {
    /// Takes a reference to the program behind file descriptor `fd`.
    #[inline]
    pub fn from_fd(fd: u32) -> Result<Self> {
        // SAFETY: No preconditions; errors come back as error pointers.
        let p = from_err_ptr(unsafe { bindings::bpf_prog_get(fd) })?;
        // INVARIANT: `bpf_prog_get` returned a valid program and its reference.
        NonNull::new(p)
            .map(|ptr| Prog { ptr })
            .ok_or(crate::error::code::EBADF)
    }

    /// The program type (`BPF_PROG_TYPE_*`).
    #[inline]
    pub fn prog_type(&self) -> u32 {
        // SAFETY: By the type invariant the program is alive; fields fixed at
        // load are read in place, as others change concurrently.
        unsafe { (*self.ptr.as_ptr()).type_ }
    }

    /// The expected attach type; for struct_ops, the member index.
    #[inline]
    pub fn expected_attach_type(&self) -> u32 {
        // SAFETY: As above.
        unsafe { (*self.ptr.as_ptr()).expected_attach_type }
    }

    /// The BTF id of the type the program attaches to.
    #[inline]
    pub fn attach_btf_id(&self) -> u32 {
        // SAFETY: As above; a loaded program always has its aux.
        unsafe { (*(*self.ptr.as_ptr()).aux).attach_btf_id }
    }

    /// Whether the program was loaded against `btf`: its `attach_btf_id`
    /// names a type of that BTF.
    #[inline]
    pub fn attaches_to(&self, btf: &super::btf::Btf) -> bool {
        // SAFETY: As above.
        unsafe { (*(*self.ptr.as_ptr()).aux).attach_btf == btf.as_raw() }
    }

    /// The program id, as userspace sees it.
    #[inline]
    pub fn id(&self) -> u32 {
        // SAFETY: As above.
        unsafe { (*(*self.ptr.as_ptr()).aux).id }
    }

    /// Whether the program may sleep.
    #[inline]
    pub fn sleepable(&self) -> bool {
        // SAFETY: As above; the bitfield is read through the raw pointer.
        unsafe { bindings::bpf_prog::sleepable_raw(self.ptr.as_ptr()) != 0 }
    }

    /// Gives up ownership of the reference.
    #[inline]
    pub fn into_raw(self) -> *mut bindings::bpf_prog {
        let p = self.ptr.as_ptr();
        core::mem::forget(self);
        p
    }
}

impl Drop for Prog {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own one reference.
        unsafe { bindings::bpf_prog_put(self.ptr.as_ptr()) };
    }
}
