// SPDX-License-Identifier: GPL-2.0
/*
 * st_testmod's st_ops1, st_ops3, st_ops10 and st_ops40, each op returning
 * x + 1: one map of each, whose value the benchmarks copy into new maps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "../st_testmod/st_testmod.h"

char _license[] SEC("license") = "GPL";

/* M(member) for the members of st_ops1, st_ops3, st_ops10, st_ops40. */
#define ST_OPS_10(M, p) M(p##0) M(p##1) M(p##2) M(p##3) M(p##4) \
	M(p##5) M(p##6) M(p##7) M(p##8) M(p##9)
#define ST_OPS_1(M) M(op0)
#define ST_OPS_3(M) M(op0) M(op1) M(op2)
#define ST_OPS_40(M) ST_OPS_10(M, op) ST_OPS_10(M, op1) \
	ST_OPS_10(M, op2) ST_OPS_10(M, op3)

#define PROG(t, name)							\
	SEC("struct_ops/" #name)					\
	int BPF_PROG(t##_##name, int x) { return x + 1; }
#define INIT(t, name) .name = (void *)t##_##name,

#define PROG1(name) PROG(o1, name)
#define PROG3(name) PROG(o3, name)
#define PROG10(name) PROG(o10, name)
#define PROG40(name) PROG(o40, name)
#define INIT1(name) INIT(o1, name)
#define INIT3(name) INIT(o3, name)
#define INIT10(name) INIT(o10, name)
#define INIT40(name) INIT(o40, name)

ST_OPS_1(PROG1)
ST_OPS_3(PROG3)
ST_OPS_10(PROG10, op)
ST_OPS_40(PROG40)

SEC(".struct_ops")
struct st_ops1 ops1 = { ST_OPS_1(INIT1) };
SEC(".struct_ops")
struct st_ops3 ops3 = { ST_OPS_3(INIT3) };
SEC(".struct_ops")
struct st_ops10 ops10 = { ST_OPS_10(INIT10, op) };
SEC(".struct_ops")
struct st_ops40 ops40 = { ST_OPS_40(INIT40) };
