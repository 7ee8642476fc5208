// SPDX-License-Identifier: GPL-2.0
/*
 * Write fault-around: after a call has ended, main's first write to a
 * page it also wrote before the call makes the pages around it that it
 * wrote then writable too (module parameter write_around, 16 pages by
 * default), so a main that rewrites its area between calls takes one
 * fault per 16 pages, keeping its physical pages.  Pages made writable
 * that way must still be frozen by the next snapshot, whether main then
 * writes them or not: a task that reads that snapshot while main writes
 * them again sees them as they were at its call.  Then a race: two
 * writers rewrite both areas (a COW one and an auto-mode one) between
 * calls, from both ends, while a third thread zaps random blocks of main's
 * mapping (MADV_DONTNEED) and the task reads every page it is given.  And
 * a race with the calls themselves: a writer per area rewrites it round
 * after round without pause while main calls (async, the task reading
 * late), so that snapshots are taken, and write faults taken around, in
 * the middle of rewrites: each task must find every page at a round the
 * writer had finished before the call was made, or a later one it had
 * started before the call returned; never a round started after.
 * (Which of the rounds in between each page shows is not fixed: a page
 * main keeps in the overlay is copied at the start of a snapshot, others
 * are frozen at its end.)  Last, the orbit SIGKILLed while idle as main's
 * rewrite takes back the pages its view still maps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>

#include "tap.h"
#include "util.h"

#define NPAGES	256
#define PAGE	4096
#define WORDS	(PAGE / sizeof(long))
#define BLOCK	16		/* the default write_around */
#define SECONDS	6
#define PARAM	"/sys/module/orbit/parameters/write_around"

struct task_arg {
	long *base[2];
	int nareas;
	long delay_us;		/* before the task reads */
	int rounds;		/* race_calls: the rounds seen, not want */
	long want[NPAGES];	/* every word of page p holds want[p] */
};

/*
 * race_calls: the lowest and the highest round in word 0 of the pages of
 * both areas, as (highest << 32) | lowest.
 */
static long round_span(const struct task_arg *a)
{
	long lo = LONG_MAX, hi = 0, v;
	int k, p;

	for (k = 0; k < 2; k++)
		for (p = NPAGES - 1; p >= 0; p--) {
			v = ((volatile const long *)a->base[k])[p * WORDS];
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
	return hi << 32 | lo;
}

/* Words of the areas that differ from what the caller wants. */
static long check_pages(void *argbuf, void *store)
{
	const struct task_arg *a = argbuf;
	long bad = 0;
	size_t i;
	int k;

	usleep(a->delay_us);
	if (a->rounds)
		return round_span(a);
	for (k = 0; k < a->nareas; k++)
		for (i = 0; i < NPAGES * WORDS; i++)
			bad += ((volatile long *)a->base[k])[i] !=
			       a->want[i / WORDS];
	return bad;
}

static long *bases[2];
static struct task_arg arg;

/* Writes v to every word of page p of the first n areas. */
static void write_page(int n, int p, long v)
{
	size_t i;
	int k;

	for (k = 0; k < n; k++)
		for (i = 0; i < WORDS; i++)
			bases[k][p * WORDS + i] = v;
}

/* The same, and the next call's task is to find v there. */
static void fill(int n, int p, long v)
{
	write_page(n, p, v);
	arg.want[p] = v;
}

/* fill() of every page. */
static void fill_all(int n, long v)
{
	int p;

	for (p = 0; p < NPAGES; p++)
		fill(n, p, v);
}

/* Rewrites every page of area 0 with v: the minor faults it took. */
static long rewrite_all(long v)
{
	long f0 = minor_faults();

	fill_all(1, v);
	return minor_faults() - f0;
}

/*
 * Pages of area 0 that were present at pfn[p] and are now elsewhere (or
 * not present).  A snapshot zaps one page to flush the TLB: not present.
 */
static int moved_pages(const uint64_t *pfn)
{
	int p, n = 0;

	for (p = 0; p < NPAGES; p++)
		if (pfn[p] && pfn_of(bases[0] + p * WORDS) != pfn[p] &&
		    n++ < 4)
			diag("page %d moved", p);
	return n;
}

static long call_check(struct orbit *ob, struct orbit_area **areas,
		       long delay_us)
{
	arg.delay_us = delay_us;
	return orbit_call(ob, arg.nareas, areas, NULL, &arg, sizeof(arg));
}

/* Behaviour, on the COW area alone. */
static void single_thread(struct orbit *ob, struct orbit_area **areas)
{
	static uint64_t pfn[NPAGES];
	struct orbit_future *f;
	long faults, ret;
	int p, moved;

	arg.nareas = 1;
	rewrite_all(1);
	ok(call_check(ob, areas, 0) == 0, "the first call sees every page");
	for (p = moved = 0; p < NPAGES; p++) {
		pfn[p] = pfn_of(bases[0] + p * WORDS);
		moved += !pfn[p];
	}
	require(moved <= 1, "main's pages are present after the call (%d not)",
		moved);

	faults = rewrite_all(2);
	ok(faults > 0 && faults <= NPAGES / BLOCK + 4,
	   "rewriting %d pages after a call takes one fault per %d (%ld)",
	   NPAGES, BLOCK, faults);
	moved = moved_pages(pfn);
	ok(moved == 0, "main keeps its physical pages (%d moved)", moved);

	/* The snapshot freezes every page made writable around a fault. */
	arg.delay_us = 300000;
	f = orbit_call_async(ob, 0, 1, areas, NULL, &arg, sizeof(arg));
	require(f, "an async call that reads late");
	fill_all(1, 3);
	for (p = 0; p < NPAGES; p++)
		arg.want[p] = 2;
	if (orbit_future_get(f, &ret))
		ret = -1;
	ok(ret == 0, "main's writes during the call stay out of its snapshot (%ld words differ)",
	   ret);
	for (p = 0; p < NPAGES; p++)
		arg.want[p] = 3;
	ok(call_check(ob, areas, 0) == 0, "the next call sees them");

	/* Made writable but not written: frozen all the same. */
	for (p = 0; p < NPAGES; p += BLOCK)
		fill(1, p, 4);
	arg.delay_us = 300000;
	f = orbit_call_async(ob, 0, 1, areas, NULL, &arg, sizeof(arg));
	require(f, "an async call that reads late");
	for (p = 0; p < NPAGES; p++)
		if (p % BLOCK)
			bases[0][p * WORDS + p % WORDS] = 5;
	if (orbit_future_get(f, &ret))
		ret = -1;
	ok(ret == 0, "pages made writable around a fault and left unwritten are frozen by the next call (%ld words differ)",
	   ret);
	fill_all(1, 6);
	ok(call_check(ob, areas, 0) == 0, "a call after that sees every page");

	/* The kill switch. */
	require(write_file(PARAM, "0") == 0, "write_around=0");
	faults = rewrite_all(7);
	ok(faults >= NPAGES - 4, "with write_around=0 every page faults (%ld)",
	   faults);
	require(write_file(PARAM, "16") == 0, "write_around=16");
	ok(call_check(ob, areas, 0) == 0, "the call sees every page");
	ok(write_file(PARAM, "33") != 0, "write_around over 32 is refused");
}

static volatile int stop, zapping;

/* A lockstep writer's page: both areas. */
static void write_both(int p, long v)
{
	write_page(2, p, v);
}

/* Zaps random blocks of main's mapping of both areas while writers run. */
static void *zapper(void *a)
{
	unsigned int seed = 7;
	long zaps = 0;
	int k, p, n;

	while (!stop) {
		if (!zapping) {
			usleep(100);
			continue;
		}
		k = rand_r(&seed) % 2;
		p = rand_r(&seed) % NPAGES;
		n = 1 + rand_r(&seed) % BLOCK;
		if (p + n > NPAGES)
			n = NPAGES - p;
		zaps += madvise(bases[k] + p * WORDS, (size_t)n * PAGE,
				MADV_DONTNEED) == 0;
	}
	return (void *)zaps;
}

static void race(struct orbit *ob, struct orbit_area **areas)
{
	long bad = 0, ret, calls = 0, next;
	struct lockstep ls;
	pthread_t zapper_th;
	void *zaps;
	double t0;

	arg.nareas = 2;
	fill_all(2, 100);
	stop = 0;
	require(lockstep_start(&ls, write_both, NPAGES) == 0, "two writers");
	require(pthread_create(&zapper_th, NULL, zapper, NULL) == 0,
		"a zapper");
	t0 = now_us();
	while (now_us() - t0 < SECONDS * 1e6) {
		ret = call_check(ob, areas, 0);
		if (ret) {
			diag("call %ld (value %ld): %ld words differ", calls,
			     arg.want[0], ret);
			bad += ret > 0 ? ret : 1;
		}
		calls++;
		/* Between calls: both writers and main, with zaps. */
		next = arg.want[0] + 1;
		zapping = 1;
		lockstep_go(&ls, next);
		fill_all(2, next);
		lockstep_wait(&ls);
		zapping = 0;
	}
	lockstep_stop(&ls);
	stop = 1;
	pthread_join(zapper_th, &zaps);
	ok(calls >= 4 && (long)zaps > 0,
	   "%ld calls, %ld zaps raced main's rewrites", calls, (long)zaps);
	ok(bad == 0, "every task saw every page main wrote before its call (%ld)",
	   bad);
}

static long started[2], finished[2];	/* rounds, per writer */

/* Writer k rewrites word 0 of every page of area k, round after round. */
static void *rounds_writer(void *a)
{
	long k = (long)a, *base = bases[k], g;
	int p;

	for (g = 1; !stop; g++) {
		__atomic_store_n(&started[k], g, __ATOMIC_RELEASE);
		for (p = 0; p < NPAGES; p++)
			base[p * WORDS] = g;
		__atomic_store_n(&finished[k], g, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* The lower (max 0) or the higher (max 1) of the two writers' rounds. */
static long round_of(const long *v, int max)
{
	long a = __atomic_load_n(&v[0], __ATOMIC_ACQUIRE);
	long b = __atomic_load_n(&v[1], __ATOMIC_ACQUIRE);

	return (a < b) == !max ? a : b;
}

static void race_calls(struct orbit *ob, struct orbit_area **areas)
{
	long bad = 0, ret, calls = 0, lo, hi;
	struct orbit_future *f;
	pthread_t th[2];
	double t0;
	int i, p, k;

	for (k = 0; k < 2; k++)
		for (p = 0; p < NPAGES; p++)
			bases[k][p * WORDS] = 0;
	arg.rounds = 1;
	stop = 0;
	for (i = 0; i < 2; i++)
		require(pthread_create(&th[i], NULL, rounds_writer,
				       (void *)(long)i) == 0, "a writer");
	t0 = now_us();
	while (now_us() - t0 < SECONDS * 1e6) {
		arg.delay_us = calls % 3 ? 0 : 2000;
		lo = round_of(finished, 0);
		f = orbit_call_async(ob, 0, 2, areas, NULL, &arg,
				     sizeof(arg));
		hi = round_of(started, 1);
		if (!f || orbit_future_get(f, &ret) || ret < 0) {
			diag("call %ld failed", calls);
			bad++;
		} else if ((ret & 0xffffffff) < lo || ret >> 32 > hi) {
			diag("call %ld: rounds %ld..%ld, not within %ld..%ld",
			     calls, ret & 0xffffffff, ret >> 32, lo, hi);
			bad++;
		}
		calls++;
	}
	stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ok(calls >= 20, "%ld calls raced two writers' rounds", calls);
	ok(bad == 0, "no task saw a round from before its call's last finished one or after its call (%ld)",
	   bad);
}

/*
 * kill_race: the orbit's pid, SIGKILLed by killer() once main's rewrite
 * has reached page kill_page (word 0 of area 0 holds kill_v).  Timed by
 * the rewrite's progress, not the clock: under TCG one rewrite may take
 * several times another, and a kill timed from the last one's length
 * lands after the next one for most rounds of a slow stretch.
 */
static pid_t victim;
static int kill_page;
static long kill_v;
static double killed_at;	/* 0: the kill failed */

static void *killer(void *a)
{
	while (((volatile long *)bases[0])[kill_page * WORDS] != kill_v)
		;
	killed_at = kill(victim, SIGKILL) ? 0 : now_us();
	return NULL;
}

/* Waits up to 5 s for pid to be reaped: 1, or 0. */
static int pid_gone(pid_t pid)
{
	int i;

	for (i = 0; i < 5000 && kill(pid, 0) == 0; i++)
		usleep(1000);
	return i < 5000;
}

/* A call that may find the orbit dying: ESRCH once, then it restarts. */
static long call_restarting(struct orbit *ob, struct orbit_area **areas)
{
	long ret = call_check(ob, areas, 0);

	if (ret < 0 && errno == ESRCH)
		ret = call_check(ob, areas, 0);
	return ret;
}

/*
 * The orbit killed while idle, its view still mapping the pages main's
 * write fault-around takes back from the views (copy-out without a copy
 * unmaps each view's block): every round the task reads every page of
 * both areas, then main rewrites them while another thread SIGKILLs the
 * orbit, at a random point of the rewrite.  The restarted orbit's task
 * must find the rewrite, and nothing may leak or be reported.
 */
static void kill_race(void)
{
	struct orbit_area *areas[2];
	struct orbit_attr attr;
	long bad = 0, kills = 0, during = 0, rounds = 0, v = 1, ret;
	unsigned int seed = 11;
	struct orbit *ob;
	pthread_t th;
	double t0, end;
	int k;

	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	ob = orbit_create_ex("wa-kill", check_pages, NULL, &attr);
	require(ob && cow_and_auto_areas(ob, NPAGES * PAGE, areas) == 0,
		"an orbit that restarts, with a COW and an auto-mode area");
	for (k = 0; k < 2; k++)
		arg.base[k] = bases[k] = orbit_area_base(areas[k]);
	arg.nareas = 2;
	arg.rounds = 0;
	fill_all(2, v);
	require(call_check(ob, areas, 0) == 0, "the first call");
	t0 = now_us();
	while (now_us() - t0 < SECONDS * 1e6) {
		if (call_restarting(ob, areas) != 0 ||
		    procs_named("wa-kill", &victim) != 1) {
			diag("round %ld: call or orbit not found", rounds);
			bad++;
			break;
		}
		kill_v = ++v;
		/* In the first half: the rewrite has half or more to go. */
		kill_page = rand_r(&seed) % (NPAGES / 2);
		if (pthread_create(&th, NULL, killer, NULL)) {
			bad++;
			break;
		}
		fill_all(2, v);
		end = now_us();
		pthread_join(th, NULL);
		kills += killed_at != 0;
		during += killed_at != 0 && killed_at < end;
		rounds++;
		/*
		 * Reaped before the next round looks the new orbit up by
		 * name (a zombie keeps it): polled by pid, as procs_gone's
		 * /proc scans would cost the debug kernel a third or more
		 * of its rounds.
		 */
		if (!pid_gone(victim)) {
			diag("round %ld: the killed orbit %d remains", rounds,
			     victim);
			bad++;
			break;
		}
	}
	ret = call_restarting(ob, areas);
	ok(rounds >= 10 && kills == rounds && during >= 10,
	   "%ld rounds, the orbit SIGKILLed in each, %ld times while main's writes took its view's pages back",
	   rounds, during);
	ok(bad == 0 && ret == 0,
	   "every restarted orbit's task found main's last rewrite (%ld)",
	   ret);
	orbit_destroy(ob);
	orbit_area_destroy(areas[0]);
	orbit_area_destroy(areas[1]);
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *areas[2];
	struct orbit *ob;
	int i;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("write-around", check_pages, NULL);
	require(ob, "orbit_create");
	require(cow_and_auto_areas(ob, NPAGES * PAGE, areas) == 0,
		"a COW area and an auto-mode area");
	for (i = 0; i < 2; i++)
		arg.base[i] = bases[i] = orbit_area_base(areas[i]);

	single_thread(ob, areas);
	race(ob, areas);
	race_calls(ob, areas);

	orbit_destroy(ob);
	orbit_area_destroy(areas[0]);
	orbit_area_destroy(areas[1]);
	kill_race();
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
