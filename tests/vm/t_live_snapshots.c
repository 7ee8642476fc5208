// SPDX-License-Identifier: GPL-2.0
/*
 * A snapshot lives as long as its call, counted per area over all the
 * orbits that call with it: while one orbit's call waits, another
 * orbit's calls on the same area start and end, and main rewrites every
 * page between them; the waiting task must still see each page as it
 * was at its own call.  Main's first write to each frozen page copies it
 * while any call on the area is queued or running, and copies nothing
 * once all have ended.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>

#include "tap.h"
#include "util.h"

#define NPAGES	64
#define PAGE	4096
#define ROUNDS	5

#define FIFO	"/tmp/t_live_snapshots.fifo"	/* orbits inherit no fds */

struct check_arg {
	const long *base;
	long want;
	int wait;		/* first wait for main's byte on FIFO */
};

/* The number of pages whose first word is not a->want (-1: no FIFO). */
static long check_pages(void *argbuf, void *store)
{
	const struct check_arg *a = argbuf;
	long bad = 0;
	char c;
	int fd, i;

	if (a->wait) {
		fd = open(FIFO, O_RDONLY);
		if (fd < 0 || read(fd, &c, 1) != 1)
			return -1;
		close(fd);
	}
	for (i = 0; i < NPAGES; i++)
		bad += ((const volatile long *)a->base)[i * PAGE / sizeof(long)] !=
		       a->want;
	return bad;
}

static void fill(long *base, long v)
{
	int i;

	for (i = 0; i < NPAGES; i++)
		base[i * PAGE / sizeof(long)] = v;
}

static unsigned long long cow_faults(void)
{
	struct orbit_module_stats st;

	return orbit_module_stats(&st) ? ~0ULL : st.cow_faults;
}

int main(void)
{
	struct check_arg wa = { .want = 1, .wait = 1 }, ca = { 0 };
	unsigned long long c0, copies = 0;
	struct orbit_module_stats start;
	struct orbit *waiter, *checker;
	struct orbit_future *f;
	struct orbit_area *area;
	long ret, bad = 0;
	int fd, r;

	require(orbit_module_stats(&start) == 0, "read module counters");
	unlink(FIFO);
	require(mkfifo(FIFO, 0600) == 0, "a FIFO the waiting task reads");
	waiter = orbit_create("live-waiter", check_pages, NULL);
	checker = orbit_create("live-checker", check_pages, NULL);
	require(waiter && checker, "two orbits");
	area = orbit_area_create_ex(NPAGES * PAGE, NPAGES * PAGE,
				    ORBIT_AREA_MODE_COW, waiter);
	require(area && orbit_area_bind(area, checker) == 0,
		"a COW area both orbits may call with");
	wa.base = ca.base = orbit_area_base(area);

	fill((long *)wa.base, 1);
	f = orbit_call_async(waiter, 0, 1, &area, NULL, &wa, sizeof(wa));
	require(f, "the waiter's call, which waits on the FIFO");
	/*
	 * The other orbit's call comes first: its snapshot shares every
	 * page with the waiter's until main writes, so the writes that
	 * follow its end must still copy for the waiter.
	 */
	for (r = 2; r < 2 + ROUNDS; r++) {
		ca.want = r - 1;
		ret = orbit_call(checker, 1, &area, NULL, &ca, sizeof(ca));
		bad += ret != 0;
		c0 = cow_faults();
		fill((long *)ca.base, r);
		copies += cow_faults() - c0;
	}
	ok(bad == 0, "the other orbit's %d calls each saw main's latest writes",
	   ROUNDS);
	ok(copies == ROUNDS * NPAGES,
	   "each ended, the waiter's call live: main's first writes copied (%llu)",
	   copies);
	fill((long *)wa.base, 99);
	fd = open(FIFO, O_WRONLY);
	ok(fd >= 0 && write(fd, "g", 1) == 1, "release the waiter");
	if (fd >= 0)
		close(fd);
	ok(orbit_future_get(f, &ret) == 0 && ret == 0,
	   "the waiter saw every page as at its own call (%ld differ)", ret);

	ca.want = 100;
	fill((long *)ca.base, 100);
	ok(orbit_call(checker, 1, &area, NULL, &ca, sizeof(ca)) == 0,
	   "a call after both");
	c0 = cow_faults();
	fill((long *)ca.base, 101);
	ok(cow_faults() == c0,
	   "every call has ended: main's writes copy nothing (%llu)",
	   cow_faults() - c0);
	ca.want = 101;
	ok(orbit_call(checker, 1, &area, NULL, &ca, sizeof(ca)) == 0,
	   "and the next call sees them");

	unlink(FIFO);
	orbit_destroy(waiter);
	orbit_destroy(checker);
	orbit_area_destroy(area);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
