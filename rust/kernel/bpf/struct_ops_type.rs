// SPDX-License-Identifier: GPL-2.0

//! Defining a struct_ops type: a kernel struct of function pointers (e.g.
//! `struct tcp_congestion_ops`) that BPF programs implement.
//!
//! C header: [`include/linux/bpf.h`](srctree/include/linux/bpf.h).
//!
//! A subsystem implements [`StructOpsType`] and declares its
//! [`StructOpsTable`], the `struct bpf_struct_ops` the BPF core takes, as a
//! static its C half registers. The callbacks never see a raw pointer:
//!
//! - `init_member` gets an [`InitMember`]: the member's name, and typed,
//!   bounds-checked reads of the user's value and writes of the kernel's,
//!   of integer members only;
//! - `check_member` gets the member and the program;
//! - `validate`, `reg`, `unreg` and `update` get the published struct as a
//!   [`Published`] handle, never as a reference to memory C writes; a
//!   subsystem keeps it alive past them as an `ARef<Held>`, and calls the
//!   ops of a registered one through [`Op`]s, checked against BTF;
//! - the verifier callbacks get the program, the access and its log; writes
//!   through `btf_struct_access` are allowed from a compile-time table of
//!   [`WritableFields`], checked against BTF when the type registers.
//!
//! Some of the type stays C, because BTF only describes C: the ops struct
//! itself, its value type (`register_bpf_struct_ops()`), the CFI stubs of its
//! members and its kfuncs. A short C file per type holds them, and registers
//! the table from its initcall. See `Documentation/bpf/struct_ops_rust.rst`,
//! "Defining a struct_ops type in Rust".
//!
//! The types here work with either implementation of the struct_ops map.

use crate::{
    bindings,
    bpf::{
        btf::{Btf, BtfType, Member},
        prog::LoadingProg,
        verifier::{AccessInfo, AccessType, FuncProto},
    },
    error::{code::*, Result},
    str::{CStr, CStrExt as _},
    sync::atomic::{Acquire, Atomic, Release},
    types::Opaque,
};
use core::marker::PhantomData;
use macros::vtable;

mod adapter;
mod init_member;
mod op;
mod published;
mod sleepable;
mod writable;

pub use init_member::InitMember;
pub use op::{
    BoundOp, ConstNullable, ConstRef, Enum, EnumRepr, Nullable, Op, OpArg, OpArgs, OpEnum,
    OpPointee, OpRet, Ref,
};
pub use published::{Held, Link, Published, Unregistered};
pub use sleepable::SleepableMembers;
pub use writable::{field_size, WritableField, WritableFields};

/// A struct_ops type defined in Rust.
///
/// The BPF core calls these when a map of the type is created, updated,
/// registered and unregistered, and when a program for one of its members
/// is verified. Methods a type does not implement behave as in a C type that
/// leaves the callback NULL (or, where Linux 7.3 calls it unchecked, as a
/// callback that accepts everything).
#[vtable]
pub trait StructOpsType: Sized + 'static {
    /// The C struct of function pointers, as bindgen made it (e.g.
    /// `bindings::tcp_congestion_ops`). Its size must be the one BTF gives
    /// the struct named [`StructOpsType::NAME`], or the type does not
    /// register.
    type Ops: 'static;

    /// The module the type belongs to, whose BTF describes it: `#[vtable]`
    /// sets it to the crate's `LocalModule` (`module!` makes it; a crate
    /// built into the kernel names the kernel, a null module). The core
    /// pins it while maps of the type exist, and drops the type and its BTF
    /// with it.
    type OwnerModule: crate::ModuleMetadata;

    /// The name of the C struct, as BTF knows it (e.g.
    /// `c"tcp_congestion_ops"`).
    const NAME: &'static CStr;

    /// The fields programs may write through pointers they were given, and
    /// the struct they are in: none by default.
    const WRITABLE: WritableFields<Self> = WritableFields::NONE;

    /// The members a sleepable program may implement: none by default, as
    /// the ops of most types run where they may not sleep.
    const SLEEPABLE: SleepableMembers<Self> = SleepableMembers::NONE;

    /// The type's table: where the BPF core finds its callbacks and the BTF
    /// it was registered with.
    fn table() -> &'static StructOpsTable<Self>;

    /// Called once, when the type registers, with the BTF that describes
    /// it, after the size and writable fields were checked.
    fn init(_btf: &Btf) -> Result {
        Ok(())
    }

    /// Called for each member of a new value, to initialize the kernel's
    /// copy of it from the user's: `Ok(true)` when this did it, `Ok(false)`
    /// to leave it to the core (function pointers are its; other members
    /// must then be zero).
    fn init_member(_member: &mut InitMember<'_>) -> Result<bool> {
        Ok(false)
    }

    /// Whether `prog` may implement `member`, once the table checked that a
    /// sleepable program implements one of [`StructOpsType::SLEEPABLE`].
    fn check_member(_member: &Member<'_>, _prog: &LoadingProg) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Checks a complete value before it is registered or linked.
    fn validate(_ops: &Unregistered<Self>) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// Registers `ops` with the subsystem: from now until the matching
    /// [`StructOpsType::unreg`] returns, it may be called.
    fn reg(ops: &Published<Self>, link: Option<&Link>) -> Result;

    /// Unregisters `ops`: when this returns the subsystem no longer calls it
    /// nor keeps a pointer to it, but through the references it holds.
    fn unreg(ops: &Published<Self>, link: Option<&Link>);

    /// Replaces `old` with `new` through `link`, as one step.
    fn update(_new: &Published<Self>, _old: &Published<Self>, _link: &Link) -> Result {
        crate::build_error!(crate::error::VTABLE_DEFAULT_ERROR)
    }

    /// The helper `func_id` for `prog`, or `None` when it may not call it.
    /// By default, the helpers any program type has.
    fn get_func_proto(
        func_id: bindings::bpf_func_id,
        prog: &LoadingProg,
    ) -> Option<&'static FuncProto<Self>> {
        FuncProto::base(func_id, prog)
    }

    /// Whether `prog` may access its context (the member's arguments) at
    /// `off`, once the table checked the access as a tracing program's read
    /// of the arguments of the function it is attached to, and filled `info`
    /// with what it loads: `false` refuses it. By default, `true`.
    fn is_valid_access(
        _off: i32,
        _size: i32,
        _ty: AccessType,
        _prog: &LoadingProg,
        _info: &mut AccessInfo,
    ) -> bool {
        true
    }
}

/// What a type learns when it registers: its BTF and the structs in it.
///
/// # Invariants
///
/// Each pointer is NULL or points into the BTF that the type of the
/// [`StructOpsTable`] holding this registers with (its module's, loaded for
/// as long as the table is). `btf` is that BTF once a registration's checks
/// passed, stored after the other two with release ordering, and NULL again
/// if the type's `init` then fails; `ops_type` is the struct
/// [`StructOpsType::NAME`], as large as [`StructOpsType::Ops`];
/// `writable_type` is the struct of [`StructOpsType::WRITABLE`], whose fields
/// were checked against it.
struct TypeState {
    /// The BTF the type was registered with.
    btf: Atomic<*mut bindings::btf>,
    /// The ops struct in it.
    ops_type: Atomic<*mut bindings::btf_type>,
    /// The struct of [`StructOpsType::WRITABLE`] in it.
    writable_type: Atomic<*mut bindings::btf_type>,
}

/// The struct_ops type's table: a `struct bpf_struct_ops` for
/// `register_bpf_struct_ops()`, with what the type learns at registration.
///
/// # Examples
///
/// A type over `struct tcp_congestion_ops`, whose CFI stubs are TCP's (a
/// type of its own has them in its C half, which also registers the table
/// with `register_bpf_struct_ops()`). Not registered, it is never called.
///
/// ```
/// # #[cfg(CONFIG_BPF_TCP_CA_RUST)]
/// # {
/// use kernel::bpf::struct_ops_type::{
///     Link, Published, StructOpsTable, StructOpsType, VerifierOpsTable,
/// };
/// use kernel::{bindings, prelude::*, ThisModule};
///
/// struct MyOps;
///
/// /// What owns the type: here the kernel image, a null module.
/// struct Owner;
///
/// impl kernel::ModuleMetadata for Owner {
///     const NAME: &'static CStr = c"my_ops";
///     // SAFETY: A null module pointer stands for the kernel itself.
///     const THIS_MODULE: ThisModule =
///         unsafe { ThisModule::from_ptr(core::ptr::null_mut()) };
/// }
///
/// #[vtable]
/// impl StructOpsType for MyOps {
///     type Ops = bindings::tcp_congestion_ops;
///     type OwnerModule = Owner;
///     const NAME: &'static CStr = c"tcp_congestion_ops";
///
///     fn table() -> &'static StructOpsTable<Self> {
///         &MY_STRUCT_OPS
///     }
///
///     fn reg(_ops: &Published<Self>, _link: Option<&Link>) -> Result {
///         Ok(())
///     }
///
///     fn unreg(_ops: &Published<Self>, _link: Option<&Link>) {}
/// }
///
/// static MY_STRUCT_OPS: StructOpsTable<MyOps> =
///     // SAFETY: TCP's stubs of `struct tcp_congestion_ops`, a never-written
///     // static of the kernel image; `MyOps`'s only table.
///     unsafe {
///         StructOpsTable::new(
///             &MY_VERIFIER_OPS,
///             &raw const bindings::__bpf_ops_tcp_congestion_ops,
///         )
///     };
/// static MY_VERIFIER_OPS: VerifierOpsTable<MyOps> = VerifierOpsTable::new();
///
/// // SAFETY: The table's `struct bpf_struct_ops`, whose `name` the table
/// // set to a static C string.
/// let name = unsafe { CStr::from_char_ptr((*MY_STRUCT_OPS.as_raw()).name) };
/// assert_eq!(name, c"tcp_congestion_ops");
/// # }
/// ```
///
/// # Invariants
///
/// `st_ops` is the `struct bpf_struct_ops` of `T` that
/// [`StructOpsTable::new`] builds, with the CFI stubs its caller gave, which
/// by its contract are a never-written instance of the C struct `T::Ops`;
/// the BPF core writes it (the func models) only while it registers the
/// type, before `state`'s BTF is set. `state` holds what `TypeState` says.
#[repr(C)]
pub struct StructOpsTable<T: StructOpsType> {
    /// First, so that C may take the table as a `struct bpf_struct_ops`.
    st_ops: Opaque<bindings::bpf_struct_ops>,
    state: TypeState,
    _type: PhantomData<T>,
}

// SAFETY: The BPF core writes the C struct (its func models) only while it
// registers the type, before anything else uses it; the state is atomics.
unsafe impl<T: StructOpsType> Sync for StructOpsTable<T> {}

/// Says in the kernel log that the ops struct of type `name` has `btf`
/// bytes in BTF and `rust` in Rust. Not generic.
#[cold]
fn size_refused(name: &CStr, btf: u32, rust: usize) {
    // SAFETY: The format takes a NUL-terminated string (`%s`), a `u32`
    // (`%u`) and a `usize` (`%zu`).
    unsafe {
        bindings::_printk(
            c"\x013bpf: struct_ops %s: BTF says %u bytes, Rust %zu\n".as_char_ptr(),
            name.as_char_ptr(),
            btf,
            rust,
        )
    };
}

/// The verifier callbacks of a struct_ops type (`struct bpf_verifier_ops`).
///
/// # Invariants
///
/// `0` holds the verifier callbacks of `T`, as [`VerifierOpsTable::new`]
/// builds them.
#[repr(transparent)]
pub struct VerifierOpsTable<T: StructOpsType>(bindings::bpf_verifier_ops, PhantomData<T>);

// SAFETY: Immutable function pointers.
unsafe impl<T: StructOpsType> Sync for VerifierOpsTable<T> {}

impl<T: StructOpsType> VerifierOpsTable<T> {
    /// The verifier callbacks of `T`.
    pub const fn new() -> Self {
        // INVARIANT: `T`'s callbacks.
        Self(adapter::verifier_ops::<T>(), PhantomData)
    }
}

impl<T: StructOpsType> Default for VerifierOpsTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: StructOpsType> StructOpsTable<T> {
    /// The table of `T`, with its verifier callbacks and its CFI stubs: the
    /// C struct whose members are the functions the BPF core takes the
    /// names, prototypes and kCFI hashes of trampolines from. Its owner is
    /// [`StructOpsType::OwnerModule`].
    ///
    /// # Safety
    ///
    /// `cfi_stubs` points to a C static, never written, of the struct BTF
    /// names [`StructOpsType::NAME`], whose function members are NULL or
    /// functions of that C file (the BPF core reads it before `init` can
    /// check anything); `T::Ops` is that struct as bindgen or a `#[repr(C)]`
    /// mirror has it (the published struct is used with its size and
    /// alignment, the size checked against BTF at registration); the table,
    /// its type and the stubs are in the module `T::OwnerModule` names (the
    /// kernel image for a null module); it is `T`'s only table, the one
    /// [`StructOpsType::table`] returns (what the verifier callbacks and
    /// [`Op`] learn about the registered type is kept in it).
    pub const unsafe fn new(
        verifier_ops: &'static VerifierOpsTable<T>,
        cfi_stubs: *const T::Ops,
    ) -> Self {
        // INVARIANT: `T`'s struct_ops, with the caller's stubs (its promise);
        // nothing registered yet.
        Self {
            st_ops: Opaque::new(adapter::struct_ops::<T>(
                &verifier_ops.0,
                cfi_stubs.cast_mut().cast(),
                T::NAME,
            )),
            state: TypeState {
                btf: Atomic::new(core::ptr::null_mut()),
                ops_type: Atomic::new(core::ptr::null_mut()),
                writable_type: Atomic::new(core::ptr::null_mut()),
            },
            _type: PhantomData,
        }
    }

    /// The BTF the type was registered with, `None` before.
    fn btf(&self) -> Option<&'static Btf> {
        let p = self.state.btf.load(Acquire);
        // SAFETY: Set by `register` to the BTF the core registered the type
        // with, which stays loaded as long as the type.
        (!p.is_null()).then(|| unsafe { Btf::from_raw(p) })
    }

    /// The ops struct in the type's BTF, `None` before registration.
    fn ops_type(&self) -> Option<&'static BtfType> {
        self.state_type(&self.state.ops_type)
    }

    /// What [`Op`] checks its declaration against, `None` before
    /// registration.
    fn resolve_info(&self) -> Option<op::TypeInfo<'static>> {
        // INVARIANT: What `register` recorded, and the stubs `new` was given:
        // an instance of `T::Ops`, as large as BTF's struct (`register`).
        Some(op::TypeInfo {
            btf: self.btf()?,
            ops: self.ops_type()?,
            writable: self.state_type(&self.state.writable_type),
            // SAFETY: The C struct is only written by the core while the type
            // registers, before `btf` is set (read above with acquire).
            stubs: unsafe { (*self.st_ops.get()).cfi_stubs }
                .cast_const()
                .cast(),
        })
    }

    /// The type `state` holds, in the type's BTF, `None` before.
    fn state_type(&self, p: &Atomic<*mut bindings::btf_type>) -> Option<&'static BtfType> {
        let p = p.load(Acquire);
        // SAFETY: Set by `register` to a type of the type's BTF, loaded as
        // long as the type.
        (!p.is_null()).then(|| unsafe { BtfType::from_raw(p) })
    }

    /// What the type's `init` learns: checks the Rust struct against BTF and
    /// the writable fields, and records them.
    fn register(&self, btf: &'static Btf) -> Result {
        // Registered once: a second registration would change what checked
        // `Op`s rely on. (Registrations of one table are serialised: its
        // module's init registers it; a failed one is undone by `forget`.)
        if self.btf().is_some() {
            return Err(EEXIST);
        }
        let id = btf.find_by_name_kind(T::NAME, crate::bpf::btf::KIND_STRUCT)?;
        let ops = btf.type_by_id(id).ok_or(EINVAL)?;
        if ops.size() as usize != core::mem::size_of::<T::Ops>() {
            size_refused(T::NAME, ops.size(), core::mem::size_of::<T::Ops>());
            return Err(EINVAL);
        }
        let writable = T::WRITABLE.check(btf)?;
        // INVARIANT: Types of `btf`, checked above; `btf` is stored last.
        self.state.writable_type.store(
            writable.map_or(core::ptr::null_mut(), |t| t.as_raw().cast_mut()),
            Release,
        );
        self.state.ops_type.store(ops.as_raw().cast_mut(), Release);
        self.state.btf.store(btf.as_raw(), Release);
        Ok(())
    }

    /// Undoes [`Self::register`] when the type's `init` fails: the type is
    /// not registered, and may be again. No value of the type exists, so
    /// no [`Op`] can be called meanwhile.
    fn forget(&self) {
        // INVARIANT: Not registered.
        self.state.btf.store(core::ptr::null_mut(), Release);
    }

    /// The offset in the ops struct of the member `prog` implements (its
    /// expected attach type is the member's index), `None` when unknown.
    pub fn member_offset(&self, prog: &LoadingProg) -> Option<usize> {
        let ops = self.ops_type()?;
        let idx = usize::try_from(prog.expected_attach_type()).ok()?;
        ops.members().nth(idx).map(|m| m.offset())
    }

    /// The raw `struct bpf_struct_ops`, for C.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::bpf_struct_ops {
        self.st_ops.get()
    }
}
