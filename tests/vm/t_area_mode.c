// SPDX-License-Identifier: GPL-2.0
/*
 * An area's snapshot mode changed after creation (orbit_area_set_mode):
 * COW to COPY and back, with main writing between calls; every call sees
 * exactly what main had at the call, the module's counters show the mode
 * at work (no copy at all with COW, as every call ended before main
 * wrote; then copied pages), and bad modes are refused.
 */
#include "tap.h"
#include "util.h"

#define PAGES	64

static long check(void *argbuf, void *store)
{
	long *v = *(long **)argbuf, want = ((long *)argbuf)[1];
	int i;

	for (i = 0; i < PAGES; i++)
		if (v[i * 512] != want + i)
			return -1 - i;
	return want;
}

static int round_of(struct orbit *ob, struct orbit_area *area, long *v,
		    long base)
{
	struct { long *v; long want; } arg = { v, base };
	int i;

	for (i = 0; i < PAGES; i++)
		v[i * 512] = base + i;
	return orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg)) == base;
}

static int rounds(struct orbit *ob, struct orbit_area *area, long *v,
		  long base, int n)
{
	int i, good = 0;

	for (i = 0; i < n; i++)
		good += round_of(ob, area, v, base + i * 1000);
	return good == n;
}

int main(void)
{
	struct orbit_module_stats start, s0, s1;
	struct orbit_area *area;
	struct orbit *ob;
	long *v;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("mode", check, NULL);
	area = orbit_area_create_ex(PAGES * 4096, PAGES * 4096,
				    ORBIT_AREA_MODE_COW, ob);
	require(ob && area, "orbit and a COW-only area");
	v = orbit_alloc(area, PAGES * 4096);
	orbit_module_stats(&s0);
	ok(rounds(ob, area, v, 1, 10), "COW: 10 calls see main's writes");
	orbit_module_stats(&s1);
	/* Each call ended before main wrote: nothing to keep, nothing copied. */
	ok(s1.cow_faults == s0.cow_faults && s1.copy_pages == s0.copy_pages,
	   "COW at work: %llu faults, %llu pages copied",
	   (unsigned long long)(s1.cow_faults - s0.cow_faults),
	   (unsigned long long)(s1.copy_pages - s0.copy_pages));

	ok(orbit_area_set_mode(area, ORBIT_AREA_MODE_COPY) == 0, "switch to COPY");
	orbit_module_stats(&s0);
	ok(rounds(ob, area, v, 100001, 10), "COPY: 10 calls see main's writes");
	orbit_module_stats(&s1);
	ok(s1.copy_pages - s0.copy_pages >= 9 * PAGES &&
	   s1.cow_faults - s0.cow_faults <= PAGES,
	   "COPY at work: %llu pages copied, %llu faults",
	   (unsigned long long)(s1.copy_pages - s0.copy_pages),
	   (unsigned long long)(s1.cow_faults - s0.cow_faults));

	ok(orbit_area_set_mode(area, ORBIT_AREA_MODE_COW) == 0 &&
	   rounds(ob, area, v, 200001, 10), "back to COW: still right");
	ok(orbit_area_set_mode(area, 0) == 0 && rounds(ob, area, v, 300001, 10),
	   "automatic per-page choice: still right");
	ok(orbit_area_set_mode(area, ORBIT_AREA_MODE_COPY | ORBIT_AREA_MODE_COW) == -1 &&
	   errno == EINVAL && orbit_area_set_mode(area, 1U << 7) == -1 &&
	   errno == EINVAL, "both modes, or an unknown one: EINVAL");
	ok(orbit_area_set_mode(NULL, 0) == -1 && errno == EINVAL, "NULL: EINVAL");
	ok(orbit_destroy(ob) == 0 && orbit_area_destroy(area) == 0,
	   "destroy orbit and area");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
