// SPDX-License-Identifier: GPL-2.0

//! The struct a struct_ops map publishes to its subsystem, and the link that
//! registered it.

use super::StructOpsType;
use crate::{
    bindings,
    ffi::c_void,
    sync::{
        aref::{ARef, AlwaysRefCounted},
        atomic::{Acquire, Atomic, Relaxed},
    },
    types::Opaque,
};
use core::{mem::offset_of, ops::Deref, ptr::NonNull};

/// The ops struct of a struct_ops map of type `T`, as its subsystem is given
/// it: the value's `data`, whose function pointers are the map's
/// trampolines.
///
/// It is never a `&T::Ops`: C may write it while Rust holds it (the BPF core
/// fills it before registration, and programs may write its non-function
/// members). A subsystem calls its ops with [`super::Op::call`], passes it on
/// to C with [`Published::as_ptr`], or holds it past the callback that gave
/// it with [`Published::try_hold`].
///
/// # Invariants
///
/// Wraps the `data` of the value of a struct_ops map of type `T`, alive for
/// the lifetime of the reference.
#[repr(transparent)]
pub struct Published<T: StructOpsType>(Opaque<T::Ops>);

/// The ops struct of a struct_ops map of type `T` as `validate()` gets it:
/// complete, not registered yet. Only its address is offered, for C: no op
/// can be called yet, and no count taken (the C map would give one, ours
/// none, as the registration does not hold one yet).
///
/// # Invariants
///
/// Wraps a [`Published`] (whose invariant holds: alive for the lifetime of
/// the reference) of a complete value, not registered yet.
#[repr(transparent)]
pub struct Unregistered<T: StructOpsType>(Published<T>);

impl<T: StructOpsType> Unregistered<T> {
    /// # Safety
    ///
    /// As for [`Published::from_raw`].
    #[inline]
    pub(super) unsafe fn from_raw<'a>(kdata: *mut c_void) -> &'a Self {
        // SAFETY: The caller's promise; a transparent wrapper of `Published`.
        unsafe { &*core::ptr::from_ref(Published::<T>::from_raw(kdata)).cast() }
    }

    /// The raw pointer, for C.
    #[inline]
    pub fn as_ptr(&self) -> *mut T::Ops {
        self.0.as_ptr()
    }
}

impl<T: StructOpsType> Published<T> {
    /// # Safety
    ///
    /// `kdata` is the `data` of the value of a struct_ops map of type `T`,
    /// alive for `'a`.
    #[inline]
    pub(super) unsafe fn from_raw<'a>(kdata: *mut c_void) -> &'a Self {
        // SAFETY: Transparent wrapper; validity is the caller's promise.
        unsafe { &*kdata.cast() }
    }

    /// The raw pointer, for C.
    #[inline]
    pub fn as_ptr(&self) -> *mut T::Ops {
        self.0.get()
    }

    /// Whether the value got past its first registration: its state left
    /// `BPF_STRUCT_OPS_STATE_INIT`, for good. From then until the map is
    /// freed, its function pointers are its trampolines; before, a failed
    /// registration frees them at once.
    #[inline]
    pub(super) fn registration_done(&self) -> bool {
        let state = self
            .as_ptr()
            .cast::<u8>()
            .wrapping_sub(offset_of!(bindings::bpf_struct_ops_value, data))
            .wrapping_add(
                offset_of!(bindings::bpf_struct_ops_value, common)
                    + offset_of!(bindings::bpf_struct_ops_common_value, state),
            );
        // SAFETY: `self` is the `data` of a live `struct
        // bpf_struct_ops_value` (type invariant), so `state` is its `u32`
        // state, aligned, which C writes with `smp_store_release()` or under
        // the map's lock: an atomic load pairs with it.
        let state = unsafe { Atomic::<u32>::from_ptr(state.cast::<u32>()) };
        state.load(Acquire) != bindings::bpf_struct_ops_state_BPF_STRUCT_OPS_STATE_INIT
    }

    /// Takes a count of the map's users (`bpf_struct_ops_get()`), which
    /// keeps the struct's memory alive while held: `None` when the map is on
    /// its way out and takes no more. The trampolines its function pointers
    /// point to are freed when its first registration fails, else when the
    /// map is: [`super::Op`] calls them only after that registration.
    #[inline]
    pub fn try_hold(&self) -> Option<ARef<Held<T>>> {
        // SAFETY: `self` is a live map's value's `data` (type invariant).
        if !unsafe { struct_ops_get(self.as_ptr().cast()) } {
            return None;
        }
        // SAFETY: The count just taken is handed over to the `ARef`.
        // INVARIANT: A count of the map's users is held (taken just above).
        Some(unsafe { ARef::from_raw(NonNull::from(self).cast()) })
    }
}

/// Takes a count of the users of the map whose value's `data` is `kdata`
/// (`bpf_struct_ops_get()`); not generic, so that a type's module links to
/// it rather than to C's unexported function.
///
/// # Safety
///
/// `kdata` is the `data` of a live struct_ops map's value.
#[inline(never)]
unsafe fn struct_ops_get(kdata: *const c_void) -> bool {
    // SAFETY: The caller's promise.
    unsafe { bindings::bpf_struct_ops_get(kdata) }
}

/// Puts a count [`struct_ops_get`] took.
///
/// # Safety
///
/// The caller holds a count of the map whose value's `data` is `kdata`,
/// and gives it up.
#[inline(never)]
unsafe fn struct_ops_put(kdata: *const c_void) {
    // SAFETY: The caller's promise.
    unsafe { bindings::bpf_struct_ops_put(kdata) }
}

/// A struct_ops map's published struct of which a count is held, as an
/// `ARef<Held<T>>` (see [`Published::try_hold`]).
///
/// # Invariants
///
/// A `&Held` exists only while a count of the map's users is held, which
/// keeps the struct alive.
#[repr(transparent)]
pub struct Held<T: StructOpsType>(Published<T>);

impl<T: StructOpsType> Deref for Held<T> {
    type Target = Published<T>;

    #[inline]
    fn deref(&self) -> &Published<T> {
        &self.0
    }
}

// SAFETY: The published struct is shared with C anyway, which calls it and
// takes or drops counts from any CPU; `Held` gives no access to `T::Ops`.
unsafe impl<T: StructOpsType> Send for Held<T> {}
// SAFETY: As above.
unsafe impl<T: StructOpsType> Sync for Held<T> {}

// SAFETY: A count keeps the map, and so the struct, alive until it is put;
// while a `&Held` exists a count is held (type invariant), so taking another
// always succeeds.
unsafe impl<T: StructOpsType> AlwaysRefCounted for Held<T> {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: The struct is alive and its count not zero (type
        // invariant), so this takes one and cannot fail.
        unsafe { struct_ops_get(self.as_ptr().cast()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up a count it holds on a live struct.
        unsafe { struct_ops_put(obj.as_ptr().cast()) };
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
        // SAFETY: The link is alive (type invariant). Its creator writes the
        // id once, after `reg` and `update` return (`bpf_link_settle()`),
        // while a subsystem that kept the link may read it on another CPU:
        // a relaxed atomic load (`READ_ONCE()`) sees 0 or the id.
        unsafe { Atomic::<u32>::from_ptr(&raw mut (*self.0.get()).id) }.load(Relaxed)
    }
}
