// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_F_LINK maps: READY until a link registers them, link info and
 * fdinfo, detach, and BPF_LINK_UPDATE from one map to another.
 */
#include "struct_ops_map.h"

static int link_create(int map_fd)
{
	return bpf_link_create(map_fd, 0, BPF_STRUCT_OPS, NULL);
}

static __u32 link_map_id(int link_fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_link_get_info_by_fd(link_fd, &info, &len))
		return 0;
	return info.struct_ops.map_id;
}

/* The "map_id:" line of the link fd's fdinfo, 0 without one. */
static __u32 fdinfo_map_id(int fd)
{
	char path[64], line[256];
	unsigned int id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "map_id: %u", &id) == 1)
			break;
	fclose(f);
	return id;
}

static void test_lifecycle(void)
{
	struct st_tcp t = { .listen_fd = -1, .cli = -1, .srv = -1 };
	struct pollfd pfd;
	unsigned char v[4096];
	int lfd = -1;
	__u32 id;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open_flags(&c, "st_link", BPF_F_LINK), "ca_open_flags"))
		goto out;
	id = st_map_id(c.map_fd);
	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v), "ca_lookup"))
		goto out;
	if (!ASSERT_EQ(st_state(v), ST_READY, "state after update: want READY"))
		goto out;
	if (!ASSERT_FALSE(st_ca_available("st_link"), "READY map registered without a link"))
		goto out;
	if (!ASSERT_ERRNO(ca_delete(&c), EOPNOTSUPP, "ca_delete"))
		goto out;
	if (!ASSERT_ERRNO(ca_register(&c), EBUSY, "ca_register"))
		goto out;

	lfd = link_create(c.map_fd);
	if (!ASSERT_GE(lfd, 0, "link_create"))
		goto out;
	if (!ASSERT_TRUE(st_ca_available("st_link"), "CA not registered by its link"))
		goto out;
	if (!ASSERT_EQ(link_map_id(lfd), id, "link info map_id"))
		goto out;
	if (!ASSERT_EQ(fdinfo_map_id(lfd), id, "fdinfo map_id"))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v), "ca_lookup"))
		goto out;
	if (!ASSERT_EQ(st_state(v), ST_READY, "state with a link: want READY"))
		goto out;
	if (!ASSERT_TRUE(st_refcnt(v) == 1 || !st_impl_is_rust(), "refcnt with a link: want 1"))
		goto out;
	if (!ASSERT_OK(st_tcp_open(&t, "st_link"), "st_tcp_open"))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v), "ca_lookup"))
		goto out;
	if (!ASSERT_TRUE(st_refcnt(v) == 2 || !st_impl_is_rust(),
			 "refcnt with a link and a connection: want 2"))
		goto out;

	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	if (!ASSERT_EQ(poll(&pfd, 1, 0), 0, "attached link polls ready"))
		goto out;
	if (!ASSERT_OK(bpf_link_detach(lfd), "bpf_link_detach"))
		goto out;
	if (!ASSERT_FALSE(st_ca_available("st_link"), "CA still listed after detach"))
		goto out;
	if (!ASSERT_TRUE(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP),
			 "no POLLHUP after detach"))
		goto out;
	if (!ASSERT_EQ(link_map_id(lfd), 0, "detached link still shows map"))
		goto out;
	if (!ASSERT_OK(bpf_link_detach(lfd), "bpf_link_detach"))	/* twice is fine */
		goto out;
	/* The connection keeps its CA: the map stays until it closes. */
	if (!ASSERT_OK(st_tcp_push(&t, MB), "st_tcp_push"))
		goto out;
	close(lfd);
	lfd = -1;
	ca_close(&c);
	if (!ASSERT_FALSE(st_map_gone(id), "map freed under a connection"))
		goto out;
	st_tcp_close(&t);
	if (!ASSERT_TRUE(st_wait(st_map_gone(id), 3000), "map not freed"))
		goto out;
out:
	if (lfd >= 0)
		close(lfd);
	st_tcp_close(&t);
	ca_close(&c);
}

static void test_errors(void)
{
	int lfd = -1, dup_fd = -1;
	struct ca c = { .map_fd = -1 }, plain = { .map_fd = -1 }, dup = { .map_fd = -1 };

	plain.skel = NULL;
	dup.skel = NULL;
	if (!ASSERT_OK(ca_open_flags(&c, "st_lerr", BPF_F_LINK), "ca_open_flags"))
		goto out;
	if (!ASSERT_ERRNO(link_create(c.map_fd), EINVAL,
			  "link_create"))	/* INIT, not READY */
		goto out;
	if (!ASSERT_OK(ca_open(&plain, "st_lplain"), "ca_open"))
		goto out;
	if (!ASSERT_OK(ca_register(&plain), "ca_register"))
		goto out;
	if (!ASSERT_ERRNO(link_create(plain.map_fd), EINVAL, "link_create"))	/* no BPF_F_LINK */
		goto out;

	/* reg() refuses (the name is taken): no link is left behind, and the
	 * READY map links fine once the name is free.
	 */
	if (!ASSERT_OK(ca_open_flags(&dup, "st_lplain", BPF_F_LINK), "ca_open_flags"))
		goto out;
	if (!ASSERT_OK(ca_register(&dup), "ca_register"))
		goto out;
	if (!ASSERT_ERRNO(link_create(dup.map_fd), EEXIST, "link_create"))
		goto out;
	if (!ASSERT_OK(ca_delete(&plain), "ca_delete"))
		goto out;
	dup_fd = link_create(dup.map_fd);
	if (!ASSERT_GE(dup_fd, 0, "link_create after the name was freed"))
		goto out;
	if (!ASSERT_TRUE(st_ca_available("st_lplain"), "CA not registered by its link"))
		goto out;

	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	lfd = link_create(c.map_fd);
	if (!ASSERT_GE(lfd, 0, "link_create"))
		goto out;
	if (!ASSERT_ERRNO(bpf_link_update(lfd, plain.map_fd, NULL), EINVAL,
			  "bpf_link_update"))	/* not a link map */
		goto out;
	if (!ASSERT_OK(bpf_link_detach(lfd), "bpf_link_detach"))
		goto out;
	if (!ASSERT_ERRNO(bpf_link_update(lfd, c.map_fd, NULL), ENOLINK, "bpf_link_update"))
		goto out;
out:
	if (lfd >= 0)
		close(lfd);
	if (dup_fd >= 0)
		close(dup_fd);
	ca_close(&dup);
	ca_close(&plain);
	ca_close(&c);
}

static void test_update(void)
{
	LIBBPF_OPTS(bpf_link_update_opts, opts);
	struct st_tcp t1 = { .listen_fd = -1, .cli = -1, .srv = -1 };
	struct st_tcp t2 = { .listen_fd = -1, .cli = -1, .srv = -1 };
	unsigned char v[4096];
	__u64 a_inits, b_inits;
	int lfd = -1;
	struct ca a = { .map_fd = -1 }, b = { .map_fd = -1 };

	b.skel = NULL;
	if (!ASSERT_OK(ca_open_flags(&a, "st_lupd", BPF_F_LINK), "ca_open_flags"))
		goto out;
	if (!ASSERT_OK(ca_open_flags(&b, "st_lupd", BPF_F_LINK), "ca_open_flags"))
		goto out;
	if (!ASSERT_OK(ca_register(&a), "ca_register"))
		goto out;
	if (!ASSERT_OK(ca_register(&b), "ca_register"))
		goto out;
	lfd = link_create(a.map_fd);
	if (!ASSERT_GE(lfd, 0, "link_create"))
		goto out;
	if (!ASSERT_OK(st_tcp_open(&t1, "st_lupd"), "st_tcp_open"))
		goto out;
	a_inits = a.skel->bss->cnt_init;
	if (!ASSERT_GT(a_inits, 0, "first connection did not run map a's init"))
		goto out;

	/* BPF_F_REPLACE with the wrong old map. */
	opts.flags = BPF_F_REPLACE;
	opts.old_map_fd = b.map_fd;
	if (!ASSERT_ERRNO(bpf_link_update(lfd, b.map_fd, &opts), EPERM, "bpf_link_update"))
		goto out;
	opts.old_map_fd = a.map_fd;
	if (!ASSERT_OK(bpf_link_update(lfd, b.map_fd, &opts), "bpf_link_update"))
		goto out;
	if (!ASSERT_EQ(link_map_id(lfd), st_map_id(b.map_fd), "link shows map after update"))
		goto out;
	if (!ASSERT_TRUE(st_ca_available("st_lupd"), "CA gone during update"))
		goto out;

	if (!ASSERT_OK(st_tcp_open(&t2, "st_lupd"), "st_tcp_open"))
		goto out;
	b_inits = b.skel->bss->cnt_init;
	if (!ASSERT_GT(b_inits, 0, "new connection did not get map b"))
		goto out;
	if (!ASSERT_EQ(a.skel->bss->cnt_init, a_inits, "new connection ran map a's init"))
		goto out;
	/* The old connection keeps map a. */
	if (!ASSERT_OK(st_tcp_push(&t1, MB), "st_tcp_push"))
		goto out;
	if (!ASSERT_OK(ca_lookup(&a, v), "ca_lookup"))
		goto out;
	if (!ASSERT_TRUE(st_refcnt(v) == 1 || !st_impl_is_rust(),
			 "map a refcnt with one connection left: want 1"))
		goto out;
	if (!ASSERT_OK(ca_lookup(&b, v), "ca_lookup"))
		goto out;
	if (!ASSERT_TRUE(st_refcnt(v) == 2 || !st_impl_is_rust(),
			 "map b refcnt with the link and a connection: want 2"))
		goto out;
	if (!ASSERT_OK(bpf_link_detach(lfd), "bpf_link_detach"))
		goto out;
	close(lfd);
	lfd = -1;
	st_tcp_close(&t1);
	st_tcp_close(&t2);
	if (!ASSERT_TRUE(st_wait(ca_lookup(&a, v) == 0 && st_refcnt(v) == 0, 3000) ||
			 !st_impl_is_rust(), "map a refcnt after everything closed"))
		goto out;
out:
	if (lfd >= 0)
		close(lfd);
	st_tcp_close(&t1);
	st_tcp_close(&t2);
	ca_close(&a);
	ca_close(&b);
}

void test_struct_ops_map_link(void)
{
	if (!struct_ops_map_setup())
		return;
	if (test__start_subtest("lifecycle"))
		test_lifecycle();
	if (test__start_subtest("errors"))
		test_errors();
	if (test__start_subtest("update"))
		test_update();
}
