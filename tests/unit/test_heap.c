// SPDX-License-Identifier: LGPL-2.1-or-later
/* Host unit tests: the area allocator (libuorbit/heap.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "../../libuorbit/heap.h"

#define CAP	(4 << 20)
#define BIG	3000	/* over UO_HEAP_SMALL: a block, not a slab slot */

static unsigned char *arena;

static int setup(void **state)
{
	struct uo_heap *h = malloc(sizeof(*h));

	arena = mmap(NULL, CAP, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uo_heap_init(h, arena, CAP);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	uo_heap_destroy(*state);
	free(*state);
	munmap(arena, CAP);
	return 0;
}

static void alloc_is_aligned_inside_and_disjoint(void **state)
{
	struct uo_heap *h = *state;
	unsigned char *a = uo_heap_alloc(h, 1);
	unsigned char *b = uo_heap_alloc(h, 100);
	unsigned char *c = uo_heap_alloc(h, BIG);

	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal((uintptr_t)a % 16, 0);
	assert_int_equal((uintptr_t)b % 16, 0);
	assert_int_equal((uintptr_t)c % 16, 0);
	assert_true(a >= arena && b + 100 <= arena + CAP &&
		    c + BIG <= arena + CAP);
	assert_true(uo_heap_block_size(h, a) >= 1);
	assert_true(uo_heap_block_size(h, b) >= 100);
	assert_true(uo_heap_block_size(h, c) >= BIG);
	assert_true(a + uo_heap_block_size(h, a) <= b ||
		    b + uo_heap_block_size(h, b) <= a);
	assert_true(c >= b + 100 || c + BIG <= b);
	assert_int_equal(uo_heap_check(h), 0);
}

/* The allocator never touches the area: it works over PROT_NONE memory. */
static void area_memory_is_never_touched(void **state)
{
	struct uo_heap *h = *state;
	void *p[64];
	int i, round;

	assert_int_equal(mprotect(arena, CAP, PROT_NONE), 0);
	for (round = 0; round < 10; round++) {
		for (i = 0; i < 64; i++) {
			p[i] = uo_heap_alloc(h, i % 2 ? 24 : 5000 + i);
			assert_non_null(p[i]);
		}
		for (i = 0; i < 64; i += 2 + round % 2)
			assert_int_equal(uo_heap_free(h, p[i]), 0);
		for (i = 0; i < 64; i += 2 + round % 2)
			assert_non_null(p[i] = uo_heap_alloc(h, 700));
		for (i = 0; i < 64; i++)
			assert_int_equal(uo_heap_free(h, p[i]), 0);
		assert_int_equal(uo_heap_check(h), 0);
	}
	assert_int_equal(mprotect(arena, CAP, PROT_READ | PROT_WRITE), 0);
}

/* Whatever the area holds (an orbit's scribbling), the heap is unaffected. */
static void scribbled_area_keeps_the_heap_intact(void **state)
{
	struct uo_heap *h = *state;
	unsigned char *p[100];
	int i;

	for (i = 0; i < 100; i++)
		p[i] = uo_heap_alloc(h, 16 + i * 61);
	for (i = 0; i < 100; i += 3)
		uo_heap_free(h, p[i]);
	memset(arena, 0x41, h->top);
	for (i = 0; i < 100; i += 3) {
		p[i] = uo_heap_alloc(h, 16 + i * 61);
		assert_true(p[i] >= arena && p[i] + 16 + i * 61 <= arena + CAP);
	}
	assert_int_equal(uo_heap_check(h), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(uo_heap_free(h, p[i]), 0);
	assert_int_equal(h->used, 0);
	assert_int_equal(uo_heap_check(h), 0);
}

static void free_then_reuse_and_coalesce(void **state)
{
	struct uo_heap *h = *state;
	void *p[8];
	size_t top;
	int i;

	for (i = 0; i < 8; i++)
		p[i] = uo_heap_alloc(h, BIG);
	top = h->top;
	/* Free 1..6 (not the neighbours 0 and 7): they merge into one. */
	for (i = 1; i < 7; i++)
		assert_int_equal(uo_heap_free(h, p[i]), 0);
	assert_int_equal(uo_heap_check(h), 0);
	/* A block as large as the merged hole fits without growing. */
	assert_non_null(uo_heap_alloc(h, 6 * BIG));
	assert_int_equal(h->top, top);
	assert_int_equal(uo_heap_check(h), 0);
}

static void freeing_the_tail_returns_to_top(void **state)
{
	struct uo_heap *h = *state;
	void *a = uo_heap_alloc(h, BIG);
	void *b = uo_heap_alloc(h, BIG);

	assert_int_equal(uo_heap_free(h, b), 0);
	assert_int_equal(uo_heap_free(h, a), 0);
	assert_int_equal(h->top, 0);
	assert_int_equal(h->used, 0);
	assert_int_equal(uo_heap_check(h), 0);
}

/* What a free leaves with no allocation in it: whole pages only. */
static void released_pages_hold_no_allocation(void **state)
{
	struct uo_heap *h = *state;
	unsigned char *a = uo_heap_alloc(h, 3 * 4096);
	unsigned char *b = uo_heap_alloc(h, 40 * 4096);
	unsigned char *c = uo_heap_alloc(h, BIG);
	size_t off, len;

	assert_non_null(a && b && c);
	assert_int_equal(uo_heap_free(h, b), 0);
	assert_int_equal(uo_heap_released(h, 4096, &off, &len), 1);
	/* Inside b, on page boundaries, never a byte of a or c. */
	assert_true(arena + off >= b && arena + off + len <= b + 40 * 4096);
	assert_true(arena + off >= a + 3 * 4096 && arena + off + len <= c);
	assert_int_equal(off % 4096, 0);
	assert_int_equal(len % 4096, 0);
	assert_true(len >= 38 * 4096);
	/* Freeing a: the run grows, only a's pages are new. */
	assert_int_equal(uo_heap_free(h, a), 0);
	assert_int_equal(uo_heap_released(h, 4096, &off, &len), 1);
	assert_true(arena + off + len <= b + 4096 && off + len > 0);
	/* A small block in a slab releases nothing. */
	b = uo_heap_alloc(h, 64);
	assert_int_equal(uo_heap_free(h, b), 0);
	assert_int_equal(uo_heap_released(h, 4096, &off, &len), 0);
	assert_int_equal(uo_heap_check(h), 0);
}

static void empty_slabs_are_given_back(void **state)
{
	struct uo_heap *h = *state;
	void *p[4096];
	int i;

	for (i = 0; i < 4096; i++)	/* 4096 * 32 bytes: 8 slabs */
		assert_non_null(p[i] = uo_heap_alloc(h, 32));
	assert_true(h->top >= 8 * UO_HEAP_SLAB);
	for (i = 0; i < 4096; i++)
		assert_int_equal(uo_heap_free(h, p[i]), 0);
	/* At most one empty slab stays for the class. */
	assert_true(h->top <= UO_HEAP_SLAB * 2);
	assert_int_equal(h->used, 0);
	assert_int_equal(uo_heap_check(h), 0);
}

static void exhaustion_sets_enomem(void **state)
{
	struct uo_heap *h = *state;
	void *a;

	assert_null(uo_heap_alloc(h, CAP + 1));
	assert_int_equal(errno, ENOMEM);
	a = uo_heap_alloc(h, CAP - 64);
	assert_non_null(a);
	assert_null(uo_heap_alloc(h, BIG));
	assert_int_equal(errno, ENOMEM);
	assert_null(uo_heap_alloc(h, 16));	/* no room for a slab either */
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(uo_heap_free(h, a), 0);
	assert_non_null(uo_heap_alloc(h, 16));
	assert_int_equal(uo_heap_check(h), 0);
}

static void bad_sizes_and_pointers_are_rejected(void **state)
{
	struct uo_heap *h = *state;
	unsigned char *a, *b;

	assert_null(uo_heap_alloc(h, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(uo_heap_alloc(h, SIZE_MAX));
	assert_int_equal(errno, ENOMEM);
	a = uo_heap_alloc(h, 48);
	b = uo_heap_alloc(h, BIG);
	assert_int_equal(uo_heap_free(h, NULL), -1);
	assert_int_equal(uo_heap_free(h, a + 16), -1);	/* a free slot */
	assert_int_equal(uo_heap_free(h, a + 8), -1);	/* inside a slot */
	assert_int_equal(uo_heap_free(h, b + 16), -1);	/* inside a block */
	assert_int_equal(uo_heap_free(h, arena + CAP + 64), -1);
	assert_int_equal(uo_heap_free(h, a), 0);
	assert_int_equal(uo_heap_free(h, a), -1);	/* double free */
	assert_int_equal(errno, EINVAL);
	assert_int_equal(uo_heap_free(h, b), 0);
	assert_int_equal(uo_heap_free(h, b), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(uo_heap_block_size(h, b), 0);
	assert_int_equal(uo_heap_check(h), 0);
}

/* A small block gets the smallest size class that holds it. */
static void small_sizes_get_the_smallest_class(void **state)
{
	static const size_t cls[] = {
		16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256,
		320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048,
	};
	struct uo_heap *h = *state;
	size_t size, c = 0;
	void *p;

	for (size = 1; size <= UO_HEAP_SMALL; size++) {
		if (cls[c] < size)
			c++;
		p = uo_heap_alloc(h, size);
		assert_non_null(p);
		assert_int_equal(uo_heap_block_size(h, p), cls[c]);
		assert_int_equal(uo_heap_free(h, p), 0);
	}
	assert_int_equal(uo_heap_check(h), 0);
}

/* Every 16-byte step of a slab: a live slot's start is a block, nothing else. */
static void only_live_slot_starts_are_blocks(void **state)
{
	static const size_t sizes[] = { 16, 48, 80, 112, 160, 320, 448, 1280, 1792 };
	struct uo_heap *h = *state;
	unsigned char *p[3];
	size_t i, off, size;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size = sizes[i];
		p[0] = uo_heap_alloc(h, size);
		p[1] = uo_heap_alloc(h, size);
		p[2] = uo_heap_alloc(h, size);
		assert_ptr_equal(p[1], p[0] + size);
		assert_ptr_equal(p[2], p[1] + size);
		assert_int_equal(uo_heap_free(h, p[1]), 0);
		for (off = 0; off < UO_HEAP_SLAB; off += 16) {
			size_t want = off == 0 || off == 2 * size ? size : 0;

			assert_int_equal(uo_heap_block_size(h, p[0] + off), want);
		}
		assert_int_equal(uo_heap_free(h, p[0] + size), -1);
		assert_int_equal(uo_heap_free(h, p[0] + 16), -1);
		assert_int_equal(uo_heap_free(h, p[2]), 0);
		assert_int_equal(uo_heap_free(h, p[0]), 0);
		assert_int_equal(uo_heap_check(h), 0);
	}
	assert_int_equal(h->used, 0);
}

static void random_workload_keeps_invariants(void **state)
{
	struct uo_heap *h = *state;
	void *live[512] = { 0 };
	size_t sz[512];
	int i;

	srand(42);
	for (i = 0; i < 40000; i++) {
		int k = rand() % 512;

		if (live[k]) {
			unsigned char *c = live[k];

			/* Contents survive other blocks' traffic. */
			assert_int_equal(c[0], (unsigned char)k);
			assert_int_equal(c[sz[k] - 1], (unsigned char)k);
			assert_int_equal(uo_heap_free(h, live[k]), 0);
			live[k] = NULL;
		} else {
			sz[k] = 1 + rand() % (rand() % 4 ? 600 : 9000);
			live[k] = uo_heap_alloc(h, sz[k]);
			assert_non_null(live[k]);
			assert_true(uo_heap_block_size(h, live[k]) >= sz[k]);
			memset(live[k], k, sz[k]);
		}
		if (i % 1000 == 0)
			assert_int_equal(uo_heap_check(h), 0);
	}
	for (i = 0; i < 512; i++)
		if (live[i])
			assert_int_equal(uo_heap_free(h, live[i]), 0);
	assert_int_equal(h->used, 0);
	assert_int_equal(uo_heap_check(h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(alloc_is_aligned_inside_and_disjoint, setup, teardown),
		cmocka_unit_test_setup_teardown(area_memory_is_never_touched, setup, teardown),
		cmocka_unit_test_setup_teardown(scribbled_area_keeps_the_heap_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(free_then_reuse_and_coalesce, setup, teardown),
		cmocka_unit_test_setup_teardown(freeing_the_tail_returns_to_top, setup, teardown),
		cmocka_unit_test_setup_teardown(released_pages_hold_no_allocation, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_slabs_are_given_back, setup, teardown),
		cmocka_unit_test_setup_teardown(exhaustion_sets_enomem, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_sizes_and_pointers_are_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(small_sizes_get_the_smallest_class,
						setup, teardown),
		cmocka_unit_test_setup_teardown(only_live_slot_starts_are_blocks,
						setup, teardown),
		cmocka_unit_test_setup_teardown(random_workload_keeps_invariants, setup, teardown),
	};

	return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
