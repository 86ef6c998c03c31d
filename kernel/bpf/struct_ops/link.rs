// SPDX-License-Identifier: GPL-2.0-only

//! Links of `BPF_F_LINK` struct_ops maps.
//!
//! An update leaves such a map READY; each `BPF_LINK_CREATE` on it registers
//! the struct with the subsystem, holding one subsystem reference and one map
//! reference, until the link is detached or its last fd closed.
//! `BPF_LINK_UPDATE` switches a link to another READY map of the same type
//! with the subsystem's `update()`. Registration, update and detach are
//! serialised by one global mutex; the release of a link's last reference
//! needs none, as nobody else can reach the link.

use kernel::{
    bindings,
    bpf::{
        link::{LinkInfo, LinkOps, LinkPrimer, PollWaiter},
        map::{Map, SeqFile},
        struct_ops::{LinksGuard, StructOpsLink, StructOpsMapRef},
    },
    error::{code::*, Result},
    prelude::*,
    str::CString,
};

/// The link type of struct_ops maps; its table is
/// `crate::STRUCT_OPS_LINK_OPS`.
pub(crate) struct StructOpsLinkOps;

/// Registers the READY map `map` through a new link of `attach_type`;
/// returns the link's fd.
pub(crate) fn create(map: StructOpsMapRef, attach_type: bindings::bpf_attach_type) -> Result<i32> {
    if !map.valid_to_reg() {
        return Err(EINVAL);
    }
    let primer = LinkPrimer::new(
        StructOpsLink::new()?,
        &crate::STRUCT_OPS_LINK_OPS,
        attach_type,
    )?;
    // Held until the link knows its map, so that the subsystem cannot
    // detach a half-made link.
    let mut guard = LinksGuard::lock();
    StructOpsLink::register(&primer, &mut guard, map)?;
    drop(guard);
    Ok(primer.settle())
}

#[vtable]
impl LinkOps for StructOpsLinkOps {
    type Link = StructOpsLink;
    type UpdateMap = StructOpsMapRef;

    #[inline]
    fn dealloc(link: Pin<KBox<StructOpsLink>>) {
        link.release();
    }

    #[inline]
    fn detach(link: &StructOpsLink) -> Result {
        let mut guard = LinksGuard::lock();
        let was_attached = link.unregister(&mut guard);
        drop(guard);
        if was_attached {
            link.hup();
        }
        Ok(())
    }

    #[inline]
    fn show_fdinfo(link: &StructOpsLink, m: &SeqFile) {
        if let Some(id) = link.map_id() {
            if let Ok(line) = CString::try_from_fmt(fmt!("map_id:\t{}\n", id)) {
                m.puts(&line);
            }
        }
    }

    #[inline]
    fn fill_link_info(link: &StructOpsLink, info: &mut LinkInfo) -> Result {
        if let Some(id) = link.map_id() {
            info.set_struct_ops_map_id(id);
        }
        Ok(())
    }

    #[inline]
    fn update_map(link: &StructOpsLink, new: StructOpsMapRef, old: Option<&Map>) -> Result {
        // As in C, what needs no lock is checked before taking it: a failing
        // update does not wait behind a slow `unreg()`. (A READY link map
        // stays READY; `update` checks again under the lock.)
        if !new.valid_to_reg() {
            return Err(EINVAL);
        }
        if !new.has_update() {
            return Err(EOPNOTSUPP);
        }
        let mut guard = LinksGuard::lock();
        link.update(&mut guard, new, old)
    }

    #[inline]
    fn poll(link: &StructOpsLink, waiter: &PollWaiter) -> u32 {
        link.poll(waiter)
    }
}
