// SPDX-License-Identifier: GPL-2.0

//! BPF links: a link type written in Rust, turned into a `struct bpf_link_ops`.
//!
//! C header: [`include/linux/bpf.h`](srctree/include/linux/bpf.h).
//!
//! A link type implements [`LinkOps`]; [`LinkOpsTable::new`] builds the C
//! table. [`LinkPrimer`] is a link between `bpf_link_prime()` and
//! `bpf_link_settle()`: it has an fd reserved, and dropping it undoes that.

use super::map::{Map, MapRef, SeqFile};
use crate::{
    alloc::KBox,
    bindings,
    bpf::errno::check,
    build_error,
    error::{from_result, Result},
    prelude::*,
};
use core::{marker::PhantomData, pin::Pin};

/// A link's Rust type.
///
/// # Safety
///
/// Implementers have the layout of a C struct whose first field is a
/// `struct bpf_link`, and every `struct bpf_link` passed to the [`LinkOps`]
/// of which they are the `Link` is the first field of one of them, allocated
/// in a `KBox` and given to [`LinkPrimer::new`]; `LINK_TYPE` is the link type
/// of that C struct.
pub unsafe trait LinkType: Sized {
    /// The link's `BPF_LINK_TYPE_*`.
    const LINK_TYPE: u32;
}

/// The part of `BPF_OBJ_GET_INFO_BY_FD` on a link that its type fills.
///
/// # Invariants
///
/// `0` is the `struct bpf_link_info` the BPF core hands a link's
/// `fill_link_info`: initialised (the user's bytes, the link's type and id
/// set), and touched by nothing else while this reference lives.
#[repr(transparent)]
pub struct LinkInfo(bindings::bpf_link_info);

impl LinkInfo {
    /// Sets the id of the map a struct_ops link registered.
    #[inline]
    pub fn set_struct_ops_map_id(&mut self, id: u32) {
        self.0.__bindgen_anon_1.struct_ops.map_id = id;
    }
}

/// What `poll()` on a link's fd hands over.
///
/// # Invariants
///
/// `file` is the file of a link being polled, and `pts` the poll table that
/// `poll()` was given with it (NULL or valid, as `poll_wait()` takes it);
/// both stay valid for the lifetime of the value, which only the `poll`
/// callback makes, for its call.
pub struct PollWaiter {
    file: *mut bindings::file,
    pts: *mut bindings::poll_table_struct,
}

impl PollWaiter {
    /// The file being polled.
    #[inline]
    pub fn file(&self) -> *mut bindings::file {
        self.file
    }

    /// The poll table to register wait queues with.
    #[inline]
    pub fn table(&self) -> *mut bindings::poll_table_struct {
        self.pts
    }
}

/// A map a link can be updated to: what `BPF_LINK_UPDATE` names, as the
/// link type takes it.
pub trait UpdateMap: Sized {
    /// `map` as `Self`, or `None` when it is not one (the update then fails
    /// with `EINVAL`).
    ///
    /// # Safety
    ///
    /// The caller acts for a `BPF_LINK_UPDATE` to `map` that the BPF core
    /// checked.
    unsafe fn from_update(map: MapRef) -> Option<Self>;
}

impl UpdateMap for MapRef {
    #[inline]
    unsafe fn from_update(map: MapRef) -> Option<Self> {
        Some(map)
    }
}

/// The operations of a link type.
#[vtable]
pub trait LinkOps {
    /// The link's type.
    type Link: LinkType;

    /// The maps [`LinkOps::update_map`] takes ([`MapRef`] for any map).
    type UpdateMap: UpdateMap;

    /// Frees a link whose last reference is gone.
    fn dealloc(link: Pin<KBox<Self::Link>>);

    /// `BPF_LINK_DETACH`.
    #[inline]
    fn detach(_link: &Self::Link) -> Result {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Prints the link's own lines of `/proc/<pid>/fdinfo/<fd>`.
    #[inline]
    fn show_fdinfo(_link: &Self::Link, _m: &SeqFile) {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Fills the link's part of `BPF_OBJ_GET_INFO_BY_FD`.
    #[inline]
    fn fill_link_info(_link: &Self::Link, _info: &mut LinkInfo) -> Result {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// `BPF_LINK_UPDATE` to another map (`old` with `BPF_F_REPLACE`).
    #[inline]
    fn update_map(_link: &Self::Link, _new: Self::UpdateMap, _old: Option<&Map>) -> Result {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// `poll()` on the link's fd: returns the events ready.
    #[inline]
    fn poll(_link: &Self::Link, _waiter: &PollWaiter) -> u32 {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }
}

/// A `struct bpf_link_ops` built from a [`LinkOps`] implementation whose
/// links are `L`: only links of that type can be given these ops
/// ([`LinkPrimer::new`]), so the adapters' casts hold.
///
/// # Invariants
///
/// The callbacks are the adapters [`LinkOpsTable::new`] builds for a
/// [`LinkOps`] whose links are `L`. By `new`'s contract, the tables given to
/// links are statics of the kernel image, as are their callbacks, which C
/// may call until a link's last reference is gone.
#[repr(transparent)]
pub struct LinkOpsTable<L: LinkType>(bindings::bpf_link_ops, PhantomData<fn(&L)>);

impl<L: LinkType> LinkOpsTable<L> {
    /// The table for `T`.
    ///
    /// # Safety
    ///
    /// The result is stored in a `static` of the kernel image, and only
    /// that static is given to links; `T`'s functions are in the image
    /// too. Links hold no reference to a module: C calls the ops of a link
    /// (and reads them) until its last reference is gone, which may be
    /// after a module that held the table was unloaded.
    pub const unsafe fn new<T: LinkOps<Link = L>>() -> Self {
        let empty: bindings::bpf_link_ops = pin_init::zeroed();
        let ops = bindings::bpf_link_ops {
            dealloc: Some(Adapter::<T>::dealloc),
            detach: if T::HAS_DETACH {
                Some(Adapter::<T>::detach)
            } else {
                None
            },
            show_fdinfo: if T::HAS_SHOW_FDINFO {
                Some(Adapter::<T>::show_fdinfo)
            } else {
                None
            },
            fill_link_info: if T::HAS_FILL_LINK_INFO {
                Some(Adapter::<T>::fill_link_info)
            } else {
                None
            },
            update_map: if T::HAS_UPDATE_MAP {
                Some(Adapter::<T>::update_map)
            } else {
                None
            },
            poll: if T::HAS_POLL {
                Some(Adapter::<T>::poll)
            } else {
                None
            },
            ..empty
        };
        // INVARIANT: `T`'s adapters, whose links are `L`; where the table is
        // kept is the caller's promise.
        LinkOpsTable(ops, PhantomData)
    }
}

struct Adapter<T: LinkOps>(PhantomData<T>);

impl<T: LinkOps> Adapter<T> {
    /// # Safety
    ///
    /// `link` is a live link of this type.
    #[inline]
    unsafe fn link<'a>(link: *const bindings::bpf_link) -> &'a T::Link {
        // SAFETY: By `LinkType`, the link is the first field of a `T::Link`.
        unsafe { &*link.cast() }
    }

    /// # Safety
    ///
    /// Called by the BPF core once, with a link of this type whose last
    /// reference is gone.
    unsafe extern "C" fn dealloc(link: *mut bindings::bpf_link) {
        // SAFETY: By `LinkType`, the link came from a `KBox<T::Link>`, now ours.
        T::dealloc(Pin::from(unsafe { KBox::from_raw(link.cast()) }));
    }

    /// # Safety
    ///
    /// Called by the BPF core with a live link of this type.
    unsafe extern "C" fn detach(link: *mut bindings::bpf_link) -> i32 {
        // SAFETY: By the caller's promise.
        let link = unsafe { Self::link(link) };
        from_result(|| T::detach(link).map(|()| 0))
    }

    /// # Safety
    ///
    /// Called by the BPF core with a live link of this type and the
    /// seq_file being shown.
    unsafe extern "C" fn show_fdinfo(link: *const bindings::bpf_link, m: *mut bindings::seq_file) {
        // INVARIANT: `m` is the seq_file this callback shows the link in.
        // SAFETY: By the caller's promise.
        let (link, m) = unsafe { (Self::link(link), &*m.cast::<SeqFile>()) };
        T::show_fdinfo(link, m);
    }

    /// # Safety
    ///
    /// Called by the BPF core with a live link of this type and its info.
    unsafe extern "C" fn fill_link_info(
        link: *const bindings::bpf_link,
        info: *mut bindings::bpf_link_info,
    ) -> i32 {
        // SAFETY: By the caller's promise.
        // INVARIANT: The info the core fills for this link, ours for the call.
        let (link, info) = unsafe { (Self::link(link), &mut *info.cast::<LinkInfo>()) };
        from_result(|| T::fill_link_info(link, info).map(|()| 0))
    }

    /// # Safety
    ///
    /// Called by the BPF core with a live link of this type, a live new map
    /// and a NULL or live old map.
    unsafe extern "C" fn update_map(
        link: *mut bindings::bpf_link,
        new: *mut bindings::bpf_map,
        old: *mut bindings::bpf_map,
    ) -> i32 {
        // SAFETY: By the caller's promise; the BPF core holds a reference on
        // `new` during the call, so taking another one is fine; this is the
        // `BPF_LINK_UPDATE` to `new` the core checked.
        let (link, new, old) = unsafe {
            (
                Self::link(link),
                T::UpdateMap::from_update(MapRef::from(Map::from_raw(new))),
                (!old.is_null()).then(|| Map::from_raw(old)),
            )
        };
        from_result(|| T::update_map(link, new.ok_or(EINVAL)?, old).map(|()| 0))
    }

    /// # Safety
    ///
    /// Called by the VFS with a link fd of this type being polled.
    unsafe extern "C" fn poll(
        file: *mut bindings::file,
        pts: *mut bindings::poll_table_struct,
    ) -> u32 {
        // SAFETY: A link file's private data is its link.
        let link = unsafe { Self::link((*file).private_data.cast()) };
        // INVARIANT: The file being polled and its table, for this call.
        T::poll(link, &PollWaiter { file, pts })
    }
}

/// A link between `bpf_link_prime()` and `bpf_link_settle()`: its fd is
/// reserved but not installed. Dropping it cleans the fd up and frees the
/// link through its `dealloc`.
///
/// # Invariants
///
/// `primer` was filled by a successful `bpf_link_prime()` of a `T`.
pub struct LinkPrimer<T: LinkType> {
    primer: bindings::bpf_link_primer,
    _p: PhantomData<T>,
}

impl<T: LinkType> LinkPrimer<T> {
    /// Initialises `link` with `ops` for `attach_type` (the request's, as
    /// `BPF_LINK_CREATE` gave it) and reserves its fd.
    pub fn new(
        link: Pin<KBox<T>>,
        ops: &'static LinkOpsTable<T>,
        attach_type: bindings::bpf_attach_type,
    ) -> Result<Self> {
        // SAFETY: The link does not move: C keeps it where it is until its
        // `dealloc`, which gets it back pinned.
        let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(link) });
        let raw = raw.cast::<bindings::bpf_link>();
        // SAFETY: By `LinkType`, `raw` starts with a `bpf_link`; no program.
        unsafe {
            bindings::bpf_link_init(
                raw,
                T::LINK_TYPE,
                &ops.0,
                core::ptr::null_mut(),
                attach_type,
            )
        };
        let mut primer = bindings::bpf_link_primer::default();
        // SAFETY: `raw` is an initialised link, `primer` writable.
        if let Err(e) = check(unsafe { bindings::bpf_link_prime(raw, &mut primer) }) {
            // Not in a file yet: ours to free.
            // SAFETY: `raw` came from `KBox::into_raw` above.
            drop(unsafe { KBox::from_raw(raw.cast::<T>()) });
            return Err(e);
        }
        // INVARIANT: Primed above.
        Ok(LinkPrimer {
            primer,
            _p: PhantomData,
        })
    }

    /// The link.
    #[inline]
    pub fn link(&self) -> &T {
        // SAFETY: By the type invariant, `primer.link` is our `T`, alive
        // while its file is.
        unsafe { &*self.primer.link.cast::<T>() }
    }

    /// Installs the fd; from now on userspace owns the link. Returns the fd.
    #[inline]
    pub fn settle(mut self) -> i32 {
        // SAFETY: By the type invariant the primer is primed.
        let fd = unsafe { bindings::bpf_link_settle(&mut self.primer) };
        core::mem::forget(self);
        fd
    }
}

impl<T: LinkType> Drop for LinkPrimer<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant the primer is primed and not settled.
        unsafe { bindings::bpf_link_cleanup(&mut self.primer) };
    }
}
