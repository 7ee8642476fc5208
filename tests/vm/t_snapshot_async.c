// SPDX-License-Identifier: GPL-2.0
/*
 * A call sees the area as it was when the call was issued: main overwrites
 * the value right after orbit_call_async returns, yet the orbit reads the
 * old one; 100 queued async calls each see their own value.
 */
#include <orbit.h>

#include "tap.h"

static long read_value(void *arg, void *store)
{
	long *p = *(long **)arg;

	return *p;
}

int main(void)
{
	struct orbit_future *f[100];
	struct orbit_area *area;
	struct orbit *ob;
	long *val, ret;
	int i, all = 1;

	ob = orbit_create("snap", read_value, NULL);
	require(ob, "orbit_create");
	area = orbit_area_create(1 << 20, ob);
	require(area, "orbit_area_create");
	val = orbit_alloc(area, sizeof(*val));
	require(val, "orbit_alloc");

	*val = 41;
	ret = orbit_call(ob, 1, &area, NULL, &val, sizeof(val));
	ok(ret == 41 && errno == 0, "sync call reads the area (%ld)", ret);

	*val = 1;
	f[0] = orbit_call_async(ob, 0, 1, &area, NULL, &val, sizeof(val));
	*val = 2;	/* after the snapshot: invisible to the call */
	require(f[0], "orbit_call_async");
	ok(orbit_future_get(f[0], &ret) == 0 && ret == 1,
	   "async call sees the value at issue time, not the later write (%ld)",
	   ret);

	for (i = 0; i < 100; i++) {
		*val = 1000 + i;
		f[i] = orbit_call_async(ob, 0, 1, &area, NULL, &val,
					sizeof(val));
		if (!f[i])
			break;
	}
	*val = -1;
	ok(i == 100, "100 async calls queued");
	for (i = 0; i < 100 && f[i]; i++) {
		if (orbit_future_get(f[i], &ret) || ret != 1000 + i) {
			diag("call %d returned %ld", i, ret);
			all = 0;
		}
	}
	ok(all, "each queued call saw its own value");
	ret = orbit_call(ob, 1, &area, NULL, &val, sizeof(val));
	ok(ret == -1 && errno == 0,
	   "a task returning -1 is told apart from an error (errno 0)");

	orbit_free(area, val);
	ok(orbit_area_destroy(area) == 0, "orbit_area_destroy");
	ok(orbit_destroy(ob) == 0, "orbit_destroy");
	return tap_done();
}
