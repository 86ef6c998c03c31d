// SPDX-License-Identifier: GPL-2.0-only

//! `BPF_MAP_TYPE_STRUCT_OPS`, in Rust.
//!
//! A struct_ops map's value is a kernel struct of function pointers (e.g.
//! `struct tcp_congestion_ops`) whose slots BPF programs fill. Updating the
//! map builds one trampoline per program and registers the struct with its
//! subsystem; deleting it unregisters it. See
//! `Documentation/bpf/struct_ops_rust.rst`.
//!
//! This file holds the symbols the rest of the kernel takes from the
//! struct_ops implementation, with the C ABI of
//! `kernel/bpf/bpf_struct_ops.c`, which is not built when
//! `CONFIG_BPF_STRUCT_OPS_RUST` is on:
//!
//! - `desc.rs`: descriptors, built when a subsystem registers a type;
//! - `map.rs`: the map operations;
//! - `update.rs`: registration, the map update that builds trampolines;
//! - `link.rs`: links of `BPF_F_LINK` maps.
//!
//! All of it is safe Rust on `kernel::bpf`, which holds the `unsafe`: the
//! crate denies `unsafe_code`, and only the entry points below, which C
//! calls with raw pointers, are allowed it, one by one.

#![deny(unsafe_code)]

#[path = "struct_ops/desc.rs"]
mod desc;
#[path = "struct_ops/link.rs"]
mod link;
#[path = "struct_ops/map.rs"]
mod map;
#[path = "struct_ops/update.rs"]
mod update;

use core::ptr::NonNull;
use kernel::{
    bindings,
    bpf::{
        btf::Btf,
        link::LinkOpsTable,
        map::{Map, MapOpsTable},
        struct_ops::{
            Desc, DescSlot, StructOps, StructOpsLink, StructOpsMap, StructOpsMapRef, VerifierLog,
        },
        trampoline::{self, Image, TrampLinkOps},
    },
    error::{code::*, from_result},
    ffi::{c_int, c_void},
    prelude::export,
};

/// Prefix of this crate's log messages (`pr_warn!` and friends).
const __LOG_PREFIX: &[u8] = b"bpf_struct_ops\0";

/// The module the `#[vtable]` impls of this crate belong to: none, the
/// crate is built in.
pub(crate) struct LocalModule;

impl kernel::ModuleMetadata for LocalModule {
    const NAME: &'static kernel::str::CStr = c"bpf_struct_ops";
    // A built-in crate: the kernel's own null `THIS_MODULE`.
    #[allow(unsafe_code)]
    const THIS_MODULE: kernel::ThisModule = {
        // SAFETY: A null module pointer stands for the kernel itself, which
        // `try_module_get`/`module_put` accept.
        unsafe { kernel::ThisModule::from_ptr(core::ptr::null_mut()) }
    };
}

/// The map type's ops (`include/linux/bpf_types.h`).
#[allow(unsafe_code)] // An entry point from C.
#[no_mangle]
pub static bpf_struct_ops_map_ops: MapOpsTable = MapOpsTable::new::<map::StructOpsMapOps>();

/// Verifier ops of struct_ops programs: the subsystem's own apply instead.
#[allow(unsafe_code)] // An entry point from C.
#[no_mangle]
pub static bpf_struct_ops_verifier_ops: bindings::bpf_verifier_ops =
    kernel::bpf::prog::EMPTY_VERIFIER_OPS;

/// Prog ops of struct_ops programs: `BPF_PROG_TEST_RUN` (bpf_dummy_ops).
#[allow(unsafe_code)] // An entry point from C.
#[no_mangle]
pub static bpf_struct_ops_prog_ops: bindings::bpf_prog_ops = bindings::bpf_prog_ops {
    #[cfg(CONFIG_NET)]
    test_run: Some(bindings::bpf_struct_ops_test_run),
    #[cfg(not(CONFIG_NET))]
    test_run: None,
};

/// Ops of the links that tie a program to its trampoline.
#[allow(unsafe_code)] // An entry point from C.
#[no_mangle]
// SAFETY: A static of the kernel image (this crate is built in), the only
// one given to links.
pub static bpf_struct_ops_link_lops: TrampLinkOps = unsafe { TrampLinkOps::new() };

/// Ops of the links of struct_ops maps (`BPF_LINK_CREATE`).
// A table C calls through.
#[allow(unsafe_code)]
// SAFETY: A static of the kernel image (this crate is built in), the only
// one given to links.
static STRUCT_OPS_LINK_OPS: LinkOpsTable<StructOpsLink> =
    unsafe { LinkOpsTable::new::<link::StructOpsLinkOps>() };

/// Builds the descriptor of a struct_ops type a subsystem registers.
///
/// # Safety
///
/// `desc` is the descriptor being registered, used by nobody else, with its
/// `st_ops` set (its other fields may hold stale bytes: `btf_add_struct_ops()`
/// grows the table with `krealloc()`); `btf` is the registering BTF; `log`
/// is NULL or a log.
#[allow(unsafe_code)] // An entry point from C.
#[export]
pub unsafe extern "C" fn bpf_struct_ops_desc_init(
    desc: *mut bindings::bpf_struct_ops_desc,
    btf: *mut bindings::btf,
    log: *mut bindings::bpf_verifier_log,
) -> c_int {
    from_result(|| {
        let desc = NonNull::new(desc).ok_or(EINVAL)?;
        // SAFETY: By the caller's promise: the slot is ours, with `st_ops`
        // set, in the table of `btf`, which registers it.
        let (desc, log) = unsafe {
            (
                DescSlot::from_raw(desc, Btf::from_raw(btf)),
                VerifierLog::from_raw(log),
            )
        };
        desc::init(desc, log).map(|()| 0)
    })
}

/// Frees what [`bpf_struct_ops_desc_init`] allocated.
///
/// # Safety
///
/// `desc` is a descriptor being freed with its BTF, used by nobody else.
#[allow(unsafe_code)] // An entry point from C.
#[export]
pub unsafe extern "C" fn bpf_struct_ops_desc_release(desc: *mut bindings::bpf_struct_ops_desc) {
    // SAFETY: By the caller's promise.
    unsafe { Desc::from_raw_mut(desc) }.release();
}

/// Whether member at byte offset `moff` can be implemented (it has a stub).
///
/// # Safety
///
/// `st_ops` is a registered struct_ops and `moff` the offset of one of its
/// function pointer members (the verifier checks the member's type first).
#[allow(unsafe_code)] // An entry point from C.
#[export]
pub unsafe extern "C" fn bpf_struct_ops_supported(
    st_ops: *const bindings::bpf_struct_ops,
    moff: u32,
) -> c_int {
    // SAFETY: By the caller's promise.
    let st_ops = unsafe { &*st_ops.cast::<StructOps>() };
    // SAFETY: `moff` is a function pointer member's offset, by the
    // caller's promise.
    if unsafe { st_ops.cfi_stub_at(moff as usize) }.is_none() {
        ENOTSUPP.to_errno()
    } else {
        0
    }
}

/// Takes a subsystem reference on a registered struct_ops.
///
/// # Safety
///
/// `kdata` is the struct of a struct_ops map (its module owner is
/// `BPF_MODULE_OWNER`) that stays allocated for the call: the subsystem
/// found it registered, or is registering or validating it (the map holds
/// the struct until it is freed, and a zero count refuses the reference).
#[allow(unsafe_code)] // An entry point from C.
#[export]
pub unsafe extern "C" fn bpf_struct_ops_get(kdata: *const c_void) -> bool {
    // SAFETY: By the caller's promise.
    unsafe { StructOpsMap::from_kdata(kdata) }.try_get()
}

/// Drops a subsystem reference taken by [`bpf_struct_ops_get`].
///
/// # Safety
///
/// The caller owns a subsystem reference, from [`bpf_struct_ops_get`], on the
/// struct_ops map behind `kdata`, and gives it up.
#[allow(unsafe_code)] // An entry point from C.
#[export]
pub unsafe extern "C" fn bpf_struct_ops_put(kdata: *const c_void) {
    // SAFETY: By the caller's promise the map is alive and the reference ours.
    unsafe { StructOpsMap::from_kdata(kdata).put() };
}

/// The id of the struct_ops map whose struct is `kdata`.
///
/// # Safety
///
/// `kdata` is the struct of a live struct_ops map (the `kdata` a
/// subsystem's callbacks get).
#[allow(unsafe_code)] // An entry point from C.
#[export]
pub unsafe extern "C" fn bpf_struct_ops_id(kdata: *const c_void) -> u32 {
    // SAFETY: By the caller's promise.
    unsafe { StructOpsMap::from_kdata(kdata) }.map().id()
}

/// Calls `cb(prog, data)` for each program of the struct_ops map whose
/// struct is `kdata`, until one returns non-zero; returns that, or zero.
///
/// # Safety
///
/// `kdata` is the struct of a live struct_ops map, and the caller runs in
/// one of its subsystem's callbacks (`reg()` and the like) or after the map
/// left INIT; `cb` may be called with each program and `data`.
#[allow(unsafe_code)] // An entry point from C.
#[export]
pub unsafe extern "C" fn bpf_struct_ops_for_each_prog(
    kdata: *const c_void,
    cb: Option<unsafe extern "C" fn(*mut bindings::bpf_prog, *mut c_void) -> c_int>,
    data: *mut c_void,
) -> c_int {
    let Some(cb) = cb else { return 0 };
    // SAFETY: By the caller's promise.
    let tramps = unsafe { StructOpsMap::from_kdata(kdata).trampolines_of_callback() };
    // SAFETY: `cb` takes the programs and `data` (the caller's promise).
    tramps.map_or(0, |t| t.for_each_prog(|prog| unsafe { cb(prog, data) }))
}

/// `BPF_MAP_LOOKUP_ELEM` from the syscall.
///
/// # Safety
///
/// `map` is a struct_ops map, `key` points to 4 bytes and `value` to
/// `value_size` writable bytes.
#[allow(unsafe_code)] // An entry point from C.
#[export]
pub unsafe extern "C" fn bpf_struct_ops_map_sys_lookup_elem(
    map: *mut bindings::bpf_map,
    key: *mut c_void,
    value: *mut c_void,
) -> c_int {
    // SAFETY: By the caller's promise.
    let (st_map, key, value) = unsafe {
        let st_map = StructOpsMap::from_map(map);
        let size = st_map.map().value_size() as usize;
        (
            st_map,
            key.cast::<u32>().read_unaligned(),
            core::slice::from_raw_parts_mut(value.cast::<u8>(), size),
        )
    };
    from_result(|| map::sys_lookup(st_map, key, value).map(|()| 0))
}

/// Fills the struct_ops part of `BPF_OBJ_GET_INFO_BY_FD` on the map.
///
/// # Safety
///
/// `map` is a struct_ops map and `info` is writable.
#[allow(unsafe_code)] // An entry point from C.
#[export]
pub unsafe extern "C" fn bpf_map_struct_ops_info_fill(
    info: *mut bindings::bpf_map_info,
    map: *mut bindings::bpf_map,
) {
    // SAFETY: By the caller's promise.
    unsafe { (*info).btf_vmlinux_id = StructOpsMap::from_map(map).btf().obj_id() };
}

/// `BPF_LINK_CREATE` for a `BPF_F_LINK` struct_ops map.
///
/// # Safety
///
/// `attr` holds the attributes of `BPF_LINK_CREATE`.
#[allow(unsafe_code)] // An entry point from C.
#[export]
pub unsafe extern "C" fn bpf_struct_ops_link_create(attr: *mut bindings::bpf_attr) -> c_int {
    // SAFETY: By the caller's promise.
    let (map_fd, attach_type) = unsafe {
        (
            (*attr).link_create.__bindgen_anon_1.map_fd,
            (*attr).link_create.attach_type,
        )
    };
    from_result(|| {
        // SAFETY: For `BPF_LINK_CREATE` on the map, which `bpf()` checked.
        let map = unsafe { StructOpsMapRef::new(Map::from_fd(map_fd)?) }.ok_or(EINVAL)?;
        link::create(map, attach_type)
    })
}

/// Emits one trampoline for `node` into `*image` at `*image_off`, or into a
/// new page when `allow_alloc` and it does not fit (bpf_dummy_ops).
///
/// # Safety
///
/// `tnodes` are `BPF_TRAMP_MAX` tables, `node` a live tramp link's node, `model`
/// valid; `*image` is NULL or a page from this function with `*image_off`
/// bytes used, which the caller has neither protected nor made callable yet;
/// the link outlives every run of the trampoline written.
#[allow(unsafe_code)] // An entry point from C.
#[export]
pub unsafe extern "C" fn bpf_struct_ops_prepare_trampoline(
    tnodes: *mut bindings::bpf_tramp_nodes,
    node: *mut bindings::bpf_tramp_node,
    model: *const bindings::btf_func_model,
    stub_func: *mut c_void,
    image: *mut *mut c_void,
    image_off: *mut u32,
    allow_alloc: bool,
) -> c_int {
    from_result(|| {
        // SAFETY: By the caller's promise.
        let (model, cur, off) = unsafe { (&*model, (*image).cast::<u8>(), *image_off as usize) };
        // SAFETY: By the caller's promise.
        let size = unsafe { trampoline::trampoline_size(tnodes, node, model, stub_func) }?;
        let page_size = bindings::PAGE_SIZE;
        if size > page_size {
            return Err(E2BIG);
        }
        let (new_page, start) = if cur.is_null() || size > page_size.saturating_sub(off) {
            if !allow_alloc {
                return Err(E2BIG);
            }
            let page = Image::page()?;
            let start = page.as_ptr();
            (Some(page), start)
        } else {
            (None, cur.wrapping_add(off))
        };
        // SAFETY: `start..start + size` is inside an image page that the
        // caller has not protected or published yet (its promise), and the
        // link outlives the trampoline (the caller's too).
        let written =
            unsafe { trampoline::trampoline_write(tnodes, node, model, stub_func, start, size) }?;
        let off = match new_page {
            Some(page) => {
                // SAFETY: The caller gets the page, to free it with
                // `bpf_struct_ops_image_free`.
                unsafe { *image = page.into_raw_page()? };
                written
            }
            None => off + written,
        };
        // SAFETY: By the caller's promise.
        unsafe { *image_off = off as u32 };
        Ok(0)
    })
}

/// Frees a page from [`bpf_struct_ops_prepare_trampoline`].
///
/// # Safety
///
/// `image` is NULL or such a page, no longer used.
#[allow(unsafe_code)] // An entry point from C.
#[export]
pub unsafe extern "C" fn bpf_struct_ops_image_free(image: *mut c_void) {
    if let Some(p) = NonNull::new(image) {
        // SAFETY: By the caller's promise.
        drop(unsafe { Image::from_raw_page(p) });
    }
}
