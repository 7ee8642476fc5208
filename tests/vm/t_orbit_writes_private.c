// SPDX-License-Identifier: GPL-2.0
/*
 * Orbit writes into its view are private: main never sees them, and the
 * next call sees main's current data again, not what the orbit wrote
 * (including pages main did not change in between, and pages main never
 * touched at all).
 */
#include "tap.h"
#include "util.h"

#define N	(3 * 4096 / sizeof(long))	/* three pages */

struct arg {
	long *arr;
	long *untouched;	/* a page main never writes */
};

/* Returns the sum it read, then scribbles over everything. */
static long read_then_scribble(void *argbuf, void *store)
{
	struct arg *a = argbuf;
	long sum = 0;
	size_t i;

	for (i = 0; i < N; i++)
		sum += a->arr[i];
	sum += a->untouched[0];
	for (i = 0; i < N; i++)
		a->arr[i] = -1000;
	a->untouched[0] = 777;
	return sum;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct orbit *ob;
	struct arg a;
	long expect, ret;
	size_t i;
	int intact = 1;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("private", read_then_scribble, NULL);
	require(ob, "orbit_create");
	area = orbit_area_create(1 << 20, ob);
	require(area, "orbit_area_create");
	a.arr = orbit_alloc(area, N * sizeof(long));
	a.untouched = (long *)((char *)orbit_area_base(area) + (512 << 10));
	require(a.arr, "orbit_alloc");
	for (i = 0, expect = 0; i < N; i++) {
		a.arr[i] = i;
		expect += i;
	}

	ret = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
	ok(ret == expect, "first call reads main's data (%ld)", ret);
	for (i = 0; i < N; i++)
		intact &= a.arr[i] == (long)i;
	ok(intact, "orbit's writes are invisible to main");
	ok(a.untouched[0] == 0, "orbit's write to an untouched page is invisible");

	ret = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
	ok(ret == expect,
	   "unchanged data: next call sees main's values, not its own writes (%ld)",
	   ret);

	a.arr[1] += 100;	/* change one page only */
	ret = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
	ok(ret == expect + 100, "next call sees main's change (%ld)", ret);

	ok(orbit_area_destroy(area) == 0, "orbit_area_destroy");
	ok(orbit_destroy(ob) == 0, "orbit_destroy");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
