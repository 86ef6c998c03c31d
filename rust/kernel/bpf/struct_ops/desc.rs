// SPDX-License-Identifier: GPL-2.0

//! The struct_ops types subsystems register, and the BPF core's descriptors
//! of them.

use crate::str::CStrExt as _;
use crate::{
    alloc::{flags::GFP_KERNEL, KVec},
    bindings,
    bpf::{
        btf::{ArgTag, Btf, BtfType, Member, KIND_FUNC, KIND_STRUCT},
        errno::check,
        trampoline::CfiStub,
        verifier::VerifierLog,
    },
    error::{code::*, Error, Result},
    ffi::{c_int, c_void},
    str::CStr,
    types::Opaque,
};
use core::ptr::NonNull;

/// A struct_ops type as a subsystem registers it (`struct bpf_struct_ops`).
///
/// # Invariants
///
/// Wraps a registered `struct bpf_struct_ops`; only [`DescSlot::fill`], while
/// the type is being registered and nothing else uses it, writes it (the
/// func models).
#[repr(transparent)]
pub struct StructOps(Opaque<bindings::bpf_struct_ops>);

/// Reads one field of the C struct by value, through the raw pointer: no
/// reference to the struct is made, so the func models may be written
/// meanwhile.
macro_rules! st_ops_field {
    ($st_ops:expr, $field:ident) => {
        // SAFETY: `StructOps` wraps a registered struct_ops (type
        // invariant); only the func models are written after registration,
        // and this copies another field.
        unsafe { (*$st_ops.0.get()).$field }
    };
}

type KdataFn = unsafe extern "C" fn(*mut c_void, *mut bindings::bpf_link) -> c_int;
type UnregFn = unsafe extern "C" fn(*mut c_void, *mut bindings::bpf_link);
type UpdateFn = unsafe extern "C" fn(*mut c_void, *mut c_void, *mut bindings::bpf_link) -> c_int;
type InitMemberFn = unsafe extern "C" fn(
    *const bindings::btf_type,
    *const bindings::btf_member,
    *mut c_void,
    *const c_void,
) -> c_int;
type ValidateFn = unsafe extern "C" fn(*mut c_void) -> c_int;

impl StructOps {
    /// The subsystem's `reg()`.
    #[inline]
    pub(super) fn reg_fn(&self) -> Option<KdataFn> {
        st_ops_field!(self, reg)
    }

    /// The subsystem's `unreg()`.
    #[inline]
    pub(super) fn unreg_fn(&self) -> Option<UnregFn> {
        st_ops_field!(self, unreg)
    }

    /// The subsystem's `update()`.
    #[inline]
    pub(super) fn update_fn(&self) -> Option<UpdateFn> {
        st_ops_field!(self, update)
    }

    /// The subsystem's `init_member()`.
    #[inline]
    pub(super) fn init_member_fn(&self) -> Option<InitMemberFn> {
        st_ops_field!(self, init_member)
    }

    /// The subsystem's `validate()`.
    #[inline]
    pub(super) fn validate_fn(&self) -> Option<ValidateFn> {
        st_ops_field!(self, validate)
    }

    /// The name of the kernel struct, e.g. `tcp_congestion_ops`.
    #[inline]
    pub fn name(&self) -> &CStr {
        let name = st_ops_field!(self, name);
        if name.is_null() {
            return c"";
        }
        // SAFETY: A registered struct_ops names itself with a static string.
        unsafe { CStr::from_char_ptr(name) }
    }

    /// Whether the subsystem gave CFI stubs (required).
    #[inline]
    pub fn has_cfi_stubs(&self) -> bool {
        !st_ops_field!(self, cfi_stubs).is_null()
    }

    /// The CFI stub of the member at byte offset `moff` of `t`; `None` when
    /// the member is not supported.
    ///
    /// # Safety
    ///
    /// `t` is the struct the stubs instance, whose size bounds the read,
    /// and the member at `moff` one of its function pointers.
    pub(crate) unsafe fn cfi_stub(&self, t: &BtfType, moff: usize) -> Option<CfiStub> {
        let fits = moff
            .checked_add(core::mem::size_of::<*mut c_void>())
            .is_some_and(|end| end <= t.size() as usize);
        if !fits {
            return None;
        }
        // SAFETY: `moff` plus a pointer is within `t`, which the stubs
        // instance (the caller's promise).
        unsafe { self.cfi_stub_at(moff) }
    }

    /// The CFI stub at byte offset `moff` of the stubs, without bounds.
    ///
    /// # Safety
    ///
    /// `moff` is the offset of a function pointer member of the type the
    /// stubs instance (so a pointer is read in bounds, and a non-NULL one is
    /// a function).
    pub unsafe fn cfi_stub_at(&self, moff: usize) -> Option<CfiStub> {
        let stubs = st_ops_field!(self, cfi_stubs).cast::<u8>();
        if stubs.is_null() {
            return None;
        }
        // SAFETY: In bounds by the caller's promise.
        let stub = unsafe { stubs.add(moff).cast::<*mut c_void>().read_unaligned() };
        // SAFETY: A non-NULL stub is the function the subsystem gave for
        // the member.
        NonNull::new(stub).map(|p| unsafe { CfiStub::new(p) })
    }

    /// The module that registered the type (NULL for vmlinux).
    #[inline]
    pub fn owner(&self) -> *mut bindings::module {
        st_ops_field!(self, owner)
    }

    /// The subsystem's `init(btf)` check of the type.
    ///
    /// # Safety
    ///
    /// `btf` is the BTF registering the type (the subsystem may keep
    /// pointers into it).
    #[inline]
    unsafe fn init(&self, btf: &Btf) -> Result {
        match st_ops_field!(self, init) {
            // SAFETY: The subsystem's callback, with its own BTF (the
            // caller's promise).
            Some(init) => super::callback_result(unsafe { init(btf.as_raw()) }),
            None => Err(EINVAL),
        }
    }

    /// The func model of member `i`, a copy.
    #[inline]
    pub fn func_model(&self, i: usize) -> Option<bindings::btf_func_model> {
        if i >= MAX_MEMBERS {
            return None;
        }
        let models = self.0.get().cast_const();
        // SAFETY: `i` is within the array; the element is copied through the
        // raw pointer, which makes no reference that a registration's write
        // of another model could alias.
        Some(unsafe {
            (&raw const (*models).func_models)
                .cast::<bindings::btf_func_model>()
                .add(i)
                .read()
        })
    }

    /// Writes the func model of member `i`.
    ///
    /// # Safety
    ///
    /// The type is being registered, and nothing else reads or writes the
    /// func models meanwhile.
    unsafe fn set_func_model(&self, i: usize, model: bindings::btf_func_model) -> Result {
        if i >= MAX_MEMBERS {
            return Err(EINVAL);
        }
        let models = self.0.get();
        // SAFETY: `i` is within the array; by the caller's promise nobody
        // else uses it; written through the raw pointer (`Opaque`).
        unsafe {
            (&raw mut (*models).func_models)
                .cast::<bindings::btf_func_model>()
                .add(i)
                .write(model)
        };
        Ok(())
    }
}

/// The most arguments a BPF function takes.
const MAX_ARGS: usize = bindings::MAX_BPF_FUNC_ARGS as usize;

/// `BTF_FMODEL_ARENA_ARG`: the trampoline turns the argument into an arena
/// pointer (`arg_flags` are bytes).
const FMODEL_ARENA_ARG: u8 = bindings::BTF_FMODEL_ARENA_ARG;
/// `BTF_FMODEL_NULLABLE_ARG`: the arena argument may be NULL.
const FMODEL_NULLABLE_ARG: u8 = bindings::BTF_FMODEL_NULLABLE_ARG;

/// The verifier information on the tagged arguments of one member, which
/// the verifier trusts: built only by [`DescSlot::fill`], from the member's
/// own prototype.
///
/// # Invariants
///
/// `0.info` is NULL with `cnt == 0`, or a `KVec` buffer of exactly `cnt`
/// entries given up with `into_raw_parts`.
#[repr(transparent)]
struct ArgInfo(bindings::bpf_struct_ops_arg_info);

impl ArgInfo {
    /// No tagged argument.
    // INVARIANT: NULL and 0.
    const NONE: Self = ArgInfo(bindings::bpf_struct_ops_arg_info {
        info: core::ptr::null_mut(),
        cnt: 0,
    });

    /// The arguments of `proto`, a member's prototype, that its CFI stub
    /// `stub` tags by the suffix of their names: those whose parameter in
    /// the stub is named with the suffix of an [`ArgTag`] (the first in
    /// [`ArgTag::PRECEDENCE`] that matches), each of which must be a pointer
    /// of the same type as the member's, to a struct or union unless it is
    /// an arena pointer, at an 8-byte aligned place in the trampoline's ctx.
    ///
    /// The verifier then takes an arena one as `PTR_TO_ARENA` (flagged in
    /// `model` for the trampoline), a `__nullable` one as a trusted pointer
    /// that may be NULL, and a `__ref` one as a trusted pointer with a
    /// reference the program holds (`ref_id` stays 0: the verifier sets it
    /// in its own copy).
    ///
    /// # Safety
    ///
    /// `proto` is the prototype of a member of a struct of `btf`.
    unsafe fn new(
        btf: &Btf,
        proto: &BtfType,
        stub: CfiStub,
        model: &mut bindings::btf_func_model,
    ) -> Result<Self, ArgTagError> {
        let stub_name = stub.name().map_err(|e| {
            if e == ENOMEM {
                ArgTagError::NoMemory
            } else {
                ArgTagError::NoStubName
            }
        })?;
        let stub_proto = btf
            .find_by_name_kind(&stub_name, KIND_FUNC)
            .ok()
            .and_then(|id| btf.type_by_id(id))
            .and_then(|f| btf.type_by_id(f.type_id()))
            .ok_or(ArgTagError::NoStubFunc)?;
        let (args, stub_args) = (proto.params(), stub_proto.params());
        if args.len() != stub_args.len() {
            return Err(ArgTagError::ArgCount);
        }
        let mut buf = [bindings::bpf_ctx_arg_aux::default(); MAX_ARGS];
        let mut cnt = 0;
        for (arg_no, (arg, stub_arg)) in args.iter().zip(stub_args).enumerate() {
            let Some(tag) = btf.param_tag(stub_arg) else {
                continue;
            };
            let (_, btf_id) = btf
                .resolve_ptr(arg.type_)
                .filter(|(t, _)| tag.accepts(t))
                .ok_or(ArgTagError::Unsupported(arg_no, tag))?;
            // SAFETY: `proto` is a prototype of `btf` (the caller's
            // promise), `arg_no` one of its parameters.
            let offset = unsafe { btf.ctx_arg_offset(proto, arg_no as u32) }
                .ok()
                .filter(|o| o % 8 == 0)
                .ok_or(ArgTagError::CtxOffset(arg_no))?;
            if arg.type_ != stub_arg.type_ {
                return Err(ArgTagError::TypeMismatch(arg_no));
            }
            let reg_type = match tag {
                ArgTag::Arena | ArgTag::ArenaNullable => {
                    let flags = model
                        .arg_flags
                        .get_mut(arg_no)
                        .ok_or(ArgTagError::ArgCount)?;
                    *flags |= FMODEL_ARENA_ARG;
                    if tag == ArgTag::ArenaNullable {
                        *flags |= FMODEL_NULLABLE_ARG;
                    }
                    bindings::bpf_reg_type_PTR_TO_ARENA
                }
                ArgTag::Nullable => {
                    bindings::bpf_type_flag_PTR_TRUSTED
                        | bindings::bpf_reg_type_PTR_TO_BTF_ID
                        | bindings::bpf_type_flag_PTR_MAYBE_NULL
                }
                ArgTag::Ref => {
                    bindings::bpf_type_flag_PTR_TRUSTED | bindings::bpf_reg_type_PTR_TO_BTF_ID
                }
            };
            *buf.get_mut(cnt).ok_or(ArgTagError::ArgCount)? = bindings::bpf_ctx_arg_aux {
                offset,
                reg_type,
                btf: btf.as_raw(),
                btf_id,
                ref_id: 0,
                refcounted: tag == ArgTag::Ref,
            };
            cnt += 1;
        }
        if cnt == 0 {
            return Ok(ArgInfo::NONE);
        }
        let mut v = KVec::with_capacity(cnt, GFP_KERNEL).map_err(|_| ArgTagError::NoMemory)?;
        v.extend_from_slice(buf.get(..cnt).ok_or(ArgTagError::ArgCount)?, GFP_KERNEL)
            .map_err(|_| ArgTagError::NoMemory)?;
        let (info, len, cap) = v.into_raw_parts();
        if len != cap {
            // SAFETY: Taken apart just above.
            drop(unsafe { KVec::from_raw_parts(info, len, cap) });
            return Err(ArgTagError::NoMemory);
        }
        // INVARIANT: Exactly `len` entries.
        Ok(ArgInfo(bindings::bpf_struct_ops_arg_info {
            info,
            cnt: len as u32,
        }))
    }
}

impl Drop for ArgInfo {
    #[inline]
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
/// Wraps a `struct bpf_struct_ops_desc` of a registered type, written whole
/// by [`DescSlot::fill`]: `type`, `value_type` and the ids are those of the
/// BTF object that owns the descriptor, and `arg_info` is a `KVec` of
/// exactly `vlen(type)` `ArgInfo`s.
#[repr(transparent)]
pub struct Desc(Opaque<bindings::bpf_struct_ops_desc>);

impl Desc {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is a live, initialised descriptor for `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *const bindings::bpf_struct_ops_desc) -> &'a Self {
        // SAFETY: Transparent wrapper; validity is the caller's promise.
        unsafe { &*ptr.cast() }
    }

    /// Creates an exclusive reference, for the descriptor's release.
    ///
    /// # Safety
    ///
    /// `ptr` is a live, initialised descriptor nobody else uses for `'a`.
    #[inline]
    pub unsafe fn from_raw_mut<'a>(ptr: *mut bindings::bpf_struct_ops_desc) -> &'a mut Self {
        // SAFETY: Transparent wrapper; exclusivity is the caller's promise.
        unsafe { &mut *ptr.cast() }
    }

    /// The descriptor whose value type is `value_id` in `btf`.
    ///
    /// # Safety
    ///
    /// No type registers on `btf` while the result is used:
    /// `btf_add_struct_ops()` moves the table (`krealloc()`) when it grows.
    /// (True of a module's BTF got with `btf_try_get_module()`, which
    /// refuses a module whose init has not finished, and of vmlinux's
    /// after its initcalls; C's `bpf_struct_ops_find_value()` relies on the
    /// same.)
    #[inline]
    pub(crate) unsafe fn find_value(btf: &Btf, value_id: u32) -> Option<&Desc> {
        // SAFETY: `btf` is valid.
        let d = unsafe { bindings::bpf_struct_ops_find_value(btf.as_raw(), value_id) };
        // SAFETY: Found descriptors are initialised, and stay in place for
        // the borrow of `btf` by the caller's promise.
        NonNull::new(d.cast_mut()).map(|d| unsafe { Desc::from_raw(d.as_ptr()) })
    }

    /// The raw descriptor.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::bpf_struct_ops_desc {
        self.0.get()
    }

    #[inline]
    fn raw(&self) -> &bindings::bpf_struct_ops_desc {
        // SAFETY: Shared references see no writes (those need `&mut`).
        unsafe { &*self.0.get() }
    }

    #[inline]
    fn raw_mut(&mut self) -> &mut bindings::bpf_struct_ops_desc {
        // SAFETY: `&mut self` is exclusive.
        unsafe { &mut *self.0.get() }
    }

    /// The subsystem's struct_ops.
    #[inline]
    pub fn st_ops(&self) -> &StructOps {
        // SAFETY: A descriptor always points to its struct_ops, which outlives it.
        unsafe { &*self.raw().st_ops.cast::<StructOps>() }
    }

    /// The kernel struct's BTF type (e.g. `tcp_congestion_ops`).
    #[inline]
    pub fn type_(&self) -> Option<&BtfType> {
        let t = self.raw().type_;
        // SAFETY: By the type invariant, a type of a BTF that outlives `self`.
        (!t.is_null()).then(|| unsafe { BtfType::from_raw(t) })
    }

    /// The value's BTF type (`bpf_struct_ops_<name>`).
    #[inline]
    pub fn value_type(&self) -> Option<&BtfType> {
        let t = self.raw().value_type;
        // SAFETY: By the type invariant, a type of a BTF that outlives `self`.
        (!t.is_null()).then(|| unsafe { BtfType::from_raw(t) })
    }

    /// BTF id of the kernel struct.
    #[inline]
    pub fn type_id(&self) -> u32 {
        self.raw().type_id
    }

    /// Frees the argument information (when the BTF that owns the
    /// descriptor goes).
    pub fn release(&mut self) {
        let n = self.type_().map_or(0, |t| usize::from(t.vlen()));
        let raw = self.raw_mut();
        let info = core::mem::take(&mut raw.arg_info);
        if !info.is_null() {
            // SAFETY: By the type invariant, a `KVec` of exactly `n` `ArgInfo`s
            // (a transparent wrapper of the C entries).
            drop(unsafe { KVec::from_raw_parts(info.cast::<ArgInfo>(), n, n) });
        }
    }
}

/// Why the tagged arguments of a member could not be worked out from its
/// CFI stub (the errors 7.3 gives in brackets).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ArgTagError {
    /// The stub has no name in kallsyms (`ENOENT`).
    NoStubName,
    /// The stub is not a function of the BTF (`ENOENT`).
    NoStubFunc,
    /// The stub and the member take different numbers of arguments
    /// (`EINVAL`).
    ArgCount,
    /// This argument is tagged so but is not a pointer, or, tagged other
    /// than an arena pointer, not a pointer to a struct or union (`EINVAL`).
    Unsupported(usize, ArgTag),
    /// This argument's place in the trampoline's ctx is not 8-byte aligned
    /// (`EINVAL`).
    CtxOffset(usize),
    /// This argument's type differs between the stub and the member
    /// (`EINVAL`).
    TypeMismatch(usize),
    /// Out of memory (`ENOMEM`).
    NoMemory,
}

impl From<ArgTagError> for Error {
    fn from(e: ArgTagError) -> Error {
        match e {
            ArgTagError::NoStubName | ArgTagError::NoStubFunc => ENOENT,
            ArgTagError::NoMemory => ENOMEM,
            _ => EINVAL,
        }
    }
}

/// Why [`DescSlot::fill`] refused a struct_ops type, in the order 7.3's
/// `bpf_struct_ops_desc_init()` checks; the member at fault where there is
/// one. The error each gives is in brackets.
#[derive(Clone, Copy)]
pub enum DescError<'a> {
    /// `bpf_struct_ops_<name>` does not fit in 128 bytes (`EINVAL`).
    NameTooLong,
    /// The subsystem gave no CFI stubs (`EINVAL`).
    NoCfiStubs,
    /// The BTF has no struct of the struct_ops' name (`EINVAL`).
    NoStruct,
    /// The struct has this many members, more than
    /// [`super::MAX_MEMBERS`] (`EINVAL`).
    TooManyMembers(u16),
    /// The BTF has no struct `bpf_struct_ops_<name>` (`EINVAL`).
    NoValueStruct,
    /// The value struct has this many members, not 2 (`EINVAL`).
    ValueMembers(u16),
    /// The value struct's first member is not the common value at offset
    /// 0 (`EINVAL`).
    ValueCommon,
    /// The value struct's second member is not the struct at
    /// [`super::DATA_OFFSET`], whole (`EINVAL`).
    ValueData,
    /// A member has no name (`EOPNOTSUPP`).
    AnonMember,
    /// A member is a bit field (`EOPNOTSUPP`).
    BitField(Member<'a>),
    /// A member is a `struct module *` and the kernel has no modules
    /// (`EOPNOTSUPP`).
    NoModules,
    /// The function returns a pointer to something else than a struct
    /// (`EOPNOTSUPP`).
    ReturnsNonStructPtr(Member<'a>),
    /// BTF cannot make a func model of the function (`EINVAL`).
    FuncProto(Member<'a>),
    /// The function's return value is larger than [`MAX_RET_SIZE`]
    /// (`EOPNOTSUPP`).
    RetSize(Member<'a>),
    /// The stub's tagged arguments are refused (the [`ArgTagError`]'s).
    ArgTag(Member<'a>, CfiStub, ArgTagError),
    /// The subsystem's `init()` failed (`EINVAL`).
    Init,
    /// The BTF changed under the walk (`EINVAL`; not expected).
    Internal,
    /// Out of memory (`ENOMEM`).
    NoMemory,
}

impl From<DescError<'_>> for Error {
    fn from(e: DescError<'_>) -> Error {
        match e {
            DescError::AnonMember
            | DescError::BitField(_)
            | DescError::NoModules
            | DescError::ReturnsNonStructPtr(_)
            | DescError::RetSize(_) => EOPNOTSUPP,
            DescError::ArgTag(_, _, e) => e.into(),
            DescError::NoMemory => ENOMEM,
            _ => EINVAL,
        }
    }
}

/// Prints a warning as `pr_warn()` does in 7.3's `bpf_struct_ops.c`, which
/// has no `pr_fmt`: `KERN_WARNING` and the text, with no prefix (`pr_warn!`
/// puts the crate's name in front). The format is C's.
///
/// Expands to a call of the variadic `_printk`, made in the caller's
/// `unsafe` block: the format's conversions must take exactly the
/// arguments, each `%s` a pointer to a NUL-terminated string and each `%u`
/// or `%d` a `u32` or `i32`.
macro_rules! c_warn {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{
        bindings::_printk(concat!("\x014", $fmt, "\0").as_ptr().cast() $(, $arg)*);
    }};
}

impl DescError<'_> {
    /// Says in the kernel log why the struct_ops type `name` of `btf` was
    /// refused, with the message 7.3's `bpf_struct_ops_desc_init()` prints
    /// (none for [`DescError::NoMemory`] and [`DescError::Internal`]).
    #[cold]
    pub fn warn(self, btf: &Btf, name: &CStr) {
        let name = name.as_char_ptr();
        let btf_name = btf.name().as_char_ptr();
        let mname = |m: Member<'_>| btf.name_by_offset(m.name_off()).as_char_ptr();
        // SAFETY: Each format takes its arguments: `%s` the names,
        // NUL-terminated strings that live through the call, `%u` and `%d` a
        // `u32` and an `i32`.
        unsafe {
            match self {
                Self::NameTooLong => c_warn!("struct_ops name %s is too long\n", name),
                Self::NoCfiStubs => c_warn!("struct_ops for %s has no cfi_stubs\n", name),
                Self::NoStruct => c_warn!("Cannot find struct %s in %s\n", name, btf_name),
                Self::TooManyMembers(n) => c_warn!(
                    "Cannot support #%u members in struct %s\n",
                    u32::from(n),
                    name
                ),
                Self::NoValueStruct => c_warn!(
                    "Cannot find struct bpf_struct_ops_%s in %s\n",
                    name,
                    btf_name
                ),
                Self::ValueMembers(n) => c_warn!(
                    "The number of bpf_struct_ops_%s's members should be 2, but we get %d\n",
                    name,
                    i32::from(n)
                ),
                Self::ValueCommon => c_warn!(
                    "The first member of bpf_struct_ops_%s should be bpf_struct_ops_common_value\n",
                    name
                ),
                Self::ValueData => c_warn!(
                    "The second member of bpf_struct_ops_%s should be %s\n",
                    name,
                    name
                ),
                Self::AnonMember => {
                    c_warn!("anon member in struct %s is not supported\n", name)
                }
                Self::BitField(m) => c_warn!(
                    "bit field member %s in struct %s is not supported\n",
                    mname(m),
                    name
                ),
                Self::NoModules => c_warn!(
                    "'struct module' btf id not found. Is CONFIG_MODULES enabled? bpf_struct_ops '%s' needs module support.\n",
                    name
                ),
                Self::ReturnsNonStructPtr(m) => c_warn!(
                    "func ptr %s in struct %s returns non-struct pointer, which is not supported\n",
                    mname(m),
                    name
                ),
                Self::FuncProto(m) => c_warn!(
                    "Error in parsing func ptr %s in struct %s\n",
                    mname(m),
                    name
                ),
                Self::RetSize(m) => c_warn!(
                    "func ptr %s in struct %s has a >8 byte return value, which is not supported\n",
                    mname(m),
                    name
                ),
                Self::ArgTag(m, stub, e) => {
                    let stub_name = stub.name();
                    let stub = stub_name.as_deref().unwrap_or(c"").as_char_ptr();
                    let mname = mname(m);
                    match e {
                        ArgTagError::NoStubName => c_warn!(
                            "Cannot find the stub function name for the %s in struct %s\n",
                            mname,
                            name
                        ),
                        ArgTagError::NoStubFunc => {
                            c_warn!("Cannot find the stub function %s in btf\n", stub)
                        }
                        ArgTagError::ArgCount => c_warn!(
                            "the number of arguments of the stub function %s does not match the number of arguments of the member %s of struct %s\n",
                            stub,
                            mname,
                            name
                        ),
                        ArgTagError::Unsupported(_, tag) => c_warn!(
                            "stub function %s has %s tagging to an unsupported type\n",
                            stub,
                            tag.suffix().as_char_ptr()
                        ),
                        ArgTagError::CtxOffset(arg_no) => c_warn!(
                            "stub function %s has an invalid trampoline ctx offset for arg#%u\n",
                            stub,
                            arg_no as u32
                        ),
                        ArgTagError::TypeMismatch(arg_no) => c_warn!(
                            "arg#%u type in stub function %s does not match with its original func_proto\n",
                            arg_no as u32,
                            stub
                        ),
                        ArgTagError::NoMemory => (),
                    }
                }
                Self::Init => c_warn!("Error in init bpf_struct_ops %s\n", name),
                Self::NoMemory | Self::Internal => (),
            }
        }
    }
}

/// A descriptor being initialised: the slot `btf_add_struct_ops()` gives
/// `bpf_struct_ops_desc_init()`, with the BTF registering the type.
///
/// The BPF core grows its table of descriptors with `krealloc()`, which does
/// not zero, and sets only `st_ops` before the init: every other field may
/// hold stale bytes, so nothing but `st_ops` is ever read here, and
/// [`DescSlot::fill`] writes the whole descriptor at once.
///
/// Everything the BPF core and the trampolines later trust is computed there
/// from the slot's own BTF: the struct and value types (found by the
/// struct_ops' name), the func models, the verifier's argument information;
/// and the subsystem's `init()` runs with that BTF.
///
/// # Invariants
///
/// `desc` is a descriptor slot whose `st_ops` is set to a struct_ops that
/// outlives it; the slot and the struct_ops, being registered, are used by
/// nobody else for `'a`. The slot's other fields are not read. `btf` is the
/// BTF that registers the type and owns the slot.
pub struct DescSlot<'a> {
    desc: NonNull<bindings::bpf_struct_ops_desc>,
    btf: &'a Btf,
}

const VALUE_PREFIX: &[u8] = b"bpf_struct_ops_";
/// Room for the value type's name, as in C (`char value_name[128]`).
const VALUE_NAME_LEN: usize = 128;
const MAX_MEMBERS: usize = bindings::BPF_STRUCT_OPS_MAX_NR_MEMBERS as usize;
/// Largest return value the trampoline saves and restores (a larger one
/// comes back in a register pair, which the trampoline does not preserve).
pub const MAX_RET_SIZE: u8 = 8;

impl<'a> DescSlot<'a> {
    /// Wraps the descriptor slot being initialised for `btf`.
    ///
    /// # Safety
    ///
    /// `desc` is a descriptor whose `st_ops` is set to a struct_ops that
    /// outlives it (its other fields may be uninitialised), in the table of
    /// `btf`, the BTF registering it. The type is being registered: nobody
    /// else uses the slot or the struct_ops for `'a`.
    #[inline]
    pub unsafe fn from_raw(desc: NonNull<bindings::bpf_struct_ops_desc>, btf: &'a Btf) -> Self {
        // INVARIANT: By the caller's promise.
        DescSlot { desc, btf }
    }

    #[inline]
    fn st_ops_ptr(&self) -> *mut StructOps {
        // SAFETY: By the type invariant `st_ops` is initialised; only that
        // field is read.
        unsafe { (*self.desc.as_ptr()).st_ops.cast() }
    }

    /// The subsystem's struct_ops.
    #[inline]
    pub fn st_ops(&self) -> &'a StructOps {
        // SAFETY: By the type invariant, a registered struct_ops that
        // outlives the slot. `fill` writes its func models through the
        // `Opaque`; nothing hands out a reference into them.
        unsafe { &*self.st_ops_ptr() }
    }

    /// The BTF registering the type.
    #[inline]
    pub fn btf(&self) -> &'a Btf {
        self.btf
    }

    /// The CFI stub of `member`, a function pointer of `t`; `None` when
    /// the member has none (programs may not implement it).
    ///
    /// # Safety
    ///
    /// `t` is the struct the struct_ops names, in the slot's BTF, and
    /// `member` one of its function pointers.
    unsafe fn cfi_stub(&self, t: &BtfType, member: &Member<'_>) -> Option<CfiStub> {
        // SAFETY: `t` is the struct the struct_ops names, in the BTF that
        // registers it: the one its stubs instance; the member is a
        // function pointer (the caller's promise).
        unsafe { self.st_ops().cfi_stub(t, member.offset()) }
    }

    /// The func model of the function pointer `member` whose prototype is
    /// `proto`: what a trampoline for it saves and restores. `log` says why
    /// BTF refused it.
    ///
    /// # Safety
    ///
    /// `proto` is a function prototype of the slot's BTF.
    unsafe fn func_model(
        &self,
        member: &Member<'_>,
        proto: &BtfType,
        log: Option<&mut VerifierLog>,
    ) -> Result<bindings::btf_func_model> {
        let name = self.btf.name_by_offset(member.name_off());
        let mut model = bindings::btf_func_model::default();
        // SAFETY: `proto` is a prototype of `btf` (the caller's promise),
        // `name` is NUL-terminated, `model` writable; `log` is the
        // caller's (or NULL).
        check(unsafe {
            bindings::btf_distill_func_proto(
                log.map_or(core::ptr::null_mut(), |l| l.as_raw()),
                self.btf.as_raw(),
                proto.as_raw(),
                name.as_char_ptr(),
                &mut model,
            )
        })?;
        Ok(model)
    }

    /// Checks the type and writes the whole descriptor, and the func models
    /// of the struct_ops, in one walk of the BTF, in the order of 7.3's
    /// `bpf_struct_ops_desc_init()` ([`DescError`] says what failed): the
    /// struct the struct_ops names and its value struct
    /// `bpf_struct_ops_<name>` (which must be `{ common; struct data }`, the
    /// data at [`super::DATA_OFFSET`]), the func model of each function
    /// pointer member that has a CFI stub (which must not return a pointer
    /// to anything but a struct, and whose return value must fit in
    /// [`MAX_RET_SIZE`] bytes), with its arena arguments flagged, and the
    /// verifier information on the arguments the stub tags; then the
    /// subsystem's `init()` with the slot's BTF. `log` says why BTF refused
    /// a prototype. It consumes the slot: a descriptor is filled once.
    pub fn fill(self, mut log: Option<&mut VerifierLog>) -> Result<(), DescError<'a>> {
        let btf = self.btf;
        let st_ops = self.st_ops();
        let name = st_ops.name();
        // The value's name, on the stack as in C: the buffer stays
        // NUL-terminated as the name is shorter.
        let mut buf = [0u8; VALUE_NAME_LEN];
        if VALUE_PREFIX.len() + name.count_bytes() >= VALUE_NAME_LEN {
            return Err(DescError::NameTooLong);
        }
        for (d, s) in buf
            .iter_mut()
            .zip(VALUE_PREFIX.iter().chain(name.to_bytes()))
        {
            *d = *s;
        }
        let value_name = CStr::from_bytes_until_nul(&buf).map_err(|_| DescError::NameTooLong)?;
        if !st_ops.has_cfi_stubs() {
            return Err(DescError::NoCfiStubs);
        }
        let type_id = btf
            .find_by_name_kind(name, KIND_STRUCT)
            .map_err(|_| DescError::NoStruct)?;
        let t = btf.type_by_id(type_id).ok_or(DescError::NoStruct)?;
        let vlen = usize::from(t.vlen());
        if vlen > MAX_MEMBERS {
            return Err(DescError::TooManyMembers(t.vlen()));
        }
        let value_id = btf
            .find_by_name_kind(value_name, KIND_STRUCT)
            .map_err(|_| DescError::NoValueStruct)?;
        let vt = btf.type_by_id(value_id).ok_or(DescError::NoValueStruct)?;
        if vt.vlen() != 2 {
            return Err(DescError::ValueMembers(vt.vlen()));
        }
        let common = Btf::vmlinux()
            .ok()
            .flatten()
            .and_then(|v| v.type_by_id(super::common_value_type_id()));
        let mut vmembers = vt
            .members()
            .map(|m| (btf.type_by_id(m.type_id()), m.offset()));
        let same = |a: Option<&BtfType>, b: Option<&BtfType>| {
            a.zip(b).is_some_and(|(a, b)| core::ptr::eq(a, b))
        };
        if !vmembers
            .next()
            .is_some_and(|(c, off)| same(c, common) && off == 0)
        {
            return Err(DescError::ValueCommon);
        }
        if !vmembers
            .next()
            .is_some_and(|(d, off)| same(d, Some(t)) && off == super::DATA_OFFSET)
            || (vt.size() as usize) < super::DATA_OFFSET + t.size() as usize
        {
            return Err(DescError::ValueData);
        }

        let mut arg_info =
            KVec::with_capacity(vlen, GFP_KERNEL).map_err(|_| DescError::NoMemory)?;
        for member in t.members() {
            if btf.name_by_offset(member.name_off()).is_empty() {
                return Err(DescError::AnonMember);
            }
            if member.bitfield_size() != 0 {
                return Err(DescError::BitField(member));
            }
            if super::module_type_id() == 0 && btf.is_module_ptr(member.type_id()) {
                return Err(DescError::NoModules);
            }
            // A function pointer with a stub is the programs' interface; no
            // program may implement anything else.
            let proto = btf.resolve_func_ptr(member.type_id());
            // SAFETY: `t` is the struct the struct_ops names, in `btf`; the
            // member is one of its function pointers (`proto`).
            let stub = proto.and_then(|_| unsafe { self.cfi_stub(t, &member) });
            let info = match proto.zip(stub) {
                Some((proto, stub)) => {
                    if btf.returns_non_struct_ptr(proto) {
                        return Err(DescError::ReturnsNonStructPtr(member));
                    }
                    // SAFETY: `proto` is a prototype of `btf`.
                    let mut model = unsafe { self.func_model(&member, proto, log.as_deref_mut()) }
                        .map_err(|_| DescError::FuncProto(member))?;
                    if model.ret_size > MAX_RET_SIZE {
                        return Err(DescError::RetSize(member));
                    }
                    // SAFETY: `proto` is the prototype of a member of `t`, a
                    // struct of `btf`.
                    let info = unsafe { ArgInfo::new(btf, proto, stub, &mut model) }
                        .map_err(|e| DescError::ArgTag(member, stub, e))?;
                    // SAFETY: The type is being registered and its struct_ops
                    // is ours alone (type invariant).
                    unsafe { self.st_ops().set_func_model(member.index(), model) }
                        .map_err(|_| DescError::FuncProto(member))?;
                    info
                }
                None => ArgInfo::NONE,
            };
            arg_info
                .push(info, GFP_KERNEL)
                .map_err(|_| DescError::NoMemory)?;
        }
        if arg_info.len() != vlen || arg_info.capacity() != vlen {
            return Err(DescError::Internal);
        }

        // SAFETY: `btf` registers the type (type invariant).
        unsafe { self.st_ops().init(btf) }.map_err(|_| DescError::Init)?;

        let (info, _, _) = arg_info.into_raw_parts();
        let desc = bindings::bpf_struct_ops_desc {
            st_ops: self.st_ops_ptr().cast(),
            type_: t.as_raw(),
            value_type: vt.as_raw(),
            type_id,
            value_id,
            arg_info: info.cast(),
        };
        // SAFETY: The slot is ours (type invariant); every field is written,
        // none of the old bytes read.
        unsafe { self.desc.as_ptr().write(desc) };
        // INVARIANT: Types of `btf`, which owns the descriptor; `arg_info`
        // has exactly `vlen(t)` entries (checked above).
        Ok(())
    }
}
