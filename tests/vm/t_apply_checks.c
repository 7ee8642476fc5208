// SPDX-License-Identifier: GPL-2.0
/*
 * orbit_apply() validates before it applies: a modify outside the areas,
 * half inside, or in an area not bound to the pushing orbit (also one
 * that took over the id of a destroyed area the orbit was bound to), and
 * an operation pointing at data, are rejected and leave main's memory
 * untouched, even when valid entries precede them.
 */
#include "tap.h"
#include "util.h"

static long outside_var = 11;
static unsigned char not_code[64];
static int op_ran;

static long op(void *arg)
{
	op_ran++;
	return 0;
}

enum { GOOD, OUTSIDE, STRADDLE, UNBOUND, DATA_OP, REUSED, NCASES };

struct arg {
	int which;
	long *in_area, *unbound, *reused;
	char *area_end;
};

static long build(void *argbuf, void *store)
{
	struct arg *a = argbuf;
	struct orbit_update *u = orbit_update_create();
	long v = 99;

	/* Valid entries first: none of them may be applied on failure. */
	orbit_update_add_modify(u, a->in_area, &v, sizeof(v));
	orbit_update_add_operation(u, op, NULL);
	switch (a->which) {
	case OUTSIDE:
		orbit_update_add_modify(u, &outside_var, &v, sizeof(v));
		break;
	case STRADDLE:
		orbit_update_add_modify(u, a->area_end - 4, &v, sizeof(v));
		break;
	case UNBOUND:
		orbit_update_add_modify(u, a->unbound, &v, sizeof(v));
		break;
	case DATA_OP:
		orbit_update_add_operation(u, (orbit_operation)(void *)not_code,
					   NULL);
		break;
	case REUSED:
		orbit_update_add_modify(u, a->reused, &v, sizeof(v));
		break;
	}
	return orbit_push(u, NULL);
}

int main(void)
{
	static const char *const names[] = {
		"valid update", "modify outside every area",
		"modify half inside an area", "modify in another orbit's area",
		"operation pointing at data",
		"modify in an area reusing a destroyed bound area's id",
	};
	static const int want[] = { 0, EFAULT, EFAULT, EFAULT, EPERM, EFAULT };
	struct orbit_module_stats start;
	struct orbit_area *area, *other, *gone, *reused;
	struct orbit *ob, *ob2;
	struct orbit_future *f;
	struct orbit_update *u;
	struct arg a;
	int i, r;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("apply", build, NULL);
	ob2 = orbit_create("apply2", build, NULL);
	area = orbit_area_create_ex(4096, 4096, 0, ob);
	other = orbit_area_create_ex(4096, 4096, 0, ob2);
	/* gone is bound to ob; reused gets its id and is bound to ob2. */
	gone = orbit_area_create_ex(4096, 4096, 0, ob);
	require(gone && orbit_area_destroy(gone) == 0, "a destroyed area");
	reused = orbit_area_create_ex(4096, 4096, 0, ob2);
	require(ob && ob2 && area && other && reused, "orbits and areas");
	a.reused = orbit_area_base(reused);
	a.in_area = orbit_area_base(area);
	a.unbound = orbit_area_base(other);
	a.area_end = (char *)orbit_area_base(area) + 4096;

	for (i = NCASES - 1; i >= 0; i--) {
		*a.in_area = 1;
		*a.unbound = 2;
		*a.reused = 3;
		outside_var = 11;
		op_ran = 0;
		a.which = i;
		f = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
		if (!ok(f && pull_orbit(f, &u) == 1, "%s: pulled", names[i]))
			continue;
		r = orbit_apply(u);
		if (want[i]) {
			ok(r == -1 && errno == want[i], "%s: rejected with %s",
			   names[i], want[i] == EFAULT ? "EFAULT" : "EPERM");
			ok(*a.in_area == 1 && *a.unbound == 2 &&
			   *a.reused == 3 && outside_var == 11 && op_ran == 0,
			   "%s: nothing applied", names[i]);
		} else {
			ok(r == 0 && *a.in_area == 99 && op_ran == 1,
			   "%s: applied", names[i]);
		}
		orbit_update_free(u);
		orbit_future_get(f, NULL);
	}
	orbit_area_destroy(area);
	orbit_area_destroy(other);
	orbit_area_destroy(reused);
	orbit_destroy(ob);
	orbit_destroy(ob2);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
