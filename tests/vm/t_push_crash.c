// SPDX-License-Identifier: GPL-2.0
/*
 * An orbit crashes after pushing 2 of 3 updates: main receives the two,
 * then ESRCH; the future also reports ESRCH; nothing leaks.
 */
#include "tap.h"
#include "util.h"

static long push_then_crash(void *argbuf, void *store)
{
	long k;

	for (k = 0; k < 3; k++) {
		struct orbit_update *u;

		if (k == 2)
			*(volatile long *)NULL = 1;	/* crash */
		u = orbit_update_create();
		orbit_update_add_data(u, &k, sizeof(k));
		orbit_push(u, NULL);
	}
	return 0;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_future *f;
	struct orbit_update *u;
	struct orbit *ob;
	long r, got[2] = { -1, -1 };
	int n = 0;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("crash", push_then_crash, NULL);
	require(ob, "orbit_create");
	f = orbit_call_async(ob, 0, 0, NULL, NULL, NULL, 0);
	require(f, "orbit_call_async");
	while ((r = pull_orbit(f, &u)) == 1) {
		if (n < 2)
			memcpy(&got[n], orbit_update_first(u)->data, sizeof(long));
		n++;
		orbit_update_free(u);
	}
	ok(n == 2 && got[0] == 0 && got[1] == 1,
	   "main received the two updates pushed before the crash");
	ok(r == -1 && errno == ESRCH, "then pull_orbit fails with ESRCH");
	ok(orbit_future_get(f, &r) == -1 && errno == ESRCH,
	   "the future reports ESRCH");
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
