// SPDX-License-Identifier: GPL-2.0
/*
 * Stepwise apply: main looks at the next entry (orbit_update_peek), applies
 * it (orbit_apply_one, with the module's check for that entry) or skips it
 * (orbit_skip_one), decides from a data record, and goes on; a rejected
 * entry stays next and changes nothing; past the end both fail with
 * ENOENT.  orbit_apply after some steps applies the rest, all or nothing,
 * never an entry twice.
 */
#include "tap.h"
#include "util.h"

static long outside_var = 11;
static int op_ran;

static long op(void *arg)
{
	op_ran++;
	return 0;
}

struct targs {
	long *x;	/* three longs in an area */
	int bad;	/* the second update ends with a rejected modify */
};

static long build(void *argbuf, void *store)
{
	struct targs *a = argbuf;
	struct orbit_update *u = orbit_update_create();
	long one = 1, two = 2, three = 3, rec = 77;

	if (!a->bad) {
		orbit_update_add_modify(u, &a->x[0], &one, sizeof(one));
		orbit_update_add_data(u, &rec, sizeof(rec));
		orbit_update_add_modify(u, &a->x[1], &two, sizeof(two));
		orbit_update_add_operation(u, op, NULL);
		orbit_update_add_modify(u, &outside_var, &two, sizeof(two));
		orbit_update_add_modify(u, &a->x[2], &three, sizeof(three));
	} else {
		orbit_update_add_operation(u, op, NULL);
		orbit_update_add_modify(u, &a->x[0], &three, sizeof(three));
		orbit_update_add_operation(u, op, NULL);
		if (a->bad == 2)
			orbit_update_add_modify(u, &outside_var, &two,
						sizeof(two));
	}
	return orbit_push(u, NULL);
}

int main(void)
{
	struct orbit_module_stats start;
	const struct orbit_update_entry *e;
	struct orbit_area *area;
	struct orbit_update *u;
	struct targs a = { 0 };
	struct orbit *ob;
	long rec = 0;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("stepwise", build, NULL);
	area = orbit_area_create(1 << 20, ob);
	require(ob && area, "orbit and area");
	a.x = orbit_alloc(area, 3 * sizeof(long));
	memset(a.x, 0, 3 * sizeof(long));

	require(orbit_call(ob, 1, &area, NULL, &a, sizeof(a)) == 0 &&
		pull_orbit(NULL, &u) == 1, "a six-entry update");
	e = orbit_update_peek(u);
	ok(e && e->type == ORBIT_UPDATE_MODIFY && e == orbit_update_first(u),
	   "peek: the first entry");
	ok(orbit_apply_one(u) == 0 && a.x[0] == 1 && a.x[1] == 0,
	   "apply_one applies that entry only");
	e = orbit_update_peek(u);
	ok(e && e->type == ORBIT_UPDATE_DATA, "next: the data record");
	if (e)
		memcpy(&rec, e->data, sizeof(rec));
	ok(rec == 77 && orbit_apply_one(u) == 0 && a.x[1] == 0,
	   "main reads the record; applying it changes nothing");
	ok(orbit_apply_one(u) == 0 && a.x[1] == 2, "the second modify");
	ok(orbit_skip_one(u) == 0 && op_ran == 0, "skip_one skips the operation");
	ok(orbit_apply_one(u) == -1 && errno == EFAULT && outside_var == 11,
	   "a modify outside the areas: EFAULT, nothing written");
	e = orbit_update_peek(u);
	ok(e && e->type == ORBIT_UPDATE_MODIFY &&
	   e->addr == (uintptr_t)&outside_var, "the rejected entry stays next");
	ok(orbit_skip_one(u) == 0 && orbit_apply_one(u) == 0 && a.x[2] == 3,
	   "skipped, then the last entry applies");
	ok(orbit_update_peek(u) == NULL, "peek past the end: NULL");
	ok(orbit_apply_one(u) == -1 && errno == ENOENT,
	   "apply_one past the end: ENOENT");
	ok(orbit_skip_one(u) == -1 && errno == ENOENT,
	   "skip_one past the end: ENOENT");
	ok(orbit_apply(u) == 0 && op_ran == 0 && a.x[0] == 1,
	   "orbit_apply at the end applies nothing again");
	orbit_update_free(u);

	a.bad = 1;
	require(orbit_call(ob, 1, &area, NULL, &a, sizeof(a)) == 0 &&
		pull_orbit(NULL, &u) == 1, "a three-entry update");
	ok(orbit_apply_one(u) == 0 && op_ran == 1, "one step: the operation ran");
	ok(orbit_apply(u) == 0 && op_ran == 2 && a.x[0] == 3,
	   "orbit_apply applies the rest, the first entry not twice");
	orbit_update_free(u);

	a.bad = 2;
	a.x[0] = 0;
	require(orbit_call(ob, 1, &area, NULL, &a, sizeof(a)) == 0 &&
		pull_orbit(NULL, &u) == 1, "an update ending with a bad modify");
	ok(orbit_apply_one(u) == 0 && op_ran == 3, "one step");
	ok(orbit_apply(u) == -1 && errno == EFAULT && a.x[0] == 0 && op_ran == 3,
	   "orbit_apply of the rest: all or nothing");
	e = orbit_update_peek(u);
	ok(e && e->type == ORBIT_UPDATE_MODIFY && e->addr == (uintptr_t)&a.x[0],
	   "after the failure the cursor has not moved");
	orbit_update_free(u);

	ok(orbit_apply_one(NULL) == -1 && errno == EINVAL &&
	   orbit_skip_one(NULL) == -1 && errno == EINVAL &&
	   orbit_update_peek(NULL) == NULL, "NULL: EINVAL");
	ok(orbit_destroy(ob) == 0 && orbit_area_destroy(area) == 0,
	   "destroy orbit and area");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
