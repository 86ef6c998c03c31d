// SPDX-License-Identifier: GPL-2.0

//! The struct a struct_ops map publishes to its subsystem, and the link that
//! registered it.

use crate::{
    bindings,
    ffi::c_void,
    types::{ARef, AlwaysRefCounted, Opaque},
};
use core::{ops::Deref, ptr::NonNull};

/// The ops struct of a struct_ops map, as its subsystem is given it: the
/// value's `data`, whose function pointers are the map's trampolines.
///
/// It is never a `&Ops`: C may write it while Rust holds it (the BPF core
/// fills it before registration, and programs may write its non-function
/// members). A subsystem passes it on to C with [`Published::as_ptr`], or
/// holds it past the callback that gave it with [`Published::try_hold`].
///
/// # Invariants
///
/// Wraps the `data` of a struct_ops map's value, alive for the lifetime of
/// the reference.
#[repr(transparent)]
pub struct Published<Ops>(Opaque<Ops>);

impl<Ops> Published<Ops> {
    /// # Safety
    ///
    /// `kdata` is the `data` of a struct_ops map's value of ops struct
    /// `Ops`, alive for `'a`.
    #[inline]
    pub(super) unsafe fn from_raw<'a>(kdata: *mut c_void) -> &'a Self {
        // SAFETY: Transparent wrapper; validity is the caller's promise.
        unsafe { &*kdata.cast() }
    }

    /// The raw pointer, for C.
    #[inline]
    pub fn as_ptr(&self) -> *mut Ops {
        self.0.get()
    }

    /// Takes a count of the map's users (`bpf_struct_ops_get()`), which
    /// keeps the struct's memory alive while held: `None` when the map is on
    /// its way out and takes no more. The trampolines its function pointers
    /// point to are freed when a registration fails (the struct is then
    /// zeroed), else when the map is; they may be called only while the
    /// struct is registered.
    #[inline]
    pub fn try_hold(&self) -> Option<ARef<Held<Ops>>> {
        // SAFETY: `self` is a map's published struct (type invariant).
        if !unsafe { bindings::bpf_struct_ops_get(self.as_ptr().cast()) } {
            return None;
        }
        // SAFETY: The count just taken is handed over to the `ARef`.
        Some(unsafe { ARef::from_raw(NonNull::from(self).cast()) })
    }
}

/// A struct_ops map's published struct of which a count is held, as an
/// `ARef<Held<Ops>>` (see [`Published::try_hold`]).
///
/// # Invariants
///
/// A `&Held` exists only while a count of the map's users is held, which
/// keeps the struct alive.
#[repr(transparent)]
pub struct Held<Ops>(Published<Ops>);

impl<Ops> Deref for Held<Ops> {
    type Target = Published<Ops>;

    #[inline]
    fn deref(&self) -> &Published<Ops> {
        &self.0
    }
}

// SAFETY: The published struct is shared with C anyway, which calls it and
// takes or drops counts from any CPU; `Held` gives no access to `Ops`.
unsafe impl<Ops> Send for Held<Ops> {}
// SAFETY: As above.
unsafe impl<Ops> Sync for Held<Ops> {}

// SAFETY: A count keeps the map, and so the struct, alive until it is put;
// while a `&Held` exists a count is held (type invariant), so taking another
// always succeeds.
unsafe impl<Ops> AlwaysRefCounted for Held<Ops> {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: The struct is alive and its count not zero (type
        // invariant), so this takes one and cannot fail.
        unsafe { bindings::bpf_struct_ops_get(self.as_ptr().cast()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up a count it holds on a live struct.
        unsafe { bindings::bpf_struct_ops_put(obj.as_ptr().cast()) };
    }
}

/// The `BPF_F_LINK` link a struct_ops map is registered through.
///
/// # Invariants
///
/// Wraps a live `struct bpf_link` for the lifetime of the reference.
#[repr(transparent)]
pub struct Link(Opaque<bindings::bpf_link>);

impl Link {
    /// # Safety
    ///
    /// `link` is NULL or a link alive for `'a`.
    #[inline]
    pub(super) unsafe fn from_raw<'a>(link: *mut bindings::bpf_link) -> Option<&'a Self> {
        // SAFETY: Transparent wrapper; validity is the caller's promise.
        NonNull::new(link).map(|l| unsafe { &*l.as_ptr().cast::<Self>() })
    }

    /// The link's id, as userspace sees it: 0 while it is being created
    /// (`reg` runs before the id is given, by `bpf_link_settle()`).
    #[inline]
    pub fn id(&self) -> u32 {
        // SAFETY: The link is alive (type invariant); its id is written once,
        // by its creator after `reg` and `update` return, on the thread they
        // run on.
        unsafe { (*self.0.get()).id }
    }
}
