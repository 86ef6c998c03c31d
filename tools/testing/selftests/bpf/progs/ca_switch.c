// SPDX-License-Identifier: GPL-2.0
/*
 * A Reno congestion control whose init() can switch its own socket to
 * another congestion control with bpf_setsockopt(TCP_CONGESTION), the way
 * a CA falls back when the peer lacks a feature. Switching drops the
 * socket's count on this CA while init() still runs in its trampoline.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define SOL_TCP		6
#define TCP_CONGESTION	13

char _license[] SEC("license") = "GPL";

extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

/* Set by the test: init() switches its socket to this CA. */
char switch_to[16];
/* Switches made, the last bpf_setsockopt() result, and what init() read
 * from its socket after switching.
 */
__u64 switches;
long switch_ret;
__u32 state_after;

SEC("struct_ops")
void BPF_PROG(sw_init, struct sock *sk)
{
	if (!switch_to[0])
		return;
	switch_ret = bpf_setsockopt(sk, SOL_TCP, TCP_CONGESTION, switch_to, sizeof(switch_to));
	__sync_fetch_and_add(&switches, 1);
	/* Still running in this CA's trampoline, whose last count is gone. */
	state_after = sk->__sk_common.skc_state;
}

SEC("struct_ops")
__u32 BPF_PROG(sw_ssthresh, struct sock *sk)
{
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops")
void BPF_PROG(sw_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
__u32 BPF_PROG(sw_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC(".struct_ops")
struct tcp_congestion_ops ca_switch = {
	.init		= (void *)sw_init,
	.ssthresh	= (void *)sw_ssthresh,
	.cong_avoid	= (void *)sw_cong_avoid,
	.undo_cwnd	= (void *)sw_undo_cwnd,
	.name		= "st_switch",
};
