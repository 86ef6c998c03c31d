/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The struct_ops map as the Rust implementation (kernel/bpf/struct_ops.rs)
 * lays it out. The types live in C so that they are in vmlinux BTF: the
 * map's map_btf_id names struct bpf_struct_ops_map, and BTF_ID lists can
 * only be built in C. Rust reaches all of this through bindings.
 */
#ifndef _LINUX_BPF_STRUCT_OPS_MAP_H
#define _LINUX_BPF_STRUCT_OPS_MAP_H

#include <linux/bpf.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/rcupdate_wait.h>

/* A struct_ops map's trampolines fit in at most this many pages. */
#define BPF_STRUCT_OPS_MAX_IMAGE_PAGES 8

/* The map value: the common header, then the subsystem's struct. */
struct bpf_struct_ops_value {
	struct bpf_struct_ops_common_value common;
	char data[] ____cacheline_aligned_in_smp;
};

struct bpf_struct_ops_map {
	struct bpf_map map;
	/* Last reference of the subsystem refcnt: the map put waits for it. */
	struct rcu_head rcu;
	const struct bpf_struct_ops_desc *st_ops_desc;
	/* The BTF the value type comes from (vmlinux or a module). */
	struct btf *btf;
	/* Serialises map updates. */
	struct mutex lock;
	/* Func ptr members: the upper bound of trampolines. */
	u32 funcs_cnt;
	/* Image pages in use, published with the state (release/acquire). */
	u32 image_pages_cnt;
	/* The trampolines, their programs, images and ksyms: owned by Rust. */
	void *tramps;
	/* What userspace sees: prog ids in the func ptr slots. */
	struct bpf_struct_ops_value *uvalue;
	/* What the subsystem gets: trampolines in the func ptr slots. */
	struct bpf_struct_ops_value kvalue;
};

/* A bpf_link for a BPF_F_LINK struct_ops map. */
struct bpf_struct_ops_link {
	struct bpf_link link;
	struct bpf_map __rcu *map;
	wait_queue_head_t wait_hup;
};

/* BTF ids, resolved at build time: [0] struct module, [1] the common value. */
extern u32 bpf_struct_ops_btf_ids[];
/* BTF id of struct bpf_struct_ops_map, for the map's map_btf_id. */
extern u32 bpf_struct_ops_map_btf_ids[];
/* Serialises link registration, update and detach. */
extern struct mutex bpf_struct_ops_update_mutex;

static inline enum bpf_struct_ops_state
bpf_struct_ops_state_load_acquire(const struct bpf_struct_ops_common_value *v)
{
	return smp_load_acquire(&v->state);
}

static inline void
bpf_struct_ops_state_store_release(struct bpf_struct_ops_common_value *v,
				   enum bpf_struct_ops_state state)
{
	smp_store_release(&v->state, state);
}

static inline enum bpf_struct_ops_state
bpf_struct_ops_state_cmpxchg(struct bpf_struct_ops_common_value *v,
			     enum bpf_struct_ops_state old,
			     enum bpf_struct_ops_state new)
{
	return cmpxchg(&v->state, old, new);
}

/* What struct module * members of a registered value hold. */
static inline void *bpf_struct_ops_module_owner(void)
{
	return BPF_MODULE_OWNER;
}

/*
 * Waits until no CPU can still be in a trampoline of a released map: an RCU
 * grace period for the programs, an RCU-tasks one for the last instructions
 * of the trampoline after the program returned.
 */
static inline void bpf_struct_ops_wait_trampolines(void)
{
	synchronize_rcu_mult(call_rcu, call_rcu_tasks);
}

#endif /* _LINUX_BPF_STRUCT_OPS_MAP_H */
