// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_test_struct_ops: struct_ops types for the project's tests and benchmarks, with
 * debugfs triggers under /sys/kernel/debug/bpf_test_struct_ops/.
 *
 * st_sleep_ops has one op, sleep, which a sleepable program implements by
 * calling the kfunc bpf_test_struct_ops_wait(): it blocks until "release" is written.
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
 * registered maps of all the module's types.
 *
 * st_many5 to st_many9 have one op each, int op0(int): registered after the
 * five types above, they make ten, so that the table of descriptors 7.3
 * keeps for the module's BTF is reallocated twice (bpf_test_struct_ops.h). Writing
 * "TYPE ARG" to "call_type" calls op0 of the first registered map of type
 * TYPE (its index in bpf_test_struct_ops.h, 1 to 9) with ARG; "call_ret" reads what
 * it returned.
 *
 * Writing N to "call_mistyped" calls op0 of the first registered st_ops3
 * with N, but through a function pointer of another type: under kCFI the
 * call traps at its check, since the trampoline carries the hash of op0's
 * type (int (int)); without kCFI it runs the op, and "call_ret" reads what
 * it returned.
 *
 * "jit_current" reads the executable memory charged to BPF
 * (bpf_jit_current), when insmod got its address from /proc/kallsyms as
 * jit_current_addr=: it is not exported.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/tick.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include "bpf_test_struct_ops.h"

static unsigned long jit_current_addr;
module_param(jit_current_addr, ulong, 0400);
MODULE_PARM_DESC(jit_current_addr, "address of bpf_jit_current, from /proc/kallsyms");

/* Registered ops, and everything the triggers touch, under st_lock. */
static DEFINE_MUTEX(st_lock);
static struct st_sleep_ops *sleep_ops;
/*
 * The first registered map of each type but st_sleep_ops, by its index
 * (bpf_test_struct_ops.h). Every one of these types begins with int (*op0)(int).
 */
static void *type_ops[ST_NR_TYPES];
static atomic_t registered;

/* The sleep op, as the test reads it back through "state". */
enum {
	ST_ENTERED = 1,		/* the program is in bpf_test_struct_ops_wait() */
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
__bpf_kfunc int bpf_test_struct_ops_wait(void)
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

BTF_KFUNCS_START(bpf_test_struct_ops_kfunc_ids)
BTF_ID_FLAGS(func, bpf_test_struct_ops_wait, KF_SLEEPABLE)
BTF_KFUNCS_END(bpf_test_struct_ops_kfunc_ids)

static const struct btf_kfunc_id_set bpf_test_struct_ops_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &bpf_test_struct_ops_kfunc_ids,
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
	struct st_ops3 *ops;
	int err = -ENOENT;

	mutex_lock(&st_lock);
	ops = type_ops[ST_T_OPS3];
	if (ops && ops->op0) {
		call_ns = call_loop(ops->op0, n);
		err = call_sum == (int)(n * (n + 1) / 2) ? 0 : -EIO;
	}
	mutex_unlock(&st_lock);
	return err;
}

static int call_type_ret;

/* The wrong type for op0 (int op0(int)), on purpose: see "call_mistyped". */
typedef long (*st_mistyped_fn)(long, long);

static int call_mistyped_set(void *data, u64 arg)
{
	struct st_ops3 *ops;
	st_mistyped_fn fn;
	int err = -ENOENT;

	mutex_lock(&st_lock);
	ops = type_ops[ST_T_OPS3];
	if (ops && ops->op0) {
		fn = (st_mistyped_fn)(void *)ops->op0;
		OPTIMIZER_HIDE_VAR(fn);
		call_type_ret = fn(arg, 0);
		err = 0;
	}
	mutex_unlock(&st_lock);
	return err;
}

/* Calls op0 of the first registered map of @type, as call_op does. */
static int call_type(unsigned int type, int arg)
{
	struct st_ops1 *ops;
	int err = -ENOENT;

	/* st_sleep_ops' op would block. */
	if (type == ST_T_SLEEP || type >= ST_NR_TYPES)
		return -EINVAL;
	mutex_lock(&st_lock);
	/* Any of these types will do: op0 is where st_ops1 has it. */
	ops = type_ops[type];
	if (ops && ops->op0) {
		call_type_ret = ops->op0(arg);
		err = 0;
	}
	mutex_unlock(&st_lock);
	return err;
}

/* "TYPE ARG" */
static ssize_t call_type_write(struct file *file, const char __user *ubuf, size_t len,
			       loff_t *ppos)
{
	struct dentry *dentry = file->f_path.dentry;
	unsigned int type;
	char buf[32];
	int arg, err;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	if (sscanf(buf, "%u %d", &type, &arg) != 2)
		return -EINVAL;
	err = debugfs_file_get(dentry);
	if (err)
		return err;
	err = call_type(type, arg);
	debugfs_file_put(dentry);
	if (err)
		return err;
	return len;
}

static const struct file_operations call_type_fops = {
	.owner = THIS_MODULE,
	.write = call_type_write,
};

static int call_ret_get(void *data, u64 *val)
{
	*val = call_type_ret;
	return 0;
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
DEFINE_DEBUGFS_ATTRIBUTE(call_ret_fops, call_ret_get, NULL, "%lld\n");
DEFINE_DEBUGFS_ATTRIBUTE(call_mistyped_fops, NULL, call_mistyped_set, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(registered_fops, registered_get, NULL, "%llu\n");

/*
 * The time every CPU spent idle (and in iowait), in ns, for st_bench's
 * busy time: under QEMU's instruction counting the clock runs one
 * nanosecond per instruction, and jumps over idle periods.
 */
static int idle_ns_get(void *data, u64 *val)
{
	unsigned int cpu;
	u64 us = 0;

	for_each_possible_cpu(cpu)
		us += get_cpu_idle_time_us(cpu, NULL) + get_cpu_iowait_time_us(cpu, NULL);
	*val = us * NSEC_PER_USEC;
	return 0;
}

/* Runs every RCU callback queued so far (st_bench's deferred work). */
static int rcu_barrier_set(void *data, u64 val)
{
	rcu_barrier();
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(idle_ns_fops, idle_ns_get, NULL, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(rcu_barrier_fops, NULL, rcu_barrier_set, "%llu\n");
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
	{ "call_type", 0200, &call_type_fops },
	{ "call_ret", 0400, &call_ret_fops },
	{ "call_mistyped", 0200, &call_mistyped_fops },
	{ "registered", 0400, &registered_fops },
	{ "jit_current", 0400, &jit_current_fops },
	{ "idle_ns", 0400, &idle_ns_fops },
	{ "rcu_barrier", 0200, &rcu_barrier_fops },
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

/* Linux 7.3's C code calls init_member() without checking for NULL. */
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

static int st_type_reg(unsigned int type, void *kdata)
{
	mutex_lock(&st_lock);
	if (!type_ops[type])
		type_ops[type] = kdata;
	mutex_unlock(&st_lock);
	atomic_inc(&registered);
	return 0;
}

/* Waits for a call_op or call_type in progress on this map. */
static void st_type_unreg(unsigned int type, void *kdata)
{
	mutex_lock(&st_lock);
	if (type_ops[type] == kdata)
		type_ops[type] = NULL;
	mutex_unlock(&st_lock);
	atomic_dec(&registered);
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
static int (*st_many5_stubs[1])(int) = { [0] = st_op_stub };
static int (*st_many6_stubs[1])(int) = { [0] = st_op_stub };
static int (*st_many7_stubs[1])(int) = { [0] = st_op_stub };
static int (*st_many8_stubs[1])(int) = { [0] = st_op_stub };
static int (*st_many9_stubs[1])(int) = { [0] = st_op_stub };

/* @type's reg and unreg, which know its index, and its bpf_struct_ops. */
#define ST_STRUCT_OPS(type, index)					\
	static const unsigned int type##_index = index;			\
	static int type##_reg(void *kdata, struct bpf_link *link)	\
	{								\
		return st_type_reg(type##_index, kdata);		\
	}								\
	static void type##_unreg(void *kdata, struct bpf_link *link)	\
	{								\
		st_type_unreg(type##_index, kdata);			\
	}								\
	static struct bpf_struct_ops type##_struct_ops = {		\
		.verifier_ops = &st_verifier_ops,			\
		.init = st_init,					\
		.init_member = st_init_member,				\
		.reg = type##_reg,					\
		.unreg = type##_unreg,					\
		.cfi_stubs = type##_stubs,				\
		.name = #type,						\
		.owner = THIS_MODULE,					\
	}
ST_STRUCT_OPS(st_ops1, ST_T_OPS1);
ST_STRUCT_OPS(st_ops3, ST_T_OPS3);
ST_STRUCT_OPS(st_ops10, ST_T_OPS10);
ST_STRUCT_OPS(st_ops40, ST_T_OPS40);
ST_STRUCT_OPS(st_many5, ST_T_MANY5);
ST_STRUCT_OPS(st_many6, ST_T_MANY6);
ST_STRUCT_OPS(st_many7, ST_T_MANY7);
ST_STRUCT_OPS(st_many8, ST_T_MANY8);
ST_STRUCT_OPS(st_many9, ST_T_MANY9);

static struct dentry *st_dir;

static int __init bpf_test_struct_ops_init(void)
{
	unsigned int i;
	int ret;

	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS, &bpf_test_struct_ops_kfunc_set);
	ret = ret ?: register_bpf_struct_ops(&st_sleep_struct_ops, st_sleep_ops);
	ret = ret ?: register_bpf_struct_ops(&st_ops1_struct_ops, st_ops1);
	ret = ret ?: register_bpf_struct_ops(&st_ops3_struct_ops, st_ops3);
	ret = ret ?: register_bpf_struct_ops(&st_ops10_struct_ops, st_ops10);
	ret = ret ?: register_bpf_struct_ops(&st_ops40_struct_ops, st_ops40);
	/* In the order of their index in bpf_test_struct_ops.h, as the ones above. */
	ret = ret ?: register_bpf_struct_ops(&st_many5_struct_ops, st_many5);
	ret = ret ?: register_bpf_struct_ops(&st_many6_struct_ops, st_many6);
	ret = ret ?: register_bpf_struct_ops(&st_many7_struct_ops, st_many7);
	ret = ret ?: register_bpf_struct_ops(&st_many8_struct_ops, st_many8);
	ret = ret ?: register_bpf_struct_ops(&st_many9_struct_ops, st_many9);
	if (ret)
		return ret;
	st_dir = debugfs_create_dir("bpf_test_struct_ops", NULL);
	for (i = 0; i < ARRAY_SIZE(st_files); i++)
		debugfs_create_file_unsafe(st_files[i].name, st_files[i].mode, st_dir,
					   NULL, st_files[i].fops);
	return 0;
}

static void __exit bpf_test_struct_ops_exit(void)
{
	debugfs_remove_recursive(st_dir);
}

module_init(bpf_test_struct_ops_init);
module_exit(bpf_test_struct_ops_exit);

MODULE_DESCRIPTION("struct_ops types for the bpf_struct_ops tests and benchmarks");
MODULE_LICENSE("GPL");
