// SPDX-License-Identifier: GPL-2.0
/*
 * st_testmod: struct_ops types for the project's tests and benchmarks, with
 * debugfs triggers under /sys/kernel/debug/st_testmod/.
 *
 * st_sleep_ops has one op, sleep, which a sleepable program implements by
 * calling the kfunc st_testmod_wait(): it blocks until "release" is written.
 * Writing to "sleep" calls the op the way a careless subsystem would, without
 * pinning the map. Meanwhile the test unregisters and releases the map: the
 * trampoline the op runs on must stay until the program is done. "state"
 * tells whether the op is running, returned, and whether its trampoline is
 * still intact. Should the trampoline be gone when the op is released, the
 * task stays parked in the kfunc instead of returning into freed text.
 *
 * st_ops1, st_ops3, st_ops10 and st_ops40 have 1, 3, 10 and 40 ops
 * int opN(int). Writing N to "call_op" calls op0 of the first registered
 * st_ops3 N times, "call_native" calls a C function the same way, and
 * "call_ns" reads how long the last loop took. "registered" counts the
 * registered maps of all four types.
 *
 * "jit_current" reads the executable memory charged to BPF
 * (bpf_jit_current), when insmod got its address from /proc/kallsyms as
 * jit_current_addr=: it is not exported.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/debugfs.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include "st_testmod.h"

static unsigned long jit_current_addr;
module_param(jit_current_addr, ulong, 0400);
MODULE_PARM_DESC(jit_current_addr, "address of bpf_jit_current, from /proc/kallsyms");

/* Registered ops, and everything the triggers touch, under st_lock. */
static DEFINE_MUTEX(st_lock);
static struct st_sleep_ops *sleep_ops;
static struct st_ops3 *bench_ops;
static atomic_t registered;

/* The sleep op, as the test reads it back through "state". */
enum {
	ST_ENTERED = 1,		/* the program is in st_testmod_wait() */
	ST_RETURNED = 2,	/* the op returned to its caller */
	ST_INTACT = 4,		/* its trampoline holds the text it had */
	ST_PARKED = 8,		/* released, but the trampoline was gone */
};

static atomic_t sleep_state;
static int sleep_ret;
static bool sleep_released;
static DECLARE_WAIT_QUEUE_HEAD(sleep_wq);
static void *sleep_tramp;
static u8 sleep_text[16];

static bool sleep_tramp_intact(void)
{
	u8 now[sizeof(sleep_text)];

	return !copy_from_kernel_nofault(now, sleep_tramp, sizeof(now)) &&
	       !memcmp(now, sleep_text, sizeof(now));
}

__bpf_kfunc_start_defs();

/* Blocks a sleepable op until "release" is written. */
__bpf_kfunc int st_testmod_wait(void)
{
	atomic_or(ST_ENTERED, &sleep_state);
	wait_event_idle(sleep_wq, READ_ONCE(sleep_released));
	if (!sleep_tramp_intact()) {
		atomic_or(ST_PARKED, &sleep_state);
		/* Returning would run freed text: stay, without a hung-task report. */
		wait_event_idle(sleep_wq, false);
	}
	return 0;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(st_testmod_kfunc_ids)
BTF_ID_FLAGS(func, st_testmod_wait, KF_SLEEPABLE)
BTF_KFUNCS_END(st_testmod_kfunc_ids)

static const struct btf_kfunc_id_set st_testmod_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &st_testmod_kfunc_ids,
};

static int sleep_set(void *data, u64 arg)
{
	int (*op)(int) = NULL;

	mutex_lock(&st_lock);
	if (sleep_ops && !(atomic_read(&sleep_state) & ST_ENTERED)) {
		op = sleep_ops->sleep;
		sleep_tramp = op;
		if (copy_from_kernel_nofault(sleep_text, op, sizeof(sleep_text)))
			op = NULL;
		WRITE_ONCE(sleep_released, false);
	}
	mutex_unlock(&st_lock);
	if (!op)
		return -ENOENT;
	/* No lock and no map reference held: the map may go meanwhile. */
	sleep_ret = op(arg);
	atomic_or(ST_RETURNED, &sleep_state);
	return 0;
}

static int state_get(void *data, u64 *val)
{
	int s = atomic_read(&sleep_state);

	if ((s & ST_ENTERED) && !(s & ST_RETURNED) && sleep_tramp_intact())
		s |= ST_INTACT;
	*val = s;
	return 0;
}

static int state_set(void *data, u64 val)
{
	/* Starts over once the last op returned. */
	if ((atomic_read(&sleep_state) & (ST_ENTERED | ST_RETURNED)) == ST_ENTERED)
		return -EBUSY;
	atomic_set(&sleep_state, 0);
	return 0;
}

static int sleep_ret_get(void *data, u64 *val)
{
	*val = sleep_ret;
	return 0;
}

static int release_set(void *data, u64 val)
{
	WRITE_ONCE(sleep_released, true);
	wake_up_all(&sleep_wq);
	return 0;
}

static u64 call_ns;
static int call_sum;

static noinline int st_native_op(int x)
{
	return x + 1;
}

static u64 call_loop(int (*op)(int), u64 n)
{
	u64 i, t0 = ktime_get_ns();
	int sum = 0;

	for (i = 0; i < n; i++) {
		/* An indirect call each time, as a subsystem makes it. */
		OPTIMIZER_HIDE_VAR(op);
		sum += op(i);
		if (!(i & 0xffff))
			cond_resched();
	}
	call_sum = sum;
	return ktime_get_ns() - t0;
}

static int call_op_set(void *data, u64 n)
{
	int err = -ENOENT;

	mutex_lock(&st_lock);
	if (bench_ops && bench_ops->op0) {
		call_ns = call_loop(bench_ops->op0, n);
		err = call_sum == (int)(n * (n + 1) / 2) ? 0 : -EIO;
	}
	mutex_unlock(&st_lock);
	return err;
}

static int call_native_set(void *data, u64 n)
{
	mutex_lock(&st_lock);
	call_ns = call_loop(st_native_op, n);
	mutex_unlock(&st_lock);
	return 0;
}

static int call_ns_get(void *data, u64 *val)
{
	*val = call_ns;
	return 0;
}

static int registered_get(void *data, u64 *val)
{
	*val = atomic_read(&registered);
	return 0;
}

static int jit_current_get(void *data, u64 *val)
{
	long cur;

	if (!jit_current_addr ||
	    copy_from_kernel_nofault(&cur, (void *)jit_current_addr, sizeof(cur)))
		return -ENODATA;
	*val = cur;	/* bytes */
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(sleep_fops, NULL, sleep_set, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(state_fops, state_get, state_set, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(sleep_ret_fops, sleep_ret_get, NULL, "%lld\n");
DEFINE_DEBUGFS_ATTRIBUTE(release_fops, NULL, release_set, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(call_op_fops, NULL, call_op_set, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(call_native_fops, NULL, call_native_set, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(call_ns_fops, call_ns_get, NULL, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(registered_fops, registered_get, NULL, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(jit_current_fops, jit_current_get, NULL, "%llu\n");

static const struct {
	const char *name;
	umode_t mode;
	const struct file_operations *fops;
} st_files[] = {
	{ "sleep", 0200, &sleep_fops },
	{ "state", 0600, &state_fops },
	{ "sleep_ret", 0400, &sleep_ret_fops },
	{ "release", 0200, &release_fops },
	{ "call_op", 0200, &call_op_fops },
	{ "call_native", 0200, &call_native_fops },
	{ "call_ns", 0400, &call_ns_fops },
	{ "registered", 0400, &registered_fops },
	{ "jit_current", 0400, &jit_current_fops },
};

/* The struct_ops types. */

static const struct bpf_verifier_ops st_verifier_ops = {
	.get_func_proto = bpf_base_func_proto,
	.is_valid_access = bpf_tracing_btf_ctx_access,
};

static int st_init(struct btf *btf)
{
	return 0;
}

/* Linux 6.12's C code calls init_member() without checking for NULL. */
static int st_init_member(const struct btf_type *t, const struct btf_member *member,
			  void *kdata, const void *udata)
{
	return 0;
}

static int st_sleep_reg(void *kdata, struct bpf_link *link)
{
	int err = 0;

	mutex_lock(&st_lock);
	if (sleep_ops)
		err = -EBUSY;
	else
		sleep_ops = kdata;
	mutex_unlock(&st_lock);
	if (!err)
		atomic_inc(&registered);
	return err;
}

static void st_sleep_unreg(void *kdata, struct bpf_link *link)
{
	mutex_lock(&st_lock);
	if (sleep_ops == kdata)
		sleep_ops = NULL;
	mutex_unlock(&st_lock);
	atomic_dec(&registered);
}

static int st_sleep_stub(int arg)
{
	return 0;
}

static struct st_sleep_ops st_sleep_stubs = {
	.sleep = st_sleep_stub,
};

static struct bpf_struct_ops st_sleep_struct_ops = {
	.verifier_ops = &st_verifier_ops,
	.init = st_init,
	.init_member = st_init_member,
	.reg = st_sleep_reg,
	.unreg = st_sleep_unreg,
	.cfi_stubs = &st_sleep_stubs,
	.name = "st_sleep_ops",
	.owner = THIS_MODULE,
};

static int st_ops_reg(void *kdata, struct bpf_link *link)
{
	atomic_inc(&registered);
	return 0;
}

static void st_ops_unreg(void *kdata, struct bpf_link *link)
{
	atomic_dec(&registered);
}

static int st_ops3_reg(void *kdata, struct bpf_link *link)
{
	mutex_lock(&st_lock);
	if (!bench_ops)
		bench_ops = kdata;
	mutex_unlock(&st_lock);
	return st_ops_reg(kdata, link);
}

static void st_ops3_unreg(void *kdata, struct bpf_link *link)
{
	mutex_lock(&st_lock);
	if (bench_ops == kdata)
		bench_ops = NULL;
	mutex_unlock(&st_lock);
	st_ops_unreg(kdata, link);
}

static int st_op_stub(int x)
{
	return 0;
}

/* The CFI stubs: each struct is nothing but func ptrs, all of them this. */
static int (*st_ops1_stubs[1])(int) = { [0] = st_op_stub };
static int (*st_ops3_stubs[3])(int) = { [0 ... 2] = st_op_stub };
static int (*st_ops10_stubs[10])(int) = { [0 ... 9] = st_op_stub };
static int (*st_ops40_stubs[40])(int) = { [0 ... 39] = st_op_stub };

#define ST_STRUCT_OPS(type, reg_fn, unreg_fn)				\
	static struct bpf_struct_ops type##_struct_ops = {		\
		.verifier_ops = &st_verifier_ops,			\
		.init = st_init,					\
		.init_member = st_init_member,				\
		.reg = reg_fn,						\
		.unreg = unreg_fn,					\
		.cfi_stubs = type##_stubs,				\
		.name = #type,						\
		.owner = THIS_MODULE,					\
	}
ST_STRUCT_OPS(st_ops1, st_ops_reg, st_ops_unreg);
ST_STRUCT_OPS(st_ops3, st_ops3_reg, st_ops3_unreg);
ST_STRUCT_OPS(st_ops10, st_ops_reg, st_ops_unreg);
ST_STRUCT_OPS(st_ops40, st_ops_reg, st_ops_unreg);

static struct dentry *st_dir;

static int __init st_testmod_init(void)
{
	unsigned int i;
	int ret;

	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS, &st_testmod_kfunc_set);
	ret = ret ?: register_bpf_struct_ops(&st_sleep_struct_ops, st_sleep_ops);
	ret = ret ?: register_bpf_struct_ops(&st_ops1_struct_ops, st_ops1);
	ret = ret ?: register_bpf_struct_ops(&st_ops3_struct_ops, st_ops3);
	ret = ret ?: register_bpf_struct_ops(&st_ops10_struct_ops, st_ops10);
	ret = ret ?: register_bpf_struct_ops(&st_ops40_struct_ops, st_ops40);
	if (ret)
		return ret;
	st_dir = debugfs_create_dir("st_testmod", NULL);
	for (i = 0; i < ARRAY_SIZE(st_files); i++)
		debugfs_create_file_unsafe(st_files[i].name, st_files[i].mode, st_dir,
					   NULL, st_files[i].fops);
	return 0;
}

static void __exit st_testmod_exit(void)
{
	debugfs_remove_recursive(st_dir);
}

module_init(st_testmod_init);
module_exit(st_testmod_exit);

MODULE_DESCRIPTION("struct_ops types for the bpf_struct_ops tests and benchmarks");
MODULE_LICENSE("GPL");
