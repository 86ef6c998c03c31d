/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct_ops types of the bpf_test_struct_ops test module, shared by the module and
 * the BPF programs that implement them.
 */
#ifndef BPF_TEST_STRUCT_OPS_H
#define BPF_TEST_STRUCT_OPS_H

/*
 * bpf_test_struct_ops's types in the order it registers them, which is their slot in
 * the module BTF's table of struct_ops descriptors. Linux 7.3 makes that
 * table room for 4 and grows it with krealloc() (8, 16, ..), which does not
 * zero: slots 4 and up sit in reallocated memory. Writing "TYPE ARG" to
 * bpf_test_struct_ops's "call_type" calls op0 of a registered map of type TYPE (not
 * ST_T_SLEEP); progs/many_types.bpf.c implements every op0 it calls as
 * ST_MANY_RET(TYPE, x).
 */
enum {
	ST_T_SLEEP,	/* st_sleep_ops */
	ST_T_OPS1,	/* st_ops1 */
	ST_T_OPS3,	/* st_ops3 */
	ST_T_OPS10,	/* st_ops10 */
	ST_T_OPS40,	/* st_ops40 */
	ST_T_MANY5,	/* st_many5 */
	ST_T_MANY6,	/* st_many6 */
	ST_T_MANY7,	/* st_many7 */
	ST_T_MANY8,	/* st_many8 */
	ST_T_MANY9,	/* st_many9 */
	ST_NR_TYPES,
};

#define ST_MANY_RET(type, x) ((x) + 1000 * (type))

/* One sleepable op, called from debugfs; see bpf_test_struct_ops.c. */
struct st_sleep_ops {
	int (*sleep)(int arg);
};

/* Ops with 1, 3, 10 and 40 members op0, op1, ..: int opN(int x). */
struct st_ops1 {
	int (*op0)(int x);
};

struct st_ops3 {
	int (*op0)(int x);
	int (*op1)(int x);
	int (*op2)(int x);
};

struct st_ops10 {
	int (*op0)(int x);
	int (*op1)(int x);
	int (*op2)(int x);
	int (*op3)(int x);
	int (*op4)(int x);
	int (*op5)(int x);
	int (*op6)(int x);
	int (*op7)(int x);
	int (*op8)(int x);
	int (*op9)(int x);
};

struct st_ops40 {
	int (*op0)(int x);
	int (*op1)(int x);
	int (*op2)(int x);
	int (*op3)(int x);
	int (*op4)(int x);
	int (*op5)(int x);
	int (*op6)(int x);
	int (*op7)(int x);
	int (*op8)(int x);
	int (*op9)(int x);
	int (*op10)(int x);
	int (*op11)(int x);
	int (*op12)(int x);
	int (*op13)(int x);
	int (*op14)(int x);
	int (*op15)(int x);
	int (*op16)(int x);
	int (*op17)(int x);
	int (*op18)(int x);
	int (*op19)(int x);
	int (*op20)(int x);
	int (*op21)(int x);
	int (*op22)(int x);
	int (*op23)(int x);
	int (*op24)(int x);
	int (*op25)(int x);
	int (*op26)(int x);
	int (*op27)(int x);
	int (*op28)(int x);
	int (*op29)(int x);
	int (*op30)(int x);
	int (*op31)(int x);
	int (*op32)(int x);
	int (*op33)(int x);
	int (*op34)(int x);
	int (*op35)(int x);
	int (*op36)(int x);
	int (*op37)(int x);
	int (*op38)(int x);
	int (*op39)(int x);
};

/* Types of one op int op0(int x), slots 5 to 9 of the table (see above). */
struct st_many5 {
	int (*op0)(int x);
};

struct st_many6 {
	int (*op0)(int x);
};

struct st_many7 {
	int (*op0)(int x);
};

struct st_many8 {
	int (*op0)(int x);
};

struct st_many9 {
	int (*op0)(int x);
};

#endif
