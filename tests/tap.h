/* SPDX-License-Identifier: MIT */
/*
 * TAP output for the C test programs (the library's host and guest tests,
 * the benchmark's smoke run; the kselftest ones have the harness's): ok() prints
 * one "ok N - ..." or "not ok N - ..." line and returns the condition,
 * diag() a "# ..." line, tap_done() the plan and the exit status.
 */
#ifndef FLAKEID_TESTS_TAP_H
#define FLAKEID_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_tests, tap_failed;

__attribute__((format(printf, 2, 3), unused))
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_tests++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

__attribute__((format(printf, 1, 2), unused))
static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* The plan line; the exit status main() should return. */
__attribute__((unused))
static int tap_done(void)
{
	printf("1..%d\n", tap_tests);
	return tap_failed ? 1 : 0;
}

#endif
