// SPDX-License-Identifier: GPL-2.0
/*
 * An update keeps the bytes it had when it was pushed.  A task pushes a
 * large page-aligned buffer that lies in its view of an area (so the
 * module may take its pages instead of copying), the orbit goes away,
 * main rewrites those area pages, and only then pulls: the update holds
 * what the task pushed, not main's later writes.
 */
#include <sys/ioctl.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

#define LEN	(64 * 1024)

/* In the orbit: push the view's bytes as they are, with the raw ABI. */
static long push_view(void *argbuf, void *store)
{
	struct orbit_push req;
	int fd = fd_linked_to("[orbit]");

	memset(&req, 0, sizeof(req));
	req.buf = (uintptr_t)*(void **)argbuf;
	req.len = LEN;
	return ioctl(fd, ORBIT_IOC_PUSH, &req) ? -errno : 0;
}

static long seven(void *argbuf, void *store)
{
	return 7;
}

/* One DATA entry filling LEN bytes, its payload all c. */
static void encode(unsigned char *p, int c)
{
	struct orbit_update_entry *e = (void *)p;

	memset(p, c, LEN);
	e->type = ORBIT_UPDATE_DATA;
	e->reserved = 0;
	e->len = LEN - sizeof(*e);
	e->addr = 0;
}

int main(void)
{
	struct orbit_module_stats start;
	const struct orbit_update_entry *e;
	struct orbit_update *u = NULL;
	struct orbit_future *f;
	struct orbit_area *area;
	struct orbit *ob;
	unsigned char *p;
	size_t i, bad = 0;
	long ret;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("pushview", push_view, NULL);
	area = orbit_area_create(1 << 20, ob);
	require(ob && area, "orbit and area");
	p = orbit_alloc(area, LEN + 4096);
	p = (unsigned char *)(((uintptr_t)p + 4095) & ~4095UL);
	encode(p, 'A');
	f = orbit_call_async(ob, 0, 1, &area, NULL, &p, sizeof(p));
	require(f, "the task pushes its view of the buffer");
	ok(orbit_call(ob, 0, NULL, seven, NULL, 0) == 7,
	   "the push call has ended (a later call ran)");
	ok(orbit_destroy(ob) == 0 && procs_gone("pushview"),
	   "the orbit is destroyed, its process and views gone");
	encode(p, 'B');		/* main rewrites the pages */
	ok(pull_orbit(f, &u) == 1, "main pulls the update");
	e = u ? orbit_update_first(u) : NULL;
	for (i = 0; e && i < e->len; i++)
		bad += e->data[i] != 'A';
	ok(e && e->len == LEN - sizeof(*e) && !bad,
	   "it holds what the task pushed (%zu bytes changed)", bad);
	orbit_update_free(u);
	ok(pull_orbit(f, &u) == 0, "then the call's end");
	ok(orbit_future_get(f, &ret) == 0 && ret == 0, "the push succeeded");
	orbit_area_destroy(area);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
