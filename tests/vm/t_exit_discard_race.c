// SPDX-License-Identifier: GPL-2.0
/*
 * Main ends while its threads discard area pages, fault them back in and
 * snapshot them for calls: a discard waits for the faults in flight on
 * the pages it drops, and main's exit (exit_group, or SIGKILL from
 * outside) ends those faults and that discard mid-way.  Each round forks
 * a main with three such threads and ends it at a random moment; every
 * main must be gone within seconds, and afterwards no orbit survives and
 * the module's counters are back at their start values (the guest's
 * leak check and, under make soak-debug, KASAN and lockdep see the rest).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

#define ROUNDS		150
#define BUDGET_S	90
#define PAGE		4096
#define AREA_PAGES	64
#define BLOCK_PAGES	8

struct doomed {
	struct orbit *ob;
	struct orbit_area *area;
	volatile long *fixed;	/* a block no thread frees */
};

static long sum(void *argbuf, void *store)
{
	volatile long *p = *(long **)argbuf;
	long s = 0;
	int i;

	(void)store;
	for (i = 0; i < BLOCK_PAGES; i++)
		s += p[i * (PAGE / sizeof(long))];
	return s;
}

/* Allocates, writes and frees whole pages: each free discards them. */
static void *discarder(void *arg)
{
	struct doomed *d = arg;
	long n;

	for (n = 1;; n++) {
		long *p = orbit_alloc(d->area, BLOCK_PAGES * PAGE);
		int i;

		if (!p)
			continue;
		for (i = 0; i < BLOCK_PAGES; i++)
			p[i * (PAGE / sizeof(long))] = n;
		orbit_free(d->area, p);
	}
	return NULL;
}

/* Drops its PTEs of the area and faults them back, reads and writes. */
static void *faulter(void *arg)
{
	struct doomed *d = arg;
	char *base = orbit_area_base(d->area);
	long n;

	for (n = 0;; n++) {
		madvise(base, AREA_PAGES * PAGE, MADV_DONTNEED);
		for (int i = 0; i < AREA_PAGES; i++)
			(void)*(volatile long *)(base + i * PAGE);
		d->fixed[(n % BLOCK_PAGES) * (PAGE / sizeof(long))] = n;
	}
	return NULL;
}

/* Calls that snapshot the area, so frozen pages meet discards. */
static void *caller(void *arg)
{
	struct doomed *d = arg;
	long *p = (long *)d->fixed;

	for (;;) {
		orbit_call_async(d->ob, ORBIT_NOFUTURE, 1, &d->area, NULL,
				 &p, sizeof(p));
		orbit_call(d->ob, 1, &d->area, NULL, &p, sizeof(p));
	}
	return NULL;
}

static void doomed_main(int ready, unsigned int seed, int exit_itself)
{
	void *(*loops[])(void *) = { discarder, faulter, caller };
	struct doomed d;
	pthread_t th;
	size_t i;

	d.ob = orbit_create("exit-discard", sum, NULL);
	d.area = orbit_area_create(AREA_PAGES * PAGE, d.ob);
	if (!d.ob || !d.area)
		_exit(1);
	d.fixed = orbit_alloc(d.area, BLOCK_PAGES * PAGE);
	if (!d.fixed)
		_exit(1);
	for (i = 0; i < sizeof(loops) / sizeof(loops[0]); i++)
		if (pthread_create(&th, NULL, loops[i], &d))
			_exit(1);
	if (write(ready, "x", 1) != 1)
		_exit(1);
	if (!exit_itself)
		pause();
	usleep(rand_r(&seed) % 20000);
	exit(0);	/* exit_group with every thread mid-loop */
}

int main(void)
{
	struct orbit_module_stats start;
	int r, started = 0, hung = 0, bad_exit = 0;
	unsigned int seed = 7;
	double end = now_us() + BUDGET_S * 1e6;

	require(orbit_module_stats(&start) == 0, "read module counters");
	for (r = 0; r < ROUNDS && now_us() < end; r++) {
		int p[2], status, itself = r % 2;
		unsigned int child_seed = rand_r(&seed);
		pid_t pid;
		char c;

		pid = fork_piped(p);
		if (pid < 0)
			break;
		if (pid == 0)
			doomed_main(p[1], child_seed, itself);
		if (read(p[0], &c, 1) == 1)
			started++;
		close(p[0]);
		if (!itself) {
			usleep(rand_r(&seed) % 20000);
			kill(pid, SIGKILL);
		}
		if (wait_child_ms(pid, 10000, &status))
			hung++;
		else if (itself ? !WIFEXITED(status) || WEXITSTATUS(status) :
			   !WIFSIGNALED(status))
			bad_exit++;
	}
	ok(started == r && r >= 20,
	   "%d of %d mains started their discard, fault and call threads", started, r);
	ok(!hung, "every main ended within 10 s of its exit or kill (%d did not)", hung);
	ok(!bad_exit, "each main ended as it was made to (%d did not)", bad_exit);
	ok(procs_gone("exit-discard"), "no orbit outlives its main");
	ok(procs_gone("orbit-spawner") && procs_gone("orbit-spare") &&
	   procs_gone("orbit-forker"), "spawners, forkers and spares are gone");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
