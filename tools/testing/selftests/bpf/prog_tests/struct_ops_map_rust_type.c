// SPDX-License-Identifier: GPL-2.0
/*
 * A struct_ops type defined in Rust with kernel::bpf (bpf_test_struct_ops_rust):
 * its ops called through their trampolines, the ops it leaves unset, and
 * the programs and values its checks refuse.
 */
#include "struct_ops_map.h"
#include "st_rust.skel.h"
#include "test_kmods/bpf_test_struct_ops_rust.h"

/*
 * st_rust with only its struct_ops map @map created, so that only that
 * map's programs load: the skeleton, or NULL and errno.
 */
static struct st_rust *rust_open(const char *map)
{
	struct st_rust *s;
	int err;

	if (bpf_test_struct_ops_rust_load()) {
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
	if (st_write_file("/sys/kernel/debug/bpf_test_struct_ops_rust/call", buf))
		return -1;
	*ret = bpf_test_struct_ops_rust_get("ret");
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
		return ASSERT_ERRNO(rust_call(op, arg, &ret), EINVAL, what);
	return ASSERT_OK(rust_call(op, arg, &ret), what) && ASSERT_EQ(ret, want, what);
}

static int rmmod_rubpf_test_struct_ops(void)
{
	return syscall(__NR_delete_module, "bpf_test_struct_ops_rust", O_NONBLOCK);
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
static void test_calls(void)
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
	if (!ASSERT_TRUE(s, "load st_rust"))
		goto out;
	if (!ASSERT_ERRNO(rust_call(ST_RUST_TEST_1, 1, &ret), ENODEV,
			  "a call with nothing registered"))
		goto out;
	link = bpf_map__attach_struct_ops(s->maps.st_rust);
	if (!ASSERT_TRUE(link, "register st_rust"))
		goto out;
	if (!ASSERT_EQ(bpf_test_struct_ops_rust_get("registered"), 1, "registered: want 1"))
		goto out;
	for (i = 0; i < ARRAY_SIZE(calls); i++) {
		if (!ASSERT_FALSE(rust_call(calls[i].op, calls[i].arg, &ret), "call (op)"))
			goto out;
		if (!ASSERT_EQ(ret, calls[i].want, "call returned"))
			goto out;
	}
	if (!ASSERT_TRUE(!rust_call(ST_RUST_VOID, 9, &ret) && s->bss->void_arg == 9,
			 "test_void: the program saw: want 9"))
		goto out;
	if (!ASSERT_ERRNO(rust_call(ST_RUST_MISTYPED, 1, &ret), EINVAL, "a call of a mistyped op"))
		goto out;
	if (!ASSERT_ERRNO(rust_call(ST_RUST_NOT_NULLABLE, 1, &ret), EINVAL,
			  "NULL for an argument not __nullable"))
		goto out;
	/* Refused for good, not only the first time. */
	if (!ASSERT_ERRNO(rust_call(ST_RUST_MISTYPED, 1, &ret), EINVAL, "a mistyped op, again"))
		goto out;
	/*
	 * The pointee mirrored under another name: BTF agrees, kCFI's type id
	 * does not. Refused under kCFI (before the first call compared the
	 * hashes, it trapped); without kCFI the call runs.
	 */
	if (!rust_call_kcfi_refused(ST_RUST_MIRROR, 3, 12, "test_2 through the mirror"))
		goto out;
	/* A const pointee, declared const: runs everywhere. */
	if (!ASSERT_TRUE(!rust_call(ST_RUST_CONST, 2, &ret) && ret == 24,
			 "test_const: returned: want 24"))
		goto out;
	/* Declared with a *mut: kCFI's type id differs, as for the mirror. */
	if (!rust_call_kcfi_refused(ST_RUST_CONST_AS_MUT, 2, 24, "test_const declared *mut"))
		goto out;
	/* NULL for the const pointee, whose stub argument is __nullable. */
	if (!ASSERT_TRUE(!rust_call(ST_RUST_CONST_NULL, 0, &ret) && ret == -10,
			 "test_const(NULL): returned: want -10"))
		goto out;
	/* Nullable const where the stub's argument is not __nullable. */
	if (!ASSERT_ERRNO(rust_call(ST_RUST_2_CONST_NULLABLE, 1, &ret), EINVAL,
			  "NULL for a const argument not __nullable"))
		goto out;
	/* An enum, as bindgen's newtype that carries its kCFI encoding. */
	if (!ASSERT_TRUE(!rust_call(ST_RUST_ENUM, 2 /* BPF_WRITE */, &ret) && ret == 200,
			 "test_enum(BPF_WRITE): returned: want 200"))
		goto out;
	/* The enum declared as an integer: BTF agrees, kCFI's type id does not. */
	if (!rust_call_kcfi_refused(ST_RUST_ENUM_AS_U32, 1, 101, "test_enum declared u32"))
		goto out;
	if (!ASSERT_OK(bpf_test_struct_ops_rust_set("call_loop", 1000), "call_loop"))
		goto out;
	bpf_link__destroy(link);
	link = NULL;
	if (!ASSERT_EQ(bpf_test_struct_ops_rust_get("registered"), 0, "registered after unlink"))
		goto out;
	if (!ASSERT_ERRNO(rust_call(ST_RUST_TEST_1, 1, &ret), ENODEV, "a call after unlink"))
		goto out;
	st_rust__destroy(s);
	s = NULL;
	if (!ASSERT_TRUE(st_wait(rmmod_rubpf_test_struct_ops() == 0, 3000),
			 "bpf_test_struct_ops_rust still pinned after its maps went"))
		goto out;
out:
	bpf_link__destroy(link);
	st_rust__destroy(s);
}

/* Rust's calls of the ops a map leaves NULL find nothing to call: ENOENT. */
static void test_unimplemented(void)
{
	struct bpf_link *link = NULL;
	struct st_rust *s;
	long long ret = 0;

	s = rust_open("st_rust_partial");
	if (!ASSERT_TRUE(s, "load st_rust_partial"))
		goto out;
	link = bpf_map__attach_struct_ops(s->maps.st_rust_partial);
	if (!ASSERT_TRUE(link, "register st_rust_partial"))
		goto out;
	if (!ASSERT_TRUE(!rust_call(ST_RUST_TEST_1, 2, &ret) && ret == 3, "test_1(2): returned"))
		goto out;
	if (!ASSERT_ERRNO(rust_call(ST_RUST_TEST_2, 2, &ret), ENOENT, "test_2, not implemented"))
		goto out;
	if (!ASSERT_ERRNO(rust_call(ST_RUST_VOID, 2, &ret), ENOENT, "test_void, not implemented"))
		goto out;
out:
	bpf_link__destroy(link);
	st_rust__destroy(s);
}

/*
 * The type's rules for programs: one dereferencing test_nullable's argument
 * (__nullable in the stub) unchecked does not load; nor a sleepable program
 * for test_1, which the type does not declare sleepable (test_sleep, which
 * it does, loads in rust_type_calls).
 */
static void test_programs_refused(void)
{
	struct st_rust *s;

	s = rust_open("st_rust_unchecked_map");
	if (!ASSERT_TRUE(!s && errno == EACCES,
			 "an unchecked __nullable argument fails with EACCES"))
		goto out;
	s = rust_open("st_rust_sleep_wrong");
	if (!ASSERT_TRUE(!s && errno == EINVAL, "a sleepable test_1 fails with EINVAL"))
		goto out;
out:
	st_rust__destroy(s);
}

/*
 * st_rust_bad, whose Rust struct is larger than the C struct BTF describes,
 * is refused when it registers (its init), with 7.3's warning, word for
 * word (pr_warn() without a prefix), and nothing is left of it: a map of
 * its value type, which BTF has, gets the errno of a type that is not there.
 */
static void test_layout_refused(void)
{
	struct st_layout l = {};
	int btf_fd = -1, fd = -1;

	if (!ASSERT_OK(bpf_test_struct_ops_rust_load(), "bpf_test_struct_ops_rust_load"))
		goto out;
	if (!ASSERT_EQ(bpf_test_struct_ops_rust_get("bad_err"), -EINVAL,
		       "registering st_rust_bad returned"))
		goto out;
	if (!ASSERT_TRUE(st_kmsg_has(4, "Error in init bpf_struct_ops st_rust_bad"),
			 "kernel warning: Error in init bpf_struct_ops st_rust_bad"))
		goto out;
	btf_fd = st_btf_fd_by_name("bpf_test_struct_ops_rust");
	if (!ASSERT_GE(btf_fd, 0, "no BTF object for bpf_test_struct_ops_rust"))
		goto out;
	if (!ASSERT_OK(st_layout_get_mod("st_rust_bad", "bpf_test_struct_ops_rust", &l),
		       "st_layout_get_mod"))
		goto out;
	{
		LIBBPF_OPTS(bpf_map_create_opts, o,
			    .btf_vmlinux_value_type_id = l.value_type_id,
			    .value_type_btf_obj_fd = btf_fd,
			    .map_flags = BPF_F_VTYPE_BTF_OBJ_FD);

		fd = bpf_map_create(BPF_MAP_TYPE_STRUCT_OPS, "st_bad", 4, l.value_size, 1, &o);
	}
	if (!ASSERT_ERRNO(fd, ENOTSUPP, "a map of st_rust_bad fails with ENOTSUPP"))
		goto out;
out:
	if (fd >= 0)
		close(fd);
	if (btf_fd >= 0)
		close(btf_fd);
}

void test_struct_ops_map_rust_type(void)
{
	if (test__start_subtest("calls"))
		test_calls();
	if (test__start_subtest("unimplemented"))
		test_unimplemented();
	if (test__start_subtest("programs_refused"))
		test_programs_refused();
	if (test__start_subtest("layout_refused"))
		test_layout_refused();
}
