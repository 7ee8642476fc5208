// SPDX-License-Identifier: GPL-2.0
/*
 * What the library's state means in processes that inherit it:
 *  - an orbit that creates orbits and areas of its own (nested) gets areas
 *    that never collide with its views of main's areas;
 *  - a fork() child of main cannot drive its parent's orbits or areas
 *    through inherited handles (EBADF), even once it has orbits of its
 *    own whose ids match, and its own orbits work.
 */
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

static long read_long(void *argbuf, void *store)
{
	return **(long **)argbuf;
}

static long ret_p(void *argbuf, void *store)
{
	return 'P';
}

static long ret_c(void *argbuf, void *store)
{
	return 'C';
}

/* In the outer orbit: an orbit and an area of its own, used at once. */
static long nested(void *argbuf, void *store)
{
	long *mine = *(long **)argbuf, outer = *mine, *v, r;
	struct orbit *in = orbit_create("nested-in", read_long, NULL);
	struct orbit_area *b = orbit_area_create(1 << 20, in);

	if (!in || !b)
		return -100 - errno;
	v = orbit_alloc(b, sizeof(*v));
	if (!v)
		return -200;
	*v = 1000;
	r = orbit_call(in, 1, &b, NULL, &v, sizeof(v));
	orbit_area_destroy(b);
	orbit_destroy(in);
	return r + outer;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct orbit *ob, *p;
	int status, i;
	long *v;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("nested-out", read_long, NULL);
	require(ob, "an orbit (the spawner now exists)");
	for (i = 0; i < 3; i++) {
		area = orbit_area_create(1 << 20, ob);
		require(area, "an area made after the spawner");
		v = orbit_alloc(area, sizeof(*v));
		*v = 5;
		ok(orbit_call(ob, 1, &area, NULL, &v, sizeof(v)) == 5,
		   "the orbit sees main's area");
		ok(orbit_call(ob, 1, &area, nested, &v, sizeof(v)) == 1005,
		   "a task makes and calls an orbit and area of its own");
		ok(orbit_call(ob, 1, &area, NULL, &v, sizeof(v)) == 5,
		   "and main's area is still there for it");
		orbit_area_destroy(area);
	}
	orbit_destroy(ob);

	p = orbit_create("parent-orbit", ret_p, NULL);
	area = orbit_area_create(1 << 20, p);
	require(p && area, "the parent's orbit and area");
	pid = fork();
	if (pid == 0) {
		struct orbit *c = orbit_create("child-orbit", ret_c, NULL);
		int rc = 0;

		if (!c || orbit_call(c, 0, NULL, NULL, NULL, 0) != 'C')
			rc |= 1;
		if (orbit_call(p, 0, NULL, NULL, NULL, 0) != -1 || errno != EBADF)
			rc |= 2;
		if (orbit_alloc(area, 16) || errno != EBADF)
			rc |= 4;
		if (orbit_call(c, 0, NULL, NULL, NULL, 0) != 'C')
			rc |= 1;
		orbit_destroy(c);
		_exit(rc);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 1),
	   "a fork child's own orbit works");
	ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 2),
	   "a call through the parent's orbit handle fails with EBADF");
	ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 4),
	   "allocating in the parent's area fails with EBADF");
	ok(orbit_call(p, 0, NULL, NULL, NULL, 0) == 'P', "the parent's orbit still works");
	orbit_area_destroy(area);
	orbit_destroy(p);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
