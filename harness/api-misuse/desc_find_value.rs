// SPDX-License-Identifier: GPL-2.0
// expect: E0624
//! A struct_ops descriptor kept across a later registration, which moves
//! the table: `Desc::find_value` is the kernel crate's own (and unsafe).

use kernel::bpf::{btf::Btf, struct_ops::Desc};

/// Looks a descriptor up.
pub fn find(btf: &Btf) -> bool {
    Desc::find_value(btf, 1).is_some()
}
