// SPDX-License-Identifier: GPL-2.0
/*
 * An area gives back all the memory it took.  A large area's pages come
 * in runs taken ahead of use (a 64 MiB area: 1 MiB at a time), charged
 * to main's memory cgroup but not counted in the module's page counter
 * until handed out, so leakcheck would not see the unused rest of a run
 * that outlived its area; the cgroup's memory.current does.  Eight
 * 64 MiB areas, each written in part (the last run it took a quarter
 * used), snapshotted and read by a call: with all of them live the
 * cgroup holds at least their written pages, and once they and the
 * orbit are gone it is back within 2 MiB of where it started (the
 * memory controller's per-CPU charge caches alone may hold 256 KiB a
 * CPU; a leak of the runs' unused rest would be 6 MiB).
 */
#include <sys/stat.h>

#include "tap.h"
#include "util.h"

#define CG	"/sys/fs/cgroup/orbit-areamem"
#define PG	4096UL
#define NAREA	8
#define ASIZE	(64UL << 20)
#define TOUCH	320	/* pages: one whole 256-page run, a quarter of the next */
#define MIB	(1L << 20)

static long sum_first(void *argbuf, void *store)
{
	unsigned char *p = *(unsigned char **)argbuf;
	long sum = 0;
	size_t i;

	for (i = 0; i < TOUCH; i++)
		sum += p[i * PG];
	return sum;
}

static long memory_current(void)
{
	char line[64];
	FILE *f = fopen(CG "/memory.current", "r");
	long v = -1;

	if (f && fgets(line, sizeof(line), f))
		v = atol(line);
	if (f)
		fclose(f);
	return v;
}

/*
 * An orbit created and destroyed: the spawner, its forker and its two
 * spares exist (as they do at the end).
 */
static void warm_up(void)
{
	struct orbit *ob = orbit_create("areamem-warm", sum_first, NULL);
	int i;

	if (ob)
		orbit_destroy(ob);
	for (i = 0; i < 200 && procs_named("orbit-spare", NULL) < 2; i++)
		usleep(25000);
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *a[NAREA];
	long base, live, after, sum;
	struct orbit *ob;
	char pid[32];
	int i, good = 1;
	size_t j;

	require(write_file("/sys/fs/cgroup/cgroup.subtree_control",
			   "+memory") == 0, "enable the memory controller");
	mkdir(CG, 0755);
	snprintf(pid, sizeof(pid), "%d", getpid());
	require(write_file(CG "/cgroup.procs", pid) == 0,
		"move the test into its own memory cgroup");
	require(orbit_module_stats(&start) == 0, "read module counters");
	warm_up();
	require(counters_back_to(&start),
		"the warm-up orbit's objects are gone (freed asynchronously)");
	base = memory_current();
	require(base > 0, "read memory.current (%ld)", base);

	ob = orbit_create("areamem", sum_first, NULL);
	require(ob, "orbit_create");
	for (i = 0; i < NAREA; i++) {
		unsigned char *p;

		a[i] = orbit_area_create_ex(ASIZE, ASIZE, ORBIT_AREA_MODE_COW,
					    ob);
		require(a[i], "64 MiB area %d", i);
		p = orbit_area_base(a[i]);
		for (j = 0; j < TOUCH; j++)
			p[j * PG] = (unsigned char)(i + 1);
		sum = orbit_call(ob, 1, &a[i], NULL, &p, sizeof(p));
		if (sum != (long)TOUCH * (i + 1))
			good = 0;
	}
	ok(good, "each area's written pages read back in a call");
	live = memory_current();
	diag("memory.current: %ld KiB at the start, %ld KiB with %d areas live",
	     base >> 10, live >> 10, NAREA);
	ok(live - base >= NAREA * (long)TOUCH * (long)PG,
	   "the live areas' pages are charged to the cgroup (%ld KiB)",
	   (live - base) >> 10);

	for (i = 0; i < NAREA; i++)
		ok(orbit_area_destroy(a[i]) == 0, "destroy area %d", i);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	after = memory_current();
	diag("memory.current: %ld KiB after destroying the areas and the orbit",
	     after >> 10);
	ok(after - base < 2 * MIB,
	   "the cgroup is back within 2 MiB of its start (%+ld KiB)",
	   (after - base) >> 10);
	return tap_done();
}
