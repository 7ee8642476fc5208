// SPDX-License-Identifier: GPL-2.0
/*
 * A queued call may be cancelled while another thread pulls its future:
 * orbit_cancel() returns at once (it does not wait for the pull, which
 * waits for the call), and the puller is told the end with ECANCELED,
 * long before the call ahead of it in the queue ends.
 */
#include <pthread.h>

#include "tap.h"
#include "util.h"

#define BLOCK_MS	2000

static long slow(void *argbuf, void *store)
{
	usleep(BLOCK_MS * 1000);
	return 1;
}

static long quick(void *argbuf, void *store)
{
	return 2;
}

static struct orbit_future *queued;
static long pulled;
static int pull_errno;
static double pulled_at;

static void *puller(void *unused)
{
	struct orbit_update *u;

	pulled = pull_orbit(queued, &u);
	pull_errno = errno;
	pulled_at = now_us();
	return NULL;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_future *running;
	struct orbit *ob;
	double t0, cancel_us;
	pthread_t t;
	long ret = 0;
	int rc;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("cancelpull", slow, NULL);
	require(ob, "orbit_create");
	t0 = now_us();
	running = orbit_call_async(ob, 0, 0, NULL, NULL, NULL, 0);
	usleep(100000);		/* it runs now */
	queued = orbit_call_async(ob, 0, 0, NULL, quick, NULL, 0);
	require(running && queued, "a running call and one queued behind it");
	require(pthread_create(&t, NULL, puller, NULL) == 0, "a puller thread");
	usleep(200000);		/* it waits in its pull */

	cancel_us = now_us();
	rc = orbit_cancel(queued);
	cancel_us = now_us() - cancel_us;
	ok(rc == 0, "orbit_cancel of the queued call succeeds (%s)",
	   rc ? strerror(errno) : "0");
	ok(cancel_us < BLOCK_MS * 1000 / 4,
	   "without waiting for the pull (%.0f ms)", cancel_us / 1000);
	pthread_join(t, NULL);
	ok(pulled == -1 && pull_errno == ECANCELED,
	   "the puller is told the end with ECANCELED (%ld, %s)", pulled,
	   strerror(pull_errno));
	ok(pulled_at - t0 < BLOCK_MS * 1000 * 3 / 4,
	   "before the running call ends (%.0f ms after it began)",
	   (pulled_at - t0) / 1000);
	rc = orbit_future_get(queued, &ret);
	ok(rc == -1 && errno == ECANCELED, "orbit_future_get: ECANCELED");
	rc = orbit_future_get(running, &ret);
	ok(rc == 0 && ret == 1, "the running call ends normally (%d, %ld)", rc,
	   ret);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
