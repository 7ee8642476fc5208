// SPDX-License-Identifier: GPL-2.0
/*
 * An orbit's write fault racing the install of the next call's snapshot.
 * The first task leaves a thread running in the orbit that keeps dropping
 * its PTE of the view's page (MADV_DONTNEED) and writing a word of it
 * that main never writes, so a write fault of the orbit's own copy of the
 * page is often in flight.  Each call's task reads the word main wrote
 * before the call: it must find that call's value.  An install drops the
 * orbit's copy of the page; a fault that let the copy through before must
 * not map it after the install, or the task reads the value of an older
 * call.  (A narrow window: before the fix, 1 call in 20,000 on 6.12.)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include "tap.h"
#include "util.h"

#define PAGE		4096
#define CALLS		20000
#define BUDGET_S	60

/* In the orbit, for good: keeps a write fault of the page in flight. */
static void *writer(void *arg)
{
	volatile long *page = arg;

	pin_to_cpu(0, 1);
	for (;;) {
		madvise((void *)page, PAGE, MADV_DONTNEED);
		page[1]++;
	}
	return NULL;
}

/* The task (argument: the page): starts the writer once, reads main's word. */
static long task(void *argbuf, void *store)
{
	volatile long *page = *(volatile long **)argbuf;
	static int started;
	pthread_t th;

	(void)store;
	if (!started) {
		if (pthread_create(&th, NULL, writer, (void *)page))
			return -1;
		started = 1;
	}
	return page[0];
}

int main(void)
{
	struct orbit_module_stats start;
	double end = now_us() + BUDGET_S * 1e6;
	long i, ret, stale = 0, failed = 0, first_got = 0, first_want = 0;
	struct orbit_area *area;
	volatile long *page;
	struct orbit *ob;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("install-race", task, NULL);
	area = orbit_area_create(PAGE, ob);
	require(ob && area, "orbit and area");
	page = orbit_area_base(area);
	pin_to_cpu(0, 0);
	for (i = 0; i < CALLS && now_us() < end; i++) {
		page[0] = i + 1;
		ret = orbit_call(ob, 1, &area, NULL, &page, sizeof(page));
		if (ret < 0) {
			failed++;
		} else if (ret != i + 1 && !stale++) {
			first_got = ret;
			first_want = i + 1;
		}
	}
	ok(!stale && !failed,
	   "%ld calls under the orbit's racing write faults: %ld read an older value (first %ld for %ld), %ld failed",
	   i, stale, first_got, first_want, failed);
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
