// SPDX-License-Identifier: GPL-2.0
/*
 * Killing an orbit while it takes a call: a loop of "issue a call, then
 * orbit_destroy" (fire and forget, and with a future whose get then
 * reports ESRCH), and an orbit with a restart policy killed through
 * orbitctl's path (SIGKILL) while calls stream in.  The orbit dies in
 * every phase of its task loop (waiting, installing a snapshot of many
 * changed pages, running); the guest's memory debugging must see nothing,
 * every future ends with the task's value or ESRCH, and nothing leaks.
 */
#include <signal.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

#define PAGES	256
/*
 * Each loop runs secs seconds and at least MIN_ROUNDS rounds (kills), up
 * to ten times secs: a kernel with memory debugging on over-committed
 * vCPUs (make soak-debug SOAK_CPUS=4) makes fewer than 20 rounds in 4 s.
 */
#define MIN_ROUNDS	21

static long touch(void *argbuf, void *store)
{
	volatile char *p = *(char **)argbuf;
	long sum = 0;
	int i;

	for (i = 0; i < PAGES; i++)
		sum += p[i * 4096];
	return sum;
}

/* Main changes every page, so each call installs PAGES changed pages. */
static void dirty(char *p, int round)
{
	int i;

	for (i = 0; i < PAGES; i++)
		p[i * 4096] = (char)(round + i);
}

static void destroy_loop(double secs, int with_future)
{
	struct orbit_module_stats start;
	int rounds = 0, bad = 0;
	double t0 = now_us(), end = t0 + secs * 1e6, last = t0 + secs * 1e7;

	require(orbit_module_stats(&start) == 0, "read module counters");
	while (now_us() < end || (rounds < MIN_ROUNDS && now_us() < last)) {
		struct orbit *ob = orbit_create("killrace", touch, NULL);
		struct orbit_area *area = orbit_area_create(PAGES * 4096, ob);
		struct orbit_future *f[4];
		char *p;
		long v;
		int i;

		if (!ob || !area) {
			bad++;
			break;
		}
		p = orbit_alloc(area, PAGES * 4096 - 64);
		for (i = 0; i < 4; i++) {
			dirty(p, rounds + i);
			f[i] = orbit_call_async(ob, with_future ? 0 :
						ORBIT_NOFUTURE, 1, &area,
						NULL, &p, sizeof(p));
			if (with_future && !f[i])
				bad++;
		}
		/* Let the orbit get into the loop some of the time. */
		if (rounds % 3)
			usleep(rounds % 7 * 100);
		if (orbit_destroy(ob))
			bad++;
		for (i = 0; with_future && i < 4; i++)
			if (f[i] && orbit_future_get(f[i], &v) && errno != ESRCH)
				bad++;
		orbit_area_destroy(area);
		rounds++;
	}
	ok(!bad && rounds >= MIN_ROUNDS, "%d rounds of calls then destroy (%s): every call ends with its value or ESRCH",
	   rounds, with_future ? "futures" : "fire and forget");
	ok(counters_back_to(&start), "module counters back to their start values");
}

static void sigkill_loop(double secs)
{
	struct orbit_module_stats start;
	struct orbit_attr attr;
	struct orbit_area *area;
	struct orbit *ob;
	int calls = 0, bad = 0, kills = 0;
	double t0 = now_us(), end = t0 + secs * 1e6, last = t0 + secs * 1e7;
	char *p;

	require(orbit_module_stats(&start) == 0, "read module counters");
	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	ob = orbit_create_ex("killrace-sig", touch, NULL, &attr);
	area = orbit_area_create(PAGES * 4096, ob);
	require(ob && area, "an orbit that restarts");
	p = orbit_alloc(area, PAGES * 4096 - 64);
	while (now_us() < end || (kills < MIN_ROUNDS && now_us() < last)) {
		struct orbit_future *f;
		pid_t pid;
		long v;

		dirty(p, calls);
		f = orbit_call_async(ob, 0, 1, &area, NULL, &p, sizeof(p));
		if (!f) {
			bad++;
			continue;
		}
		if (calls % 2 && procs_named("killrace-sig", &pid) > 0 &&
		    kill(pid, SIGKILL) == 0)
			kills++;
		if (orbit_future_get(f, &v) && errno != ESRCH)
			bad++;
		calls++;
	}
	ok(!bad && kills >= MIN_ROUNDS, "%d calls, %d SIGKILLs of the orbit mid-call: each ends with its value or ESRCH",
	   calls, kills);
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
}

int main(void)
{
	destroy_loop(4, 0);
	destroy_loop(4, 1);
	sigkill_loop(4);
	return tap_done();
}
