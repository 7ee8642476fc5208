/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The workload of the tests that race the freeze of main's PTEs against
 * whatever else changes them (t_freeze_fault_race, t_protect_race,
 * t_numa_hinting): two threads keep adding to the first word of every
 * page of an area while main keeps calling its orbit with a snapshot of
 * it; each task reads those words twice, 3 ms apart, and counts the ones
 * that changed under it: any is a write of main's that reached a frozen
 * page.  Pages past the written ones hold fixed values (nkept), then
 * zeros main never writes (nzero), which the task checks too.
 */
#ifndef ORBIT_TEST_FREEZE_RACE_H
#define ORBIT_TEST_FREEZE_RACE_H

#include "util.h"

#define FR_PAGE		4096
#define FR_KEPT_LOST	(1L << 30)	/* above any count of changed pages */

struct freeze_race;

/* A writer: adds n to every written page's first word, until stop. */
struct fr_writer {
	struct freeze_race *r;
	long n;
	pthread_t thread;
};

struct freeze_race {
	unsigned char *base;	/* the area */
	int npages;		/* written by the writers */
	int nkept;		/* after them: written once, by fr_start */
	int nzero;		/* after those: never written */
	volatile int stop;
	struct fr_writer writers[2];
};

static inline long *fr_word(unsigned char *base, int i)
{
	return (long *)(base + (size_t)i * FR_PAGE);
}

static inline long fr_kept_value(int i)
{
	return 7L * i + 1;
}

/*
 * In the orbit (the argument is main's struct freeze_race, whose fields
 * the snapshot of the call's argument holds): how many written words
 * changed in 3 ms, or FR_KEPT_LOST if a kept or zero page is not as
 * written.
 */
static inline long fr_reread(void *argbuf, void *store)
{
	const struct freeze_race *r = argbuf;
	long *first = calloc(r->npages, sizeof(long));
	long changed = 0;
	int i;

	if (!first)
		return -1;
	for (i = 0; i < r->npages; i++)
		first[i] = *(volatile long *)fr_word(r->base, i);
	usleep(3000);
	for (i = 0; i < r->npages; i++)
		changed += first[i] != *(volatile long *)fr_word(r->base, i);
	free(first);
	for (i = 0; i < r->nkept; i++)
		if (*fr_word(r->base, r->npages + i) != fr_kept_value(i))
			return FR_KEPT_LOST;
	for (i = 0; i < r->nzero; i++)
		if (*fr_word(r->base, r->npages + r->nkept + i))
			return FR_KEPT_LOST;
	return changed;
}

static inline void *fr_writer(void *arg)
{
	struct fr_writer *w = arg;
	struct freeze_race *r = w->r;
	int i;

	while (!r->stop)
		for (i = 0; i < r->npages; i++)
			__atomic_add_fetch(fr_word(r->base, i), w->n,
					   __ATOMIC_RELAXED);
	return NULL;
}

/* Fills the area (written pages 0, kept pages their values), starts. */
static inline int fr_start(struct freeze_race *r)
{
	struct fr_writer *w = r->writers;
	int i;

	memset(r->base, 0, (size_t)r->npages * FR_PAGE);
	for (i = 0; i < r->nkept; i++)
		*fr_word(r->base, r->npages + i) = fr_kept_value(i);
	r->stop = 0;
	for (i = 0; i < 2; i++) {
		w[i].r = r;
		w[i].n = i + 1;
		if (pthread_create(&w[i].thread, NULL, fr_writer, &w[i]))
			return -1;
	}
	return 0;
}

static inline void fr_stop(struct freeze_race *r)
{
	int i;

	r->stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(r->writers[i].thread, NULL);
}

/* What the calls of fr_calls saw. */
struct fr_result {
	long calls;
	long changed;	/* a write reached a frozen page under the task */
	long lost;	/* a kept or zero page was not as written */
	long failed;	/* the call or the task failed */
};

/* Calls ob with a snapshot of area for secs seconds, r's writers on. */
static inline struct fr_result fr_calls(struct orbit *ob,
					struct orbit_area *area,
					struct freeze_race *r, double secs)
{
	struct fr_result res = { 0 };
	double end = now_us() + secs * 1e6;
	long ret;

	while (now_us() < end) {
		ret = orbit_call(ob, 1, &area, NULL, r, sizeof(*r));
		if (ret == FR_KEPT_LOST)
			res.lost++;
		else if (ret > 0)
			res.changed++;
		else if (ret)
			res.failed++;
		res.calls++;
	}
	return res;
}

#endif
