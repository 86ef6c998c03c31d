// SPDX-License-Identifier: GPL-2.0
/*
 * The project's struct_ops tests. They go through the bpf(2) syscall (via
 * libbpf's thin wrappers) and the TCP stack, so they run unchanged against
 * the stock C implementation and against the Rust one.
 *
 * Output: one line per test, "ok NAME" or "not ok NAME - REASON".
 * usage: st_test [NAME-SUBSTRING]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "st_lib.h"
#include "ca_count.skel.h"
#include "ca_write.skel.h"
#include "ca_incomplete.skel.h"
#include "ca_switch.skel.h"
#include "dummy_ops.skel.h"
#include "dummy_unchecked.skel.h"
#include "testmod_ops.skel.h"
#include "st_sleep.skel.h"
#include "many_types.skel.h"
#include "st_rust.skel.h"
#include "st_testmod/st_testmod.h"
#include "st_rust_testmod/st_rust_testmod.h"

#define MB (1024 * 1024)
static struct st_layout tcp;	/* layout of bpf_struct_ops_tcp_congestion_ops */

/* A loaded ca_count object plus a value for it, ready for BPF_MAP_UPDATE_ELEM. */
struct ca {
	struct ca_count *skel;
	int map_fd;
	char name[16];
	unsigned char value[4096];
};

static const struct { const char *member; int which; } ca_slots[] = {
	{ "init", 0 }, { "release", 1 }, { "ssthresh", 2 }, { "cong_avoid", 3 },
	{ "set_state", 4 }, { "cwnd_event", 5 }, { "undo_cwnd", 6 },
	{ "cwnd_event_tx_start", 7 },
};

static struct bpf_program *ca_prog(struct ca_count *s, int which)
{
	struct bpf_program *p[] = {
		s->progs.ca_init, s->progs.ca_release, s->progs.ca_ssthresh,
		s->progs.ca_cong_avoid, s->progs.ca_set_state,
		s->progs.ca_cwnd_event, s->progs.ca_undo_cwnd,
		s->progs.ca_cwnd_event_tx_start,
	};
	return p[which];
}

static int ca_slot(int which)
{
	return st_member_off(&tcp, ca_slots[which].member);
}

/* Loads ca_count under a fresh name with map flags @flags (BPF_F_LINK);
 * fills c->value with its prog fds.
 */
static int ca_open_flags(struct ca *c, const char *name, __u32 flags)
{
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->map_fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->skel = ca_count__open();
	if (!c->skel)
		return -1;
	if (flags && bpf_map__set_map_flags(c->skel->maps.ca_count, flags))
		return -1;
	/* The object's copy of the struct, laid out as the kernel's. */
	memcpy((char *)bpf_map__initial_value(c->skel->maps.ca_count, NULL) +
	       st_member_off(&tcp, "name") - tcp.data_off, c->name, sizeof(c->name));
	if (ca_count__load(c->skel))
		return -1;
	c->map_fd = bpf_map__fd(c->skel->maps.ca_count);
	for (i = 0; i < ARRAY_SIZE(ca_slots); i++)
		*(__u64 *)(c->value + ca_slot(i)) = bpf_program__fd(ca_prog(c->skel, i));
	memcpy(c->value + st_member_off(&tcp, "name"), c->name, sizeof(c->name));
	return 0;
}

static int ca_open(struct ca *c, const char *name)
{
	return ca_open_flags(c, name, 0);
}

static int ca_register(struct ca *c)
{
	__u32 key = 0;

	return bpf_map_update_elem(c->map_fd, &key, c->value, 0);
}

static int ca_lookup(struct ca *c, void *value)
{
	__u32 key = 0;

	memset(value, 0xa5, tcp.value_size);
	return bpf_map_lookup_elem(c->map_fd, &key, value);
}

static int ca_delete(struct ca *c)
{
	__u32 key = 0;

	return bpf_map_delete_elem(c->map_fd, &key);
}

static void ca_close(struct ca *c)
{
	ca_count__destroy(c->skel);
	c->skel = NULL;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

/* ---- lifecycle ---------------------------------------------------------- */

static int test_lookup_before_update(void)
{
	unsigned char v[4096];
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_lk0")))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v)))
		goto out;
	if (!ASSERT(all_zero(v, tcp.value_size), "an INIT map must read as zeroes"))
		goto out;
	ca_close(&c);
	return 0;
out:
	ca_close(&c);
	return -1;
}

static int test_register_lookup_unregister(void)
{
	unsigned char v[4096];
	unsigned int i;
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_reg")))
		goto out;
	if (!ASSERT(!st_ca_available("st_reg"), "CA listed before registration"))
		goto out;
	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	if (!ASSERT(st_ca_available("st_reg"), "CA not in tcp_available_congestion_control"))
		goto out;

	if (!ASSERT_OK(ca_lookup(&c, v)))
		goto out;
	if (!ASSERT(st_state(v) == ST_INUSE, "state %u, want INUSE", st_state(v)))
		goto out;
	if (!ASSERT(st_refcnt(v) == 1, "refcnt %u, want 1 (the registration)", st_refcnt(v)))
		goto out;
	for (i = 0; i < ARRAY_SIZE(ca_slots); i++) {
		__u64 id = *(__u64 *)(v + ca_slot(i));
		__u32 want = st_prog_id(bpf_program__fd(ca_prog(c.skel, i)));

		if (!ASSERT(id == want, "slot %s holds %llu, want prog id %u",
			    ca_slots[i].member, (unsigned long long)id, want))
			goto out;
	}
	if (!ASSERT(*(__u64 *)(v + st_member_off(&tcp, "pkts_acked")) == 0,
		    "an unset func ptr must read as 0"))
		goto out;
	if (!ASSERT(!strcmp((char *)v + st_member_off(&tcp, "name"), "st_reg"), "name not kept"))
		goto out;

	if (!ASSERT_OK(ca_delete(&c)))
		goto out;
	if (!ASSERT(!st_ca_available("st_reg"), "CA still listed after delete"))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v)))
		goto out;
	if (!ASSERT(st_state(v) == ST_TOBEFREE, "state %u after delete, want TOBEFREE",
		    st_state(v)))
		goto out;
	if (!ASSERT_ERRNO(ca_delete(&c), EINPROGRESS))
		goto out;
	ca_close(&c);
	return 0;
out:
	ca_close(&c);
	return -1;
}

static int test_libbpf_attach_detach(void)
{
	struct bpf_link *link = NULL;
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_libbpf")))
		goto out;
	link = bpf_map__attach_struct_ops(c.skel->maps.ca_count);
	if (!ASSERT(link, "bpf_map__attach_struct_ops: %s", strerror(errno)))
		goto out;
	if (!ASSERT(st_ca_available("st_libbpf"), "CA not registered"))
		goto out;
	bpf_link__destroy(link);
	link = NULL;
	if (!ASSERT(!st_ca_available("st_libbpf"), "CA still registered after detach"))
		goto out;
	ca_close(&c);
	return 0;
out:
	bpf_link__destroy(link);
	ca_close(&c);
	return -1;
}

/* ---- the CA really runs ------------------------------------------------- */

static int test_tcp_runs_bpf_ca(void)
{
	struct st_tcp t = { .listen_fd = -1, .cli = -1, .srv = -1 };
	char name[16];
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_tcp")))
		goto out;
	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	if (!ASSERT_OK(st_tcp_open(&t, "st_tcp")))
		goto out;
	if (!ASSERT_OK(st_sock_ca(t.cli, name)))
		goto out;
	if (!ASSERT(!strcmp(name, "st_tcp"), "socket uses %s", name))
		goto out;
	if (!ASSERT_OK(st_tcp_push(&t, 8 * MB)))
		goto out;

	if (!ASSERT(c.skel->bss->cnt_init == 1, "init ran %llu times, want 1",
		    (unsigned long long)c.skel->bss->cnt_init))
		goto out;
	if (!ASSERT(c.skel->bss->last_init_port == t.cli_port,
		    "init saw local port %u, the socket has %u",
		    c.skel->bss->last_init_port, t.cli_port))
		goto out;
	if (!ASSERT(c.skel->bss->cnt_cong_avoid > 0, "cong_avoid never ran"))
		goto out;
	if (!ASSERT(c.skel->bss->acked_sum >= c.skel->bss->cnt_cong_avoid,
		    "cong_avoid's acked argument summed to %llu over %llu calls",
		    (unsigned long long)c.skel->bss->acked_sum,
		    (unsigned long long)c.skel->bss->cnt_cong_avoid))
		goto out;
	if (!ASSERT(c.skel->bss->events_seen & (1 << 0 /* CA_EVENT_TX_START */),
		    "neither cwnd_event nor cwnd_event_tx_start saw CA_EVENT_TX_START (events %#llx)",
		    (unsigned long long)c.skel->bss->events_seen))
		goto out;
	st_tcp_close(&t);
	if (!ASSERT(st_wait(c.skel->bss->cnt_release == 1, 2000),
		    "release ran %llu times after close, want 1",
		    (unsigned long long)c.skel->bss->cnt_release))
		goto out;
	if (!ASSERT_OK(ca_delete(&c)))
		goto out;
	ca_close(&c);
	return 0;
out:
	st_tcp_close(&t);
	/* A registered CA would outlive the test: later ones count maps. */
	ca_delete(&c);
	ca_close(&c);
	return -1;
}

static int test_default_ca_sysctl(void)
{
	const char *path = "/proc/sys/net/ipv4/tcp_congestion_control";
	struct st_tcp t = { .listen_fd = -1, .cli = -1, .srv = -1 };
	char old[64] = "", buf[64];
	struct ca c;

	if (!ASSERT(st_read_file(path, old, sizeof(old)) > 0, "read %s", path))
		goto out;
	if (!ASSERT_OK(ca_open(&c, "st_dflt")))
		goto out;
	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	if (!ASSERT_OK(st_write_file(path, "st_dflt")))
		goto out;
	if (!ASSERT(st_read_file(path, buf, sizeof(buf)) > 0 && !strcmp(buf, "st_dflt"),
		    "default CA reads %s", buf))
		goto out;
	if (!ASSERT_OK(st_tcp_open(&t, NULL)))
		goto out;
	if (!ASSERT_OK(st_sock_ca(t.cli, buf)))
		goto out;
	if (!ASSERT(!strcmp(buf, "st_dflt"), "new socket got %s", buf))
		goto out;
	if (!ASSERT_OK(st_tcp_push(&t, MB)))
		goto out;
	st_tcp_close(&t);
	if (!ASSERT_OK(st_write_file(path, old)))
		goto out;
	if (!ASSERT_OK(ca_delete(&c)))
		goto out;
	ca_close(&c);
	return 0;
out:
	st_tcp_close(&t);
	if (old[0])
		st_write_file(path, old);
	ca_close(&c);
	return -1;
}

/* ---- bad input ---------------------------------------------------------- */

/* After each refused update the map must still take a correct one. */
static int check_still_usable(struct ca *c)
{
	unsigned char v[4096];

	if (ca_lookup(c, v) || !all_zero(v, tcp.value_size)) {
		snprintf(st_msg, sizeof(st_msg), "map not back to INIT after a refused update");
		return -1;
	}
	if (st_ca_available(c->name)) {
		snprintf(st_msg, sizeof(st_msg), "a refused update left %s registered", c->name);
		return -1;
	}
	if (ca_register(c) || !st_ca_available(c->name) || ca_delete(c)) {
		snprintf(st_msg, sizeof(st_msg), "a correct update failed after a refused one: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int test_bad_key(void)
{
	__u32 key = 1;
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_badkey")))
		goto out;
	if (!ASSERT_ERRNO(bpf_map_update_elem(c.map_fd, &key, c.value, 0), E2BIG))
		goto out;
	if (!ASSERT_OK(check_still_usable(&c)))
		goto out;
	ca_close(&c);
	return 0;
out:
	ca_close(&c);
	return -1;
}

static int test_bad_flags(void)
{
	__u32 key = 0;
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_badflg")))
		goto out;
	if (!ASSERT_ERRNO(bpf_map_update_elem(c.map_fd, &key, c.value, BPF_NOEXIST), EINVAL))
		goto out;
	if (!ASSERT_OK(check_still_usable(&c)))
		goto out;
	ca_close(&c);
	return 0;
out:
	ca_close(&c);
	return -1;
}

static int test_second_update(void)
{
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_twice")))
		goto out;
	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	if (!ASSERT_ERRNO(ca_register(&c), EBUSY))
		goto out;
	if (!ASSERT(st_ca_available("st_twice"), "a refused second update unregistered the CA"))
		goto out;
	if (!ASSERT_OK(ca_delete(&c)))
		goto out;
	if (!ASSERT_ERRNO(ca_register(&c), EBUSY))
		goto out;
	ca_close(&c);
	return 0;
out:
	ca_close(&c);
	return -1;
}

static int test_delete_before_update(void)
{
	__u32 key = 1;
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_del0")))
		goto out;
	if (!ASSERT_ERRNO(ca_delete(&c), ENOENT))
		goto out;
	if (!ASSERT_ERRNO(bpf_map_delete_elem(c.map_fd, &key), ENOENT))
		goto out;
	if (!ASSERT_OK(check_still_usable(&c)))
		goto out;
	ca_close(&c);
	return 0;
out:
	ca_close(&c);
	return -1;
}

static int test_nonzero_common(void)
{
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_common")))
		goto out;
	((__u32 *)c.value)[0] = 1;		/* refcnt */
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL))
		goto out;
	((__u32 *)c.value)[0] = 0;
	((__u32 *)c.value)[1] = ST_INUSE;	/* state */
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL))
		goto out;
	((__u32 *)c.value)[1] = 0;
	c.value[12] = 1;			/* hole between common and data */
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL))
		goto out;
	c.value[12] = 0;
	if (!ASSERT_OK(check_still_usable(&c)))
		goto out;
	ca_close(&c);
	return 0;
out:
	ca_close(&c);
	return -1;
}

static int load_socket_filter(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 2, NULL);
}

static int test_bad_prog_fd(void)
{
	int off = ca_slot(3), sock = -1, other = -1;
	__u64 good;
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_badfd")))
		goto out;
	good = *(__u64 *)(c.value + off);
	*(__u64 *)(c.value + off) = 12345;		/* not an open fd */
	if (!ASSERT_ERRNO(ca_register(&c), EBADF))
		goto out;
	sock = socket(AF_INET, SOCK_STREAM, 0);
	*(__u64 *)(c.value + off) = sock;		/* not a prog */
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL))
		goto out;
	/* ssthresh's prog in the cong_avoid slot: wrong member index */
	*(__u64 *)(c.value + off) = *(__u64 *)(c.value + ca_slot(2));
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL))
		goto out;
	/* a prog of another type */
	other = load_socket_filter();
	if (!ASSERT(other >= 0, "load a socket filter: %s", strerror(errno)))
		goto out;
	*(__u64 *)(c.value + off) = other;
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL))
		goto out;
	*(__u64 *)(c.value + off) = good;
	if (!ASSERT_OK(check_still_usable(&c)))
		goto out;
	close(sock);
	close(other);
	ca_close(&c);
	return 0;
out:
	if (sock >= 0)
		close(sock);
	if (other >= 0)
		close(other);
	ca_close(&c);
	return -1;
}

static int test_nonfunc_member(void)
{
	int off = st_member_off(&tcp, "key");
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_key")))
		goto out;
	if (!ASSERT(off > 0, "no member key in tcp_congestion_ops"))
		goto out;
	*(__u32 *)(c.value + off) = 7;
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL))
		goto out;
	*(__u32 *)(c.value + off) = 0;
	if (!ASSERT_OK(check_still_usable(&c)))
		goto out;
	ca_close(&c);
	return 0;
out:
	ca_close(&c);
	return -1;
}

static int test_duplicate_name(void)
{
	struct ca a, b;

	b.skel = NULL;
	if (!ASSERT_OK(ca_open(&a, "st_dup")))
		goto out;
	if (!ASSERT_OK(ca_open(&b, "st_dup")))
		goto out;
	if (!ASSERT_OK(ca_register(&a)))
		goto out;
	if (!ASSERT_ERRNO(ca_register(&b), EEXIST))
		goto out;
	if (!ASSERT_OK(ca_delete(&a)))
		goto out;
	if (!ASSERT_OK(check_still_usable(&b)))
		goto out;
	ca_close(&a);
	ca_close(&b);
	return 0;
out:
	ca_close(&a);
	ca_close(&b);
	return -1;
}

/* ---- the TCP congestion control type's own checks ------------------------ */

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
	if (!ASSERT(r == -err, "%s: load returned %d, want %d", map, r, -err))
		return -1;
	snprintf(line, sizeof(line), "\n%s\n", want);
	if (!ASSERT(strstr(ca_write_log, line),
		    "%s: no \"%s\" in the verifier's log, which ends \"%s\"",
		    map, want, ca_write_log_tail()))
		return -1;
	return 0;
}

static int test_tcp_writes_refused(void)
{
	int una = vmlinux_member_off("tcp_sock", "snd_una");
	int cwnd = vmlinux_member_off("tcp_sock", "snd_cwnd");
	char want[128];

	if (!ASSERT(una > 0 && cwnd > 0, "no snd_una or snd_cwnd in tcp_sock"))
		return -1;
	/* Each field the type lets a program write. */
	if (!ASSERT_OK(ca_write_load("ca_w_allowed")))
		return -1;
	if (ca_write_refused("ca_w_other_struct", EACCES, "only read is supported"))
		return -1;
	snprintf(want, sizeof(want), "no write support to tcp_sock at off %d", una);
	if (ca_write_refused("ca_w_other_field", EACCES, want))
		return -1;
	snprintf(want, sizeof(want),
		 "write access at off %d with size 8 beyond the member of tcp_sock ended at %d",
		 cwnd, cwnd + 4);
	return ca_write_refused("ca_w_past_field", EACCES, want);
}

static int test_tcp_getsockopt_release(void)
{
	char want[128];

	snprintf(want, sizeof(want), "program of this type cannot use helper bpf_getsockopt#%d",
		 BPF_FUNC_getsockopt);
	if (ca_write_refused("ca_gso_release", EINVAL, want))
		return -1;
	return ASSERT_OK(ca_write_load("ca_gso_init")) ? 0 : -1;
}

/* A sleepable program for a congestion control op, which runs in softirq. */
static int test_tcp_sleepable_refused(void)
{
	return ca_write_refused("ca_sleepable", EINVAL,
				"attach to unsupported member cong_avoid of struct tcp_congestion_ops");
}

/* init_member()'s rules for the two members it copies: flags and name. */
static int test_tcp_flags_and_name(void)
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
	struct ca c;

	if (!ASSERT(name_off > 0 && flags_off > 0, "no name or flags in the value"))
		return -1;
	if (!ASSERT_OK(ca_open(&c, "st_rules")))
		goto out;
	for (i = 0; i < ARRAY_SIZE(rules); i++) {
		char *name = (char *)c.value + name_off;
		const char *listed = rules[i].name ? rules[i].name : "aaaaaaaaaaaaaaaa";

		memset(name, 0, 16);
		memcpy(name, listed, strlen(listed));
		*(__u32 *)(c.value + flags_off) = rules[i].flags;
		if (rules[i].err) {
			if (!ASSERT_ERRNO(ca_register(&c), rules[i].err))
				goto out;
			if (!ASSERT(!*listed || !st_ca_available(listed), "case %u: %s registered",
				    i, listed))
				goto out;
			if (!ASSERT(ca_lookup(&c, v) == 0 && all_zero(v, tcp.value_size),
				    "case %u: map not back to INIT", i))
				goto out;
			continue;
		}
		if (!ASSERT_OK(ca_register(&c)))
			goto out;
		if (!ASSERT(st_ca_available(listed), "case %u: %s not registered", i, listed))
			goto out;
		/* The kernel's copy has the flags; non-restricted CAs are allowed to all. */
		if (!ASSERT(ca_lookup(&c, v) == 0 &&
			    *(__u32 *)(v + flags_off) == rules[i].flags &&
			    !strcmp((char *)v + name_off, listed),
			    "case %u: the kernel's value has other flags or name", i))
			goto out;
		if (!ASSERT(st_read_file("/proc/sys/net/ipv4/tcp_allowed_congestion_control",
					 allowed, sizeof(allowed)) >= 0, "no allowed CAs"))
			goto out;
		if (!ASSERT(!!strstr(allowed, listed) == !!(rules[i].flags & 1),
			    "case %u: %s is %sin tcp_allowed_congestion_control", i, listed,
			    rules[i].flags & 1 ? "not " : ""))
			goto out;
		if (!ASSERT_OK(ca_delete(&c)))
			goto out;
		/* A map is registered once: the next case needs a new one. */
		ca_close(&c);
		if (!ASSERT_OK(ca_open(&c, "st_rules")))
			goto out;
	}
	ca_close(&c);
	return 0;
out:
	ca_close(&c);
	return -1;
}

/*
 * A congestion control built against another layout of struct
 * tcp_congestion_ops than the kernel's BTF: a value of another size is
 * refused when its map is created (EINVAL); bytes in a member the kernel
 * does not take from userspace ("key", which TCP derives from the name)
 * are refused when it is updated (EINVAL), which leaves the map INIT and
 * nothing registered. The same value laid out as BTF says then registers.
 */
static int test_tcp_layout_refused(void)
{
	static const int delta[] = { -8, 8 };
	int key_off = st_member_off(&tcp, "key"), fd;
	unsigned char v[4096];
	unsigned int i;
	struct ca c;

	if (!ASSERT(key_off > 0, "no key in the value"))
		return -1;
	if (!ASSERT_OK(ca_open(&c, "st_layout")))
		goto out;
	for (i = 0; i < ARRAY_SIZE(delta); i++) {
		struct st_layout l = tcp;

		l.value_size += delta[i];
		fd = st_map_create(&l, bpf_object__btf_fd(c.skel->obj), 0);
		if (fd >= 0)
			close(fd);
		if (!ASSERT(fd < 0 && errno == EINVAL, "a value of %u bytes: want EINVAL, got %s",
			    l.value_size, fd < 0 ? strerror(errno) : "a map"))
			goto out;
	}
	*(__u32 *)(c.value + key_off) = 0x5a5a;
	if (!ASSERT_ERRNO(ca_register(&c), EINVAL))
		goto out;
	if (!ASSERT(!st_ca_available("st_layout"), "st_layout registered"))
		goto out;
	if (!ASSERT(ca_lookup(&c, v) == 0 && all_zero(v, tcp.value_size),
		    "map not back to INIT after a refused value"))
		goto out;
	*(__u32 *)(c.value + key_off) = 0;
	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	if (!ASSERT(st_ca_available("st_layout"), "st_layout not registered"))
		goto out;
	if (!ASSERT_OK(ca_delete(&c)))
		goto out;
	ca_close(&c);
	return 0;
out:
	ca_close(&c);
	return -1;
}

static int test_incomplete_ca_refused(void)
{
	struct ca_incomplete *s = NULL;
	struct bpf_link *link = NULL;
	unsigned char v[4096];
	__u32 key = 0;

	s = ca_incomplete__open_and_load();
	if (!ASSERT(s, "load ca_incomplete: %s", strerror(errno)))
		goto out;
	link = bpf_map__attach_struct_ops(s->maps.ca_incomplete);
	if (!ASSERT(!link && errno == EINVAL, "attach: want EINVAL, got %s",
		    link ? "success" : strerror(errno)))
		goto out;
	if (!ASSERT(!st_ca_available("st_incomplete"), "incomplete CA registered"))
		goto out;
	if (!ASSERT_OK(bpf_map_lookup_elem(bpf_map__fd(s->maps.ca_incomplete), &key, v)))
		goto out;
	if (!ASSERT(st_state(v) == ST_INIT && all_zero(v, tcp.value_size),
		    "refused map not back to INIT"))
		goto out;
	ca_incomplete__destroy(s);
	return 0;
out:
	bpf_link__destroy(link);
	ca_incomplete__destroy(s);
	return -1;
}

/* ---- lifetime ----------------------------------------------------------- */

static int test_closed_fds_keep_ca(void)
{
	struct st_tcp t = { .listen_fd = -1, .cli = -1, .srv = -1 };
	__u32 id, key = 0;
	char name[16];
	int fd = -1;
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_nofd")))
		goto out;
	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	id = st_map_id(c.map_fd);
	ca_close(&c);		/* every fd of the map and its progs */
	if (!ASSERT(st_ca_available("st_nofd"), "CA gone with the fds"))
		goto out;
	if (!ASSERT_OK(st_tcp_open(&t, "st_nofd")))
		goto out;
	if (!ASSERT_OK(st_sock_ca(t.cli, name)))
		goto out;
	if (!ASSERT(!strcmp(name, "st_nofd"), "socket uses %s", name))
		goto out;
	if (!ASSERT_OK(st_tcp_push(&t, MB)))
		goto out;
	st_tcp_close(&t);
	fd = bpf_map_get_fd_by_id(id);
	if (!ASSERT(fd >= 0, "registered map %u not found: %s", id, strerror(errno)))
		goto out;
	if (!ASSERT_OK(bpf_map_delete_elem(fd, &key)))
		goto out;
	if (!ASSERT(!st_ca_available("st_nofd"), "CA still listed after delete"))
		goto out;
	close(fd);
	if (!ASSERT(st_wait(st_map_gone(id), 3000),
		    "map %u still exists after unregister and close", id))
		goto out;
	return 0;
out:
	if (fd >= 0)
		close(fd);
	st_tcp_close(&t);
	ca_close(&c);
	return -1;
}

static int test_unregister_while_in_use(void)
{
	struct st_tcp t = { .listen_fd = -1, .cli = -1, .srv = -1 };
	unsigned char v[4096];
	__u64 before;
	__u32 id;
	int fd;
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_busy")))
		goto out;
	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	id = st_map_id(c.map_fd);
	if (!ASSERT_OK(st_tcp_open(&t, "st_busy")))
		goto out;
	if (!ASSERT_OK(st_tcp_push(&t, MB)))
		goto out;
	if (!ASSERT_OK(ca_delete(&c)))
		goto out;
	if (!ASSERT(!st_ca_available("st_busy"), "CA listed after delete"))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v)))
		goto out;
	if (!ASSERT(st_state(v) == ST_TOBEFREE, "state %u, want TOBEFREE", st_state(v)))
		goto out;
	/* The socket keeps running the unregistered CA's programs. */
	before = c.skel->bss->cnt_cong_avoid;
	if (!ASSERT_OK(st_tcp_push(&t, 2 * MB)))
		goto out;
	if (!ASSERT(c.skel->bss->cnt_cong_avoid > before, "CA stopped running on its socket"))
		goto out;
	if (!ASSERT_ERRNO(ca_register(&c), EBUSY))
		goto out;
	/* Closing the map fd: the socket still pins the map. */
	ca_close(&c);
	fd = bpf_map_get_fd_by_id(id);
	if (!ASSERT(fd >= 0, "map freed while a socket uses it"))
		goto out;
	close(fd);
	st_tcp_close(&t);
	if (!ASSERT(st_wait(st_map_gone(id), 3000),
		    "map %u still exists after its last socket closed", id))
		goto out;
	return 0;
out:
	st_tcp_close(&t);
	ca_close(&c);
	return -1;
}

/*
 * An op switches its own socket to another CA while it runs: init() calls
 * bpf_setsockopt(TCP_CONGESTION), as a CA falling back does. Here that
 * drops the last count of an unregistered CA whose fds are all closed, so
 * its map is freed while init() still runs in the map's trampoline (the
 * upstream fix: free the image only after an RCU tasks grace period).
 */
static int test_op_switches_ca(void)
{
	struct st_tcp t = { .listen_fd = -1, .cli = -1, .srv = -1 };
	union {
		struct ca_switch__bss v;
		unsigned char buf[256];
	} bss;
	struct bpf_link *link = NULL;
	int bss_fd = -1, fd;
	struct ca_switch *s;
	char name[16];
	__u32 id;

	s = ca_switch__open_and_load();
	if (!ASSERT(s, "load ca_switch: %s", strerror(errno)))
		goto out;
	link = bpf_map__attach_struct_ops(s->maps.ca_switch);
	if (!ASSERT(link, "register st_switch: %s", strerror(errno)))
		goto out;
	id = st_map_id(bpf_map__fd(s->maps.ca_switch));
	if (!ASSERT_OK(st_tcp_prepare(&t, "st_switch", NULL)))
		goto out;
	memcpy(s->bss->switch_to, "reno", sizeof("reno"));
	bss_fd = dup(bpf_map__fd(s->maps.bss));
	if (!ASSERT(bss_fd >= 0, "dup: %s", strerror(errno)))
		goto out;
	/* Unregistered, no fd left: only the unconnected socket holds the CA. */
	if (!ASSERT_OK(bpf_link__destroy(link)))
		goto out;
	link = NULL;
	if (!ASSERT(!st_ca_available("st_switch"), "CA listed after unregister"))
		goto out;
	ca_switch__destroy(s);
	s = NULL;
	fd = bpf_map_get_fd_by_id(id);
	if (!ASSERT(fd >= 0, "map %u freed while a socket holds its CA", id))
		goto out;
	close(fd);
	/* Connecting runs init(), which switches to reno. */
	if (!ASSERT_OK(st_tcp_connect(&t)))
		goto out;
	if (!ASSERT_OK(bpf_map_lookup_elem(bss_fd, &(__u32){0}, bss.buf)))
		goto out;
	if (!ASSERT(bss.v.switches == 1 && bss.v.switch_ret == 0,
		    "init() switched %llu times, bpf_setsockopt() returned %ld",
		    (unsigned long long)bss.v.switches, bss.v.switch_ret))
		goto out;
	if (!ASSERT(bss.v.state_after == 1 /* TCP_ESTABLISHED */,
		    "init() read state %u from its socket after switching", bss.v.state_after))
		goto out;
	if (!ASSERT_OK(st_sock_ca(t.cli, name)))
		goto out;
	if (!ASSERT(!strcmp(name, "reno"), "socket uses %s after the switch", name))
		goto out;
	if (!ASSERT(st_wait(st_map_gone(id), 3000), "map %u still exists after the switch", id))
		goto out;
	if (!ASSERT_OK(st_tcp_push(&t, MB)))
		goto out;
	st_tcp_close(&t);
	close(bss_fd);
	return 0;
out:
	st_tcp_close(&t);
	if (bss_fd >= 0)
		close(bss_fd);
	bpf_link__destroy(link);
	ca_switch__destroy(s);
	return -1;
}

static int test_refcnt_counts_sockets(void)
{
	struct st_tcp t[3];
	unsigned char v[4096];
	unsigned int i, n = 3;
	struct ca c;

	for (i = 0; i < n; i++) {
		t[i].listen_fd = -1;
		t[i].cli = -1;
		t[i].srv = -1;
	}
	if (!ASSERT_OK(ca_open(&c, "st_ref")))
		goto out;
	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	for (i = 0; i < n; i++) {
		if (!ASSERT_OK(st_tcp_open(&t[i], "st_ref")))
			goto out;
		if (!ASSERT_OK(ca_lookup(&c, v)))
			goto out;
		if (!ASSERT(st_refcnt(v) == 2 + i, "refcnt %u with %u sockets, want %u",
			    st_refcnt(v), i + 1, 2 + i))
			goto out;
	}
	for (i = 0; i < n; i++) {
		st_tcp_close(&t[i]);
		if (!ASSERT(st_wait(ca_lookup(&c, v) == 0 && st_refcnt(v) == n - i, 2000),
			    "refcnt %u after closing %u sockets, want %u",
			    st_refcnt(v), i + 1, n - i))
			goto out;
	}
	if (!ASSERT_OK(ca_delete(&c)))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v)))
		goto out;
	if (!ASSERT(st_refcnt(v) == 0, "refcnt %u after delete, want 0", st_refcnt(v)))
		goto out;
	ca_close(&c);
	return 0;
out:
	for (i = 0; i < n; i++)
		st_tcp_close(&t[i]);
	ca_close(&c);
	return -1;
}

/* ---- introspection ------------------------------------------------------ */

static int test_get_next_key(void)
{
	__u32 key = 0, next = 7;
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_next")))
		goto out;
	if (!ASSERT_OK(bpf_map_get_next_key(c.map_fd, NULL, &next)))
		goto out;
	if (!ASSERT(next == 0, "first key %u, want 0", next))
		goto out;
	key = 5;
	next = 7;
	if (!ASSERT_OK(bpf_map_get_next_key(c.map_fd, &key, &next)))
		goto out;
	if (!ASSERT(next == 0, "key after 5 is %u, want 0", next))
		goto out;
	key = 0;
	if (!ASSERT_ERRNO(bpf_map_get_next_key(c.map_fd, &key, &next), ENOENT))
		goto out;
	ca_close(&c);
	return 0;
out:
	ca_close(&c);
	return -1;
}

/* Lines of /proc/kallsyms naming exactly @sym. */
static int count_ksyms(const char *sym)
{
	char line[512], name[256];
	int n = 0;
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %255s", name) == 1 && !strcmp(name, sym))
			n++;
	fclose(f);
	return n;
}

static int test_trampoline_ksyms(void)
{
	const char *sym = "bpf__tcp_congestion_ops_cong_avoid";
	int before, n;
	__u32 id;
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_ksym")))
		goto out;
	before = count_ksyms(sym);
	if (!ASSERT(before >= 0, "read /proc/kallsyms: %s", strerror(errno)))
		goto out;
	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	n = count_ksyms(sym);
	if (!ASSERT(n == before + 1, "%d %s after register, want %d", n, sym, before + 1))
		goto out;
	id = st_map_id(c.map_fd);
	if (!ASSERT_OK(ca_delete(&c)))
		goto out;
	ca_close(&c);
	if (!ASSERT(st_wait(st_map_gone(id), 3000), "map %u not freed", id))
		goto out;
	n = count_ksyms(sym);
	if (!ASSERT(n == before, "%d %s after free, want %d", n, sym, before))
		goto out;
	return 0;
out:
	ca_close(&c);
	return -1;
}

/* Reads a bpffs file into @buf; returns its length or -1. */
static int read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = 0;
	return n;
}

static int test_pinned_map_shows_value(void)
{
	const char *pin = "/sys/fs/bpf/st_pin";
	static char buf[16384];
	struct ca c;

	unlink(pin);
	if (!ASSERT_OK(ca_open(&c, "st_pin")))
		goto out;
	if (!ASSERT_OK(bpf_obj_pin(c.map_fd, pin)))
		goto out;
	if (!ASSERT(read_file(pin, buf, sizeof(buf)) >= 0, "read %s: %s", pin, strerror(errno)))
		goto out;
	if (!ASSERT(strstr(buf, "BPF_STRUCT_OPS_STATE_INIT"), "INIT map shows: %.200s", buf))
		goto out;
	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	if (!ASSERT(read_file(pin, buf, sizeof(buf)) > 0, "read %s: %s", pin, strerror(errno)))
		goto out;
	if (!ASSERT(strstr(buf, "{{{{1,},},BPF_STRUCT_OPS_STATE_INUSE,}"),
		    "registered map shows: %.200s", buf))
		goto out;
	if (!ASSERT(strstr(buf, "['s','t','_','p','i','n',]"), "name missing: %.300s", buf))
		goto out;
	if (!ASSERT_OK(ca_delete(&c)))
		goto out;
	if (!ASSERT(read_file(pin, buf, sizeof(buf)) > 0, "read %s: %s", pin, strerror(errno)))
		goto out;
	if (!ASSERT(strstr(buf, "BPF_STRUCT_OPS_STATE_TOBEFREE"), "deleted map shows: %.200s", buf))
		goto out;
	unlink(pin);
	ca_close(&c);
	return 0;
out:
	unlink(pin);
	ca_close(&c);
	return -1;
}

/* ---- bpf_dummy_ops: trampolines for BPF_PROG_TEST_RUN --------------------- */

struct dummy_state {
	int val;
};

static int test_dummy_test_run(void)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct dummy_state state = { .val = 0xbeef };
	__u64 args[5] = { (unsigned long)&state };
	struct dummy_ops *s;
	int fd;

	opts.ctx_in = args;
	opts.ctx_size_in = sizeof(args[0]);
	s = dummy_ops__open_and_load();
	if (!ASSERT(s, "load dummy_ops: %s", strerror(errno)))
		goto out;
	fd = bpf_program__fd(s->progs.dummy_test_1);
	if (!ASSERT_OK(bpf_prog_test_run_opts(fd, &opts)))
		goto out;
	if (!ASSERT(opts.retval == 0xbeef, "test_1 returned %#x, want 0xbeef", opts.retval))
		goto out;
	if (!ASSERT(state.val == 0x5a, "state.val %#x after test_1, want 0x5a", state.val))
		goto out;
	/* NULL for the __nullable argument is allowed and reaches the prog. */
	args[0] = 0;
	if (!ASSERT_OK(bpf_prog_test_run_opts(fd, &opts)))
		goto out;
	if (!ASSERT(opts.retval == 0xf2f3f4f5, "test_1(NULL) returned %#x", opts.retval))
		goto out;
	/* test_2: every argument reaches the program through the trampoline. */
	args[0] = (unsigned long)&state;
	args[1] = (__u64)-100;
	args[2] = 0x8a5f;
	args[3] = 'c';
	args[4] = 0x1234567890abcdefULL;
	opts.ctx_size_in = sizeof(args);
	fd = bpf_program__fd(s->progs.dummy_test_2);
	if (!ASSERT_OK(bpf_prog_test_run_opts(fd, &opts)))
		goto out;
	if (!ASSERT(s->bss->test_2_args[0] != 0, "test_2 got a NULL state"))
		goto out;
	if (!ASSERT((__s64)s->bss->test_2_args[1] == -100, "a1 %lld",
		    (__s64)s->bss->test_2_args[1]))
		goto out;
	if (!ASSERT(s->bss->test_2_args[2] == 0x8a5f, "a2 %#llx", s->bss->test_2_args[2]))
		goto out;
	if (!ASSERT(s->bss->test_2_args[3] == 'c', "a3 %#llx", s->bss->test_2_args[3]))
		goto out;
	if (!ASSERT(s->bss->test_2_args[4] == 0x1234567890abcdefULL, "a4 %#llx",
		    s->bss->test_2_args[4]))
		goto out;
	dummy_ops__destroy(s);
	return 0;
out:
	dummy_ops__destroy(s);
	return -1;
}

static int test_dummy_nullable_enforced(void)
{
	struct dummy_unchecked *s;

	s = dummy_unchecked__open_and_load();
	if (!ASSERT(!s, "a program dereferencing a __nullable argument unchecked was loaded"))
		goto out;
	return 0;
out:
	dummy_unchecked__destroy(s);
	return -1;
}

/* bpf_dummy_ops' init_member() refuses: the update fails and leaves the map INIT. */
static int test_init_member_failure_rolls_back(void)
{
	struct bpf_link *link = NULL;
	unsigned char v[4096];
	struct dummy_ops *s;
	__u32 key = 0;
	int i;

	s = dummy_ops__open_and_load();
	if (!ASSERT(s, "load dummy_ops: %s", strerror(errno)))
		goto out;
	for (i = 0; i < 2; i++) {
		link = bpf_map__attach_struct_ops(s->maps.dummy_1);
		if (!ASSERT(!link && errno == EOPNOTSUPP, "attempt %d: want EOPNOTSUPP, got %s",
			    i, link ? "success" : strerror(errno)))
			goto out;
		if (!ASSERT_OK(bpf_map_lookup_elem(bpf_map__fd(s->maps.dummy_1), &key, v)))
			goto out;
		if (!ASSERT(all_zero(v, bpf_map__value_size(s->maps.dummy_1)),
			    "map not back to INIT after init_member() refused"))
			goto out;
	}
	dummy_ops__destroy(s);
	return 0;
out:
	bpf_link__destroy(link);
	dummy_ops__destroy(s);
	return -1;
}

/*
 * Sockets take and drop the CA in a loop while it is deleted: every get
 * either succeeds before the registration's count is dropped or fails and
 * falls back, no count is lost or leaked, and the map goes once they stop.
 */
static int test_refcnt_race_with_delete(void)
{
	unsigned char v[4096];
	pid_t child = -1;
	int status, i;
	__u32 id;
	struct ca c;

	if (!ASSERT_OK(ca_open(&c, "st_race")))
		goto out;
	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	id = st_map_id(c.map_fd);
	child = fork();
	if (!ASSERT(child >= 0, "fork: %s", strerror(errno)))
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
	if (!ASSERT_OK(ca_delete(&c)))
		goto out;
	if (!ASSERT(waitpid(child, &status, 0) == child && WIFEXITED(status), "child failed"))
		goto out;
	child = -1;
	if (!ASSERT_OK(ca_lookup(&c, v)))
		goto out;
	if (!ASSERT(st_state(v) == ST_TOBEFREE, "state %u, want TOBEFREE", st_state(v)))
		goto out;
	if (!ASSERT(st_refcnt(v) == 0 || !st_impl_is_rust(),
		    "refcnt %u with no user left, want 0", st_refcnt(v)))
		goto out;
	ca_close(&c);
	if (!ASSERT(st_wait(st_map_gone(id), 3000), "map %u not freed after the race", id))
		goto out;
	return 0;
out:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
	}
	ca_close(&c);
	return -1;
}

/* ---- links (BPF_F_LINK maps) --------------------------------------------- */

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

static int test_link_lifecycle(void)
{
	struct st_tcp t = { .listen_fd = -1, .cli = -1, .srv = -1 };
	struct pollfd pfd;
	unsigned char v[4096];
	int lfd = -1;
	__u32 id;
	struct ca c;

	if (!ASSERT_OK(ca_open_flags(&c, "st_link", BPF_F_LINK)))
		goto out;
	id = st_map_id(c.map_fd);
	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v)))
		goto out;
	if (!ASSERT(st_state(v) == ST_READY, "state %u after update, want READY", st_state(v)))
		goto out;
	if (!ASSERT(!st_ca_available("st_link"), "READY map registered without a link"))
		goto out;
	if (!ASSERT_ERRNO(ca_delete(&c), EOPNOTSUPP))
		goto out;
	if (!ASSERT_ERRNO(ca_register(&c), EBUSY))
		goto out;

	lfd = link_create(c.map_fd);
	if (!ASSERT(lfd >= 0, "link_create: %s", strerror(errno)))
		goto out;
	if (!ASSERT(st_ca_available("st_link"), "CA not registered by its link"))
		goto out;
	if (!ASSERT(link_map_id(lfd) == id, "link info map_id %u, want %u", link_map_id(lfd), id))
		goto out;
	if (!ASSERT(fdinfo_map_id(lfd) == id, "fdinfo map_id %u, want %u", fdinfo_map_id(lfd), id))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v)))
		goto out;
	if (!ASSERT(st_state(v) == ST_READY, "state %u with a link, want READY", st_state(v)))
		goto out;
	if (!ASSERT(st_refcnt(v) == 1 || !st_impl_is_rust(), "refcnt %u with a link, want 1",
		    st_refcnt(v)))
		goto out;
	if (!ASSERT_OK(st_tcp_open(&t, "st_link")))
		goto out;
	if (!ASSERT_OK(ca_lookup(&c, v)))
		goto out;
	if (!ASSERT(st_refcnt(v) == 2 || !st_impl_is_rust(),
		    "refcnt %u with a link and a connection, want 2", st_refcnt(v)))
		goto out;

	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	if (!ASSERT(poll(&pfd, 1, 0) == 0, "attached link polls ready (%#x)", pfd.revents))
		goto out;
	if (!ASSERT_OK(bpf_link_detach(lfd)))
		goto out;
	if (!ASSERT(!st_ca_available("st_link"), "CA still listed after detach"))
		goto out;
	if (!ASSERT(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP), "no POLLHUP after detach"))
		goto out;
	if (!ASSERT(link_map_id(lfd) == 0, "detached link still shows map %u", link_map_id(lfd)))
		goto out;
	if (!ASSERT_OK(bpf_link_detach(lfd)))	/* twice is fine */
		goto out;
	/* The connection keeps its CA: the map stays until it closes. */
	if (!ASSERT_OK(st_tcp_push(&t, MB)))
		goto out;
	close(lfd);
	lfd = -1;
	ca_close(&c);
	if (!ASSERT(!st_map_gone(id), "map %u freed under a connection", id))
		goto out;
	st_tcp_close(&t);
	if (!ASSERT(st_wait(st_map_gone(id), 3000), "map %u not freed", id))
		goto out;
	return 0;
out:
	if (lfd >= 0)
		close(lfd);
	st_tcp_close(&t);
	ca_close(&c);
	return -1;
}

static int test_link_errors(void)
{
	int lfd = -1, dup_fd = -1;
	struct ca c, plain, dup;

	plain.skel = NULL;
	dup.skel = NULL;
	if (!ASSERT_OK(ca_open_flags(&c, "st_lerr", BPF_F_LINK)))
		goto out;
	if (!ASSERT_ERRNO(link_create(c.map_fd), EINVAL))	/* INIT, not READY */
		goto out;
	if (!ASSERT_OK(ca_open(&plain, "st_lplain")))
		goto out;
	if (!ASSERT_OK(ca_register(&plain)))
		goto out;
	if (!ASSERT_ERRNO(link_create(plain.map_fd), EINVAL))	/* no BPF_F_LINK */
		goto out;

	/* reg() refuses (the name is taken): no link is left behind, and the
	 * READY map links fine once the name is free.
	 */
	if (!ASSERT_OK(ca_open_flags(&dup, "st_lplain", BPF_F_LINK)))
		goto out;
	if (!ASSERT_OK(ca_register(&dup)))
		goto out;
	if (!ASSERT_ERRNO(link_create(dup.map_fd), EEXIST))
		goto out;
	if (!ASSERT_OK(ca_delete(&plain)))
		goto out;
	dup_fd = link_create(dup.map_fd);
	if (!ASSERT(dup_fd >= 0, "link_create after the name was freed: %s", strerror(errno)))
		goto out;
	if (!ASSERT(st_ca_available("st_lplain"), "CA not registered by its link"))
		goto out;

	if (!ASSERT_OK(ca_register(&c)))
		goto out;
	lfd = link_create(c.map_fd);
	if (!ASSERT(lfd >= 0, "link_create: %s", strerror(errno)))
		goto out;
	if (!ASSERT_ERRNO(bpf_link_update(lfd, plain.map_fd, NULL), EINVAL))	/* not a link map */
		goto out;
	if (!ASSERT_OK(bpf_link_detach(lfd)))
		goto out;
	if (!ASSERT_ERRNO(bpf_link_update(lfd, c.map_fd, NULL), ENOLINK))
		goto out;
	close(lfd);
	close(dup_fd);
	ca_close(&dup);
	ca_close(&plain);
	ca_close(&c);
	return 0;
out:
	if (lfd >= 0)
		close(lfd);
	if (dup_fd >= 0)
		close(dup_fd);
	ca_close(&dup);
	ca_close(&plain);
	ca_close(&c);
	return -1;
}

static int test_link_update(void)
{
	LIBBPF_OPTS(bpf_link_update_opts, opts);
	struct st_tcp t1 = { .listen_fd = -1, .cli = -1, .srv = -1 };
	struct st_tcp t2 = { .listen_fd = -1, .cli = -1, .srv = -1 };
	unsigned char v[4096];
	__u64 a_inits, b_inits;
	int lfd = -1;
	struct ca a, b;

	b.skel = NULL;
	if (!ASSERT_OK(ca_open_flags(&a, "st_lupd", BPF_F_LINK)))
		goto out;
	if (!ASSERT_OK(ca_open_flags(&b, "st_lupd", BPF_F_LINK)))
		goto out;
	if (!ASSERT_OK(ca_register(&a)))
		goto out;
	if (!ASSERT_OK(ca_register(&b)))
		goto out;
	lfd = link_create(a.map_fd);
	if (!ASSERT(lfd >= 0, "link_create: %s", strerror(errno)))
		goto out;
	if (!ASSERT_OK(st_tcp_open(&t1, "st_lupd")))
		goto out;
	a_inits = a.skel->bss->cnt_init;
	if (!ASSERT(a_inits > 0, "first connection did not run map a's init"))
		goto out;

	/* BPF_F_REPLACE with the wrong old map. */
	opts.flags = BPF_F_REPLACE;
	opts.old_map_fd = b.map_fd;
	if (!ASSERT_ERRNO(bpf_link_update(lfd, b.map_fd, &opts), EPERM))
		goto out;
	opts.old_map_fd = a.map_fd;
	if (!ASSERT_OK(bpf_link_update(lfd, b.map_fd, &opts)))
		goto out;
	if (!ASSERT(link_map_id(lfd) == st_map_id(b.map_fd), "link shows map %u after update",
		    link_map_id(lfd)))
		goto out;
	if (!ASSERT(st_ca_available("st_lupd"), "CA gone during update"))
		goto out;

	if (!ASSERT_OK(st_tcp_open(&t2, "st_lupd")))
		goto out;
	b_inits = b.skel->bss->cnt_init;
	if (!ASSERT(b_inits > 0, "new connection did not get map b"))
		goto out;
	if (!ASSERT(a.skel->bss->cnt_init == a_inits, "new connection ran map a's init"))
		goto out;
	/* The old connection keeps map a. */
	if (!ASSERT_OK(st_tcp_push(&t1, MB)))
		goto out;
	if (!ASSERT_OK(ca_lookup(&a, v)))
		goto out;
	if (!ASSERT(st_refcnt(v) == 1 || !st_impl_is_rust(),
		    "map a refcnt %u with one connection left, want 1", st_refcnt(v)))
		goto out;
	if (!ASSERT_OK(ca_lookup(&b, v)))
		goto out;
	if (!ASSERT(st_refcnt(v) == 2 || !st_impl_is_rust(),
		    "map b refcnt %u with the link and a connection, want 2", st_refcnt(v)))
		goto out;
	if (!ASSERT_OK(bpf_link_detach(lfd)))
		goto out;
	close(lfd);
	lfd = -1;
	st_tcp_close(&t1);
	st_tcp_close(&t2);
	if (!ASSERT(st_wait(ca_lookup(&a, v) == 0 && st_refcnt(v) == 0, 3000) || !st_impl_is_rust(),
		    "map a refcnt %u after everything closed", st_refcnt(v)))
		goto out;
	ca_close(&a);
	ca_close(&b);
	return 0;
out:
	if (lfd >= 0)
		close(lfd);
	st_tcp_close(&t1);
	st_tcp_close(&t2);
	ca_close(&a);
	ca_close(&b);
	return -1;
}

/* ---- module struct_ops (bpf_testmod) ------------------------------------- */

#define TESTMOD "/opt/st/conformance/bpf_testmod.ko"

static int rmmod_testmod(void)
{
	return syscall(__NR_delete_module, "bpf_testmod", O_NONBLOCK);
}

/* The id of bpf_testmod's BTF object, 0 if there is none. */
static __u32 testmod_btf_id(void)
{
	struct bpf_btf_info info = {};
	__u32 len = sizeof(info);
	int fd = st_btf_fd_by_name("bpf_testmod");

	if (fd < 0)
		return 0;
	if (bpf_btf_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/*
 * A map whose value type is a module's (BPF_F_VTYPE_BTF_OBJ_FD): it reports
 * the module's BTF object, pins the module while it exists, and lets it go
 * when it is freed.
 */
static int test_module_struct_ops(void)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), btf_id;
	struct testmod_ops *s = NULL;
	int map_fd = -1;

	if (access("/sys/module/bpf_testmod", F_OK)) {
		if (!ASSERT(system("insmod " TESTMOD) == 0, "insmod %s failed", TESTMOD))
			goto out;
	}
	btf_id = testmod_btf_id();
	if (!ASSERT(btf_id, "no BTF object for bpf_testmod"))
		goto out;
	s = testmod_ops__open_and_load();
	if (!ASSERT(s, "load testmod_ops: %s", strerror(errno)))
		goto out;
	map_fd = dup(bpf_map__fd(s->maps.testmod_1));
	if (!ASSERT(map_fd >= 0, "dup: %s", strerror(errno)))
		goto out;
	if (!ASSERT_OK(bpf_map_get_info_by_fd(map_fd, &info, &len)))
		goto out;
	if (!ASSERT(info.btf_vmlinux_id == btf_id, "value BTF object %u, want bpf_testmod's %u",
		    info.btf_vmlinux_id, btf_id))
		goto out;
	testmod_ops__destroy(s);
	s = NULL;
	if (!ASSERT(rmmod_testmod() < 0 && errno == EWOULDBLOCK,
		    "bpf_testmod unloaded under a map of its type (%s)", strerror(errno)))
		goto out;
	close(map_fd);
	map_fd = -1;
	if (!ASSERT(st_wait(rmmod_testmod() == 0, 3000),
		    "bpf_testmod still pinned after its map went: %s", strerror(errno)))
		goto out;
	return 0;
out:
	if (map_fd >= 0)
		close(map_fd);
	testmod_ops__destroy(s);
	return -1;
}

/* ---- a struct_ops type defined in Rust (st_rust_testmod) ---------------- */

/*
 * st_rust with only its struct_ops map @map created, so that only that
 * map's programs load: the skeleton, or NULL and errno.
 */
static struct st_rust *rust_open(const char *map)
{
	struct st_rust *s;
	int err;

	if (st_rust_testmod_load()) {
		errno = ENOENT;
		return NULL;
	}
	s = st_rust__open();
	if (!s)
		return NULL;
	st_only_struct_ops_map(s->obj, map);
	err = st_rust__load(s);
	if (err) {
		st_rust__destroy(s);
		errno = -err;
		return NULL;
	}
	return s;
}

/*
 * Rust calls op @op (ST_RUST_*) of the registered st_rust_ops with @arg: 0
 * and what it returned in *ret, or -1 and errno.
 */
static int rust_call(int op, int arg, long long *ret)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d %d", op, arg);
	if (st_write_file("/sys/kernel/debug/st_rust_testmod/call", buf))
		return -1;
	*ret = st_rust_testmod_get("ret");
	return 0;
}

/*
 * Op @op, whose Rust declaration BTF accepts but whose kCFI type differs
 * from the member's stub (@what): refused with EINVAL on a kCFI kernel,
 * else it runs and returns @want. Returns whether that held.
 */
static bool rust_call_kcfi_refused(int op, int arg, long long want, const char *what)
{
	long long ret = 0;

	if (st_kcfi())
		return ASSERT(rust_call(op, arg, &ret) && errno == EINVAL,
			      "%s: want EINVAL under kCFI, got %s", what, strerror(errno));
	return ASSERT(!rust_call(op, arg, &ret) && ret == want,
		      "%s (no kCFI): %s, returned %lld, want %lld", what, strerror(errno),
		      ret, want);
}

static int rmmod_rust_testmod(void)
{
	return syscall(__NR_delete_module, "st_rust_testmod", O_NONBLOCK);
}

/*
 * Rust calls each op of a registered map through kernel::bpf's Op, which
 * checked its declaration against BTF: integers, an enum and pointers (const
 * ones too) as they were given, NULL for a __nullable argument, a sleepable
 * op, a void one. The ops Rust declares wrongly (an argument of another
 * size; pointers given as nullable whose stub parameter is not __nullable)
 * are refused with EINVAL without running; under kCFI, so are those whose
 * kCFI type differs (a mirror struct, *mut for const, u32 for an enum).
 * Once the link goes, nothing is registered, and when the map is freed the
 * module (which the map pinned) unloads: the type's count of the map
 * (ARef<Held>) was put.
 */
static int test_rust_type_calls(void)
{
	static const struct {
		int op, arg;
		long long want;
	} calls[] = {
		{ ST_RUST_TEST_1, 41, 42 },
		{ ST_RUST_TEST_2, 5, 5 + 10 + 5 },
		{ ST_RUST_NULLABLE_NULL, 0, -100 },
		{ ST_RUST_NULLABLE, 7, 107 },
		{ ST_RUST_SLEEP, 4, 12 },
		{ ST_RUST_TEST_1, -1, 0 },
	};
	struct bpf_link *link = NULL;
	struct st_rust *s;
	long long ret = 0;
	unsigned int i;

	s = rust_open("st_rust");
	if (!ASSERT(s, "load st_rust: %s", strerror(errno)))
		goto out;
	if (!ASSERT(rust_call(ST_RUST_TEST_1, 1, &ret) && errno == ENODEV,
		    "a call with nothing registered: want ENODEV, got %s", strerror(errno)))
		goto out;
	link = bpf_map__attach_struct_ops(s->maps.st_rust);
	if (!ASSERT(link, "register st_rust: %s", strerror(errno)))
		goto out;
	if (!ASSERT(st_rust_testmod_get("registered") == 1, "registered: %lld, want 1",
		    st_rust_testmod_get("registered")))
		goto out;
	for (i = 0; i < ARRAY_SIZE(calls); i++) {
		if (!ASSERT(!rust_call(calls[i].op, calls[i].arg, &ret),
			    "call %u (op %d): %s", i, calls[i].op, strerror(errno)))
			goto out;
		if (!ASSERT(ret == calls[i].want, "call %u (op %d, %d) returned %lld, want %lld",
			    i, calls[i].op, calls[i].arg, ret, calls[i].want))
			goto out;
	}
	if (!ASSERT(!rust_call(ST_RUST_VOID, 9, &ret) && s->bss->void_arg == 9,
		    "test_void: %s, the program saw %d, want 9", strerror(errno),
		    s->bss->void_arg))
		goto out;
	if (!ASSERT(rust_call(ST_RUST_MISTYPED, 1, &ret) && errno == EINVAL,
		    "a call of a mistyped op: want EINVAL, got %s", strerror(errno)))
		goto out;
	if (!ASSERT(rust_call(ST_RUST_NOT_NULLABLE, 1, &ret) && errno == EINVAL,
		    "NULL for an argument not __nullable: want EINVAL, got %s", strerror(errno)))
		goto out;
	/* Refused for good, not only the first time. */
	if (!ASSERT(rust_call(ST_RUST_MISTYPED, 1, &ret) && errno == EINVAL,
		    "a mistyped op, again: want EINVAL, got %s", strerror(errno)))
		goto out;
	/*
	 * The pointee mirrored under another name: BTF agrees, kCFI's type id
	 * does not. Refused under kCFI (before the first call compared the
	 * hashes, it trapped); without kCFI the call runs.
	 */
	if (!rust_call_kcfi_refused(ST_RUST_MIRROR, 3, 12, "test_2 through the mirror"))
		goto out;
	/* A const pointee, declared const: runs everywhere. */
	if (!ASSERT(!rust_call(ST_RUST_CONST, 2, &ret) && ret == 24,
		    "test_const: %s, returned %lld, want 24", strerror(errno), ret))
		goto out;
	/* Declared with a *mut: kCFI's type id differs, as for the mirror. */
	if (!rust_call_kcfi_refused(ST_RUST_CONST_AS_MUT, 2, 24, "test_const declared *mut"))
		goto out;
	/* NULL for the const pointee, whose stub argument is __nullable. */
	if (!ASSERT(!rust_call(ST_RUST_CONST_NULL, 0, &ret) && ret == -10,
		    "test_const(NULL): %s, returned %lld, want -10", strerror(errno), ret))
		goto out;
	/* Nullable const where the stub's argument is not __nullable. */
	if (!ASSERT(rust_call(ST_RUST_2_CONST_NULLABLE, 1, &ret) && errno == EINVAL,
		    "NULL for a const argument not __nullable: want EINVAL, got %s",
		    strerror(errno)))
		goto out;
	/* An enum, as bindgen's newtype that carries its kCFI encoding. */
	if (!ASSERT(!rust_call(ST_RUST_ENUM, 2 /* BPF_WRITE */, &ret) && ret == 200,
		    "test_enum(BPF_WRITE): %s, returned %lld, want 200", strerror(errno), ret))
		goto out;
	/* The enum declared as an integer: BTF agrees, kCFI's type id does not. */
	if (!rust_call_kcfi_refused(ST_RUST_ENUM_AS_U32, 1, 101, "test_enum declared u32"))
		goto out;
	if (!ASSERT_OK(st_rust_testmod_set("call_loop", 1000)))
		goto out;
	bpf_link__destroy(link);
	link = NULL;
	if (!ASSERT(st_rust_testmod_get("registered") == 0, "registered after unlink: %lld",
		    st_rust_testmod_get("registered")))
		goto out;
	if (!ASSERT(rust_call(ST_RUST_TEST_1, 1, &ret) && errno == ENODEV,
		    "a call after unlink: want ENODEV, got %s", strerror(errno)))
		goto out;
	st_rust__destroy(s);
	s = NULL;
	if (!ASSERT(st_wait(rmmod_rust_testmod() == 0, 3000),
		    "st_rust_testmod still pinned after its maps went: %s", strerror(errno)))
		goto out;
	return 0;
out:
	bpf_link__destroy(link);
	st_rust__destroy(s);
	return -1;
}

/* Rust's calls of the ops a map leaves NULL find nothing to call: ENOENT. */
static int test_rust_type_unimplemented(void)
{
	struct bpf_link *link = NULL;
	struct st_rust *s;
	long long ret = 0;

	s = rust_open("st_rust_partial");
	if (!ASSERT(s, "load st_rust_partial: %s", strerror(errno)))
		goto out;
	link = bpf_map__attach_struct_ops(s->maps.st_rust_partial);
	if (!ASSERT(link, "register st_rust_partial: %s", strerror(errno)))
		goto out;
	if (!ASSERT(!rust_call(ST_RUST_TEST_1, 2, &ret) && ret == 3,
		    "test_1(2): %s, returned %lld", strerror(errno), ret))
		goto out;
	if (!ASSERT(rust_call(ST_RUST_TEST_2, 2, &ret) && errno == ENOENT,
		    "test_2, not implemented: want ENOENT, got %s", strerror(errno)))
		goto out;
	if (!ASSERT(rust_call(ST_RUST_VOID, 2, &ret) && errno == ENOENT,
		    "test_void, not implemented: want ENOENT, got %s", strerror(errno)))
		goto out;
	bpf_link__destroy(link);
	st_rust__destroy(s);
	return 0;
out:
	bpf_link__destroy(link);
	st_rust__destroy(s);
	return -1;
}

/*
 * The type's rules for programs: one dereferencing test_nullable's argument
 * (__nullable in the stub) unchecked does not load; nor a sleepable program
 * for test_1, which the type does not declare sleepable (test_sleep, which
 * it does, loads in rust_type_calls).
 */
static int test_rust_type_programs_refused(void)
{
	struct st_rust *s;

	s = rust_open("st_rust_unchecked_map");
	if (!ASSERT(!s && errno == EACCES,
		    "an unchecked __nullable argument: want EACCES, got %s",
		    s ? "loaded" : strerror(errno)))
		goto out;
	s = rust_open("st_rust_sleep_wrong");
	if (!ASSERT(!s && errno == EINVAL, "a sleepable test_1: want EINVAL, got %s",
		    s ? "loaded" : strerror(errno)))
		goto out;
	return 0;
out:
	st_rust__destroy(s);
	return -1;
}

/*
 * st_rust_bad, whose Rust struct is larger than the C struct BTF describes,
 * is refused when it registers (its init), with 7.3's warning, word for
 * word (pr_warn() without a prefix), and nothing is left of it: a map of
 * its value type, which BTF has, gets the errno of a type that is not there.
 */
static int test_rust_type_layout_refused(void)
{
	struct st_layout l = {};
	int btf_fd = -1, fd = -1;

	if (!ASSERT_OK(st_rust_testmod_load()))
		goto out;
	if (!ASSERT(st_rust_testmod_get("bad_err") == -EINVAL,
		    "registering st_rust_bad returned %lld, want %d",
		    st_rust_testmod_get("bad_err"), -EINVAL))
		goto out;
	if (!ASSERT(st_kmsg_has(4, "Error in init bpf_struct_ops st_rust_bad"),
		    "no kernel warning \"Error in init bpf_struct_ops st_rust_bad\""))
		goto out;
	btf_fd = st_btf_fd_by_name("st_rust_testmod");
	if (!ASSERT(btf_fd >= 0, "no BTF object for st_rust_testmod"))
		goto out;
	if (!ASSERT_OK(st_layout_get_mod("st_rust_bad", "st_rust_testmod", &l)))
		goto out;
	{
		LIBBPF_OPTS(bpf_map_create_opts, o,
			    .btf_vmlinux_value_type_id = l.value_type_id,
			    .value_type_btf_obj_fd = btf_fd,
			    .map_flags = BPF_F_VTYPE_BTF_OBJ_FD);

		fd = bpf_map_create(BPF_MAP_TYPE_STRUCT_OPS, "st_bad", 4, l.value_size, 1, &o);
	}
	if (!ASSERT(fd < 0 && errno == ENOTSUPP, "a map of st_rust_bad: want ENOTSUPP, got %s",
		    fd < 0 ? strerror(errno) : "a map"))
		goto out;
	close(btf_fd);
	return 0;
out:
	if (fd >= 0)
		close(fd);
	if (btf_fd >= 0)
		close(btf_fd);
	return -1;
}

/* ---- many struct_ops types in one module (st_testmod) -------------------- */

/* st_testmod's types that "call_type" calls, and many_types' maps of them. */
static const struct {
	int type;		/* its index, ST_T_* in st_testmod.h */
	const char *name;	/* the type, the map and its program name_op0 */
} many_tab[] = {
	{ ST_T_OPS1, "st_ops1" },
	{ ST_T_OPS3, "st_ops3" },
	{ ST_T_OPS10, "st_ops10" },
	{ ST_T_OPS40, "st_ops40" },
	{ ST_T_MANY5, "st_many5" },
	{ ST_T_MANY6, "st_many6" },
	{ ST_T_MANY7, "st_many7" },
	{ ST_T_MANY8, "st_many8" },
	{ ST_T_MANY9, "st_many9" },
};

#define N_MANY ARRAY_SIZE(many_tab)

/*
 * st_testmod calls op0 of its first registered map of type @type with @arg
 * ("TYPE ARG" to its "call_type"): 0 and what op0 returned in *ret, or -1
 * and errno (ENOENT: no map of that type is registered).
 */
static int many_call(int type, int arg, long long *ret)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d %d", type, arg);
	if (st_write_file("/sys/kernel/debug/st_testmod/call_type", buf))
		return -1;
	*ret = st_testmod_get("call_ret");
	return 0;
}

/*
 * A module with ten struct_ops types. Linux 7.3 keeps the descriptors of a
 * BTF's struct_ops types in a table of 4 that it grows with krealloc(), to 8
 * and 16, which does not zero, and sets only .st_ops of the new entry before
 * bpf_struct_ops_desc_init(): a desc init that reads anything else of its
 * entry sees stale memory from the module's 5th type on. Each of
 * st_testmod's types 1 to 9 (all but st_sleep_ops, slot 0) registers its
 * map of many_types, shows it INUSE with its program in op0, and st_testmod
 * calls op0, which must return ST_MANY_RET(type, arg); then all nine, still
 * registered, are called again, and each unregisters. At the end the maps
 * and programs let go of the module.
 */
static int test_many_types(void)
{
	struct bpf_link *links[N_MANY] = {};
	struct many_types *s = NULL;
	struct st_layout mod = {}, l;
	unsigned char v[4096];
	int refcnt, arg, fd;
	long long base, ret = 0;
	unsigned int i, j;
	__u32 zero = 0;

	if (!ASSERT_OK(st_testmod_load()))
		goto out;
	refcnt = st_module_refcnt("st_testmod");
	base = st_testmod_get("registered");
	if (!ASSERT(refcnt >= 0 && base >= 0, "st_testmod: refcnt %d, registered %lld",
		    refcnt, base))
		goto out;
	if (!ASSERT(st_layout_get_mod("st_ops1", "st_testmod", &mod) == 0,
		    "no bpf_struct_ops_st_ops1 in st_testmod's BTF"))
		goto out;
	s = many_types__open_and_load();
	if (!ASSERT(s, "load many_types: %s", strerror(errno)))
		goto out;

	for (i = 0; i < N_MANY; i++) {
		const char *name = many_tab[i].name;
		int t = many_tab[i].type;
		struct bpf_program *prog;
		struct bpf_map *map;
		char pname[32];
		__u32 prog_id;

		arg = 17 * t - 50;
		if (!ASSERT_ERRNO(many_call(t, arg, &ret), ENOENT))
			goto out;
		map = bpf_object__find_map_by_name(s->obj, name);
		snprintf(pname, sizeof(pname), "%s_op0", name);
		prog = bpf_object__find_program_by_name(s->obj, pname);
		if (!ASSERT(map && prog, "no map %s or program %s in many_types", name, pname))
			goto out;
		if (!ASSERT(st_layout_find(mod.btf, name, &l) == 0,
			    "no bpf_struct_ops_%s in st_testmod's BTF", name))
			goto out;
		if (!ASSERT(bpf_map__value_size(map) == l.value_size && l.value_size <= sizeof(v),
			    "%s: value size %u, BTF says %u", name, bpf_map__value_size(map),
			    l.value_size))
			goto out;
		prog_id = st_prog_id(bpf_program__fd(prog));
		if (!ASSERT(prog_id, "%s: no id: %s", pname, strerror(errno)))
			goto out;

		links[i] = bpf_map__attach_struct_ops(map);
		if (!ASSERT(links[i], "register %s (type %d): %s", name, t, strerror(errno)))
			goto out;
		if (!ASSERT(st_testmod_get("registered") == base + i + 1,
			    "%s registered: st_testmod counts %lld registered maps, want %lld",
			    name, st_testmod_get("registered"), base + i + 1))
			goto out;
		fd = bpf_map__fd(map);
		if (!ASSERT_OK(bpf_map_lookup_elem(fd, &zero, v)))
			goto out;
		if (!ASSERT(st_state(v) == ST_INUSE, "%s: state %u, want INUSE", name, st_state(v)))
			goto out;
		if (!ASSERT(st_refcnt(v) == 1, "%s: refcnt %u, want 1 (the registration)", name,
			    st_refcnt(v)))
			goto out;
		if (!ASSERT(all_zero(v + 8, l.data_off - 8),
			    "%s: non-zero bytes before the ops", name))
			goto out;
		if (!ASSERT(*(__u64 *)(v + l.data_off) == prog_id,
			    "%s: op0 holds %llu, want prog id %u",
			    name, (unsigned long long)*(__u64 *)(v + l.data_off), prog_id))
			goto out;
		if (!ASSERT(all_zero(v + l.data_off + 8, l.value_size - l.data_off - 8),
			    "%s: non-zero bytes after op0, which is its only op set", name))
			goto out;

		if (!ASSERT(many_call(t, arg, &ret) == 0, "%s: st_testmod's call of op0: %s", name,
			    strerror(errno)))
			goto out;
		if (!ASSERT(ret == ST_MANY_RET(t, arg), "%s: op0(%d) returned %lld, want %d",
			    name, arg, ret, ST_MANY_RET(t, arg)))
			goto out;
	}

	/* All nine registered at once: each call reaches its own type's map. */
	for (i = 0; i < N_MANY; i++) {
		int t = many_tab[i].type;

		arg = -7 * t;
		if (!ASSERT(many_call(t, arg, &ret) == 0, "%s: st_testmod's call of op0: %s",
			    many_tab[i].name, strerror(errno)))
			goto out;
		if (!ASSERT(ret == ST_MANY_RET(t, arg),
			    "%s, all registered: op0(%d) returned %lld, want %d",
			    many_tab[i].name, arg, ret, ST_MANY_RET(t, arg)))
			goto out;
	}

	for (i = 0; i < N_MANY; i++) {
		const char *name = many_tab[i].name;
		struct bpf_link *link = links[i];
		int t = many_tab[i].type;

		links[i] = NULL;
		if (!ASSERT(bpf_link__destroy(link) == 0, "unregister %s: %s", name,
			    strerror(errno)))
			goto out;
		if (!ASSERT(st_testmod_get("registered") == base + N_MANY - i - 1,
			    "%s unregistered: st_testmod counts %lld registered maps, want %lld",
			    name, st_testmod_get("registered"),
			    base + (long long)(N_MANY - i - 1)))
			goto out;
		if (!ASSERT_ERRNO(many_call(t, 1, &ret), ENOENT))
			goto out;
		fd = bpf_map__fd(bpf_object__find_map_by_name(s->obj, name));
		if (!ASSERT_OK(bpf_map_lookup_elem(fd, &zero, v)))
			goto out;
		if (!ASSERT(st_state(v) == ST_TOBEFREE,
			    "%s: state %u after unregister, want TOBEFREE", name, st_state(v)))
			goto out;
		/* The types still registered are still called. */
		for (j = i + 1; j < N_MANY; j++) {
			t = many_tab[j].type;
			if (!ASSERT(many_call(t, 3, &ret) == 0 && ret == ST_MANY_RET(t, 3),
				    "%s unregistered: %s's op0(3) returned %lld, want %d (%s)",
				    name, many_tab[j].name, ret, ST_MANY_RET(t, 3),
				    strerror(errno)))
				goto out;
		}
	}
	if (!ASSERT(st_testmod_get("registered") == base,
		    "st_testmod counts %lld registered maps, want %lld",
		    st_testmod_get("registered"), base))
		goto out;

	many_types__destroy(s);
	s = NULL;
	if (!ASSERT(st_wait(st_module_refcnt("st_testmod") == refcnt, 10000),
		    "st_testmod has %d references, %d before: a map or program of it was not freed",
		    st_module_refcnt("st_testmod"), refcnt))
		goto out;
	btf__free(mod.btf);
	return 0;
out:
	for (i = 0; i < N_MANY; i++)
		bpf_link__destroy(links[i]);
	many_types__destroy(s);
	btf__free(mod.btf);
	return -1;
}

/* st_testmod's "state" bits (st_testmod/st_testmod.c). */
enum { SLEEP_ENTERED = 1, SLEEP_RETURNED = 2, SLEEP_INTACT = 4, SLEEP_PARKED = 8 };

static int sleep_state(void)
{
	long long v = st_testmod_get("state");

	return v < 0 ? 0 : (int)v;
}

/*
 * Run alone, on a kCFI kernel (make test CFI=1, harness/cfi-check.sh):
 * st_testmod calls a registered st_ops3's op0, int (*)(int), a BPF
 * trampoline, first through its own type, which must work (cfi.right_type),
 * then through a long (*)(long, long) pointer ("call_mistyped"). Under kCFI
 * the second call traps at its check and never returns: the host finds
 * the report in the console log. Should it return, kCFI did not stop it,
 * and the test fails.
 */
static int test_cfi_mistyped_call(void)
{
	struct bpf_link *link = NULL;
	struct many_types *s;
	struct bpf_map *map;
	long long ret = 0;

	if (!ASSERT_OK(st_testmod_load()))
		return -1;
	s = many_types__open_and_load();
	if (!ASSERT(s, "load many_types: %s", strerror(errno)))
		return -1;
	map = bpf_object__find_map_by_name(s->obj, "st_ops3");
	if (!ASSERT(map, "no map st_ops3 in many_types"))
		goto out;
	link = bpf_map__attach_struct_ops(map);
	if (!ASSERT(link, "register st_ops3: %s", strerror(errno)))
		goto out;
	if (many_call(ST_T_OPS3, 41, &ret) || ret != ST_MANY_RET(ST_T_OPS3, 41))
		printf("not ok cfi.right_type - op0 through its own type: %s, returned %lld\n",
		       strerror(errno), ret);
	else
		printf("ok cfi.right_type\n");
	st_write_file("/dev/kmsg", "st_test: op0 through a mistyped pointer");
	if (st_write_file("/sys/kernel/debug/st_testmod/call_mistyped", "41"))
		ASSERT(0, "call_mistyped: %s", strerror(errno));
	else
		ASSERT(0, "the mistyped call returned %lld", st_testmod_get("call_ret"));
out:
	bpf_link__destroy(link);
	many_types__destroy(s);
	return -1;
}

/*
 * A sleepable op still running while its map is unregistered and released:
 * freeing the map must wait for the program (RCU tasks trace) and then for
 * the trampoline's tail (RCU tasks) before the trampoline goes. st_testmod
 * calls the op without pinning the map; the program blocks in a kfunc until
 * released. Linux 7.3's C code frees the trampoline under it: st_testmod
 * then parks the op rather than return into freed text, and this fails.
 */
static int test_sleepable_release(void)
{
	struct bpf_link *link = NULL;
	struct st_sleep *s = NULL;
	int base, status, intact;
	pid_t child = -1;
	__u32 id;

	if (!ASSERT_OK(st_testmod_load()))
		goto out;
	base = st_module_refcnt("st_testmod");
	if (!ASSERT(st_testmod_set("state", 0) == 0,
		    "an earlier op is still in st_testmod (parked: its trampoline was freed)"))
		goto out;
	s = st_sleep__open_and_load();
	if (!ASSERT(s, "load st_sleep: %s", strerror(errno)))
		goto out;
	link = bpf_map__attach_struct_ops(s->maps.sleeper);
	if (!ASSERT(link, "register st_sleep_ops: %s", strerror(errno)))
		goto out;
	id = st_map_id(bpf_map__fd(s->maps.sleeper));
	child = fork();
	if (!ASSERT(child >= 0, "fork: %s", strerror(errno)))
		goto out;
	if (child == 0) {
		/* Without the map's and programs' fds: they would keep them. */
		syscall(SYS_close_range, 3, ~0U, 0);
		_exit(st_testmod_set("sleep", 41) ? 1 : 0);
	}
	if (!ASSERT(st_wait(sleep_state() & SLEEP_ENTERED, 5000), "the sleepable op did not run"))
		goto out;

	/* Unregister, then close the last fd: the map is released. */
	bpf_link__destroy(link);
	link = NULL;
	st_sleep__destroy(s);
	s = NULL;
	if (!ASSERT(st_wait(st_map_gone(id), 5000), "map %u outlived its last fd", id))
		goto out;
	/* 7.3 frees the trampoline within this time (two grace periods). */
	intact = !st_wait(!(sleep_state() & SLEEP_INTACT), 3000);
	if (!ASSERT_OK(st_testmod_set("release", 1)))
		goto out;
	if (!intact) {
		if (!ASSERT(st_wait(sleep_state() & SLEEP_PARKED, 3000),
			    "the op neither returned nor parked"))
			goto out;
		child = -1;	/* parked for good: do not wait for it */
		ASSERT(0,
		       "the trampoline was freed while its sleepable program still ran in it (the op is parked in st_testmod instead of returning into freed text)");
		goto out;
	}
	if (!ASSERT(st_wait(waitpid(child, &status, WNOHANG) == child, 5000),
		    "the op did not return"))
		goto out;
	child = -1;
	if (!ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "calling the op failed"))
		goto out;
	if (!ASSERT(st_testmod_get("sleep_ret") == 42, "the op returned %lld, want 42",
		    st_testmod_get("sleep_ret")))
		goto out;
	/* Now the map's free goes on, and lets go of the module and the programs. */
	if (!ASSERT(st_wait(st_module_refcnt("st_testmod") == base, 5000),
		    "st_testmod still has %d references, %d before: the map was not freed",
		    st_module_refcnt("st_testmod"), base))
		goto out;
	return 0;
out:
	if (child > 0) {
		st_testmod_set("release", 1);
		st_wait(waitpid(child, &status, WNOHANG) == child, 3000);
	}
	bpf_link__destroy(link);
	st_sleep__destroy(s);
	return -1;
}

/*
 * Tests marked last run only with --last, after everything else in the
 * guest: on a kernel that fails them they leave something behind. Those
 * marked alone run only when named in full, as the only test of a boot.
 */
#define T(fn) { #fn, test_##fn, ST_RUN_ALL }
#define T_LAST(fn) { #fn, test_##fn, ST_RUN_LAST }
#define T_ALONE(fn) { #fn, test_##fn, ST_RUN_ALONE }
static const struct {
	const char *name;
	int (*fn)(void);
	enum {
		ST_RUN_ALL,	/* in every run */
		ST_RUN_LAST,	/* only with --last */
		ST_RUN_ALONE,	/* only when named in full */
	} when;
} tests[] = {
	T(lookup_before_update),
	T(register_lookup_unregister),
	T(libbpf_attach_detach),
	T(tcp_runs_bpf_ca),
	T(default_ca_sysctl),
	T(bad_key),
	T(bad_flags),
	T(second_update),
	T(delete_before_update),
	T(nonzero_common),
	T(bad_prog_fd),
	T(nonfunc_member),
	T(duplicate_name),
	T(incomplete_ca_refused),
	T(tcp_writes_refused),
	T(tcp_getsockopt_release),
	T(tcp_sleepable_refused),
	T(tcp_flags_and_name),
	T(tcp_layout_refused),
	T(closed_fds_keep_ca),
	T(unregister_while_in_use),
	T(refcnt_counts_sockets),
	T(op_switches_ca),
	T(refcnt_race_with_delete),
	T(get_next_key),
	T(trampoline_ksyms),
	T(pinned_map_shows_value),
	T(dummy_test_run),
	T(dummy_nullable_enforced),
	T(init_member_failure_rolls_back),
	T(link_lifecycle),
	T(link_errors),
	T(link_update),
	T(module_struct_ops),
	T(many_types),
	T(rust_type_calls),
	T(rust_type_unimplemented),
	T(rust_type_programs_refused),
	T(rust_type_layout_refused),
	/* On a kernel that fails it, an op stays parked in st_testmod for good. */
	T_LAST(sleepable_release),
	/* On a kCFI kernel it oopses, on purpose. */
	T_ALONE(cfi_mistyped_call),
};

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN && getenv("ST_VERBOSE") ? vfprintf(stderr, fmt, ap) : 0;
}

/*
 * usage: st_test [--last] [NAME]: all tests, or those whose name has NAME
 * (a test marked alone: whose name is NAME)
 */
int main(int argc, char **argv)
{
	unsigned int i, failed = 0;
	const char *only = NULL;
	bool last = false;

	libbpf_set_print(quiet_print);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (st_layout_get("tcp_congestion_ops", &tcp)) {
		printf("not ok st.setup - no bpf_struct_ops_tcp_congestion_ops in vmlinux BTF\n");
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "--last")) {
		last = true;
		argc--, argv++;
	}
	if (argc > 1)
		only = argv[1];
	for (i = 0; i < ARRAY_SIZE(tests); i++) {
		if (tests[i].when == ST_RUN_ALONE ? !only || strcmp(tests[i].name, only) :
		    only ? !strstr(tests[i].name, only) :
		    tests[i].when != (last ? ST_RUN_LAST : ST_RUN_ALL))
			continue;
		st_msg[0] = 0;
		if (tests[i].fn()) {
			printf("not ok st.%s - %s\n", tests[i].name, st_msg);
			failed++;
		} else {
			printf("ok st.%s\n", tests[i].name);
		}
	}
	return failed ? 1 : 0;
}
