// SPDX-License-Identifier: GPL-2.0-only
/*
 * The C half of the Rust struct_ops map (kernel/bpf/struct_ops.rs): what
 * has to be in vmlinux BTF or built by C-only macros.
 */
#include <linux/bpf_struct_ops_map.h>
#include <linux/btf_ids.h>

BTF_ID_LIST_GLOBAL(bpf_struct_ops_btf_ids, 2)
BTF_ID(struct, module)
BTF_ID(struct, bpf_struct_ops_common_value)

BTF_ID_LIST_GLOBAL_SINGLE(bpf_struct_ops_map_btf_ids, struct, bpf_struct_ops_map)

/* Serialises the registrations made through links, their updates and detach. */
DEFINE_MUTEX(bpf_struct_ops_update_mutex);

/*
 * Instances of the BTF-only types, so that the compiler emits them into
 * DWARF and pahole into BTF even though no C code here dereferences them.
 */
static struct bpf_struct_ops_map *bpf_struct_ops_map_btf __used;
static struct bpf_struct_ops_link *bpf_struct_ops_link_btf __used;

/*
 * The Rust entry points (kernel/bpf/struct_ops.rs) that modules use, as
 * bpf_struct_ops.c exports them.
 */
/* A subsystem's reference on a registered struct_ops. */
EXPORT_SYMBOL_GPL(bpf_struct_ops_get);
/* Its release. */
EXPORT_SYMBOL_GPL(bpf_struct_ops_put);
/* The id of the map of a struct_ops. */
EXPORT_SYMBOL_GPL(bpf_struct_ops_id);
/* A walk of the programs of a struct_ops. */
EXPORT_SYMBOL_GPL(bpf_struct_ops_for_each_prog);

/*
 * Association of programs with a struct_ops map (BPF_PROG_ASSOC_STRUCT_OPS,
 * and the programs of a map, which the Rust map associates on update and
 * dissociates before its memory goes): the state lives in the program's
 * aux, under its own mutex, and only the map's address is kept.
 */
int bpf_prog_assoc_struct_ops(struct bpf_prog *prog, struct bpf_map *map)
{
	struct bpf_map *st_ops_assoc;

	guard(mutex)(&prog->aux->st_ops_assoc_mutex);

	st_ops_assoc = rcu_dereference_protected(prog->aux->st_ops_assoc,
						 lockdep_is_held(&prog->aux->st_ops_assoc_mutex));
	if (st_ops_assoc == map)
		return 0;

	if (st_ops_assoc) {
		/* A second map: neither is the program's any more. */
		if (prog->type != BPF_PROG_TYPE_STRUCT_OPS)
			return -EBUSY;
		rcu_assign_pointer(prog->aux->st_ops_assoc, BPF_PTR_POISON);
	} else {
		/* The map does not track other programs: they hold it. */
		if (prog->type != BPF_PROG_TYPE_STRUCT_OPS)
			bpf_map_inc(map);
		rcu_assign_pointer(prog->aux->st_ops_assoc, map);
	}
	return 0;
}

void bpf_prog_disassoc_struct_ops(struct bpf_prog *prog)
{
	struct bpf_map *st_ops_assoc;

	guard(mutex)(&prog->aux->st_ops_assoc_mutex);

	st_ops_assoc = rcu_dereference_protected(prog->aux->st_ops_assoc,
						 lockdep_is_held(&prog->aux->st_ops_assoc_mutex));
	if (!st_ops_assoc || st_ops_assoc == BPF_PTR_POISON)
		return;
	if (prog->type != BPF_PROG_TYPE_STRUCT_OPS)
		bpf_map_put(st_ops_assoc);
	RCU_INIT_POINTER(prog->aux->st_ops_assoc, NULL);
}

/*
 * The struct (kdata) of the map associated with the program of @aux, or
 * NULL; for kfuncs, which run under RCU. The map may not be registered.
 */
void *bpf_prog_get_assoc_struct_ops(const struct bpf_prog_aux *aux)
{
	struct bpf_map *st_ops_assoc;

	st_ops_assoc = rcu_dereference_check(aux->st_ops_assoc, bpf_rcu_lock_held());
	if (!st_ops_assoc || st_ops_assoc == BPF_PTR_POISON)
		return NULL;
	return &container_of(st_ops_assoc, struct bpf_struct_ops_map, map)->kvalue.data;
}
EXPORT_SYMBOL_GPL(bpf_prog_get_assoc_struct_ops);
