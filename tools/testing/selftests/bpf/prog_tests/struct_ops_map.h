/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the struct_ops map tests (struct_ops_map_*.c) share: a TCP congestion
 * control made of ca_count's programs, loaded, registered, looked up and
 * deleted through the map, and the assertion of a refused call's errno.
 */
#ifndef STRUCT_OPS_MAP_H
#define STRUCT_OPS_MAP_H

#include <test_progs.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <bpf/btf.h>
#include "struct_ops_map_helpers.h"
#include "ca_count.skel.h"

/* @expr fails with errno @want: a bpf(2) wrapper's -@want, or -1 and @want. */
#define ASSERT_ERRNO(expr, want, name) ({				\
	const char *___n = (name);					\
	int ___r = (expr);						\
	int ___e = errno;						\
	ASSERT_LT(___r, 0, ___n) && ASSERT_EQ(___e, want, ___n);	\
})

#define MB (1024 * 1024)
/* Layout of bpf_struct_ops_tcp_congestion_ops, from struct_ops_map_setup(). */
static struct st_layout tcp __maybe_unused;

/*
 * Reads the TCP value's layout into tcp, once: each test that uses it calls
 * this first (ca_open_flags() does too).
 */
static inline bool struct_ops_map_setup(void)
{
	return tcp.value_size || ASSERT_OK(st_layout_get("tcp_congestion_ops", &tcp),
				    "bpf_struct_ops_tcp_congestion_ops in vmlinux BTF");
}

/* A loaded ca_count object plus a value for it, ready for BPF_MAP_UPDATE_ELEM. */
struct ca {
	struct ca_count *skel;
	int map_fd;
	char name[16];
	unsigned char value[4096];
};

static const struct {
	const char *member;
	int which;
} ca_slots[] __maybe_unused = {
	{ "init", 0 }, { "release", 1 }, { "ssthresh", 2 }, { "cong_avoid", 3 },
	{ "set_state", 4 }, { "cwnd_event", 5 }, { "undo_cwnd", 6 },
	{ "cwnd_event_tx_start", 7 },
};

static inline struct bpf_program *ca_prog(struct ca_count *s, int which)
{
	struct bpf_program *p[] = {
		s->progs.ca_init, s->progs.ca_release, s->progs.ca_ssthresh,
		s->progs.ca_cong_avoid, s->progs.ca_set_state,
		s->progs.ca_cwnd_event, s->progs.ca_undo_cwnd,
		s->progs.ca_cwnd_event_tx_start,
	};
	return p[which];
}

static inline int ca_slot(int which)
{
	return st_member_off(&tcp, ca_slots[which].member);
}

/* Loads ca_count under a fresh name with map flags @flags (BPF_F_LINK);
 * fills c->value with its prog fds.
 */
static inline int ca_open_flags(struct ca *c, const char *name, __u32 flags)
{
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->map_fd = -1;
	if (!struct_ops_map_setup())
		return -1;
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

static inline int ca_open(struct ca *c, const char *name)
{
	return ca_open_flags(c, name, 0);
}

static inline int ca_register(struct ca *c)
{
	__u32 key = 0;

	return bpf_map_update_elem(c->map_fd, &key, c->value, 0);
}

static inline int ca_lookup(struct ca *c, void *value)
{
	__u32 key = 0;

	memset(value, 0xa5, tcp.value_size);
	return bpf_map_lookup_elem(c->map_fd, &key, value);
}

static inline int ca_delete(struct ca *c)
{
	__u32 key = 0;

	return bpf_map_delete_elem(c->map_fd, &key);
}

static inline void ca_close(struct ca *c)
{
	ca_count__destroy(c->skel);
	c->skel = NULL;
	c->map_fd = -1;
}

static inline bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

#endif
