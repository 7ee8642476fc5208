// SPDX-License-Identifier: GPL-2.0
/*
 * Call timeouts of a direct orbit (ORBIT_DIRECT, timeout_ns): calls that
 * each take less than the timeout all succeed, however long the queue
 * takes as a whole; a call that runs past it fails with ETIMEDOUT soon
 * after the timeout, the call queued behind it with ESRCH, the orbit's
 * status says it died of ORBIT_DIED_TIMEOUT, and its restart policy
 * brings a new process that answers the next call.
 */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "util.h"

#define TIMEOUT_MS	300

struct arg {
	long *vals;
	int sleep_ms;
};

/* Sleeps, then sums the area's 16 longs. */
static long nap_task(void *argbuf, void *store)
{
	struct arg *a = argbuf;
	long s = 0;
	int i;

	usleep(a->sleep_ms * 1000);
	for (i = 0; i < 16; i++)
		s += a->vals[i];
	return s;
}

int main(void)
{
	struct orbit_future *f[10];
	struct orbit_status st;
	struct orbit_area *area;
	struct orbit_attr attr;
	struct arg a = { 0 };
	struct orbit *ob;
	long got;
	double t0, ms;
	int i, good;

	orbit_attr_init(&attr);
	attr.flags = ORBIT_DIRECT | ORBIT_SPAWNER_GLOBALS;
	attr.restart = ORBIT_RESTART_ALWAYS;
	attr.timeout_ns = TIMEOUT_MS * 1000000ULL;
	ob = orbit_create_ex("direct-to", nap_task, NULL, &attr);
	area = ob ? orbit_area_create(1 << 20, ob) : NULL;
	a.vals = area ? orbit_alloc(area, 16 * sizeof(long)) : NULL;
	require(a.vals, "a direct orbit with a %d ms call timeout, an area",
		TIMEOUT_MS);
	for (i = 0; i < 16; i++)
		a.vals[i] = 1;

	/* Ten calls of 100 ms queued at once: 1 s in all. */
	a.sleep_ms = 100;
	for (i = 0, good = 1; i < 10; i++) {
		f[i] = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
		good &= f[i] != NULL;
	}
	require(good, "ten calls of 100 ms each, queued at once");
	for (i = 0; i < 10; i++)
		good &= orbit_future_get(f[i], &got) == 0 && got == 16;
	ok(good, "each finished within the timeout: all succeed");

	a.sleep_ms = 60000;
	t0 = now_us();
	f[0] = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
	a.sleep_ms = 0;
	f[1] = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
	require(f[0] && f[1], "a call that sleeps a minute, one queued behind");
	ok(orbit_future_get(f[0], &got) == -1 && errno == ETIMEDOUT,
	   "the long call fails with ETIMEDOUT");
	ms = (now_us() - t0) / 1000;
	ok(ms >= TIMEOUT_MS && ms < 5000, "after the timeout, soon (%.0f ms)",
	   ms);
	ok(orbit_future_get(f[1], &got) == -1 && errno == ESRCH,
	   "the call queued behind it fails with ESRCH");
	memset(&st, 0, sizeof(st));
	ok(orbit_status(ob, &st) == 0 && st.state == ORBIT_STATUS_DEAD &&
	   st.last_death == ORBIT_DIED_TIMEOUT && st.will_restart,
	   "its status: dead of ORBIT_DIED_TIMEOUT, to restart");
	errno = 0;
	got = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
	ok(got == 16 && errno == 0, "the next call is answered (%ld)", got);
	memset(&st, 0, sizeof(st));
	ok(orbit_status(ob, &st) == 0 && st.restarts == 1 &&
	   st.state == ORBIT_STATUS_READY &&
	   st.last_death == ORBIT_DIED_TIMEOUT && st.calls_failed == 2 &&
	   st.calls_queued == 0,
	   "by a restarted process; the last death a timeout, two calls failed");
	orbit_destroy(ob);
	orbit_area_destroy(area);
	return tap_done();
}
