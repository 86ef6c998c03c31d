// SPDX-License-Identifier: GPL-2.0
/*
 * A task that does to the CPU scheduler, for SECS seconds, what nothing in
 * busybox does, so that a sched_ext scheduler's ops for it run:
 *	yield: sched_yield() in a loop (the yield op);
 *	fifo: busy as SCHED_FIFO, a class above sched_ext, taking its CPU from
 *	sched_ext's tasks (the cpu_release op).
 *
 * usage: st_sched_task yield|fifo SECS
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sched_param p = { .sched_priority = 1 };
	int yield = argc == 3 && !strcmp(argv[1], "yield");
	double end;

	if (argc != 3 || (!yield && strcmp(argv[1], "fifo"))) {
		fprintf(stderr, "usage: st_sched_task yield|fifo SECS\n");
		return 2;
	}
	if (!yield && sched_setscheduler(0, SCHED_FIFO, &p)) {
		perror("st_sched_task: sched_setscheduler");
		return 1;
	}
	end = now() + atof(argv[2]);
	while (now() < end)
		if (yield && sched_yield()) {
			perror("st_sched_task: sched_yield");
			return 1;
		}
	return 0;
}
