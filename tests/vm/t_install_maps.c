// SPDX-License-Identifier: GPL-2.0
/*
 * Install maps the snapshot: when a call's snapshot is installed in the
 * orbit, the pages that changed since the previous call, and the pages
 * the task wrote, are mapped before the task runs in the blocks the task
 * has read before, so that reading them again takes no page fault and
 * sees the call's contents.  Blocks the task never read stay unmapped.
 */
#define _GNU_SOURCE

#include "tap.h"
#include "util.h"

#define NPAGES	256
#define PAGE	4096

struct read_arg {
	long *base;
	long want;		/* every page's first word */
	int npages;		/* pages to read, from the first */
	int write_page;		/* the task then writes this page, or -1 */
};

/*
 * Reads every page's first word: the number of page faults the reads
 * took, or -1 when a page did not hold a->want.
 */
static long read_all(void *argbuf, void *store)
{
	const struct read_arg *a = argbuf;
	volatile long *p = a->base;
	long f0 = minor_faults(), f1, bad = 0;
	int i;

	for (i = 0; i < a->npages; i++)
		bad += p[i * PAGE / sizeof(long)] != a->want;
	f1 = minor_faults();
	if (a->write_page >= 0)
		p[a->write_page * PAGE / sizeof(long)] = -1;
	return bad ? -1 : f1 - f0;
}

static void write_pages(long *base, int from, int to, long v)
{
	int i;

	for (i = from; i < to; i++)
		base[i * PAGE / sizeof(long)] = v;
}

int main(void)
{
	struct orbit_module_stats start;
	struct read_arg arg = { .npages = NPAGES, .write_page = -1 };
	struct orbit_area *area;
	struct orbit *ob;
	long ret;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("install-maps", read_all, NULL);
	require(ob, "orbit_create");
	area = orbit_area_create_ex(NPAGES * PAGE, NPAGES * PAGE,
				    ORBIT_AREA_MODE_COW, ob);
	require(area, "a 256-page area");
	arg.base = orbit_area_base(area);

	write_pages(arg.base, 0, NPAGES, 1);
	arg.want = 1;
	ret = orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg));
	ok(ret > 0, "first call: the task faults the 256 pages in (%ld faults)",
	   ret);

	write_pages(arg.base, 0, NPAGES, 2);
	arg.want = 2;
	ret = orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg));
	ok(ret == 0, "every page rewritten: read without a fault (%ld)", ret);

	/* A few pages change, in two runs; the others stay mapped. */
	write_pages(arg.base, 0, NPAGES, 3);
	arg.want = 3;
	arg.write_page = 7;
	ret = orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg));
	ok(ret == 0, "again, and the task writes page 7 (%ld)", ret);
	write_pages(arg.base, 3, 7, 3);
	write_pages(arg.base, 100, 170, 3);
	arg.write_page = -1;
	ret = orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg));
	ok(ret == 0,
	   "74 pages rewritten, page 7 (the task's write) back to main's: no fault (%ld)",
	   ret);

	write_pages(arg.base, 0, NPAGES, 4);
	arg.want = 4;
	ret = orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg));
	ok(ret == 0, "all rewritten once more: no fault, the new contents (%ld)",
	   ret);
	orbit_area_destroy(area);

	/* A task that reads only the first page, then once all of them. */
	area = orbit_area_create_ex(NPAGES * PAGE, NPAGES * PAGE,
				    ORBIT_AREA_MODE_COW, ob);
	require(area, "a second 256-page area");
	arg.base = orbit_area_base(area);
	arg.npages = 1;
	for (arg.want = 5; arg.want < 8; arg.want++) {
		write_pages(arg.base, 0, NPAGES, arg.want);
		ret = orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg));
		require(ret >= 0, "the task reads page 0 (%ld)", ret);
	}
	write_pages(arg.base, 0, NPAGES, arg.want);
	arg.npages = NPAGES;
	ret = orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg));
	ok(ret >= 3,
	   "blocks the task never read stay unmapped: reading them faults (%ld)",
	   ret);

	orbit_destroy(ob);
	orbit_area_destroy(area);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
