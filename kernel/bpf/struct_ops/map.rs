// SPDX-License-Identifier: GPL-2.0-only

//! The map operations of `BPF_MAP_TYPE_STRUCT_OPS`.
//!
//! One entry, key 0: the subsystem's struct. The state goes
//! INIT --update--> INUSE --delete--> TOBEFREE, or INIT --update--> READY
//! for `BPF_F_LINK` maps, whose links register it.

use super::update;
use kernel::{
    alloc::{flags::GFP_KERNEL, KVec},
    bpf::{
        btf::ValueBtf,
        map::{flags, MapArea, MapCreateAttr, MapOps, SeqFile},
        struct_ops::{State, StructOpsMap, Trampolines},
    },
    error::{code::*, Result},
    prelude::*,
};

/// The struct_ops map type.
pub(crate) struct StructOpsMapOps;

/// Creation flags the map takes.
const ALLOWED_FLAGS: u32 = flags::LINK | flags::VTYPE_BTF_OBJ_FD;

/// The map's single key, from the raw bytes.
pub(crate) fn key_of(key: &[u8]) -> Option<u32> {
    key.first_chunk::<4>().map(|k| u32::from_ne_bytes(*k))
}

#[vtable]
impl MapOps for StructOpsMapOps {
    type Map = StructOpsMap;

    #[inline]
    fn alloc_check(attr: &MapCreateAttr) -> Result {
        if attr.key_size() != 4
            || attr.max_entries() != 1
            || attr.map_flags() & !ALLOWED_FLAGS != 0
            || attr.btf_vmlinux_value_type_id() == 0
        {
            return Err(EINVAL);
        }
        Ok(())
    }

    #[inline]
    fn alloc(attr: &MapCreateAttr) -> Result<MapArea<StructOpsMap>> {
        let btf = if attr.map_flags() & flags::VTYPE_BTF_OBJ_FD != 0 {
            ValueBtf::module(attr.value_type_btf_obj_fd())?
        } else {
            ValueBtf::vmlinux()?
        };
        StructOpsMap::create(attr, btf)
    }

    #[inline]
    fn get_next_key(_map: &StructOpsMap, key: Option<&[u8]>, next: &mut [u8]) -> Result {
        if key.and_then(key_of) == Some(0) {
            return Err(ENOENT);
        }
        next.get_mut(..4)
            .ok_or(EINVAL)?
            .copy_from_slice(&0u32.to_ne_bytes());
        Ok(())
    }

    #[inline]
    fn lookup(_map: &StructOpsMap, _key: &[u8]) -> Error {
        // Programs cannot look into a struct_ops map.
        EINVAL
    }

    #[inline]
    fn update(map: &StructOpsMap, key: &[u8], value: &[u8], flags: u64) -> Result {
        update::update(map, key, value, flags)
    }

    #[inline]
    fn delete(map: &StructOpsMap, _key: &[u8]) -> Result {
        if map.is_link_map() {
            return Err(EOPNOTSUPP);
        }
        // Unregisters and drops the registration's reference: the map goes
        // once the last user (e.g. the last socket on the CA) drops its own.
        match map.unregister() {
            State::InUse => Ok(()),
            State::ToBeFree => Err(EINPROGRESS),
            _ => Err(ENOENT),
        }
    }

    #[inline]
    fn seq_show(map: &StructOpsMap, key: &[u8], m: &SeqFile) {
        let size = map.map().value_size() as usize;
        let Ok(mut value) = KVec::from_elem(0u8, size, GFP_KERNEL) else {
            return;
        };
        if sys_lookup(map, key_of(key).unwrap_or(u32::MAX), &mut value).is_ok() {
            map.btf()
                .seq_show(map.map().btf_vmlinux_value_type_id(), &value, m);
            m.putc(b'\n');
        }
    }

    #[inline]
    fn mem_usage(map: &StructOpsMap) -> u64 {
        let value_size = map.map().value_size() as usize;
        // The map with its kernel value, and the user value.
        let usage = StructOpsMap::alloc_size(value_size)
            + value_size
            + map.trampolines().map_or(0, Trampolines::mem_usage);
        usage as u64
    }
}

/// `BPF_MAP_LOOKUP_ELEM` from userspace: the value with prog ids, the state
/// and the exact subsystem refcount.
pub(crate) fn sys_lookup(map: &StructOpsMap, key: u32, value: &mut [u8]) -> Result {
    if key != 0 {
        return Err(ENOENT);
    }
    map.read_value(value);
    Ok(())
}
