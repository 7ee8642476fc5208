// SPDX-License-Identifier: GPL-2.0
/*
 * Fresh globals below the size the library tracks writes for (64 KiB):
 * they are compared whole at every create and orbit_sync_globals(), on
 * every kernel.  An orbit sees each change made before its create or
 * its sync -- a store, a second store to a page already copied, a write
 * by the kernel (read(2) into a global) -- and never one made after.
 */
#include "tap.h"
#include "util.h"

static long g_counter;			/* bss */
static char g_word[16] = "initial";	/* data */

enum { Q_COUNTER, Q_WORD };

static long task(void *argbuf, void *store)
{
	switch (*(int *)argbuf) {
	case Q_COUNTER:
		return g_counter;
	case Q_WORD:
		return g_word[0];
	}
	return -100;
}

static long ask(struct orbit *ob, int q)
{
	return orbit_call(ob, 0, NULL, NULL, &q, sizeof(q));
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit *a, *b;
	int i, good = 1;

	require(orbit_module_stats(&start) == 0, "read module counters");
	g_counter = 1;
	a = orbit_create("small-a", task, NULL);
	require(a, "orbit_create");
	ok(ask(a, Q_COUNTER) == 1 && ask(a, Q_WORD) == 'i',
	   "the orbit sees the globals of its create");

	g_counter = 2;
	ok(ask(a, Q_COUNTER) == 1, "a change after the create is not seen");
	ok(orbit_sync_globals(a) == 0 && ask(a, Q_COUNTER) == 2,
	   "orbit_sync_globals brings it");

	for (i = 3; i < 10; i++) {
		g_counter = i;	/* the same page, written again and again */
		if (orbit_sync_globals(a) || ask(a, Q_COUNTER) != i)
			good = 0;
	}
	ok(good, "every later store to the same page arrives at a sync");

	ok(kernel_write_byte(g_word, 'k') == 0 && orbit_sync_globals(a) == 0 &&
	   ask(a, Q_WORD) == 'k', "a write by the kernel (read(2)) arrives");

	g_counter = 42;
	g_word[0] = 's';
	b = orbit_create("small-b", task, NULL);
	require(b, "a second orbit_create");
	ok(ask(b, Q_COUNTER) == 42 && ask(b, Q_WORD) == 's',
	   "a new orbit sees the globals of its own create");
	ok(ask(a, Q_COUNTER) == 9 && ask(a, Q_WORD) == 'k',
	   "the first orbit keeps those of its last sync");
	orbit_destroy(a);
	orbit_destroy(b);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
