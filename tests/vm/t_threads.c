// SPDX-License-Identifier: GPL-2.0
/*
 * 16 threads issue 10,000 calls each (sync and async mixed) while mutating
 * their own area objects under their own locks; every call's result must
 * match what that thread wrote before calling.  Run with the default
 * per-page COW/COPY choice, then again (shorter) with COW only.
 */
#include <pthread.h>
#include <stdlib.h>

#include "tap.h"
#include "util.h"

#define THREADS	16
#define CALLS	10000
#define BATCH	8

struct obj {
	pthread_mutex_t lock;
	long seq;
	long check;
	char pad[4096];	/* objects on their own pages, mostly */
};

static struct orbit *ob;
static struct orbit_area *area;
static long calls = CALLS;
static struct obj *objs[THREADS];
static int bad[THREADS], errs[THREADS], reported;

static void mismatch(long t, const char *kind, long want, long got)
{
	bad[t]++;
	if (__atomic_fetch_add(&reported, 1, __ATOMIC_RELAXED) < 8)
		diag("thread %ld %s call: wanted %ld got %ld", t, kind, want,
		     got);
}

static long checksum(void *argbuf, void *store)
{
	struct obj *o = *(struct obj **)argbuf;

	/* A torn snapshot would break the relation between the fields. */
	if (o->check != o->seq * 7 + 3)
		return -2;
	return o->seq;
}

static void *worker(void *p)
{
	long t = (long)p, i, ret;
	struct obj *o = objs[t];
	struct orbit_future *f[BATCH];
	long want[BATCH];
	int n = 0, k;

	for (i = 0; i < calls; i++) {
		pthread_mutex_lock(&o->lock);
		o->seq = t * 1000000 + i;
		o->check = o->seq * 7 + 3;
		pthread_mutex_unlock(&o->lock);
		if (i % 2 == 0) {
			ret = orbit_call(ob, 1, &area, NULL, &o, sizeof(o));
			if (ret != t * 1000000 + i)
				mismatch(t, "sync", t * 1000000 + i, ret);
			if (ret < 0 && errno)
				errs[t]++;
			continue;
		}
		want[n] = t * 1000000 + i;
		f[n] = orbit_call_async(ob, 0, 1, &area, NULL, &o, sizeof(o));
		if (!f[n]) {
			errs[t]++;
			continue;
		}
		if (++n == BATCH || i == calls - 1) {
			for (k = 0; k < n; k++) {
				if (orbit_future_get(f[k], &ret))
					errs[t]++;
				else if (ret != want[k])
					mismatch(t, "async", want[k], ret);
			}
			n = 0;
		}
	}
	for (k = 0; k < n; k++)
		orbit_future_get(f[k], &ret);
	return NULL;
}

static void run(const char *mode, unsigned int flags, long ncalls)
{
	struct orbit_module_stats start;
	pthread_t th[THREADS];
	int nbad = 0, nerr = 0;
	double t0;
	long t;

	calls = ncalls;
	memset(bad, 0, sizeof(bad));
	memset(errs, 0, sizeof(errs));
	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("threads", checksum, NULL);
	require(ob, "orbit_create");
	area = orbit_area_create_ex(THREADS * sizeof(struct obj) * 2, 0, flags,
				    ob);
	require(area, "orbit_area_create_ex (%s)", mode);
	for (t = 0; t < THREADS; t++) {
		objs[t] = orbit_alloc(area, sizeof(struct obj));
		require(objs[t], "orbit_alloc object %ld", t);
		pthread_mutex_init(&objs[t]->lock, NULL);
	}
	t0 = now_us();
	for (t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)t);
	for (t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		nbad += bad[t];
		nerr += errs[t];
	}
	diag("%s: %ld calls in %.1f s", mode, THREADS * ncalls,
	     (now_us() - t0) / 1e6);
	ok(nerr == 0, "%s: no call failed (%d failures)", mode, nerr);
	ok(nbad == 0, "%s: every result matches what its thread wrote (%d mismatches)",
	   mode, nbad);
	ok(orbit_area_destroy(area) == 0, "orbit_area_destroy");
	ok(orbit_destroy(ob) == 0, "orbit_destroy");
	ok(counters_back_to(&start), "module counters back to their start values");
}

int main(void)
{
	run("auto COW/COPY", 0, CALLS);
	run("COW only", ORBIT_AREA_MODE_COW, CALLS / 5);
	return tap_done();
}
