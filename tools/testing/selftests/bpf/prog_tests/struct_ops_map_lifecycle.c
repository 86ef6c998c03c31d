// SPDX-License-Identifier: GPL-2.0
/*
 * Registration, unregistration and the life of a struct_ops map, told by
 * a TCP congestion control (ca_count): the state and refcnt a lookup shows,
 * sockets holding the CA, the map outliving its fds.
 */
#include "struct_ops_map.h"
#include "ca_switch.skel.h"

static void test_lookup_before_update(void)
{
	unsigned char v[4096];
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_lk0"), "ca_open"))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v), "ca_lookup"))
		goto out;
	if (!ASSERT_TRUE(all_zero(v, tcp.value_size), "an INIT map must read as zeroes"))
		goto out;
out:
	ca_close(&c);
}

static void test_register_lookup_unregister(void)
{
	unsigned char v[4096];
	unsigned int i;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_reg"), "ca_open"))
		goto out;
	if (!ASSERT_FALSE(st_ca_available("st_reg"), "CA listed before registration"))
		goto out;
	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	if (!ASSERT_TRUE(st_ca_available("st_reg"), "CA not in tcp_available_congestion_control"))
		goto out;

	if (!ASSERT_OK(ca_lookup(&c, v), "ca_lookup"))
		goto out;
	if (!ASSERT_EQ(st_state(v), ST_INUSE, "state: want INUSE"))
		goto out;
	if (!ASSERT_EQ(st_refcnt(v), 1, "refcnt: want 1 (the registration)"))
		goto out;
	for (i = 0; i < ARRAY_SIZE(ca_slots); i++) {
		__u64 id = *(__u64 *)(v + ca_slot(i));
		__u32 want = st_prog_id(bpf_program__fd(ca_prog(c.skel, i)));

		if (!ASSERT_EQ(id, want, "slot holds: want prog id"))
			goto out;
	}
	if (!ASSERT_EQ(*(__u64 *)(v + st_member_off(&tcp, "pkts_acked")), 0,
		       "an unset func ptr must read as 0"))
		goto out;
	if (!ASSERT_TRUE(!strcmp((char *)v + st_member_off(&tcp, "name"), "st_reg"),
			 "name not kept"))
		goto out;

	if (!ASSERT_OK(ca_delete(&c), "ca_delete"))
		goto out;
	if (!ASSERT_FALSE(st_ca_available("st_reg"), "CA still listed after delete"))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v), "ca_lookup"))
		goto out;
	if (!ASSERT_EQ(st_state(v), ST_TOBEFREE, "state after delete: want TOBEFREE"))
		goto out;
	if (!ASSERT_ERRNO(ca_delete(&c), EINPROGRESS, "ca_delete"))
		goto out;
out:
	ca_close(&c);
}

static void test_libbpf_attach_detach(void)
{
	struct bpf_link *link = NULL;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_libbpf"), "ca_open"))
		goto out;
	link = bpf_map__attach_struct_ops(c.skel->maps.ca_count);
	if (!ASSERT_TRUE(link, "bpf_map__attach_struct_ops"))
		goto out;
	if (!ASSERT_TRUE(st_ca_available("st_libbpf"), "CA not registered"))
		goto out;
	bpf_link__destroy(link);
	link = NULL;
	if (!ASSERT_FALSE(st_ca_available("st_libbpf"), "CA still registered after detach"))
		goto out;
out:
	bpf_link__destroy(link);
	ca_close(&c);
}

static void test_closed_fds_keep_ca(void)
{
	struct st_tcp t = { .listen_fd = -1, .cli = -1, .srv = -1 };
	__u32 id, key = 0;
	char name[16];
	int fd = -1;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_nofd"), "ca_open"))
		goto out;
	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	id = st_map_id(c.map_fd);
	ca_close(&c);		/* every fd of the map and its progs */
	if (!ASSERT_TRUE(st_ca_available("st_nofd"), "CA gone with the fds"))
		goto out;
	if (!ASSERT_OK(st_tcp_open(&t, "st_nofd"), "st_tcp_open"))
		goto out;
	if (!ASSERT_OK(st_sock_ca(t.cli, name), "st_sock_ca"))
		goto out;
	if (!ASSERT_FALSE(strcmp(name, "st_nofd"), "socket uses"))
		goto out;
	if (!ASSERT_OK(st_tcp_push(&t, MB), "st_tcp_push"))
		goto out;
	st_tcp_close(&t);
	fd = bpf_map_get_fd_by_id(id);
	if (!ASSERT_GE(fd, 0, "registered map not found"))
		goto out;
	if (!ASSERT_OK(bpf_map_delete_elem(fd, &key), "bpf_map_delete_elem"))
		goto out;
	if (!ASSERT_FALSE(st_ca_available("st_nofd"), "CA still listed after delete"))
		goto out;
	close(fd);
	fd = -1;
	if (!ASSERT_TRUE(st_wait(st_map_gone(id), 3000),
			 "map still exists after unregister and close"))
		goto out;
out:
	if (fd >= 0)
		close(fd);
	st_tcp_close(&t);
	ca_close(&c);
}

static void test_unregister_while_in_use(void)
{
	struct st_tcp t = { .listen_fd = -1, .cli = -1, .srv = -1 };
	unsigned char v[4096];
	__u64 before;
	__u32 id;
	int fd;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_busy"), "ca_open"))
		goto out;
	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	id = st_map_id(c.map_fd);
	if (!ASSERT_OK(st_tcp_open(&t, "st_busy"), "st_tcp_open"))
		goto out;
	if (!ASSERT_OK(st_tcp_push(&t, MB), "st_tcp_push"))
		goto out;
	if (!ASSERT_OK(ca_delete(&c), "ca_delete"))
		goto out;
	if (!ASSERT_FALSE(st_ca_available("st_busy"), "CA listed after delete"))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v), "ca_lookup"))
		goto out;
	if (!ASSERT_EQ(st_state(v), ST_TOBEFREE, "state: want TOBEFREE"))
		goto out;
	/* The socket keeps running the unregistered CA's programs. */
	before = c.skel->bss->cnt_cong_avoid;
	if (!ASSERT_OK(st_tcp_push(&t, 2 * MB), "st_tcp_push"))
		goto out;
	if (!ASSERT_GT(c.skel->bss->cnt_cong_avoid, before, "CA stopped running on its socket"))
		goto out;
	if (!ASSERT_ERRNO(ca_register(&c), EBUSY, "ca_register"))
		goto out;
	/* Closing the map fd: the socket still pins the map. */
	ca_close(&c);
	fd = bpf_map_get_fd_by_id(id);
	if (!ASSERT_GE(fd, 0, "map freed while a socket uses it"))
		goto out;
	close(fd);
	st_tcp_close(&t);
	if (!ASSERT_TRUE(st_wait(st_map_gone(id), 3000),
			 "map still exists after its last socket closed"))
		goto out;
out:
	st_tcp_close(&t);
	ca_close(&c);
}

/*
 * An op switches its own socket to another CA while it runs: init() calls
 * bpf_setsockopt(TCP_CONGESTION), as a CA falling back does. Here that
 * drops the last count of an unregistered CA whose fds are all closed, so
 * its map is freed while init() still runs in the map's trampoline (the
 * upstream fix: free the image only after an RCU tasks grace period).
 */
static void test_op_switches_ca(void)
{
	struct st_tcp t = { .listen_fd = -1, .cli = -1, .srv = -1 };
	union {
		struct ca_switch__bss v;
		unsigned char buf[256];
	} bss;
	struct bpf_link *link = NULL;
	int bss_fd = -1, fd, err;
	struct ca_switch *s;
	char name[16];
	__u32 id;

	s = ca_switch__open_and_load();
	if (!ASSERT_TRUE(s, "load ca_switch"))
		goto out;
	link = bpf_map__attach_struct_ops(s->maps.ca_switch);
	if (!ASSERT_TRUE(link, "register st_switch"))
		goto out;
	id = st_map_id(bpf_map__fd(s->maps.ca_switch));
	if (!ASSERT_OK(st_tcp_prepare(&t, "st_switch", NULL), "st_tcp_prepare"))
		goto out;
	memcpy(s->bss->switch_to, "reno", sizeof("reno"));
	bss_fd = dup(bpf_map__fd(s->maps.bss));
	if (!ASSERT_GE(bss_fd, 0, "dup"))
		goto out;
	/* Unregistered, no fd left: only the unconnected socket holds the CA. */
	err = bpf_link__destroy(link);	/* frees the link, whatever it returns */
	link = NULL;
	if (!ASSERT_OK(err, "bpf_link__destroy"))
		goto out;
	if (!ASSERT_FALSE(st_ca_available("st_switch"), "CA listed after unregister"))
		goto out;
	ca_switch__destroy(s);
	s = NULL;
	fd = bpf_map_get_fd_by_id(id);
	if (!ASSERT_GE(fd, 0, "map freed while a socket holds its CA"))
		goto out;
	close(fd);
	/* Connecting runs init(), which switches to reno. */
	if (!ASSERT_OK(st_tcp_connect(&t), "st_tcp_connect"))
		goto out;
	if (!ASSERT_OK(bpf_map_lookup_elem(bss_fd, &(__u32){0}, bss.buf), "bpf_map_lookup_elem"))
		goto out;
	if (!ASSERT_TRUE(bss.v.switches == 1 && bss.v.switch_ret == 0,
			 "init switched times, bpf_setsockopt returned"))
		goto out;
	if (!ASSERT_EQ(bss.v.state_after, 1 /* TCP_ESTABLISHED */,
		       "init read state from its socket after switching"))
		goto out;
	if (!ASSERT_OK(st_sock_ca(t.cli, name), "st_sock_ca"))
		goto out;
	if (!ASSERT_FALSE(strcmp(name, "reno"), "socket uses after the switch"))
		goto out;
	if (!ASSERT_TRUE(st_wait(st_map_gone(id), 3000), "map still exists after the switch"))
		goto out;
	if (!ASSERT_OK(st_tcp_push(&t, MB), "st_tcp_push"))
		goto out;
out:
	st_tcp_close(&t);
	if (bss_fd >= 0)
		close(bss_fd);
	bpf_link__destroy(link);
	ca_switch__destroy(s);
}

static void test_refcnt_counts_sockets(void)
{
	struct st_tcp t[3];
	unsigned char v[4096];
	unsigned int i, n = 3;
	struct ca c = { .map_fd = -1 };

	for (i = 0; i < n; i++) {
		t[i].listen_fd = -1;
		t[i].cli = -1;
		t[i].srv = -1;
	}
	if (!ASSERT_OK(ca_open(&c, "st_ref"), "ca_open"))
		goto out;
	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	for (i = 0; i < n; i++) {
		if (!ASSERT_OK(st_tcp_open(&t[i], "st_ref"), "st_tcp_open"))
			goto out;
		if (!ASSERT_OK(ca_lookup(&c, v), "ca_lookup"))
			goto out;
		if (!ASSERT_EQ(st_refcnt(v), 2 + i, "refcnt with sockets"))
			goto out;
	}
	for (i = 0; i < n; i++) {
		st_tcp_close(&t[i]);
		if (!ASSERT_TRUE(st_wait(ca_lookup(&c, v) == 0 && st_refcnt(v) == n - i, 2000),
				 "refcnt after closing sockets"))
			goto out;
	}
	if (!ASSERT_OK(ca_delete(&c), "ca_delete"))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v), "ca_lookup"))
		goto out;
	if (!ASSERT_EQ(st_refcnt(v), 0, "refcnt after delete: want 0"))
		goto out;
out:
	for (i = 0; i < n; i++)
		st_tcp_close(&t[i]);
	ca_close(&c);
}

/*
 * Sockets take and drop the CA in a loop while it is deleted: every get
 * either succeeds before the registration's count is dropped or fails and
 * falls back, no count is lost or leaked, and the map goes once they stop.
 */
static void test_refcnt_race_with_delete(void)
{
	unsigned char v[4096];
	pid_t child = -1;
	int status, i;
	__u32 id;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_race"), "ca_open"))
		goto out;
	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	id = st_map_id(c.map_fd);
	child = fork();
	if (!ASSERT_GE(child, 0, "fork"))
		goto out;
	if (child == 0) {
		for (i = 0; i < 4000; i++) {
			int fd = socket(AF_INET, SOCK_STREAM, 0);

			setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "st_race", 7);
			close(fd);
		}
		_exit(0);
	}
	usleep(20000);
	if (!ASSERT_OK(ca_delete(&c), "ca_delete"))
		goto out;
	if (!ASSERT_TRUE(waitpid(child, &status, 0) == child && WIFEXITED(status), "child failed"))
		goto out;
	child = -1;
	if (!ASSERT_OK(ca_lookup(&c, v), "ca_lookup"))
		goto out;
	if (!ASSERT_EQ(st_state(v), ST_TOBEFREE, "state: want TOBEFREE"))
		goto out;
	if (!ASSERT_TRUE(st_refcnt(v) == 0 || !st_impl_is_rust(),
			 "refcnt with no user left: want 0"))
		goto out;
	ca_close(&c);
	if (!ASSERT_TRUE(st_wait(st_map_gone(id), 3000), "map not freed after the race"))
		goto out;
out:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
	}
	ca_close(&c);
}

void test_struct_ops_map_lifecycle(void)
{
	if (!struct_ops_map_setup())
		return;
	if (test__start_subtest("lookup_before_update"))
		test_lookup_before_update();
	if (test__start_subtest("register_lookup_unregister"))
		test_register_lookup_unregister();
	if (test__start_subtest("libbpf_attach_detach"))
		test_libbpf_attach_detach();
	if (test__start_subtest("closed_fds_keep_ca"))
		test_closed_fds_keep_ca();
	if (test__start_subtest("unregister_while_in_use"))
		test_unregister_while_in_use();
	if (test__start_subtest("refcnt_counts_sockets"))
		test_refcnt_counts_sockets();
	if (test__start_subtest("op_switches_ca"))
		test_op_switches_ca();
	if (test__start_subtest("refcnt_race_with_delete"))
		test_refcnt_race_with_delete();
}
