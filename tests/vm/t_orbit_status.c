// SPDX-License-Identifier: GPL-2.0
/*
 * What main and a task can learn about an orbit: orbit_status() (state,
 * restarts, process, last death and whether a call would restart it,
 * call counts) through starts, crashes, timeouts and restarts;
 * orbit_self() and orbit_self_name() in a task (0 and NULL in main);
 * orbit_destroy_all() ends every orbit the process made.
 */
#include "tap.h"
#include "util.h"

enum { Q_SELF, Q_NAME, Q_CRASH, Q_HANG, Q_OK };

static long task(void *argbuf, void *store)
{
	const char *n;

	switch (*(int *)argbuf) {
	case Q_SELF:
		return orbit_self();
	case Q_NAME:
		n = orbit_self_name();
		return n && !strcmp(n, "status-a");
	case Q_CRASH:
		return *(volatile long *)0;
	case Q_HANG:
		for (;;)
			;
	}
	return 0;
}

static long ask(struct orbit *ob, int q)
{
	return orbit_call(ob, 0, NULL, NULL, &q, sizeof(q));
}

/* The orbit's status once its process is ready (it starts async). */
static int status_ready(struct orbit *ob, struct orbit_status *st)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (orbit_status(ob, st))
			return -1;
		if (st->state == ORBIT_STATUS_READY)
			return 0;
		usleep(20000);
	}
	return 0;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_status st;
	struct orbit_attr attr;
	struct orbit *a, *b, *c;
	long self;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ok(orbit_self() == 0 && orbit_self_name() == NULL,
	   "in main: orbit_self() 0, orbit_self_name() NULL");
	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	a = orbit_create_ex("status-a", task, NULL, &attr);
	require(a != NULL, "an orbit that restarts");
	ok(status_ready(a, &st) == 0 && st.state == ORBIT_STATUS_READY &&
	   st.restarts == 0 && st.pid > 0 && st.last_death == ORBIT_DIED_NEVER,
	   "a new orbit: ready, its process, never died");
	ok(procs_named("status-a", NULL) == 1, "its process is named after it");
	self = ask(a, Q_SELF);
	ok(self > 0 && (unsigned int)self == st.id,
	   "orbit_self() in its task is the status' id (%ld)", self);
	ok(ask(a, Q_NAME) == 1, "orbit_self_name() in its task is its name");
	ok(orbit_status(a, &st) == 0 && st.calls_done >= 2 && st.calls_queued == 0,
	   "call counts");
	ok(ask(a, Q_CRASH) == -1 && errno == ESRCH, "its task crashes");
	ok(orbit_status(a, &st) == 0 && st.state == ORBIT_STATUS_DEAD &&
	   st.last_death == ORBIT_DIED_SIGNAL && st.last_death_code == 11 &&
	   st.will_restart && st.calls_failed >= 1,
	   "dead by SIGSEGV, a call would restart it");
	ok(ask(a, Q_OK) == 0 && orbit_status(a, &st) == 0 && st.restarts == 1 &&
	   st.state == ORBIT_STATUS_READY, "the next call restarted it: 1 restart");

	b = orbit_create("status-b", task, NULL);
	require(b != NULL, "an orbit that never restarts");
	ask(b, Q_CRASH);
	ok(orbit_status(b, &st) == 0 && st.state == ORBIT_STATUS_DEAD &&
	   !st.will_restart, "dead for good: will_restart 0");

	orbit_attr_init(&attr);
	attr.timeout_ns = 200 * 1000000ULL;
	c = orbit_create_ex("status-c", task, NULL, &attr);
	require(c != NULL, "an orbit with a timeout");
	ok(ask(c, Q_HANG) == -1 && errno == ETIMEDOUT, "its task hangs");
	ok(orbit_status(c, &st) == 0 && st.last_death == ORBIT_DIED_TIMEOUT,
	   "dead by timeout");

	ok(orbit_status(NULL, &st) == -1 && errno == EINVAL &&
	   orbit_status(a, NULL) == -1 && errno == EINVAL, "NULL: EINVAL");
	ok(orbit_destroy_all() == 3, "orbit_destroy_all ends the three orbits");
	ok(orbit_destroy_all() == 0, "then there is none left");
	ok(procs_gone("status-a") && procs_gone("status-c"),
	   "their processes are gone");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
