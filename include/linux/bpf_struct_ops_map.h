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
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/rcupdate_trace.h>
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
	const struct bpf_struct_ops_desc *st_ops_desc;
	/* The BTF the value type comes from (vmlinux or a module). */
	struct btf *btf;
	/* Serialises map updates. */
	struct mutex lock;
	/* Func ptr members: the upper bound of trampolines. */
	u32 funcs_cnt;
	/* The struct module * members, a bit per member index: an update sets them. */
	u64 module_owners;
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

/* BTF id of struct module (0 without modules). */
static inline u32 bpf_struct_ops_module_btf_id(void)
{
	return bpf_struct_ops_btf_ids[0];
}

/* BTF id of struct bpf_struct_ops_common_value. */
static inline u32 bpf_struct_ops_common_value_btf_id(void)
{
	return bpf_struct_ops_btf_ids[1];
}

static inline void bpf_struct_ops_map_init_lock(struct bpf_struct_ops_map *st_map)
{
	mutex_init(&st_map->lock);
}

static inline enum bpf_struct_ops_state
bpf_struct_ops_state_load_acquire(const struct bpf_struct_ops_common_value *v)
{
	/* Pairs with the release below: the value written before is seen. */
	return smp_load_acquire(&v->state);
}

static inline void
bpf_struct_ops_state_store_release(struct bpf_struct_ops_common_value *v,
				   enum bpf_struct_ops_state state)
{
	/* Publishes the value written before, for readers of the state. */
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
 * grace period for the programs, then an RCU-tasks one for the last
 * instructions of the trampoline after the program returned. Sleepable
 * programs run under RCU tasks trace, so with @sleepable that grace period
 * comes first: a task leaving such a program is still in the trampoline's
 * tail, which only the RCU-tasks grace period started after it covers. And
 * before it an RCU-tasks one: a task preempted in the trampoline before its
 * program took rcu_read_lock_trace() is no reader the RCU-tasks-trace grace
 * period waits for. Nothing before that lock (or after its unlock) switches
 * voluntarily, so the first RCU-tasks grace period ends only once the task
 * is in the program (a sleep there is its voluntary switch), where the
 * RCU-tasks-trace grace period waits for it.
 */
static inline void bpf_struct_ops_wait_trampolines(bool sleepable)
{
	if (sleepable)
		synchronize_rcu_tasks();
	/* One expansion of the macro, which builds its arrays on the stack. */
	synchronize_rcu_mult(call_rcu,
			     sleepable ? call_rcu_tasks_trace : call_rcu_tasks);
	if (sleepable)
		synchronize_rcu_tasks();
}

/* The map @link registered; the caller holds bpf_struct_ops_update_mutex. */
static inline struct bpf_map *
bpf_struct_ops_link_map_locked(struct bpf_struct_ops_link *link)
{
	return rcu_dereference_protected(link->map,
					 lockdep_is_held(&bpf_struct_ops_update_mutex));
}

/* Publishes @map (or NULL) as @link's map; caller holds the update mutex. */
static inline void bpf_struct_ops_link_set_map(struct bpf_struct_ops_link *link,
					       struct bpf_map *map)
{
	rcu_assign_pointer(link->map, map);
}

/* Takes @link's map out of it; the caller has the link to itself. */
static inline struct bpf_map *bpf_struct_ops_link_take_map(struct bpf_struct_ops_link *link)
{
	return rcu_replace_pointer(link->map, NULL, true);
}

/* The id of @link's map, 0 once detached; safe against concurrent updates. */
static inline u32 bpf_struct_ops_link_map_id(struct bpf_struct_ops_link *link)
{
	struct bpf_map *map;
	u32 id = 0;

	rcu_read_lock();
	map = rcu_dereference(link->map);
	if (map)
		id = map->id;
	rcu_read_unlock();
	return id;
}

static inline __poll_t bpf_struct_ops_link_poll(struct bpf_struct_ops_link *link,
						struct file *file,
						struct poll_table_struct *pts)
{
	poll_wait(file, &link->wait_hup, pts);
	return rcu_access_pointer(link->map) ? 0 : EPOLLHUP;
}

/* Tells pollers of @link that it was detached. */
static inline void bpf_struct_ops_link_hup(struct bpf_struct_ops_link *link)
{
	wake_up_interruptible_poll(&link->wait_hup, EPOLLHUP);
}

#endif /* _LINUX_BPF_STRUCT_OPS_MAP_H */
