// SPDX-License-Identifier: GPL-2.0
/*
 * Observe-only orbits (ORBIT_OBSERVE_ONLY): the task reads main's areas
 * as any task does, but its pushes fail with EPERM and nothing reaches
 * main: no update to pull, main's memory unchanged, no operation run.
 */
#include "tap.h"
#include "util.h"

static int op_ran;

static long op(void *arg)
{
	op_ran++;
	return 0;
}

static long observe(void *argbuf, void *store)
{
	long *x = *(long **)argbuf, two = 2, seen = *x;
	struct orbit_update *u = orbit_update_create();

	orbit_update_add_modify(u, x, &two, sizeof(two));
	orbit_update_add_operation(u, op, NULL);
	if (orbit_push(u, NULL) == 0)
		return -1;	/* it must not get through */
	orbit_update_free(u);
	return errno == EPERM ? seen : -errno;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_status st;
	struct orbit_attr attr;
	struct orbit_area *area;
	struct orbit_update *u;
	struct orbit *ob;
	long *x;

	require(orbit_module_stats(&start) == 0, "read module counters");
	orbit_attr_init(&attr);
	attr.flags = ORBIT_OBSERVE_ONLY;
	ob = orbit_create_ex("observer", observe, NULL, &attr);
	area = orbit_area_create(1 << 20, ob);
	require(ob && area, "an observe-only orbit and an area");
	x = orbit_alloc(area, sizeof(*x));
	*x = 41;
	ok(orbit_call(ob, 1, &area, NULL, &x, sizeof(x)) == 41,
	   "its task reads the area; its push fails with EPERM");
	ok(pull_orbit(NULL, &u) == 0, "nothing to pull");
	ok(*x == 41 && op_ran == 0, "main's memory unchanged, no operation run");
	ok(orbit_status(ob, &st) == 0 && (st.flags & ORBIT_OBSERVE_ONLY),
	   "orbit_status shows ORBIT_OBSERVE_ONLY");
	attr.flags = 1U << 9;
	ok(orbit_create_ex("bad", observe, NULL, &attr) == NULL && errno == EINVAL,
	   "an unknown attribute flag: EINVAL");
	attr.flags = 0;
	attr.reserved[2] = 1;
	ok(orbit_create_ex("bad", observe, NULL, &attr) == NULL && errno == EINVAL,
	   "a reserved attribute word set: EINVAL");
	ok(orbit_destroy(ob) == 0 && orbit_area_destroy(area) == 0,
	   "destroy orbit and area");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
