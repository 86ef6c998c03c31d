// SPDX-License-Identifier: GPL-2.0
// expect: E0133
//! Link ops made by a module: C would call them after it is unloaded.
//! `TrampLinkOps::new` (and `LinkOpsTable::new`) are unsafe.

use kernel::bpf::trampoline::TrampLinkOps;

/// Makes link ops in safe code.
pub fn make() -> TrampLinkOps {
    TrampLinkOps::new()
}
