// SPDX-License-Identifier: GPL-2.0
/*
 * A struct_ops map of a module's type (bpf_testmod_ops): libbpf creates it
 * with BPF_F_VTYPE_BTF_OBJ_FD and the module's BTF.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "../test_kmods/bpf_testmod.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/test_1")
int BPF_PROG(testmod_test_1)
{
	return 0xbeef;
}

SEC(".struct_ops.link")
struct bpf_testmod_ops testmod_1 = {
	.test_1 = (void *)testmod_test_1,
};
