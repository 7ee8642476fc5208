// SPDX-License-Identifier: GPL-2.0
/*
 * Three pushes per call, 1,000 calls (async and sync): every update
 * arrives once, in push order, then the end of its call.  Large updates
 * move pages instead of being copied twice and arrive intact; updates
 * past the size limit fail with EMSGSIZE; an orbit_push outside an orbit
 * fails with EPERM.
 */
#include "tap.h"
#include "util.h"

#define CALLS	1000
#define LARGE	(1 << 20)

static long push_three(void *argbuf, void *store)
{
	long call = *(long *)argbuf, k;

	for (k = 0; k < 3; k++) {
		struct orbit_update *u = orbit_update_create();
		long rec[2] = { call, k };

		if (orbit_update_add_data(u, rec, sizeof(rec)) ||
		    orbit_push(u, NULL))
			return -1;
	}
	return call;
}

static long push_large(void *argbuf, void *store)
{
	size_t len = *(size_t *)argbuf, i;
	struct orbit_update *u = orbit_update_create();
	unsigned char *data = malloc(len);
	long r;

	for (i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 7);
	r = orbit_update_add_data(u, data, len);
	free(data);
	if (r)
		return -errno;
	r = orbit_push(u, NULL);
	if (r) {
		r = -errno;
		orbit_update_free(u);
	}
	return r;
}

/* Pulls everything of one call; checks order.  Returns updates seen. */
static int drain(struct orbit_future *f, long call, int *bad)
{
	struct orbit_update *u;
	int n = 0;

	while (pull_orbit(f, &u) == 1) {
		const struct orbit_update_entry *e = orbit_update_first(u);
		long rec[2];

		memcpy(rec, e->data, sizeof(rec));
		if (rec[0] != call || rec[1] != n)
			(*bad)++;
		n++;
		orbit_update_free(u);
	}
	return n;
}

int main(void)
{
	struct orbit_module_stats start, a, b;
	struct orbit_future *f;
	struct orbit_update *u;
	struct orbit *ob;
	long call, ret;
	int bad = 0, count = 0, ends = 1;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("order", push_three, NULL);
	require(ob, "orbit_create");

	for (call = 0; call < CALLS; call++) {
		if (call % 2) {
			ret = orbit_call(ob, 0, NULL, NULL, &call, sizeof(call));
			if (ret != call)
				bad++;
			count += drain(NULL, call, &bad);
			continue;
		}
		f = orbit_call_async(ob, 0, 0, NULL, NULL, &call, sizeof(call));
		if (!f) {
			bad++;
			continue;
		}
		count += drain(f, call, &bad);
		if (pull_orbit(f, &u) != 0)
			ends = 0;	/* the end stays the end */
		if (orbit_future_get(f, &ret) || ret != call)
			bad++;
	}
	ok(count == 3 * CALLS, "all %d updates arrived (%d)", 3 * CALLS, count);
	ok(bad == 0, "in push order, none duplicated (%d bad)", bad);
	ok(ends, "after the last update, pull_orbit keeps returning 0");

	orbit_module_stats(&a);
	{
		size_t len = LARGE;
		const struct orbit_update_entry *e;
		size_t i, wrong = 0;

		f = orbit_call_async(ob, 0, 0, NULL, push_large, &len,
				     sizeof(len));
		ok(f && pull_orbit(f, &u) == 1, "pull a 1 MiB update");
		e = orbit_update_first(u);
		for (i = 0; e && i < LARGE; i++)
			wrong += e->data[i] != (unsigned char)(i * 7);
		ok(e && e->len == LARGE && !wrong, "its bytes arrive intact");
		orbit_update_free(u);
		ok(orbit_future_get(f, &ret) == 0 && ret == 0, "the call succeeded");
		orbit_module_stats(&b);
		ok(b.update_pages - a.update_pages >= LARGE / 4096,
		   "its pages were moved, not copied (%llu pages)",
		   (unsigned long long)(b.update_pages - a.update_pages));

		len = (16 << 20) + 4096;
		ret = orbit_call(ob, 0, NULL, push_large, &len, sizeof(len));
		ok(ret == -EMSGSIZE, "an update over 16 MiB fails with EMSGSIZE");
	}
	u = orbit_update_create();
	ok(orbit_push(u, NULL) == -1 && errno == EPERM,
	   "orbit_push outside an orbit fails with EPERM");
	orbit_update_free(u);

	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
