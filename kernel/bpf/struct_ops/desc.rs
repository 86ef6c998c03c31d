// SPDX-License-Identifier: GPL-2.0-only

//! Descriptors: what the BPF core knows of a struct_ops type a subsystem
//! registered (`register_bpf_struct_ops()`), found once, at registration.

use kernel::{
    bpf::struct_ops::{DescSlot, VerifierLog},
    error::Result,
};

/// Fills `desc` for the type `desc.st_ops` names in its BTF, saying why in
/// the kernel log when it cannot, with 7.3's messages and errors. The
/// abstraction checks, computes and writes what is trusted
/// ([`DescSlot::fill`]); this says what it refused.
pub(crate) fn init(desc: DescSlot<'_>, log: Option<&mut VerifierLog>) -> Result {
    let btf = desc.btf();
    let name = desc.st_ops().name();
    let Err(e) = desc.fill(log) else {
        return Ok(());
    };
    e.warn(btf, name);
    Err(e.into())
}
