// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_dummy_ops: struct_ops programs run through their trampolines by
 * BPF_PROG_TEST_RUN, and a type whose init_member() refuses.
 */
#include "struct_ops_map.h"
#include "dummy_ops.skel.h"
#include "dummy_unchecked.skel.h"

struct dummy_state {
	int val;
};

static void test_prog_test_run(void)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct dummy_state state = { .val = 0xbeef };
	__u64 args[5] = { (unsigned long)&state };
	struct dummy_ops *s;
	int fd;

	opts.ctx_in = args;
	opts.ctx_size_in = sizeof(args[0]);
	s = dummy_ops__open_and_load();
	if (!ASSERT_TRUE(s, "load dummy_ops"))
		goto out;
	fd = bpf_program__fd(s->progs.dummy_test_1);
	if (!ASSERT_OK(bpf_prog_test_run_opts(fd, &opts), "bpf_prog_test_run_opts"))
		goto out;
	if (!ASSERT_EQ(opts.retval, 0xbeef, "test_1 returned: want 0xbeef"))
		goto out;
	if (!ASSERT_EQ(state.val, 0x5a, "state.val after test_1: want 0x5a"))
		goto out;
	/* NULL for the __nullable argument is allowed and reaches the prog. */
	args[0] = 0;
	if (!ASSERT_OK(bpf_prog_test_run_opts(fd, &opts), "bpf_prog_test_run_opts"))
		goto out;
	if (!ASSERT_EQ(opts.retval, 0xf2f3f4f5, "test_1(NULL) returned"))
		goto out;
	/* test_2: every argument reaches the program through the trampoline. */
	args[0] = (unsigned long)&state;
	args[1] = (__u64)-100;
	args[2] = 0x8a5f;
	args[3] = 'c';
	args[4] = 0x1234567890abcdefULL;
	opts.ctx_size_in = sizeof(args);
	fd = bpf_program__fd(s->progs.dummy_test_2);
	if (!ASSERT_OK(bpf_prog_test_run_opts(fd, &opts), "bpf_prog_test_run_opts"))
		goto out;
	if (!ASSERT_NEQ(s->bss->test_2_args[0], 0, "test_2 got a NULL state"))
		goto out;
	if (!ASSERT_EQ((__s64)s->bss->test_2_args[1], -100, "a1"))
		goto out;
	if (!ASSERT_EQ(s->bss->test_2_args[2], 0x8a5f, "a2"))
		goto out;
	if (!ASSERT_EQ(s->bss->test_2_args[3], 'c', "a3"))
		goto out;
	if (!ASSERT_EQ(s->bss->test_2_args[4], 0x1234567890abcdefULL, "a4"))
		goto out;
out:
	dummy_ops__destroy(s);
}

static void test_nullable_enforced(void)
{
	struct dummy_unchecked *s;

	s = dummy_unchecked__open_and_load();
	if (!ASSERT_FALSE(s, "a program dereferencing a __nullable argument unchecked was loaded"))
		goto out;
out:
	dummy_unchecked__destroy(s);
}

/* bpf_dummy_ops' init_member() refuses: the update fails and leaves the map INIT. */
static void test_init_member_failure_rolls_back(void)
{
	struct bpf_link *link = NULL;
	unsigned char v[4096];
	struct dummy_ops *s;
	__u32 key = 0;
	int i;

	s = dummy_ops__open_and_load();
	if (!ASSERT_TRUE(s, "load dummy_ops"))
		goto out;
	for (i = 0; i < 2; i++) {
		link = bpf_map__attach_struct_ops(s->maps.dummy_1);
		if (!ASSERT_TRUE(!link && errno == EOPNOTSUPP, "attempt fails with EOPNOTSUPP"))
			goto out;
		if (!ASSERT_OK(bpf_map_lookup_elem(bpf_map__fd(s->maps.dummy_1), &key, v),
			       "bpf_map_lookup_elem"))
			goto out;
		if (!ASSERT_TRUE(all_zero(v, bpf_map__value_size(s->maps.dummy_1)),
				 "map not back to INIT after init_member refused"))
			goto out;
	}
out:
	bpf_link__destroy(link);
	dummy_ops__destroy(s);
}

void test_struct_ops_map_dummy_ops(void)
{
	if (test__start_subtest("prog_test_run"))
		test_prog_test_run();
	if (test__start_subtest("nullable_enforced"))
		test_nullable_enforced();
	if (test__start_subtest("init_member_failure_rolls_back"))
		test_init_member_failure_rolls_back();
}
