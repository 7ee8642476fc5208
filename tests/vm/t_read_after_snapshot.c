// SPDX-License-Identifier: GPL-2.0
/*
 * Read-modify-write after a snapshot: a snapshot write-protects main's
 * pages in place, so main's reads of pages it froze take no fault and no
 * copy; while a call's task may still read the snapshot, the first write
 * to each copies it once (main keeps its page and the snapshot gets the
 * copy, or the other way round); once the call has ended it copies
 * nothing; the writes that follow copy nothing either; the snapshot keeps
 * what it froze while main reads and writes, also while a task reads it.
 */
#include <unistd.h>

#include "tap.h"
#include "util.h"

#define NPAGES	64
#define PAGE	4096

struct sum_arg {
	const long *base;
	long delay_us;
};

/* Sums the first word of every page, after a pause. */
static long sum_pages(void *argbuf, void *store)
{
	const struct sum_arg *a = argbuf;
	long sum = 0;
	int i;

	usleep(a->delay_us);
	for (i = 0; i < NPAGES; i++)
		sum += a->base[i * PAGE / sizeof(long)];
	return sum;
}

static unsigned long long cow_faults(void)
{
	struct orbit_module_stats st;

	return orbit_module_stats(&st) ? ~0ULL : st.cow_faults;
}

/* Reads (volatile: the loads must happen) pages [from, to); their sum. */
static long read_pages(long *base, int from, int to)
{
	long sum = 0;
	int i;

	for (i = from; i < to; i++)
		sum += ((volatile long *)base)[i * PAGE / sizeof(long)];
	return sum;
}

static void write_pages(long *base, int from, int to, long v)
{
	int i;

	for (i = from; i < to; i++)
		base[i * PAGE / sizeof(long)] = v;
}

int main(void)
{
	unsigned long long c0, c1, c2;
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct orbit_future *f;
	struct sum_arg arg;
	struct orbit *ob;
	long *base, ret;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("hot-read", sum_pages, NULL);
	require(ob, "orbit_create");
	/* MODE_COW: no page moves to COPY mode, every copy is a COW fault. */
	area = orbit_area_create_ex(NPAGES * PAGE, NPAGES * PAGE,
				    ORBIT_AREA_MODE_COW, ob);
	require(area, "a 64-page area");
	base = orbit_area_base(area);
	arg.base = base;
	arg.delay_us = 0;

	write_pages(base, 0, NPAGES, 1);
	ret = orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg));
	ok(ret == NPAGES, "the snapshot holds the 64 written pages (%ld)", ret);

	c0 = cow_faults();
	ok(read_pages(base, 0, NPAGES) == NPAGES,
	   "main reads back what it wrote");
	c1 = cow_faults();
	ok(c1 == c0, "reading pages the snapshot froze copies none (%llu)",
	   c1 - c0);
	write_pages(base, 0, NPAGES / 2, 2);
	c2 = cow_faults();
	ok(c2 == c1,
	   "the call has ended: writes to frozen pages copy none (%llu)",
	   c2 - c1);
	write_pages(base, 0, NPAGES / 2, 2);
	ok(cow_faults() == c2, "the writes that follow copy nothing (%llu)",
	   cow_faults() - c2);

	/* Snapshot 2 freezes pages 0..31 (written), 32..63 stay frozen. */
	arg.delay_us = 300000;
	f = orbit_call_async(ob, 0, 1, &area, NULL, &arg, sizeof(arg));
	require(f, "an async call that reads the snapshot after a pause");
	c0 = cow_faults();
	ok(read_pages(base, 0, NPAGES) == NPAGES / 2 * 2 + NPAGES / 2,
	   "main reads its values while the task runs");
	c1 = cow_faults();
	ok(c1 == c0, "and copies none (%llu)", c1 - c0);
	write_pages(base, 0, NPAGES, 3);
	c2 = cow_faults();
	ok(c2 - c1 == NPAGES, "writing them all copies each once (%llu)",
	   c2 - c1);
	if (orbit_future_get(f, &ret))
		ret = -1;
	ok(ret == NPAGES / 2 * 2 + NPAGES / 2,
	   "the snapshot keeps what it froze while main reads and writes (%ld)",
	   ret);
	arg.delay_us = 0;
	ok(orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg)) == 3 * NPAGES,
	   "the next snapshot has main's latest writes");

	orbit_destroy(ob);
	orbit_area_destroy(area);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
