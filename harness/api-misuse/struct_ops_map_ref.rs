// SPDX-License-Identifier: GPL-2.0
// expect: E0133
//! A module's safe code taking a struct_ops map as the map implementation
//! does (it could then unregister it, rewrite it or take subsystem counts
//! without `bpf()`'s checks): `StructOpsMapRef::new` is unsafe.

use kernel::bpf::{map::MapRef, struct_ops::StructOpsMapRef};

/// Turns any map reference into a struct_ops one.
pub fn take(map: MapRef) -> Option<StructOpsMapRef> {
    StructOpsMapRef::new(map)
}
