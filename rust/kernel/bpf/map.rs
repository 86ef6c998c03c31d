// SPDX-License-Identifier: GPL-2.0

//! BPF maps: a map type written in Rust, turned into a `struct bpf_map_ops`.
//!
//! C header: [`include/linux/bpf.h`](srctree/include/linux/bpf.h).
//!
//! A map type implements [`MapOps`]; [`MapOpsTable::new`] builds the C ops
//! table from it, with one `extern "C"` adapter per operation that turns the
//! raw pointers into references and slices and the `Result` into an errno.

use crate::{
    bindings, build_error,
    error::{code::*, from_result, Error, Result},
    ffi::c_void,
    prelude::*,
    sync::aref::{ARef, AlwaysRefCounted},
    types::Opaque,
};
use core::{marker::PhantomData, ptr::NonNull};

/// A map's Rust type.
///
/// # Safety
///
/// Implementers have the layout of a C struct whose first field is a
/// `struct bpf_map`, all zeroes is a valid value of them, and every
/// `struct bpf_map` passed to the [`MapOps`] of which they are the `Map` is
/// the first field of one of them, allocated by that `MapOps::alloc`.
/// `BTF_ID` points to the BTF id (a `BTF_ID_LIST` entry, which
/// resolve_btfids fills at build time) of that C struct.
pub unsafe trait MapType: Sized {
    /// The BTF id of the map's C struct, for `map_btf_id`.
    const BTF_ID: *mut i32;

    /// Frees what the map holds besides its own memory: runs when its
    /// [`MapArea`] is dropped, after a failed creation too, right before the
    /// memory is freed.
    ///
    /// It gets a raw pointer: the map's count is zero (or was never set), so
    /// no reference to it may be made.
    ///
    /// # Safety
    ///
    /// Called only by [`MapArea`]'s drop, once, with the map exclusively.
    #[inline]
    unsafe fn release(_this: NonNull<Self>) {}
}

/// `BPF_F_*` map creation flags.
pub mod flags {
    use crate::bindings;

    /// The map's value is registered through links (struct_ops).
    pub const LINK: u32 = bindings::BPF_F_LINK;
    /// The value type comes from the BTF object `value_type_btf_obj_fd`.
    pub const VTYPE_BTF_OBJ_FD: u32 = bindings::BPF_F_VTYPE_BTF_OBJ_FD;
}

/// The attributes of `BPF_MAP_CREATE`.
///
/// # Invariants
///
/// Wraps the attributes the BPF core passes a map type's `map_alloc_check`
/// and `map_alloc`: those of the `BPF_MAP_CREATE` being served, in the first
/// arm of the union, every byte initialised.
#[repr(transparent)]
pub struct MapCreateAttr(bindings::bpf_attr);

impl MapCreateAttr {
    #[inline]
    fn create(&self) -> &bindings::bpf_attr__bindgen_ty_1 {
        // SAFETY: `BPF_MAP_CREATE` attributes are in the first union member;
        // every field is a plain integer.
        unsafe { &self.0.__bindgen_anon_1 }
    }

    /// Size of a key.
    #[inline]
    pub fn key_size(&self) -> u32 {
        self.create().key_size
    }

    /// Size of a value.
    #[inline]
    pub fn value_size(&self) -> u32 {
        self.create().value_size
    }

    /// Number of entries.
    #[inline]
    pub fn max_entries(&self) -> u32 {
        self.create().max_entries
    }

    /// `BPF_F_*` creation flags.
    #[inline]
    pub fn map_flags(&self) -> u32 {
        self.create().map_flags
    }

    /// BTF id of the kernel value type (struct_ops maps).
    #[inline]
    pub fn btf_vmlinux_value_type_id(&self) -> u32 {
        self.create().btf_vmlinux_value_type_id
    }

    /// BTF object fd the value type comes from (`BPF_F_VTYPE_BTF_OBJ_FD`).
    #[inline]
    pub fn value_type_btf_obj_fd(&self) -> i32 {
        self.create().value_type_btf_obj_fd
    }
}

/// The `struct bpf_map` every map starts with.
///
/// # Invariants
///
/// A `&Map` is a live map whose count is not zero for the lifetime of the
/// reference (the contract of [`Map::from_raw`]; [`MapArea`], which holds
/// maps whose count is zero, hands out no `&Map`). Its `id`, `map_type`,
/// `map_flags`, `value_size` and `btf_vmlinux_value_type_id` are set then and
/// do not change.
#[repr(transparent)]
pub struct Map(Opaque<bindings::bpf_map>);

impl Map {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` points to a live map whose count is not zero for `'a`: the
    /// caller holds a reference, or runs in an operation of the map that the
    /// BPF core called with one.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *const bindings::bpf_map) -> &'a Self {
        // SAFETY: Transparent wrapper; validity is the caller's promise.
        unsafe { &*ptr.cast() }
    }

    /// The raw map, for C calls.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::bpf_map {
        self.0.get()
    }

    /// The map id, as userspace sees it.
    #[inline]
    pub fn id(&self) -> u32 {
        // SAFETY: Set when the map got its fd, before any `&Map` reached a
        // subsystem, and never changed; read in place.
        unsafe { (*self.as_raw()).id }
    }

    /// The map type (`BPF_MAP_TYPE_*`).
    #[inline]
    pub fn map_type(&self) -> u32 {
        // SAFETY: Fixed at creation; read in place, as other fields of the
        // map change concurrently.
        unsafe { (*self.as_raw()).map_type }
    }

    /// `BPF_F_*` creation flags.
    #[inline]
    pub fn map_flags(&self) -> u32 {
        // SAFETY: As above.
        unsafe { (*self.as_raw()).map_flags }
    }

    /// Size of a value.
    #[inline]
    pub fn value_size(&self) -> u32 {
        // SAFETY: As above.
        unsafe { (*self.as_raw()).value_size }
    }

    /// BTF id of the kernel value type.
    #[inline]
    pub fn btf_vmlinux_value_type_id(&self) -> u32 {
        // SAFETY: As above.
        unsafe { (*self.as_raw()).btf_vmlinux_value_type_id }
    }

    /// Takes a reference to the map behind file descriptor `fd`.
    #[inline]
    pub fn from_fd(fd: u32) -> Result<MapRef> {
        // SAFETY: No preconditions; errors come back as error pointers.
        let p = crate::error::from_err_ptr(unsafe { bindings::bpf_map_get(fd) })?;
        let p = NonNull::new(p.cast::<Map>()).ok_or(EBADF)?;
        // SAFETY: `bpf_map_get` returned a reference, which we hand over.
        Ok(unsafe { ARef::from_raw(p) })
    }

    /// Takes a reference to the map unless its last one is already gone.
    #[inline]
    pub fn try_get(&self) -> Option<MapRef> {
        // SAFETY: `self` is a live map; the increment is atomic and never
        // revives a zero count.
        let p = unsafe { bindings::__bpf_map_inc_not_zero(self.as_raw(), false) };
        crate::error::from_err_ptr(p).ok()?;
        // SAFETY: A non-error return is a reference taken on `self`, which
        // we hand over.
        Some(unsafe { ARef::from_raw(NonNull::from(self)) })
    }
}

// SAFETY: `bpf_map_inc()` and `bpf_map_put()` keep the map alive until the
// count drops to zero, and a `&Map` exists only while the count is not zero
// (`Map::from_raw`'s contract; `MapArea`, which holds maps being created or
// freed, hands out no reference to them).
unsafe impl AlwaysRefCounted for Map {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: The count is not zero (see above).
        unsafe { bindings::bpf_map_inc(self.as_raw()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up a reference it owns; the free is
        // deferred to a work item (after an RCU callback for maps that set
        // `free_after_rcu_gp`), so any context will do.
        unsafe { bindings::bpf_map_put(obj.as_ptr().cast()) };
    }
}

// SAFETY: `Map`'s accessors read fields fixed at creation; references to it
// may be taken and dropped on any thread.
unsafe impl Sync for Map {}
// SAFETY: As above.
unsafe impl Send for Map {}

/// One reference to a map.
pub type MapRef = ARef<Map>;

/// The memory of a map, from `bpf_map_area_alloc()`, owned: a map being
/// created, or freed once its last reference is gone. It hands out no
/// reference to the map, whose count is zero then.
///
/// # Invariants
///
/// `ptr` is a zero-initialised `bpf_map_area_alloc()` area of at least
/// `size_of::<T>()` bytes, owned by this value.
pub struct MapArea<T: MapType> {
    ptr: NonNull<T>,
    _p: PhantomData<T>,
}

impl<T: MapType> MapArea<T> {
    /// Allocates `size` zeroed bytes (at least `size_of::<T>()`).
    ///
    /// Crate-private: the map type's own constructor builds it whole before
    /// anything outside sees it.
    #[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
    pub(crate) fn new(size: usize) -> Result<Self> {
        let size = size.max(core::mem::size_of::<T>());
        // SAFETY: No preconditions; the area comes back zeroed or NULL.
        let p = unsafe { bindings::bpf_map_area_alloc(size as u64, bindings::NUMA_NO_NODE) };
        // INVARIANT: Allocated, zeroed and large enough.
        NonNull::new(p.cast())
            .map(|ptr| MapArea {
                ptr,
                _p: PhantomData,
            })
            .ok_or(ENOMEM)
    }

    /// Sets the `struct bpf_map` fields from the creation attributes.
    #[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
    pub(crate) fn init_from_attr(&mut self, attr: &MapCreateAttr) {
        // SAFETY: By `MapType`, `T` starts with a `bpf_map`, which we own.
        unsafe {
            bindings::bpf_map_init_from_attr(
                self.ptr.as_ptr().cast(),
                (&raw const attr.0).cast_mut(),
            )
        };
    }

    /// The map being built, for its type's constructor.
    #[inline]
    #[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
    pub(crate) fn as_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// Hands the map over to the BPF core.
    #[inline]
    pub fn into_raw(self) -> *mut bindings::bpf_map {
        let p = self.ptr.as_ptr().cast();
        core::mem::forget(self);
        p
    }
}

impl<T: MapType> Drop for MapArea<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own the area; this is the one
        // call, right before the memory goes.
        unsafe { T::release(self.ptr) };
        // SAFETY: By the type invariant we own the area.
        unsafe { bindings::bpf_map_area_free(self.ptr.as_ptr().cast()) };
    }
}

/// A `struct seq_file` being written.
///
/// # Invariants
///
/// Wraps the `seq_file` a show callback (a map's `map_seq_show_elem`, a
/// link's `show_fdinfo`) was given, valid and written only by that callback
/// for the lifetime of the reference.
#[repr(transparent)]
pub struct SeqFile(Opaque<bindings::seq_file>);

impl SeqFile {
    /// The raw seq_file, for C calls.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::seq_file {
        self.0.get()
    }

    /// Writes a string.
    #[inline]
    pub fn puts(&self, s: &crate::str::CStr) {
        let bytes = s.to_bytes();
        // SAFETY: `self` is a seq_file being shown; `bytes` is readable.
        unsafe { bindings::seq_write(self.as_raw(), bytes.as_ptr().cast(), bytes.len()) };
    }

    /// Writes one character.
    #[inline]
    pub fn putc(&self, c: u8) {
        // SAFETY: `self` is a seq_file being shown.
        unsafe { bindings::seq_putc(self.as_raw(), c as crate::ffi::c_char) };
    }
}

/// The operations of a map type.
#[vtable]
pub trait MapOps {
    /// The map's type.
    type Map: MapType;

    /// Checks the creation attributes before anything is allocated.
    #[inline]
    fn alloc_check(_attr: &MapCreateAttr) -> Result {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Creates a map.
    fn alloc(attr: &MapCreateAttr) -> Result<MapArea<Self::Map>>;

    /// Frees a map whose last reference is gone: dropping `map` runs
    /// [`MapType::release`] and frees its memory.
    #[inline]
    fn free(map: MapArea<Self::Map>) {
        drop(map);
    }

    /// Writes the key after `key` (the first one if `None`) to `next`.
    #[inline]
    fn get_next_key(_map: &Self::Map, _key: Option<&[u8]>, _next: &mut [u8]) -> Result {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Looks `key` up for a BPF program, which would get a pointer to the
    /// element. Map types written in Rust do not hand out element pointers
    /// (nothing here could promise what a program may do through one), so
    /// this only says which error the lookup fails with.
    #[inline]
    fn lookup(_map: &Self::Map, _key: &[u8]) -> Error {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Stores `value` at `key`.
    #[inline]
    fn update(_map: &Self::Map, _key: &[u8], _value: &[u8], _flags: u64) -> Result {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Deletes `key`.
    #[inline]
    fn delete(_map: &Self::Map, _key: &[u8]) -> Result {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Shows the element at `key` in a pinned map's bpffs file.
    #[inline]
    fn seq_show(_map: &Self::Map, _key: &[u8], _m: &SeqFile) {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// The memory the map uses, in bytes.
    #[inline]
    fn mem_usage(_map: &Self::Map) -> u64 {
        build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }
}

/// A `struct bpf_map_ops` built from a [`MapOps`] implementation.
///
/// # Invariants
///
/// Built by [`MapOpsTable::new`]: the callbacks are the adapters of a
/// [`MapOps`] `T`, and `map_btf_id` is `T::Map`'s [`MapType::BTF_ID`], which
/// resolve_btfids writes at build time only.
#[repr(transparent)]
pub struct MapOpsTable(bindings::bpf_map_ops);

// SAFETY: The table is immutable; its pointers are functions and a BTF id
// that is written once, at build time, by resolve_btfids.
unsafe impl Sync for MapOpsTable {}

impl MapOpsTable {
    /// The table for `T`.
    pub const fn new<T: MapOps>() -> Self {
        let empty: bindings::bpf_map_ops = pin_init::zeroed();
        // INVARIANT: `T`'s adapters and BTF id.
        MapOpsTable(bindings::bpf_map_ops {
            map_alloc_check: if T::HAS_ALLOC_CHECK {
                Some(Adapter::<T>::alloc_check)
            } else {
                None
            },
            map_alloc: Some(Adapter::<T>::alloc),
            map_free: Some(Adapter::<T>::free),
            map_get_next_key: if T::HAS_GET_NEXT_KEY {
                Some(Adapter::<T>::get_next_key)
            } else {
                None
            },
            map_lookup_elem: if T::HAS_LOOKUP {
                Some(Adapter::<T>::lookup)
            } else {
                None
            },
            map_update_elem: if T::HAS_UPDATE {
                Some(Adapter::<T>::update)
            } else {
                None
            },
            map_delete_elem: if T::HAS_DELETE {
                Some(Adapter::<T>::delete)
            } else {
                None
            },
            map_seq_show_elem: if T::HAS_SEQ_SHOW {
                Some(Adapter::<T>::seq_show)
            } else {
                None
            },
            map_mem_usage: if T::HAS_MEM_USAGE {
                Some(Adapter::<T>::mem_usage)
            } else {
                None
            },
            map_btf_id: <T::Map as MapType>::BTF_ID,
            ..empty
        })
    }
}

struct Adapter<T: MapOps>(PhantomData<T>);

impl<T: MapOps> Adapter<T> {
    /// # Safety
    ///
    /// `map` is a live map of this type.
    #[inline]
    unsafe fn map<'a>(map: *const bindings::bpf_map) -> &'a T::Map {
        // SAFETY: By `MapType`, the map is the first field of a `T::Map`.
        unsafe { &*map.cast() }
    }

    /// # Safety
    ///
    /// `map` is a live map of this type and `key` is NULL or points to
    /// `key_size` readable bytes.
    #[inline]
    unsafe fn key<'a>(map: *const bindings::bpf_map, key: *const c_void) -> Option<&'a [u8]> {
        // SAFETY: Valid by the caller's promise.
        let size = unsafe { (*map).key_size } as usize;
        // SAFETY: Valid by the caller's promise.
        (!key.is_null()).then(|| unsafe { core::slice::from_raw_parts(key.cast::<u8>(), size) })
    }

    /// # Safety
    ///
    /// Called by the BPF core with the `BPF_MAP_CREATE` attributes.
    unsafe extern "C" fn alloc_check(attr: *mut bindings::bpf_attr) -> i32 {
        // INVARIANT: The attributes of the `BPF_MAP_CREATE` being served.
        // SAFETY: The BPF core passes the attributes being checked.
        let attr = unsafe { &*attr.cast::<MapCreateAttr>() };
        from_result(|| T::alloc_check(attr).map(|()| 0))
    }

    /// # Safety
    ///
    /// Called by the BPF core with the `BPF_MAP_CREATE` attributes.
    unsafe extern "C" fn alloc(attr: *mut bindings::bpf_attr) -> *mut bindings::bpf_map {
        // INVARIANT: The attributes of the `BPF_MAP_CREATE` being served.
        // SAFETY: The BPF core passes the creation attributes.
        let attr = unsafe { &*attr.cast::<MapCreateAttr>() };
        match T::alloc(attr) {
            Ok(map) => map.into_raw(),
            Err(e) => e.to_ptr(),
        }
    }

    /// # Safety
    ///
    /// Called by the BPF core once, with a map of this type whose last reference
    /// is gone.
    unsafe extern "C" fn free(map: *mut bindings::bpf_map) {
        // SAFETY: The BPF core passes a non-NULL map.
        let ptr = unsafe { NonNull::new_unchecked(map.cast()) };
        // INVARIANT: A map of ours whose last reference is gone; by `MapType`
        // it came from `T::alloc`, so we own the area.
        let area = MapArea::<T::Map> {
            ptr,
            _p: PhantomData,
        };
        T::free(area);
    }

    /// # Safety
    ///
    /// Called by the BPF core with a live map of this type, a NULL or
    /// `key_size` key and a `key_size` buffer.
    unsafe extern "C" fn get_next_key(
        map: *mut bindings::bpf_map,
        key: *mut c_void,
        next: *mut c_void,
    ) -> i32 {
        from_result(|| {
            // SAFETY: The BPF core passes a live map, a NULL or `key_size` key
            // and a `key_size` buffer for the next key.
            let (m, key, next) = unsafe {
                let size = (*map).key_size as usize;
                (
                    Self::map(map),
                    Self::key(map, key),
                    core::slice::from_raw_parts_mut(next.cast::<u8>(), size),
                )
            };
            T::get_next_key(m, key, next).map(|()| 0)
        })
    }

    /// # Safety
    ///
    /// Called by the BPF core with a live map of this type and a `key_size` key.
    unsafe extern "C" fn lookup(map: *mut bindings::bpf_map, key: *mut c_void) -> *mut c_void {
        // SAFETY: The BPF core passes a live map and a `key_size` key.
        let (m, key) = unsafe { (Self::map(map), Self::key(map, key)) };
        key.map_or(EINVAL, |k| T::lookup(m, k)).to_ptr()
    }

    /// # Safety
    ///
    /// Called by the BPF core with a live map of this type, a `key_size` key
    /// and a `value_size` value.
    unsafe extern "C" fn update(
        map: *mut bindings::bpf_map,
        key: *mut c_void,
        value: *mut c_void,
        flags: u64,
    ) -> isize {
        let r = (|| {
            // SAFETY: The BPF core passes a live map, a `key_size` key and a
            // `value_size` value.
            let (m, key, value) = unsafe {
                let size = (*map).value_size as usize;
                (
                    Self::map(map),
                    Self::key(map, key),
                    core::slice::from_raw_parts(value.cast::<u8>(), size),
                )
            };
            T::update(m, key.ok_or(EINVAL)?, value, flags)
        })();
        errno_long(r)
    }

    /// # Safety
    ///
    /// Called by the BPF core with a live map of this type and a `key_size` key.
    unsafe extern "C" fn delete(map: *mut bindings::bpf_map, key: *mut c_void) -> isize {
        // SAFETY: The BPF core passes a live map and a `key_size` key.
        let (m, key) = unsafe { (Self::map(map), Self::key(map, key)) };
        errno_long(key.ok_or(EINVAL).and_then(|k| T::delete(m, k)))
    }

    /// # Safety
    ///
    /// Called by the BPF core with a live map of this type, a `key_size` key
    /// and the seq_file being shown.
    unsafe extern "C" fn seq_show(
        map: *mut bindings::bpf_map,
        key: *mut c_void,
        m: *mut bindings::seq_file,
    ) {
        // INVARIANT: `m` is the seq_file this callback shows the element in.
        // SAFETY: The BPF core passes a live map, a `key_size` key and the
        // seq_file being shown.
        let (map, key, m) = unsafe { (Self::map(map), Self::key(map, key), &*m.cast::<SeqFile>()) };
        if let Some(key) = key {
            T::seq_show(map, key, m);
        }
    }

    /// # Safety
    ///
    /// Called by the BPF core with a live map of this type.
    unsafe extern "C" fn mem_usage(map: *const bindings::bpf_map) -> u64 {
        // SAFETY: The BPF core passes a live map.
        T::mem_usage(unsafe { Self::map(map) })
    }
}

#[inline]
fn errno_long(r: Result) -> isize {
    match r {
        Ok(()) => 0,
        Err(e) => Error::to_errno(e) as isize,
    }
}
