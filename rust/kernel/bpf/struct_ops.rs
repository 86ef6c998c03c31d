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
//! - [`StructOpsLink`] registers a `BPF_F_LINK` map while it is attached.

use crate::bindings;
use core::mem::offset_of;

mod desc;
mod link;
mod map;

pub use crate::bpf::verifier::VerifierLog;
pub use desc::{ArgTagError, Desc, DescError, DescSlot, StructOps, MAX_RET_SIZE};
pub use link::{LinksGuard, StructOpsLink, StructOpsMapRef};
pub use map::{FuncPtr, MemberKind, StructOpsMap, TrampPlan, Trampolines, Update};

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
    #[inline]
    fn from_raw(s: bindings::bpf_struct_ops_state) -> Self {
        match s {
            bindings::bpf_struct_ops_state_BPF_STRUCT_OPS_STATE_INUSE => State::InUse,
            bindings::bpf_struct_ops_state_BPF_STRUCT_OPS_STATE_TOBEFREE => State::ToBeFree,
            bindings::bpf_struct_ops_state_BPF_STRUCT_OPS_STATE_READY => State::Ready,
            _ => State::Init,
        }
    }

    #[inline]
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
#[inline]
pub fn module_owner() -> usize {
    // SAFETY: No preconditions; it returns a constant.
    unsafe { bindings::bpf_struct_ops_module_owner() as usize }
}

/// BTF id of `struct module` in vmlinux (0 without modules).
#[inline]
pub fn module_type_id() -> u32 {
    // SAFETY: No preconditions; it reads an id fixed at build time.
    unsafe { bindings::bpf_struct_ops_module_btf_id() }
}

/// BTF id of `struct bpf_struct_ops_common_value` in vmlinux.
#[inline]
pub fn common_value_type_id() -> u32 {
    // SAFETY: No preconditions; it reads an id fixed at build time.
    unsafe { bindings::bpf_struct_ops_common_value_btf_id() }
}

/// The map ops' `map_btf_id`: the BTF id of `struct bpf_struct_ops_map`.
#[inline]
const fn map_btf_id() -> *mut i32 {
    (&raw mut bindings::bpf_struct_ops_map_btf_ids).cast()
}

/// Waits until no CPU can still be running a program or trampoline of a map
/// whose last reference is gone: an RCU grace period for the programs and an
/// RCU-tasks one for the trampolines' last instructions. When some programs
/// are `sleepable`, an RCU tasks trace grace period (they run under it) comes
/// before the RCU-tasks one, which then also covers the trampoline's tail
/// that a task leaving such a program still runs.
#[inline]
pub fn wait_trampolines(sleepable: bool) {
    // SAFETY: No preconditions; it may sleep, as its callers can.
    unsafe { bindings::bpf_struct_ops_wait_trampolines(sleepable) };
}

/// The result of a subsystem callback (`init`, `validate`, `reg`,
/// `update`): as in C, anything but 0 is a failure. A positive value, which
/// no subsystem returns and 7.3 passes on to userspace as the syscall's
/// result, becomes `EINVAL`.
#[inline]
fn callback_result(r: crate::ffi::c_int) -> crate::error::Result {
    match crate::bpf::errno::check(r)? {
        0 => Ok(()),
        _ => Err(crate::error::code::EINVAL),
    }
}

/// The most members a struct_ops type may have.
pub const MAX_MEMBERS: u16 = bindings::BPF_STRUCT_OPS_MAX_NR_MEMBERS as u16;

/// Size of the common part (`refcnt`, `state`) at the start of the value.
pub const COMMON_VALUE_SIZE: usize = core::mem::size_of::<bindings::bpf_struct_ops_common_value>();

/// Offset of the subsystem's struct (`data`) in the value.
pub const DATA_OFFSET: usize = offset_of!(bindings::bpf_struct_ops_value, data);
