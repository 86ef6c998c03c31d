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
    alloc::{flags::GFP_KERNEL, KBox, KVec},
    bindings,
    bpf::{
        btf::{Btf, BtfType, Member},
        prog::Prog,
        struct_ops::{self, StructOpsMap, Tramp, Trampolines, Update, DATA_OFFSET},
        trampoline::{self, Images, Ksym, Slot, TrampLink, TrampLinks},
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
    check_zero_holes(btf, vt, value)?;
    check_zero_holes(btf, t, value.get(DATA_OFFSET..).ok_or(EINVAL)?)?;
    let common = value
        .get(..core::mem::size_of::<bindings::bpf_struct_ops_common_value>())
        .ok_or(EINVAL)?;
    if common.iter().any(|&b| b != 0) {
        return Err(EINVAL);
    }

    let mut tlinks = TrampLinks::new()?;
    let mut upd = map.lock();
    let (uvalue, _) = upd.values()?;
    uvalue.copy_from_slice(value);
    let r = register(&mut upd, t, &mut tlinks);
    if r.is_err() {
        upd.reset();
    }
    r
}

fn register(upd: &mut Update<'_>, t: &BtfType, tlinks: &mut TrampLinks) -> Result {
    let tramps = build_trampolines(upd, t, tlinks)?;
    upd.validate()?;
    tramps.images.protect()?;
    let tramps = KBox::new(tramps, GFP_KERNEL)?;
    if upd.map().is_link_map() {
        // Links register it; lookups see the value from now on.
        upd.ready(tramps)
    } else {
        upd.register(tramps)
    }
}

/// Walks the members: module owner, `init_member()`, zeroed data, programs;
/// then lays out and writes the trampolines.
fn build_trampolines(
    upd: &mut Update<'_>,
    t: &BtfType,
    tlinks: &mut TrampLinks,
) -> Result<Trampolines> {
    let map = upd.map();
    let btf = map.btf();
    let st_ops = map.desc().st_ops();
    let mut tramps = KVec::<Tramp>::with_capacity(map.funcs_cnt() as usize, GFP_KERNEL)?;
    let mut sleepable = false;
    let module_type = Btf::vmlinux()?
        .and_then(|v| v.type_by_id(struct_ops::module_type_id()))
        .filter(|_| struct_ops::module_type_id() != 0)
        .map(BtfType::as_raw);
    let tname = btf.type_name(t);

    for member in t.members() {
        let moff = member.offset();
        let uoff = DATA_OFFSET + moff;
        let ptype = btf.resolve_ptr(member.type_id()).map(|(p, _)| p);

        if module_type.is_some() && ptype.map(BtfType::as_raw) == module_type {
            // The subsystem counts the map's users through this owner.
            let (uvalue, kdata) = upd.values()?;
            if read_u64(uvalue, uoff)? != 0 {
                return Err(EINVAL);
            }
            write_u64(kdata, moff, struct_ops::module_owner() as u64)?;
            continue;
        }

        if upd.init_member(t, &member)? {
            continue;
        }

        let Some(_proto) = ptype.filter(|p| p.is_func_proto()) else {
            // Anything else the subsystem did not take must be zero.
            let size = btf.size_of(member.type_id())? as usize;
            let (uvalue, _) = upd.values()?;
            let data = uvalue.get(uoff..uoff + size).ok_or(EINVAL)?;
            if data.iter().any(|&b| b != 0) {
                return Err(EINVAL);
            }
            continue;
        };

        let (uvalue, _) = upd.values()?;
        // As in C, the fd is the low 32 bits of the slot, which then shows
        // the program's id.
        let prog_fd = read_u64(uvalue, uoff)? as u32;
        if prog_fd == 0 {
            continue;
        }
        let prog = Prog::from_fd(prog_fd)?;
        check_prog(&prog, map, &member)?;
        write_u64(uvalue, uoff, u64::from(prog.id()))?;
        sleepable |= prog.sleepable();

        let link = TrampLink::new(prog, &crate::bpf_struct_ops_link_lops)?;
        let model = st_ops.func_model(member.index()).ok_or(EINVAL)?;
        let size = trampoline::size_of(tlinks, &link, model, st_ops.cfi_stub(t, moff))?;
        let ksym = Ksym::new(tname, btf.name_by_offset(member.name_off()))?;
        tramps.push(
            Tramp {
                link,
                ksym,
                slot: Slot::new(size),
                index: member.index(),
                moff,
            },
            GFP_KERNEL,
        )?;
    }

    // All sizes known: lay the trampolines out in as few bytes as they need,
    // then write them. (Unlike 6.12, `init_member()` thus runs before any
    // func ptr slot of kdata holds its trampoline; no subsystem reads them
    // there.)
    let images = Images::layout(tramps.iter_mut().map(|tr| &mut tr.slot))?;
    // SAFETY: No preconditions.
    let cfi_offset = unsafe { bindings::cfi_get_offset() } as usize;
    for tr in tramps.iter_mut() {
        let model = st_ops.func_model(tr.index).ok_or(EINVAL)?;
        let stub = st_ops.cfi_stub(t, tr.moff);
        let (start, size) = images.write(&tr.slot, tlinks, &tr.link, model, stub)?;
        let (_, kdata) = upd.values()?;
        write_u64(kdata, tr.moff, start.wrapping_add(cfi_offset) as u64)?;
        tr.ksym.set_range(start, size)?;
    }
    Ok(Trampolines {
        tramps,
        images,
        sleepable,
    })
}

/// The program must be a struct_ops program loaded for this member.
fn check_prog(prog: &Prog, map: &StructOpsMap, member: &Member<'_>) -> Result {
    if prog.prog_type() != bindings::bpf_prog_type_BPF_PROG_TYPE_STRUCT_OPS
        || prog.attach_btf_id() != map.desc().type_id()
        || prog.expected_attach_type() as usize != member.index()
    {
        return Err(EINVAL);
    }
    Ok(())
}

/// Bytes of `data` (an instance of struct `t`) outside every member must be
/// zero.
fn check_zero_holes(btf: &Btf, t: &BtfType, data: &[u8]) -> Result {
    let nonzero = |from: usize, to: usize| {
        data.get(from..to)
            .is_some_and(|b| b.iter().any(|&x| x != 0))
    };
    let mut prev_end = 0;
    for member in t.members() {
        let off = member.offset();
        if off > prev_end && nonzero(prev_end, off) {
            return Err(EINVAL);
        }
        prev_end = off + btf.size_of(member.type_id())? as usize;
    }
    let size = t.size() as usize;
    if size > prev_end && nonzero(prev_end, size) {
        return Err(EINVAL);
    }
    Ok(())
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
