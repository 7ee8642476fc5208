// SPDX-License-Identifier: LGPL-2.1-or-later
/* Host unit tests: the area allocator (libuorbit/heap.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../libuorbit/heap.h"

#define CAP (1 << 20)

static unsigned char *arena;

static int setup(void **state)
{
	struct uo_heap *h = malloc(sizeof(*h));

	arena = aligned_alloc(4096, CAP);
	uo_heap_init(h, arena, CAP);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	free(arena);
	return 0;
}

static void alloc_is_aligned_inside_and_disjoint(void **state)
{
	struct uo_heap *h = *state;
	unsigned char *a = uo_heap_alloc(h, 1);
	unsigned char *b = uo_heap_alloc(h, 100);

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal((uintptr_t)a % 16, 0);
	assert_int_equal((uintptr_t)b % 16, 0);
	assert_true(a >= arena && b + 100 <= arena + CAP);
	assert_true(a + uo_heap_block_size(h, a) <= b);
	memset(a, 0xaa, 1);
	memset(b, 0xbb, 100);
	assert_int_equal(a[0], 0xaa);
	assert_int_equal(uo_heap_check(h), 0);
}

static void free_then_reuse_and_coalesce(void **state)
{
	struct uo_heap *h = *state;
	void *p[8];
	size_t top;
	int i;

	for (i = 0; i < 8; i++)
		p[i] = uo_heap_alloc(h, 200);
	top = h->top;
	/* Free 1..6 (not the neighbours 0 and 7): they merge into one. */
	for (i = 1; i < 7; i++)
		assert_int_equal(uo_heap_free(h, p[i]), 0);
	assert_int_equal(uo_heap_check(h), 0);
	/* A block as large as the merged hole fits without growing. */
	assert_non_null(uo_heap_alloc(h, 6 * 200));
	assert_int_equal(h->top, top);
	assert_int_equal(uo_heap_check(h), 0);
}

static void freeing_the_tail_returns_to_top(void **state)
{
	struct uo_heap *h = *state;
	void *a = uo_heap_alloc(h, 64);
	void *b = uo_heap_alloc(h, 64);

	assert_int_equal(uo_heap_free(h, b), 0);
	assert_int_equal(uo_heap_free(h, a), 0);
	assert_int_equal(h->top, 0);
	assert_int_equal(h->used, 0);
	assert_int_equal(uo_heap_check(h), 0);
}

static void exhaustion_sets_enomem(void **state)
{
	struct uo_heap *h = *state;

	assert_null(uo_heap_alloc(h, CAP));
	assert_int_equal(errno, ENOMEM);
	assert_non_null(uo_heap_alloc(h, CAP - 64));
	assert_null(uo_heap_alloc(h, 64));
	assert_int_equal(errno, ENOMEM);
}

static void bad_sizes_and_pointers_are_rejected(void **state)
{
	struct uo_heap *h = *state;
	unsigned char *a;

	assert_null(uo_heap_alloc(h, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(uo_heap_alloc(h, SIZE_MAX));
	assert_int_equal(errno, EINVAL);
	a = uo_heap_alloc(h, 48);
	assert_int_equal(uo_heap_free(h, NULL), -1);
	assert_int_equal(uo_heap_free(h, a + 16), -1);
	assert_int_equal(uo_heap_free(h, arena + CAP + 64), -1);
	assert_int_equal(uo_heap_free(h, a), 0);
	/* Double free of the (now top-merged) block is detected. */
	assert_int_equal(uo_heap_free(h, a), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(uo_heap_check(h), 0);
}

static void random_workload_keeps_invariants(void **state)
{
	struct uo_heap *h = *state;
	void *live[256] = { 0 };
	size_t sz[256];
	int i;

	srand(42);
	for (i = 0; i < 20000; i++) {
		int k = rand() % 256;

		if (live[k]) {
			unsigned char *c = live[k];

			/* Contents survive other blocks' traffic. */
			assert_int_equal(c[0], (unsigned char)k);
			assert_int_equal(c[sz[k] - 1], (unsigned char)k);
			assert_int_equal(uo_heap_free(h, live[k]), 0);
			live[k] = NULL;
		} else {
			sz[k] = 1 + rand() % 3000;
			live[k] = uo_heap_alloc(h, sz[k]);
			assert_non_null(live[k]);
			assert_true(uo_heap_block_size(h, live[k]) >= sz[k]);
			memset(live[k], k, sz[k]);
		}
		if (i % 1000 == 0)
			assert_int_equal(uo_heap_check(h), 0);
	}
	for (i = 0; i < 256; i++)
		if (live[i])
			assert_int_equal(uo_heap_free(h, live[i]), 0);
	assert_int_equal(h->top, 0);
	assert_int_equal(uo_heap_check(h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(alloc_is_aligned_inside_and_disjoint, setup, teardown),
		cmocka_unit_test_setup_teardown(free_then_reuse_and_coalesce, setup, teardown),
		cmocka_unit_test_setup_teardown(freeing_the_tail_returns_to_top, setup, teardown),
		cmocka_unit_test_setup_teardown(exhaustion_sets_enomem, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_sizes_and_pointers_are_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(random_workload_keeps_invariants, setup, teardown),
	};

	return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
