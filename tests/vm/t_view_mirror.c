// SPDX-License-Identifier: GPL-2.0
/*
 * Small calls that change the same pages again and again: the orbit's
 * view keeps a copy of such pages mapped and the next install copies the
 * new contents into it (view.c, mirrors; at most 32 per view).  Whatever
 * the view does, the task must read, in every word of every page, what
 * main wrote before the call: pages main rewrites on most calls (more of
 * them than the view mirrors), pages it leaves alone on some calls, pages
 * the task itself scribbled over in the call before, and pages of a block
 * the task reads only now and then.  After the first calls the task's
 * reads take no page fault.  Run on a copy-at-snapshot and on a
 * copy-on-write area.  A page the task handed to a pipe with vmsplice
 * keeps the contents of the call that spliced it, though the next
 * install changes that page.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/uio.h>

#include "tap.h"
#include "util.h"

#define NPAGES	192
#define HOT	40	/* pages main rewrites on most calls */
#define RARE	130	/* a page of the third block, rewritten now and then */
#define PAGE	4096
#define WORDS	(PAGE / sizeof(long))
#define CALLS	40

struct check_arg {
	long *base;
	int scribble;		/* the task then overwrites a few pages */
	int third_block;	/* the task also reads pages 128.. */
	long want[NPAGES];	/* every word of page p */
};

/* Page faults the reads took, or -1 when a word was not as wanted. */
static long check_all(void *argbuf, void *store)
{
	static const int scribbled[] = { 3, 20, 35, 39, 60, RARE };
	const struct check_arg *a = argbuf;
	int n = a->third_block ? NPAGES : 128;
	long f0 = minor_faults(), f1, bad = 0;
	volatile long *p;
	unsigned int i;
	int pg;

	for (pg = 0; pg < n; pg++) {
		p = a->base + pg * WORDS;
		for (i = 0; i < WORDS; i++)
			bad += p[i] != a->want[pg];
	}
	f1 = minor_faults();
	if (a->scribble)
		for (i = 0; i < sizeof(scribbled) / sizeof(*scribbled); i++)
			memset(a->base + scribbled[i] * WORDS, 0xa5, PAGE);
	return bad ? -1 : f1 - f0;
}

/*
 * vmsplice: call 1 reads page 0 (its block is then used), call 2 splices
 * page 0 into a pipe, call 3 checks page 0 holds the new value and the
 * pipe the old one.  1 when all is as it should be.
 */
struct splice_arg {
	long *base;
	int step;
	long want, spliced;
};

static long splice_task(void *argbuf, void *store)
{
	static int pfd[2] = { -1, -1 };
	const struct splice_arg *a = argbuf;
	struct iovec iov = { a->base, PAGE };
	long buf[WORDS];
	unsigned int i;

	if (a->base[0] != a->want)
		return -1;
	if (a->step == 2)
		return pipe(pfd) == 0 &&
		       vmsplice(pfd[1], &iov, 1, 0) == PAGE;
	if (a->step == 3) {
		if (read(pfd[0], buf, PAGE) != PAGE)
			return -2;
		for (i = 0; i < WORDS; i++)
			if (buf[i] != a->spliced)
				return -3;
	}
	return 1;
}

static void fill(struct check_arg *a, int pg, long v)
{
	long *p = a->base + pg * WORDS;
	unsigned int i;

	for (i = 0; i < WORDS; i++)
		p[i] = v;
	a->want[pg] = v;
}

static void run(struct orbit *ob, int mode, const char *name)
{
	static struct check_arg arg;
	struct orbit_area *area;
	int call, pg, bad = 0, faulted = 0;
	long ret;

	area = orbit_area_create_ex(NPAGES * PAGE, NPAGES * PAGE, mode, ob);
	require(area, "%s: a %d-page area", name, NPAGES);
	memset(&arg, 0, sizeof(arg));
	arg.base = orbit_area_base(area);
	for (pg = 0; pg < NPAGES; pg++)
		fill(&arg, pg, pg);
	for (call = 1; call <= CALLS; call++) {
		for (pg = 0; pg < HOT; pg++)
			if ((pg + call) % 4)	/* each hot page skips calls */
				fill(&arg, pg, call * 1000L + pg);
		if (call % 5 == 0)
			fill(&arg, RARE, call * 1000L + RARE);
		arg.scribble = call % 2;
		arg.third_block = call % 3 == 0;
		ret = orbit_call(ob, 1, &area, NULL, &arg,
				 sizeof(arg));
		if (ret < 0) {
			bad++;
			printf("    # %s: call %d read a wrong word (%ld)\n",
			       name, call, ret);
		} else if (call > 3 && ret > 0) {
			faulted++;
			printf("    # %s: call %d: the reads took %ld faults\n",
			       name, call, ret);
		}
	}
	ok(!bad, "%s: %d calls, every word of every page as main wrote it",
	   name, CALLS);
	ok(!faulted, "%s: after the third call, the task's reads take no fault",
	   name);
	orbit_area_destroy(area);
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit *ob;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("view-mirror", check_all, NULL);
	require(ob, "orbit_create");
	run(ob, ORBIT_AREA_MODE_COPY, "copy-at-snapshot area");
	run(ob, ORBIT_AREA_MODE_COW, "copy-on-write area");
	orbit_destroy(ob);

	{
		struct splice_arg sa = { .spliced = 2 };
		struct orbit_area *area;
		long ret = 0;
		unsigned int i;

		ob = orbit_create("view-splice", splice_task, NULL);
		require(ob, "orbit_create");
		area = orbit_area_create_ex(64 * PAGE, 64 * PAGE,
					    ORBIT_AREA_MODE_COW, ob);
		require(area, "a 64-page area");
		sa.base = orbit_area_base(area);
		for (sa.step = 1; sa.step <= 3; sa.step++) {
			sa.want = sa.step;
			for (i = 0; i < WORDS; i++)
				sa.base[i] = sa.step;
			ret = orbit_call(ob, 1, &area, NULL, &sa, sizeof(sa));
			if (ret != 1)
				break;
		}
		ok(ret == 1,
		   "a page the task vmspliced keeps its call's contents after the next install (%ld at step %d)",
		   ret, sa.step > 3 ? 3 : sa.step);
		orbit_destroy(ob);
		orbit_area_destroy(area);
	}
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
