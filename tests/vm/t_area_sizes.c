// SPDX-License-Identifier: GPL-2.0
/*
 * Areas from one page to 256 MiB, fully written, read back in an orbit;
 * several areas in one call; an area created before the first orbit and
 * areas created after it; two orbits sharing one area, each with its own
 * private writes.
 */
#include "tap.h"
#include "util.h"

#define PG 4096UL

struct span {
	unsigned long *base;
	size_t pages;
};

/* Sums the first word of every page of every span. */
static long sum_pages(void *argbuf, void *store)
{
	struct span *s = argbuf;
	long sum = 0;
	size_t i;

	for (; s->base; s++)
		for (i = 0; i < s->pages; i++)
			sum += s->base[i * PG / sizeof(long)];
	return sum;
}

static long fill(struct orbit_area *a, size_t pages, long seed)
{
	unsigned long *p = orbit_area_base(a);
	long sum = 0;
	size_t i;

	for (i = 0; i < pages; i++) {
		p[i * PG / sizeof(long)] = seed + i;
		sum += seed + i;
	}
	return sum;
}

/* Writes into the orbit's view, returns what it read first. */
static long scribble(void *argbuf, void *store)
{
	long *p = *(long **)argbuf, v = *p;

	*p = -1;
	return v;
}

int main(void)
{
	static const size_t sizes[] = { PG, 16 * PG, 2UL << 20, 64UL << 20,
					256UL << 20 };
	struct orbit_module_stats start;
	struct orbit_area *early, *a[3], *shared;
	struct orbit *ob, *ob2;
	struct span s[4];
	long want, got;
	size_t i, pages;

	require(orbit_module_stats(&start) == 0, "read module counters");
	early = orbit_area_create_ex(PG, PG, 0, NULL);
	require(early, "area created before any orbit exists");
	ob = orbit_create("sizes", sum_pages, NULL);
	require(ob, "orbit_create");

	want = fill(early, 1, 5);
	s[0] = (struct span){ orbit_area_base(early), 1 };
	s[1] = (struct span){ NULL, 0 };
	got = orbit_call(ob, 1, &early, NULL, s, sizeof(s));
	ok(got == want, "area made before the orbit is visible in it");

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct orbit_area *ar = orbit_area_create_ex(sizes[i], sizes[i],
							     0, ob);

		if (!ok(ar, "create a %zu KiB area", sizes[i] >> 10))
			continue;
		pages = sizes[i] / PG;
		want = fill(ar, pages, (long)i * 1000003);
		s[0] = (struct span){ orbit_area_base(ar), pages };
		got = orbit_call(ob, 1, &ar, NULL, s, sizeof(s));
		ok(got == want, "%zu KiB area: orbit reads all %zu pages",
		   sizes[i] >> 10, pages);
		want += fill(ar, 1, 77) - (long)i * 1000003;
		got = orbit_call(ob, 1, &ar, NULL, s, sizeof(s));
		ok(got == want, "%zu KiB area: a changed page is seen",
		   sizes[i] >> 10);
		ok(orbit_area_destroy(ar) == 0, "destroy the %zu KiB area",
		   sizes[i] >> 10);
	}

	a[0] = orbit_area_create_ex(PG, 0, 0, NULL);
	a[1] = orbit_area_create_ex(2UL << 20, 0, 0, NULL);
	a[2] = orbit_area_create_ex(8UL << 20, 0, 0, NULL);
	require(a[0] && a[1] && a[2], "three areas without an orbit");
	want = fill(a[0], 1, 1) + fill(a[1], 512, 100) + fill(a[2], 2048, 9000);
	s[0] = (struct span){ orbit_area_base(a[0]), 1 };
	s[1] = (struct span){ orbit_area_base(a[1]), 512 };
	s[2] = (struct span){ orbit_area_base(a[2]), 2048 };
	s[3] = (struct span){ NULL, 0 };
	got = orbit_call(ob, 3, a, NULL, s, sizeof(s));
	ok(got == want, "one call with three areas sees all three");

	shared = orbit_area_create(PG, NULL);
	ob2 = orbit_create("sizes2", scribble, NULL);
	require(shared && ob2, "a second orbit and a shared area");
	{
		long *v = orbit_alloc(shared, sizeof(long));

		*v = 42;
		got = orbit_call(ob, 1, &shared, scribble, &v, sizeof(v));
		ok(got == 42, "first orbit reads the shared area");
		got = orbit_call(ob2, 1, &shared, NULL, &v, sizeof(v));
		ok(got == 42, "second orbit reads it too, not the first's write");
		*v = 43;
		ok(orbit_call(ob2, 1, &shared, NULL, &v, sizeof(v)) == 43 &&
		   orbit_call(ob, 1, &shared, scribble, &v, sizeof(v)) == 43,
		   "both see main's next value");
		ok(*v == 43, "neither orbit's write reached main");
	}

	for (i = 0; i < 3; i++)
		orbit_area_destroy(a[i]);
	orbit_area_destroy(shared);
	orbit_area_destroy(early);
	ok(orbit_destroy(ob) == 0 && orbit_destroy(ob2) == 0, "destroy orbits");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
