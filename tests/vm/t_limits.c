// SPDX-License-Identifier: GPL-2.0
/*
 * Limits are module parameters and fail with a clear errno: orbits per
 * main (EMFILE), area bytes per main (ENOSPC), queue depth (EAGAIN),
 * argument size (EINVAL), update size (EMSGSIZE).  rmmod is refused while
 * orbits or areas exist.
 */
#include <stdlib.h>

#include "tap.h"
#include "util.h"

static struct param_saved saved[] = {
	{ .name = "max_orbits" }, { .name = "max_main_bytes" },
	{ .name = "max_queue" }, { .name = "max_arg" },
	{ .name = "max_update" }, { .name = "max_areas" },
};
#define NSAVED	(sizeof(saved) / sizeof(saved[0]))

static long nap(void *argbuf, void *store)
{
	usleep(300000);
	return 0;
}

static long push_big(void *argbuf, void *store)
{
	struct orbit_update *u = orbit_update_create();
	static char data[100000];
	long r;

	if (orbit_update_add_data(u, data, sizeof(data))) {
		r = errno;	/* the library knows the module's limit */
		orbit_update_free(u);
		return r;
	}
	r = orbit_push(u, NULL);
	if (r) {
		r = errno;
		orbit_update_free(u);
	}
	return r;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit *a, *b, *c;
	struct orbit_area *x, *y;
	struct orbit_future *f[8];
	static char arg[256];
	int i, n;

	require(orbit_module_stats(&start) == 0, "read module counters");
	require(params_save(saved, NSAVED) == 0, "read the limits");
	require(param_write("max_orbits", "2") == 0 &&
		param_write("max_main_bytes", "4194304") == 0 &&
		param_write("max_queue", "4") == 0 &&
		param_write("max_arg", "128") == 0 &&
		param_write("max_update", "65536") == 0 &&
		param_write("max_areas", "3") == 0, "set small limits");

	a = orbit_create("lim-a", nap, NULL);
	b = orbit_create("lim-b", push_big, NULL);
	c = orbit_create("lim-c", nap, NULL);
	ok(a && b, "two orbits fit");
	ok(!c && errno == EMFILE, "a third orbit fails with EMFILE");

	x = orbit_area_create_ex(2 << 20, 2 << 20, 0, a);
	y = orbit_area_create_ex(4 << 20, 4 << 20, 0, a);
	ok(x, "a 2 MiB area fits in 4 MiB per main");
	ok(!y && errno == ENOSPC, "another 4 MiB fails with ENOSPC");

	for (i = 0, n = 0; i < 8; i++) {
		f[i] = orbit_call_async(a, 0, 0, NULL, NULL, NULL, 0);
		if (!f[i] && errno == EAGAIN)
			n++;
	}
	ok(n >= 3, "calls beyond a queue of 4 fail with EAGAIN (%d)", n);
	for (i = 0; i < 8; i++)
		if (f[i])
			orbit_future_get(f[i], NULL);

	ok(orbit_call(b, 0, NULL, NULL, arg, 129) == -1 && errno == EINVAL,
	   "an argument over max_arg=128 fails with EINVAL");
	ok(orbit_call(b, 0, NULL, NULL, arg, 128) == EMSGSIZE,
	   "an update over max_update=64K fails with EMSGSIZE");

	ok(system("rmmod orbit 2>/dev/null") != 0,
	   "rmmod is refused while orbits and areas exist");
	orbit_area_destroy(x);
	orbit_destroy(a);
	orbit_destroy(b);
	ok(params_restore(saved, NSAVED) == 0, "limits restored");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
