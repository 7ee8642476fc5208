// SPDX-License-Identifier: GPL-2.0
/*
 * Mappings that go away under the module: main unmaps a whole area (which
 * it may) and an orbit unmaps its view of one (its own business); the
 * module must not keep using either mapping afterwards.  Calls on the
 * unmapped area still snapshot what it held, the orbit's next install
 * works, what main maps where the area was survives the area's destroy,
 * and the guest's memory debugging sees nothing.
 */
#include <sys/mman.h>

#include "tap.h"
#include "util.h"

static long read_first(void *argbuf, void *store)
{
	long *v = *(long **)argbuf;

	return *v;
}

static long unmap_view(void *argbuf, void *store)
{
	long *v = *(long **)argbuf;
	long x = *v;

	return munmap(v, 1 << 20) ? -1 : x;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_attr attr;
	struct orbit_area *area, *b, *c;
	struct orbit *ob;
	long *v, *w, *mine, ret;
	char *cb;
	int i, bad = 0;

	require(orbit_module_stats(&start) == 0, "read module counters");
	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	ob = orbit_create_ex("unmapped", read_first, NULL, &attr);
	area = orbit_area_create_ex(1 << 20, 1 << 20, 0, ob);
	b = orbit_area_create_ex(1 << 20, 1 << 20, 0, ob);
	require(ob && area && b, "orbit and two areas");
	v = orbit_area_base(area);
	w = orbit_area_base(b);
	for (i = 0; i < 256; i++)
		v[i * 512] = i + 1;
	*w = 77;
	ok(orbit_call(ob, 1, &area, NULL, &v, sizeof(v)) == 1, "a call sees the area");
	*v = 42;
	ok(munmap(v, 1 << 20) == 0, "main unmaps the whole area");
	/* Let the freed mapping's memory be reused and poisoned. */
	for (i = 0; i < 64; i++) {
		void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED)
			munmap(p, 1 << 20);
	}
	for (i = 0; i < 50; i++) {
		ret = orbit_call(ob, 1, &area, NULL, &v, sizeof(v));
		if (ret != 42)
			bad++;
	}
	ok(!bad, "50 calls after the unmap snapshot what the area held");

	ok(orbit_call(ob, 1, &b, unmap_view, &w, sizeof(w)) == 77,
	   "the orbit unmaps its own view of an area");
	*w = 78;
	ret = orbit_call(ob, 1, &b, NULL, &w, sizeof(w));
	ok(ret == 78 || (ret == -1 && errno == ESRCH),
	   "the next call ends: %ld (the task's view is gone)", ret);
	ok(orbit_call(ob, 1, &b, NULL, &w, sizeof(w)) == 78,
	   "the call after it sees the area again");
	/* What main maps into the hole is main's: destroy must not touch it. */
	mine = mmap(v, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	require(mine == (void *)v, "main maps a page where the area was");
	*mine = 4242;
	ok(orbit_area_destroy(area) == 0 && orbit_area_destroy(b) == 0,
	   "destroy both areas");
	ok(*mine == 4242 && msync(mine, 4096, MS_ASYNC) == 0,
	   "main's new mapping where the unmapped area was survives its destroy");
	c = orbit_area_create_ex(1 << 20, 1 << 20, 0, NULL);
	cb = c ? orbit_area_base(c) : NULL;
	ok(c && (cb + (1 << 20) <= (char *)v || cb >= (char *)v + (1 << 20)),
	   "a new area never gets that range");
	if (c)
		orbit_area_destroy(c);
	munmap(mine, 4096);
	ok(orbit_destroy(ob) == 0, "orbit_destroy");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
