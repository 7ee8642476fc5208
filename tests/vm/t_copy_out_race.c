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

/* Writes value v to every word of page p of both areas. */
static void fill(int p, long v)
{
	size_t i;
	int k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < WORDS; i++)
			bases[k][p * WORDS + i] = v;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *areas[2];
	struct task_arg arg;
	long bad = 0, ret, calls = 0, gen;
	struct lockstep ls;
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
	require(lockstep_start(&ls, fill, NPAGES) == 0, "two writers");

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
		lockstep_go(&ls, gen + 1);
		for (i = 0; i < NPAGES; i++)
			fill(i, gen + 1);
		lockstep_wait(&ls);
		if (orbit_future_get(f, &ret) || ret) {
			diag("call %ld (gen %ld): %ld words differ", calls,
			     gen, ret);
			bad += ret ? ret : 1;
		}
		calls++;
		gen++;
	}
	lockstep_stop(&ls);

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
