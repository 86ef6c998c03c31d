// SPDX-License-Identifier: GPL-2.0
/*
 * struct_ops types defined by modules: a map of bpf_testmod's type pins
 * the module, bpf_test_struct_ops's ten types are each called through their maps,
 * kCFI stops a mistyped call (run alone), and a sleepable op outlives its
 * unregistration safely (run last).
 */
#include "struct_ops_map.h"
#include "testmod_ops.skel.h"
#include "st_sleep.skel.h"
#include "many_types.skel.h"
#include "test_kmods/bpf_test_struct_ops.h"

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
static void test_pins_module(void)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), btf_id;
	struct testmod_ops *s = NULL;
	int map_fd = -1;

	if (access("/sys/module/bpf_testmod", F_OK) &&
	    !ASSERT_OK(load_bpf_testmod(false), "load_bpf_testmod"))
		goto out;
	btf_id = testmod_btf_id();
	if (!ASSERT_TRUE(btf_id, "no BTF object for bpf_testmod"))
		goto out;
	s = testmod_ops__open_and_load();
	if (!ASSERT_TRUE(s, "load testmod_ops"))
		goto out;
	map_fd = dup(bpf_map__fd(s->maps.testmod_1));
	if (!ASSERT_GE(map_fd, 0, "dup"))
		goto out;
	if (!ASSERT_OK(bpf_map_get_info_by_fd(map_fd, &info, &len), "bpf_map_get_info_by_fd"))
		goto out;
	if (!ASSERT_EQ(info.btf_vmlinux_id, btf_id, "value BTF object: want bpf_testmod's"))
		goto out;
	testmod_ops__destroy(s);
	s = NULL;
	if (!ASSERT_ERRNO(rmmod_testmod(), EWOULDBLOCK,
			  "bpf_testmod unloaded under a map of its type"))
		goto out;
	close(map_fd);
	map_fd = -1;
	if (!ASSERT_TRUE(st_wait(rmmod_testmod() == 0, 3000),
			 "bpf_testmod still pinned after its map went"))
		goto out;
out:
	if (map_fd >= 0)
		close(map_fd);
	testmod_ops__destroy(s);
	/* Loaded again, as test_progs loaded it: later tests may use it. */
	if (access("/sys/module/bpf_testmod", F_OK))
		ASSERT_OK(load_bpf_testmod(false), "reload bpf_testmod");
}

/* bpf_test_struct_ops's types that "call_type" calls, and many_types' maps of them. */
static const struct {
	int type;		/* its index, ST_T_* in bpf_test_struct_ops.h */
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
 * bpf_test_struct_ops calls op0 of its first registered map of type @type with @arg
 * ("TYPE ARG" to its "call_type"): 0 and what op0 returned in *ret, or -1
 * and errno (ENOENT: no map of that type is registered).
 */
static int many_call(int type, int arg, long long *ret)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d %d", type, arg);
	if (st_write_file("/sys/kernel/debug/bpf_test_struct_ops/call_type", buf))
		return -1;
	*ret = bpf_test_struct_ops_get("call_ret");
	return 0;
}

/*
 * A module with ten struct_ops types. Linux 7.3 keeps the descriptors of a
 * BTF's struct_ops types in a table of 4 that it grows with krealloc(), to 8
 * and 16, which does not zero, and sets only .st_ops of the new entry before
 * bpf_struct_ops_desc_init(): a desc init that reads anything else of its
 * entry sees stale memory from the module's 5th type on. Each of
 * bpf_test_struct_ops's types 1 to 9 (all but st_sleep_ops, slot 0) registers its
 * map of many_types, shows it INUSE with its program in op0, and bpf_test_struct_ops
 * calls op0, which must return ST_MANY_RET(type, arg); then all nine, still
 * registered, are called again, and each unregisters. At the end the maps
 * and programs let go of the module.
 */
static void test_many_types(void)
{
	struct bpf_link *links[N_MANY] = {};
	struct many_types *s = NULL;
	struct st_layout mod = {}, l;
	unsigned char v[4096];
	int refcnt, arg, fd;
	long long base, ret = 0;
	unsigned int i, j;
	__u32 zero = 0;

	if (!ASSERT_OK(bpf_test_struct_ops_load(), "bpf_test_struct_ops_load"))
		goto out;
	refcnt = st_module_refcnt("bpf_test_struct_ops");
	base = bpf_test_struct_ops_get("registered");
	if (!ASSERT_TRUE(refcnt >= 0 && base >= 0, "bpf_test_struct_ops: refcnt, registered"))
		goto out;
	if (!ASSERT_EQ(st_layout_get_mod("st_ops1", "bpf_test_struct_ops", &mod), 0,
		       "no bpf_struct_ops_st_ops1 in bpf_test_struct_ops's BTF"))
		goto out;
	s = many_types__open_and_load();
	if (!ASSERT_TRUE(s, "load many_types"))
		goto out;

	for (i = 0; i < N_MANY; i++) {
		const char *name = many_tab[i].name;
		int t = many_tab[i].type;
		struct bpf_program *prog;
		struct bpf_map *map;
		char pname[32];
		__u32 prog_id;

		/* Shown with a failure: which type failed. */
		printf("type %s\n", name);
		arg = 17 * t - 50;
		if (!ASSERT_ERRNO(many_call(t, arg, &ret), ENOENT, "many_call"))
			goto out;
		map = bpf_object__find_map_by_name(s->obj, name);
		snprintf(pname, sizeof(pname), "%s_op0", name);
		prog = bpf_object__find_program_by_name(s->obj, pname);
		if (!ASSERT_TRUE(map && prog, "no map or program in many_types"))
			goto out;
		if (!ASSERT_EQ(st_layout_find(mod.btf, name, &l), 0,
			       "the type's value in bpf_test_struct_ops's BTF"))
			goto out;
		if (!ASSERT_TRUE(bpf_map__value_size(map) == l.value_size &&
				 l.value_size <= sizeof(v), "value size, BTF says"))
			goto out;
		prog_id = st_prog_id(bpf_program__fd(prog));
		if (!ASSERT_TRUE(prog_id, "no id"))
			goto out;

		links[i] = bpf_map__attach_struct_ops(map);
		if (!ASSERT_TRUE(links[i], "register (type)"))
			goto out;
		if (!ASSERT_EQ(bpf_test_struct_ops_get("registered"), base + i + 1,
			       "registered: bpf_test_struct_ops counts registered maps"))
			goto out;
		fd = bpf_map__fd(map);
		if (!ASSERT_OK(bpf_map_lookup_elem(fd, &zero, v), "bpf_map_lookup_elem"))
			goto out;
		if (!ASSERT_EQ(st_state(v), ST_INUSE, "state: want INUSE"))
			goto out;
		if (!ASSERT_EQ(st_refcnt(v), 1, "refcnt: want 1 (the registration)"))
			goto out;
		if (!ASSERT_TRUE(all_zero(v + 8, l.data_off - 8), "non-zero bytes before the ops"))
			goto out;
		if (!ASSERT_EQ(*(__u64 *)(v + l.data_off), prog_id, "op0 holds: want prog id"))
			goto out;
		if (!ASSERT_TRUE(all_zero(v + l.data_off + 8, l.value_size - l.data_off - 8),
				 "non-zero bytes after op0, which is its only op set"))
			goto out;

		if (!ASSERT_EQ(many_call(t, arg, &ret), 0, "bpf_test_struct_ops's call of op0"))
			goto out;
		if (!ASSERT_EQ(ret, ST_MANY_RET(t, arg), "op0 returned"))
			goto out;
	}

	/* All nine registered at once: each call reaches its own type's map. */
	for (i = 0; i < N_MANY; i++) {
		int t = many_tab[i].type;

		arg = -7 * t;
		if (!ASSERT_EQ(many_call(t, arg, &ret), 0, "bpf_test_struct_ops's call of op0"))
			goto out;
		if (!ASSERT_EQ(ret, ST_MANY_RET(t, arg), "all registered: op0 returned"))
			goto out;
	}

	for (i = 0; i < N_MANY; i++) {
		const char *name = many_tab[i].name;
		struct bpf_link *link = links[i];
		int t = many_tab[i].type;

		links[i] = NULL;
		if (!ASSERT_EQ(bpf_link__destroy(link), 0, "unregister"))
			goto out;
		if (!ASSERT_EQ(bpf_test_struct_ops_get("registered"), base + N_MANY - i - 1,
			       "unregistered: bpf_test_struct_ops counts registered maps"))
			goto out;
		if (!ASSERT_ERRNO(many_call(t, 1, &ret), ENOENT, "many_call"))
			goto out;
		fd = bpf_map__fd(bpf_object__find_map_by_name(s->obj, name));
		if (!ASSERT_OK(bpf_map_lookup_elem(fd, &zero, v), "bpf_map_lookup_elem"))
			goto out;
		if (!ASSERT_EQ(st_state(v), ST_TOBEFREE, "state after unregister: want TOBEFREE"))
			goto out;
		/* The types still registered are still called. */
		for (j = i + 1; j < N_MANY; j++) {
			t = many_tab[j].type;
			if (!ASSERT_TRUE(many_call(t, 3, &ret) == 0 && ret == ST_MANY_RET(t, 3),
					 "unregistered: 's op0(3) returned"))
				goto out;
		}
	}
	if (!ASSERT_EQ(bpf_test_struct_ops_get("registered"), base,
		       "bpf_test_struct_ops counts registered maps"))
		goto out;

	many_types__destroy(s);
	s = NULL;
	if (!ASSERT_TRUE(st_wait(st_module_refcnt("bpf_test_struct_ops") == refcnt, 10000),
			 "the module has references, before: a map or program of it was not freed"))
		goto out;
out:
	for (i = 0; i < N_MANY; i++)
		bpf_link__destroy(links[i]);
	many_types__destroy(s);
	btf__free(mod.btf);
}

/* bpf_test_struct_ops's "state" bits (test_kmods/bpf_test_struct_ops.c). */
enum { SLEEP_ENTERED = 1, SLEEP_RETURNED = 2, SLEEP_INTACT = 4, SLEEP_PARKED = 8 };

static int sleep_state(void)
{
	long long v = bpf_test_struct_ops_get("state");

	return v < 0 ? 0 : (int)v;
}

/*
 * Run alone, on a kCFI kernel (make test CFI=1, harness/cfi-check.sh):
 * bpf_test_struct_ops calls a registered st_ops3's op0, int (*)(int), a BPF
 * trampoline, first through its own type, which must work (cfi.right_type),
 * then through a long (*)(long, long) pointer ("call_mistyped"). Under kCFI
 * the second call traps at its check and never returns: the host finds
 * the report in the console log. Should it return, kCFI did not stop it,
 * and the test fails. It runs only with STRUCT_OPS_MAP_CFI_OOPS set in the
 * environment, as the guest's cfi mode runs it.
 */
void test_struct_ops_map_cfi_mistyped_call(void)
{
	struct bpf_link *link = NULL;
	struct many_types *s;
	struct bpf_map *map;
	long long ret = 0;

	/* It oopses on purpose on a kCFI kernel: only when asked for. */
	if (!getenv("STRUCT_OPS_MAP_CFI_OOPS")) {
		test__skip();
		return;
	}
	if (!ASSERT_OK(bpf_test_struct_ops_load(), "bpf_test_struct_ops_load"))
		return;
	s = many_types__open_and_load();
	if (!ASSERT_TRUE(s, "load many_types"))
		return;
	map = bpf_object__find_map_by_name(s->obj, "st_ops3");
	if (!ASSERT_TRUE(map, "no map st_ops3 in many_types"))
		goto out;
	link = bpf_map__attach_struct_ops(map);
	if (!ASSERT_TRUE(link, "register st_ops3"))
		goto out;
	if (many_call(ST_T_OPS3, 41, &ret) || ret != ST_MANY_RET(ST_T_OPS3, 41))
		fprintf(env.stdout_saved,
			"not ok cfi.right_type - op0 through its own type: %s, returned %lld\n",
			strerror(errno), ret);
	else
		fprintf(env.stdout_saved, "ok cfi.right_type\n");
	/* Straight to the results: the test never returns to have its log shown. */
	fflush(env.stdout_saved);
	st_write_file("/dev/kmsg", "struct_ops_map: op0 through a mistyped pointer");
	if (st_write_file("/sys/kernel/debug/bpf_test_struct_ops/call_mistyped", "41"))
		PRINT_FAIL("call_mistyped: %s\n", strerror(errno));
	else
		PRINT_FAIL("the mistyped call returned %lld\n",
			   bpf_test_struct_ops_get("call_ret"));
out:
	bpf_link__destroy(link);
	many_types__destroy(s);
}

/*
 * A sleepable op still running while its map is unregistered and released:
 * freeing the map must wait for the program (RCU tasks trace) and then for
 * the trampoline's tail (RCU tasks) before the trampoline goes. bpf_test_struct_ops
 * calls the op without pinning the map; the program blocks in a kfunc until
 * released. Linux 7.3's C code frees the trampoline under it: bpf_test_struct_ops
 * then parks the op rather than return into freed text, and this fails.
 *
 * On a kernel that fails it, an op stays parked in bpf_test_struct_ops for good:
 * the guest runs it after every other test.
 */
void test_struct_ops_map_sleepable_release(void)
{
	struct bpf_link *link = NULL;
	struct st_sleep *s = NULL;
	int base, status, intact;
	pid_t child = -1;
	__u32 id;

	if (!ASSERT_OK(bpf_test_struct_ops_load(), "bpf_test_struct_ops_load"))
		goto out;
	base = st_module_refcnt("bpf_test_struct_ops");
	if (!ASSERT_EQ(bpf_test_struct_ops_set("state", 0), 0,
		       "an earlier op is still in the module (parked: its trampoline was freed)"))
		goto out;
	s = st_sleep__open_and_load();
	if (!ASSERT_TRUE(s, "load st_sleep"))
		goto out;
	link = bpf_map__attach_struct_ops(s->maps.sleeper);
	if (!ASSERT_TRUE(link, "register st_sleep_ops"))
		goto out;
	id = st_map_id(bpf_map__fd(s->maps.sleeper));
	child = fork();
	if (!ASSERT_GE(child, 0, "fork"))
		goto out;
	if (child == 0) {
		/* Without the map's and programs' fds: they would keep them. */
		syscall(SYS_close_range, 3, ~0U, 0);
		_exit(bpf_test_struct_ops_set("sleep", 41) ? 1 : 0);
	}
	if (!ASSERT_TRUE(st_wait(sleep_state() & SLEEP_ENTERED, 5000),
			 "the sleepable op did not run"))
		goto out;

	/* Unregister, then close the last fd: the map is released. */
	bpf_link__destroy(link);
	link = NULL;
	st_sleep__destroy(s);
	s = NULL;
	if (!ASSERT_TRUE(st_wait(st_map_gone(id), 5000), "map outlived its last fd"))
		goto out;
	/* 7.3 frees the trampoline within this time (two grace periods). */
	intact = !st_wait(!(sleep_state() & SLEEP_INTACT), 3000);
	if (!ASSERT_OK(bpf_test_struct_ops_set("release", 1), "bpf_test_struct_ops_set"))
		goto out;
	if (!intact) {
		if (!ASSERT_TRUE(st_wait(sleep_state() & SLEEP_PARKED, 3000),
				 "the op neither returned nor parked"))
			goto out;
		child = -1;	/* parked for good: do not wait for it */
		PRINT_FAIL("the trampoline was freed while its sleepable program still ran in it\n"
			   "(the op is parked in bpf_test_struct_ops instead of returning into freed text)\n");
		goto out;
	}
	if (!ASSERT_TRUE(st_wait(waitpid(child, &status, WNOHANG) == child, 5000),
			 "the op did not return"))
		goto out;
	child = -1;
	if (!ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "calling the op failed"))
		goto out;
	if (!ASSERT_EQ(bpf_test_struct_ops_get("sleep_ret"), 42, "the op returned: want 42"))
		goto out;
	/* Now the map's free goes on, and lets go of the module and the programs. */
	if (!ASSERT_TRUE(st_wait(st_module_refcnt("bpf_test_struct_ops") == base, 5000),
			 "bpf_test_struct_ops still has references, before: the map was not freed"))
		goto out;
out:
	if (child > 0) {
		bpf_test_struct_ops_set("release", 1);
		st_wait(waitpid(child, &status, WNOHANG) == child, 3000);
	}
	bpf_link__destroy(link);
	st_sleep__destroy(s);
}

void test_struct_ops_map_module(void)
{
	if (test__start_subtest("pins_module"))
		test_pins_module();
	if (test__start_subtest("many_types"))
		test_many_types();
}
