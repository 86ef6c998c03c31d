// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection into the struct_ops map's syscalls, on kernels with
 * CONFIG_FAULT_INJECTION (the debug variant). For each of
 *  - map create:   BPF_MAP_CREATE of a TCP CA struct_ops map,
 *  - register:     BPF_MAP_UPDATE_ELEM (trampolines, images, reg()),
 *  - link map:     BPF_MAP_UPDATE_ELEM of a BPF_F_LINK map (READY),
 *  - link create:  BPF_LINK_CREATE on a READY map,
 * it makes the 1st, 2nd, 3rd, ... slab or page allocation of that one
 * syscall fail (/proc/thread-self/fail-nth, with failslab and
 * fail_page_alloc told not to spare GFP_KERNEL or order 0), until the
 * syscall makes fewer allocations than that. After every injected fault:
 * the syscall failed with an error, or succeeded whole; a failed one
 * registered nothing (the map is still INIT or READY, the CA is not
 * available) and a retry without the fault succeeds. At the end no map and
 * no CA is left; the harness then runs a kmemleak scan.
 *
 * Output: "ok fault.NAME - N faults injected, ..." or "not ok fault.NAME -
 * why", one line per syscall. Writes "st_fault: start" to /dev/kmsg first:
 * allocation failure reports after it are expected (check-log.sh).
 *
 * usage: st_fault
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "struct_ops_map_helpers.h"
#include "ca_count.skel.h"
#include "st_ca.h"
#include "st_ktap.h"

#define MAX_NTH 2000
#define CA_NAME "stf_ca"

static struct st_layout tcp;
static struct ca_count *skel;
static int btf_fd, nth_fd;
static unsigned char good[4096];
static char why[200];

/* Arms fail-nth: the @n-th allocation from now on in this thread fails. */
static int arm(int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	return pwrite(nth_fd, buf, len, 0) == len ? 0 : -1;
}

/* Disarms fail-nth; true if the armed fault was injected. */
static bool disarm(void)
{
	char buf[16] = "";
	bool injected;

	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) <= 0)
		return false;
	injected = atoi(buf) == 0;
	pwrite(nth_fd, "0", 1, 0);
	return injected;
}

static int new_map(__u32 flags)
{
	return st_map_create(&tcp, btf_fd, flags);
}

static int update(int fd)
{
	return bpf_map_update_elem(fd, &(__u32){0}, good, 0);
}

static __u32 state(int fd)
{
	unsigned char v[4096];

	return bpf_map_lookup_elem(fd, &(__u32){0}, v) ? ~0U : st_state(v);
}

/*
 * One syscall under test. prepare() sets up what it needs (no fault
 * armed); call() is the syscall; then check() looks at the outcome (@ok:
 * call() succeeded) and undoes it, returning false with why[] set if
 * something is wrong.
 */
struct fault_case {
	const char *name;
	int (*prepare)(int *obj);
	int (*call)(int obj);
	bool (*check)(int obj, int ret, bool ok);
};

/* ---- map create -------------------------------------------------------- */

static int none(int *obj)
{
	*obj = -1;
	return 0;
}

static int create_call(int obj)
{
	return new_map(0);
}

static bool create_check(int obj, int ret, bool ok)
{
	if (!ok)
		return true;
	/* A map that was made in spite of a fault must work. */
	if (update(ret) || state(ret) != ST_INUSE || !st_ca_available(CA_NAME)) {
		snprintf(why, sizeof(why), "a map made in spite of a fault does not register");
		close(ret);
		return false;
	}
	bpf_map_delete_elem(ret, &(__u32){0});
	close(ret);
	return true;
}

/* ---- register (and READY) ---------------------------------------------- */

static int plain_map(int *obj)
{
	*obj = new_map(0);
	return *obj < 0 ? -1 : 0;
}

static int link_map(int *obj)
{
	*obj = new_map(BPF_F_LINK);
	return *obj < 0 ? -1 : 0;
}

static bool update_check(int fd, int ret, bool ok)
{
	bool link = false;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (!bpf_map_get_info_by_fd(fd, &info, &len))
		link = info.map_flags & BPF_F_LINK;
	if (!ok) {
		/* Nothing half done: INIT, and the CA not there. */
		if (state(fd) != ST_INIT || st_ca_available(CA_NAME)) {
			snprintf(why, sizeof(why), "after a failed update: state %u, CA %s",
				 state(fd), st_ca_available(CA_NAME) ? "registered" : "absent");
			goto out;
		}
		if (update(fd)) {
			snprintf(why, sizeof(why), "the retry failed: %s", strerror(errno));
			goto out;
		}
	}
	if (state(fd) != (link ? ST_READY : ST_INUSE) ||
	    st_ca_available(CA_NAME) == link) {
		snprintf(why, sizeof(why), "after the update: state %u, CA %s", state(fd),
			 st_ca_available(CA_NAME) ? "registered" : "absent");
		goto out;
	}
	if (!link && bpf_map_delete_elem(fd, &(__u32){0})) {
		snprintf(why, sizeof(why), "unregister: %s", strerror(errno));
		goto out;
	}
	close(fd);
	return true;
out:
	bpf_map_delete_elem(fd, &(__u32){0});
	close(fd);
	return false;
}

/* ---- link create -------------------------------------------------------- */

static int ready_map(int *obj)
{
	if (link_map(obj))
		return -1;
	if (update(*obj)) {
		close(*obj);
		return -1;
	}
	return 0;
}

static int link_call(int fd)
{
	return bpf_link_create(fd, 0, BPF_STRUCT_OPS, NULL);
}

static bool link_check(int fd, int ret, bool ok)
{
	int l = ret;

	if (!ok) {
		if (state(fd) != ST_READY || st_ca_available(CA_NAME)) {
			snprintf(why, sizeof(why), "after a failed link create: state %u, CA %s",
				 state(fd), st_ca_available(CA_NAME) ? "registered" : "absent");
			close(fd);
			return false;
		}
		l = link_call(fd);
		if (l < 0) {
			snprintf(why, sizeof(why), "the retry failed: %s", strerror(errno));
			close(fd);
			return false;
		}
	}
	ok = st_ca_available(CA_NAME);
	close(l);
	close(fd);
	if (!ok)
		snprintf(why, sizeof(why), "the link did not register the CA");
	return ok;
}

static int update_call(int fd)
{
	return update(fd);
}

static const struct fault_case cases[] = {
	{ "fault.map_create", none, create_call, create_check },
	{ "fault.register", plain_map, update_call, update_check },
	{ "fault.link_map_update", link_map, update_call, update_check },
	{ "fault.link_create", ready_map, link_call, link_check },
};

/* Until the CA of the last step is gone (its map freed after RCU). */
static bool ca_gone(void)
{
	return st_wait(!st_ca_available(CA_NAME), 5000);
}

static void run(const struct fault_case *c)
{
	int n, injected = 0, failed = 0, survived = 0;
	bool done = false;

	why[0] = '\0';
	for (n = 1; n <= MAX_NTH && !done; n++) {
		int obj, ret, err;
		bool fired;

		if (!ca_gone()) {
			snprintf(why, sizeof(why), "the CA of the last step stays");
			break;
		}
		if (c->prepare(&obj)) {
			snprintf(why, sizeof(why), "setup: %s", strerror(errno));
			break;
		}
		if (arm(n)) {
			snprintf(why, sizeof(why), "fail-nth: %s", strerror(errno));
			break;
		}
		errno = 0;
		ret = c->call(obj);
		err = errno;
		fired = disarm();
		if (!fired)
			done = true;	/* fewer than n allocations: all tried */
		else if (ret < 0)
			failed++;
		else
			survived++;
		injected += fired;
		if (ret < 0 && !fired) {
			snprintf(why, sizeof(why), "step %d: %s without a fault", n, strerror(err));
			break;
		}
		if (ret < 0 && !err) {
			snprintf(why, sizeof(why), "fault %d: a failure without errno", n);
			break;
		}
		if (ret > 0 && c->call == update_call) {	/* 0 on success */
			snprintf(why, sizeof(why), "fault %d: returned %d", n, ret);
			break;
		}
		if (!c->check(obj, ret, ret >= 0)) {
			char w[sizeof(why)];

			memcpy(w, why, sizeof(w));
			snprintf(why, sizeof(why), "fault %d (%.40s): %.120s", n,
				 ret < 0 ? strerror(err) : "succeeded", w);
			break;
		}
	}
	if (!why[0] && !done)
		snprintf(why, sizeof(why), "still allocating after %d faults", MAX_NTH);
	if (why[0]) {
		st_result(false, c->name, "%s", why);
		return;
	}
	st_result(true, c->name,
		  "%d faults injected: %d failed cleanly and were retried, %d handled",
		  injected, failed, survived);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int main(void)
{
	static const char * const knobs[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	};
	unsigned int i;

	libbpf_set_print(quiet);
	ksft_print_header();
	/* Each case, then the cleanup. */
	ksft_set_plan(ARRAY_SIZE(cases) + 1);
	skel = ca_count__open_and_load();
	if (!skel || st_layout_get("tcp_congestion_ops", &tcp)) {
		st_result(false, "fault.setup", "load ca_count");
		ksft_exit_fail();
	}
	btf_fd = bpf_object__btf_fd(skel->obj);
	st_ca_count_value(skel, &tcp, good, CA_NAME);
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		if (st_write_file(knobs[i][0], knobs[i][1])) {
			st_result(false, "fault.setup", "%s: %s", knobs[i][0], strerror(errno));
			ksft_exit_fail();
		}
	}
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nth_fd < 0) {
		st_result(false, "fault.setup", "/proc/thread-self/fail-nth: %s", strerror(errno));
		ksft_exit_fail();
	}
	st_write_file("/dev/kmsg", "st_fault: start");

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run(&cases[i]);

	ca_count__destroy(skel);
	if (!st_wait(!st_struct_ops_maps() && !st_ca_available(CA_NAME), 30000))
		st_result(false, "fault.cleanup", "%d struct_ops maps left", st_struct_ops_maps());
	else
		st_result(true, "fault.cleanup", NULL);
	st_write_file("/dev/kmsg", "st_fault: end");
	ksft_finished();
}
