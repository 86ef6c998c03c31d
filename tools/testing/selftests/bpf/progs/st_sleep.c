// SPDX-License-Identifier: GPL-2.0
/* A sleepable op of bpf_test_struct_ops that blocks in bpf_test_struct_ops_wait(). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "../test_kmods/bpf_test_struct_ops.h"

char _license[] SEC("license") = "GPL";

extern int bpf_test_struct_ops_wait(void)
	__ksym;

SEC("struct_ops.s/sleep")
int BPF_PROG(sleep, int arg)
{
	return bpf_test_struct_ops_wait() + arg + 1;
}

SEC(".struct_ops")
struct st_sleep_ops sleeper = {
	.sleep = (void *)sleep,
};
