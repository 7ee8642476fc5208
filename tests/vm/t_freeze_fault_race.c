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
 * page and the snapshot a copy even without the wait.)
 */
#include "tap.h"
#include "freeze_race.h"

#define NPAGES	256

int main(void)
{
	struct freeze_race r = { .npages = NPAGES };
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct fr_result res;
	struct orbit *ob;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("fault-race", fr_reread, NULL);
	area = orbit_area_create(NPAGES * FR_PAGE, ob);
	require(ob && area, "orbit and area");
	r.base = orbit_area_base(area);
	require(fr_start(&r) == 0, "start the writers");
	res = fr_calls(ob, area, &r, 6);
	fr_stop(&r);
	ok(res.calls > 50 && !res.changed && !res.failed,
	   "%ld snapshots under two writers: %ld changed under their task, %ld failed",
	   res.calls, res.changed, res.failed);
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
