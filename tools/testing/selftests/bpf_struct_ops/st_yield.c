// SPDX-License-Identifier: GPL-2.0
/*
 * A task that gives its CPU up again and again: sched_yield() in a loop for
 * SECS seconds (1 by default). The sched_ext workloads run it so that a
 * scheduler's yield op runs; nothing in busybox calls sched_yield().
 *
 * usage: st_yield [SECS]
 */
#include <sched.h>
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
	double end = now() + (argc > 1 ? atof(argv[1]) : 1);

	do {
		if (sched_yield())
			return 1;
	} while (now() < end);
	return 0;
}
