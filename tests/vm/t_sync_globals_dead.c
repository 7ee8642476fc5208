// SPDX-License-Identifier: GPL-2.0
/*
 * orbit_sync_globals() on an orbit that died: with a restart policy it
 * restarts the orbit (which then has the globals of now) instead of
 * deadlocking on itself -- it used to take the library's globals lock
 * twice, once for the copy and once more in the restart that the copy's
 * own call triggered (found by the Redis port: a BGSAVE after a crashed
 * one hung the server).  Without a restart policy it fails with ESRCH.
 * The copy of a live orbit keeps working after all that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static long g_value;

static long task(void *argbuf, void *store)
{
	if (*(int *)argbuf)
		raise(SIGSEGV);
	return g_value;
}

static long call(struct orbit *ob, int crash)
{
	return orbit_call(ob, 0, NULL, NULL, &crash, sizeof(crash));
}

int main(void)
{
	struct orbit_attr attr;
	struct orbit *ob, *never;
	long r;

	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	ob = orbit_create_ex("sync-dead", task, NULL, &attr);
	require(ob, "orbit_create_ex (restart always): %s", strerror(errno));

	g_value = 1;
	ok(orbit_sync_globals(ob) == 0 && call(ob, 0) == 1,
	   "a live orbit sees the copy");
	r = call(ob, 1);
	ok(r == -1 && errno == ESRCH, "its task crashes: ESRCH");
	g_value = 2;
	alarm(20);	/* the old deadlock: SIGALRM ends the test */
	ok(orbit_sync_globals(ob) == 0, "sync on the dead orbit restarts it");
	ok(call(ob, 0) == 2, "... and the restarted orbit has the globals of now");
	r = call(ob, 1);
	g_value = 3;
	ok(orbit_sync_globals(ob) == 0 && call(ob, 0) == 3,
	   "again, right after another crash");
	alarm(0);

	never = orbit_create("sync-dead-never", task, NULL);
	require(never, "orbit_create: %s", strerror(errno));
	r = call(never, 1);
	ok(r == -1 && errno == ESRCH, "an orbit without restarts crashes: ESRCH");
	errno = 0;
	ok(orbit_sync_globals(never) == -1 && errno == ESRCH,
	   "sync on it fails with ESRCH");

	ok(orbit_destroy(ob) == 0 && orbit_destroy(never) == 0, "destroyed");
	return tap_done();
}
