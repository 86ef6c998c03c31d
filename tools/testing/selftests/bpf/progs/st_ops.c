// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_test_struct_ops's st_ops1, st_ops3, st_ops10 and st_ops40, each op returning
 * x + 1: one map of each, whose value the benchmarks copy into new maps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "../test_kmods/bpf_test_struct_ops.h"

char _license[] SEC("license") = "GPL";

/* Program t_name, for member @name of an ops struct: returns x + 1. */
#define PROG(t, name)							\
	SEC("struct_ops/" #name)					\
	int BPF_PROG(t##_##name, int x) { return x + 1; }

PROG(o1, op0)

PROG(o3, op0)
PROG(o3, op1)
PROG(o3, op2)

PROG(o10, op0)
PROG(o10, op1)
PROG(o10, op2)
PROG(o10, op3)
PROG(o10, op4)
PROG(o10, op5)
PROG(o10, op6)
PROG(o10, op7)
PROG(o10, op8)
PROG(o10, op9)

PROG(o40, op0)
PROG(o40, op1)
PROG(o40, op2)
PROG(o40, op3)
PROG(o40, op4)
PROG(o40, op5)
PROG(o40, op6)
PROG(o40, op7)
PROG(o40, op8)
PROG(o40, op9)
PROG(o40, op10)
PROG(o40, op11)
PROG(o40, op12)
PROG(o40, op13)
PROG(o40, op14)
PROG(o40, op15)
PROG(o40, op16)
PROG(o40, op17)
PROG(o40, op18)
PROG(o40, op19)
PROG(o40, op20)
PROG(o40, op21)
PROG(o40, op22)
PROG(o40, op23)
PROG(o40, op24)
PROG(o40, op25)
PROG(o40, op26)
PROG(o40, op27)
PROG(o40, op28)
PROG(o40, op29)
PROG(o40, op30)
PROG(o40, op31)
PROG(o40, op32)
PROG(o40, op33)
PROG(o40, op34)
PROG(o40, op35)
PROG(o40, op36)
PROG(o40, op37)
PROG(o40, op38)
PROG(o40, op39)

SEC(".struct_ops")
struct st_ops1 ops1 = {
	.op0 = (void *)o1_op0,
};

SEC(".struct_ops")
struct st_ops3 ops3 = {
	.op0 = (void *)o3_op0,
	.op1 = (void *)o3_op1,
	.op2 = (void *)o3_op2,
};

SEC(".struct_ops")
struct st_ops10 ops10 = {
	.op0 = (void *)o10_op0,
	.op1 = (void *)o10_op1,
	.op2 = (void *)o10_op2,
	.op3 = (void *)o10_op3,
	.op4 = (void *)o10_op4,
	.op5 = (void *)o10_op5,
	.op6 = (void *)o10_op6,
	.op7 = (void *)o10_op7,
	.op8 = (void *)o10_op8,
	.op9 = (void *)o10_op9,
};

SEC(".struct_ops")
struct st_ops40 ops40 = {
	.op0 = (void *)o40_op0,
	.op1 = (void *)o40_op1,
	.op2 = (void *)o40_op2,
	.op3 = (void *)o40_op3,
	.op4 = (void *)o40_op4,
	.op5 = (void *)o40_op5,
	.op6 = (void *)o40_op6,
	.op7 = (void *)o40_op7,
	.op8 = (void *)o40_op8,
	.op9 = (void *)o40_op9,
	.op10 = (void *)o40_op10,
	.op11 = (void *)o40_op11,
	.op12 = (void *)o40_op12,
	.op13 = (void *)o40_op13,
	.op14 = (void *)o40_op14,
	.op15 = (void *)o40_op15,
	.op16 = (void *)o40_op16,
	.op17 = (void *)o40_op17,
	.op18 = (void *)o40_op18,
	.op19 = (void *)o40_op19,
	.op20 = (void *)o40_op20,
	.op21 = (void *)o40_op21,
	.op22 = (void *)o40_op22,
	.op23 = (void *)o40_op23,
	.op24 = (void *)o40_op24,
	.op25 = (void *)o40_op25,
	.op26 = (void *)o40_op26,
	.op27 = (void *)o40_op27,
	.op28 = (void *)o40_op28,
	.op29 = (void *)o40_op29,
	.op30 = (void *)o40_op30,
	.op31 = (void *)o40_op31,
	.op32 = (void *)o40_op32,
	.op33 = (void *)o40_op33,
	.op34 = (void *)o40_op34,
	.op35 = (void *)o40_op35,
	.op36 = (void *)o40_op36,
	.op37 = (void *)o40_op37,
	.op38 = (void *)o40_op38,
	.op39 = (void *)o40_op39,
};
