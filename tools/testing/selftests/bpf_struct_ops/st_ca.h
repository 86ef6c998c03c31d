/* SPDX-License-Identifier: GPL-2.0 */
/* A TCP CA value made of ca_count's programs, for the raw-syscall tests. */
#ifndef ST_CA_H
#define ST_CA_H

#include <string.h>
#include <bpf/libbpf.h>
#include "struct_ops_map_helpers.h"
#include "ca_count.skel.h"

/*
 * Fills @value (l->value_size bytes, zeroed first) with the prog fds of
 * @s in their func ptr slots and @name as the CA's name.
 */
static inline void st_ca_count_value(const struct ca_count *s, const struct st_layout *l,
				     unsigned char *value, const char *name)
{
	static const char * const members[] = { "init", "release", "ssthresh", "cong_avoid",
						"set_state", "cwnd_event", "undo_cwnd" };
	const struct bpf_program *p[] = {
		s->progs.ca_init, s->progs.ca_release, s->progs.ca_ssthresh,
		s->progs.ca_cong_avoid, s->progs.ca_set_state,
		s->progs.ca_cwnd_event, s->progs.ca_undo_cwnd,
	};
	unsigned int i;

	memset(value, 0, l->value_size);
	for (i = 0; i < ARRAY_SIZE(members); i++)
		*(__u64 *)(value + st_member_off(l, members[i])) = bpf_program__fd(p[i]);
	/* At most 15 bytes: the rest of the 16-byte name stays zero. */
	memcpy((char *)value + st_member_off(l, "name"), name, strnlen(name, 15));
}

#endif
