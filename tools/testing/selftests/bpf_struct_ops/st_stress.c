// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency stress of the struct_ops map, the same on both
 * implementations. For a bounded time, threads race on TCP congestion
 * control maps (the programs of ca_count):
 *  - reg:     each on its own maps: create, update, lookup, delete, close;
 *  - shared:  one thread registers and unregisters a shared map ("sts_shr")
 *             over and over, others lookup, delete, update, pin and unpin
 *             whatever map is current;
 *  - link:    links on two READY BPF_F_LINK maps: create, update to the
 *             other map, detach, close, from two threads;
 *  - sock:    loopback connections open with one of the BPF CAs or cubic,
 *             push data, switch CA with setsockopt, close;
 *  - sysctl:  the default CA flips between the shared BPF CA and cubic.
 * Errors that the races make legitimate (ENOENT, EBUSY, EEXIST, ...) are
 * expected; a value that looks wrong, a socket on an unknown CA or anything
 * left at the end is a failure. At the end every map must be freed (no
 * struct_ops map, no bpf__tcp_congestion_ops_* trampoline in kallsyms, no
 * CA of ours available) and, on the Rust implementation, a registered
 * map's refcnt must be back at 1 once its sockets are gone. Prints
 *	ok stress.concurrency - N operations in S s (...)
 * or "not ok stress.concurrency - why". The kernel log is checked by the
 * harness.
 *
 * usage: st_stress [SECONDS]	(10 by default)
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "struct_ops_map_helpers.h"
#include "ca_count.skel.h"
#include "st_ca.h"
#include "st_ktap.h"

#define SHARED "sts_shr"
#define DEFAULT_CA "/proc/sys/net/ipv4/tcp_congestion_control"

static struct st_layout tcp;
static struct ca_count *skel;
static atomic_bool stop;
static atomic_int failed;
static char why[256];

enum { REG, SHARED_OPS, LINK, SOCK, SYSCTL, NKINDS };
static const char * const kind_name[NKINDS] = { "reg", "shared", "link", "sock", "sysctl" };
static atomic_ulong ops[NKINDS];

/* The shared map: its fd, replaced by the shared maker under the mutex. */
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static int shared_fd = -1;

static void fail(const char *fmt, ...)
{
	va_list ap;

	if (atomic_exchange(&failed, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	atomic_store(&stop, true);
}

/* The step of map_registered() that failed last in this thread. */
static __thread const char *step;

/* A map of @flags registered (or READY) as CA @name; -1 and errno if not. */
static int map_registered(const char *name, __u32 flags)
{
	unsigned char v[4096];
	__u32 key = 0;
	int fd = st_map_create(&tcp, bpf_object__btf_fd(skel->obj), flags), err;

	step = "create";
	if (fd < 0)
		return -1;
	st_ca_count_value(skel, &tcp, v, name);
	step = "update";
	if (bpf_map_update_elem(fd, &key, v, 0)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Lookup: the value must be all zero (INIT) or have a sane state. */
static void check_lookup(int fd, const char *who)
{
	unsigned char v[4096];
	__u32 key = 0;

	if (bpf_map_lookup_elem(fd, &key, v))
		return;
	if (st_state(v) > ST_READY)
		fail("%s: lookup shows state %u", who, st_state(v));
}

static void *reg_thread(void *arg)
{
	char name[16];
	__u32 key = 0;

	snprintf(name, sizeof(name), "sts_r%ld", (long)arg);
	while (!atomic_load(&stop)) {
		int fd = map_registered(name, 0);

		if (fd < 0) {
			/* Only ENOMEM would be fair; nothing else races on it. */
			fail("reg: %s of %s: %s", step, name, strerror(errno));
			break;
		}
		check_lookup(fd, "reg");
		if (bpf_map_delete_elem(fd, &key))
			fail("reg: delete of %s: %s", name, strerror(errno));
		close(fd);
		atomic_fetch_add(&ops[REG], 4);
	}
	return NULL;
}

static void *shared_maker(void *arg)
{
	__u32 key = 0;

	while (!atomic_load(&stop)) {
		int fd = map_registered(SHARED, 0), old;

		/* EEXIST: the last one is still on its way out (TOBEFREE). */
		if (fd < 0 && errno != EEXIST) {
			fail("shared: %s of %s: %s", step, SHARED, strerror(errno));
			break;
		}
		pthread_mutex_lock(&shared_lock);
		old = shared_fd;
		shared_fd = fd;
		pthread_mutex_unlock(&shared_lock);
		if (old >= 0) {
			bpf_map_delete_elem(old, &key);
			close(old);
		}
		atomic_fetch_add(&ops[SHARED_OPS], 2);
		usleep(2000);
	}
	return NULL;
}

static void *shared_racer(void *arg)
{
	unsigned char v[4096];
	char pin[64];
	__u32 key = 0;
	long i = (long)arg, n = 0;

	snprintf(pin, sizeof(pin), "/sys/fs/bpf/st_stress_%ld", i);
	st_ca_count_value(skel, &tcp, v, SHARED);
	while (!atomic_load(&stop)) {
		int fd;

		pthread_mutex_lock(&shared_lock);
		fd = shared_fd >= 0 ? dup(shared_fd) : -1;
		pthread_mutex_unlock(&shared_lock);
		if (fd < 0) {
			usleep(100);
			continue;
		}
		check_lookup(fd, "shared");
		switch (n++ % 4) {
		case 0:		/* a second update is refused, whatever the state */
			if (!bpf_map_update_elem(fd, &key, v, 0))
				fail("shared: a second update succeeded");
			break;
		case 1:
			bpf_map_delete_elem(fd, &key);
			break;
		case 2:
			if (!bpf_obj_pin(fd, pin)) {
				int p = bpf_obj_get(pin);

				if (p >= 0)
					check_lookup(p, "pinned");
				close(p);
				unlink(pin);
			}
			break;
		default:
			break;
		}
		close(fd);
		atomic_fetch_add(&ops[SHARED_OPS], 2);
	}
	return NULL;
}

static int link_maps[2] = { -1, -1 };

static void *link_thread(void *arg)
{
	while (!atomic_load(&stop)) {
		int l = bpf_link_create(link_maps[0], 0, BPF_STRUCT_OPS, NULL);

		atomic_fetch_add(&ops[LINK], 1);
		if (l < 0) {
			/* The other thread's link registered the same name. */
			if (errno != EEXIST)
				fail("link: create: %s", strerror(errno));
			continue;
		}
		bpf_link_update(l, link_maps[1], NULL);
		bpf_link_detach(l);
		close(l);
		atomic_fetch_add(&ops[LINK], 3);
	}
	return NULL;
}

static bool known_ca(const char *ca)
{
	static const char * const cas[] = { "cubic", "reno", SHARED, "sts_r0", "sts_r1",
					    "sts_la", "sts_lb" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cas); i++)
		if (!strcmp(ca, cas[i]))
			return true;
	return false;
}

static void *sock_thread(void *arg)
{
	static const char * const cas[] = { SHARED, "sts_r0", "sts_la", "cubic", NULL };
	long n = (long)arg;

	while (!atomic_load(&stop)) {
		const char *ca = cas[n++ % 5], *to = cas[n % 4];
		struct st_tcp t;
		char used[16];

		/* Not registered at this moment: ENOENT, fine. */
		if (st_tcp_open2(&t, ca, NULL))
			continue;
		if (st_tcp_push(&t, 16384) || st_sock_ca(t.cli, used))
			fail("sock: push on %s: %s", ca ? ca : "the default CA", strerror(errno));
		else if (!known_ca(used))
			fail("sock: a socket uses %s", used);
		setsockopt(t.cli, IPPROTO_TCP, TCP_CONGESTION, to, strlen(to));
		st_tcp_push(&t, 4096);
		st_tcp_close(&t);
		atomic_fetch_add(&ops[SOCK], 4);
	}
	return NULL;
}

static void *sysctl_thread(void *arg)
{
	long n = 0;

	while (!atomic_load(&stop)) {
		st_write_file(DEFAULT_CA, n++ % 2 ? "cubic" : SHARED);
		atomic_fetch_add(&ops[SYSCTL], 1);
		usleep(1000);
	}
	return NULL;
}

static bool trampolines_left(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, " bpf__tcp_congestion_ops_");
	if (f)
		fclose(f);
	return found;
}

/* After the race: a fresh registration counts its sockets exactly again. */
static void check_refcnt(void)
{
	unsigned char v[4096];
	struct st_tcp t[3];
	__u32 key = 0;
	int fd = map_registered("sts_final", 0), i, n = 0;

	if (fd < 0) {
		fail("final: %s: %s", step, strerror(errno));
		return;
	}
	for (i = 0; i < 3; i++)
		n += !st_tcp_open2(&t[i], "sts_final", NULL);
	if (n != 3)
		fail("final: opening 3 sockets: %s", strerror(errno));
	else if (bpf_map_lookup_elem(fd, &key, v) || st_refcnt(v) != 4)
		fail("final: refcnt with 3 sockets is %u, not 4", st_refcnt(v));
	for (i = 0; i < 3; i++)
		if (i < n)
			st_tcp_close(&t[i]);
	if (!st_wait(!bpf_map_lookup_elem(fd, &key, v) && st_refcnt(v) == 1, 5000))
		fail("final: refcnt is %u, not back to 1", st_refcnt(v));
	bpf_map_delete_elem(fd, &key);
	close(fd);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int main(int argc, char **argv)
{
	void *(*fns[])(void *) = { reg_thread, reg_thread, shared_maker, shared_racer,
				   shared_racer, link_thread, link_thread, sock_thread,
				   sock_thread, sysctl_thread };
	pthread_t th[ARRAY_SIZE(fns)];
	int secs = argc > 1 ? atoi(argv[1]) : 10, i, n;
	char kinds[512];
	unsigned long total = 0;
	char avail[512] = "";
	struct timespec t0, t1;

	libbpf_set_print(quiet);
	ksft_print_header();
	ksft_set_plan(1);
	skel = ca_count__open_and_load();
	if (st_layout_get("tcp_congestion_ops", &tcp) || !skel) {
		st_result(false, "stress.concurrency", "setup: load ca_count");
		ksft_exit_fail();
	}
	link_maps[0] = map_registered("sts_la", BPF_F_LINK);
	link_maps[1] = map_registered("sts_lb", BPF_F_LINK);
	if (link_maps[0] < 0 || link_maps[1] < 0) {
		st_result(false, "stress.concurrency", "setup: link maps: %s: %s", step,
			  strerror(errno));
		ksft_exit_fail();
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < (int)ARRAY_SIZE(fns); i++)
		pthread_create(&th[i], NULL, fns[i], (void *)(long)(i % 2));
	for (i = 0; i < secs * 10 && !atomic_load(&stop); i++)
		usleep(100000);
	atomic_store(&stop, true);
	for (i = 0; i < (int)ARRAY_SIZE(fns); i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	st_write_file(DEFAULT_CA, "cubic");
	if (shared_fd >= 0) {
		__u32 key = 0;

		bpf_map_delete_elem(shared_fd, &key);
		close(shared_fd);
	}
	close(link_maps[0]);
	close(link_maps[1]);
	if (!atomic_load(&failed) && st_impl_is_rust())
		check_refcnt();
	ca_count__destroy(skel);
	if (!atomic_load(&failed) && !st_wait(!st_struct_ops_maps() && !trampolines_left(), 30000))
		fail("end: %d struct_ops maps left, trampolines %s", st_struct_ops_maps(),
		     trampolines_left() ? "left" : "gone");
	st_read_file("/proc/sys/net/ipv4/tcp_available_congestion_control", avail, sizeof(avail));
	if (!atomic_load(&failed) && strstr(avail, "sts_"))
		fail("end: a CA of ours is still available: %s", avail);

	for (i = 0; i < NKINDS; i++)
		total += atomic_load(&ops[i]);
	if (atomic_load(&failed)) {
		st_result(false, "stress.concurrency", "%s", why);
		ksft_exit_fail();
	}
	for (i = 0, n = 0; i < NKINDS; i++)
		n += snprintf(kinds + n, sizeof(kinds) - n, "%s%s %lu", i ? ", " : "",
			      kind_name[i], atomic_load(&ops[i]));
	st_result(true, "stress.concurrency", "%lu operations in %.0f s (%s)", total,
		  t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9, kinds);
	ksft_finished();
}
