// SPDX-License-Identifier: GPL-2.0
/*
 * Pages main never wrote (holes: a zeroed area allocated and filled
 * sparsely) cost the task one fault per 64-page block and no memory: its
 * view maps them to one zero page of the module's.  A write of the task's
 * to a hole gets a private page, as to any snapshot page, and leaves the
 * zero page, main and the next call's view as they were; a hole main
 * writes later shows the written page at the next call.
 */
#define _GNU_SOURCE
#include "tap.h"
#include "util.h"

#define NPAGES	4096		/* 16 MiB */
#define PAGE	4096

enum op { SCAN, WRITE_HOLE, READ_ONE };

struct arg {
	unsigned char *base;
	enum op op;
	int idx;
};

/*
 * SCAN: reads a word of every page; returns the faults it took, or -1 if
 * a page was not zero.  WRITE_HOLE: writes 42 into page idx and reads it
 * back, then reads the page after it: 0 if they hold 42 and 0.
 * READ_ONE: page idx's first word.
 */
static long task(void *argbuf, void *store)
{
	const struct arg *a = argbuf;
	volatile long *w = (long *)(a->base + (size_t)a->idx * PAGE);
	long before, sum = 0;
	int i;

	switch (a->op) {
	case SCAN:
		before = minor_faults();
		for (i = 0; i < NPAGES; i++)
			sum |= *(volatile long *)(a->base + (size_t)i * PAGE);
		return sum ? -1 : minor_faults() - before;
	case WRITE_HOLE:
		*w = 42;
		return *w == 42 && !w[PAGE / sizeof(long)] ? 0 : -1;
	case READ_ONE:
		return *w;
	}
	return -1;
}

int main(void)
{
	struct orbit_module_stats start, before, after;
	struct orbit_area *area;
	struct arg a = { .op = SCAN };
	struct orbit *ob;
	long ret;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("view-holes", task, NULL);
	area = orbit_area_create(NPAGES * PAGE, ob);
	require(ob && area, "orbit and area");
	a.base = orbit_area_base(area);

	require(orbit_module_stats(&before) == 0, "counters before the scan");
	ret = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
	require(orbit_module_stats(&after) == 0, "counters after the scan");
	ok(ret >= 0 && ret <= 2 * NPAGES / 64,
	   "the task reads %d never-written pages as zero in %ld faults",
	   NPAGES, ret);
	ok(after.pages == before.pages,
	   "and the module allocated no page for them (%llu before, %llu after)",
	   (unsigned long long)before.pages,
	   (unsigned long long)after.pages);

	a.op = WRITE_HOLE;
	a.idx = 100;
	ok(orbit_call(ob, 1, &area, NULL, &a, sizeof(a)) == 0,
	   "the task writes a hole it has read: it reads its write back, the next page still zero");
	a.op = SCAN;
	ok(orbit_call(ob, 1, &area, NULL, &a, sizeof(a)) >= 0,
	   "the next call's view has every page zero again");
	a.op = READ_ONE;
	ok(*(volatile long *)(a.base + 100 * PAGE) == 0 &&
	   orbit_call(ob, 1, &area, NULL, &a, sizeof(a)) == 0,
	   "main's page is still zero");

	*(long *)(a.base + 200 * PAGE) = 7;
	a.idx = 200;
	ok(orbit_call(ob, 1, &area, NULL, &a, sizeof(a)) == 7,
	   "a hole main writes shows at the next call");
	a.op = SCAN;
	ok(orbit_call(ob, 1, &area, NULL, &a, sizeof(a)) == -1,
	   "and a scan sees it");

	ok(orbit_area_destroy(area) == 0 && orbit_destroy(ob) == 0,
	   "destroy the area and the orbit");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
