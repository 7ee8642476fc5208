// SPDX-License-Identifier: GPL-2.0
/*
 * The Mars Pathfinder case: a task that loops forever cannot block main.
 * With a 100 ms call timeout the call fails with ETIMEDOUT, the orbit is
 * killed and restarted (init runs again), and the next call succeeds;
 * without a restart policy the orbit stays dead (ESRCH).
 */
#include "tap.h"
#include "util.h"

static long inits;

static void *count_init(void)
{
	return &inits;	/* store: shared counter, per orbit process */
}

static long task(void *argbuf, void *store)
{
	if (*(int *)argbuf)
		for (;;)
			;
	return ++*(long *)store;	/* calls since this process's init */
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_attr attr;
	struct orbit *ob, *once;
	int spin = 1, calm = 0;
	double t0, dt;
	long ret;

	require(orbit_module_stats(&start) == 0, "read module counters");
	orbit_attr_init(&attr);
	attr.timeout_ns = 100 * 1000000ULL;
	attr.restart = ORBIT_RESTART_LIMIT;
	attr.restart_max = 5;
	ob = orbit_create_ex("hang", task, count_init, &attr);
	require(ob, "orbit with a 100 ms timeout");

	ok(orbit_call(ob, 0, NULL, NULL, &calm, sizeof(calm)) == 1,
	   "a quick call works");
	t0 = now_us();
	ret = orbit_call(ob, 0, NULL, NULL, &spin, sizeof(spin));
	dt = (now_us() - t0) / 1000;
	ok(ret == -1 && errno == ETIMEDOUT, "the looping call fails with ETIMEDOUT");
	ok(dt >= 90 && dt < 2000, "after about 100 ms (%.0f ms)", dt);
	ret = orbit_call(ob, 0, NULL, NULL, &calm, sizeof(calm));
	ok(ret == 1, "the next call succeeds in a restarted orbit (fresh init: %ld)",
	   ret);

	{
		struct orbit_future *f = orbit_call_async(ob, 0, 0, NULL, NULL,
							  &spin, sizeof(spin));
		struct orbit_future *g = orbit_call_async(ob, 0, 0, NULL, NULL,
							  &calm, sizeof(calm));

		ok(f && orbit_future_get(f, &ret) == -1 && errno == ETIMEDOUT,
		   "an async looping call times out too");
		ok(g && orbit_future_get(g, &ret) == -1 && errno == ESRCH,
		   "the call queued behind it fails with ESRCH");
	}

	attr.restart = ORBIT_RESTART_NEVER;
	once = orbit_create_ex("hang-once", task, count_init, &attr);
	require(once, "orbit without restarts");
	ok(orbit_call(once, 0, NULL, NULL, &spin, sizeof(spin)) == -1 &&
	   errno == ETIMEDOUT, "timeout without a restart policy");
	ok(orbit_call(once, 0, NULL, NULL, &calm, sizeof(calm)) == -1 &&
	   errno == ESRCH, "the orbit stays dead: ESRCH");

	orbit_destroy(ob);
	orbit_destroy(once);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
