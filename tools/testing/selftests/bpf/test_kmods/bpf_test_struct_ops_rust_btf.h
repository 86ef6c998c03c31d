/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The calls between bpf_test_struct_ops_rust's two halves: the C one
 * (bpf_test_struct_ops_rust_btf.c) and the Rust one
 * (bpf_test_struct_ops_rust_ops.rs).
 */
#ifndef BPF_TEST_STRUCT_OPS_RUST_BTF_H
#define BPF_TEST_STRUCT_OPS_RUST_BTF_H

#include <linux/types.h>

struct bpf_struct_ops;

/* In bpf_test_struct_ops_rust_ops.rs: what the debugfs files do. */
int st_rust_call(u32 op, int arg);
int st_rust_call_ret(void);
int st_rust_call_loop(u64 n);
u64 st_rust_call_ns(void);
int st_rust_registered(void);

/* In bpf_test_struct_ops_rust_btf.c: called by the Rust module's init and exit. */
int st_rust_btf_init(struct bpf_struct_ops *ops, struct bpf_struct_ops *bad);
void st_rust_btf_exit(void);

#endif
