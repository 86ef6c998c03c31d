// SPDX-License-Identifier: GPL-2.0-only

//! Registration: the one map update a struct_ops map takes.
//!
//! The user's value holds prog fds in the func ptr slots. For each, a
//! trampoline is built that saves the function's arguments as a `u64` array
//! and calls the program; the kernel's copy of the struct gets the
//! trampoline, the user's copy the prog id. Then the subsystem checks the
//! whole struct (`validate()`), the images become read-only, and the struct
//! is registered (`reg()`), or left READY for links on a `BPF_F_LINK` map.
//! Any failure leaves the map as it was: INIT, nothing held.

use super::map::key_of;
use kernel::{
    bpf::{
        btf::{all_zero, BtfType},
        prog::Prog,
        struct_ops::{MemberKind, StructOpsMap, TrampPlan, Update, COMMON_VALUE_SIZE, DATA_OFFSET},
    },
    error::{code::*, Result},
};

const PTR_SIZE: usize = core::mem::size_of::<u64>();

/// `BPF_MAP_UPDATE_ELEM` on a struct_ops map.
pub(crate) fn update(map: &StructOpsMap, key: &[u8], value: &[u8], flags: u64) -> Result {
    if flags != 0 {
        return Err(EINVAL);
    }
    if key_of(key) != Some(0) {
        return Err(E2BIG);
    }
    let desc = map.desc();
    let btf = map.btf();
    let (t, vt) = desc.type_().zip(desc.value_type()).ok_or(EINVAL)?;
    // Bytes outside every member, of the value and of the struct in it,
    // must be zero.
    if btf.nonzero_in_holes(vt, value)?
        || btf.nonzero_in_holes(t, value.get(DATA_OFFSET..).ok_or(EINVAL)?)?
    {
        return Err(EINVAL);
    }
    let common = value.get(..COMMON_VALUE_SIZE).ok_or(EINVAL)?;
    if !all_zero(common) {
        return Err(EINVAL);
    }

    let mut upd = map.lock();
    let uvalue = upd.uvalue()?;
    // The core gives `value_size` bytes, as large as `uvalue`.
    if uvalue.len() != value.len() {
        return Err(EINVAL);
    }
    uvalue.copy_from_slice(value);
    let r = register(&mut upd, t);
    if r.is_err() {
        upd.reset();
    }
    r
}

/// Walks the members (module owner, `init_member()`, zeroed data,
/// programs), then has the abstraction build the trampolines and register
/// the struct.
fn register(upd: &mut Update<'_>, t: &BtfType) -> Result {
    let map = upd.map();
    let btf = map.btf();
    let mut plan = TrampPlan::new(map, &crate::bpf_struct_ops_link_lops)?;

    for member in t.members() {
        let uoff = DATA_OFFSET + member.offset();
        let kind = map.member_kind(&member)?;

        if let MemberKind::ModuleOwner = kind {
            // The subsystem counts the map's users through this owner, which
            // `commit` sets; the user's value must leave it zero.
            if read_u64(upd.uvalue()?, uoff)? != 0 {
                return Err(EINVAL);
            }
            continue;
        }

        if upd.init_member(&member)? {
            continue;
        }

        let MemberKind::FuncPtr(func_ptr) = kind else {
            // Anything else the subsystem did not take must be zero.
            let size = btf.size_of(member.type_id())? as usize;
            let data = upd.uvalue()?.get(uoff..uoff + size).ok_or(EINVAL)?;
            if !all_zero(data) {
                return Err(EINVAL);
            }
            continue;
        };

        // As in C, the fd is the low 32 bits of the slot, which then shows
        // the program's id.
        let prog_fd = read_u64(upd.uvalue()?, uoff)? as u32;
        if prog_fd == 0 {
            continue;
        }
        let prog = Prog::from_fd(prog_fd)?;
        let id = prog.id();
        plan.add(func_ptr, prog)?;
        write_u64(upd.uvalue()?, uoff, u64::from(id))?;
    }
    upd.commit(plan)
}

fn read_u64(buf: &[u8], off: usize) -> Result<u64> {
    let bytes = buf.get(off..off + PTR_SIZE).ok_or(EINVAL)?;
    Ok(u64::from_ne_bytes(bytes.try_into().map_err(|_| EINVAL)?))
}

fn write_u64(buf: &mut [u8], off: usize, v: u64) -> Result {
    buf.get_mut(off..off + PTR_SIZE)
        .ok_or(EINVAL)?
        .copy_from_slice(&v.to_ne_bytes());
    Ok(())
}
