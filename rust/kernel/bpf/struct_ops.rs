// SPDX-License-Identifier: GPL-2.0

//! struct_ops: kernel structs of function pointers implemented by BPF
//! programs, e.g. `struct tcp_congestion_ops`.
//!
//! C headers: [`include/linux/bpf.h`](srctree/include/linux/bpf.h),
//! [`include/linux/bpf_struct_ops_map.h`](srctree/include/linux/bpf_struct_ops_map.h).
//!
//! - [`StructOps`] is what a subsystem registers (`struct bpf_struct_ops`):
//!   its name, CFI stubs and callbacks (`reg`, `unreg`, `init_member`, ...).
//! - [`Desc`] is the BPF core's descriptor of it (`struct bpf_struct_ops_desc`).
//! - [`StructOpsMap`] is a `BPF_MAP_TYPE_STRUCT_OPS` map: its value, state,
//!   subsystem refcount and trampolines. [`Update`] is the map locked for an
//!   update, the only way to write the value.

use super::{
    btf::{Btf, BtfType, Member, ModuleBtf, ValueBtf},
    map::{Map, MapArea, MapCreateAttr, MapRef, MapType},
    trampoline::{Images, Ksym, TrampLink},
};
use crate::{
    alloc::{flags::GFP_KERNEL, KBox, KVec},
    bindings,
    error::{code::*, to_result, Result},
    ffi::c_void,
    str::CStr,
    types::{ForeignOwnable, Opaque},
};
use core::{mem::offset_of, ptr::NonNull};

/// Where a struct_ops map is in its life.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    /// Created, nothing registered; the only state that takes an update.
    Init,
    /// Registered with the subsystem.
    InUse,
    /// Unregistered; freed once its last user is gone.
    ToBeFree,
    /// A `BPF_F_LINK` map ready to be registered through links.
    Ready,
}

impl State {
    fn from_raw(s: bindings::bpf_struct_ops_state) -> Self {
        match s {
            bindings::bpf_struct_ops_state_BPF_STRUCT_OPS_STATE_INUSE => State::InUse,
            bindings::bpf_struct_ops_state_BPF_STRUCT_OPS_STATE_TOBEFREE => State::ToBeFree,
            bindings::bpf_struct_ops_state_BPF_STRUCT_OPS_STATE_READY => State::Ready,
            _ => State::Init,
        }
    }

    fn to_raw(self) -> bindings::bpf_struct_ops_state {
        match self {
            State::Init => bindings::bpf_struct_ops_state_BPF_STRUCT_OPS_STATE_INIT,
            State::InUse => bindings::bpf_struct_ops_state_BPF_STRUCT_OPS_STATE_INUSE,
            State::ToBeFree => bindings::bpf_struct_ops_state_BPF_STRUCT_OPS_STATE_TOBEFREE,
            State::Ready => bindings::bpf_struct_ops_state_BPF_STRUCT_OPS_STATE_READY,
        }
    }
}

/// The value `struct module *` members hold in a registered struct_ops map:
/// the subsystem then counts its users with `bpf_struct_ops_get()`/`_put()`.
pub fn module_owner() -> usize {
    // SAFETY: No preconditions; it returns a constant.
    unsafe { bindings::bpf_struct_ops_module_owner() as usize }
}

fn btf_id(i: usize) -> u32 {
    let ids = (&raw const bindings::bpf_struct_ops_btf_ids).cast::<u32>();
    // SAFETY: The C glue defines the list with two entries, written only by
    // resolve_btfids at build time.
    unsafe { ids.add(i.min(1)).read() }
}

/// BTF id of `struct module` in vmlinux (0 without modules).
pub fn module_type_id() -> u32 {
    btf_id(0)
}

/// BTF id of `struct bpf_struct_ops_common_value` in vmlinux.
pub fn common_value_type_id() -> u32 {
    btf_id(1)
}

/// The map ops' `map_btf_id`: the BTF id of `struct bpf_struct_ops_map`.
pub const fn map_btf_id() -> *mut i32 {
    (&raw mut bindings::bpf_struct_ops_map_btf_ids).cast()
}

/// Waits until no CPU can still be running a program or trampoline of a map
/// whose last reference is gone: an RCU grace period for the programs, an
/// RCU-tasks one for the trampolines' last instructions.
pub fn wait_trampolines() {
    // SAFETY: No preconditions; it may sleep, as its callers can.
    unsafe { bindings::bpf_struct_ops_wait_trampolines() };
}

/// Offset of the subsystem's struct (`data`) in the value.
pub const DATA_OFFSET: usize = offset_of!(bindings::bpf_struct_ops_value, data);
/// A struct_ops type as a subsystem registers it (`struct bpf_struct_ops`).
///
/// # Invariants
///
/// Wraps a registered `struct bpf_struct_ops`; only descriptor init, which
/// has it exclusively (`&mut`), writes it.
#[repr(transparent)]
pub struct StructOps(Opaque<bindings::bpf_struct_ops>);

impl StructOps {
    fn raw(&self) -> &bindings::bpf_struct_ops {
        // SAFETY: By the type invariant, shared references see no writes.
        unsafe { &*self.0.get() }
    }

    /// The name of the kernel struct, e.g. `tcp_congestion_ops`.
    pub fn name(&self) -> &CStr {
        let name = self.raw().name;
        if name.is_null() {
            return crate::c_str!("");
        }
        // SAFETY: A registered struct_ops names itself with a static string.
        unsafe { CStr::from_char_ptr(name) }
    }

    /// Whether the subsystem gave CFI stubs (required).
    pub fn has_cfi_stubs(&self) -> bool {
        !self.raw().cfi_stubs.is_null()
    }

    /// The CFI stub of the member at byte offset `moff` of `t`, the struct
    /// type the stubs instance; NULL when the member is not supported.
    pub fn cfi_stub(&self, t: &BtfType, moff: usize) -> *mut c_void {
        let stubs = self.raw().cfi_stubs.cast::<u8>();
        let fits = moff
            .checked_add(core::mem::size_of::<*mut c_void>())
            .is_some_and(|end| end <= t.size() as usize);
        if stubs.is_null() || !fits {
            return core::ptr::null_mut();
        }
        // SAFETY: `cfi_stubs` is an instance of `t`, and `moff` plus a pointer
        // is within it.
        unsafe { stubs.add(moff).cast::<*mut c_void>().read_unaligned() }
    }

    /// The CFI stub at byte offset `moff` of the stubs, without bounds.
    ///
    /// # Safety
    ///
    /// `moff` is the offset of a member of the type the stubs instance.
    pub unsafe fn cfi_stub_at(&self, moff: usize) -> *mut c_void {
        let stubs = self.raw().cfi_stubs.cast::<u8>();
        if stubs.is_null() {
            return core::ptr::null_mut();
        }
        // SAFETY: In bounds by the caller's promise.
        unsafe { stubs.add(moff).cast::<*mut c_void>().read_unaligned() }
    }

    /// The module that registered the type (NULL for vmlinux).
    pub fn owner(&self) -> *mut bindings::module {
        self.raw().owner
    }

    /// Whether links may switch a registration to another map.
    pub fn has_update(&self) -> bool {
        self.raw().update.is_some()
    }

    /// The subsystem's `init(btf)` check of the type.
    pub fn init(&self, btf: &Btf) -> Result {
        match self.raw().init {
            // SAFETY: The subsystem's callback, with its own BTF.
            Some(init) => to_result(unsafe { init(btf.as_raw()) }),
            None => Err(EINVAL),
        }
    }

    /// The func model of member `i`.
    pub fn func_model(&self, i: usize) -> Option<&bindings::btf_func_model> {
        self.raw().func_models.get(i)
    }

    /// Computes the func model of member `i` from its prototype.
    pub fn distill_func_model(
        &mut self,
        i: usize,
        log: *mut bindings::bpf_verifier_log,
        btf: &Btf,
        func_proto: &BtfType,
        name: &CStr,
    ) -> Result<&bindings::btf_func_model> {
        // SAFETY: `&mut self`: we have the struct exclusively.
        let raw = unsafe { &mut *self.0.get() };
        let model = raw.func_models.get_mut(i).ok_or(EINVAL)?;
        // SAFETY: `btf` and its type `func_proto` are valid, `name` is
        // NUL-terminated, `model` writable; `log` is the caller's (or NULL).
        to_result(unsafe {
            bindings::btf_distill_func_proto(log, btf.as_raw(), func_proto.as_raw(), name.as_char_ptr(), model)
        })?;
        Ok(model)
    }
}

/// The verifier information on the `__nullable` arguments of one member.
///
/// # Invariants
///
/// `0.info` is NULL with `cnt == 0`, or a `KVec` buffer of exactly `cnt`
/// entries given up with `into_raw_parts`.
#[repr(transparent)]
pub struct ArgInfo(bindings::bpf_struct_ops_arg_info);

impl ArgInfo {
    /// Arguments as the verifier should see them.
    pub fn new(args: &[bindings::bpf_ctx_arg_aux]) -> Result<Self> {
        if args.is_empty() {
            // INVARIANT: NULL and 0.
            return Ok(ArgInfo(bindings::bpf_struct_ops_arg_info::default()));
        }
        let mut v = KVec::with_capacity(args.len(), GFP_KERNEL)?;
        for a in args {
            v.push(*a, GFP_KERNEL)?;
        }
        let (info, len, _cap) = v.into_raw_parts();
        // INVARIANT: `with_capacity` reserved exactly `len` entries.
        Ok(ArgInfo(bindings::bpf_struct_ops_arg_info { info, cnt: len as u32 }))
    }
}

impl Drop for ArgInfo {
    fn drop(&mut self) {
        if !self.0.info.is_null() {
            let n = self.0.cnt as usize;
            // SAFETY: By the type invariant, a `KVec` buffer of `n` entries.
            drop(unsafe { KVec::from_raw_parts(self.0.info, n, n) });
        }
    }
}

/// The BPF core's descriptor of a struct_ops type.
///
/// # Invariants
///
/// Wraps a `struct bpf_struct_ops_desc` of a registered type. Once
/// [`Desc::set_types`] ran, `type`, `value_type` and the ids are those of a
/// BTF object that outlives the descriptor, and `arg_info` is NULL or a
/// `KVec` of exactly `vlen(type)` [`ArgInfo`]s.
#[repr(transparent)]
pub struct Desc(Opaque<bindings::bpf_struct_ops_desc>);

impl Desc {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is a live, initialised descriptor for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *const bindings::bpf_struct_ops_desc) -> &'a Self {
        // SAFETY: Transparent wrapper; validity is the caller's promise.
        unsafe { &*ptr.cast() }
    }

    /// Creates an exclusive reference, for descriptor init and release.
    ///
    /// # Safety
    ///
    /// `ptr` is a live descriptor nobody else uses for `'a`.
    pub unsafe fn from_raw_mut<'a>(ptr: *mut bindings::bpf_struct_ops_desc) -> &'a mut Self {
        // SAFETY: Transparent wrapper; exclusivity is the caller's promise.
        unsafe { &mut *ptr.cast() }
    }

    /// The descriptor whose value type is `value_id` in `btf`.
    pub fn find_value(btf: &Btf, value_id: u32) -> Option<&Desc> {
        // SAFETY: `btf` is valid; descriptors live as long as their BTF.
        let d = unsafe { bindings::bpf_struct_ops_find_value(btf.as_raw(), value_id) };
        // SAFETY: Found descriptors are initialised.
        NonNull::new(d.cast_mut()).map(|d| unsafe { Desc::from_raw(d.as_ptr()) })
    }

    fn raw(&self) -> &bindings::bpf_struct_ops_desc {
        // SAFETY: Shared references see no writes (those need `&mut`).
        unsafe { &*self.0.get() }
    }

    fn raw_mut(&mut self) -> &mut bindings::bpf_struct_ops_desc {
        // SAFETY: `&mut self` is exclusive.
        unsafe { &mut *self.0.get() }
    }

    /// The subsystem's struct_ops.
    pub fn st_ops(&self) -> &StructOps {
        // SAFETY: A descriptor always points to its struct_ops, which outlives it.
        unsafe { &*self.raw().st_ops.cast::<StructOps>() }
    }

    /// The subsystem's struct_ops, exclusively (descriptor init only).
    pub fn st_ops_mut(&mut self) -> &mut StructOps {
        // SAFETY: As above; `&mut self` means registration is in progress and
        // nobody else uses the struct_ops.
        unsafe { &mut *self.raw_mut().st_ops.cast::<StructOps>() }
    }

    /// The kernel struct's BTF type (e.g. `tcp_congestion_ops`).
    pub fn type_(&self) -> Option<&BtfType> {
        let t = self.raw().type_;
        // SAFETY: By the type invariant, a type of a BTF that outlives `self`.
        (!t.is_null()).then(|| unsafe { BtfType::from_raw(t) })
    }

    /// The value's BTF type (`bpf_struct_ops_<name>`).
    pub fn value_type(&self) -> Option<&BtfType> {
        let t = self.raw().value_type;
        // SAFETY: By the type invariant, a type of a BTF that outlives `self`.
        (!t.is_null()).then(|| unsafe { BtfType::from_raw(t) })
    }

    /// BTF id of the kernel struct.
    pub fn type_id(&self) -> u32 {
        self.raw().type_id
    }

    /// Records the BTF types found for the descriptor, with the members'
    /// argument information.
    pub fn set_types(&mut self, btf: &Btf, type_id: u32, value_id: u32, arg_info: KVec<ArgInfo>) -> Result {
        let t = btf.type_by_id(type_id).ok_or(EINVAL)?;
        let vt = btf.type_by_id(value_id).ok_or(EINVAL)?;
        if arg_info.len() != usize::from(t.vlen()) {
            return Err(EINVAL);
        }
        self.release();
        let (info, _, _) = arg_info.into_raw_parts();
        let raw = self.raw_mut();
        // INVARIANT: Types of `btf`, which owns the descriptor; `arg_info`
        // has exactly `vlen(t)` entries (`with_capacity` is exact).
        raw.type_ = t.as_raw();
        raw.value_type = vt.as_raw();
        raw.type_id = type_id;
        raw.value_id = value_id;
        raw.arg_info = info.cast();
        Ok(())
    }

    /// Frees the argument information.
    pub fn release(&mut self) {
        let n = self.type_().map_or(0, |t| usize::from(t.vlen()));
        let raw = self.raw_mut();
        let info = core::mem::replace(&mut raw.arg_info, core::ptr::null_mut());
        if !info.is_null() {
            // SAFETY: By the type invariant, a `KVec` of exactly `n` `ArgInfo`s
            // (a transparent wrapper of the C entries).
            drop(unsafe { KVec::from_raw_parts(info.cast::<ArgInfo>(), n, n) });
        }
    }
}

/// The trampolines of a registered map and everything they pin.
pub struct Trampolines {
    /// One link per func ptr member that has a program, in member order.
    pub links: KVec<TrampLink>,
    /// The kallsyms entries of the trampolines.
    pub ksyms: KVec<Ksym>,
    /// The pages the trampolines are in.
    pub images: Images,
}

/// A `BPF_MAP_TYPE_STRUCT_OPS` map (`struct bpf_struct_ops_map`).
///
/// # Invariants
///
/// - Created by [`StructOpsMap::create`]: `st_ops_desc`, `btf` and `uvalue` are
///   set, and the allocation holds `value_size` bytes at `kvalue`.
/// - `kvalue.data` and `uvalue` are written only under `lock` while the state
///   is INIT; other readers read them only after an acquire load of a state
///   other than INIT.
/// - `tramps` is NULL or a `KBox<Trampolines>` given up with `into_foreign`,
///   set and cleared under `lock` while the state is INIT, or at free.
/// - A non-zero `kvalue.common.refcnt` owns one reference to the map.
#[repr(transparent)]
pub struct StructOpsMap(Opaque<bindings::bpf_struct_ops_map>);

// SAFETY: `StructOpsMap` is a transparent wrapper of a C struct starting with
// `struct bpf_map`; all zeroes is valid; and the map ops that use it as their
// `Map` only ever see maps they allocated.
unsafe impl MapType for StructOpsMap {}

// SAFETY: Shared access follows the locking in the type invariants.
unsafe impl Sync for StructOpsMap {}
// SAFETY: The map may be freed on any thread.
unsafe impl Send for StructOpsMap {}

const KVALUE_OFFSET: usize = offset_of!(bindings::bpf_struct_ops_map, kvalue);

impl StructOpsMap {
    /// The size to allocate for a map whose value is `value_size` bytes.
    pub fn alloc_size(value_size: usize) -> usize {
        KVALUE_OFFSET + value_size.max(DATA_OFFSET)
    }

    /// Creates a map whose value is the struct_ops value type
    /// `attr.btf_vmlinux_value_type_id` of `btf`; the map keeps `btf` pinned
    /// until [`StructOpsMap::release`].
    ///
    /// Errors as in C: `ENOTSUPP` for an unknown value type, `EINVAL` for a
    /// value size that does not match it, `ENOMEM`.
    pub fn create(attr: &MapCreateAttr, btf: ValueBtf) -> Result<MapArea<Self>> {
        let b = btf.btf();
        let desc = Desc::find_value(b, attr.btf_vmlinux_value_type_id()).ok_or(ENOTSUPP)?;
        let (t, vt) = desc.type_().zip(desc.value_type()).ok_or(ENOTSUPP)?;
        if attr.value_size() != vt.size() {
            return Err(EINVAL);
        }
        let mut funcs_cnt = 0u32;
        for m in t.members() {
            if b.resolve_func_ptr(m.type_id()).is_some() {
                funcs_cnt += 1;
            }
        }
        let mut area = MapArea::<Self>::new(Self::alloc_size(vt.size() as usize))?;
        // SAFETY: No preconditions; the area comes back zeroed or NULL.
        let uvalue = unsafe { bindings::bpf_map_area_alloc(u64::from(vt.size()), bindings::NUMA_NO_NODE) };
        if uvalue.is_null() {
            return Err(ENOMEM);
        }
        area.init_from_attr(attr);
        let raw = area.0.get();
        // SAFETY: The map is new and ours alone; `__mutex_init` is given a
        // static lock class.
        unsafe {
            (*raw).st_ops_desc = desc.0.get();
            (*raw).btf = b.as_raw();
            (*raw).funcs_cnt = funcs_cnt;
            (*raw).uvalue = uvalue.cast();
            bindings::__mutex_init(
                &raw mut (*raw).lock,
                crate::c_str!("bpf_struct_ops_map::lock").as_char_ptr(),
                crate::static_lock_class!().as_ptr(),
            );
        }
        // INVARIANT: Set up above; a module's BTF stays pinned by the module
        // reference, which `release` drops.
        if let ValueBtf::Module(m) = btf {
            m.into_raw();
        }
        Ok(area)
    }

    /// Frees what [`StructOpsMap::create`] set up besides the map memory.
    pub fn release(area: &mut MapArea<Self>) {
        if area.btf().is_module() {
            // SAFETY: `create` kept the reference on the module that owns the
            // BTF, which is the one that registered the struct_ops.
            unsafe { ModuleBtf::put_raw(area.desc().st_ops().owner()) };
        }
        let raw = area.raw();
        // SAFETY: The map is being freed: nobody else uses it; `uvalue` is
        // from `bpf_map_area_alloc`.
        unsafe {
            bindings::bpf_map_area_free((*raw).uvalue.cast());
            (*raw).uvalue = core::ptr::null_mut();
        }
    }

    /// Creates a reference from the map pointer.
    ///
    /// # Safety
    ///
    /// `map` is a live struct_ops map for `'a`.
    pub unsafe fn from_map<'a>(map: *const bindings::bpf_map) -> &'a Self {
        // SAFETY: The `bpf_map` is the first field of the struct_ops map.
        unsafe { &*map.cast() }
    }

    /// Creates a reference from the kernel struct registered with the
    /// subsystem (`kvalue.data`).
    ///
    /// # Safety
    ///
    /// `kdata` is the `kvalue.data` of a live struct_ops map for `'a`.
    pub unsafe fn from_kdata<'a>(kdata: *const c_void) -> &'a Self {
        // SAFETY: `kdata` is `KVALUE_OFFSET + DATA_OFFSET` bytes into the map.
        unsafe { &*kdata.cast::<u8>().sub(KVALUE_OFFSET + DATA_OFFSET).cast() }
    }

    fn raw(&self) -> *mut bindings::bpf_struct_ops_map {
        self.0.get()
    }

    /// The map.
    pub fn map(&self) -> &Map {
        // SAFETY: The `bpf_map` is the first field.
        unsafe { Map::from_raw(self.raw().cast()) }
    }

    /// The struct_ops descriptor of the value type.
    pub fn desc(&self) -> &Desc {
        // SAFETY: By the type invariant it is set, and it outlives the map
        // (the map pins vmlinux or the module the type comes from).
        unsafe { Desc::from_raw((*self.raw()).st_ops_desc) }
    }

    /// The BTF the value type comes from.
    pub fn btf(&self) -> &Btf {
        // SAFETY: By the type invariant it is set; it outlives the map.
        unsafe { Btf::from_raw((*self.raw()).btf) }
    }

    /// The number of func ptr members.
    pub fn funcs_cnt(&self) -> u32 {
        // SAFETY: Fixed at init.
        unsafe { (*self.raw()).funcs_cnt }
    }

    fn common(&self) -> *mut bindings::bpf_struct_ops_common_value {
        // SAFETY: `kvalue` is in the map.
        unsafe { &raw mut (*self.raw()).kvalue.common }
    }

    fn kdata(&self) -> *mut u8 {
        // SAFETY: The map's allocation holds the whole value at `kvalue`.
        unsafe { self.raw().cast::<u8>().add(KVALUE_OFFSET + DATA_OFFSET) }
    }

    fn data_len(&self) -> usize {
        (self.map().value_size() as usize).saturating_sub(DATA_OFFSET)
    }

    /// The state, with acquire ordering.
    pub fn state(&self) -> State {
        // SAFETY: `common` is valid; the load is atomic.
        State::from_raw(unsafe { bindings::bpf_struct_ops_state_load_acquire(self.common()) })
    }

    /// Moves from `from` to `to` atomically; returns the state found.
    pub fn cmpxchg_state(&self, from: State, to: State) -> State {
        // SAFETY: `common` is valid; the exchange is atomic.
        State::from_raw(unsafe { bindings::bpf_struct_ops_state_cmpxchg(self.common(), from.to_raw(), to.to_raw()) })
    }

    /// The subsystem refcount: its users, registration included.
    pub fn refcnt(&self) -> u32 {
        // SAFETY: `common` is valid; the read is atomic.
        unsafe { bindings::refcount_read(&raw const (*self.common()).refcnt) }
    }

    /// Takes a subsystem reference unless the count is already zero.
    pub fn try_get(&self) -> bool {
        // SAFETY: `common` is valid; the increment is atomic.
        unsafe { bindings::refcount_inc_not_zero(&raw mut (*self.common()).refcnt) }
    }

    /// Drops a subsystem reference. The last one gives up the map reference
    /// the count owns, after an RCU grace period: the op that drops it may
    /// still be running on this map's trampoline.
    pub fn put(&self) {
        // SAFETY: `common` is valid; the decrement is atomic.
        if unsafe { bindings::refcount_dec_and_test(&raw mut (*self.common()).refcnt) } {
            // SAFETY: The count reached zero, so its map reference is ours to
            // give up, and it cannot be re-armed (only INIT maps are, and no
            // map goes back to INIT once armed): `rcu` is used once.
            unsafe { bindings::call_rcu(&raw mut (*self.raw()).rcu, Some(put_map_rcu)) };
        }
    }

    /// Copies the value as userspace sees it into `out`: zeroes before the
    /// first update, else prog ids in the func ptr slots, the state and the
    /// refcount.
    pub fn read_value(&self, out: &mut [u8]) {
        let state = self.state();
        out.fill(0);
        if state == State::Init {
            return;
        }
        // SAFETY: The state is not INIT (acquire), so `uvalue` is written and
        // stays unchanged; it holds `value_size` bytes.
        let uvalue = unsafe {
            core::slice::from_raw_parts((*self.raw()).uvalue.cast::<u8>(), self.map().value_size() as usize)
        };
        let n = out.len().min(uvalue.len());
        if let (Some(o), Some(u)) = (out.get_mut(..n), uvalue.get(..n)) {
            o.copy_from_slice(u);
        }
        let common = bindings::bpf_struct_ops_common_value {
            refcnt: bindings::refcount_t {
                refs: bindings::atomic_t { counter: self.refcnt() as i32 },
            },
            state: state.to_raw(),
        };
        // SAFETY: The common value is plain data.
        let bytes = unsafe {
            core::slice::from_raw_parts(
                (&raw const common).cast::<u8>(),
                core::mem::size_of::<bindings::bpf_struct_ops_common_value>(),
            )
        };
        if let Some(o) = out.get_mut(..bytes.len()) {
            o.copy_from_slice(bytes);
        }
    }

    /// Unregisters the value from the subsystem.
    pub fn unreg(&self, link: Option<&bindings::bpf_link>) {
        let link = link.map_or(core::ptr::null_mut(), |l| (l as *const bindings::bpf_link).cast_mut());
        if let Some(unreg) = self.desc().st_ops().raw().unreg {
            // SAFETY: The value was registered (state INUSE or a link's), so
            // `kdata` is complete and no longer written.
            unsafe { unreg(self.kdata().cast(), link) };
        }
    }

    /// Locks the map for an update.
    pub fn lock(&self) -> Update<'_> {
        // SAFETY: The mutex was initialised in `create`.
        unsafe { bindings::mutex_lock(&raw mut (*self.raw()).lock) };
        Update { map: self }
    }

    /// The trampolines, once the map left INIT.
    pub fn trampolines(&self) -> Option<&Trampolines> {
        if self.state() == State::Init {
            return None;
        }
        // SAFETY: Not INIT (acquire): `tramps` was set before and stays.
        let p = unsafe { (*self.raw()).tramps };
        // SAFETY: By the type invariant, NULL or a `KBox<Trampolines>`.
        (!p.is_null()).then(|| unsafe { <KBox<Trampolines> as ForeignOwnable>::borrow(p) })
    }

    /// Takes the trampolines back when the map is freed.
    pub fn take_trampolines(area: &mut MapArea<Self>) -> Option<KBox<Trampolines>> {
        let raw = area.raw();
        // SAFETY: The map is being freed: nobody else uses it.
        let p = unsafe { core::mem::replace(&mut (*raw).tramps, core::ptr::null_mut()) };
        // SAFETY: By the type invariant, NULL or a `KBox<Trampolines>`.
        (!p.is_null()).then(|| unsafe { <KBox<Trampolines> as ForeignOwnable>::from_foreign(p) })
    }
}

unsafe extern "C" fn put_map_rcu(head: *mut bindings::callback_head) {
    // SAFETY: `head` is the `rcu` field of a struct_ops map whose refcnt
    // reached zero and gave its map reference to this callback.
    unsafe {
        let map = head.cast::<u8>().sub(offset_of!(bindings::bpf_struct_ops_map, rcu));
        drop(MapRef::from_raw(NonNull::new_unchecked(map.cast())));
    }
}

/// A struct_ops map locked for an update.
///
/// # Invariants
///
/// Holds `map.lock`.
pub struct Update<'a> {
    map: &'a StructOpsMap,
}

impl<'a> Update<'a> {
    /// The map.
    pub fn map(&self) -> &'a StructOpsMap {
        self.map
    }

    /// The user's value (`uvalue`) and the kernel's struct (`kvalue.data`),
    /// writable while the map is INIT.
    pub fn values(&mut self) -> Result<(&mut [u8], &mut [u8])> {
        if self.map.state() != State::Init {
            return Err(EBUSY);
        }
        let m = self.map.raw();
        // SAFETY: By the type invariants, we hold the lock and the state is
        // INIT, so nobody else reads or writes either buffer; `uvalue` holds
        // `value_size` bytes and `kvalue.data` the rest of the value.
        unsafe {
            Ok((
                core::slice::from_raw_parts_mut((*m).uvalue.cast::<u8>(), self.map.map().value_size() as usize),
                core::slice::from_raw_parts_mut(self.map.kdata(), self.map.data_len()),
            ))
        }
    }

    /// The subsystem's `init_member()`: `Ok(true)` when it handled `member`.
    pub fn init_member(&mut self, t: &BtfType, member: &Member<'_>) -> Result<bool> {
        let Some(init_member) = self.map.desc().st_ops().raw().init_member else {
            return Ok(false);
        };
        let (uvalue, kdata) = self.values()?;
        let udata = uvalue.get_mut(DATA_OFFSET..).ok_or(EINVAL)?;
        // SAFETY: `t` and `member` come from the map's BTF; both buffers are
        // the type's size and ours under the lock.
        let r = unsafe { init_member(t.as_raw(), member.as_raw(), kdata.as_mut_ptr().cast(), udata.as_ptr().cast()) };
        to_result(r.min(0))?;
        Ok(r > 0)
    }

    /// The subsystem's `validate()` of the whole struct.
    pub fn validate(&mut self) -> Result {
        let Some(validate) = self.map.desc().st_ops().raw().validate else {
            return Ok(());
        };
        let (_, kdata) = self.values()?;
        // SAFETY: `kdata` is complete and ours under the lock.
        to_result(unsafe { validate(kdata.as_mut_ptr().cast()) })
    }

    /// Installs the trampolines (the map is still INIT).
    pub fn set_trampolines(&mut self, t: KBox<Trampolines>) -> Result {
        self.values()?;
        self.clear_trampolines();
        // SAFETY: Under the lock, INIT: nobody reads `tramps`.
        unsafe { (*self.map.raw()).tramps = t.into_foreign().cast_mut() };
        Ok(())
    }

    /// Drops the trampolines of a failed update (the map is still INIT).
    pub fn clear_trampolines(&mut self) {
        if self.values().is_err() {
            return;
        }
        // SAFETY: Under the lock, INIT: nobody reads `tramps`.
        let p = unsafe { core::mem::replace(&mut (*self.map.raw()).tramps, core::ptr::null_mut()) };
        if !p.is_null() {
            // SAFETY: By the type invariant, a `KBox<Trampolines>`.
            drop(unsafe { <KBox<Trampolines> as ForeignOwnable>::from_foreign(p) });
        }
    }

    /// Registers the value with the subsystem, the registration holding the
    /// first subsystem reference, which owns `map_ref`; then moves to INUSE.
    pub fn register(&mut self, map_ref: MapRef) -> Result {
        let (_, kdata) = self.values()?;
        let kdata = kdata.as_mut_ptr();
        let Some(reg) = self.map.desc().st_ops().raw().reg else {
            return Err(EOPNOTSUPP);
        };
        let common = self.map.common();
        // The count goes up before the value is published: a user that finds
        // it (e.g. a socket picking the CA) must be able to take a reference.
        // SAFETY: `common` is valid; the count is zero in INIT.
        unsafe { bindings::refcount_set(&raw mut (*common).refcnt, 1) };
        // SAFETY: `kdata` is complete; the subsystem may keep it until unreg.
        match to_result(unsafe { reg(kdata.cast(), core::ptr::null_mut()) }) {
            Ok(()) => {
                // INVARIANT: The count (1) owns `map_ref` from here on.
                core::mem::forget(map_ref);
                self.publish(State::InUse);
                Ok(())
            }
            Err(e) => {
                // Nothing was published, so nobody took a reference.
                // SAFETY: `common` is valid.
                unsafe { bindings::refcount_set(&raw mut (*common).refcnt, 0) };
                drop(map_ref);
                Err(e)
            }
        }
    }

    /// Publishes `state` with release ordering: readers that see it also see
    /// the value written before.
    pub fn publish(&mut self, state: State) {
        // SAFETY: `common` is valid; the store is atomic.
        unsafe { bindings::bpf_struct_ops_state_store_release(self.map.common(), state.to_raw()) };
    }

    /// Zeroes both values after a failed update.
    pub fn reset(&mut self) {
        self.clear_trampolines();
        if let Ok((u, k)) = self.values() {
            u.fill(0);
            k.fill(0);
        }
    }
}

impl Drop for Update<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we hold the lock.
        unsafe { bindings::mutex_unlock(&raw mut (*self.map.raw()).lock) };
    }
}
