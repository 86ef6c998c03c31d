// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input to the struct_ops map, through the raw bpf(2) syscall, the
 * same on both implementations (the stock C one says what is right):
 *  - hostile.map_create: a table of malformed BPF_MAP_CREATE attrs, each
 *    with the errno 7.3 returns;
 *  - hostile.unprivileged: without capabilities, map create, prog load
 *    and map get fd by id fail with EPERM, while a map fd handed over
 *    still registers (as on 7.3: the fd is the permission);
 *  - hostile.map_ops: map commands a struct_ops map refuses (freeze,
 *    lookup-and-delete, batch lookup, a key other than 0, a bad value
 *    pointer), on an INIT and on an INUSE map;
 *  - hostile.owner: a non-NULL module owner is refused with EINVAL;
 *  - hostile.link_same_map: a link updated to the map it holds succeeds
 *    and changes nothing (7.3 corrupts TCP's list of CAs);
 *  - hostile.random: a seeded generator of malformed updates of a TCP CA
 *    value (bytes anywhere, fds of every wrong kind in func ptr slots, wrong
 *    keys and flags, bad names). Every request must fail with an errno of
 *    the expected set or register a CA that works, and the sequence of
 *    results, hashed, must equal the one the C implementation gives
 *    (RANDOM_DIGEST, recorded on the C kernel: rerun with "record" after
 *    changing the generator). Nothing may be left afterwards.
 *  - hostile.random_link: the same for links: rounds of random link
 *    creates (any fd, junk in the fields struct_ops ignores or past the
 *    command's), link updates (any new and expected old map, any flags),
 *    detaches, closes and map commands on link maps. The results and what
 *    each link then holds, hashed, must equal C's (LINK_DIGEST).
 * Output: "ok NAME - ..." or "not ok NAME - why", one line per test.
 *
 * usage: st_hostile [record|trace]	(trace: every random request's errno)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "struct_ops_map_helpers.h"
#include "ca_count.skel.h"
#include "st_ca.h"
#include "st_ktap.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524	/* the kernel's, not in userspace errno.h */
#endif

/* hostile.random: its seed, length and the C implementation's digest. */
#define RANDOM_SEED	0x5eedc0ffee123457ULL
#define RANDOM_ITERS	1500
#define RANDOM_DIGEST	0xbf6dde21e26d27e2ULL
/* hostile.random_link: the same for link create, update and detach. */
#define LINK_SEED	0x11c0ffee5eed0001ULL
#define LINK_ITERS	250
#define LINK_DIGEST	0x7d5af0ca7699b3ULL
/* Their result lines, with the number of requests and of each errno. */
#define RANDOM_OK_FMT "%d requests, as C: %d registered, EINVAL %d (%d of them a positive return), E2BIG %d, EBADF %d, EEXIST %d"
#define LINK_OK_FMT "%d rounds, as C: %d requests succeeded, EINVAL %d, EBADF %d, EEXIST %d, ENOLINK %d, EPERM %d, EOPNOTSUPP %d, EBUSY %d, ENOENT %d"

static struct st_layout tcp;
static struct ca_count *skel;
static int btf_fd;
static unsigned char good[4096];	/* a value that registers "sth_ok" */
static const char * const members[] = { "init", "release", "ssthresh", "cong_avoid",
					"set_state", "cwnd_event", "undo_cwnd" };
#define NMEMBERS ARRAY_SIZE(members)

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int map_create(const union bpf_attr *a)
{
	union bpf_attr attr = *a;

	return sys_bpf(BPF_MAP_CREATE, &attr);
}

static void good_create_attr(union bpf_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->map_type = BPF_MAP_TYPE_STRUCT_OPS;
	a->key_size = 4;
	a->value_size = tcp.value_size;
	a->max_entries = 1;
	a->btf_fd = btf_fd;
	a->btf_vmlinux_value_type_id = tcp.value_type_id;
}

static int update(int fd, __u32 key, const void *value, __u64 flags)
{
	union bpf_attr a = {
		.map_fd = fd,
		.key = (unsigned long)&key,
		.value = (unsigned long)value,
		.flags = flags,
	};

	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

/* A registered map (@name) is INUSE, carries a socket and unregisters. */
static bool in_use(int fd, const char *name)
{
	unsigned char v[4096];
	struct st_tcp t;
	char used[16];
	bool ok;

	if (bpf_map_lookup_elem(fd, &(__u32){0}, v) || st_state(v) != ST_INUSE)
		return false;
	ok = !st_tcp_open(&t, name) && !st_sock_ca(t.cli, used) && !strcmp(used, name);
	if (!ok)
		return false;
	st_tcp_close(&t);
	return !bpf_map_delete_elem(fd, &(__u32){0});
}

/* A fresh map registers as @name and works: the kernel is still usable. */
static bool registers(int fd, const char *name)
{
	unsigned char v[4096];

	st_ca_count_value(skel, &tcp, v, name);
	return !update(fd, 0, v, 0) && in_use(fd, name);
}

static int fresh_map(void)
{
	union bpf_attr a;

	good_create_attr(&a);
	return map_create(&a);
}

/* ---- hostile.map_create ------------------------------------------------ */

struct create_case {
	const char *what;
	void (*bend)(union bpf_attr *a);
	int err;
};

static void key8(union bpf_attr *a)
{
	a->key_size = 8;
}

static void key0(union bpf_attr *a)
{
	a->key_size = 0;
}

static void value_short(union bpf_attr *a)
{
	a->value_size -= 1;
}

static void value_long(union bpf_attr *a)
{
	a->value_size += 8;
}

static void entries0(union bpf_attr *a)
{
	a->max_entries = 0;
}

static void entries2(union bpf_attr *a)
{
	a->max_entries = 2;
}

static void flag_noprealloc(union bpf_attr *a)
{
	a->map_flags = BPF_F_NO_PREALLOC;
}

static void flag_rdonly(union bpf_attr *a)
{
	a->map_flags = BPF_F_RDONLY;
}

static void flag_mmapable(union bpf_attr *a)
{
	a->map_flags = BPF_F_MMAPABLE;
}

static void flag_unknown(union bpf_attr *a)
{
	a->map_flags = 1U << 30;
}

static void no_type_id(union bpf_attr *a)
{
	a->btf_vmlinux_value_type_id = 0;
}

static void ops_type_id(union bpf_attr *a)
{
	a->btf_vmlinux_value_type_id = tcp.ops_type_id;
}

static void type_id_1(union bpf_attr *a)
{
	a->btf_vmlinux_value_type_id = 1;
}

static void type_id_huge(union bpf_attr *a)
{
	a->btf_vmlinux_value_type_id = 0x7fffffff;
}

static void key_type(union bpf_attr *a)
{
	a->btf_key_type_id = 1;
}

static void value_type(union bpf_attr *a)
{
	a->btf_value_type_id = 1;
}

static void no_btf(union bpf_attr *a)
{
	a->btf_fd = 0;
}

static void btf_closed(union bpf_attr *a)
{
	a->btf_fd = 999;
}

static void map_extra(union bpf_attr *a)
{
	a->map_extra = 1;
}

static void vtype_fd_bad(union bpf_attr *a)
{
	a->map_flags = BPF_F_VTYPE_BTF_OBJ_FD;
	a->value_type_btf_obj_fd = 999;
}

static void vtype_fd_not_btf(union bpf_attr *a)
{
	a->map_flags = BPF_F_VTYPE_BTF_OBJ_FD;
	a->value_type_btf_obj_fd = 0;
}

static const struct create_case create_cases[] = {
	{ "key_size 8", key8, EINVAL },
	{ "key_size 0", key0, EINVAL },
	{ "value_size one short", value_short, EINVAL },
	{ "value_size 8 long", value_long, EINVAL },
	{ "max_entries 0", entries0, EINVAL },
	{ "max_entries 2", entries2, EINVAL },
	{ "BPF_F_NO_PREALLOC", flag_noprealloc, EINVAL },
	{ "BPF_F_RDONLY", flag_rdonly, EINVAL },
	{ "BPF_F_MMAPABLE", flag_mmapable, EINVAL },
	{ "unknown flag", flag_unknown, EINVAL },
	{ "no btf_vmlinux_value_type_id", no_type_id, EINVAL },
	{ "the ops struct as value type", ops_type_id, ENOTSUPP },
	{ "type id 1", type_id_1, ENOTSUPP },
	{ "type id past the end", type_id_huge, ENOTSUPP },
	{ "btf_key_type_id", key_type, EINVAL },
	{ "btf_value_type_id", value_type, EINVAL },
	{ "btf_fd 0 (not BTF)", no_btf, EINVAL },
	{ "btf_fd closed", btf_closed, EBADF },
	{ "map_extra", map_extra, EINVAL },
	{ "value_type_btf_obj_fd closed", vtype_fd_bad, EBADF },
	{ "value_type_btf_obj_fd 0 (not BTF)", vtype_fd_not_btf, EINVAL },
};

static void test_map_create(void)
{
	unsigned int i, n = ARRAY_SIZE(create_cases);

	for (i = 0; i < n; i++) {
		union bpf_attr a;
		int fd, err;

		good_create_attr(&a);
		create_cases[i].bend(&a);
		fd = map_create(&a);
		err = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		if (err != create_cases[i].err) {
			st_result(false, "hostile.map_create", "%s: want %s, got %s",
				  create_cases[i].what, strerror(create_cases[i].err),
				  err ? strerror(err) : "success");
			return;
		}
	}
	st_result(true, "hostile.map_create", "%u malformed creates refused", n);
}

/* ---- hostile.unprivileged ---------------------------------------------- */

static int drop_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	return syscall(__NR_capset, &h, d);
}

/*
 * In a child without capabilities: 0 if what needs CAP_BPF got EPERM and
 * the map fd it inherited still works, as on 7.3 (the fd is the
 * permission: update and delete take no capability).
 */
static int unprivileged_child(int map_fd)
{
	union bpf_attr a;
	unsigned char v[4096];
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (drop_caps())
		return 10;
	good_create_attr(&a);
	if (map_create(&a) >= 0 || errno != EPERM)
		return 1;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_STRUCT_OPS;
	if (sys_bpf(BPF_PROG_LOAD, &a) >= 0 || errno != EPERM)
		return 2;
	if (bpf_map_get_info_by_fd(map_fd, &info, &len) ||
	    bpf_map_get_fd_by_id(info.id) >= 0 || errno != EPERM)
		return 3;
	st_ca_count_value(skel, &tcp, v, "sth_unpriv");
	if (update(map_fd, 0, v, 0))
		return 4;
	return 0;
}

static void test_unprivileged(void)
{
	int fd = fresh_map(), st = -1;
	const char *why = NULL;
	pid_t pid;

	if (fd < 0) {
		why = "setup";
		goto out;
	}
	pid = fork();
	if (pid == 0)
		_exit(unprivileged_child(fd));
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
		why = "fork";
		goto out;
	}
	switch (WEXITSTATUS(st)) {
	case 0:
		break;
	case 1:
		why = "map create not EPERM";
		break;
	case 2:
		why = "prog load not EPERM";
		break;
	case 3:
		why = "map get fd by id not EPERM";
		break;
	case 4:
		why = "update through the inherited fd";
		break;
	default:
		why = "capset failed";
		break;
	}
	if (!why && !in_use(fd, "sth_unpriv"))
		why = "the map the child registered is not in use";
out:
	if (why)
		st_result(false, "hostile.unprivileged", "%s", why);
	else
		st_result(true, "hostile.unprivileged",
			  "map create, prog load, get fd by id: EPERM");
	if (fd >= 0) {
		bpf_map_delete_elem(fd, &(__u32){0});
		close(fd);
	}
}

/* ---- hostile.map_ops --------------------------------------------------- */

static int do_freeze(int fd)
{
	return bpf_map_freeze(fd);
}

static int lookup_key1(int fd)
{
	unsigned char v[4096];

	return bpf_map_lookup_elem(fd, &(__u32){1}, v);
}

static int lookup_and_delete(int fd)
{
	unsigned char v[4096];

	return bpf_map_lookup_and_delete_elem(fd, &(__u32){0}, v);
}

static int update_bad_value_ptr(int fd)
{
	return update(fd, 0, (void *)8, 0);
}

static int lookup_batch(int fd)
{
	unsigned char keys[8], vals[8192];
	__u32 count = 1;

	return bpf_map_lookup_batch(fd, NULL, keys, keys, vals, &count, NULL);
}

static const struct {
	const char *what;
	int (*op)(int fd);
	int err;
} map_op_cases[] = {
	{ "BPF_MAP_FREEZE", do_freeze, ENOTSUPP },
	{ "lookup of key 1", lookup_key1, ENOENT },
	{ "BPF_MAP_LOOKUP_AND_DELETE_ELEM", lookup_and_delete, ENOTSUPP },
	{ "update from a bad value pointer", update_bad_value_ptr, EFAULT },
	{ "BPF_MAP_LOOKUP_BATCH", lookup_batch, ENOTSUPP },
};

/* Map commands a struct_ops map refuses, before and after registration. */
static void test_map_ops(void)
{
	unsigned int i, n = ARRAY_SIZE(map_op_cases);
	int fd = fresh_map(), pass, r, err;
	unsigned char v[4096];
	char why[160] = "";

	st_ca_count_value(skel, &tcp, v, "sth_ops");
	for (pass = 0; pass < 2 && fd >= 0 && !why[0]; pass++) {
		if (pass && update(fd, 0, v, 0)) {
			snprintf(why, sizeof(why), "register: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n && !why[0]; i++) {
			errno = 0;
			r = map_op_cases[i].op(fd);
			err = r < 0 ? errno : 0;
			if (err != map_op_cases[i].err)
				snprintf(why, sizeof(why), "%s %s: want %s, got %d (%s)",
					 map_op_cases[i].what, pass ? "when INUSE" : "when INIT",
					 strerror(map_op_cases[i].err), r, strerror(err));
		}
	}
	if (fd < 0)
		snprintf(why, sizeof(why), "map create: %s", strerror(errno));
	else if (!why[0] && !in_use(fd, "sth_ops"))
		snprintf(why, sizeof(why), "the map is not usable afterwards");
	if (why[0])
		st_result(false, "hostile.map_ops", "%s", why);
	else
		st_result(true, "hostile.map_ops",
			  "%u refused commands, before and after registration", n);
	if (fd >= 0) {
		bpf_map_delete_elem(fd, &(__u32){0});
		close(fd);
	}
}

/* ---- hostile.owner ----------------------------------------------------- */

/*
 * A non-NULL module owner in the value: EINVAL, nothing registered. 7.3
 * jumps to its error path with err still holding the last init_member()
 * result, so the update returns 1, neither success nor an errno.
 */
static void test_owner(void)
{
	int fd = fresh_map(), r;
	unsigned char v[4096];

	st_ca_count_value(skel, &tcp, v, "sth_owner");
	*(__u64 *)(v + st_member_off(&tcp, "owner")) = 1;
	errno = 0;
	r = fd < 0 ? -1 : update(fd, 0, v, 0);
	if (r != -1 || errno != EINVAL)
		st_result(false, "hostile.owner", "update returned %d (%s), want -1 (EINVAL)", r,
			  strerror(errno));
	else if (!registers(fd, "sth_owner"))
		st_result(false, "hostile.owner", "the map is not usable afterwards");
	else
		st_result(true, "hostile.owner", "a non-NULL owner: EINVAL");
	if (fd >= 0)
		close(fd);
}

/* ---- hostile.random ---------------------------------------------------- */

static __u64 rng = RANDOM_SEED;

static __u32 rnd(__u32 n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (__u32)(rng >> 32) % n : 0;
}

/* A program of the wrong type: a socket filter returning 0. */
static int socket_filter_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", insns, 2, NULL);
}

/* Errnos a malformed link request (or a map command on a link map) may give. */
static bool expected_link_errno(int e)
{
	return e == EINVAL || e == EBADF || e == EEXIST || e == ENOLINK || e == EPERM ||
	       e == EOPNOTSUPP || e == EBUSY || e == ENOTSUPP || e == E2BIG || e == ENOENT ||
	       e == EINPROGRESS;
}

/* Errnos a malformed update may give; anything else is a failure. */
static bool expected_errno(int e)
{
	return e == EINVAL || e == E2BIG || e == EBADF || e == EEXIST ||
	       e == ENOTSUPP || e == ENOENT || e == EBUSY;
}

static void test_random(bool record, bool trace)
{
	static const __u64 bad_flags[] = { BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK, 1 << 10 };
	int filter, sock, closed = 900, i, fd = -1;
	int counts[1024] = {}, ok = 0, positive = 0;
	__u64 digest = 0xcbf29ce484222325ULL;
	const char *why = NULL;
	char detail[128] = "";

	filter = socket_filter_prog();
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (filter < 0 || sock < 0) {
		st_result(false, "hostile.random", "setup: %s", strerror(errno));
		return;
	}
	for (i = 0; i < RANDOM_ITERS; i++) {
		unsigned char v[4096];
		__u32 key = 0, n = 1 + rnd(3), j;
		__u64 flags = 0;
		int err, r;

		fd = fresh_map();
		if (fd < 0) {
			why = "map create";
			break;
		}
		st_ca_count_value(skel, &tcp, v, "sth_rand");
		for (j = 0; j < n; j++) {
			int pool[] = { fd, filter, sock, closed, -1, 0, btf_fd,
				       bpf_program__fd(skel->progs.ca_init) };
			__u32 off = st_member_off(&tcp, members[rnd(NMEMBERS)]);
			char *name = (char *)v + st_member_off(&tcp, "name");

			switch (rnd(6)) {
			case 0:		/* a byte anywhere */
				v[rnd(tcp.value_size)] = 1 + rnd(255);
				break;
			case 1:		/* a func ptr slot gets a wrong fd */
				*(__u64 *)(v + off) = (__u32)pool[rnd(ARRAY_SIZE(pool))];
				break;
			case 2:		/* a key other than 0 */
				key = rnd(2) ? 1 : 0xffffffff;
				break;
			case 3:		/* update flags */
				flags = bad_flags[rnd(ARRAY_SIZE(bad_flags))];
				break;
			case 4:		/* a bad name */
				switch (rnd(3)) {
				case 0:
					memset(name, 0, 16);
					break;
				case 1:
					memcpy(name, "cubic", sizeof("cubic"));
					break;
				default:
					name[rnd(15)] = (char)(0x80 | rnd(128));
					break;
				}
				break;
			default:	/* the high half of a slot */
				*(__u32 *)(v + off + 4) = 1 + rnd(0xffff);
				break;
			}
		}
		errno = 0;
		r = update(fd, key, v, flags);
		err = r < 0 ? errno : 0;
		if (r > 0) {
			/* 7.3's answer to a non-NULL owner: hostile.owner */
			positive++;
			err = EINVAL;
		} else if (!r) {
			unsigned char got[4096];

			ok++;
			if (bpf_map_lookup_elem(fd, &(__u32){0}, got) ||
			    st_state(got) != ST_INUSE) {
				why = "a successful update is not INUSE";
				break;
			}
			if (bpf_map_delete_elem(fd, &(__u32){0})) {
				why = "delete after a successful update";
				break;
			}
		} else if (!expected_errno(err)) {
			snprintf(detail, sizeof(detail), " (request %d)", i);
			why = strerror(err);
			break;
		}
		counts[err < 1024 ? err : 0]++;
		if (trace) {
			__u32 b;

			printf("request %d: %d key %u flags %llu changed", i, err, key,
			       (unsigned long long)flags);
			for (b = 0; b < tcp.value_size; b++)
				if (v[b] != good[b])
					printf(" %u:%02x", b, v[b]);
			printf("\n");
		}
		digest = (digest ^ (__u64)err) * 0x100000001b3ULL;
		close(fd);
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	close(filter);
	close(sock);
	if (!why) {
		int m = fresh_map();

		if (m < 0 || !registers(m, "sth_ok"))
			why = "a good value does not register afterwards";
		if (m >= 0)
			close(m);
	}
	if (why) {
		st_result(false, "hostile.random", "%s%s", why, detail);
		return;
	}
	if (record) {
		printf("digest 0x%llxULL\n", (unsigned long long)digest);
	} else if (digest != RANDOM_DIGEST) {
		st_result(false, "hostile.random", "digest 0x%llx differs from C's 0x%llx",
			  (unsigned long long)digest, (unsigned long long)RANDOM_DIGEST);
		return;
	}
	st_result(true, "hostile.random", RANDOM_OK_FMT, RANDOM_ITERS, ok, counts[EINVAL], positive,
		  counts[E2BIG], counts[EBADF], counts[EEXIST]);
}

/* ---- hostile.random_link ----------------------------------------------- */

/*
 * A map of the generator's pool; @name is the CA a READY or INUSE one
 * holds. The pool: two READY BPF_F_LINK maps with different names, a
 * third with the first one's name, an INIT link map, an INIT and an INUSE
 * map without BPF_F_LINK, then fds that are no struct_ops map at all.
 */
enum {
	LM_A, LM_B, LM_A2, LM_INIT, LM_PLAIN, LM_PLAIN_REG, LM_ARRAY, LM_FILTER,
	LM_CLOSED, LM_NEG, LM_ZERO, LM_POOL
};

#define NLINKS 4

static const char * const lm_name[LM_PLAIN_REG + 1] = {
	[LM_A] = "sth_la", [LM_B] = "sth_lb", [LM_A2] = "sth_la", [LM_PLAIN_REG] = "sth_lp",
};

struct link_round {
	int pool[LM_POOL];
	__u32 map_id[LM_PLAIN_REG + 1];
	int links[NLINKS];
};

static int struct_ops_map(const char *name, __u32 flags)
{
	unsigned char v[4096];
	union bpf_attr a;
	int fd;

	good_create_attr(&a);
	a.map_flags = flags;
	fd = map_create(&a);
	if (fd < 0 || !name)
		return fd;
	st_ca_count_value(skel, &tcp, v, name);
	if (update(fd, 0, v, 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void link_round_close(struct link_round *r)
{
	int i;

	for (i = 0; i < NLINKS; i++)
		if (r->links[i] >= 0)
			close(r->links[i]);
	for (i = 0; i <= LM_PLAIN_REG; i++) {
		if (r->pool[i] < 0)
			continue;
		/* A map without BPF_F_LINK stays registered until deleted. */
		bpf_map_delete_elem(r->pool[i], &(__u32){0});
		close(r->pool[i]);
	}
}

static int link_round_open(struct link_round *r, int array, int filter)
{
	int i;

	memset(r, 0xff, sizeof(*r));
	for (i = 0; i <= LM_PLAIN_REG; i++) {
		r->pool[i] = struct_ops_map(i == LM_INIT ? NULL : lm_name[i],
					    i < LM_PLAIN ? BPF_F_LINK : 0);
		if (r->pool[i] < 0)
			return -1;
		r->map_id[i] = st_map_id(r->pool[i]);
	}
	r->pool[LM_ARRAY] = array;
	r->pool[LM_FILTER] = filter;
	r->pool[LM_CLOSED] = 900;
	r->pool[LM_NEG] = -1;
	r->pool[LM_ZERO] = 0;
	/* Every round starts with a link registering A. */
	r->links[0] = bpf_link_create(r->pool[LM_A], 0, BPF_STRUCT_OPS, NULL);
	return r->links[0] < 0 ? -1 : 0;
}

/* Mostly one of the round's struct_ops maps, sometimes any fd of the pool:
 * its index in the pool.
 */
static int pick_map(void)
{
	return rnd(4) ? rnd(LM_PLAIN_REG + 1) : rnd(LM_POOL);
}

/* The id of the map @link holds, 0 if none or not a link. */
static __u32 link_map_id(int link)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	return link < 0 || bpf_link_get_info_by_fd(link, &info, &len) ? 0 :
	       info.struct_ops.map_id;
}

/* Mostly a link that is open, sometimes any slot (maybe -1). */
static int *pick_link(struct link_round *r)
{
	int open[NLINKS], n = 0, i;

	for (i = 0; i < NLINKS; i++)
		if (r->links[i] >= 0)
			open[n++] = i;
	return &r->links[n && rnd(8) ? open[rnd(n)] : rnd(NLINKS)];
}

/* One random request against the round's links and maps; its result. */
static int link_request(struct link_round *r)
{
	static const __u32 update_flags[] = { 0, 0, BPF_F_REPLACE, 1U << 5 };
	int m = pick_map(), map = r->pool[m], *link = pick_link(r);
	union bpf_attr a;
	int ret, i;

	memset(&a, 0, sizeof(a));
	switch (rnd(6)) {
	case 0:		/* link create, with junk in what struct_ops ignores */
	case 1:
		a.link_create.map_fd = map;
		a.link_create.attach_type = rnd(8) ? BPF_STRUCT_OPS : rnd(BPF_STRUCT_OPS + 2);
		if (!rnd(4))
			a.link_create.target_fd = rnd(2) ? r->pool[pick_map()] : rnd(1000);
		if (!rnd(4))
			a.link_create.flags = 1U << rnd(32);
		if (!rnd(6))	/* a byte in the other link types' fields, or past them */
			((unsigned char *)&a)[16 + rnd(sizeof(a.link_create))] = 1;
		ret = sys_bpf(BPF_LINK_CREATE, &a);
		if (ret >= 0) {
			for (i = 0; i < NLINKS && r->links[i] >= 0; i++)
				;
			if (i == NLINKS) {
				close(ret);
				return 1000;
			}
			r->links[i] = ret;
			return 0;
		}
		return -errno;
	case 2:		/* link update, maybe with an expected old map */
	case 3:
		a.link_update.link_fd = rnd(6) ? *link : map;
		a.link_update.new_map_fd = map;
		a.link_update.flags = update_flags[rnd(ARRAY_SIZE(update_flags))];
		if (a.link_update.flags == BPF_F_REPLACE || !rnd(6))
			a.link_update.old_map_fd = r->pool[pick_map()];
		/* Not to the map it holds: that crashes 7.3 (hostile.link_same_map). */
		if (m <= LM_PLAIN_REG && link_map_id(a.link_update.link_fd) == r->map_id[m])
			return 3000;
		ret = sys_bpf(BPF_LINK_UPDATE, &a);
		return ret < 0 ? -errno : ret;
	case 4:		/* detach, or close */
		if (rnd(2)) {
			a.link_detach.link_fd = *link;
			ret = sys_bpf(BPF_LINK_DETACH, &a);
			return ret < 0 ? -errno : ret;
		}
		if (*link < 0)
			return 2000;
		close(*link);
		*link = -1;
		return 0;
	default:	/* map commands on a link map */
		if (rnd(2)) {
			ret = bpf_map_delete_elem(map, &(__u32){0});
		} else {
			unsigned char v[4096];

			st_ca_count_value(skel, &tcp, v, "sth_lx");
			ret = update(map, 0, v, 0);
		}
		return ret < 0 ? -errno : ret;
	}
}

/*
 * What the round's links and maps look like now: which CA names are
 * registered, and for each link which pool map it holds (by id).
 */
static __u64 link_round_state(const struct link_round *r)
{
	__u64 state = st_ca_available("sth_la") | st_ca_available("sth_lb") << 1 |
		      st_ca_available("sth_lx") << 2;
	int i, j;

	for (i = 0; i < NLINKS; i++) {
		__u32 id = link_map_id(r->links[i]), which = r->links[i] < 0 ? 15 : 14;

		for (j = 0; id && j <= LM_PLAIN_REG; j++)
			if (id == r->map_id[j])
				which = j;
		state |= (__u64)which << (4 + 4 * i);
	}
	return state;
}

static void test_random_link(bool record, bool trace)
{
	int array, filter, i, results[128] = {}, ok = 0;
	__u64 digest = 0xcbf29ce484222325ULL;
	const char *why = NULL;

	rng = LINK_SEED;
	array = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 1, NULL);
	filter = socket_filter_prog();
	if (array < 0 || filter < 0) {
		st_result(false, "hostile.random_link", "setup: %s", strerror(errno));
		return;
	}
	for (i = 0; i < LINK_ITERS && !why; i++) {
		struct link_round r;
		int n = 1 + rnd(6), j;

		if (link_round_open(&r, array, filter)) {
			why = "setting up a round";
			link_round_close(&r);
			break;
		}
		for (j = 0; j < n; j++) {
			int ret = link_request(&r);
			__u64 state = link_round_state(&r);

			if (ret < 0 && !expected_link_errno(-ret)) {
				why = strerror(-ret);
				break;
			}
			ok += !ret;
			results[ret < 0 && -ret < 128 ? -ret : 0]++;
			if (trace)
				printf("round %d request %d: %d state %#llx\n", i, j, ret,
				       (unsigned long long)state);
			digest = (digest ^ (__u64)ret) * 0x100000001b3ULL;
			digest = (digest ^ state) * 0x100000001b3ULL;
		}
		link_round_close(&r);
		if (!why && (st_ca_available("sth_la") || st_ca_available("sth_lb") ||
			     st_ca_available("sth_lx") || st_ca_available("sth_lp")))
			why = "a CA is left registered after its links and maps closed";
	}
	close(array);
	close(filter);
	if (why) {
		st_result(false, "hostile.random_link", "round %d: %s", i - 1, why);
		return;
	}
	if (record) {
		printf("link digest 0x%llxULL\n", (unsigned long long)digest);
	} else if (digest != LINK_DIGEST) {
		st_result(false, "hostile.random_link", "digest 0x%llx differs from C's 0x%llx",
			  (unsigned long long)digest, (unsigned long long)LINK_DIGEST);
		return;
	}
	st_result(true, "hostile.random_link", LINK_OK_FMT, LINK_ITERS, ok, results[EINVAL],
		  results[EBADF], results[EEXIST], results[ENOLINK], results[EPERM],
		  results[EOPNOTSUPP], results[EBUSY], results[ENOENT]);
}

/* ---- hostile.link_same_map --------------------------------------------- */

/*
 * A link updated to the map it already holds. 7.3 passes TCP's update()
 * the same struct as new and old: the CA is added to the list of CAs a
 * second time and deleted, the list is left corrupt, and the next
 * unregister (the link's detach) oopses on a poisoned entry. Ours
 * succeeds and changes nothing. Not run on the C kernel, where it would
 * take the guest down (harness/c-known-bugs); ST_HOSTILE_CRASH_C=1 runs it.
 */
static void test_link_same_map(void)
{
	int fd, link = -1, r1, r2 = -1, e1, e2 = 0, m;
	const char *why = NULL;
	union bpf_attr a;

	if (!st_impl_is_rust() && !getenv("ST_HOSTILE_CRASH_C")) {
		st_result(false, "hostile.link_same_map", "not run: it crashes the 7.3 kernel");
		return;
	}
	fd = struct_ops_map("sth_same", BPF_F_LINK);
	if (fd >= 0)
		link = bpf_link_create(fd, 0, BPF_STRUCT_OPS, NULL);
	if (link < 0) {
		st_result(false, "hostile.link_same_map", "setup: %s", strerror(errno));
		goto out;
	}
	memset(&a, 0, sizeof(a));
	a.link_update.link_fd = link;
	a.link_update.new_map_fd = fd;
	r1 = sys_bpf(BPF_LINK_UPDATE, &a);
	e1 = errno;
	if (!r1) {
		a.link_update.flags = BPF_F_REPLACE;
		a.link_update.old_map_fd = fd;
		r2 = sys_bpf(BPF_LINK_UPDATE, &a);
		e2 = errno;
	}
	if (r1 || r2)
		why = "update";
	else if (st_ca_listed("sth_same") != 1)
		why = "the CA is not listed exactly once";
	else if (link_map_id(link) != st_map_id(fd))
		why = "the link no longer holds the map";
	else if (bpf_link_detach(link))
		why = "detach";
	else if (st_ca_listed("sth_same") != 0)
		why = "the CA is still listed after detach";
	if (why) {
		st_result(false, "hostile.link_same_map", "%s (updates: %d %s, %d %s)", why, r1,
			  r1 ? strerror(e1) : "", r2, r2 ? strerror(e2) : "");
		goto out;
	}
	m = fresh_map();
	if (m < 0 || !registers(m, "sth_same"))
		st_result(false, "hostile.link_same_map", "the CA does not register again");
	else
		st_result(true, "hostile.link_same_map",
			  "updated to its own map twice: 0, no change");
	if (m >= 0)
		close(m);
out:
	if (link >= 0)
		close(link);
	if (fd >= 0)
		close(fd);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int main(int argc, char **argv)
{
	bool record = argc > 1 && !strcmp(argv[1], "record");
	bool trace = argc > 1 && !strcmp(argv[1], "trace");

	libbpf_set_print(quiet);
	ksft_print_header();
	/* The tests below, each one result. */
	ksft_set_plan(8);
	skel = ca_count__open_and_load();
	if (!skel || st_layout_get("tcp_congestion_ops", &tcp)) {
		st_result(false, "hostile.setup", "load ca_count");
		ksft_exit_fail();
	}
	btf_fd = bpf_object__btf_fd(skel->obj);
	st_ca_count_value(skel, &tcp, good, "sth_ok");

	test_map_create();
	test_unprivileged();
	test_map_ops();
	test_owner();
	test_link_same_map();
	test_random(record, trace);
	test_random_link(record, trace);

	ca_count__destroy(skel);
	if (!st_wait(!st_struct_ops_maps() && !st_ca_available("sth_ok") &&
		     !st_ca_available("sth_rand") && !st_ca_available("sth_owner") &&
		     !st_ca_available("sth_ops") && !st_ca_available("sth_same"), 30000)) {
		st_result(false, "hostile.cleanup", "%d struct_ops maps or a CA of ours left",
			  st_struct_ops_maps());
		st_list_struct_ops_maps();
	} else {
		st_result(true, "hostile.cleanup", NULL);
	}
	ksft_finished();
}
