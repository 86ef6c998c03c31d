// SPDX-License-Identifier: GPL-2.0
/* A congestion control without ssthresh and undo_cwnd, which TCP requires. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;

SEC("struct_ops")
void BPF_PROG(inc_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC(".struct_ops")
struct tcp_congestion_ops ca_incomplete = {
	.cong_avoid	= (void *)inc_cong_avoid,
	.name		= "st_incomplete",
};
