// SPDX-License-Identifier: GPL-2.0
/*
 * Main's writes to frozen pages racing the task's reads of the same
 * snapshot: after each call main and two more threads rewrite every page
 * (from both ends and the middle) while the task reads every word of
 * every page.  Whether a write wins the race (main keeps its page, the
 * snapshot gets a copy, in place) or the task maps the page first (main
 * gets the copy), the task must see each page whole, exactly as it was at
 * the call.  One area is COW, one in auto mode (pages main rewrites at
 * every call move to COPY mode on the way).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>

#include "tap.h"
#include "util.h"

#define NPAGES	512
#define PAGE	4096
#define WORDS	(PAGE / sizeof(long))
#define SECONDS	6

struct task_arg {
	long *base[2];
	long gen;
};

/* Counts the words of both areas that differ from the call's value. */
static long check_all(void *argbuf, void *store)
{
	const struct task_arg *a = argbuf;
	long bad = 0;
	size_t i;
	int k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < NPAGES * WORDS; i++)
			bad += ((volatile long *)a->base[k])[i] != a->gen;
	return bad;
}

static long *bases[2];
static pthread_barrier_t go, done;
static volatile long gen;
static volatile int stop;

/* Writes value v to every word of page p of both areas. */
static void fill(int p, long v)
{
	size_t i;
	int k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < WORDS; i++)
			bases[k][p * WORDS + i] = v;
}

/* Writer n rewrites its order of the pages with gen + 1 after each call. */
static void *writer(void *arg)
{
	long n = (long)arg;
	int i;

	for (;;) {
		pthread_barrier_wait(&go);
		if (stop)
			return NULL;
		for (i = 0; i < NPAGES; i++)
			fill(n == 1 ? NPAGES - 1 - i :
			     n == 2 ? (i + NPAGES / 2) % NPAGES : i, gen + 1);
		pthread_barrier_wait(&done);
	}
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *areas[2];
	struct task_arg arg;
	long bad = 0, ret, calls = 0;
	pthread_t th[2];
	struct orbit *ob;
	double t0;
	int i;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("copyout-race", check_all, NULL);
	require(ob, "orbit_create");
	require(cow_and_auto_areas(ob, NPAGES * PAGE, areas) == 0,
		"a COW area and an auto-mode area");
	for (i = 0; i < 2; i++)
		arg.base[i] = bases[i] = orbit_area_base(areas[i]);
	pthread_barrier_init(&go, NULL, 3);
	pthread_barrier_init(&done, NULL, 3);
	for (i = 0; i < 2; i++)
		require(pthread_create(&th[i], NULL, writer,
				       (void *)(long)(i + 1)) == 0, "a writer");

	for (i = 0; i < NPAGES; i++)
		fill(i, 1);
	gen = 1;
	t0 = now_us();
	while (now_us() - t0 < SECONDS * 1e6) {
		struct orbit_future *f;

		arg.gen = gen;
		f = orbit_call_async(ob, 0, 2, areas, NULL, &arg, sizeof(arg));
		if (!f) {
			bad = -1;
			break;
		}
		pthread_barrier_wait(&go);
		for (i = 0; i < NPAGES; i++)
			fill(i, gen + 1);
		pthread_barrier_wait(&done);
		if (orbit_future_get(f, &ret) || ret) {
			diag("call %ld (gen %ld): %ld words differ", calls,
			     gen, ret);
			bad += ret ? ret : 1;
		}
		calls++;
		gen++;
	}
	stop = 1;
	pthread_barrier_wait(&go);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);

	ok(calls >= 4, "%ld calls raced main's writes", calls);
	ok(bad == 0, "every task saw every page as it was at its call (%ld)",
	   bad);
	arg.gen = gen;
	ok(orbit_call(ob, 2, areas, NULL, &arg, sizeof(arg)) == 0,
	   "a call after the race sees main's last writes");
	orbit_destroy(ob);
	orbit_area_destroy(areas[0]);
	orbit_area_destroy(areas[1]);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
