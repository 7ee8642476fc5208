// SPDX-License-Identifier: GPL-2.0
/*
 * Direct calls under contention: four threads make async and sync calls to
 * one direct orbit as fast as they can, each writing its own word of the
 * area before each call; every call's result is its own (the argument it was
 * made with and the area as it was at the call), never another call's, and
 * none fails, while another thread wakes the ring's futexes all the time: a
 * wakeup is only a hint (main's thread can be preempted between posting a
 * call and waking the orbit, whose wakeup then comes late), and must never
 * make the orbit run a slot nobody posted, or main read an answer not given.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "tap.h"
#include "util.h"

#define THREADS	4
#define CALLS	3000

struct arg {
	long *words;
	int who;
	long n;
};

static long echo_task(void *argbuf, void *store)
{
	struct arg *a = argbuf;

	/* Its own word must hold the n the call was made with. */
	return a->words[a->who] == a->n ? a->who * 1000000L + a->n : -1;
}

static volatile int stop_waking;

/* The ring in main's address space, found in /proc/self/maps. */
static uint32_t *find_ring(void)
{
	char line[512];
	unsigned long lo, hi;
	FILE *f = fopen("/proc/self/maps", "r");
	uint32_t *p = NULL;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "orbit-ring") &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			p = (uint32_t *)lo;
			break;
		}
	if (f)
		fclose(f);
	return p;
}

/* Wakes the ring's two counters (words 1 and 2) as fast as it can. */
static void *waker(void *ring)
{
	uint32_t *w = ring;
	long n = 0;

	while (!stop_waking) {
		syscall(SYS_futex, &w[1], FUTEX_WAKE, 1, NULL, NULL, 0);
		syscall(SYS_futex, &w[2], FUTEX_WAKE, 1, NULL, NULL, 0);
		n++;
	}
	return (void *)n;
}

static struct orbit *ob;
static struct orbit_area *area;
static long *words;
static int bad[THREADS];

static void note(int who, long i, long got, int sync)
{
	if (bad[who]++ < 3)
		diag("thread %d call %ld (%s): got %ld, errno %d", who, i,
		     sync ? "sync" : "async", got, errno);
}

static void *caller(void *p)
{
	int who = (int)(long)p;
	struct orbit_future *f;
	struct arg a = { words, who, 0 };
	long got, i;

	for (i = 1; i <= CALLS; i++) {
		a.n = i;
		words[who] = i;
		if (i % 3) {
			f = orbit_call_async(ob, 0, 1, &area, NULL, &a,
					     sizeof(a));
			words[who] = -i;	/* after the call: unseen */
			got = -7;
			if (!f || orbit_future_get(f, &got) ||
			    got != who * 1000000L + i)
				note(who, i, got, 0);
		} else {
			got = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
			if (got != who * 1000000L + i)
				note(who, i, got, 1);
		}
	}
	return NULL;
}

int main(void)
{
	pthread_t th[THREADS], wk;
	struct orbit_attr attr;
	uint32_t *ring;
	void *wakes;
	int i, sum = 0;

	orbit_attr_init(&attr);
	attr.flags = ORBIT_DIRECT;
	ob = orbit_create_ex("stress", echo_task, NULL, &attr);
	require(ob, "create a direct orbit");
	area = orbit_area_create(1 << 20, ob);
	words = area ? orbit_alloc(area, THREADS * sizeof(long)) : NULL;
	require(words, "its area");
	ring = find_ring();
	require(ring, "find the ring in main's memory");
	pthread_create(&wk, NULL, waker, ring);
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, caller, (void *)(long)i);
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		sum += bad[i];
	}
	stop_waking = 1;
	pthread_join(wk, &wakes);
	ok(sum == 0, "%d calls from %d threads: every result its own (%d not)",
	   THREADS * CALLS, THREADS, sum);
	diag("%ld rounds of spurious wakeups meanwhile", (long)wakes);
	orbit_destroy(ob);
	return tap_done();
}
