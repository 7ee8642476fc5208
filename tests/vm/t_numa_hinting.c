// SPDX-License-Identifier: GPL-2.0
/*
 * NUMA balancing on main's area (a guest of two nodes: run-vm.sh -N, as
 * `make check` boots for t_numa_*).  On a NUMA host the kernel now and
 * then makes main's PTEs inaccessible (change_prot_numa) to learn where
 * its pages are used; the hinting fault that follows tries to move the
 * page (which fails: area pages are on no LRU list) and maps it again.
 * It skips pages marked dirty, as every page main has written through a
 * fault is (a shared mapping's write fault marks its page), so here it
 * takes the pages main only reads, while on the others two threads keep
 * writing and main keeps snapshotting; every task reads its snapshot twice,
 * 3 ms apart, and finds it unchanged, and the read pages zero.  Scanning
 * is confined to the area (only its policy asks for balancing) and made
 * fast.  The run must have taken hinting faults on the area, and the
 * harness fails it on any kernel report.
 */
#define _GNU_SOURCE
#include <linux/mempolicy.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "tap.h"
#include "freeze_race.h"

#define NPAGES	256		/* written */
#define NZERO	1024		/* only read */
#define SCHED	"/sys/kernel/debug/sched/numa_balancing/"

/* One read of each page main never writes: their sum. */
static void *reader_pass(struct freeze_race *r)
{
	long sum = 0;
	int i;

	for (i = 0; i < r->nzero; i++)
		sum += *(volatile long *)fr_word(r->base, r->npages + i);
	return (void *)sum;
}

/* Main's reads of the pages it never writes, until r->stop. */
static void *reader(void *arg)
{
	struct freeze_race *r = arg;
	void *sum = NULL;

	while (!r->stop && !sum)
		sum = reader_pass(r);
	return sum;
}

/* A counter of /proc/vmstat, -1 if it has none of that name. */
static long vmstat(const char *name)
{
	char key[64];
	long v, found = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	while (f && fscanf(f, "%63s %ld", key, &v) == 2)
		if (!strcmp(key, name))
			found = v;
	if (f)
		fclose(f);
	return found;
}

/*
 * The scan's timing, and what it was.  (Balancing itself is on from boot
 * in a guest of two nodes; switching it here would patch kernel text
 * mid-run, which multi-threaded TCG does not always survive: README.)
 */
static const char *const knobs[] = {
	"scan_delay_ms", "scan_period_min_ms", "scan_period_max_ms",
};
static const char *const fast[] = { "10", "10", "20" };
static char saved[3][32];

static int knobs_set(int restore)
{
	char path[128];
	int i, err = 0;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), SCHED "%s", knobs[i]);
		if (!restore && read_file(path, saved[i], sizeof(saved[i])))
			return -1;
		err |= write_file(path, restore ? saved[i] : fast[i]);
	}
	return err;
}

int main(void)
{
	struct freeze_race r = { .npages = NPAGES, .nzero = NZERO };
	unsigned long all = 3, one = 1;
	struct orbit_module_stats start;
	struct orbit_area *area;
	long updates, faults;
	struct fr_result res;
	struct orbit *ob;
	char on[8] = "";
	struct stat st;
	void *sum = NULL;
	pthread_t t;

	require(stat("/sys/devices/system/node/node1", &st) == 0,
		"the guest has two NUMA nodes (run-vm.sh -N)");
	require(read_file("/proc/sys/kernel/numa_balancing", on, sizeof(on)) == 0 &&
		!strcmp(on, "1"), "NUMA balancing is on (%s)", on);
	mkdir("/sys/kernel/debug", 0755);
	if (stat(SCHED, &st))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	require(knobs_set(0) == 0, "the scan runs every 10 ms");
	/*
	 * Main's own policy (and so its orbits', inherited through the
	 * spawner) asks for no balancing; the area's does.
	 */
	require(syscall(SYS_set_mempolicy, MPOL_PREFERRED, &one,
			sizeof(one) * 8) == 0, "main prefers node 0");
	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("numa-hinting", fr_reread, NULL);
	area = orbit_area_create((NPAGES + NZERO) * FR_PAGE, ob);
	require(ob && area, "orbit and area");
	r.base = orbit_area_base(area);
	ok(syscall(SYS_mbind, r.base, orbit_area_size(area),
		   MPOL_BIND | MPOL_F_NUMA_BALANCING, &all, sizeof(all) * 8,
		   0) == 0, "the area asks for NUMA balancing (mbind)");
	/* Main maps the read pages first, so no snapshot has holes there. */
	require(!reader_pass(&r), "main reads the pages it never writes as zero");
	updates = vmstat("numa_pte_updates");
	faults = vmstat("numa_hint_faults");
	require(fr_start(&r) == 0 && pthread_create(&t, NULL, reader, &r) == 0,
		"start the writers and the reader");
	res = fr_calls(ob, area, &r, 6);
	fr_stop(&r);
	pthread_join(t, &sum);
	updates = vmstat("numa_pte_updates") - updates;
	faults = vmstat("numa_hint_faults") - faults;
	ok(updates >= NZERO && faults >= NZERO / 4,
	   "balancing scanned the area: %ld PTEs made inaccessible, %ld hinting faults",
	   updates, faults);
	ok(res.calls > 50 && !res.changed && !res.lost && !res.failed && !sum,
	   "%ld snapshots under two writers, a reader and balancing: %ld changed under their task, %ld found a read page not zero, %ld failed",
	   res.calls, res.changed, res.lost, res.failed);
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(knobs_set(1) == 0, "the scan's timing restored");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
