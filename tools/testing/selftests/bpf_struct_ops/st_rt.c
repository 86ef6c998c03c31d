// SPDX-License-Identifier: GPL-2.0
/*
 * A task of a higher class than sched_ext: busy for SECS seconds (0.2 by
 * default) as SCHED_FIFO, so that it takes its CPU from sched_ext's tasks
 * and a scheduler's cpu_release op runs (busybox has no chrt).
 *
 * usage: st_rt [SECS]
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
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
	double end;

	if (sched_setscheduler(0, SCHED_FIFO, &p)) {
		perror("st_rt: sched_setscheduler");
		return 1;
	}
	end = now() + (argc > 1 ? atof(argv[1]) : 0.2);
	while (now() < end)
		;
	return 0;
}
