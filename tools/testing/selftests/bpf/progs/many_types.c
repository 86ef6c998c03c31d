// SPDX-License-Identifier: GPL-2.0
/*
 * One map of each bpf_test_struct_ops type that its "call_type" calls, slots 1 to 9
 * of the module's table of descriptors (bpf_test_struct_ops.h): every map is named
 * after its type and sets only op0, TYPE_op0, which returns
 * ST_MANY_RET(index of the type, x), so that the test tells them apart.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "../test_kmods/bpf_test_struct_ops.h"

char _license[] SEC("license") = "GPL";

#define OP0_MAP(type, index)						\
	SEC("struct_ops/op0")						\
	int BPF_PROG(type##_op0, int x)					\
	{								\
		return ST_MANY_RET(index, x);				\
	}								\
									\
	SEC(".struct_ops")						\
	struct type type = {						\
		.op0 = (void *)type##_op0,				\
	}

OP0_MAP(st_ops1, ST_T_OPS1);
OP0_MAP(st_ops3, ST_T_OPS3);
OP0_MAP(st_ops10, ST_T_OPS10);
OP0_MAP(st_ops40, ST_T_OPS40);
OP0_MAP(st_many5, ST_T_MANY5);
OP0_MAP(st_many6, ST_T_MANY6);
OP0_MAP(st_many7, ST_T_MANY7);
OP0_MAP(st_many8, ST_T_MANY8);
OP0_MAP(st_many9, ST_T_MANY9);
