/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct_ops types of the st_testmod test module, shared by the module and
 * the BPF programs that implement them.
 */
#ifndef ST_TESTMOD_H
#define ST_TESTMOD_H

/* One sleepable op, called from debugfs; see st_testmod.c. */
struct st_sleep_ops {
	int (*sleep)(int arg);
};

/* Ops with 1, 3, 10 and 40 members op0, op1, ..: int opN(int x). */
#define ST_OPS_10(M, p) M(p##0) M(p##1) M(p##2) M(p##3) M(p##4) \
	M(p##5) M(p##6) M(p##7) M(p##8) M(p##9)
#define ST_OPS_1(M) M(op0)
#define ST_OPS_3(M) M(op0) M(op1) M(op2)
#define ST_OPS_40(M) ST_OPS_10(M, op) ST_OPS_10(M, op1) \
	ST_OPS_10(M, op2) ST_OPS_10(M, op3)

#define ST_OPS_MEMBER(name) int (*name)(int x);
struct st_ops1 { ST_OPS_1(ST_OPS_MEMBER) };
struct st_ops3 { ST_OPS_3(ST_OPS_MEMBER) };
struct st_ops10 { ST_OPS_10(ST_OPS_MEMBER, op) };
struct st_ops40 { ST_OPS_40(ST_OPS_MEMBER) };

#endif
