// SPDX-License-Identifier: GPL-2.0
/*
 * Congestion control programs the verifier must refuse, each in a struct_ops
 * map of its own, and two it must take: the tests load one map's program at a
 * time and read the verifier's reason from its log.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

#define SOL_TCP		6
#define TCP_CONGESTION	13

__u64 coarse_ns;

/* Every field the type lets a program write, and a helper only it has. */
SEC("struct_ops")
void BPF_PROG(w_allowed, struct sock *sk, __u32 ack, __u32 acked)
{
	struct inet_connection_sock *icsk = (void *)sk;
	struct tcp_sock *tp = (void *)sk;

	sk->sk_pacing_rate = sk->sk_pacing_rate;
	sk->sk_pacing_status = sk->sk_pacing_status;
	icsk->icsk_ca_priv[1] = 0;
	*((__u32 *)icsk->icsk_ca_priv + 3) = 0;
	icsk->icsk_ack.pending = icsk->icsk_ack.pending;
	tp->snd_cwnd = tp->snd_cwnd;
	tp->snd_cwnd_cnt = 0;
	tp->snd_cwnd_stamp = tp->snd_cwnd_stamp;
	tp->snd_ssthresh = tp->snd_ssthresh;
	tp->ecn_flags = tp->ecn_flags;
	tp->app_limited = tp->app_limited;
	coarse_ns = bpf_ktime_get_coarse_ns();
}

/* A write to a struct that is not the tcp_sock. */
SEC("struct_ops")
void BPF_PROG(w_other_struct, struct sock *sk, __u32 ack, __u32 acked)
{
	sk->sk_socket->flags = 0;
}

/* A write to a field of tcp_sock that is not writable. */
SEC("struct_ops")
void BPF_PROG(w_other_field, struct sock *sk, __u32 ack, __u32 acked)
{
	struct tcp_sock *tp = (void *)sk;

	tp->snd_una = 0;
}

/*
 * A write past the end of a writable field: 8 bytes at snd_cwnd (4). The
 * pointer comes from the field's offset, which the compiler cannot see, so
 * that it does not split the store in two at snd_cwnd's alignment.
 */
SEC("struct_ops")
void BPF_PROG(w_past_field, struct sock *sk, __u32 ack, __u32 acked)
{
	__u64 *p = (void *)sk + bpf_core_field_offset(struct tcp_sock, snd_cwnd);

	*p = 0;
}

/* bpf_getsockopt() in release(): refused, as bpf_setsockopt(). */
SEC("struct_ops")
void BPF_PROG(gso_release, struct sock *sk)
{
	char buf[16];

	bpf_getsockopt(sk, SOL_TCP, TCP_CONGESTION, buf, sizeof(buf));
}

/* ... and in init(): allowed. */
SEC("struct_ops")
void BPF_PROG(gso_init, struct sock *sk)
{
	char buf[16];

	bpf_getsockopt(sk, SOL_TCP, TCP_CONGESTION, buf, sizeof(buf));
}

/* A sleepable op: congestion control ops run in softirq. */
SEC("struct_ops.s")
void BPF_PROG(w_sleepable, struct sock *sk, __u32 ack, __u32 acked)
{
}

SEC(".struct_ops")
struct tcp_congestion_ops ca_w_allowed = {
	.cong_avoid	= (void *)w_allowed,
	.name		= "st_w_allowed",
};

SEC(".struct_ops")
struct tcp_congestion_ops ca_w_other_struct = {
	.cong_avoid	= (void *)w_other_struct,
	.name		= "st_w_struct",
};

SEC(".struct_ops")
struct tcp_congestion_ops ca_w_other_field = {
	.cong_avoid	= (void *)w_other_field,
	.name		= "st_w_field",
};

SEC(".struct_ops")
struct tcp_congestion_ops ca_w_past_field = {
	.cong_avoid	= (void *)w_past_field,
	.name		= "st_w_past",
};

SEC(".struct_ops")
struct tcp_congestion_ops ca_gso_release = {
	.release	= (void *)gso_release,
	.name		= "st_gso_rel",
};

SEC(".struct_ops")
struct tcp_congestion_ops ca_gso_init = {
	.init		= (void *)gso_init,
	.name		= "st_gso_init",
};

SEC(".struct_ops")
struct tcp_congestion_ops ca_sleepable = {
	.cong_avoid	= (void *)w_sleepable,
	.name		= "st_sleepable",
};
