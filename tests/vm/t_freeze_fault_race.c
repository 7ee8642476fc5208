// SPDX-License-Identifier: GPL-2.0
/*
 * Main's write faults racing the freeze: two threads keep writing every
 * page of an area (each first write after a snapshot faults) while main
 * keeps snapshotting it with enough pages written that the freeze
 * write-protects main's PTEs (walking whole runs of pages).  Every task
 * reads its snapshot twice, 3 ms apart, and finds it unchanged: no write
 * of main's reaches a frozen page, whether its fault came before, during
 * or after the freeze.  (Whether a fault between page_mkwrite and its PTE
 * becoming writable is waited out is not visible here: such a fault holds
 * a reference on its page, so the freeze's holder check gives main the
 * page and the snapshot a copy even without the wait.)
 */
#include <pthread.h>

#include "tap.h"
#include "util.h"

#define NPAGES	256
#define PAGE	4096

static volatile int stop;
static unsigned char *base;

/* In the orbit: each page's first word, then again after 3 ms. */
static long reread(void *argbuf, void *store)
{
	const volatile long *p = *(long **)argbuf;
	static long first[NPAGES];
	long changed = 0;
	int i;

	for (i = 0; i < NPAGES; i++)
		first[i] = p[i * (PAGE / sizeof(long))];
	usleep(3000);
	for (i = 0; i < NPAGES; i++)
		changed += first[i] != p[i * (PAGE / sizeof(long))];
	return changed;
}

static void *writer(void *arg)
{
	long n = (long)arg;
	int i;

	while (!stop) {
		for (i = 0; i < NPAGES; i++)
			__atomic_add_fetch((long *)(base + (size_t)i * PAGE), n,
					   __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *area;
	long calls = 0, bad = 0, ret;
	struct orbit *ob;
	pthread_t t[2];
	double end;
	int i;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("fault-race", reread, NULL);
	area = orbit_area_create(NPAGES * PAGE, ob);
	require(ob && area, "orbit and area");
	base = orbit_area_base(area);
	memset(base, 0, NPAGES * PAGE);
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, writer, (void *)(long)(i + 1));
	end = now_us() + 6e6;
	while (now_us() < end) {
		ret = orbit_call(ob, 1, &area, NULL, &base, sizeof(base));
		if (ret)
			bad++;
		calls++;
	}
	stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ok(calls > 50 && !bad,
	   "%ld snapshots under two writers: %ld changed under their task",
	   calls, bad);
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
