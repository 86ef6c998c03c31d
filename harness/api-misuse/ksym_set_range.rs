// SPDX-License-Identifier: GPL-2.0
// expect: E0624
//! A BPF ksym over any memory: `Ksym::set_range` is the kernel crate's own
//! (and unsafe).

use kernel::{bpf::trampoline::Ksym, error::Result};

/// Names a range the caller picks.
pub fn name(k: &mut Ksym, start: *mut u8) -> Result {
    k.set_range(start, 4096)
}
