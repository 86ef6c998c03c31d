// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "struct_ops_map_helpers.h"

static int layout_find(const char *ops_name, struct st_layout *l)
{
	char vname[128];
	const struct btf_type *t;
	const struct btf_member *m;
	int id, i;

	if (!l->btf)
		return -1;
	snprintf(vname, sizeof(vname), "bpf_struct_ops_%s", ops_name);
	id = btf__find_by_name_kind(l->btf, vname, BTF_KIND_STRUCT);
	if (id < 0)
		return -1;
	l->value_type_id = id;
	l->value_size = btf__resolve_size(l->btf, id);
	t = btf__type_by_id(l->btf, id);
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++) {
		if (strcmp(btf__name_by_offset(l->btf, m->name_off), "data"))
			continue;
		l->data_off = m->offset / 8;
		l->ops_type_id = m->type;
		return 0;
	}
	return -1;
}

int st_layout_get(const char *ops_name, struct st_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->btf = btf__load_vmlinux_btf();
	return layout_find(ops_name, l);
}

int st_layout_get_mod(const char *ops_name, const char *module, struct st_layout *l)
{
	struct btf *base = btf__load_vmlinux_btf();

	memset(l, 0, sizeof(*l));
	if (!base)
		return -1;
	/* The split BTF keeps using base: it stays for the program's life. */
	l->btf = btf__load_module_btf(module, base);
	return layout_find(ops_name, l);
}

int st_layout_find(struct btf *btf, const char *ops_name, struct st_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->btf = btf;
	return layout_find(ops_name, l);
}

int st_btf_fd_by_name(const char *name)
{
	__u32 id = 0;

	while (!bpf_btf_get_next_id(id, &id)) {
		struct bpf_btf_info info = {};
		__u32 len = sizeof(info);
		char buf[64] = "";
		int fd = bpf_btf_get_fd_by_id(id);

		if (fd < 0)
			continue;
		info.name = (unsigned long)buf;
		info.name_len = sizeof(buf);
		if (!bpf_btf_get_info_by_fd(fd, &info, &len) && !strcmp(buf, name))
			return fd;
		close(fd);
	}
	return -1;
}

int st_member_off(const struct st_layout *l, const char *member)
{
	const struct btf_type *t = btf__type_by_id(l->btf, l->ops_type_id);
	const struct btf_member *m = btf_members(t);
	int i;

	for (i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(l->btf, m->name_off), member))
			return l->data_off + m->offset / 8;
	return -1;
}

int st_map_create(const struct st_layout *l, int btf_fd, __u32 flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, o,
		    .btf_fd = btf_fd,
		    .btf_vmlinux_value_type_id = l->value_type_id,
		    .map_flags = flags);

	return bpf_map_create(BPF_MAP_TYPE_STRUCT_OPS, "st_map", 4, l->value_size, 1, &o);
}

void st_only_struct_ops_map(struct bpf_object *obj, const char *map)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
		if (bpf_map__type(m) == BPF_MAP_TYPE_STRUCT_OPS)
			bpf_map__set_autocreate(m, !strcmp(bpf_map__name(m), map));
}

__u32 st_prog_id(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_prog_get_info_by_fd(prog_fd, &info, &len) ? 0 : info.id;
}

__u32 st_map_id(int map_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_map_get_info_by_fd(map_fd, &info, &len) ? 0 : info.id;
}

int st_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return n;
}

int st_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n < 0 ? -1 : 0;
}

bool st_kmsg_has(int level, const char *msg)
{
	char rec[2048], *text, *nl;
	bool found = false;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return false;
	/*
	 * One record per read: "<prio>,<seq>,<usec>,<flags>;<text>\n...".
	 * EPIPE: records were overwritten since the last read; the next one
	 * follows.
	 */
	while (!found && ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE))) {
		if (n <= 0)
			continue;
		rec[n] = 0;
		text = strchr(rec, ';');
		if (!text || atoi(rec) != level)
			continue;
		text++;
		nl = strchr(text, '\n');
		if (nl)
			*nl = 0;
		found = !strcmp(text, msg);
	}
	close(fd);
	return found;
}

int st_ca_listed(const char *name)
{
	char buf[4096], *tok, *save;
	int n = 0;

	if (st_read_file("/proc/sys/net/ipv4/tcp_available_congestion_control",
			 buf, sizeof(buf)) < 0)
		return -1;
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		n += !strcmp(tok, name);
	return n;
}

bool st_ca_available(const char *name)
{
	return st_ca_listed(name) > 0;
}

bool st_impl_is_rust(void)
{
	return system("zcat /proc/config.gz | grep -q '^CONFIG_BPF_STRUCT_OPS_RUST=y'") == 0;
}

bool st_kcfi(void)
{
	return system("zcat /proc/config.gz | grep -q '^CONFIG_CFI=y'") == 0;
}

int st_sock_ca(int fd, char *buf)
{
	socklen_t len = 16;

	memset(buf, 0, 16);
	return getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, buf, &len);
}

int st_tcp_open(struct st_tcp *t, const char *ca)
{
	return st_tcp_open2(t, ca, NULL);
}

int st_tcp_prepare(struct st_tcp *t, const char *ca, const char *srv_ca)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	t->cli = -1;
	t->srv = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (t->listen_fd < 0 ||
	    (srv_ca && setsockopt(t->listen_fd, IPPROTO_TCP, TCP_CONGESTION, srv_ca,
				  strlen(srv_ca))) ||
	    bind(t->listen_fd, (void *)&a, sizeof(a)) || listen(t->listen_fd, 8))
		goto err;
	t->cli = socket(AF_INET, SOCK_STREAM, 0);
	if (t->cli < 0)
		goto err;
	if (ca && setsockopt(t->cli, IPPROTO_TCP, TCP_CONGESTION, ca, strlen(ca)))
		goto err;
	return 0;
err:
	st_tcp_close(t);
	return -1;
}

int st_tcp_connect(struct st_tcp *t)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(t->listen_fd, (void *)&a, &len) ||
	    connect(t->cli, (void *)&a, sizeof(a)))
		goto err;
	t->srv = accept(t->listen_fd, NULL, NULL);
	len = sizeof(a);
	if (t->srv < 0 || getsockname(t->cli, (void *)&a, &len))
		goto err;
	t->cli_port = ntohs(a.sin_port);
	return 0;
err:
	st_tcp_close(t);
	return -1;
}

int st_tcp_open2(struct st_tcp *t, const char *ca, const char *srv_ca)
{
	return st_tcp_prepare(t, ca, srv_ca) ?: st_tcp_connect(t);
}

int st_tcp_push(struct st_tcp *t, size_t bytes)
{
	static char buf[64 * 1024];

	while (bytes) {
		size_t n = bytes < sizeof(buf) ? bytes : sizeof(buf), got = 0;

		if (write(t->cli, buf, n) != (ssize_t)n)
			return -1;
		while (got < n) {
			ssize_t r = read(t->srv, buf, n - got);

			if (r <= 0)
				return -1;
			got += r;
		}
		bytes -= n;
	}
	return 0;
}

void st_tcp_close(struct st_tcp *t)
{
	if (t->cli >= 0)
		close(t->cli);
	if (t->srv >= 0)
		close(t->srv);
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	t->cli = -1;
	t->srv = -1;
	t->listen_fd = -1;
}

bool st_map_gone(__u32 id)
{
	int fd = bpf_map_get_fd_by_id(id);

	if (fd >= 0) {
		/* Still there: drop the reference this check just took. */
		close(fd);
		return false;
	}
	return errno == ENOENT;
}

/*
 * Loads module @mod from @mod.ko in the current directory, as test_progs'
 * load_bpf_testmod() does, with parameters @params; a module that is
 * already loaded counts as loaded.
 */
static int st_load_module(const char *mod, const char *params)
{
	char path[128];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/sys/module/%s", mod);
	if (!access(path, F_OK))
		return 0;
	snprintf(path, sizeof(path), "%s.ko", mod);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "# open %s: %s\n", path, strerror(-err));
		return err;
	}
	if (syscall(__NR_finit_module, fd, params, 0) && errno != EEXIST) {
		err = -errno;
		fprintf(stderr, "# finit_module %s: %s\n", path, strerror(-err));
	}
	close(fd);
	return err;
}

int bpf_test_struct_ops_load(void)
{
	char line[256], params[64] = "";
	FILE *f;

	f = fopen("/proc/kallsyms", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char a[32], type[4], name[128];

		if (sscanf(line, "%31s %3s %127s", a, type, name) == 3 &&
		    !strcmp(name, "bpf_jit_current")) {
			snprintf(params, sizeof(params), "jit_current_addr=0x%s", a);
			break;
		}
	}
	if (f)
		fclose(f);
	return st_load_module("bpf_test_struct_ops", params);
}

/* File @name of module @mod's debugfs directory, as a number; -1 on error. */
static long long debugfs_get(const char *mod, const char *name)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s", mod, name);
	if (st_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 0);
}

static int debugfs_set(const char *mod, const char *name, unsigned long long val)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s", mod, name);
	snprintf(buf, sizeof(buf), "%llu", val);
	return st_write_file(path, buf);
}

long long bpf_test_struct_ops_get(const char *name)
{
	return debugfs_get("bpf_test_struct_ops", name);
}

int bpf_test_struct_ops_set(const char *name, unsigned long long val)
{
	return debugfs_set("bpf_test_struct_ops", name, val);
}

int bpf_test_struct_ops_rust_load(void)
{
	return st_load_module("bpf_test_struct_ops_rust", "");
}

long long bpf_test_struct_ops_rust_get(const char *name)
{
	return debugfs_get("bpf_test_struct_ops_rust", name);
}

int bpf_test_struct_ops_rust_set(const char *name, unsigned long long val)
{
	return debugfs_set("bpf_test_struct_ops_rust", name, val);
}

int st_module_refcnt(const char *module)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", module);
	return st_read_file(path, buf, sizeof(buf)) > 0 ? atoi(buf) : -1;
}

/* Counts the struct_ops maps there are; prints each, one "    | " line, if @print. */
static int struct_ops_maps(bool print)
{
	__u32 id = 0;
	int n = 0;

	while (!bpf_map_get_next_id(id, &id)) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_map_get_info_by_fd(fd, &info, &len) &&
		    info.type == BPF_MAP_TYPE_STRUCT_OPS) {
			n++;
			if (print)
				printf("# struct_ops map id %u name %s value type id %u\n",
				       info.id, info.name, info.btf_vmlinux_value_type_id);
		}
		close(fd);
	}
	return n;
}

int st_struct_ops_maps(void)
{
	return struct_ops_maps(false);
}

void st_list_struct_ops_maps(void)
{
	struct_ops_maps(true);
}
