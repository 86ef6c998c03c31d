// SPDX-License-Identifier: GPL-2.0
/*
 * Pushes data over a loopback TCP connection with a chosen congestion
 * control and reports what the socket used and how fast it went.
 * usage: tcp_xfer [-c CA] [-m MEGABYTES]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "struct_ops_map_helpers.h"

int main(int argc, char **argv)
{
	struct st_tcp t;
	const char *ca = NULL;
	struct timespec a, b;
	long mb = 64;
	char used[16];
	double s;
	int opt;

	while ((opt = getopt(argc, argv, "c:m:")) != -1) {
		if (opt == 'c')
			ca = optarg;
		else if (opt == 'm')
			mb = atol(optarg);
		else
			return 2;
	}
	if (st_tcp_open(&t, ca)) {
		fprintf(stderr, "tcp_xfer: connect with %s: %s\n", ca ? ca : "default",
			strerror(errno));
		return 1;
	}
	st_sock_ca(t.cli, used);
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (st_tcp_push(&t, (size_t)mb << 20)) {
		fprintf(stderr, "tcp_xfer: transfer: %s\n", strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	printf("tcp_xfer: %ld MiB over 127.0.0.1:%u->listener with CA %s in %.3f s (%.1f MiB/s)\n",
	       mb, t.cli_port, used, s, mb / s);
	st_tcp_close(&t);
	return 0;
}
