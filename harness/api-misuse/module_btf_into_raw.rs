// SPDX-License-Identifier: GPL-2.0
// expect: E0624
//! A module reference given up for good: `ModuleBtf::into_raw` is the
//! kernel crate's own.

use kernel::bpf::btf::ModuleBtf;

/// Leaks the module reference.
pub fn leak(m: ModuleBtf) -> *mut kernel::bindings::module {
    m.into_raw()
}
