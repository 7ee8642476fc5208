// SPDX-License-Identifier: GPL-2.0
/*
 * A modification may only land in an area that main still has mapped:
 * after main unmaps an area (which it may) and maps other memory at the
 * same address, an update pushed for the area is rejected by
 * orbit_apply() (EFAULT) and the new memory stays as it was; so is one
 * for an area main made read-only.
 */
#include <sys/mman.h>

#include "tap.h"
#include "util.h"

#define SIZE	(1 << 20)

static long modify(void *argbuf, void *store)
{
	struct orbit_update *u = orbit_update_create();
	long *target = *(long **)argbuf, v = 99;

	orbit_update_add_modify(u, target, &v, sizeof(v));
	return orbit_push(u, NULL);
}

/* Pulls the update of a call that modifies *target (and the call's end). */
static struct orbit_update *pushed_for(struct orbit *ob,
				       struct orbit_area *area, long *target)
{
	struct orbit_update *u = NULL, *none;

	if (orbit_call(ob, 1, &area, NULL, &target, sizeof(target)) != 0 ||
	    pull_orbit(NULL, &u) != 1 || pull_orbit(NULL, &none) != 0)
		return NULL;
	return u;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_update *u;
	struct orbit_area *area;
	struct orbit *ob;
	long *v, *buf;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("applyunmapped", modify, NULL);
	area = orbit_area_create_ex(SIZE, SIZE, 0, ob);
	require(ob && area, "orbit and area");
	v = orbit_area_base(area);
	*v = 1;

	u = pushed_for(ob, area, v);
	require(u, "the orbit pushed a modification of the area");
	ok(orbit_apply(u) == 0 && *v == 99, "applied while the area is mapped");
	orbit_update_free(u);

	u = pushed_for(ob, area, v);
	require(u, "the orbit pushed another modification");
	ok(mprotect(v, SIZE, PROT_READ) == 0, "main makes the area read-only");
	ok(orbit_apply(u) == -1 && errno == EFAULT,
	   "apply into the read-only area: EFAULT");
	ok(mprotect(v, SIZE, PROT_READ | PROT_WRITE) == 0, "writable again");

	ok(munmap(v, SIZE) == 0, "main unmaps the whole area");
	buf = mmap(v, SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	require(buf == v, "and maps a buffer at the same address");
	*buf = 7;
	ok(orbit_apply(u) == -1 && errno == EFAULT,
	   "apply of the area's update: EFAULT");
	ok(*buf == 7, "the buffer is untouched");
	orbit_update_free(u);
	munmap(buf, SIZE);

	ok(orbit_area_destroy(area) == 0 && orbit_destroy(ob) == 0,
	   "destroy area and orbit");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
