// SPDX-License-Identifier: GPL-2.0
/*
 * Dereferences test_1's __nullable argument without a NULL check: the
 * verifier must refuse it, which it can only do if the struct_ops descriptor
 * marked the argument PTR_MAYBE_NULL.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

SEC("struct_ops/test_1")
int BPF_PROG(unchecked_test_1, struct bpf_dummy_ops_state *state)
{
	return state->val;
}

SEC(".struct_ops")
struct bpf_dummy_ops dummy_unchecked = {
	.test_1 = (void *)unchecked_test_1,
};
