// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed updates and deletes get C's errno and leave the map as it was:
 * an INIT map that still takes a correct update.
 */
#include "struct_ops_map.h"

/* After each refused update the map must still take a correct one. */
static int check_still_usable(struct ca *c)
{
	unsigned char v[4096];

	if (!ASSERT_OK(ca_lookup(c, v), "lookup after a refused update") ||
	    !ASSERT_TRUE(all_zero(v, tcp.value_size), "map back to INIT after a refused update"))
		return -1;
	if (!ASSERT_FALSE(st_ca_available(c->name), "CA registered by a refused update"))
		return -1;
	if (!ASSERT_OK(ca_register(c), "a correct update after a refused one") ||
	    !ASSERT_TRUE(st_ca_available(c->name), "CA registered by the correct update") ||
	    !ASSERT_OK(ca_delete(c), "delete after the correct update"))
		return -1;
	return 0;
}

static void test_bad_key(void)
{
	__u32 key = 1;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_badkey"), "ca_open"))
		goto out;
	if (!ASSERT_ERRNO(bpf_map_update_elem(c.map_fd, &key, c.value, 0), E2BIG,
			  "bpf_map_update_elem"))
		goto out;
	if (check_still_usable(&c))
		goto out;
out:
	ca_close(&c);
}

static void test_bad_flags(void)
{
	__u32 key = 0;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_badflg"), "ca_open"))
		goto out;
	if (!ASSERT_ERRNO(bpf_map_update_elem(c.map_fd, &key, c.value, BPF_NOEXIST), EINVAL,
			  "bpf_map_update_elem"))
		goto out;
	if (check_still_usable(&c))
		goto out;
out:
	ca_close(&c);
}

static void test_second_update(void)
{
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_twice"), "ca_open"))
		goto out;
	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	if (!ASSERT_ERRNO(ca_register(&c), EBUSY, "ca_register"))
		goto out;
	if (!ASSERT_TRUE(st_ca_available("st_twice"),
			 "a refused second update unregistered the CA"))
		goto out;
	if (!ASSERT_OK(ca_delete(&c), "ca_delete"))
		goto out;
	if (!ASSERT_ERRNO(ca_register(&c), EBUSY, "ca_register"))
		goto out;
out:
	ca_close(&c);
}

static void test_delete_before_update(void)
{
	__u32 key = 1;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_del0"), "ca_open"))
		goto out;
	if (!ASSERT_ERRNO(ca_delete(&c), ENOENT, "ca_delete"))
		goto out;
	if (!ASSERT_ERRNO(bpf_map_delete_elem(c.map_fd, &key), ENOENT, "bpf_map_delete_elem"))
		goto out;
	if (check_still_usable(&c))
		goto out;
out:
	ca_close(&c);
}

static void test_nonzero_common(void)
{
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_common"), "ca_open"))
		goto out;
	((__u32 *)c.value)[0] = 1;		/* refcnt */
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL, "ca_register"))
		goto out;
	((__u32 *)c.value)[0] = 0;
	((__u32 *)c.value)[1] = ST_INUSE;	/* state */
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL, "ca_register"))
		goto out;
	((__u32 *)c.value)[1] = 0;
	c.value[12] = 1;			/* hole between common and data */
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL, "ca_register"))
		goto out;
	c.value[12] = 0;
	if (check_still_usable(&c))
		goto out;
out:
	ca_close(&c);
}

static int load_socket_filter(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 2, NULL);
}

static void test_bad_prog_fd(void)
{
	int off = ca_slot(3), sock = -1, other = -1;
	__u64 good;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_badfd"), "ca_open"))
		goto out;
	good = *(__u64 *)(c.value + off);
	*(__u64 *)(c.value + off) = 12345;		/* not an open fd */
	if (!ASSERT_ERRNO(ca_register(&c), EBADF, "ca_register"))
		goto out;
	sock = socket(AF_INET, SOCK_STREAM, 0);
	*(__u64 *)(c.value + off) = sock;		/* not a prog */
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL, "ca_register"))
		goto out;
	/* ssthresh's prog in the cong_avoid slot: wrong member index */
	*(__u64 *)(c.value + off) = *(__u64 *)(c.value + ca_slot(2));
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL, "ca_register"))
		goto out;
	/* a prog of another type */
	other = load_socket_filter();
	if (!ASSERT_GE(other, 0, "load a socket filter"))
		goto out;
	*(__u64 *)(c.value + off) = other;
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL, "ca_register"))
		goto out;
	*(__u64 *)(c.value + off) = good;
	if (check_still_usable(&c))
		goto out;
out:
	if (sock >= 0)
		close(sock);
	if (other >= 0)
		close(other);
	ca_close(&c);
}

static void test_nonfunc_member(void)
{
	int off = st_member_off(&tcp, "key");
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_key"), "ca_open"))
		goto out;
	if (!ASSERT_GT(off, 0, "no member key in tcp_congestion_ops"))
		goto out;
	*(__u32 *)(c.value + off) = 7;
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL, "ca_register"))
		goto out;
	*(__u32 *)(c.value + off) = 0;
	if (check_still_usable(&c))
		goto out;
out:
	ca_close(&c);
}

static void test_duplicate_name(void)
{
	struct ca a = { .map_fd = -1 }, b = { .map_fd = -1 };

	b.skel = NULL;
	if (!ASSERT_OK(ca_open(&a, "st_dup"), "ca_open"))
		goto out;
	if (!ASSERT_OK(ca_open(&b, "st_dup"), "ca_open"))
		goto out;
	if (!ASSERT_OK(ca_register(&a), "ca_register"))
		goto out;
	if (!ASSERT_ERRNO(ca_register(&b), EEXIST, "ca_register"))
		goto out;
	if (!ASSERT_OK(ca_delete(&a), "ca_delete"))
		goto out;
	if (!ASSERT_OK(check_still_usable(&b), "check_still_usable"))
		goto out;
out:
	ca_close(&a);
	ca_close(&b);
}

void test_struct_ops_map_bad_input(void)
{
	if (!struct_ops_map_setup())
		return;
	if (test__start_subtest("bad_key"))
		test_bad_key();
	if (test__start_subtest("bad_flags"))
		test_bad_flags();
	if (test__start_subtest("second_update"))
		test_second_update();
	if (test__start_subtest("delete_before_update"))
		test_delete_before_update();
	if (test__start_subtest("nonzero_common"))
		test_nonzero_common();
	if (test__start_subtest("bad_prog_fd"))
		test_bad_prog_fd();
	if (test__start_subtest("nonfunc_member"))
		test_nonfunc_member();
	if (test__start_subtest("duplicate_name"))
		test_duplicate_name();
}
