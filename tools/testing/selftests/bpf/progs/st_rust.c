// SPDX-License-Identifier: GPL-2.0
/*
 * Programs for bpf_test_struct_ops_rust's st_rust_ops, the struct_ops type it defines
 * in Rust, whose ops Rust calls (bpf_test_struct_ops_rust.h says with what). A test
 * creates one of the maps at a time:
 * - st_rust implements every op, each returning what tells its arguments;
 * - st_rust_partial only test_1: Rust's calls of the others find NULL;
 * - st_rust_unchecked dereferences test_nullable's argument unchecked,
 *   which the verifier must refuse;
 * - st_rust_sleep_wrong is a sleepable test_1, which the type refuses.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "../test_kmods/bpf_test_struct_ops_rust.h"

char _license[] SEC("license") = "GPL";

/* What test_void was last called with. */
int void_arg;

SEC("struct_ops/test_1")
int BPF_PROG(st_rust_test_1, int x)
{
	return x + 1;
}

SEC("struct_ops/test_2")
int BPF_PROG(st_rust_test_2, struct st_rust_arg *arg, int x)
{
	return arg->a + arg->b + x;
}

SEC("struct_ops/test_nullable")
int BPF_PROG(st_rust_test_nullable, struct st_rust_arg *arg)
{
	return arg ? arg->a + 100 : -100;
}

SEC("struct_ops.s/test_sleep")
int BPF_PROG(st_rust_test_sleep, int x)
{
	return 3 * x;
}

SEC("struct_ops/test_void")
void BPF_PROG(st_rust_test_void, int x)
{
	void_arg = x;
}

SEC("struct_ops/test_mistyped")
int BPF_PROG(st_rust_test_mistyped, int x)
{
	return x;
}

SEC("struct_ops/test_not_nullable")
int BPF_PROG(st_rust_test_not_nullable, struct st_rust_arg *arg)
{
	return arg->a;
}

SEC("struct_ops/test_const")
int BPF_PROG(st_rust_test_const, const struct st_rust_arg *arg)
{
	return arg ? 10 * arg->a + arg->b : -10;
}

SEC("struct_ops/test_enum")
int BPF_PROG(st_rust_test_enum, enum bpf_access_type t)
{
	return t == BPF_WRITE ? 200 : 100 + t;
}

SEC(".struct_ops.link")
struct st_rust_ops st_rust = {
	.test_1 = (void *)st_rust_test_1,
	.test_2 = (void *)st_rust_test_2,
	.test_nullable = (void *)st_rust_test_nullable,
	.test_sleep = (void *)st_rust_test_sleep,
	.test_void = (void *)st_rust_test_void,
	.test_mistyped = (void *)st_rust_test_mistyped,
	.test_not_nullable = (void *)st_rust_test_not_nullable,
	.test_const = (void *)st_rust_test_const,
	.test_enum = (void *)st_rust_test_enum,
};

SEC("struct_ops/test_1")
int BPF_PROG(st_rust_partial_1, int x)
{
	return x + 1;
}

SEC(".struct_ops.link")
struct st_rust_ops st_rust_partial = {
	.test_1 = (void *)st_rust_partial_1,
};

SEC("struct_ops/test_nullable")
int BPF_PROG(st_rust_unchecked, struct st_rust_arg *arg)
{
	return arg->a;
}

SEC(".struct_ops.link")
struct st_rust_ops st_rust_unchecked_map = {
	.test_nullable = (void *)st_rust_unchecked,
};

SEC("struct_ops.s/test_1")
int BPF_PROG(st_rust_sleep_1, int x)
{
	return x;
}

SEC(".struct_ops.link")
struct st_rust_ops st_rust_sleep_wrong = {
	.test_1 = (void *)st_rust_sleep_1,
};
