// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmarks of the struct_ops map, the same on both implementations; `make
 * bench` boots each kernel in turn and runs this in the guest. It prints
 *	bench NAME VALUE UNIT lower|higher
 * one line per figure ("lower" or "higher" is better), and "error NAME - why"
 * for a workload that could not run. harness/bench.sh turns the rounds into
 * medians and Rust/C ratios: under TCG only the ratios mean something.
 *
 * Workloads:
 * - op_call: bpf_test_struct_ops calls op0 of a registered st_ops3 map in a loop,
 *   and a C function the same way (native_call); op_call_rust: Rust
 *   (bpf_test_struct_ops_rust, through kernel::bpf's Op) calls test_1 of a
 *   registered st_rust_ops map the same way, the same program (x + 1);
 *   op_call_rust_over_c is the ratio of the two callers;
 * - reg_N: BPF_MAP_UPDATE_ELEM + BPF_MAP_DELETE_ELEM on a new map of a type
 *   with N func ptrs, cycles per second (create and close included) from
 *   the median cycle, and reg_N_create, _update, _delete and _close: the
 *   median time of each syscall of a cycle; reg_N_total: the guest's busy
 *   time per cycle over all cycles, from the first one's start until every
 *   map is freed and the RCU callbacks queued have run (rcu_barrier), so
 *   that work deferred past a grace period counts (under instruction
 *   counting, instructions of any task or CPU, idle time left out);
 *   map_create and map_close:
 *   creating a map of st_ops40 and closing its only fd, maps per second;
 * - mem_N: N registered maps of st_ops3: executable memory charged to BPF,
 *   the memlock their fdinfo reports, and the bytes of the slab objects
 *   made while they were made and still held (the kmem tracepoints);
 * - tcp_CA: loopback TCP throughput with the kernel's cubic and dctcp and
 *   the selftests' BPF ones (bpf_cubic, bpf_dctcp);
 * - sched_pipe_S and sched_fork_S: scheduling-heavy work under the CPU
 *   scheduler S, "fair" or "scx" (a sched_ext scheduler is attached; the
 *   guest attaches scx_simple): a pipe ping-pong between two processes, as
 *   perf bench sched pipe does it (per round trip), and fork + exit + wait
 *   (per child).
 *
 * ST_BENCH_TRACE=1 turns tracing on over the timed registration cycles only
 * (harness/guest/profile, make bench-profile). ST_BENCH_PCPROF=1 (make
 * bench-pcprof) runs 5 timed cycles per reg_N, each step after a getppid()
 * marker, between lines that ask the host to log every kernel instruction.
 *
 * usage: st_bench [-q] [WORKLOAD]
 *	-q: few iterations, to check that it works
 *	WORKLOAD: only op_call, reg, mem, tcp or sched
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "struct_ops_map_helpers.h"
#include "st_ops.skel.h"
#include "st_rust.skel.h"

static int quick;
static const char *only;
static struct st_ops *skel;
static int btf_fd = -1;
static int errors;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void report(const char *name, double value, const char *unit, const char *better)
{
	printf("bench %s %.3f %s %s\n", name, value, unit, better);
}

static void bench_error(const char *name, const char *why)
{
	printf("error %s - %s (%s)\n", name, why, strerror(errno));
	errors++;
}

/* ST_BENCH_TRACE=1 (make bench-profile, whose guest set up a tracer with
 * tracing off): tracing is on only over the timed cycles of each reg_N, and
 * a marker "reg_N STEP" goes before each syscall of a cycle.
 */
static int trace_fd = -1;
static int pcprof;

/* ST_BENCH_PCPROF=1: the host logs each kernel instruction the guest runs
 * between "# pcprof on" and "# pcprof off" (harness/pcprof.py, which
 * watches the results for them), and answers each with a line on ttyS2
 * once it has switched: under instruction counting the guest's sleeps take
 * no host time, so it waits for that line instead.
 */
static void pcprof_switch(int on)
{
	char ack[16];
	int fd;

	if (!on)
		syscall(SYS_getppid);
	/* Open before asking: what arrives on a closed port is lost. */
	fd = open("/dev/ttyS2", O_RDONLY | O_NOCTTY);
	printf("# pcprof %s\n", on ? "on" : "off");
	fflush(stdout);
	if (fd < 0 || read(fd, ack, sizeof(ack)) <= 0)
		bench_error("pcprof", "host answer on ttyS2");
	if (fd >= 0)
		close(fd);
}

static void trace_cycles(int on)
{
	int fd;

	if (pcprof) {
		pcprof_switch(on);
		return;
	}
	if (!getenv("ST_BENCH_TRACE"))
		return;
	if (on && trace_fd < 0)
		trace_fd = open("/sys/kernel/tracing/trace_marker", O_WRONLY);
	fd = open("/sys/kernel/tracing/tracing_on", O_WRONLY);
	if (fd < 0 || write(fd, on ? "1" : "0", 1) != 1)
		bench_error("trace", "tracing_on");
	if (fd >= 0)
		close(fd);
}

static void trace_step(const char *name, const char *step)
{
	char m[64];
	int n;

	/* A syscall no cycle makes: its entry in the instruction log marks
	 * where the next step starts.
	 */
	if (pcprof)
		syscall(SYS_getppid);
	if (trace_fd < 0)
		return;
	n = snprintf(m, sizeof(m), "%s %s\n", name, step);
	if (write(trace_fd, m, n) != n)
		trace_fd = -1;
}

/*
 * Waits until every map of bpf_test_struct_ops's types is freed. 7.3 drops the
 * module reference before its free waits for RCU and RCU tasks, ours after:
 * a second more lets both finish, so no workload starts with frees pending.
 */
static void settle(int base_refcnt)
{
	st_wait(st_module_refcnt("bpf_test_struct_ops") <= base_refcnt, 10000);
	sleep(1);
}

/* A value of st_opsN (@type) whose func ptrs hold the programs oN_opI. */
struct value {
	struct st_layout l;
	char *buf;
};

static int value_init(struct value *v, const char *type, int nops)
{
	char prog[32];
	int i;

	if (st_layout_get_mod(type, "bpf_test_struct_ops", &v->l))
		return -1;
	v->buf = calloc(1, v->l.value_size);
	if (!v->buf)
		return -1;
	for (i = 0; i < nops; i++) {
		struct bpf_program *p;

		snprintf(prog, sizeof(prog), "o%d_op%d", nops, i);
		p = bpf_object__find_program_by_name(skel->obj, prog);
		if (!p)
			return -1;
		*(__u64 *)(v->buf + v->l.data_off + 8 * i) = bpf_program__fd(p);
	}
	return 0;
}

static int value_map(const struct value *v)
{
	/* As libbpf makes them: map_create wants a program BTF too. */
	LIBBPF_OPTS(bpf_map_create_opts, o,
		    .btf_fd = bpf_object__btf_fd(skel->obj),
		    .btf_vmlinux_value_type_id = v->l.value_type_id,
		    .value_type_btf_obj_fd = btf_fd,
		    .map_flags = BPF_F_VTYPE_BTF_OBJ_FD);

	return bpf_map_create(BPF_MAP_TYPE_STRUCT_OPS, "st_bench", 4, v->l.value_size, 1, &o);
}

/* Rust's loop of calls, ns per call, or a negative number on error. */
static double rust_call_loop(unsigned long long n)
{
	long long ns;

	if (bpf_test_struct_ops_rust_set("call_loop", n))
		return -1;
	ns = bpf_test_struct_ops_rust_get("call_ns");
	return ns > 0 ? ns / (double)n : -1;
}

static void bench_op_call(void)
{
	unsigned long long n = quick ? 10000 : 1000000;
	double op = 1e30, native = 1e30, rust = 1e30, r;
	struct bpf_link *link, *rust_link = NULL;
	struct st_rust *rs = NULL;
	int i;

	link = bpf_map__attach_struct_ops(skel->maps.ops3);
	if (!link) {
		bench_error("op_call", "register st_ops3");
		return;
	}
	/* Only st_rust_partial, whose test_1 returns x + 1 as op0 does. */
	rs = bpf_test_struct_ops_rust_load() ? NULL : st_rust__open();
	if (rs) {
		st_only_struct_ops_map(rs->obj, "st_rust_partial");
		if (!st_rust__load(rs))
			rust_link = bpf_map__attach_struct_ops(rs->maps.st_rust_partial);
	}
	if (!rust_link)
		bench_error("op_call_rust", "register st_rust_partial");
	/* The best of three loops of each. */
	for (i = 0; i < 3; i++) {
		long long ns;

		if (bpf_test_struct_ops_set("call_op", n))
			break;
		ns = bpf_test_struct_ops_get("call_ns");
		if (ns <= 0)
			break;
		op = op < ns / (double)n ? op : ns / (double)n;
		if (bpf_test_struct_ops_set("call_native", n))
			break;
		ns = bpf_test_struct_ops_get("call_ns");
		if (ns <= 0)
			break;
		native = native < ns / (double)n ? native : ns / (double)n;
		if (rust_link) {
			r = rust_call_loop(n);
			rust = r > 0 && r < rust ? r : rust;
		}
	}
	bpf_link__destroy(link);
	bpf_link__destroy(rust_link);
	st_rust__destroy(rs);
	if (i < 3) {
		bench_error("op_call", "call loop");
		return;
	}
	report("op_call", op, "ns/call", "lower");
	report("native_call", native, "ns/call", "lower");
	report("op_call_over_native", op / native, "x", "lower");
	if (!rust_link)
		return;
	if (rust == 1e30) {
		bench_error("op_call_rust", "call loop");
		return;
	}
	report("op_call_rust", rust, "ns/call", "lower");
	report("op_call_rust_over_c", rust / op, "x", "lower");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n durations: background work (deferred frees, RCU) hits
 * some cycles, and the median leaves them out. Sorts @d.
 */
static double median(double *d, int n)
{
	qsort(d, n, sizeof(*d), cmp_double);
	return n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
}

/* The syscalls of one registration cycle, timed one by one. */
enum { REG_CREATE, REG_UPDATE, REG_DELETE, REG_CLOSE, REG_STEPS };
static const char * const reg_step[REG_STEPS] = { "create", "update", "delete", "close" };

static void bench_reg(int nops, int base)
{
	int iters = quick || pcprof ? 5 : nops >= 40 ? 100 : 300;
	double *d, *step[REG_STEPS], t[REG_STEPS + 1], busy0, busy;
	char type[16], name[48];
	struct value v = {};
	__u32 zero = 0;
	int i, j, fd;

	snprintf(type, sizeof(type), "st_ops%d", nops);
	snprintf(name, sizeof(name), "reg_%d", nops);
	d = calloc(iters * (10 + REG_STEPS), sizeof(*d));
	if (!d || value_init(&v, type, nops)) {
		bench_error(name, "value layout");
		goto out;
	}
	for (j = 0; j < REG_STEPS; j++)
		step[j] = d + iters * (10 + j);
	/* Warm up (the worker pool the deferred frees use grows), then time. */
	for (i = 0; i < (pcprof ? 20 : iters / 5); i++) {
		fd = value_map(&v);
		if (fd < 0)
			break;
		if (!bpf_map_update_elem(fd, &zero, v.buf, 0))
			bpf_map_delete_elem(fd, &zero);
		close(fd);
	}
	settle(base);
	trace_cycles(1);
	busy0 = now() - bpf_test_struct_ops_get("idle_ns") / 1e9;
	for (i = 0; i < iters; i++) {
		int failed = -1;

		trace_step(name, "create");
		t[REG_CREATE] = now();
		fd = value_map(&v);
		t[REG_UPDATE] = now();
		trace_step(name, "update");
		if (fd < 0)
			failed = REG_CREATE;
		else if (bpf_map_update_elem(fd, &zero, v.buf, 0))
			failed = REG_UPDATE;
		t[REG_DELETE] = now();
		trace_step(name, "delete");
		if (failed < 0 && bpf_map_delete_elem(fd, &zero))
			failed = REG_DELETE;
		if (failed >= 0) {
			trace_cycles(0);
			bench_error(name, reg_step[failed]);
			if (fd >= 0)
				close(fd);
			goto out;
		}
		trace_step(name, "close");
		t[REG_CLOSE] = now();
		close(fd);
		t[REG_STEPS] = now();
		d[i] = t[REG_STEPS] - t[REG_CREATE];
		for (j = 0; j < REG_STEPS; j++)
			step[j][i] = (t[j + 1] - t[j]) * 1e9;
	}
	trace_cycles(0);
	settle(base);
	bpf_test_struct_ops_set("rcu_barrier", 1);
	busy = now() - bpf_test_struct_ops_get("idle_ns") / 1e9 - busy0;
	report(name, 1 / median(d, iters), "cycles/s", "higher");
	snprintf(name, sizeof(name), "reg_%d_total", nops);
	report(name, busy / iters * 1e9, "ns/cycle", "lower");
	/* Where a cycle's time goes, syscall by syscall. */
	for (j = 0; j < REG_STEPS; j++) {
		snprintf(name, sizeof(name), "reg_%d_%s", nops, reg_step[j]);
		report(name, median(step[j], iters), "ns/call", "lower");
	}
	settle(base);
	if (nops == 40) {
		double *c = d + iters * 5;

		for (i = 0; i < iters * 5; i++) {
			double t0 = now();

			fd = value_map(&v);
			if (fd < 0) {
				bench_error("map_create", "map create");
				goto out;
			}
			c[i] = now() - t0;
			close(fd);
			d[i] = now() - t0 - c[i];
		}
		report("map_create", 1 / median(c, iters * 5), "maps/s", "higher");
		report("map_close", 1 / median(d, iters * 5), "maps/s", "higher");
	}
out:
	settle(base);
	free(d);
	free(v.buf);
}

/*
 * Slab bytes held by what a workload makes: the kmem tracepoints are on while
 * it runs, then slab_held() adds up bytes_alloc of each object allocated
 * since slab_count(1) (by any task or CPU) and not freed by then. Objects are
 * matched by their pointer as the trace prints it (hashed, the same in both
 * events). Unlike the growth of Slab: in /proc/meminfo, which counts pages and
 * depends on how many free objects earlier workloads left in them, this is
 * the same from run to run. Frees without a tracepoint (kfree_bulk(), which
 * batched kfree_rcu() uses, the bulk and nolock ones) leave an object
 * counted: none of a map's own, which go only when it does.
 */
#define TRACING "/sys/kernel/tracing/"
static const char * const kmem_events[] = {
	"kmalloc", "kmem_cache_alloc", "kfree", "kmem_cache_free",
};

static int write_str(const char *path, const char *s, int flags)
{
	int fd = open(path, O_WRONLY | flags);
	int ok;

	ok = fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static int slab_count(int on)
{
	char path[96];
	unsigned int i;
	int err = 0;

	if (on && (write_str(TRACING "trace", "", O_TRUNC) ||
		   write_str(TRACING "tracing_on", "1", 0)))
		return -1;
	for (i = 0; i < ARRAY_SIZE(kmem_events); i++) {
		snprintf(path, sizeof(path), TRACING "events/kmem/%s/enable", kmem_events[i]);
		err |= write_str(path, on ? "1" : "0", 0);
	}
	return err;
}

#define SLAB_BITS 17
#define SLAB_OBJS 131072	/* 2 ** SLAB_BITS */
static struct { unsigned long long ptr; long bytes; } slab_objs[SLAB_OBJS];

static long *slab_obj(unsigned long long ptr)
{
	unsigned int i = (ptr * 0x9e3779b97f4a7c15ULL) >> (64 - SLAB_BITS), n;

	for (n = 0; n < SLAB_OBJS; n++, i = (i + 1) % SLAB_OBJS) {
		if (slab_objs[i].ptr == ptr)
			return &slab_objs[i].bytes;
		if (!slab_objs[i].ptr) {
			slab_objs[i].ptr = ptr;
			return &slab_objs[i].bytes;
		}
	}
	return NULL;
}

/* Bytes held, or -1: no trace, no allocation in it, events lost, or too many
 * objects.
 */
static long slab_held(void)
{
	static const char entries[] = "entries-in-buffer/entries-written: ";
	unsigned long long in_buf = 0, written = 1, ptr;
	char line[512], *p, *b;
	long held = 0, *obj;
	unsigned int i, allocs = 0;
	FILE *f;
	int alloc;

	memset(slab_objs, 0, sizeof(slab_objs));
	f = fopen(TRACING "trace", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, entries);
		if (p)
			sscanf(p + strlen(entries), "%llu/%llu", &in_buf, &written);
		alloc = strstr(line, " kmalloc: ") || strstr(line, " kmem_cache_alloc: ");
		if (!alloc && !strstr(line, " kfree: ") && !strstr(line, " kmem_cache_free: "))
			continue;
		p = strstr(line, " ptr=");
		ptr = p ? strtoull(p + strlen(" ptr="), NULL, 16) : 0;
		if (!ptr)	/* none, or NULL: a failed allocation */
			continue;
		obj = slab_obj(ptr);
		if (!obj) {
			held = -1;
			break;
		}
		b = strstr(line, " bytes_alloc=");
		if (alloc && b) {
			*obj = atol(b + strlen(" bytes_alloc="));
			allocs++;
		} else if (!alloc) {
			*obj = 0;
		}
	}
	fclose(f);
	if (held || !allocs || in_buf != written)
		return -1;
	for (i = 0; i < SLAB_OBJS; i++)
		held += slab_objs[i].bytes;
	return held;
}

static long fd_memlock(int fd)
{
	char path[64], line[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "memlock:", 8))
			v = atol(line + 8);
	if (f)
		fclose(f);
	return v;
}

static void bench_mem(int n, int base)
{
	long long jit0, jit1;
	long slab = -1, memlock = 0;
	int profiling, counting;
	struct value v = {};
	__u32 zero = 0;
	char name[32];
	int *fds, i, made = 0;

	snprintf(name, sizeof(name), "mem_%d", n);
	fds = calloc(n, sizeof(*fds));
	if (!fds || value_init(&v, "st_ops3", 3)) {
		bench_error(name, "value layout");
		goto out;
	}
	jit0 = bpf_test_struct_ops_get("jit_current");
	/* Not beside make bench-profile's tracer or bench-pcprof's log. */
	profiling = pcprof || getenv("ST_BENCH_TRACE");
	counting = !profiling && !slab_count(1);
	for (; made < n; made++) {
		fds[made] = value_map(&v);
		if (fds[made] < 0)
			break;
		if (bpf_map_update_elem(fds[made], &zero, v.buf, 0)) {
			close(fds[made]);
			break;
		}
	}
	if (!profiling && !slab_count(0) && counting)
		slab = slab_held();
	/* After the count: reading /proc and sysfs keeps their dentries. */
	jit1 = bpf_test_struct_ops_get("jit_current");
	for (i = 0; i < made; i++)
		memlock += fd_memlock(fds[i]);
	if (made < n) {
		bench_error(name, "register");
	} else {
		char key[48];

		snprintf(key, sizeof(key), "%s_exec", name);
		if (jit0 >= 0 && jit1 >= 0)
			report(key, jit1 - jit0, "bytes", "lower");
		else
			bench_error(key, "no bpf_jit_current");
		snprintf(key, sizeof(key), "%s_memlock", name);
		report(key, memlock, "bytes", "lower");
		snprintf(key, sizeof(key), "%s_slab", name);
		if (slab >= 0)
			report(key, slab, "bytes", "lower");
		else if (!profiling)
			bench_error(key, "kmem trace");
	}
	for (i = 0; i < made; i++) {
		bpf_map_delete_elem(fds[i], &zero);
		close(fds[i]);
	}
out:
	settle(base);
	free(fds);
	free(v.buf);
}

/* Reads everything the server side gets until the client closes. */
static void *drain(void *arg)
{
	static char buf[256 * 1024];
	int fd = *(int *)arg;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

static void bench_tcp(const char *ca)
{
	static char buf[256 * 1024];
	double secs = quick ? 0.3 : 3, t0, t;
	struct bpf_object *obj = NULL;
	struct bpf_link *link = NULL;
	char name[32], used[16], path[96];
	unsigned long long bytes = 0;
	struct st_tcp tcp;
	pthread_t th;

	snprintf(name, sizeof(name), "tcp_%s", ca);
	if (!strncmp(ca, "bpf_", 4)) {
		struct bpf_map *map;

		snprintf(path, sizeof(path), "/opt/st/bpf/%s.bpf.o", ca);
		obj = bpf_object__open_file(path, NULL);
		if (!obj || bpf_object__load(obj)) {
			bench_error(name, "load");
			goto out;
		}
		map = bpf_object__find_map_by_name(obj, ca + 4);
		link = map ? bpf_map__attach_struct_ops(map) : NULL;
		if (!link) {
			bench_error(name, "register");
			goto out;
		}
	}
	/* Both ends: a dctcp server negotiates ECN only when it uses it too. */
	if (st_tcp_open2(&tcp, ca, ca)) {
		bench_error(name, "connect");
		goto out;
	}
	st_sock_ca(tcp.cli, used);
	if (strcmp(used, ca)) {
		errno = EINVAL;
		printf("# %s: the socket uses %s\n", name, used);
		bench_error(name, "the socket does not use the CA");
		st_tcp_close(&tcp);
		goto out;
	}
	pthread_create(&th, NULL, drain, &tcp.srv);
	t0 = now();
	while ((t = now() - t0) < secs) {
		ssize_t w = write(tcp.cli, buf, sizeof(buf));

		if (w <= 0)
			break;
		bytes += w;
	}
	shutdown(tcp.cli, SHUT_WR);
	pthread_join(th, NULL);
	st_tcp_close(&tcp);
	report(name, bytes / t / (1 << 20), "MiB/s", "higher");
out:
	bpf_link__destroy(link);
	bpf_object__close(obj);
}

/* µs per round trip of one byte between two processes over two pipes. */
static double pipe_round_trips(int n)
{
	int ab[2], ba[2], i, ok = 1;
	double t0, t;
	pid_t pid;
	char c = 0;

	if (pipe(ab) || pipe(ba))
		return -1;
	pid = fork();
	if (pid == 0) {
		/* Only the parent's end may stay open, for read() to see EOF. */
		close(ab[1]);
		close(ba[0]);
		while (read(ab[0], &c, 1) == 1 && write(ba[1], &c, 1) == 1)
			;
		_exit(0);
	}
	close(ab[0]);
	close(ba[1]);
	t0 = now();
	for (i = 0; i < n && ok && pid > 0; i++)
		ok = write(ab[1], &c, 1) == 1 && read(ba[0], &c, 1) == 1;
	t = now() - t0;
	close(ab[1]);
	close(ba[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return pid > 0 && ok ? t / n * 1e6 : -1;
}

/* µs per child forked, exited and waited for. */
static double forks(int n)
{
	double t0 = now();
	int i, status;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, &status, 0) != pid || status)
			return -1;
	}
	return (now() - t0) / n * 1e6;
}

/* The median of 5 runs of @run(@n), after a warm-up. */
static void bench_sched_one(const char *name, double (*run)(int), int n)
{
	double d[5];
	int i;

	run(n / 10);
	for (i = 0; i < 5; i++) {
		d[i] = run(n);
		if (d[i] < 0) {
			bench_error(name, "workload");
			return;
		}
	}
	report(name, median(d, 5), "us/op", "lower");
}

static void bench_sched(void)
{
	char state[32] = "", name[32];
	const char *s;
	FILE *f = fopen("/sys/kernel/sched_ext/state", "r");

	if (f) {
		if (!fgets(state, sizeof(state), f))
			state[0] = 0;
		fclose(f);
	}
	s = strncmp(state, "enabled", 7) ? "fair" : getenv("ST_SCHED") ?: "scx";
	snprintf(name, sizeof(name), "sched_pipe_%s", s);
	bench_sched_one(name, pipe_round_trips, quick ? 200 : 20000);
	snprintf(name, sizeof(name), "sched_fork_%s", s);
	bench_sched_one(name, forks, quick ? 20 : 1000);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN && getenv("ST_VERBOSE") ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	static const char * const cas[] = { "cubic", "bpf_cubic", "dctcp", "bpf_dctcp" };
	static const int nops[] = { 1, 10, 40 }, nmaps[] = { 1, 10, 100 };
	unsigned int i;
	int base;

	quick = argc > 1 && !strcmp(argv[1], "-q");
	pcprof = !!getenv("ST_BENCH_PCPROF");
	if (argc > 1 + quick)
		only = argv[1 + quick];
	libbpf_set_print(quiet);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# %s implementation; guest timings under TCG: compare ratios only\n",
	       st_impl_is_rust() ? "Rust" : "C");
	if (bpf_test_struct_ops_load()) {
		bench_error("setup", "insmod bpf_test_struct_ops");
		return 1;
	}
	btf_fd = st_btf_fd_by_name("bpf_test_struct_ops");
	skel = st_ops__open_and_load();
	if (btf_fd < 0 || !skel) {
		bench_error("setup", "load st_ops");
		return 1;
	}
	/* The module's references once every map we make is gone again. */
	base = st_module_refcnt("bpf_test_struct_ops");

	if (!only || !strcmp(only, "op_call"))
		bench_op_call();
	for (i = 0; i < ARRAY_SIZE(nops); i++)
		if (!only || !strcmp(only, "reg"))
			bench_reg(nops[i], base);
	for (i = 0; i < ARRAY_SIZE(nmaps); i++)
		if (!only || !strcmp(only, "mem"))
			bench_mem(nmaps[i], base);
	for (i = 0; i < ARRAY_SIZE(cas); i++)
		if (!only || !strcmp(only, "tcp"))
			bench_tcp(cas[i]);
	if (!only || !strcmp(only, "sched"))
		bench_sched();

	st_ops__destroy(skel);
	close(btf_fd);
	return errors ? 1 : 0;
}
