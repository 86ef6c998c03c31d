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
