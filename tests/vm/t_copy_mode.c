// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshot modes: a COPY area copies at snapshot time (main never takes a
 * COW fault); in the default mode a page main writes between most
 * snapshots moves to COPY by itself; unchanged pages cost no per-page
 * work per call (no faults, no copies, and a call over a fully populated
 * 64 MiB area costs about what a one-page call costs).
 */
#include <stdlib.h>

#include "tap.h"
#include "util.h"

static long read_value(void *argbuf, void *store)
{
	return **(long **)argbuf;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median call time over two areas, 41 calls each, interleaved: a load
 * from outside (the host's other work, under TCG) weighs on both alike.
 */
static void median_calls_us(struct orbit *ob, struct orbit_area *area[2],
			    long *v[2], double med[2])
{
	double t[2][41];
	int i, k;

	for (i = 0; i < 41; i++) {
		for (k = 0; k < 2; k++) {
			double t0 = now_us();

			orbit_call(ob, 1, &area[k], NULL, &v[k], sizeof(v[k]));
			t[k][i] = now_us() - t0;
		}
	}
	for (k = 0; k < 2; k++) {
		qsort(t[k], 41, sizeof(t[k][0]), cmp);
		med[k] = t[k][20];
	}
}

int main(void)
{
	struct orbit_module_stats start, a, b;
	struct orbit_area *area, *big, *small, *two[2];
	struct orbit_future *f;
	struct orbit *ob;
	long *v, *vs[2], ret, i, good = 1;
	double tbig, tsmall, med[2];

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("modes", read_value, NULL);
	require(ob, "orbit_create");

	area = orbit_area_create_ex(4096, 1 << 20, ORBIT_AREA_MODE_COPY, ob);
	require(area, "COPY-mode area");
	v = orbit_alloc(area, sizeof(*v));
	orbit_module_stats(&a);
	for (i = 0; i < 20; i++) {
		*v = i;
		f = orbit_call_async(ob, 0, 1, &area, NULL, &v, sizeof(v));
		*v = -1;
		if (!f || orbit_future_get(f, &ret) || ret != i)
			good = 0;
	}
	orbit_module_stats(&b);
	ok(good, "COPY mode: each call sees the value at issue time");
	ok(b.cow_faults == a.cow_faults, "COPY mode: main took no COW fault");
	ok(b.copy_pages - a.copy_pages >= 20, "COPY mode: pages copied at snapshot (%llu)",
	   (unsigned long long)(b.copy_pages - a.copy_pages));
	orbit_area_destroy(area);

	area = orbit_area_create(4096, ob);
	require(area, "default-mode area");
	v = orbit_alloc(area, sizeof(*v));
	orbit_module_stats(&a);
	for (i = 0, good = 1; i < 40; i++) {
		*v = i;
		f = orbit_call_async(ob, 0, 1, &area, NULL, &v, sizeof(v));
		*v = -1;
		if (!f || orbit_future_get(f, &ret) || ret != i)
			good = 0;
	}
	orbit_module_stats(&b);
	ok(good, "auto mode: each call sees the value at issue time");
	ok(b.cow_faults - a.cow_faults < 15,
	   "auto mode: a hot page stops taking COW faults (%llu in 80 writes)",
	   (unsigned long long)(b.cow_faults - a.cow_faults));
	ok(b.copy_pages > a.copy_pages, "auto mode: the hot page is copied instead");
	orbit_area_destroy(area);

	big = orbit_area_create_ex(64 << 20, 64 << 20, 0, ob);
	small = orbit_area_create_ex(4096, 4096, 0, ob);
	require(big && small, "a 64 MiB and a one-page area");
	for (i = 0; i < (64 << 20) / 8; i += 512)
		((long *)orbit_area_base(big))[i] = i;
	two[0] = big;
	two[1] = small;
	vs[0] = orbit_area_base(big);
	vs[1] = orbit_area_base(small);
	*vs[1] = 1;
	for (i = 0; i < 2; i++)
		orbit_call(ob, 1, &two[i], NULL, &vs[i], sizeof(vs[i]));
	orbit_module_stats(&a);
	median_calls_us(ob, two, vs, med);
	orbit_module_stats(&b);
	ok(b.cow_faults == a.cow_faults && b.copy_pages == a.copy_pages,
	   "unchanged areas (64 MiB, one page): no faults and no copies over 82 calls");
	tbig = med[0];
	tsmall = med[1];
	diag("median call: 64 MiB unchanged %.0f us, one page %.0f us", tbig,
	     tsmall);
	ok(tbig < 3 * tsmall + 200,
	   "a call over 64 MiB of unchanged pages costs about a one-page call");
	orbit_area_destroy(big);
	orbit_area_destroy(small);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
