// SPDX-License-Identifier: GPL-2.0

//! The struct_ops map: its value, state, subsystem refcount and trampolines.

use super::{Desc, State, DATA_OFFSET};
use crate::{
    alloc::{flags::GFP_KERNEL, KBox, KVec},
    bindings,
    bpf::{
        btf::{Btf, BtfType, Member, ModuleBtf, ValueBtf, ValueBtfInner},
        errno::check,
        map::{Map, MapArea, MapCreateAttr, MapRef, MapType},
        prog::Prog,
        trampoline::{
            self, Images, Ksym, ProtectedImages, Slot, TrampLink, TrampLinkOps, TrampNodes,
        },
    },
    error::{code::*, Result},
    ffi::c_void,
    str::CStr,
    sync::{aref::ARef, Mutex, MutexGuard},
    types::{ForeignOwnable, Opaque},
};
use core::{mem::offset_of, ptr::NonNull};

/// The trampoline of one func ptr member. Its program is associated with
/// the map (`bpf_prog_assoc_struct_ops()`) while the record exists, see
/// [`Tramps`].
///
/// # Invariants
///
/// `index` and `moff` are the index and byte offset of a function pointer
/// member, with a CFI stub, of the struct of the map the record is for (the
/// `map` of the [`TrampPlan`] that made it); `link`'s program is a struct_ops
/// program loaded for that member, against that map's BTF. `slot`'s size is
/// what [`trampoline::size_of`] gave for `link`, the member's func model and
/// its stub.
struct Tramp {
    /// The program, as the trampoline calls it.
    link: ARef<TrampLink>,
    /// The trampoline's kallsyms entry.
    ksym: Ksym,
    /// Where the trampoline is in the images.
    slot: Slot,
    /// The member's index in the struct (its func model).
    index: usize,
    /// The member's offset in the struct.
    moff: usize,
}

/// The trampolines of a map being built or installed. Each program is
/// associated with the map from [`TrampPlan::add`] on, for kfuncs that look
/// up the map of the program that calls them
/// (`bpf_prog_get_assoc_struct_ops()`), until [`Tramps::disassoc`], which
/// the drop does if nobody did before.
///
/// # Invariants
///
/// Unless `disassociated`, each program of `tramps` was associated with the
/// map.
struct Tramps {
    tramps: KVec<Tramp>,
    disassociated: bool,
}

impl Tramps {
    /// Ends the programs' associations with the map, once. Readers of an
    /// association hold RCU: a map being freed does this before its grace
    /// periods.
    fn disassoc(&mut self) {
        if core::mem::replace(&mut self.disassociated, true) {
            return;
        }
        for t in self.tramps.iter() {
            // SAFETY: A live program, associated with the map (type
            // invariant).
            unsafe { bindings::bpf_prog_disassoc_struct_ops(t.link.prog()) };
        }
    }
}

impl Drop for Tramps {
    fn drop(&mut self) {
        self.disassoc();
    }
}

/// A member of a map's struct that is a function pointer, where a
/// trampoline can go: made by [`StructOpsMap::member_kind`], which looks it
/// up in the map's BTF once for both the caller and [`TrampPlan::add`].
///
/// # Invariants
///
/// The member is one of the struct of the map that made it, and its type in
/// that map's BTF, which holds the struct, is a function pointer.
#[derive(Clone, Copy)]
pub struct FuncPtr<'a>(Member<'a>);

impl<'a> FuncPtr<'a> {
    /// The member.
    #[inline]
    pub fn member(&self) -> Member<'a> {
        self.0
    }
}

/// What a member of a map's struct holds, by its type in the map's BTF:
/// made by [`StructOpsMap::member_kind`], which resolves the type once.
#[derive(Clone, Copy)]
pub enum MemberKind<'a> {
    /// A `struct module *`, through which the subsystem counts the map's
    /// users: the update sets it (see [`Update::is_module_owner`]).
    ModuleOwner,
    /// A function pointer, where a trampoline can go.
    FuncPtr(FuncPtr<'a>),
    /// Anything else.
    Other,
}

/// The trampolines an update will build: one per func ptr member that has
/// a program, each checked against its member.
///
/// # Invariants
///
/// Each record of `tramps` is of a member of `map`'s struct (see `Tramp`),
/// and its program was associated with `map`. `sleepable` is `true` when
/// the program of any record is sleepable.
pub struct TrampPlan<'a> {
    map: &'a StructOpsMap,
    /// The struct's name, for the trampolines' symbols.
    type_name: &'a CStr,
    link_ops: &'static TrampLinkOps,
    tramps: Tramps,
    tnodes: TrampNodes,
    sleepable: bool,
}

impl<'a> TrampPlan<'a> {
    /// An empty plan for the trampolines of `map`, whose links to the
    /// programs will have the ops `link_ops`.
    pub fn new(map: &'a StructOpsMap, link_ops: &'static TrampLinkOps) -> Result<Self> {
        let t = map.desc().type_().ok_or(EINVAL)?;
        // INVARIANT: No record yet.
        Ok(TrampPlan {
            map,
            type_name: map.btf().type_name(t),
            link_ops,
            tramps: Tramps {
                tramps: KVec::with_capacity(map.funcs_cnt() as usize, GFP_KERNEL)?,
                disassociated: false,
            },
            tnodes: TrampNodes::new()?,
            sleepable: false,
        })
    }

    /// Plans the trampoline through which `func_ptr`, a member of the map's
    /// struct, calls `prog`. `EINVAL`, as in C, unless `prog` is a struct_ops
    /// program loaded for that member (its type, its index) of this BTF (or
    /// when `func_ptr` is of another struct); errors of sizing the
    /// trampoline, `ENOMEM`.
    pub fn add(&mut self, func_ptr: FuncPtr<'_>, prog: ARef<Prog>) -> Result {
        let map = self.map;
        let member = &func_ptr.member();
        // The member is of this map's struct type (the same `BtfType`, so of
        // the same BTF): by `FuncPtr`'s invariant, a function pointer in it,
        // whichever map made `func_ptr`.
        let t = map.member_of_type(member)?;
        let btf = map.btf();
        if prog.prog_type() != bindings::bpf_prog_type_BPF_PROG_TYPE_STRUCT_OPS
            || prog.attach_btf_id() != map.desc().type_id()
            || prog.expected_attach_type() as usize != member.index()
            || !prog.attaches_to(btf)
        {
            return Err(EINVAL);
        }
        let st_ops = map.desc().st_ops();
        let moff = member.offset();
        // INVARIANT: Set before the program's record is added.
        self.sleepable |= prog.sleepable();
        let link = TrampLink::new(prog, self.link_ops)?;
        let ksym = Ksym::new(self.type_name, btf.name_by_offset(member.name_off()))?;
        let model = st_ops.func_model(member.index()).ok_or(EINVAL)?;
        // SAFETY: `t` is the map's struct, the type of its struct_ops, whose
        // stubs instance it, and `moff` the offset of `func_ptr`, one of its
        // function pointers. The verifier refuses programs for members
        // without a stub; checked here too, not relied on.
        let stub = Some(unsafe { st_ops.cfi_stub(t, moff) }.ok_or(EINVAL)?);
        // SAFETY: The model and stub of the member, a function pointer
        // (`FuncPtr`'s invariant, for this map's struct as checked above), as
        // the descriptor's init computed them.
        let size = unsafe { trampoline::size_of(&mut self.tnodes, &link, &model, stub) }?;
        // INVARIANT: `member` is a function pointer of the map's struct, with
        // a stub; `prog` was checked against it, and `size` computed for this
        // link, model and stub, above. The program is associated below.
        self.tramps.tramps.push(
            Tramp {
                link,
                ksym,
                slot: Slot::new(size),
                index: member.index(),
                moff,
            },
            GFP_KERNEL,
        )?;
        // Associated once recorded, so that the drop ends the association.
        // A program already used by another map is poisoned rather than
        // refused, as C does (for compatibility): no error.
        if let Some(t) = self.tramps.tramps.last() {
            // SAFETY: A live program and map.
            unsafe { bindings::bpf_prog_assoc_struct_ops(t.link.prog(), map.map().as_raw()) };
        }
        Ok(())
    }
}

/// The trampolines of a map and everything they pin: the programs (through
/// their links), the images and the kallsyms entries.
///
/// # Invariants
///
/// `installed` says whether the trampolines may have been reached (the
/// func ptr slots of a value that left INIT, or that a failed `reg()` saw,
/// point into `images`; the symbols may be published): dropping it then
/// withdraws the symbols and waits until no CPU can be running a trampoline
/// or program before anything is freed.
///
/// `sleepable` is `true` when any program of `tramps` is sleepable: the drop
/// then also waits for the RCU tasks trace grace period those run under.
pub struct Trampolines {
    tramps: Tramps,
    images: ProtectedImages,
    sleepable: bool,
    installed: bool,
}

impl Trampolines {
    /// The memory they take: the records, links and symbols, and the
    /// executable bytes of the images.
    pub fn mem_usage(&self) -> usize {
        core::mem::size_of::<Self>()
            + self.tramps.tramps.capacity() * core::mem::size_of::<Tramp>()
            + self.tramps.tramps.len()
                * (core::mem::size_of::<bindings::bpf_tramp_link>()
                    + core::mem::size_of::<bindings::bpf_ksym>())
            + self.images.bytes()
    }

    /// Calls `f` with each program, in member order, until it returns
    /// non-zero; returns that, or zero.
    pub fn for_each_prog(&self, mut f: impl FnMut(*mut bindings::bpf_prog) -> i32) -> i32 {
        self.tramps
            .tramps
            .iter()
            .map(|t| f(t.link.prog()))
            .find(|&r| r != 0)
            .unwrap_or(0)
    }

    /// Publishes the symbols: the trampolines are about to be reachable.
    fn install(&mut self) {
        self.tramps.tramps.iter_mut().for_each(|t| t.ksym.add());
        // INVARIANT: Published; the caller makes the value leave INIT.
        self.installed = true;
    }
}

impl Drop for Trampolines {
    #[inline]
    fn drop(&mut self) {
        // Before the grace periods, which then cover the readers of the
        // associations.
        self.tramps.disassoc();
        if !self.installed {
            // Never reachable: nothing can be running them.
            return;
        }
        // SAFETY: `wait_trampolines` below waits for an RCU grace period
        // before the symbols go with `self`.
        self.tramps
            .tramps
            .iter_mut()
            .for_each(|t| unsafe { t.ksym.del() });
        // An op may have dropped the last subsystem reference while still
        // running on a trampoline (a CA switching its own socket to another
        // CA): wait for the programs (RCU) and for the trampolines' last
        // instructions (RCU tasks), and for sleepable programs (RCU tasks
        // trace, after an RCU-tasks grace period that lets a task preempted
        // before the program reach it; 7.3's C misses both). The symbols'
        // readers are covered by the RCU grace period.
        super::wait_trampolines(self.sleepable);
    }
}

/// A `BPF_MAP_TYPE_STRUCT_OPS` map (`struct bpf_struct_ops_map`).
///
/// # Invariants
///
/// - Created by [`StructOpsMap::create`]: `st_ops_desc`, `btf` and `uvalue`
///   are set, `lock` initialised, and the allocation holds `value_size`
///   bytes at `kvalue`.
/// - While a `&StructOpsMap` exists, the map's own count is not zero (maps
///   being created or freed are only reached through `MapArea` and raw
///   pointers).
/// - `kvalue.data` and `uvalue` are written only under `lock` while the state
///   is INIT; other readers read them only after an acquire load of a state
///   other than INIT, and the state never goes back to INIT from there.
/// - `tramps` is NULL or an installed `KBox<Trampolines>` given up with
///   `into_foreign`; it is set under `lock` before the state leaves INIT,
///   and taken back only when the map's memory goes, or under `lock` in
///   INIT when `reg()` failed.
/// - `btf` holds a reference on its module (for a module's BTF) from the
///   end of [`StructOpsMap::create`] until `release` clears it.
/// - A non-zero `kvalue.common.refcnt` owns one reference to the map; a zero
///   count owns none. The decrement that brings it to zero takes that
///   reference, and only a registration, with a new one, raises a zero
///   count again.
#[repr(transparent)]
pub struct StructOpsMap(Opaque<bindings::bpf_struct_ops_map>);

// SAFETY: `StructOpsMap` is a transparent wrapper of a C struct starting with
// `struct bpf_map`; all zeroes is valid; the map ops that use it as their
// `Map` only ever see maps they allocated; `BTF_ID` is the `BTF_ID_LIST`
// entry of `struct bpf_struct_ops_map`.
unsafe impl MapType for StructOpsMap {
    const BTF_ID: *mut i32 = super::map_btf_id();

    /// Frees the trampolines (after the grace periods that keep running ones
    /// safe), the user's copy of the value, and the module reference.
    /// Handles a map whose creation stopped half-way: every field it frees
    /// may still be NULL.
    unsafe fn release(this: NonNull<Self>) {
        let raw = this.as_ptr().cast::<bindings::bpf_struct_ops_map>();
        // SAFETY: The map is being freed and is ours alone (the caller's
        // promise): nobody reads these fields any more.
        let (tramps, uvalue, btf) = unsafe {
            (
                core::mem::take(&mut (*raw).tramps),
                core::mem::take(&mut (*raw).uvalue),
                core::mem::take(&mut (*raw).btf),
            )
        };
        if !tramps.is_null() {
            // SAFETY: By the type invariant, a `KBox<Trampolines>`; its drop
            // waits for the trampolines' last users.
            drop(unsafe { <KBox<Trampolines> as ForeignOwnable>::from_foreign(tramps) });
        }
        if !uvalue.is_null() {
            // SAFETY: From `bpf_map_area_alloc` in `create`, unused now.
            unsafe { bindings::bpf_map_area_free(uvalue.cast()) };
        }
        // SAFETY: A set `btf` is valid (type invariant).
        if !btf.is_null() && unsafe { Btf::from_raw(btf) }.is_module() {
            // SAFETY: By the type invariant `create` kept the reference on
            // the module that owns the BTF, which is the module that
            // registered the struct_ops (a BTF's descriptors are those of its
            // own module); `btf` is now NULL, so it is put once. The
            // descriptor outlives the map (set with `btf`).
            unsafe {
                let desc = Desc::from_raw((*raw).st_ops_desc);
                ModuleBtf::put_raw(desc.st_ops().owner());
            }
        }
    }
}

// SAFETY: Shared access follows the locking in the type invariants.
unsafe impl Sync for StructOpsMap {}
// SAFETY: The map may be freed on any thread.
unsafe impl Send for StructOpsMap {}

const KVALUE_OFFSET: usize = offset_of!(bindings::bpf_struct_ops_map, kvalue);

impl StructOpsMap {
    /// The size to allocate for a map whose value is `value_size` bytes.
    #[inline]
    pub fn alloc_size(value_size: usize) -> usize {
        KVALUE_OFFSET + value_size.max(DATA_OFFSET)
    }

    /// Creates a map whose value is the struct_ops value type
    /// `attr.btf_vmlinux_value_type_id` of `btf`; the map keeps `btf` pinned
    /// until it is freed.
    ///
    /// Errors as in C: `ENOTSUPP` for an unknown value type, `EINVAL` for a
    /// value size that does not match it, `ENOMEM`.
    pub fn create(attr: &MapCreateAttr, btf: ValueBtf) -> Result<MapArea<Self>> {
        let b = btf.btf();
        // SAFETY: `btf` came from the map's creation request: vmlinux's, or
        // a module's taken with `btf_try_get_module()` (`ValueBtf`), whose
        // init, which registers its types, has finished.
        let desc =
            unsafe { Desc::find_value(b, attr.btf_vmlinux_value_type_id()) }.ok_or(ENOTSUPP)?;
        let (t, vt) = desc.type_().zip(desc.value_type()).ok_or(ENOTSUPP)?;
        if attr.value_size() != vt.size() {
            return Err(EINVAL);
        }
        let mut funcs_cnt = 0u32;
        let mut module_owners = 0u64;
        for m in t.members() {
            // SAFETY: `t`, the descriptor's struct, is a struct of `b`, where
            // it was found.
            match unsafe { Self::kind_of(b, &m) } {
                MemberKind::FuncPtr(_) => funcs_cnt += 1,
                MemberKind::ModuleOwner => {
                    module_owners |= 1u64.checked_shl(m.index() as u32).ok_or(EINVAL)?
                }
                MemberKind::Other => (),
            }
        }
        let mut area = MapArea::<Self>::new(Self::alloc_size(vt.size() as usize))?;
        // SAFETY: No preconditions; the area comes back zeroed or NULL.
        let uvalue =
            unsafe { bindings::bpf_map_area_alloc(u64::from(vt.size()), bindings::NUMA_NO_NODE) };
        if uvalue.is_null() {
            return Err(ENOMEM);
        }
        area.init_from_attr(attr);
        let raw = area.as_ptr().cast::<bindings::bpf_struct_ops_map>();
        // SAFETY: The map is new and ours alone.
        unsafe {
            (*raw).st_ops_desc = desc.as_raw();
            (*raw).funcs_cnt = funcs_cnt;
            (*raw).module_owners = module_owners;
            // Freed after an RCU grace period (`call_rcu()` in the task that
            // drops the last reference) rather than from a work item queued
            // at once, whose worker a preemptible kernel would run inside
            // that task's syscall. Nothing is freed earlier than in C, whose
            // free waits for more grace periods anyway.
            (*raw).map.free_after_rcu_gp = true;
            (*raw).uvalue = uvalue.cast();
            bindings::bpf_struct_ops_map_init_lock(raw);
            (*raw).btf = b.as_raw();
        }
        // INVARIANT: Set up above; a module's BTF stays pinned by the module
        // reference, which `release` drops once `btf` is set.
        if let ValueBtfInner::Module(m) = btf.into_inner() {
            m.into_raw();
        }
        Ok(area)
    }

    /// Creates a reference from the map pointer.
    ///
    /// # Safety
    ///
    /// `map` is a live struct_ops map whose count is not zero for `'a` (see
    /// [`Map::from_raw`]).
    #[inline]
    pub unsafe fn from_map<'a>(map: *const bindings::bpf_map) -> &'a Self {
        // SAFETY: The `bpf_map` is the first field of the struct_ops map.
        unsafe { &*map.cast() }
    }

    /// Creates a reference from the kernel struct registered with the
    /// subsystem (`kvalue.data`).
    ///
    /// # Safety
    ///
    /// `kdata` is the `kvalue.data` of a live struct_ops map whose count is
    /// not zero for `'a` (see [`Map::from_raw`]): a subsystem that found it
    /// registered under RCU, or holds a subsystem reference, whose count
    /// owns a map reference.
    #[inline]
    pub unsafe fn from_kdata<'a>(kdata: *const c_void) -> &'a Self {
        // SAFETY: `kdata` is `KVALUE_OFFSET + DATA_OFFSET` bytes into the map.
        unsafe { &*kdata.cast::<u8>().sub(KVALUE_OFFSET + DATA_OFFSET).cast() }
    }

    #[inline]
    fn raw(&self) -> *mut bindings::bpf_struct_ops_map {
        self.0.get()
    }

    /// The map.
    #[inline]
    pub fn map(&self) -> &Map {
        // SAFETY: The `bpf_map` is the first field; its count is not zero
        // while `self` exists (type invariant).
        unsafe { Map::from_raw(self.raw().cast()) }
    }

    /// The struct_ops descriptor of the value type.
    #[inline]
    pub fn desc(&self) -> &Desc {
        // SAFETY: By the type invariant it is set, and it outlives the map
        // (the map pins vmlinux or the module the type comes from).
        unsafe { Desc::from_raw((*self.raw()).st_ops_desc) }
    }

    /// The BTF the value type comes from.
    #[inline]
    pub fn btf(&self) -> &Btf {
        // SAFETY: By the type invariant it is set; it outlives the map.
        unsafe { Btf::from_raw((*self.raw()).btf) }
    }

    /// What `member`, a member of the map's struct, holds; `EINVAL` when
    /// it is a member of another struct. One lookup of its type, as C's
    /// update makes, for both [`Update::is_module_owner`] and the
    /// trampolines ([`FuncPtr`]).
    pub fn member_kind<'m>(&self, member: &Member<'m>) -> Result<MemberKind<'m>> {
        self.member_of_type(member)?;
        // SAFETY: A member of the map's struct, which is in the map's BTF.
        Ok(unsafe { Self::kind_of(self.btf(), member) })
    }

    /// What `member` holds.
    ///
    /// # Safety
    ///
    /// `member` is a member of the map's struct, and `btf` the map's BTF.
    unsafe fn kind_of<'m>(btf: &Btf, member: &Member<'m>) -> MemberKind<'m> {
        // SAFETY: A member of the map's struct, which is in the map's BTF
        // (the caller's promise): its type is one of that BTF's.
        let Some((ptype, res_id)) = (unsafe { btf.resolve_ptr_unchecked(member.type_id()) }) else {
            return MemberKind::Other;
        };
        if ptype.is_func_proto() {
            // INVARIANT: A member of this map's struct, a function pointer in
            // its BTF.
            return MemberKind::FuncPtr(FuncPtr(*member));
        }
        // The map's BTF is vmlinux's or a module's, which is split on
        // vmlinux's: a pointer to vmlinux's `struct module` resolves to its
        // id in both, as C's compare of the type pointers finds.
        let module = super::module_type_id();
        if module != 0 && res_id == module {
            MemberKind::ModuleOwner
        } else {
            MemberKind::Other
        }
    }

    /// The `struct module *` members, a bit per member index (found at
    /// creation).
    #[inline]
    fn module_owners(&self) -> u64 {
        // SAFETY: Fixed at creation.
        unsafe { (*self.raw()).module_owners }
    }

    /// The number of func ptr members.
    #[inline]
    pub fn funcs_cnt(&self) -> u32 {
        // SAFETY: Fixed at creation.
        unsafe { (*self.raw()).funcs_cnt }
    }

    #[inline]
    pub(super) fn common(&self) -> *mut bindings::bpf_struct_ops_common_value {
        // SAFETY: `kvalue` is in the map.
        unsafe { &raw mut (*self.raw()).kvalue.common }
    }

    pub(super) fn kdata(&self) -> *mut c_void {
        // SAFETY: The map's allocation holds the whole value at `kvalue`.
        unsafe {
            self.raw()
                .cast::<u8>()
                .add(KVALUE_OFFSET + DATA_OFFSET)
                .cast()
        }
    }

    /// The map's struct type, if `member` is one of its members (`EINVAL`
    /// otherwise): callbacks and slots are trusted only for those.
    fn member_of_type(&self, member: &Member<'_>) -> Result<&BtfType> {
        let t = self.desc().type_().ok_or(EINVAL)?;
        if core::ptr::eq(member.parent(), t) {
            Ok(t)
        } else {
            Err(EINVAL)
        }
    }

    #[inline]
    fn data_len(&self) -> usize {
        (self.map().value_size() as usize).saturating_sub(DATA_OFFSET)
    }

    /// The state, with acquire ordering.
    #[inline]
    pub fn state(&self) -> State {
        // SAFETY: `common` is valid; the load is atomic.
        State::from_raw(unsafe { bindings::bpf_struct_ops_state_load_acquire(self.common()) })
    }

    /// Whether the map was created with `BPF_F_LINK`.
    #[inline]
    pub fn is_link_map(&self) -> bool {
        self.map().map_flags() & bindings::BPF_F_LINK != 0
    }

    /// The subsystem refcount: its users, registration included.
    #[inline]
    pub fn refcnt(&self) -> u32 {
        // SAFETY: `common` is valid; the read is atomic.
        unsafe { bindings::refcount_read(&raw const (*self.common()).refcnt) }
    }

    /// Takes a subsystem reference unless the count is already zero; the
    /// caller then owns it and gives it back with [`StructOpsMap::put`].
    #[inline]
    pub fn try_get(&self) -> bool {
        // SAFETY: `common` is valid; the increment is atomic.
        unsafe { bindings::refcount_inc_not_zero(&raw mut (*self.common()).refcnt) }
    }

    /// Drops a subsystem reference; the last one returns what the count
    /// owned.
    ///
    /// # Safety
    ///
    /// The caller owns one subsystem reference, which it gives up.
    #[inline]
    unsafe fn dec(&self) -> Option<MapRef> {
        // SAFETY: `common` is valid while the caller's reference is; the
        // decrement is atomic.
        let last = unsafe { bindings::refcount_dec_and_test(&raw mut (*self.common()).refcnt) };
        // SAFETY: By the type invariant, the count owned a reference to the
        // map, which the decrement to zero hands to us alone.
        last.then(|| unsafe { ARef::from_raw(NonNull::from(self.map())) })
    }

    /// Drops a subsystem reference. The last one gives up the map reference
    /// the count owns. The op that drops it may still be running on this
    /// map's trampoline: the map's free waits for the grace periods after
    /// which none can be, before the trampolines go ([`Trampolines`]'s drop).
    ///
    /// # Safety
    ///
    /// The caller owns one subsystem reference, which it gives up. Unless
    /// the caller holds a map reference of its own, the map may be freed
    /// once this returns: `self` is not used after.
    #[inline]
    pub unsafe fn put(&self) {
        // SAFETY: By the caller's promise.
        drop(unsafe { self.dec() });
    }

    /// Drops the reference of a registration that failed: when nobody took
    /// one meanwhile, the count's map reference goes at once.
    ///
    /// # Safety
    ///
    /// As for [`StructOpsMap::put`].
    ///
    /// Returns `false` when a user kept a reference (a subsystem that
    /// published the struct and then failed).
    unsafe fn put_failed(&self) -> bool {
        // SAFETY: By the caller's promise.
        match unsafe { self.dec() } {
            // Nobody holds a subsystem reference: the count's map reference
            // goes at once (the caller still holds the map).
            Some(r) => {
                drop(r);
                true
            }
            // The user that took one puts it.
            None => {
                crate::pr_warn!("bpf: struct_ops: reg() failed but kept a reference\n");
                false
            }
        }
    }

    /// Takes a subsystem reference for a registration. When nobody holds
    /// one, arms the count with 1 and a new map reference (a last put may
    /// still be dropping its own: the one its decrement to zero took).
    ///
    /// `ENOENT` when the map's own last reference is gone (it is being
    /// freed; not for callers that hold one).
    ///
    /// # Safety
    ///
    /// The caller serialises registrations of this map: it holds `lock` for
    /// maps without `BPF_F_LINK`, the update mutex for the others.
    pub(super) unsafe fn get_registration(&self) -> Result {
        if self.try_get() {
            return Ok(());
        }
        let map = self.map().try_get().ok_or(ENOENT)?;
        // SAFETY: `common` is valid. The count is zero, so nobody can
        // decrement it, and only registrations, which the caller
        // serialises, raise a zero count: no other write races with the
        // store (readers and `try_get` see 0 or 1).
        unsafe { bindings::refcount_set(&raw mut (*self.common()).refcnt, 1) };
        // INVARIANT: The count (1) owns the reference `map` from here on.
        core::mem::forget(map);
        Ok(())
    }

    /// Calls the subsystem's `reg(kdata, link)`.
    ///
    /// # Safety
    ///
    /// The value is complete (READY or being registered), `link` NULL or a
    /// live link, and the caller holds a subsystem reference for it.
    #[inline]
    pub(super) unsafe fn reg(&self, link: *mut bindings::bpf_link) -> Result {
        let Some(reg) = self.desc().st_ops().reg_fn() else {
            return Err(EOPNOTSUPP);
        };
        // SAFETY: By the caller's promise.
        super::callback_result(unsafe { reg(self.kdata(), link) })
    }

    /// Calls the subsystem's `unreg(kdata, link)`.
    ///
    /// # Safety
    ///
    /// The value is registered, through `link` if it is not NULL.
    #[inline]
    pub(super) unsafe fn unreg(&self, link: *mut bindings::bpf_link) {
        if let Some(unreg) = self.desc().st_ops().unreg_fn() {
            // SAFETY: By the caller's promise.
            unsafe { unreg(self.kdata(), link) };
        }
    }

    /// Unregisters a map registered by its update (`BPF_MAP_DELETE_ELEM`):
    /// INUSE becomes TOBEFREE, the subsystem's `unreg()` runs and the
    /// registration's reference goes. Returns the state found; only INUSE
    /// did anything.
    #[inline]
    pub fn unregister(&self) -> State {
        if self.is_link_map() {
            return self.state();
        }
        // SAFETY: `common` is valid; the exchange is atomic.
        let prev = State::from_raw(unsafe {
            bindings::bpf_struct_ops_state_cmpxchg(
                self.common(),
                State::InUse.to_raw(),
                State::ToBeFree.to_raw(),
            )
        });
        if prev == State::InUse {
            // SAFETY: We moved it out of INUSE: registered by the update,
            // whose reference we drop, and only once.
            unsafe {
                self.unreg(core::ptr::null_mut());
                self.put();
            }
        }
        prev
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
            core::slice::from_raw_parts(
                (*self.raw()).uvalue.cast::<u8>(),
                self.map().value_size() as usize,
            )
        };
        let n = out.len().min(uvalue.len());
        if let (Some(o), Some(u)) = (out.get_mut(..n), uvalue.get(..n)) {
            o.copy_from_slice(u);
        }
        let common = bindings::bpf_struct_ops_common_value {
            refcnt: bindings::refcount_t {
                refs: bindings::atomic_t {
                    counter: self.refcnt() as i32,
                },
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

    /// Locks the map for an update.
    pub fn lock(&self) -> Update<'_> {
        // SAFETY: The mutex was initialised in `create` and lives as long as
        // the map, which `&self` borrows.
        let lock = unsafe { Mutex::<()>::from_raw(&raw mut (*self.raw()).lock) };
        let guard = lock.lock();
        // INVARIANT: Locked just above; only a holder of the lock moves the
        // state out of INIT.
        Update {
            map: self,
            init: self.state() == State::Init,
            _guard: guard,
        }
    }

    /// The trampolines, as the subsystem's callbacks see them: those of the
    /// registration under way while `reg()` runs, the installed ones after.
    ///
    /// # Safety
    ///
    /// The caller runs in a callback of the map's subsystem (`reg()`,
    /// `update()`, `unreg()`, `validate()`) for this map, or the map left
    /// INIT: `tramps` is not being written.
    pub unsafe fn trampolines_of_callback(&self) -> Option<&Trampolines> {
        // SAFETY: Not written concurrently (the caller's promise).
        let p = unsafe { (*self.raw()).tramps };
        // SAFETY: By the type invariant, NULL or a `KBox<Trampolines>`.
        (!p.is_null()).then(|| unsafe { <KBox<Trampolines> as ForeignOwnable>::borrow(p) })
    }

    /// The trampolines, once the map left INIT.
    pub fn trampolines(&self) -> Option<&Trampolines> {
        if self.state() == State::Init {
            return None;
        }
        // SAFETY: Not INIT (acquire): `tramps` was set before and stays.
        unsafe { self.trampolines_of_callback() }
    }
}

/// A struct_ops map locked for an update.
///
/// # Invariants
///
/// Holds `map.lock`, on this thread. `init` says whether the state is INIT:
/// the state leaves INIT only through [`Update::publish`], under the lock.
pub struct Update<'a> {
    map: &'a StructOpsMap,
    init: bool,
    _guard: MutexGuard<'a, ()>,
}

impl<'a> Update<'a> {
    /// The map.
    #[inline]
    pub fn map(&self) -> &'a StructOpsMap {
        self.map
    }

    /// The user's copy of the value (`uvalue`), writable while the map is
    /// INIT (`EBUSY` after): what lookups show once the map left INIT, with
    /// prog ids in the func ptr slots. The kernel trusts nothing in it.
    pub fn uvalue(&mut self) -> Result<&mut [u8]> {
        if !self.init {
            return Err(EBUSY);
        }
        // SAFETY: By the type invariants, we hold the lock and the state is
        // INIT, so nobody else reads or writes `uvalue`, which holds
        // `value_size` bytes; the borrow of `self` keeps it so.
        Ok(unsafe {
            core::slice::from_raw_parts_mut(
                (*self.map.raw()).uvalue.cast::<u8>(),
                self.map.map().value_size() as usize,
            )
        })
    }

    /// Writes `v` at byte offset `off` of the kernel's struct (`kvalue.data`),
    /// which nobody else reads while the map is INIT and locked.
    fn write_kdata(&mut self, off: usize, v: u64) -> Result {
        if !self.init {
            return Err(EBUSY);
        }
        let end = off.checked_add(core::mem::size_of::<u64>()).ok_or(EINVAL)?;
        if end > self.map.data_len() {
            return Err(EINVAL);
        }
        // SAFETY: In bounds (checked above); under the lock and INIT, the
        // struct is ours alone.
        unsafe {
            self.map
                .kdata()
                .cast::<u8>()
                .add(off)
                .cast::<u64>()
                .write_unaligned(v)
        };
        Ok(())
    }

    /// Whether `member` of the map's struct is a `struct module *`: the
    /// subsystem counts the map's users through such an owner.
    #[inline]
    pub fn is_module_owner(&self, member: &Member<'_>) -> bool {
        self.map.member_of_type(member).is_ok()
            && self
                .map
                .module_owners()
                .checked_shr(member.index() as u32)
                .is_some_and(|m| m & 1 != 0)
    }

    /// Sets every module owner member of the struct to the value through
    /// which the subsystem takes and drops subsystem references; `EINVAL`
    /// when the user's value has anything there.
    fn set_module_owners(&mut self) -> Result {
        if self.map.module_owners() == 0 {
            return Ok(());
        }
        let t = self.map.desc().type_().ok_or(EINVAL)?;
        for member in t.members() {
            if !self.is_module_owner(&member) {
                continue;
            }
            let uoff = DATA_OFFSET + member.offset();
            let user = self
                .uvalue()?
                .get(uoff..uoff + core::mem::size_of::<u64>())
                .ok_or(EINVAL)?;
            if user.iter().any(|&b| b != 0) {
                return Err(EINVAL);
            }
            self.write_kdata(member.offset(), super::module_owner() as u64)?;
        }
        Ok(())
    }

    /// The subsystem's `init_member()`: `Ok(true)` when it handled `member`
    /// (of the map's struct), from the user's copy of the struct.
    pub fn init_member(&mut self, member: &Member<'_>) -> Result<bool> {
        let Some(init_member) = self.map.desc().st_ops().init_member_fn() else {
            return Ok(false);
        };
        let t = self.map.member_of_type(member)?;
        let udata = self.uvalue()?.get(DATA_OFFSET..).ok_or(EINVAL)?.as_ptr();
        // SAFETY: `t` is the map's struct and `member` one of its members;
        // `kdata` and `udata` hold the struct, ours under the lock in INIT.
        let r = unsafe { init_member(t.as_raw(), member.as_raw(), self.map.kdata(), udata.cast()) };
        check(r)?;
        Ok(r > 0)
    }

    /// Builds the planned trampolines and points the func ptr slots of the
    /// kernel's struct at them, has the subsystem check the struct
    /// (`validate()`), makes the images read-only, then registers the struct
    /// (`reg()`, INUSE) or, for a `BPF_F_LINK` map, leaves it READY for
    /// links. `EINVAL` for a plan of another map. On error the map stays INIT
    /// and holds nothing; both values are zeroed, as [`Update::reset`] does.
    pub fn commit(&mut self, plan: TrampPlan<'_>) -> Result {
        if !self.init {
            return Err(EBUSY);
        }
        if !core::ptr::eq(plan.map, self.map) {
            return Err(EINVAL);
        }
        let r = self.commit_plan(plan);
        if r.is_err() {
            // No func ptr slot may keep the address of a trampoline that
            // is gone: the images of a failed commit are freed.
            self.reset();
        }
        r
    }

    fn commit_plan(&mut self, plan: TrampPlan<'_>) -> Result {
        self.set_module_owners()?;
        let TrampPlan {
            mut tramps,
            mut tnodes,
            sleepable,
            ..
        } = plan;
        let st_ops = self.map.desc().st_ops();
        let t = self.map.desc().type_().ok_or(EINVAL)?;
        // All sizes known: lay the trampolines out in as few bytes as they
        // need, then write them. (Unlike 7.3, `init_member()` thus runs
        // before any func ptr slot of kdata holds its trampoline; no
        // subsystem reads them there.)
        let mut images = Images::layout(tramps.tramps.iter_mut().map(|tr| &mut tr.slot))?;
        let cfi_offset = trampoline::cfi_offset();
        for tr in tramps.tramps.iter_mut() {
            let model = st_ops.func_model(tr.index).ok_or(EINVAL)?;
            // SAFETY: As in `TrampPlan::add`.
            let stub = unsafe { st_ops.cfi_stub(t, tr.moff) };
            // SAFETY: The slot was laid out for these images with the size
            // `TrampPlan::add` computed for this link, model and stub.
            let (start, size) =
                unsafe { images.write(&tr.slot, &mut tnodes, &tr.link, &model, stub) }?;
            self.write_kdata(tr.moff, start.wrapping_add(cfi_offset) as u64)?;
            // SAFETY: `start..start + size` is the trampoline just written
            // in `images`, which `tramps` keeps, with the symbol, until the
            // symbol is withdrawn.
            unsafe { tr.ksym.set_range(start, size) }?;
        }
        self.validate()?;
        // INVARIANT: Not installed yet; `sleepable` is the plan's, for the
        // same programs.
        let tramps = KBox::new(
            Trampolines {
                tramps,
                images: images.protect()?,
                sleepable,
                installed: false,
            },
            GFP_KERNEL,
        )?;
        if self.map.is_link_map() {
            // Links register it; lookups see the value from now on.
            self.install(tramps);
            self.publish(State::Ready);
            Ok(())
        } else {
            self.register(tramps)
        }
    }

    /// The subsystem's `validate()` of the whole struct.
    #[inline]
    fn validate(&mut self) -> Result {
        let Some(validate) = self.map.desc().st_ops().validate_fn() else {
            return Ok(());
        };
        // SAFETY: `kdata` is complete and ours under the lock in INIT.
        super::callback_result(unsafe { validate(self.map.kdata()) })
    }

    /// Installs the trampolines and names them in kallsyms; the caller moves
    /// the state out of INIT right after.
    #[inline]
    fn install(&mut self, mut tramps: KBox<Trampolines>) {
        tramps.install();
        // SAFETY: Under the lock, INIT: nobody reads `tramps`, which is NULL
        // in INIT (a failed update never sets it).
        unsafe { (*self.map.raw()).tramps = tramps.into_foreign() };
    }

    /// Installs `tramps` and registers the value (`reg()`), the
    /// registration holding the first subsystem reference; then moves to
    /// INUSE. `reg()` finds the programs installed
    /// (`bpf_struct_ops_for_each_prog()`).
    fn register(&mut self, tramps: KBox<Trampolines>) -> Result {
        // The count goes up before the value is published: a user that finds
        // it (e.g. a socket picking the CA) must be able to take a reference.
        // SAFETY: We hold `lock`, which serialises registrations of maps
        // registered by their update.
        unsafe { self.map.get_registration() }?;
        self.install(tramps);
        // SAFETY: The value is complete; we hold the registration's reference.
        if let Err(e) = unsafe { self.map.reg(core::ptr::null_mut()) } {
            // SAFETY: The registration's reference, given back.
            if unsafe { self.map.put_failed() } {
                // `reg()` may have run ops (sched_ext's enable does) before
                // it failed: the trampolines, installed, go after the grace
                // periods, and the map stays INIT.
                drop(self.uninstall());
            } else {
                // A subsystem published the struct and failed, and a user
                // still holds it: the struct stays as it is, unregistered
                // (TOBEFREE), with its trampolines, and goes once that
                // user's reference does, as after a delete.
                self.publish(State::ToBeFree);
            }
            return Err(e);
        }
        self.publish(State::InUse);
        Ok(())
    }

    /// Takes back the trampolines [`Update::install`] installed, before the
    /// state left INIT.
    fn uninstall(&mut self) -> Option<KBox<Trampolines>> {
        // SAFETY: Under the lock, INIT: nobody else reads `tramps`.
        let p = unsafe { core::mem::take(&mut (*self.map.raw()).tramps) };
        // SAFETY: By the type invariant, NULL or a `KBox<Trampolines>`
        // given up with `into_foreign`, now ours again.
        (!p.is_null()).then(|| unsafe { <KBox<Trampolines> as ForeignOwnable>::from_foreign(p) })
    }

    /// Publishes `state` with release ordering: readers that see it also see
    /// the value and trampolines written before.
    #[inline]
    fn publish(&mut self, state: State) {
        // INVARIANT: The state leaves INIT here.
        self.init = false;
        // SAFETY: `common` is valid; the store is atomic.
        unsafe { bindings::bpf_struct_ops_state_store_release(self.map.common(), state.to_raw()) };
    }

    /// Zeroes both values after a failed update (the map is still INIT).
    #[inline]
    pub fn reset(&mut self) {
        if !self.init {
            return;
        }
        // SAFETY: Under the lock and INIT, both values are ours alone;
        // `uvalue` holds `value_size` bytes and `kvalue.data` `data_len`.
        unsafe {
            (*self.map.raw())
                .uvalue
                .cast::<u8>()
                .write_bytes(0, self.map.map().value_size() as usize);
            self.map
                .kdata()
                .cast::<u8>()
                .write_bytes(0, self.map.data_len());
        }
    }
}
