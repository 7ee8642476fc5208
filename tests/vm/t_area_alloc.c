// SPDX-License-Identifier: GPL-2.0
/*
 * The area allocator's helpers and what unallocated memory costs:
 * orbit_calloc zeroes (also reused memory), orbit_realloc keeps the
 * contents, grows and shrinks, and follows realloc's rules for NULL and
 * 0; bad pointers and overflows get EINVAL and ENOMEM.  Freed pages go
 * back to the module (main and the next snapshot hold nothing there), and
 * a 1 GiB area with little in it snapshots as cheaply as a small one.
 */
#include "tap.h"
#include "util.h"

static long sum(void *argbuf, void *store)
{
	const unsigned char *p = *(unsigned char **)argbuf;
	size_t len = ((size_t *)argbuf)[1], i;
	long s = 0;

	for (i = 0; i < len; i += 512)
		s += p[i];
	return s;
}

static uint64_t pages_now(void)
{
	struct orbit_module_stats st;

	return orbit_module_stats(&st) ? 0 : st.pages;
}

/* Pages held, once below limit (old snapshots are freed in the background). */
static uint64_t pages_settle(uint64_t limit)
{
	uint64_t n = pages_now();
	int i;

	for (i = 0; i < 100 && n >= limit; i++) {
		usleep(20000);
		n = pages_now();
	}
	return n;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *area, *big;
	struct orbit *ob;
	unsigned char *p, *q;
	uint64_t before, held;
	struct { void *p; size_t len; } arg;
	size_t i;
	int same;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("alloc", sum, NULL);
	area = orbit_area_create(64 << 20, ob);
	require(ob && area, "orbit and a 64 MiB area");

	p = orbit_alloc(area, 4000);
	memset(p, 0xab, 4000);
	orbit_free(area, p);
	q = orbit_calloc(area, 1000, 4);
	for (same = 1, i = 0; q && i < 4000; i++)
		same &= q[i] == 0;
	ok(q && same, "orbit_calloc zeroes, even memory used before");
	ok(!orbit_calloc(area, SIZE_MAX / 2, 4) && errno == ENOMEM,
	   "orbit_calloc overflow: ENOMEM");
	for (i = 0; i < 4000; i++)
		q[i] = (unsigned char)i;
	p = orbit_realloc(area, q, 100000);
	for (same = 1, i = 0; p && i < 4000; i++)
		same &= p[i] == (unsigned char)i;
	ok(p && same, "orbit_realloc grows and keeps the contents");
	ok(orbit_realloc(area, p, 10) == p, "shrinking stays in place");
	ok(!orbit_realloc(area, (char *)p + 8, 10) && errno == EINVAL,
	   "realloc of a pointer that is no block: EINVAL");
	ok(!orbit_realloc(area, p, (size_t)1 << 40) && errno == ENOMEM &&
	   p[3] == 3, "too large: ENOMEM, the block is unchanged");
	errno = 1;
	ok(!orbit_realloc(area, p, 0) && errno == 0, "size 0 frees: NULL, errno 0");
	q = orbit_realloc(area, NULL, 64);
	ok(q != NULL, "NULL pointer: allocates");
	orbit_free(area, q);

	/* 8 MiB written, snapshotted, then freed. */
	before = pages_now();
	p = orbit_alloc(area, 8 << 20);
	memset(p, 1, 8 << 20);
	arg.p = p;
	arg.len = 8 << 20;
	ok(orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg)) == (8 << 20) / 512,
	   "the task sees 8 MiB written");
	held = pages_now();
	ok(held >= before + 2000, "the module holds them (%llu pages more)",
	   (unsigned long long)(held - before));
	orbit_free(area, p);
	arg.len = 4096;
	orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg));
	/* An area keeps up to 64 free pages for reuse. */
	before = pages_settle(held - 1980);
	ok(before <= held - 1980,
	   "freed: main and the next snapshot hold them no more (%lld of 2048 given back)",
	   (long long)(held - before));

	/* A 1 GiB area with 64 KiB in it. */
	big = orbit_area_create_ex(64 << 10, 1 << 30, 0, ob);
	require(big != NULL, "a 1 GiB area");
	p = orbit_alloc(big, 64 << 10);
	memset(p, 2, 64 << 10);
	before = pages_now();
	arg.p = p;
	arg.len = 64 << 10;
	for (i = 0; i < 20; i++) {
		p[i * 4096 % (64 << 10)] = 2;
		orbit_call(ob, 1, &big, NULL, &arg, sizeof(arg));
	}
	ok(pages_now() < before + 200,
	   "20 calls on it: the module holds about what is used (%lld pages)",
	   (long long)(pages_now() - before));

	orbit_free(area, NULL);	/* a no-op */
	ok(orbit_destroy(ob) == 0 && orbit_area_destroy(area) == 0 &&
	   orbit_area_destroy(big) == 0, "destroy orbit and areas");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
