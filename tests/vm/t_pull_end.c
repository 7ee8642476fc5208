// SPDX-License-Identifier: GPL-2.0
/*
 * The pull that finds a call's end also collects the call: from then on
 * the module holds nothing for the future (its live call count is back
 * before orbit_future_get), and orbit_future_get returns the result the
 * library kept: the task's value, or the call's error.  When the call
 * has ended before main pulls its last update, that pull brings the end
 * along.  Pulls after the end report it again; cancelling then fails
 * with EALREADY.
 */
#include "tap.h"
#include "util.h"

static long push_n(void *argbuf, void *store)
{
	int i, n = *(int *)argbuf;

	for (i = 0; i < n; i++) {
		struct orbit_update *u = orbit_update_create();

		if (!u || orbit_update_add_data(u, &i, sizeof(i)) ||
		    orbit_push(u, NULL))
			return -1;
	}
	return 7 + n;
}

static long push_then_crash(void *argbuf, void *store)
{
	struct orbit_update *u = orbit_update_create();

	orbit_update_add_data(u, &(int){ 1 }, sizeof(int));
	orbit_push(u, NULL);
	return *(volatile long *)0;
}

/* Pulls every update of f; how many, or -1 on an error before the end. */
static int pull_all(struct orbit_future *f, long *last)
{
	struct orbit_update *u;
	int n = 0;
	long r;

	while ((r = pull_orbit(f, &u)) == 1) {
		n++;
		orbit_update_free(u);
	}
	*last = r;
	return n;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_update *u = NULL;
	struct orbit_status st;
	struct orbit_future *f;
	struct orbit *ob;
	long ret = 0, last;
	int n, r, err, two = 2, zero = 0, one = 1;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("pullend", push_n, NULL);
	require(ob, "orbit_create");

	f = orbit_call_async(ob, 0, 0, NULL, NULL, &two, sizeof(two));
	require(f, "an async call that pushes two updates");
	n = pull_all(f, &last);
	ok(n == 2 && last == 0, "two updates, then the end (%d, %ld)", n, last);
	ok(live_calls_become(start.calls),
	   "after the end was pulled the module holds no call for the future");
	ok(pull_orbit(f, &u) == 0, "a pull after the end reports it again");
	ok(orbit_cancel(f) == -1 && errno == EALREADY,
	   "cancel after the end: EALREADY");
	r = orbit_future_get(f, &ret);
	ok(r == 0 && ret == 9, "orbit_future_get returns the task's value (%d, %ld)",
	   r, ret);

	f = orbit_call_async(ob, 0, 0, NULL, NULL, &zero, sizeof(zero));
	require(f, "an async call that pushes nothing");
	ok(pull_orbit(f, &u) == 0, "its only pull is the end");
	ok(live_calls_become(start.calls), "and collects the call");
	r = orbit_future_get(f, &ret);
	ok(r == 0 && ret == 7, "orbit_future_get: %d, %ld", r, ret);

	/* The call ends before main pulls: its last update brings the end. */
	require(orbit_status(ob, &st) == 0, "orbit_status");
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &one, sizeof(one));
	require(f, "an async call that pushes one update");
	ok(orbit_done_within(ob, st.calls_done + 1, 2000), "the call ends unpulled");
	ok(pull_orbit(f, &u) == 1, "the pull has its update");
	orbit_update_free(u);
	ok(live_calls_become(start.calls),
	   "and, in the same pull, its end: the module holds no call");
	ok(pull_orbit(f, &u) == 0, "the next pull reports the end");
	r = orbit_future_get(f, &ret);
	ok(r == 0 && ret == 8, "orbit_future_get: %d, %ld", r, ret);
	orbit_destroy(ob);

	ob = orbit_create("pullcrash", push_then_crash, NULL);
	require(ob, "an orbit whose task pushes and crashes");
	f = orbit_call_async(ob, 0, 0, NULL, NULL, NULL, 0);
	require(f, "its call");
	n = pull_all(f, &last);
	err = errno;
	ok(n == 1 && last == -1 && err == ESRCH,
	   "one update, then the end with ESRCH (%d, %ld, %s)", n, last,
	   strerror(err));
	ok(live_calls_become(start.calls), "the failed call is collected too");
	ok(pull_orbit(f, &u) == -1 && errno == ESRCH,
	   "a pull after it reports ESRCH again");
	ok(orbit_future_get(f, &ret) == -1 && errno == ESRCH,
	   "orbit_future_get: -1, ESRCH");
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
