// SPDX-License-Identifier: GPL-2.0
/*
 * A task that does to its own view whatever a process may do to a
 * mapping, while two of its threads read and write the view: mprotect of
 * the whole view (none, read, read-write, with exec), MADV_DONTNEED,
 * MADV_POPULATE_READ and _WRITE, MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT,
 * MADV_COLLAPSE, mlock, msync, mremap and partial munmap (refused), and
 * MADV_DOFORK then fork (the child's copy maps nothing).  The orbit is
 * the part of the program that may misbehave: none of it may reach main
 * or the kernel.  Every read of a page nobody writes sees the value main
 * wrote before the call, through all of it; the orbit never dies; the
 * next call installs its snapshot as usual; the module's counters return
 * to their start.  The harness fails the run on any kernel report.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25	/* Linux 6.1; glibc 2.36's headers lack it */
#endif

#define PAGE		4096
#define NPAGES		256
#define NCHECKED	128	/* read only; the rest the task writes */
#define CALLS		30
#define MANGLE_US	60000
#define WORDS		(PAGE / sizeof(long))

struct run {
	volatile long *base;
	long round;
	atomic_int stop;
	atomic_long bad;	/* reads of a checked page not of the round */
	volatile long reads, writes;	/* read by the task as they run */
};

static void *reader(void *arg)
{
	struct run *r = arg;
	long i;

	for (i = 0; !atomic_load(&r->stop); i++) {
		if (r->base[(i % NCHECKED) * WORDS] != r->round)
			atomic_fetch_add(&r->bad, 1);
		r->reads++;
	}
	return NULL;
}

static void *writer(void *arg)
{
	struct run *r = arg;
	long i;

	for (i = 0; !atomic_load(&r->stop); i++) {
		r->base[(NCHECKED + i % (NPAGES - NCHECKED)) * WORDS] = i;
		r->writes++;
	}
	return NULL;
}

/* The child of a fork with the view inheritable: its read must fail. */
static int fork_reads(volatile long *base)
{
	int st;
	pid_t pid;

	if (mprotect((void *)base, NPAGES * PAGE, PROT_READ | PROT_WRITE) ||
	    madvise((void *)base, NPAGES * PAGE, MADV_DOFORK))
		return -1;
	pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		_exit(base[0] == 0 ? 3 : 4);
	}
	madvise((void *)base, NPAGES * PAGE, MADV_DONTFORK);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS ? 0 : -1;
}

static const int prots[] = {
	PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
	PROT_READ | PROT_WRITE | PROT_EXEC,
};

static const int advice[] = {
	MADV_DONTNEED, MADV_POPULATE_READ, MADV_POPULATE_WRITE,
	MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT, MADV_COLLAPSE,
};

/* One thing done to the view (*what); -1 if what must work did not. */
static int mangle_once(volatile long *base, unsigned int *seed, int *what)
{
	void *v = (void *)base;
	size_t len = NPAGES * PAGE;
	int prot;

	*what = rand_r(seed) % 7;
	switch (*what) {
	case 0:
		prot = prots[rand_r(seed) % 4];
		/* Exec may be refused: the module's files are noexec. */
		return mprotect(v, len, prot) && !(prot & PROT_EXEC) ? -1 : 0;
	case 1:
		madvise(v, len, advice[rand_r(seed) % 7]);	/* may refuse */
		return 0;
	case 2:
		if (mlock(v, len / 2) == 0)
			munlock(v, len / 2);
		return 0;
	case 3:
		msync(v, len, rand_r(seed) % 2 ? MS_SYNC : MS_ASYNC);
		return 0;
	case 4:
		/*
		 * Moved or cut, a view would no longer be at its address.
		 * (An mprotect that changes nothing succeeds on any part.)
		 */
		if (mprotect(v, len, PROT_READ | PROT_WRITE) ||
		    mremap(v, len, len / 2, 0) != MAP_FAILED ||
		    munmap(v, PAGE) == 0 || mprotect(v, PAGE, PROT_READ) == 0)
			return -1;
		return 0;
	case 5:
		return fork_reads(base);
	default:
		return mprotect(v, len, PROT_READ | PROT_WRITE);
	}
}

/* The task: its failures, counted; 0 if all went as it must. */
static long mangle(void *argbuf, void *store)
{
	struct run r = { .base = *(long **)argbuf };
	unsigned int seed = (unsigned int)r.base[NPAGES * WORDS - 1];
	double end = now_us() + MANGLE_US;
	long failed = 0, i;
	pthread_t th[2];

	(void)store;
	r.round = r.base[0];
	/* An access while the view is inaccessible or read-only is retried. */
	if (segv_retry_in((void *)r.base, NPAGES * PAGE) ||
	    pthread_create(&th[0], NULL, reader, &r) ||
	    pthread_create(&th[1], NULL, writer, &r))
		return 100000;
	while (now_us() < end) {
		int what;

		if (mangle_once(r.base, &seed, &what)) {
			failed++;
			fprintf(stderr, "mangle: op %d did not do what it must\n", what);
		}
	}
	if (mprotect((void *)r.base, NPAGES * PAGE, PROT_READ | PROT_WRITE))
		failed++;
	/* On a slow (debug) kernel a thread may not have run yet: up to 5 s. */
	end = now_us() + 5e6;
	while ((!r.reads || !r.writes) && now_us() < end)
		usleep(1000);
	atomic_store(&r.stop, 1);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	for (i = 0; i < NCHECKED; i++)
		if (r.base[i * WORDS] != r.round)
			failed++;
	return failed * 1000 + (atomic_load(&r.bad) ? 1 : 0) +
	       (!r.reads || !r.writes ? 2 : 0);
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_status st = { 0 };
	struct orbit_area *area;
	long *base, ret, bad = 0, first = 0;
	struct orbit *ob;
	int c, i;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("view-mangle", mangle, NULL);
	area = orbit_area_create_ex(NPAGES * PAGE, NPAGES * PAGE, 0, ob);
	require(ob && area, "an orbit and a %d-page area", NPAGES);
	base = orbit_area_base(area);
	for (c = 1; c <= CALLS; c++) {
		for (i = 0; i < NPAGES; i++)
			base[i * WORDS] = c;
		base[NPAGES * WORDS - 1] = c * 7919;	/* the task's seed */
		ret = orbit_call(ob, 1, &area, NULL, &base, sizeof(base));
		if (ret && !bad++)
			first = c;
		if (ret)
			diag("call %d returned %ld", c, ret);
	}
	orbit_status(ob, &st);
	ok(!bad,
	   "%d calls whose task mangled its view while its threads used it: %ld went wrong (first: call %ld)",
	   CALLS, bad, first);
	ok(st.last_death == ORBIT_DIED_NEVER && !st.restarts,
	   "the orbit never died (last death %d, signal or status %d)",
	   st.last_death, st.last_death_code);
	for (i = 0; i < NPAGES; i++)
		base[i * WORDS] = -1;
	base[NPAGES * WORDS - 1] = 1;
	ok(orbit_call(ob, 1, &area, NULL, &base, sizeof(base)) == 0,
	   "a later call's task sees main's new data");
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
