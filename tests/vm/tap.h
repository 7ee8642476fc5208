/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP producer for guest tests.  Each test binary prints its
 * checks as an indented (KTAP nested) TAP stream; the guest runner prints
 * the binary's own top-level ok/not ok line from its exit status.
 */
#ifndef ORBIT_TAP_H
#define ORBIT_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failed;

static inline int tap_check(int cond, const char *file, int line,
			    const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	tap_count++;
	printf("    %sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!cond) {
		printf(" # %s:%d errno=%d (%s)", file, line, saved,
		       strerror(saved));
		tap_failed++;
	}
	printf("\n");
	fflush(stdout);
	errno = saved;
	return cond;
}

#define ok(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define diag(...) do { printf("    # " __VA_ARGS__); printf("\n"); \
		       fflush(stdout); } while (0)

/* Aborts the test binary (counts as a failure) when cond is false. */
#define require(cond, ...) do { if (!ok(cond, __VA_ARGS__)) { \
	printf("    1..%d\n", tap_count); exit(1); } } while (0)

static inline int tap_done(void)
{
	printf("    1..%d\n", tap_count);
	fflush(stdout);
	return tap_failed || !tap_count ? 1 : 0;
}

#endif
