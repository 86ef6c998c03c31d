// SPDX-License-Identifier: GPL-2.0
/*
 * A TCP congestion control registered through the map runs on real
 * connections, and the TCP type's own checks (bpf_tcp_ca.c, or its Rust
 * counterpart) refuse what they must.
 */
#include "struct_ops_map.h"
#include "ca_write.skel.h"
#include "ca_incomplete.skel.h"

static void test_runs_bpf_ca(void)
{
	struct st_tcp t = { .listen_fd = -1, .cli = -1, .srv = -1 };
	char name[16];
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_tcp"), "ca_open"))
		goto out;
	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	if (!ASSERT_OK(st_tcp_open(&t, "st_tcp"), "st_tcp_open"))
		goto out;
	if (!ASSERT_OK(st_sock_ca(t.cli, name), "st_sock_ca"))
		goto out;
	if (!ASSERT_FALSE(strcmp(name, "st_tcp"), "socket uses"))
		goto out;
	if (!ASSERT_OK(st_tcp_push(&t, 8 * MB), "st_tcp_push"))
		goto out;

	if (!ASSERT_EQ(c.skel->bss->cnt_init, 1, "init ran times: want 1"))
		goto out;
	if (!ASSERT_EQ(c.skel->bss->last_init_port, t.cli_port,
		       "init saw local port, the socket has"))
		goto out;
	if (!ASSERT_GT(c.skel->bss->cnt_cong_avoid, 0, "cong_avoid never ran"))
		goto out;
	if (!ASSERT_GE(c.skel->bss->acked_sum, c.skel->bss->cnt_cong_avoid,
		       "cong_avoid's acked argument summed to over calls"))
		goto out;
	if (!ASSERT_TRUE(c.skel->bss->events_seen & (1 << 0 /* CA_EVENT_TX_START */),
			 "CA_EVENT_TX_START seen by cwnd_event or cwnd_event_tx_start"))
		goto out;
	st_tcp_close(&t);
	if (!ASSERT_TRUE(st_wait(c.skel->bss->cnt_release == 1, 2000),
			 "release ran times after close: want 1"))
		goto out;
	if (!ASSERT_OK(ca_delete(&c), "ca_delete"))
		goto out;
out:
	st_tcp_close(&t);
	/* A registered CA would outlive the test: later ones count maps. */
	ca_delete(&c);
	ca_close(&c);
}

static void test_default_ca_sysctl(void)
{
	const char *path = "/proc/sys/net/ipv4/tcp_congestion_control";
	struct st_tcp t = { .listen_fd = -1, .cli = -1, .srv = -1 };
	char old[64] = "", buf[64];
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_GT(st_read_file(path, old, sizeof(old)), 0, "read"))
		goto out;
	if (!ASSERT_OK(ca_open(&c, "st_dflt"), "ca_open"))
		goto out;
	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	if (!ASSERT_OK(st_write_file(path, "st_dflt"), "st_write_file"))
		goto out;
	if (!ASSERT_TRUE(st_read_file(path, buf, sizeof(buf)) > 0 && !strcmp(buf, "st_dflt"),
			 "default CA reads"))
		goto out;
	if (!ASSERT_OK(st_tcp_open(&t, NULL), "st_tcp_open"))
		goto out;
	if (!ASSERT_OK(st_sock_ca(t.cli, buf), "st_sock_ca"))
		goto out;
	if (!ASSERT_FALSE(strcmp(buf, "st_dflt"), "new socket got"))
		goto out;
	if (!ASSERT_OK(st_tcp_push(&t, MB), "st_tcp_push"))
		goto out;
	st_tcp_close(&t);
	if (!ASSERT_OK(st_write_file(path, old), "st_write_file"))
		goto out;
	if (!ASSERT_OK(ca_delete(&c), "ca_delete"))
		goto out;
out:
	st_tcp_close(&t);
	if (old[0])
		st_write_file(path, old);
	ca_close(&c);
}

/* Offset of member @member of struct @type in vmlinux BTF, -1 if none. */
static int vmlinux_member_off(const char *type, const char *member)
{
	const struct btf_member *m;
	const struct btf_type *t;
	int id, i;

	id = btf__find_by_name_kind(tcp.btf, type, BTF_KIND_STRUCT);
	if (id < 0)
		return -1;
	t = btf__type_by_id(tcp.btf, id);
	for (i = 0, m = btf_members(t); i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(tcp.btf, m->name_off), member))
			return btf_member_bit_offset(t, i) / 8;
	return -1;
}

static char ca_write_log[1 << 16];

/*
 * Loads ca_write with only struct_ops map @map created, so that only its
 * program loads; the verifier's log of it is in ca_write_log, after a
 * newline (so that each of its lines is between two).
 */
static int ca_write_load(const char *map)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts,
		    .kernel_log_buf = ca_write_log + 1,
		    .kernel_log_size = sizeof(ca_write_log) - 1,
		    .kernel_log_level = 1);
	struct ca_write *s;
	int err;

	memcpy(ca_write_log, "\n", 2);
	s = ca_write__open_opts(&opts);
	if (!s)
		return -1;
	st_only_struct_ops_map(s->obj, map);
	err = ca_write__load(s);
	ca_write__destroy(s);
	return err;
}

/* The last line of the verifier's log, for a failure's message. */
static const char *ca_write_log_tail(void)
{
	size_t n = strlen(ca_write_log);
	char *p;

	while (n && ca_write_log[n - 1] == '\n')
		ca_write_log[--n] = 0;
	p = strrchr(ca_write_log, '\n');
	return p ? p + 1 : ca_write_log;
}

/*
 * @map's program must fail to load with errno @err, with line @want in the
 * verifier's log.
 */
static int ca_write_refused(const char *map, int err, const char *want)
{
	char line[160];
	int r;

	r = ca_write_load(map);
	if (!ASSERT_EQ(r, -err, map))
		return -1;
	snprintf(line, sizeof(line), "\n%s\n", want);
	if (!ASSERT_TRUE(strstr(ca_write_log, line), want)) {
		printf("%s: the verifier's log ends \"%s\"\n", map, ca_write_log_tail());
		return -1;
	}
	return 0;
}

static void test_writes_refused(void)
{
	int una = vmlinux_member_off("tcp_sock", "snd_una");
	int cwnd = vmlinux_member_off("tcp_sock", "snd_cwnd");
	char want[128];

	if (!ASSERT_TRUE(una > 0 && cwnd > 0, "no snd_una or snd_cwnd in tcp_sock"))
		return;
	/* Each field the type lets a program write. */
	if (!ASSERT_OK(ca_write_load("ca_w_allowed"), "ca_write_load"))
		return;
	if (ca_write_refused("ca_w_other_struct", EACCES, "only read is supported"))
		return;
	snprintf(want, sizeof(want), "no write support to tcp_sock at off %d", una);
	if (ca_write_refused("ca_w_other_field", EACCES, want))
		return;
	snprintf(want, sizeof(want),
		 "write access at off %d with size 8 beyond the member of tcp_sock ended at %d",
		 cwnd, cwnd + 4);
	ca_write_refused("ca_w_past_field", EACCES, want);
}

static void test_getsockopt_in_release(void)
{
	char want[128];

	snprintf(want, sizeof(want), "program of this type cannot use helper bpf_getsockopt#%d",
		 BPF_FUNC_getsockopt);
	if (ca_write_refused("ca_gso_release", EINVAL, want))
		return;
	ASSERT_OK(ca_write_load("ca_gso_init"), "ca_write_load");
}

/* A sleepable program for a congestion control op, which runs in softirq. */
static void test_sleepable_refused(void)
{
	ca_write_refused("ca_sleepable", EINVAL,
			 "attach to unsupported member cong_avoid of struct tcp_congestion_ops");
}

/* init_member()'s rules for the two members it copies: flags and name. */
static void test_flags_and_name(void)
{
	static const struct {
		const char *name;	/* NULL: 16 letters, no NUL */
		__u32 flags;
		int err;
	} rules[] = {
		{ "st_rules", 0x100, EINVAL },		/* outside TCP_CONG_MASK */
		{ "st_rules", 0x80000000, EINVAL },
		{ "", 0, EINVAL },			/* empty */
		{ "st-rules", 0, EINVAL },		/* '-' */
		{ "st rules", 0, EINVAL },		/* ' ' */
		{ NULL, 0, EINVAL },			/* no NUL in 16 bytes */
		{ "st_rules.v1", 0, 0 },		/* letters, digits, '_', '.' */
		{ "st_rules", 1, 0 },			/* TCP_CONG_NON_RESTRICTED */
		{ "st_rules", 3, 0 },			/* and TCP_CONG_NEEDS_ECN */
	};
	int name_off = st_member_off(&tcp, "name"), flags_off = st_member_off(&tcp, "flags");
	unsigned char v[4096];
	char allowed[4096];
	unsigned int i;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_TRUE(name_off > 0 && flags_off > 0, "no name or flags in the value"))
		return;
	if (!ASSERT_OK(ca_open(&c, "st_rules"), "ca_open"))
		goto out;
	for (i = 0; i < ARRAY_SIZE(rules); i++) {
		char *name = (char *)c.value + name_off;
		const char *listed = rules[i].name ? rules[i].name : "aaaaaaaaaaaaaaaa";

		/* Shown with a failure: which case failed. */
		printf("case %u: name \"%s\", flags %#x\n", i, listed, rules[i].flags);

		memset(name, 0, 16);
		memcpy(name, listed, strlen(listed));
		*(__u32 *)(c.value + flags_off) = rules[i].flags;
		if (rules[i].err) {
			if (!ASSERT_ERRNO(ca_register(&c), rules[i].err, "ca_register"))
				goto out;
			if (!ASSERT_TRUE(!*listed || !st_ca_available(listed), "case: registered"))
				goto out;
			if (!ASSERT_TRUE(ca_lookup(&c, v) == 0 && all_zero(v, tcp.value_size),
					 "case: map not back to INIT"))
				goto out;
			continue;
		}
		if (!ASSERT_OK(ca_register(&c), "ca_register"))
			goto out;
		if (!ASSERT_TRUE(st_ca_available(listed), "case: not registered"))
			goto out;
		/* The kernel's copy has the flags; non-restricted CAs are allowed to all. */
		if (!ASSERT_OK(ca_lookup(&c, v), "ca_lookup") ||
		    !ASSERT_EQ(*(__u32 *)(v + flags_off), rules[i].flags,
			       "flags in the kernel's value") ||
		    !ASSERT_STREQ((char *)v + name_off, listed, "name in the kernel's value"))
			goto out;
		if (!ASSERT_GE(st_read_file("/proc/sys/net/ipv4/tcp_allowed_congestion_control",
					    allowed, sizeof(allowed)), 0, "read allowed CAs"))
			goto out;
		if (!ASSERT_EQ(!!strstr(allowed, listed), !!(rules[i].flags & 1),
			       "case: is in tcp_allowed_congestion_control"))
			goto out;
		if (!ASSERT_OK(ca_delete(&c), "ca_delete"))
			goto out;
		/* A map is registered once: the next case needs a new one. */
		ca_close(&c);
		if (!ASSERT_OK(ca_open(&c, "st_rules"), "ca_open"))
			goto out;
	}
out:
	ca_close(&c);
}

/*
 * A congestion control built against another layout of struct
 * tcp_congestion_ops than the kernel's BTF: a value of another size is
 * refused when its map is created (EINVAL); bytes in a member the kernel
 * does not take from userspace ("key", which TCP derives from the name)
 * are refused when it is updated (EINVAL), which leaves the map INIT and
 * nothing registered. The same value laid out as BTF says then registers.
 */
static void test_layout_refused(void)
{
	static const int delta[] = { -8, 8 };
	int key_off = st_member_off(&tcp, "key"), fd;
	unsigned char v[4096];
	unsigned int i;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_GT(key_off, 0, "no key in the value"))
		return;
	if (!ASSERT_OK(ca_open(&c, "st_layout"), "ca_open"))
		goto out;
	for (i = 0; i < ARRAY_SIZE(delta); i++) {
		struct st_layout l = tcp;

		l.value_size += delta[i];
		fd = st_map_create(&l, bpf_object__btf_fd(c.skel->obj), 0);
		if (fd >= 0)
			close(fd);
		if (!ASSERT_ERRNO(fd, EINVAL, "a value of bytes fails with EINVAL"))
			goto out;
	}
	*(__u32 *)(c.value + key_off) = 0x5a5a;
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL, "ca_register"))
		goto out;
	if (!ASSERT_FALSE(st_ca_available("st_layout"), "st_layout registered"))
		goto out;
	if (!ASSERT_TRUE(ca_lookup(&c, v) == 0 && all_zero(v, tcp.value_size),
			 "map not back to INIT after a refused value"))
		goto out;
	*(__u32 *)(c.value + key_off) = 0;
	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	if (!ASSERT_TRUE(st_ca_available("st_layout"), "st_layout not registered"))
		goto out;
	if (!ASSERT_OK(ca_delete(&c), "ca_delete"))
		goto out;
out:
	ca_close(&c);
}

static void test_incomplete_ca_refused(void)
{
	struct ca_incomplete *s = NULL;
	struct bpf_link *link = NULL;
	unsigned char v[4096];
	__u32 key = 0;

	s = ca_incomplete__open_and_load();
	if (!ASSERT_TRUE(s, "load ca_incomplete"))
		goto out;
	link = bpf_map__attach_struct_ops(s->maps.ca_incomplete);
	if (!ASSERT_TRUE(!link && errno == EINVAL, "attach fails with EINVAL"))
		goto out;
	if (!ASSERT_FALSE(st_ca_available("st_incomplete"), "incomplete CA registered"))
		goto out;
	if (!ASSERT_OK(bpf_map_lookup_elem(bpf_map__fd(s->maps.ca_incomplete), &key, v),
		       "bpf_map_lookup_elem"))
		goto out;
	if (!ASSERT_TRUE(st_state(v) == ST_INIT && all_zero(v, tcp.value_size),
			 "refused map not back to INIT"))
		goto out;
out:
	bpf_link__destroy(link);
	ca_incomplete__destroy(s);
}

void test_struct_ops_map_tcp_ca(void)
{
	if (!struct_ops_map_setup())
		return;
	if (test__start_subtest("runs_bpf_ca"))
		test_runs_bpf_ca();
	if (test__start_subtest("default_ca_sysctl"))
		test_default_ca_sysctl();
	if (test__start_subtest("incomplete_ca_refused"))
		test_incomplete_ca_refused();
	if (test__start_subtest("writes_refused"))
		test_writes_refused();
	if (test__start_subtest("getsockopt_in_release"))
		test_getsockopt_in_release();
	if (test__start_subtest("sleepable_refused"))
		test_sleepable_refused();
	if (test__start_subtest("flags_and_name"))
		test_flags_and_name();
	if (test__start_subtest("layout_refused"))
		test_layout_refused();
}
