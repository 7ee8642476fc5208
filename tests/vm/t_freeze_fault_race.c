// SPDX-License-Identifier: GPL-2.0
/*
 * Main's write faults racing the freeze: two threads keep writing every
 * page of an area (each first write after a snapshot faults) while main
 * keeps snapshotting it with enough pages written that the freeze
 * write-protects main's PTEs (walking whole runs of pages).  Every task
 * reads its snapshot twice, 3 ms apart, and finds it unchanged: no write
 * of main's reaches a frozen page, whether its fault came before, during
 * or after the freeze.  (Whether a fault between page_mkwrite and its PTE
 * becoming writable is waited out is not visible here: such a fault holds
 * a reference on its page, so the freeze's holder check gives main the
 * page and the snapshot a copy even without the wait.)  Then again with
 * main's write faults sleeping between choosing their page and the
 * kernel mapping it (debug_fault_delay_us): a freeze then finds a
 * writer's page locked by its fault far more often (each such fault
 * holds it 100 us), and must wait for it.
 */
#include "tap.h"
#include "freeze_race.h"

#define NPAGES	256
#define DELAY_US	100

static void race(struct orbit *ob, struct orbit_area *area,
		 unsigned int delay_us)
{
	struct freeze_race r = { .npages = NPAGES };
	struct fr_result res;

	r.base = orbit_area_base(area);
	require(fault_delay_set(delay_us, FAULT_AREA_WRITE) == 0,
		"set debug_fault_delay_us");
	require(fr_start(&r) == 0, "start the writers");
	res = fr_calls(ob, area, &r, 6);
	fr_stop(&r);
	require(fault_delay_set(0, FAULT_AREA_WRITE) == 0,
		"clear debug_fault_delay_us");
	ok(res.calls > 50 && !res.changed && !res.failed,
	   "%ld snapshots under two writers (their faults sleeping %u us before the PTE is set): %ld changed under their task, %ld failed",
	   res.calls, delay_us, res.changed, res.failed);
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct orbit *ob;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("fault-race", fr_reread, NULL);
	area = orbit_area_create(NPAGES * FR_PAGE, ob);
	require(ob && area, "orbit and area");
	race(ob, area, 0);
	race(ob, area, DELAY_US);
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
