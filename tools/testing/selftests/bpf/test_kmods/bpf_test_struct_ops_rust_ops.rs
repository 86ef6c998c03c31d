// SPDX-License-Identifier: GPL-2.0

//! bpf_test_struct_ops_rust: a struct_ops type defined in Rust, `st_rust_ops`, with
//! `kernel::bpf::struct_ops_type`, whose ops Rust calls.
//!
//! The type keeps one registered map at a time, held (`ARef<Held>`) from
//! `reg` to `unreg`. The C half (bpf_test_struct_ops_rust_btf.c) has what BTF must see and
//! the debugfs files through which the tests make Rust call the ops; it
//! calls the `st_rust_*` functions below. A second type, `st_rust_bad`,
//! whose Rust struct is larger than its C one, must fail to register.

use kernel::{
    bindings,
    bpf::struct_ops_type::{
        ConstNullable, ConstRef, Enum, Held, Link, Nullable, Op, OpEnum, OpPointee, Published, Ref,
        SleepableMembers, StructOpsTable, StructOpsType, VerifierOpsTable,
    },
    error::{code::*, to_result},
    ffi::{c_int, c_void},
    new_mutex,
    prelude::*,
    sync::aref::ARef,
    sync::atomic::{Acquire, Atomic, Relaxed, Release},
    sync::Mutex,
    time::{Instant, Monotonic},
    transmute::AsBytes,
};

module! {
    type: StRustTestmod,
    name: "bpf_test_struct_ops_rust",
    authors: ["bpf_struct_ops tests"],
    description: "A struct_ops type defined in Rust, whose ops Rust calls",
    license: "GPL",
}

/// `struct st_rust_arg` (bpf_test_struct_ops_rust.h), named as C names it: under
/// kCFI, the type id of an indirect call through a `*mut st_rust_arg`
/// encodes the pointee's name, and must be the C function pointer's.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct st_rust_arg {
    /// The first value.
    pub a: i32,
    /// The second value.
    pub b: i32,
}

// SAFETY: Two `i32`s: no padding, no interior mutability.
unsafe impl AsBytes for st_rust_arg {}

// SAFETY: bindgen's `--newtype-enum` of `enum bpf_access_type`: a
// `#[repr(transparent)]` `c_uint`, 4 bytes unsigned as BTF's enum is.
unsafe impl OpEnum<StRustOps> for bindings::bpf_access_type {
    type Repr = u32;
    const NAME: &'static CStr = c"bpf_access_type";
}

// SAFETY: `st_rust_arg` is `struct st_rust_arg`, two integers any value of
// which is valid; st_rust_ops has no writable fields, kfuncs nor
// `is_valid_access`.
unsafe impl OpPointee<StRustOps> for st_rust_arg {
    const NAME: &'static CStr = c"st_rust_arg";
}

/// `struct st_rust_arg` again, under another name, as a module might mirror
/// it: BTF agrees (the name checked is [`OpPointee::NAME`]), but under kCFI
/// the type id of a call through a `*mut StRustArgMirror` differs from the C
/// function pointer's, so Rust's calls must be refused, not trap.
#[repr(C)]
pub struct StRustArgMirror {
    /// The first value.
    pub a: i32,
    /// The second value.
    pub b: i32,
}

// SAFETY: Two `i32`s: no padding, no interior mutability.
unsafe impl AsBytes for StRustArgMirror {}

// SAFETY: As for `st_rust_arg`, of which it is a copy.
unsafe impl OpPointee<StRustOps> for StRustArgMirror {
    const NAME: &'static CStr = c"st_rust_arg";
}

/// `struct st_rust_ops` (bpf_test_struct_ops_rust.h): its size is checked against
/// BTF when the type registers, and each op Rust calls on its first call.
#[repr(C)]
pub struct StRustOpsC {
    /// `int (*test_1)(int x)`.
    pub test_1: Option<unsafe extern "C" fn(i32) -> i32>,
    /// `int (*test_2)(struct st_rust_arg *arg, int x)`.
    pub test_2: Option<unsafe extern "C" fn(*mut st_rust_arg, i32) -> i32>,
    /// `int (*test_nullable)(struct st_rust_arg *arg)`.
    pub test_nullable: Option<unsafe extern "C" fn(*mut st_rust_arg) -> i32>,
    /// `int (*test_sleep)(int x)`.
    pub test_sleep: Option<unsafe extern "C" fn(i32) -> i32>,
    /// `void (*test_void)(int x)`.
    pub test_void: Option<unsafe extern "C" fn(i32)>,
    /// `int (*test_mistyped)(int x)`.
    pub test_mistyped: Option<unsafe extern "C" fn(i32) -> i32>,
    /// `int (*test_not_nullable)(struct st_rust_arg *arg)`.
    pub test_not_nullable: Option<unsafe extern "C" fn(*mut st_rust_arg) -> i32>,
    /// `int (*test_const)(const struct st_rust_arg *arg)`.
    pub test_const: Option<unsafe extern "C" fn(*const st_rust_arg) -> i32>,
    /// `int (*test_enum)(enum bpf_access_type t)`.
    pub test_enum: Option<unsafe extern "C" fn(bindings::bpf_access_type) -> i32>,
}

/// `struct st_rust_bad` as Rust wrongly declares it: one member too many.
#[repr(C)]
pub struct StRustBadC {
    /// `int (*op)(int x)`.
    pub op: Option<unsafe extern "C" fn(i32) -> i32>,
    /// Not in the C struct.
    pub extra: u64,
}

extern "C" {
    static st_rust_ops_stubs: StRustOpsC;
    static st_rust_bad_stubs: StRustBadC;
    /// Takes the two tables as `struct bpf_struct_ops *`.
    fn st_rust_btf_init(ops: *mut c_void, bad: *mut c_void) -> c_int;
    fn st_rust_btf_exit();
}

/// The type `st_rust_ops`.
pub struct StRustOps;

/// Its table, which the C half registers.
static ST_RUST_OPS: StructOpsTable<StRustOps> =
    // SAFETY: `st_rust_ops_stubs` is the C half's never written static of
    // `struct st_rust_ops`, whose members are its functions, and
    // `StRustOpsC` is that struct; the C half sets the table's owner to this
    // module before registering it, so the core pins the module while maps
    // of the type exist; the type's only table, which `table()` returns.
    unsafe { StructOpsTable::new(&ST_RUST_VERIFIER_OPS, &raw const st_rust_ops_stubs) };
static ST_RUST_VERIFIER_OPS: VerifierOpsTable<StRustOps> = VerifierOpsTable::new();

static TEST_1: Op<StRustOps, (i32,), i32> = Op::new(c"test_1");
static TEST_2: Op<StRustOps, (Ref<st_rust_arg>, i32), i32> = Op::new(c"test_2");
static TEST_NULLABLE: Op<StRustOps, (Nullable<st_rust_arg>,), i32> = Op::new(c"test_nullable");
static TEST_SLEEP: Op<StRustOps, (i32,), i32> = Op::new(c"test_sleep");
static TEST_VOID: Op<StRustOps, (i32,), ()> = Op::new(c"test_void");
/// Wrong on purpose: the argument is an `int`, signed.
static TEST_MISTYPED: Op<StRustOps, (u32,), i32> = Op::new(c"test_mistyped");
/// Wrong on purpose: the stub's argument is not `__nullable`.
static TEST_NOT_NULLABLE: Op<StRustOps, (Nullable<st_rust_arg>,), i32> =
    Op::new(c"test_not_nullable");
/// `test_2` through the mirror: refused under kCFI only.
static TEST_2_MIRROR: Op<StRustOps, (Ref<StRustArgMirror>, i32), i32> = Op::new(c"test_2");
static TEST_CONST: Op<StRustOps, (ConstRef<st_rust_arg>,), i32> = Op::new(c"test_const");
/// `test_const` with a `*mut`: refused under kCFI only.
static TEST_CONST_AS_MUT: Op<StRustOps, (Ref<st_rust_arg>,), i32> = Op::new(c"test_const");
static TEST_CONST_NULLABLE: Op<StRustOps, (ConstNullable<st_rust_arg>,), i32> =
    Op::new(c"test_const");
/// Wrong on purpose: `test_2`'s stub argument is not `__nullable`.
static TEST_2_CONST_NULLABLE: Op<StRustOps, (ConstNullable<st_rust_arg>, i32), i32> =
    Op::new(c"test_2");
static TEST_ENUM: Op<StRustOps, (Enum<bindings::bpf_access_type>,), i32> = Op::new(c"test_enum");
/// `test_enum` with a `u32`: refused under kCFI only.
static TEST_ENUM_AS_U32: Op<StRustOps, (u32,), i32> = Op::new(c"test_enum");

#[vtable]
impl StructOpsType for StRustOps {
    type Ops = StRustOpsC;
    const NAME: &'static CStr = c"st_rust_ops";
    // SAFETY: Rust calls `test_sleep` only from the debugfs write, in
    // process context, holding no lock but the state's mutex.
    const SLEEPABLE: SleepableMembers<Self> = unsafe { SleepableMembers::new(&[c"test_sleep"]) };

    fn table() -> &'static StructOpsTable<Self> {
        &ST_RUST_OPS
    }

    fn reg(ops: &Published<Self>, _link: Option<&Link>) -> Result {
        let state = State::get().ok_or(ENODEV)?;
        let mut held = state.held.lock();
        if held.is_some() {
            return Err(EBUSY);
        }
        *held = Some(ops.try_hold().ok_or(ENOENT)?);
        state.registered.fetch_add(1, Relaxed);
        Ok(())
    }

    fn unreg(ops: &Published<Self>, _link: Option<&Link>) {
        let Some(state) = State::get() else {
            return;
        };
        let mut held = state.held.lock();
        if held
            .as_ref()
            .is_some_and(|h| core::ptr::eq(h.as_ptr(), ops.as_ptr()))
        {
            // Puts our count, after any call in progress (it holds the lock).
            *held = None;
            state.registered.fetch_sub(1, Relaxed);
        }
    }
}

/// The type `st_rust_bad`, whose struct Rust gets wrong.
pub struct StRustBad;

static ST_RUST_BAD: StructOpsTable<StRustBad> =
    // SAFETY: As for `ST_RUST_OPS`, with the C half's `st_rust_bad_stubs`;
    // `StRustBadC` is the wrong size on purpose (breaking the contract, as
    // the test means to), which registration refuses before the core uses
    // the struct.
    unsafe { StructOpsTable::new(&ST_RUST_BAD_VERIFIER_OPS, &raw const st_rust_bad_stubs) };
static ST_RUST_BAD_VERIFIER_OPS: VerifierOpsTable<StRustBad> = VerifierOpsTable::new();

#[vtable]
impl StructOpsType for StRustBad {
    type Ops = StRustBadC;
    const NAME: &'static CStr = c"st_rust_bad";

    fn table() -> &'static StructOpsTable<Self> {
        &ST_RUST_BAD
    }

    fn reg(_ops: &Published<Self>, _link: Option<&Link>) -> Result {
        Err(EINVAL)
    }

    fn unreg(_ops: &Published<Self>, _link: Option<&Link>) {}
}

/// What the calls share.
#[pin_data]
struct State {
    /// The registered map.
    #[pin]
    held: Mutex<Option<ARef<Held<StRustOps>>>>,
    /// How many maps are registered (0 or 1).
    registered: Atomic<i32>,
    /// What the last call returned.
    ret: Atomic<i32>,
    /// How long the last loop of calls took.
    loop_ns: Atomic<u64>,
}

/// The module's [`State`], from init to exit.
static STATE: Atomic<*mut State> = Atomic::new(core::ptr::null_mut());

impl State {
    /// The state, `None` outside the module's life.
    fn get() -> Option<&'static State> {
        let p = STATE.load(Acquire);
        // SAFETY: Set by init to a pinned, leaked `State` before the types
        // register (so before `reg`, `unreg` and the debugfs files can run),
        // and freed by exit only after the debugfs files are gone and once
        // no map of the type is left (each pins the module).
        (!p.is_null()).then(|| unsafe { &*p })
    }
}

/// Calls op `op` (`ST_RUST_*` in bpf_test_struct_ops_rust.h) of the registered map
/// with `arg`; see bpf_test_struct_ops_rust_btf.c.
#[no_mangle]
pub extern "C" fn st_rust_call(op: u32, arg: i32) -> c_int {
    match call(op, arg) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

fn call(op: u32, arg: i32) -> Result {
    let state = State::get().ok_or(ENODEV)?;
    let held = state.held.lock();
    let ops: &Published<StRustOps> = held.as_deref().ok_or(ENODEV)?;
    let a = st_rust_arg {
        a: arg,
        b: arg.wrapping_mul(2),
    };
    let r = match op {
        1 => TEST_1.call(ops, (arg,))?,
        2 => TEST_2.call(ops, (&a, arg))?,
        3 => TEST_NULLABLE.call(ops, (None,))?,
        4 => TEST_NULLABLE.call(ops, (Some(&a),))?,
        5 => TEST_SLEEP.call(ops, (arg,))?,
        6 => TEST_VOID.call(ops, (arg,))?.map(|()| 0),
        7 => TEST_MISTYPED.call(ops, (arg as u32,))?,
        8 => TEST_NOT_NULLABLE.call(ops, (None,))?,
        9 => {
            let m = StRustArgMirror { a: a.a, b: a.b };
            TEST_2_MIRROR.call(ops, (&m, arg))?
        }
        10 => TEST_CONST.call(ops, (&a,))?,
        11 => TEST_CONST_AS_MUT.call(ops, (&a,))?,
        12 => TEST_CONST_NULLABLE.call(ops, (None,))?,
        13 => TEST_ENUM.call(ops, (bindings::bpf_access_type(arg as u32),))?,
        14 => TEST_ENUM_AS_U32.call(ops, (arg as u32,))?,
        15 => TEST_2_CONST_NULLABLE.call(ops, (None, arg))?,
        _ => return Err(EINVAL),
    };
    state.ret.store(r.ok_or(ENOENT)?, Relaxed);
    Ok(())
}

/// What the last call returned.
#[no_mangle]
pub extern "C" fn st_rust_call_ret() -> c_int {
    State::get().map_or(0, |s| s.ret.load(Relaxed))
}

/// Calls `test_1` of the registered map `n` times, as a subsystem calls an
/// op: 0, or -EIO when the sum of what it returned is not that of `x + 1`.
#[no_mangle]
pub extern "C" fn st_rust_call_loop(n: u64) -> c_int {
    match call_loop(n) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

fn call_loop(n: u64) -> Result {
    let state = State::get().ok_or(ENODEV)?;
    let held = state.held.lock();
    let ops: &Published<StRustOps> = held.as_deref().ok_or(ENODEV)?;
    // Bound once, as bpf_test_struct_ops's C loop reads the function pointer once.
    let op = TEST_1.bind(ops)?.ok_or(ENOENT)?;
    let t0 = Instant::<Monotonic>::now();
    let mut sum = 0i32;
    for i in 0..n {
        sum = sum.wrapping_add(op.call((i as i32,)));
    }
    let ns = t0.elapsed().as_nanos();
    state.loop_ns.store(ns as u64, Relaxed);
    let want = (n.wrapping_mul(n.wrapping_add(1)) / 2) as i32;
    if sum == want {
        Ok(())
    } else {
        Err(EIO)
    }
}

/// How long the last loop took, in ns.
#[no_mangle]
pub extern "C" fn st_rust_call_ns() -> u64 {
    State::get().map_or(0, |s| s.loop_ns.load(Relaxed))
}

/// How many maps are registered.
#[no_mangle]
pub extern "C" fn st_rust_registered() -> c_int {
    State::get().map_or(0, |s| s.registered.load(Relaxed))
}

/// The module: its types' registrations and state.
pub struct StRustTestmod {
    /// The state [`STATE`] points to, freed after the module's `drop`.
    _state: Pin<KBox<State>>,
}

impl kernel::Module for StRustTestmod {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let state = KBox::pin_init(
            pin_init!(State {
                held <- new_mutex!(None),
                registered: Atomic::new(0),
                ret: Atomic::new(0),
                loop_ns: Atomic::new(0),
            }),
            GFP_KERNEL,
        )?;
        STATE.store(core::ptr::from_ref::<State>(&state).cast_mut(), Release);
        // SAFETY: Both tables are this module's statics.
        let r = to_result(unsafe {
            st_rust_btf_init(ST_RUST_OPS.as_raw().cast(), ST_RUST_BAD.as_raw().cast())
        });
        if let Err(e) = r {
            STATE.store(core::ptr::null_mut(), Release);
            return Err(e);
        }
        Ok(Self { _state: state })
    }
}

impl Drop for StRustTestmod {
    fn drop(&mut self) {
        // SAFETY: Made by `init`; waits for the debugfs calls in progress.
        unsafe { st_rust_btf_exit() };
        STATE.store(core::ptr::null_mut(), Release);
    }
}
