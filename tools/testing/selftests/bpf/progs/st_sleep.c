// SPDX-License-Identifier: GPL-2.0
/* A sleepable op of st_testmod that blocks in st_testmod_wait(). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "../../bpf_struct_ops/st_testmod/st_testmod.h"

char _license[] SEC("license") = "GPL";

extern int st_testmod_wait(void)
	__ksym;

SEC("struct_ops.s/sleep")
int BPF_PROG(sleep, int arg)
{
	return st_testmod_wait() + arg + 1;
}

SEC(".struct_ops")
struct st_sleep_ops sleeper = {
	.sleep = (void *)sleep,
};
