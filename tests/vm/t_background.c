// SPDX-License-Identifier: GPL-2.0
/*
 * ORBIT_BACKGROUND: the orbit's process runs under SCHED_BATCH from its
 * start and again after a restart, and a call does not run it ahead of
 * its caller on the caller's CPU (a plain orbit may, and on 6.1 does);
 * a plain orbit keeps SCHED_OTHER.
 */
#define _GNU_SOURCE
#include <sched.h>

#include "tap.h"
#include "util.h"

#define CALLS	300

/* When the task started: microseconds after the time it was given. */
static long started(void *argbuf, void *store)
{
	return (long)(now_us() - *(double *)argbuf);
}

static long crash(void *argbuf, void *store)
{
	return *(volatile long *)0;
}

/* The orbit's process once a call has run; 0 if there is none. */
static pid_t orbit_pid(struct orbit *ob)
{
	struct orbit_status st;
	double t = now_us();

	if (orbit_call(ob, 0, NULL, started, &t, sizeof(t)) < 0 ||
	    orbit_status(ob, &st))
		return 0;
	return st.pid;
}

/*
 * Of CALLS async calls made with main's thread and the orbit on one CPU,
 * how many had their task start before orbit_call_async returned; -1 on
 * an error.
 */
static int ahead_of_caller(struct orbit *ob, pid_t pid)
{
	struct orbit_future *f;
	int i, ahead = 0;
	double t, back;
	long ret;

	if (pin_to_cpu(0, 0) || pin_to_cpu(pid, 0))
		return -1;
	for (i = 0; i < CALLS; i++) {
		usleep(200);	/* the orbit asleep, waiting for a call */
		t = now_us();
		f = orbit_call_async(ob, 0, 0, NULL, started, &t, sizeof(t));
		back = now_us() - t;
		if (!f || orbit_future_get(f, &ret))
			return -1;
		ahead += ret < back;
	}
	return ahead;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_attr attr;
	struct orbit *bg, *plain;
	pid_t pid, again, plain_pid;
	int n;

	require(orbit_module_stats(&start) == 0, "read module counters");
	orbit_attr_init(&attr);
	attr.flags = ORBIT_BACKGROUND;
	attr.restart = ORBIT_RESTART_ALWAYS;
	bg = orbit_create_ex("background", started, NULL, &attr);
	plain = orbit_create("plain", started, NULL);
	require(bg && plain, "create a background orbit and a plain one");

	pid = orbit_pid(bg);
	ok(pid > 0 && sched_getscheduler(pid) == SCHED_BATCH,
	   "the background orbit's process runs SCHED_BATCH (pid %d)", pid);
	plain_pid = orbit_pid(plain);
	ok(plain_pid > 0 && sched_getscheduler(plain_pid) == SCHED_OTHER,
	   "the plain orbit's process runs SCHED_OTHER");

	n = ahead_of_caller(bg, pid);
	ok(n >= 0 && n <= CALLS / 100,
	   "a call on the caller's CPU does not run the background task before it returns (%d of %d did)",
	   n, CALLS);
	n = ahead_of_caller(plain, plain_pid);
	ok(n >= 0, "the same calls to the plain orbit");
	diag("the plain orbit's task ran before the call returned in %d of %d calls",
	     n, CALLS);

	ok(orbit_call(bg, 0, NULL, crash, NULL, 0) == -1 && errno == ESRCH,
	   "the background orbit's task crashes: ESRCH");
	again = orbit_pid(bg);
	ok(again > 0 && again != pid &&
	   sched_getscheduler(again) == SCHED_BATCH,
	   "restarted, its new process runs SCHED_BATCH too (pid %d)", again);

	attr.flags = 1U << 31;
	errno = 0;
	ok(!orbit_create_ex("bad", started, NULL, &attr) && errno == EINVAL,
	   "an unknown attribute flag: EINVAL");

	ok(orbit_destroy(bg) == 0 && orbit_destroy(plain) == 0,
	   "destroy both orbits");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
