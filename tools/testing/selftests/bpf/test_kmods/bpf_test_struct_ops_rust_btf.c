// SPDX-License-Identifier: GPL-2.0
/*
 * The C half of bpf_test_struct_ops_rust: what BTF must see of the struct_ops types
 * bpf_test_struct_ops_rust_ops.rs defines (their CFI stubs and value types, which
 * register_bpf_struct_ops() emits), and the debugfs files under
 * /sys/kernel/debug/bpf_test_struct_ops_rust/ through which the tests make Rust call
 * the ops:
 *
 * - "call": writing "OP ARG" calls op OP (bpf_test_struct_ops_rust.h) of the
 *   registered st_rust_ops map with ARG; "ret" reads what it returned. The
 *   write fails with ENODEV when no map is registered, ENOENT when the map
 *   leaves the op NULL, EINVAL when Rust's declaration of the op disagrees
 *   with BTF.
 * - "call_loop": writing N calls test_1 N times, "call_ns" reads how long
 *   it took (op_call's Rust row in st_bench).
 * - "registered": how many maps are registered.
 * - "bad_err": what registering st_rust_bad returned, whose Rust struct
 *   disagrees with BTF (-EINVAL expected).
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include "bpf_test_struct_ops_rust_btf.h"
#include "bpf_test_struct_ops_rust.h"

static int st_rust_ops__test_1(int x)
{
	return 0;
}

static int st_rust_ops__test_2(struct st_rust_arg *arg, int x)
{
	return 0;
}

static int st_rust_ops__test_nullable(struct st_rust_arg *arg__nullable)
{
	return 0;
}

static int st_rust_ops__test_sleep(int x)
{
	return 0;
}

static void st_rust_ops__test_void(int x)
{
}

static int st_rust_ops__test_mistyped(int x)
{
	return 0;
}

static int st_rust_ops__test_not_nullable(struct st_rust_arg *arg)
{
	return 0;
}

static int st_rust_ops__test_const(const struct st_rust_arg *arg__nullable)
{
	return 0;
}

static int st_rust_ops__test_enum(enum bpf_access_type t)
{
	return 0;
}

/* The CFI stubs, which Rust's tables point to. */
const struct st_rust_ops st_rust_ops_stubs = {
	.test_1 = st_rust_ops__test_1,
	.test_2 = st_rust_ops__test_2,
	.test_nullable = st_rust_ops__test_nullable,
	.test_sleep = st_rust_ops__test_sleep,
	.test_void = st_rust_ops__test_void,
	.test_mistyped = st_rust_ops__test_mistyped,
	.test_not_nullable = st_rust_ops__test_not_nullable,
	.test_const = st_rust_ops__test_const,
	.test_enum = st_rust_ops__test_enum,
};

static int st_rust_bad__op(int x)
{
	return 0;
}

const struct st_rust_bad st_rust_bad_stubs = {
	.op = st_rust_bad__op,
};

static int bad_err;

static ssize_t call_write(struct file *file, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct dentry *dentry = file->f_path.dentry;
	char buf[32];
	int arg, err;
	u32 op;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	if (sscanf(buf, "%u %d", &op, &arg) != 2)
		return -EINVAL;
	err = debugfs_file_get(dentry);
	if (err)
		return err;
	err = st_rust_call(op, arg);
	debugfs_file_put(dentry);
	return err ? err : len;
}

static const struct file_operations call_fops = {
	.owner = THIS_MODULE,
	.write = call_write,
};

static int ret_get(void *data, u64 *val)
{
	*val = st_rust_call_ret();
	return 0;
}

static int call_loop_set(void *data, u64 n)
{
	return st_rust_call_loop(n);
}

static int call_ns_get(void *data, u64 *val)
{
	*val = st_rust_call_ns();
	return 0;
}

static int registered_get(void *data, u64 *val)
{
	*val = st_rust_registered();
	return 0;
}

static int bad_err_get(void *data, u64 *val)
{
	*val = bad_err;
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(ret_fops, ret_get, NULL, "%lld\n");
DEFINE_DEBUGFS_ATTRIBUTE(call_loop_fops, NULL, call_loop_set, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(call_ns_fops, call_ns_get, NULL, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(registered_fops, registered_get, NULL, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(bad_err_fops, bad_err_get, NULL, "%lld\n");

static struct dentry *st_dir;

/*
 * Registers Rust's tables of st_rust_ops and st_rust_bad as types of this
 * module, then makes the debugfs files: called by the Rust module's init.
 */
int st_rust_btf_init(struct bpf_struct_ops *ops, struct bpf_struct_ops *bad)
{
	int err;

	err = register_bpf_struct_ops(ops, st_rust_ops);
	if (err)
		return err;
	bad_err = register_bpf_struct_ops(bad, st_rust_bad);
	st_dir = debugfs_create_dir("bpf_test_struct_ops_rust", NULL);
	debugfs_create_file_unsafe("call", 0200, st_dir, NULL, &call_fops);
	debugfs_create_file_unsafe("ret", 0400, st_dir, NULL, &ret_fops);
	debugfs_create_file_unsafe("call_loop", 0200, st_dir, NULL, &call_loop_fops);
	debugfs_create_file_unsafe("call_ns", 0400, st_dir, NULL, &call_ns_fops);
	debugfs_create_file_unsafe("registered", 0400, st_dir, NULL, &registered_fops);
	debugfs_create_file_unsafe("bad_err", 0400, st_dir, NULL, &bad_err_fops);
	return 0;
}

/* Removes the debugfs files, waiting for the calls in progress. */
void st_rust_btf_exit(void)
{
	debugfs_remove_recursive(st_dir);
}
