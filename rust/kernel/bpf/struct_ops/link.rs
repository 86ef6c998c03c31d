// SPDX-License-Identifier: GPL-2.0

//! Links of `BPF_F_LINK` struct_ops maps: each registers the map's struct
//! with the subsystem while it is attached.

use super::{State, StructOpsMap};
use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    bpf::{
        link::{LinkPrimer, LinkType, PollWaiter, UpdateMap},
        map::{Map, MapRef},
    },
    error::{code::*, Error, Result},
    init::InPlaceInit,
    sync::{Mutex, MutexGuard},
    types::Opaque,
};
use core::{pin::Pin, ptr::NonNull};

/// A reference to a struct_ops map.
///
/// # Invariants
///
/// `0` is a map of type `BPF_MAP_TYPE_STRUCT_OPS`, so a [`StructOpsMap`]:
/// every map of that type is made by [`StructOpsMap::create`].
pub struct StructOpsMapRef(MapRef);

impl StructOpsMapRef {
    /// `map` as a struct_ops map, if it is one.
    ///
    /// # Safety
    ///
    /// The caller acts for a `bpf()` command on `map` that the BPF core
    /// checked (`BPF_LINK_CREATE`, `BPF_LINK_UPDATE`). A `StructOpsMap`
    /// lets its holder register, unregister and rewrite the map, and take
    /// and drop subsystem references, without those checks: a privilege,
    /// which modules do not get from safe code (design page, "What modules
    /// get").
    #[inline]
    pub unsafe fn new(map: MapRef) -> Option<Self> {
        // INVARIANT: A struct_ops map, checked here.
        (map.map_type() == bindings::bpf_map_type_BPF_MAP_TYPE_STRUCT_OPS).then_some(Self(map))
    }
}

impl UpdateMap for StructOpsMapRef {
    #[inline]
    unsafe fn from_update(map: MapRef) -> Option<Self> {
        // SAFETY: For the `BPF_LINK_UPDATE` to `map` the core checked, by the
        // caller's promise.
        unsafe { Self::new(map) }
    }
}

impl core::ops::Deref for StructOpsMapRef {
    type Target = StructOpsMap;

    #[inline]
    fn deref(&self) -> &StructOpsMap {
        // SAFETY: A struct_ops map (checked in `new`), alive while we hold it.
        unsafe { StructOpsMap::from_map(self.0.as_raw()) }
    }
}

impl StructOpsMap {
    /// Whether links may register the map: a `BPF_F_LINK` map, READY.
    #[inline]
    pub fn valid_to_reg(&self) -> bool {
        self.is_link_map() && self.state() == State::Ready
    }

    /// Whether the subsystem can switch a link to this map (`update()`).
    #[inline]
    pub fn has_update(&self) -> bool {
        self.desc().st_ops().update_fn().is_some()
    }
}

/// The global mutex that serialises registrations through links, their
/// updates and detach, held.
///
/// # Invariants
///
/// Holds `bpf_struct_ops_update_mutex`, on this thread.
pub struct LinksGuard {
    _guard: MutexGuard<'static, ()>,
}

impl LinksGuard {
    /// Takes the mutex.
    #[inline]
    pub fn lock() -> Self {
        // SAFETY: A static mutex, defined and initialised in C.
        let lock = unsafe { Mutex::<()>::from_raw(&raw mut bindings::bpf_struct_ops_update_mutex) };
        // INVARIANT: Taken here.
        LinksGuard {
            _guard: lock.lock(),
        }
    }
}

/// The link of a `BPF_F_LINK` struct_ops map (`struct bpf_struct_ops_link`).
///
/// # Invariants
///
/// `map` is NULL or a struct_ops map, READY, registered through this link,
/// whose reference and one subsystem reference the link owns. It changes
/// only under the update mutex, or in the link's release, when nobody else
/// can reach it, and is read under RCU otherwise.
/// `wait_hup` is initialised.
#[repr(transparent)]
pub struct StructOpsLink(Opaque<bindings::bpf_struct_ops_link>);

// SAFETY: `StructOpsLink` is a transparent wrapper of a C struct starting with
// `struct bpf_link`, allocated in a `KBox` by `StructOpsLink::new` and handed
// to `LinkPrimer::new` by its only user.
unsafe impl LinkType for StructOpsLink {
    const LINK_TYPE: u32 = bindings::bpf_link_type_BPF_LINK_TYPE_STRUCT_OPS;
}

// SAFETY: Shared access follows the locking in the type invariants.
unsafe impl Sync for StructOpsLink {}
// SAFETY: The link may be freed on any thread.
unsafe impl Send for StructOpsLink {}

impl StructOpsLink {
    /// A new link, registered with nothing.
    ///
    /// The link is initialised in place (its wait queue may not move).
    pub fn new() -> Result<Pin<KBox<Self>>> {
        // SAFETY: The closure initialises the whole link where it lies,
        // zeroes (an unregistered link) and then the wait queue, and cannot
        // fail.
        let init = unsafe {
            pin_init::pin_init_from_closure(|slot: *mut Self| {
                let raw = slot.cast::<bindings::bpf_struct_ops_link>();
                raw.write_bytes(0, 1);
                bindings::init_waitqueue_head(&raw mut (*raw).wait_hup);
                Ok::<(), Error>(())
            })
        };
        // INVARIANT: `map` NULL, `wait_hup` initialised.
        KBox::pin_init(init, GFP_KERNEL)
    }

    #[inline]
    fn as_link(&self) -> *mut bindings::bpf_link {
        // SAFETY: `link` is a field of the struct.
        unsafe { &raw mut (*self.0.get()).link }
    }

    /// The registered map, valid while the update mutex is held (the
    /// borrow of `guard`).
    #[inline]
    fn map_locked<'a>(&'a self, _guard: &'a LinksGuard) -> Option<&'a StructOpsMap> {
        // SAFETY: Under the update mutex.
        let map = unsafe { bindings::bpf_struct_ops_link_map_locked(self.0.get()) };
        // SAFETY: By the type invariant, a struct_ops map the link holds a
        // reference on; it cannot change while the guard is borrowed.
        (!map.is_null()).then(|| unsafe { StructOpsMap::from_map(map) })
    }

    /// Sets the registered map, returning the link's old reference.
    fn set_map(&self, _guard: &mut LinksGuard, map: Option<StructOpsMapRef>) -> Option<MapRef> {
        let new = map.map_or(core::ptr::null_mut(), |m| {
            MapRef::into_raw(m.0).as_ptr().cast::<bindings::bpf_map>()
        });
        // SAFETY: Under the update mutex.
        let old = unsafe { bindings::bpf_struct_ops_link_map_locked(self.0.get()) };
        // SAFETY: Under the update mutex; RCU readers see the old map or the
        // new one, each freed only after an RCU grace period
        // (`free_after_rcu_gp`, set when struct_ops maps are created).
        unsafe { bindings::bpf_struct_ops_link_set_map(self.0.get(), new) };
        // SAFETY: By the type invariant the link owned `old`.
        NonNull::new(old).map(|m| unsafe { MapRef::from_raw(m.cast()) })
    }

    /// Registers `map` through the link (`reg(kdata, link)`), taking one
    /// subsystem reference; `EINVAL` unless `map` is READY, `EBUSY` if the
    /// link already registered a map.
    ///
    /// The link is the one of `primer`: initialised as a `bpf_link`, which
    /// the subsystem may use as one, and not yet visible to userspace.
    pub fn register(
        primer: &LinkPrimer<Self>,
        guard: &mut LinksGuard,
        map: StructOpsMapRef,
    ) -> Result {
        let this = primer.link();
        if !map.valid_to_reg() {
            return Err(EINVAL);
        }
        if this.map_locked(guard).is_some() {
            return Err(EBUSY);
        }
        // SAFETY: We hold the update mutex, which serialises registrations
        // of link maps.
        unsafe { map.get_registration() }?;
        // SAFETY: READY: the value is complete; the link is initialised.
        if let Err(e) = unsafe { map.reg(this.as_link()) } {
            // SAFETY: The reference taken above.
            unsafe { map.put() };
            return Err(e);
        }
        // INVARIANT: Registered, with its references.
        drop(this.set_map(guard, Some(map)));
        Ok(())
    }

    /// Unregisters what the link registered; returns whether it had.
    pub fn unregister(&self, guard: &mut LinksGuard) -> bool {
        let Some(map) = self.map_locked(guard) else {
            return false;
        };
        // SAFETY: By the type invariant, registered through this link, with
        // a subsystem reference the link owns, given up here.
        unsafe {
            map.unreg(self.as_link());
            map.put();
        }
        // INVARIANT: NULL: nothing registered, no reference held.
        drop(self.set_map(guard, None));
        true
    }

    /// Frees the link when its last reference is gone (`dealloc`): its drop
    /// unregisters what it registered.
    #[inline]
    pub fn release(self: Pin<KBox<Self>>) {
        drop(self);
    }

    /// Switches the link's registration to `new` with the subsystem's
    /// `update()`. Errors as in C: `ENOLINK` when detached, `EPERM` when
    /// `expected` is not the current map, `EINVAL` for another struct_ops
    /// type or a map that is not READY, `EOPNOTSUPP` without `update()`.
    ///
    /// `new` being the map the link already holds succeeds without asking
    /// the subsystem: 7.3 calls `update(kdata, kdata)`, which for TCP adds
    /// the registered CA to its list a second time and deletes it, leaving
    /// the list corrupt (the next unregister oopses).
    pub fn update(
        &self,
        guard: &mut LinksGuard,
        new: StructOpsMapRef,
        expected: Option<&Map>,
    ) -> Result {
        if !new.valid_to_reg() {
            return Err(EINVAL);
        }
        let Some(update) = new.desc().st_ops().update_fn() else {
            return Err(EOPNOTSUPP);
        };
        let cur = self.map_locked(guard).ok_or(ENOLINK)?;
        if expected.is_some_and(|e| e.as_raw() != cur.map().as_raw()) {
            return Err(EPERM);
        }
        if new.desc().as_raw() != cur.desc().as_raw() {
            return Err(EINVAL);
        }
        if new.map().as_raw() == cur.map().as_raw() {
            return Ok(());
        }
        // SAFETY: Under the update mutex.
        unsafe { new.get_registration() }?;
        // SAFETY: Both values are READY and complete; `cur` is registered
        // through this link.
        let r = super::callback_result(unsafe { update(new.kdata(), cur.kdata(), self.as_link()) });
        match r {
            // SAFETY: The registration's reference on `cur` is the link's.
            Ok(()) => unsafe { cur.put() },
            // SAFETY: The reference taken above.
            Err(_) => unsafe { new.put() },
        }
        r?;
        // INVARIANT: Registered with `new` now, with its references.
        drop(self.set_map(guard, Some(new)));
        Ok(())
    }

    /// The id of the map the link registered, if any (safe against a
    /// concurrent update).
    #[inline]
    pub fn map_id(&self) -> Option<u32> {
        // SAFETY: The link is alive; the helper reads under RCU.
        let id = unsafe { bindings::bpf_struct_ops_link_map_id(self.0.get()) };
        (id != 0).then_some(id)
    }

    /// `poll()`: `EPOLLHUP` once detached.
    #[inline]
    pub fn poll(&self, waiter: &PollWaiter) -> u32 {
        // SAFETY: The link is alive, `waiter` is the poll in progress.
        unsafe { bindings::bpf_struct_ops_link_poll(self.0.get(), waiter.file(), waiter.table()) }
    }

    /// Wakes pollers: the link was detached.
    #[inline]
    pub fn hup(&self) {
        // SAFETY: The wait queue is initialised.
        unsafe { bindings::bpf_struct_ops_link_hup(self.0.get()) };
    }
}

impl Drop for StructOpsLink {
    /// Unregisters what the link registered. Nobody else can reach the link
    /// any more, so, as in C, this takes no lock: the subsystem's `unreg()`
    /// may take long (sched_ext disables the scheduler), and other links
    /// register meanwhile.
    fn drop(&mut self) {
        // SAFETY: The link is ours alone: nobody reads or changes `map`.
        let map = unsafe { bindings::bpf_struct_ops_link_take_map(self.0.get()) };
        let Some(map) = NonNull::new(map) else {
            return;
        };
        // INVARIANT: A struct_ops map, by the type invariant.
        // SAFETY: By the type invariant, the link owned this reference to a
        // struct_ops map.
        let map = StructOpsMapRef(unsafe { MapRef::from_raw(map.cast()) });
        // SAFETY: Registered through this link, which owned a subsystem
        // reference, given up here.
        unsafe {
            map.unreg(self.as_link());
            map.put();
        }
    }
}
