// SPDX-License-Identifier: GPL-2.0

#include <linux/bpf_struct_ops_map.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/cfi.h>
#include <linux/refcount.h>
#include <linux/slab.h>

__rust_helper int rust_helper_cfi_get_offset(void)
{
	return cfi_get_offset();
}

/* Named apart: x86 declares cfi_get_func_hash() extern, other arches inline. */
__rust_helper u32 rust_helper_bpf_cfi_func_hash(void *func)
{
	return cfi_get_func_hash(func);
}

__rust_helper bool rust_helper_refcount_inc_not_zero(refcount_t *r)
{
	return refcount_inc_not_zero(r);
}

__rust_helper unsigned int rust_helper_refcount_read(const refcount_t *r)
{
	return refcount_read(r);
}

__rust_helper void rust_helper_init_waitqueue_head(struct wait_queue_head *wq_head)
{
	init_waitqueue_head(wq_head);
}

__rust_helper bool
rust_helper_bpf_tracing_btf_ctx_access(int off, int size, enum bpf_access_type type,
				       const struct bpf_prog *prog,
				       struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

__rust_helper u32 rust_helper_base_type(u32 type)
{
	return base_type(type);
}

__rust_helper bool rust_helper_bpf_type_has_unsafe_modifiers(u32 type)
{
	return bpf_type_has_unsafe_modifiers(type);
}

#ifdef CONFIG_BPF_STRUCT_OPS_RUST

__rust_helper void *rust_helper_bpf_struct_ops_module_owner(void)
{
	return bpf_struct_ops_module_owner();
}

__rust_helper void rust_helper_bpf_struct_ops_wait_trampolines(bool sleepable)
{
	bpf_struct_ops_wait_trampolines(sleepable);
}

__rust_helper enum bpf_struct_ops_state
rust_helper_bpf_struct_ops_state_load_acquire(const struct bpf_struct_ops_common_value *v)
{
	return bpf_struct_ops_state_load_acquire(v);
}

__rust_helper void
rust_helper_bpf_struct_ops_state_store_release(struct bpf_struct_ops_common_value *v,
					       enum bpf_struct_ops_state state)
{
	bpf_struct_ops_state_store_release(v, state);
}

__rust_helper enum bpf_struct_ops_state
rust_helper_bpf_struct_ops_state_cmpxchg(struct bpf_struct_ops_common_value *v,
					 enum bpf_struct_ops_state old,
					 enum bpf_struct_ops_state new)
{
	return bpf_struct_ops_state_cmpxchg(v, old, new);
}

__rust_helper struct bpf_map *
rust_helper_bpf_struct_ops_link_map_locked(struct bpf_struct_ops_link *link)
{
	return bpf_struct_ops_link_map_locked(link);
}

__rust_helper void
rust_helper_bpf_struct_ops_link_set_map(struct bpf_struct_ops_link *link, struct bpf_map *map)
{
	bpf_struct_ops_link_set_map(link, map);
}

__rust_helper struct bpf_map *
rust_helper_bpf_struct_ops_link_take_map(struct bpf_struct_ops_link *link)
{
	return bpf_struct_ops_link_take_map(link);
}

__rust_helper u32 rust_helper_bpf_struct_ops_link_map_id(struct bpf_struct_ops_link *link)
{
	return bpf_struct_ops_link_map_id(link);
}

__rust_helper __poll_t
rust_helper_bpf_struct_ops_link_poll(struct bpf_struct_ops_link *link, struct file *file,
				     struct poll_table_struct *pts)
{
	return bpf_struct_ops_link_poll(link, file, pts);
}

__rust_helper void rust_helper_bpf_struct_ops_link_hup(struct bpf_struct_ops_link *link)
{
	bpf_struct_ops_link_hup(link);
}

__rust_helper u32 rust_helper_bpf_struct_ops_module_btf_id(void)
{
	return bpf_struct_ops_module_btf_id();
}

__rust_helper u32 rust_helper_bpf_struct_ops_common_value_btf_id(void)
{
	return bpf_struct_ops_common_value_btf_id();
}

__rust_helper void rust_helper_bpf_struct_ops_map_init_lock(struct bpf_struct_ops_map *st_map)
{
	bpf_struct_ops_map_init_lock(st_map);
}

#endif /* CONFIG_BPF_STRUCT_OPS_RUST */

/*
 * A zeroed tramp link and kallsyms entry, one of each per trampoline: kzalloc()
 * of a size known here takes the slab cache straight, where a Rust KBox goes
 * through krealloc() and a lookup of the cache by size. Freed with kfree().
 */
__rust_helper struct bpf_tramp_link *rust_helper_bpf_tramp_link_zalloc(void)
{
	return kzalloc(sizeof(struct bpf_tramp_link), GFP_USER);
}

__rust_helper struct bpf_ksym *rust_helper_bpf_ksym_zalloc(void)
{
	return kzalloc(sizeof(struct bpf_ksym), GFP_USER);
}
