// SPDX-License-Identifier: GPL-2.0
/*
 * What userspace sees of a struct_ops map: its one key, the trampolines'
 * kallsyms entries, a pinned map's value in bpffs.
 */
#include "struct_ops_map.h"

static void test_get_next_key(void)
{
	__u32 key = 0, next = 7;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_next"), "ca_open"))
		goto out;
	if (!ASSERT_OK(bpf_map_get_next_key(c.map_fd, NULL, &next), "bpf_map_get_next_key"))
		goto out;
	if (!ASSERT_EQ(next, 0, "first key: want 0"))
		goto out;
	key = 5;
	next = 7;
	if (!ASSERT_OK(bpf_map_get_next_key(c.map_fd, &key, &next), "bpf_map_get_next_key"))
		goto out;
	if (!ASSERT_EQ(next, 0, "key after 5 is: want 0"))
		goto out;
	key = 0;
	if (!ASSERT_ERRNO(bpf_map_get_next_key(c.map_fd, &key, &next), ENOENT,
			  "bpf_map_get_next_key"))
		goto out;
out:
	ca_close(&c);
}

/* Lines of /proc/kallsyms naming exactly @sym. */
static int count_ksyms(const char *sym)
{
	char line[512], name[256];
	int n = 0;
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %255s", name) == 1 && !strcmp(name, sym))
			n++;
	fclose(f);
	return n;
}

static void test_trampoline_ksyms(void)
{
	const char *sym = "bpf__tcp_congestion_ops_cong_avoid";
	int before, n;
	__u32 id;
	struct ca c = { .map_fd = -1 };

	if (!ASSERT_OK(ca_open(&c, "st_ksym"), "ca_open"))
		goto out;
	before = count_ksyms(sym);
	if (!ASSERT_GE(before, 0, "read /proc/kallsyms"))
		goto out;
	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	n = count_ksyms(sym);
	if (!ASSERT_EQ(n, before + 1, "after register"))
		goto out;
	id = st_map_id(c.map_fd);
	if (!ASSERT_OK(ca_delete(&c), "ca_delete"))
		goto out;
	ca_close(&c);
	if (!ASSERT_TRUE(st_wait(st_map_gone(id), 3000), "map not freed"))
		goto out;
	n = count_ksyms(sym);
	if (!ASSERT_EQ(n, before, "after free"))
		goto out;
out:
	ca_close(&c);
}

/* Reads a bpffs file into @buf; returns its length or -1. */
static int read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = 0;
	return n;
}

static void test_pinned_map_shows_value(void)
{
	const char *pin = "/sys/fs/bpf/st_pin";
	static char buf[16384];
	struct ca c = { .map_fd = -1 };

	unlink(pin);
	if (!ASSERT_OK(ca_open(&c, "st_pin"), "ca_open"))
		goto out;
	if (!ASSERT_OK(bpf_obj_pin(c.map_fd, pin), "bpf_obj_pin"))
		goto out;
	if (!ASSERT_GE(read_file(pin, buf, sizeof(buf)), 0, "read"))
		goto out;
	if (!ASSERT_TRUE(strstr(buf, "BPF_STRUCT_OPS_STATE_INIT"), "INIT map shows"))
		goto out;
	if (!ASSERT_OK(ca_register(&c), "ca_register"))
		goto out;
	if (!ASSERT_GT(read_file(pin, buf, sizeof(buf)), 0, "read"))
		goto out;
	if (!ASSERT_TRUE(strstr(buf, "{{{{1,},},BPF_STRUCT_OPS_STATE_INUSE,}"),
			 "registered map shows"))
		goto out;
	if (!ASSERT_TRUE(strstr(buf, "['s','t','_','p','i','n',]"), "name missing"))
		goto out;
	if (!ASSERT_OK(ca_delete(&c), "ca_delete"))
		goto out;
	if (!ASSERT_GT(read_file(pin, buf, sizeof(buf)), 0, "read"))
		goto out;
	if (!ASSERT_TRUE(strstr(buf, "BPF_STRUCT_OPS_STATE_TOBEFREE"), "deleted map shows"))
		goto out;
out:
	unlink(pin);
	ca_close(&c);
}

void test_struct_ops_map_introspection(void)
{
	if (!struct_ops_map_setup())
		return;
	if (test__start_subtest("get_next_key"))
		test_get_next_key();
	if (test__start_subtest("trampoline_ksyms"))
		test_trampoline_ksyms();
	if (test__start_subtest("pinned_map_shows_value"))
		test_pinned_map_shows_value();
}
