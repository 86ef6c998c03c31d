/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the struct_ops map tests (prog_tests/struct_ops_map_*.c) and of
 * the stand-alone programs in ../bpf_struct_ops: value layout from BTF, TCP
 * pairs, the test modules' debugfs knobs.
 */
#ifndef STRUCT_OPS_MAP_HELPERS_H
#define STRUCT_OPS_MAP_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* The kernel's errno for an operation it does not support (not in libc). */
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

/* States of a struct_ops map value (enum bpf_struct_ops_state). */
enum { ST_INIT, ST_INUSE, ST_TOBEFREE, ST_READY };

/* Where things are in bpf_struct_ops_<name>, read from the kernel's BTF. */
struct st_layout {
	__u32 value_type_id;	/* btf_vmlinux_value_type_id for map create */
	__u32 value_size;
	__u32 data_off;		/* offset of the ops struct in the value */
	int ops_type_id;
	struct btf *btf;
};

int st_layout_get(const char *ops_name, struct st_layout *l);
/* The same for a module's type, from the module's BTF. */
int st_layout_get_mod(const char *ops_name, const char *module, struct st_layout *l);
/* The same from @btf, e.g. the l->btf of an earlier st_layout_get_mod(). */
int st_layout_find(struct btf *btf, const char *ops_name, struct st_layout *l);
/* An fd of the BTF object named @name (a module's), or -1. */
int st_btf_fd_by_name(const char *name);
/* Offset of a member of the ops struct within the value, or -1. */
int st_member_off(const struct st_layout *l, const char *member);

static inline __u32 st_refcnt(const void *value) { return ((const __u32 *)value)[0]; }
static inline __u32 st_state(const void *value) { return ((const __u32 *)value)[1]; }

/* A struct_ops map of l's type; map create wants a program BTF (@btf_fd,
 * e.g. bpf_object__btf_fd() of the programs' object) besides the value type.
 */
int st_map_create(const struct st_layout *l, int btf_fd, __u32 flags);
struct bpf_object;
/*
 * Of @obj's struct_ops maps, only @map is to be created when it loads, so
 * that only that map's programs load with it.
 */
void st_only_struct_ops_map(struct bpf_object *obj, const char *map);
__u32 st_prog_id(int prog_fd);
__u32 st_map_id(int map_fd);
bool st_ca_available(const char *name);
/* How often @name is in tcp_available_congestion_control, -1 on error. */
int st_ca_listed(const char *name);
int st_read_file(const char *path, char *buf, size_t len);
int st_write_file(const char *path, const char *s);
/*
 * Whether the kernel log holds a record of @level (4: KERN_WARNING) whose
 * text is @msg, whole.
 */
bool st_kmsg_has(int level, const char *msg);
bool st_impl_is_rust(void);
/* Whether the kernel checks indirect calls' types (kCFI). */
bool st_kcfi(void);

/* A connected loopback TCP pair; the client uses congestion control @ca. */
struct st_tcp {
	int listen_fd, cli, srv;
	__u16 cli_port;
};

int st_tcp_open(struct st_tcp *t, const char *ca);
/* The same, the server side using @srv_ca (the listener's) unless NULL. */
int st_tcp_open2(struct st_tcp *t, const char *ca, const char *srv_ca);
/*
 * st_tcp_open2 in two steps: a listener and a client socket set to @ca,
 * not connected yet (its CA's init() has not run), then the connection.
 * Both close everything on failure.
 */
int st_tcp_prepare(struct st_tcp *t, const char *ca, const char *srv_ca);
int st_tcp_connect(struct st_tcp *t);
/* Sends @bytes from the client to the server. */
int st_tcp_push(struct st_tcp *t, size_t bytes);
void st_tcp_close(struct st_tcp *t);
/* Congestion control of a socket, into buf[16]. */
int st_sock_ca(int fd, char *buf);

/* How many struct_ops maps exist, of any user. */
int st_struct_ops_maps(void);
/* Prints them, a KTAP diagnostic line ("# ...") each, for a report. */
void st_list_struct_ops_maps(void);

/* True once no map has id @id; an fd opened to check is closed again. */
bool st_map_gone(__u32 id);

/*
 * The test module bpf_test_struct_ops (test_kmods/): loads it from
 * bpf_test_struct_ops.ko in the current directory, as test_progs loads
 * bpf_testmod.ko, unless it is loaded, with the address of bpf_jit_current
 * from /proc/kallsyms. Its debugfs files (bpf_test_struct_ops/<name>) are
 * read and written as numbers; bpf_test_struct_ops_get returns -1 on error.
 */
int bpf_test_struct_ops_load(void);
long long bpf_test_struct_ops_get(const char *name);
int bpf_test_struct_ops_set(const char *name, unsigned long long val);
/*
 * bpf_test_struct_ops_rust, the struct_ops type defined in Rust: loads it
 * the same way unless it is loaded, and reads or writes its debugfs files
 * (test_kmods/bpf_test_struct_ops_rust_btf.c).
 */
int bpf_test_struct_ops_rust_load(void);
long long bpf_test_struct_ops_rust_get(const char *name);
int bpf_test_struct_ops_rust_set(const char *name, unsigned long long val);
/* The module's reference count, -1 when it is not loaded. */
int st_module_refcnt(const char *module);

/* Polls @cond every 10 ms for up to @ms milliseconds. */

#define st_wait(cond, ms) ({						\
	bool __ok;							\
	int __i;							\
	for (__i = 0; !(__ok = (cond)) && __i < (ms) / 10; __i++)	\
		usleep(10000);						\
	__ok;								\
})

#endif
