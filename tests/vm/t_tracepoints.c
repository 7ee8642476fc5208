// SPDX-License-Identifier: GPL-2.0
/*
 * The orbit trace system: with its events enabled through tracefs, a
 * known sequence (a call on an area with three written pages, a call
 * whose task crashes, an update whose modification orbit_apply refuses)
 * shows up as orbit_call_issue (pages frozen), orbit_install (pages
 * changed), orbit_call_done (result, error, latency), orbit_death (cause,
 * signal) and orbit_apply_reject (kind, address, error).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "tap.h"
#include "util.h"

#define TR "/sys/kernel/tracing/"

static char trace[1 << 20];
static long outside;

static long seven(void *argbuf, void *store)
{
	return 7;
}

static long crash(void *argbuf, void *store)
{
	return *(volatile long *)0;
}

static long bad_modify(void *argbuf, void *store)
{
	struct orbit_update *u = orbit_update_create();
	long v = 1;

	orbit_update_add_modify(u, &outside, &v, sizeof(v));
	return orbit_push(u, NULL);
}

/* The first trace line of event with every one of the fields. */
static const char *find(const char *event, const char *f1, const char *f2,
			const char *f3)
{
	const char *p = trace;

	while ((p = strstr(p, event))) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		if (strstr(line, f1) && (!f2 || strstr(line, f2)) &&
		    (!f3 || strstr(line, f3))) {
			diag("%s", line);
			return p;
		}
		p += n;
	}
	return NULL;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_update *u;
	struct orbit_area *area;
	struct orbit_attr attr;
	struct orbit *ob;
	char main_eq[32];
	size_t len;
	ssize_t n;
	char *p;
	int fd;

	require(orbit_module_stats(&start) == 0, "read module counters");
	mkdir("/sys/kernel/tracing", 0755);
	mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
	require(access(TR "events/orbit/enable", W_OK) == 0,
		"tracefs has the orbit events");
	require(write_file(TR "trace", "") == 0 &&
		write_file(TR "events/orbit/enable", "1") == 0 &&
		write_file(TR "tracing_on", "1") == 0, "enable them");

	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	ob = orbit_create_ex("traced", seven, NULL, &attr);
	area = orbit_area_create(1 << 20, ob);
	require(ob && area, "an orbit and an area");
	p = orbit_alloc(area, 3 * 4096);
	p[0] = p[4096] = p[8192] = 1;	/* three written pages */
	ok(orbit_call(ob, 1, &area, NULL, NULL, 0) == 7, "a call on the area");
	ok(orbit_call(ob, 0, NULL, crash, NULL, 0) == -1 && errno == ESRCH,
	   "a call whose task crashes");
	ok(orbit_call(ob, 1, &area, bad_modify, NULL, 0) == 0 &&
	   pull_orbit(NULL, &u) == 1 && orbit_apply(u) == -1 && errno == EFAULT,
	   "an update whose modification orbit_apply refuses");
	orbit_update_free(u);
	write_file(TR "events/orbit/enable", "0");

	/* The trace file gives a page or so per read. */
	fd = open(TR "trace", O_RDONLY);
	for (len = 0; fd >= 0 && len < sizeof(trace) - 1; len += n) {
		n = read(fd, trace + len, sizeof(trace) - 1 - len);
		if (n <= 0)
			break;
	}
	trace[len] = 0;
	if (fd >= 0)
		close(fd);
	snprintf(main_eq, sizeof(main_eq), "main=%d ", getpid());
	ok(find("orbit_call_issue:", main_eq, "areas=1 frozen=3 copied=0", NULL),
	   "orbit_call_issue: main, one area, three pages frozen");
	ok(find("orbit_install:", "areas=1 changed=3", NULL, NULL),
	   "orbit_install: three pages changed in the orbit's view");
	ok(find("orbit_call_done:", "retval=7 error=0", "latency_ns=", NULL),
	   "orbit_call_done: the result, no error, a latency");
	ok(find("orbit_call_done:", "error=-3", NULL, NULL),
	   "orbit_call_done: the crashed call's ESRCH");
	ok(find("orbit_death:", "cause=signal code=11", "failed_calls=1", NULL),
	   "orbit_death: killed by SIGSEGV, one call failed");
	ok(find("orbit_apply_reject:", main_eq, "kind=modify", "error=-14"),
	   "orbit_apply_reject: the modification, EFAULT");
	write_file(TR "trace", "");

	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
