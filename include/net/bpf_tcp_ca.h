/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TCP congestion control implemented by BPF, with the struct_ops type in
 * Rust (CONFIG_BPF_TCP_CA_RUST): net/ipv4/bpf_tcp_ca_ops.rs defines it, and
 * net/ipv4/bpf_tcp_ca_btf.c holds what BTF must describe and registers it.
 */
#ifndef _NET_BPF_TCP_CA_H
#define _NET_BPF_TCP_CA_H

#include <linux/bpf.h>
#include <net/tcp.h>

/* The CFI stubs of the members of struct tcp_congestion_ops (C). */
extern const struct tcp_congestion_ops __bpf_ops_tcp_congestion_ops;

/* The struct_ops type (Rust), which the C half registers. */
extern struct bpf_struct_ops bpf_tcp_congestion_ops;

#endif /* _NET_BPF_TCP_CA_H */
