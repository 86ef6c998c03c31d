/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Results of the programs here in KTAP (Documentation/dev-tools/ktap.rst),
 * through kselftest.h: a test's detail as a diagnostic line ("# NAME:
 * ..."), then "ok N NAME" or "not ok N NAME". The harness reads them with
 * tools/testing/kunit/kunit.py parse.
 */
#ifndef ST_KTAP_H
#define ST_KTAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include "../kselftest.h"

/* Test @name's result; @fmt (NULL for none) says what it did, or why it failed. */
static inline __printf(3, 4) void st_result(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		printf("# %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	if (ok)
		ksft_test_result_pass("%s\n", name);
	else
		ksft_test_result_fail("%s\n", name);
}

#endif
