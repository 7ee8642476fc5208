// SPDX-License-Identifier: GPL-2.0
/*
 * The zero pages views map for holes.  Each PTE that maps one holds a
 * reference on it, so the module lets a page hold only so many
 * (debug_zero_refs, 2^30 by default: never near the 2^31 that would
 * overflow) before the next of its 16 serves (a fault maps its 64-page
 * block at once, so a page may take up to 63 more).  With the parameter
 * at 1000, an orbit reading a 4096-page area main never wrote reads
 * zeros from 4..16 pages, not one; at 64, a second
 * orbit reading the area uses up the 16 pages and dies (SIGBUS) while
 * main and the first orbit go on; with the default back and those orbits gone, one page
 * serves the whole area again.
 */
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

#define PAGE		4096
#define NPAGES		4096
#define MAXPFNS		32

struct scan {
	const unsigned char *base;
};

/*
 * The task: reads a byte of every page, then returns how many frames
 * back them (from its own pagemap), -1 if a byte was not zero, -2 if
 * the pagemap could not be read, -3 for more than MAXPFNS frames.
 */
static long scan(void *argbuf, void *store)
{
	const unsigned char *base = ((struct scan *)argbuf)->base;
	static uint64_t pfn[NPAGES];
	unsigned int sum = 0;
	long i, n;

	(void)store;
	for (i = 0; i < NPAGES; i++)
		sum |= base[i * PAGE];
	if (sum)
		return -1;
	if (pfns_of(base, NPAGES, pfn))
		return -2;
	n = frames_in(pfn, NPAGES, MAXPFNS);
	return n > MAXPFNS ? -3 : n;
}

static long scan_in(struct orbit *ob, struct orbit_area *area)
{
	struct scan s = { orbit_area_base(area) };

	return orbit_call(ob, 1, &area, NULL, &s, sizeof(s));
}

int main(void)
{
	struct param_saved saved[] = { { .name = "debug_zero_refs" } };
	struct orbit_module_stats start;
	struct orbit_status st = { 0 };
	struct orbit *ob1, *ob2, *ob3;
	struct orbit_area *area;
	long frames, dead, first_again, again;

	require(params_save(saved, 1) == 0, "read debug_zero_refs");
	require(orbit_module_stats(&start) == 0, "read module counters");
	ob1 = orbit_create("zero-1", scan, NULL);
	ob2 = orbit_create("zero-2", scan, NULL);
	area = orbit_area_create(NPAGES * PAGE, ob1);
	require(ob1 && ob2 && area && orbit_area_bind(area, ob2) == 0,
		"two orbits and a 4096-page area never written");

	require(param_write("debug_zero_refs", "1000") == 0,
		"debug_zero_refs = 1000");
	frames = scan_in(ob1, area);
	ok(frames >= 4 && frames <= 16,
	   "an orbit read 4096 zero pages from %ld frames (4..16 at about 1000 references each)",
	   frames);

	require(param_write("debug_zero_refs", "64") == 0,
		"debug_zero_refs = 64");
	dead = scan_in(ob2, area);
	orbit_status(ob2, &st);
	ok(dead < 0 && st.last_death == ORBIT_DIED_SIGNAL &&
	   st.last_death_code == SIGBUS,
	   "with 64 a second orbit ran out of zero pages: call %ld, death %d (signal %d)",
	   dead, st.last_death, st.last_death_code);
	first_again = scan_in(ob1, area);
	ok(first_again == frames,
	   "main goes on, and so does the first orbit, its view mapped (%ld frames)",
	   first_again);

	require(params_restore(saved, 1) == 0, "debug_zero_refs restored");
	orbit_destroy(ob1);
	orbit_destroy(ob2);
	ob3 = orbit_create("zero-3", scan, NULL);
	require(ob3 && orbit_area_bind(area, ob3) == 0, "a third orbit");
	again = scan_in(ob3, area);
	ok(again == 1, "with the default back, one frame served the area (%ld)",
	   again);
	orbit_destroy(ob3);
	orbit_area_destroy(area);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
