// SPDX-License-Identifier: GPL-2.0
/*
 * A push wakes the threads that pull, not those that only wait for the
 * end: a main thread in a synchronous call, or in orbit_future_get,
 * while the task pushes 100 updates one by one sleeps through them (its
 * voluntary context switches stay far below one per push), and then has
 * every update to pull.
 */
#define _GNU_SOURCE
#include <sys/resource.h>

#include "tap.h"
#include "util.h"

#define PUSHES	100

static long push_slowly(void *argbuf, void *store)
{
	int i;

	for (i = 0; i < PUSHES; i++) {
		struct orbit_update *u = orbit_update_create();

		if (!u || orbit_update_add_data(u, &i, sizeof(i)) ||
		    orbit_push(u, NULL))
			return -1;
		usleep(2000);	/* each push on its own */
	}
	return PUSHES;
}

static long switches(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_nvcsw;
}

/* Pulls f's (NULL: the last sync call's) updates; how many. */
static int pull_count(struct orbit_future *f)
{
	struct orbit_update *u;
	int n = 0;

	while (pull_orbit(f, &u) == 1) {
		n++;
		orbit_update_free(u);
	}
	return n;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_future *f;
	struct orbit *ob;
	long before, during, ret = 0;
	int n;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("wakeups", push_slowly, NULL);
	require(ob, "orbit_create");

	before = switches();
	ret = orbit_call(ob, 0, NULL, NULL, NULL, 0);
	during = switches() - before;
	ok(ret == PUSHES, "the sync call returns %ld", ret);
	ok(during < PUSHES / 4,
	   "main slept through %d pushes: %ld context switches", PUSHES, during);
	n = pull_count(NULL);
	ok(n == PUSHES, "then pulls all %d updates (%d)", PUSHES, n);

	f = orbit_call_async(ob, 0, 0, NULL, NULL, NULL, 0);
	require(f, "an async call");
	n = pull_count(f);	/* a puller: woken by every push */
	ok(n == PUSHES, "a puller gets all %d updates (%d)", PUSHES, n);
	ok(orbit_future_get(f, &ret) == 0 && ret == PUSHES,
	   "and the result");

	f = orbit_call_async(ob, 0, 0, NULL, NULL, NULL, 0);
	require(f, "an async call nobody pulls");
	before = switches();
	n = orbit_future_get(f, &ret);
	during = switches() - before;
	ok(n == 0 && ret == PUSHES, "orbit_future_get returns %ld", ret);
	ok(during < PUSHES / 4,
	   "orbit_future_get slept through %d pushes: %ld context switches",
	   PUSHES, during);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
