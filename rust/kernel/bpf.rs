// SPDX-License-Identifier: GPL-2.0

//! BPF: the pieces a map type written in Rust is built from.
//!
//! C headers: [`include/linux/bpf.h`](srctree/include/linux/bpf.h),
//! [`include/linux/btf.h`](srctree/include/linux/btf.h) and
//! [`include/linux/bpf_struct_ops_map.h`](srctree/include/linux/bpf_struct_ops_map.h).
//!
//! The struct_ops map (`kernel/bpf/struct_ops.rs`) is the user: everything it
//! needs from C is wrapped here, so that it is written in safe Rust.
//! [`struct_ops_type`] is the other side: what a subsystem needs to define a
//! struct_ops type in Rust (`net/ipv4/bpf_tcp_ca_ops.rs`), whichever map
//! implementation is built.

pub mod btf;
mod errno;
pub mod link;
pub mod map;
pub mod prog;
#[cfg(CONFIG_BPF_STRUCT_OPS_RUST)]
pub mod struct_ops;
pub mod struct_ops_type;
pub mod trampoline;
pub mod verifier;
