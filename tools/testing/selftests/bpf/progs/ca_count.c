// SPDX-License-Identifier: GPL-2.0
/*
 * A Reno congestion control that counts its callbacks and records some of
 * their arguments, so a test can tell that the struct_ops trampolines ran
 * and passed the right values.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

__u64 cnt_init, cnt_release, cnt_ssthresh, cnt_cong_avoid, cnt_set_state;
__u64 cnt_cwnd_event, cnt_undo_cwnd;
/* Arguments seen: sum of cong_avoid's acked, events and states seen as bits. */
__u64 acked_sum, events_seen, states_seen;
/* The local port of the last socket init() saw; 0 means any. */
__u32 last_init_port;
/* init() calls on the socket whose local port is watch_port. */
__u32 watch_port;
__u64 watch_inits;

SEC("struct_ops")
void BPF_PROG(ca_init, struct sock *sk)
{
	__u32 port = sk->__sk_common.skc_num;

	__sync_fetch_and_add(&cnt_init, 1);
	last_init_port = port;
	if (watch_port && port == watch_port)
		__sync_fetch_and_add(&watch_inits, 1);
}

SEC("struct_ops")
void BPF_PROG(ca_release, struct sock *sk)
{
	__sync_fetch_and_add(&cnt_release, 1);
}

SEC("struct_ops")
__u32 BPF_PROG(ca_ssthresh, struct sock *sk)
{
	__sync_fetch_and_add(&cnt_ssthresh, 1);
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops")
void BPF_PROG(ca_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	__sync_fetch_and_add(&cnt_cong_avoid, 1);
	__sync_fetch_and_add(&acked_sum, acked);
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops")
void BPF_PROG(ca_set_state, struct sock *sk, __u8 new_state)
{
	__sync_fetch_and_add(&cnt_set_state, 1);
	if (new_state < 64)
		__sync_fetch_and_or(&states_seen, 1ULL << new_state);
}

SEC("struct_ops")
void BPF_PROG(ca_cwnd_event, struct sock *sk, enum tcp_ca_event ev)
{
	__sync_fetch_and_add(&cnt_cwnd_event, 1);
	if (ev < 64)
		__sync_fetch_and_or(&events_seen, 1ULL << ev);
}

/* Since 7.1 TCP reports CA_EVENT_TX_START through its own op. */
SEC("struct_ops")
void BPF_PROG(ca_cwnd_event_tx_start, struct sock *sk)
{
	__sync_fetch_and_add(&cnt_cwnd_event, 1);
	__sync_fetch_and_or(&events_seen, 1ULL << CA_EVENT_TX_START);
}

SEC("struct_ops")
__u32 BPF_PROG(ca_undo_cwnd, struct sock *sk)
{
	__sync_fetch_and_add(&cnt_undo_cwnd, 1);
	return tcp_reno_undo_cwnd(sk);
}

SEC(".struct_ops")
struct tcp_congestion_ops ca_count = {
	.init		= (void *)ca_init,
	.release	= (void *)ca_release,
	.ssthresh	= (void *)ca_ssthresh,
	.cong_avoid	= (void *)ca_cong_avoid,
	.set_state	= (void *)ca_set_state,
	.cwnd_event	= (void *)ca_cwnd_event,
	.cwnd_event_tx_start = (void *)ca_cwnd_event_tx_start,
	.undo_cwnd	= (void *)ca_undo_cwnd,
	.name		= "st_count",
};
