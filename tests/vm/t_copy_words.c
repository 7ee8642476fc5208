// SPDX-License-Identifier: GPL-2.0
/*
 * A COPY-mode snapshot copies pages main goes on writing: a page may
 * come out with some words from before a rewrite and some from after,
 * but each aligned word must hold a value main stored there, as a task
 * reading the page itself would find.  A copy a byte at a time (copy_mc's
 * rep movsb) broke that: a word rewritten during its copy came out as
 * bytes of both values, found as rounds that had not happened yet by
 * t_write_around with mc_copy=1.  Here a thread rewrites every word of a
 * COPY-mode area between two values that differ in every byte while
 * calls snapshot it, and every task checks every word is one of them,
 * with page copies that survive memory errors (mc_copy=1) and with
 * plain ones (0).
 */
#include <pthread.h>

#include "tap.h"
#include "util.h"

#define NPAGES	16
#define WORDS	(NPAGES * 4096 / sizeof(long))
#define VAL_A	0x00ff00ff00ff00ffUL
#define VAL_B	0xff00ff00ff00ff00UL
#define SECONDS	3

static unsigned long *words;
static volatile int stop;

static void *rewriter(void *unused)
{
	unsigned long v = VAL_B;
	size_t i;

	while (!stop) {
		for (i = 0; i < WORDS; i++)
			((volatile unsigned long *)words)[i] = v;
		v = ~v;
	}
	return NULL;
}

/* The task: how many words hold neither value. */
static long torn_words(void *argbuf, void *store)
{
	const volatile unsigned long *w = *(unsigned long **)argbuf;
	long torn = 0;
	size_t i;

	for (i = 0; i < WORDS; i++)
		torn += w[i] != VAL_A && w[i] != VAL_B;
	return torn;
}

static void one_mode(struct orbit *ob, struct orbit_area *a, const char *mc)
{
	long calls = 0, torn = 0, failed = 0, ret;
	pthread_t th;
	double t0;
	size_t i;

	require(param_write("mc_copy", mc) == 0, "mc_copy=%s", mc);
	for (i = 0; i < WORDS; i++)
		words[i] = VAL_A;
	stop = 0;
	require(pthread_create(&th, NULL, rewriter, NULL) == 0, "a rewriter");
	t0 = now_us();
	while (now_us() - t0 < SECONDS * 1e6) {
		ret = orbit_call(ob, 1, &a, NULL, &words, sizeof(words));
		if (ret < 0)
			failed++;
		else
			torn += ret;
		calls++;
	}
	stop = 1;
	pthread_join(th, NULL);
	ok(calls >= 20 && !failed, "mc_copy=%s: %ld calls snapshot a page main rewrites (%ld failed)",
	   mc, calls, failed);
	ok(torn == 0, "mc_copy=%s: every word every task read held a value main stored (%ld did not)",
	   mc, torn);
}

static struct param_saved saved[] = { { .name = "mc_copy" } };

static void restore(void)
{
	params_restore(saved, 1);
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *a;
	struct orbit *ob;

	require(orbit_module_stats(&start) == 0, "read module counters");
	require(params_save(saved, 1) == 0 && !atexit(restore), "mc_copy read");
	ob = orbit_create("copywords", torn_words, NULL);
	a = ob ? orbit_area_create_ex(NPAGES * 4096, NPAGES * 4096,
				      ORBIT_AREA_MODE_COPY, ob) : NULL;
	require(a, "an orbit and a COPY-mode area");
	words = orbit_area_base(a);
	one_mode(ob, a, "1");
	one_mode(ob, a, "0");
	orbit_area_destroy(a);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
