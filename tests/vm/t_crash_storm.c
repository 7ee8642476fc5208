// SPDX-License-Identifier: GPL-2.0
/*
 * A null-pointer dereference at a random point of a task, while 8 threads
 * issue calls: 1,000 crashes.  Every call ends with its correct result or
 * ESRCH (never a hang, never a wrong value), the orbit is restarted each
 * time, main gets no signal, and nothing leaks.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "tap.h"
#include "util.h"

#define THREADS	8
#define CRASHES	1000

static struct orbit *ob;
static struct orbit_area *area;
static long *table;	/* set after the orbit exists: passed by argument */
static int crashes, wrong, other_err, done_calls, signals;
static struct orbit_module_stats start;

/* Orbit deaths the module saw since the test started. */
static long deaths_so_far(void)
{
	struct orbit_module_stats now;

	if (orbit_module_stats(&now))
		return CRASHES;	/* cannot tell: stop */
	return (long)(now.orbit_deaths - start.orbit_deaths);
}
static int errs[140];

static void on_signal(int sig)
{
	__atomic_add_fetch(&signals, 1, __ATOMIC_RELAXED);
}

struct walk_arg {
	long n, crash_at;
	long *table;
};

/* Sums table[0..n); crashes at step `crash_at` if it is in range. */
static long walk(void *argbuf, void *store)
{
	struct walk_arg *a = argbuf;
	long n = a->n, crash_at = a->crash_at, *table = a->table, sum = 0;
	long i;

	for (i = 0; i < n; i++) {
		if (i == crash_at)
			*(volatile long *)NULL = i;
		sum += table[i];
	}
	return sum;
}

static void *worker(void *p)
{
	unsigned int seed = (unsigned int)(long)p;

	while (deaths_so_far() < CRASHES) {
		long ret, n = 64 + rand_r(&seed) % 64;
		struct walk_arg arg = { n, -1, table };

		/* About one call in four crashes, at a random step. */
		if (!(rand_r(&seed) % 4))
			arg.crash_at = rand_r(&seed) % n;
		ret = orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg));
		__atomic_add_fetch(&done_calls, 1, __ATOMIC_RELAXED);
		if (ret == -1 && errno == ESRCH)
			__atomic_add_fetch(&crashes, 1, __ATOMIC_RELAXED);
		else if (ret == -1 && errno) {
			__atomic_add_fetch(&other_err, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&errs[errno < 140 ? errno : 0], 1,
					   __ATOMIC_RELAXED);
		}
		else if (ret != n * (n - 1) / 2)
			__atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(void)
{
	struct orbit_module_stats end;
	struct orbit_attr attr;
	pthread_t th[THREADS];
	double t0;
	long i;

	require(orbit_module_stats(&start) == 0, "read module counters");
	signal(SIGCHLD, on_signal);
	signal(SIGSEGV, on_signal);
	signal(SIGPIPE, on_signal);
	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	ob = orbit_create_ex("storm", walk, NULL, &attr);
	area = orbit_area_create(1 << 20, ob);
	require(ob && area, "orbit (restart always) and area");
	table = orbit_alloc(area, 128 * sizeof(long));
	for (i = 0; i < 128; i++)
		table[i] = i;

	t0 = now_us();
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)(i + 1));
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	orbit_module_stats(&end);
	diag("%d calls, %d failed with ESRCH, %llu orbit deaths, %llu failed installs in %.1f s",
	     done_calls, crashes,
	     (unsigned long long)(end.orbit_deaths - start.orbit_deaths),
	     (unsigned long long)(end.install_failures - start.install_failures),
	     (now_us() - t0) / 1e6);
	ok(end.orbit_deaths - start.orbit_deaths >= CRASHES,
	   "%llu crashes", (unsigned long long)(end.orbit_deaths - start.orbit_deaths));
	ok(wrong == 0, "every other call returned its correct result (%d wrong)",
	   wrong);
	for (i = 0; i < 140; i++)
		if (errs[i])
			diag("%d calls failed with %s", errs[i], strerror((int)i));
	ok(other_err == 0, "no call failed otherwise (%d)", other_err);
	{
		struct walk_arg arg = { 10, -1, table };

		ok(orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg)) == 45,
		   "the restarted orbit still answers");
	}
	ok(signals == 0, "main received no signal (%d)", signals);
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
