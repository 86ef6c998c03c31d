/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The struct_ops type bpf_test_struct_ops_rust defines in Rust
 * (bpf_test_struct_ops_rust_ops.rs), as BTF, the module's C half and the BPF
 * programs that implement it see it.
 */
#ifndef BPF_TEST_STRUCT_OPS_RUST_H
#define BPF_TEST_STRUCT_OPS_RUST_H

/*
 * include/linux/bpf.h's, kernel-internal (vmlinux.h's for programs):
 * userspace sees an incomplete type, and needs only the ST_RUST_* below.
 */
enum bpf_access_type;

/* What Rust passes the ops that take a pointer. */
struct st_rust_arg {
	int a;
	int b;
};

/*
 * Writing "OP ARG" to bpf_test_struct_ops_rust's debugfs "call" makes Rust call the
 * op OP (ST_RUST_*) of the registered map with ARG: see bpf_test_struct_ops_rust_ops.rs.
 */
enum {
	ST_RUST_TEST_1 = 1,		/* test_1(ARG) */
	ST_RUST_TEST_2,			/* test_2(&{ ARG, 2 * ARG }, ARG) */
	ST_RUST_NULLABLE_NULL,		/* test_nullable(NULL) */
	ST_RUST_NULLABLE,		/* test_nullable(&{ ARG, 0 }) */
	ST_RUST_SLEEP,			/* test_sleep(ARG) */
	ST_RUST_VOID,			/* test_void(ARG) */
	ST_RUST_MISTYPED,		/* test_mistyped, declared with a u32 */
	ST_RUST_NOT_NULLABLE,		/* test_not_nullable(NULL), declared nullable */
	ST_RUST_MIRROR,			/* test_2, through a renamed st_rust_arg */
	ST_RUST_CONST,			/* test_const(&{ ARG, 2 * ARG }) */
	ST_RUST_CONST_AS_MUT,		/* test_const, declared with a *mut */
	ST_RUST_CONST_NULL,		/* test_const(NULL), declared nullable const */
	ST_RUST_ENUM,			/* test_enum(ARG) */
	ST_RUST_ENUM_AS_U32,		/* test_enum(ARG), declared with a u32 */
	ST_RUST_2_CONST_NULLABLE,	/* test_2(NULL, ARG), declared nullable */
};

struct st_rust_ops {
	int (*test_1)(int x);
	int (*test_2)(struct st_rust_arg *arg, int x);
	/* The stub's argument is __nullable: programs must check it. */
	int (*test_nullable)(struct st_rust_arg *arg);
	/* The one member sleepable programs may implement. */
	int (*test_sleep)(int x);
	void (*test_void)(int x);
	/* Rust declares these two wrongly, on purpose: calls are refused. */
	int (*test_mistyped)(int x);
	int (*test_not_nullable)(struct st_rust_arg *arg);
	/*
	 * A const pointee: under kCFI, Rust must declare it const too. The
	 * stub's argument is __nullable.
	 */
	int (*test_const)(const struct st_rust_arg *arg);
	/* An enum: under kCFI, Rust must declare it as bindgen's newtype. */
	int (*test_enum)(enum bpf_access_type t);
};

/* A type whose Rust struct is larger than this: it must not register. */
struct st_rust_bad {
	int (*op)(int x);
};

#endif
