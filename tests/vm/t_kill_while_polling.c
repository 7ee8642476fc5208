// SPDX-License-Identifier: GPL-2.0
/*
 * Killing an orbit while its task loop polls for a call it was prewoken
 * for (poll_us): main, with many pages to snapshot, wakes the sleeping
 * loop before it snapshots, and the loop spins on its CPU until the call
 * comes.  A SIGKILL then must end the poll and the loop at once: the
 * call main queues next ends with the task's value (the orbit restarts)
 * or ESRCH, never hangs, the orbit serves the calls after, the guest's
 * memory debugging sees nothing and nothing leaks.  Main's snapshot
 * takes 15 ms or more; a second thread kills the orbit as soon as it sees
 * it on its CPU (state R) while main is still inside the call.  Not every
 * kill lands there (an idle vCPU can take a while to run the woken loop,
 * a poll ends as soon as anything else wants its CPU: KFENCE's timer,
 * with the guest's memory debugging; and the faster the machine, the
 * shorter the window), so rounds go on until IN_POLL kills did, which
 * must take at most MAX_ROUNDS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>

#include "tap.h"
#include "util.h"

#define AREA		(64UL << 20)
#define PG		4096UL
#define IN_POLL		10
#define MAX_ROUNDS	100

static unsigned char *base;
static sem_t go, done;
static volatile pid_t target;
static volatile int in_call, quit;
static int in_poll, kills;

/* The task: a checksum of one byte per page. */
static long page_sum(void *argbuf, void *store)
{
	const unsigned char *p = *(unsigned char **)argbuf;
	unsigned long i, sum = 0;

	for (i = 0; i < AREA; i += PG)
		sum += p[i];
	return (long)sum;
}

/* The process state letter of pid (R, S, D, Z...), or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] == ' ' ? p[2] : 0;
}

/*
 * Beside main on CPU 0: once main is inside its call (snapshotting), looks
 * whether the orbit runs on CPU 1, which it only does polling, and kills it.
 */
static void *killer(void *unused)
{
	double t;

	pin_to_cpu(0, 0);
	for (;;) {
		sem_wait(&go);
		if (quit)
			return NULL;
		/*
		 * Sleeping between looks, so that main runs and snapshots:
		 * the kill as soon as the orbit is seen on its CPU while main
		 * is in its call, else once main is out of it.
		 */
		t = now_us();
		while (!in_call && now_us() < t + 100000)
			usleep(50);
		while (in_call) {
			if (proc_state(target) == 'R') {
				in_poll++;
				break;
			}
			usleep(100);
		}
		if (kill(target, SIGKILL) == 0)
			kills++;
		sem_post(&done);
	}
}

/*
 * Brings the orbit up (the first call after a kill starts a new process),
 * pins it to CPU 1 and has its loop wait there: true when it did.
 */
static bool ready_on_cpu1(struct orbit *ob, struct orbit_area *a,
			  struct orbit_status *st)
{
	int i;

	for (i = 0; i < 3; i++)
		if (orbit_call(ob, 1, &a, NULL, &base, sizeof(base)) >= 0)
			break;
	return i < 3 && orbit_status(ob, st) == 0 && st->pid > 0 &&
	       pin_to_cpu(st->pid, 1) == 0 &&
	       orbit_call(ob, 1, &a, NULL, &base, sizeof(base)) >= 0;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_attr attr;
	struct orbit_status st;
	struct orbit_area *a;
	struct orbit *ob;
	pthread_t thr;
	unsigned long i, sum;
	int r, rounds, bad = 0, fails = 0, right = 0;
	double t0, call_us = 0;
	long v;

	require(orbit_module_stats(&start) == 0, "read module counters");
	require(param_write("poll_us", "1000000") == 0, "set poll_us to 1 s");
	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	ob = orbit_create_ex("pollkill", page_sum, NULL, &attr);
	a = ob ? orbit_area_create(AREA, ob) : NULL;
	require(a, "an orbit that restarts, and a %lu MiB area", AREA >> 20);
	base = orbit_area_base(a);
	memset(base, 1, AREA);
	require(pin_to_cpu(0, 0) == 0, "pin main to CPU 0");
	sem_init(&go, 0, 0);
	sem_init(&done, 0, 0);
	require(pthread_create(&thr, NULL, killer, NULL) == 0, "a killer");

	for (rounds = 0; rounds < MAX_ROUNDS && in_poll < IN_POLL; rounds++) {
		struct orbit_future *f;

		/* A live, idle loop on CPU 1, waiting for a call. */
		if (!ready_on_cpu1(ob, a, &st)) {
			bad++;
			continue;
		}
		target = st.pid;
		usleep(2000);
		/* Every page changed: main prewakes the loop, which polls. */
		for (i = 0, sum = 0; i < AREA; i += PG) {
			base[i] = (unsigned char)(rounds + i / PG);
			sum += base[i];
		}
		sem_post(&go);
		t0 = now_us();
		in_call = 1;
		f = orbit_call_async(ob, 0, 1, &a, NULL, &base, sizeof(base));
		in_call = 0;
		call_us += now_us() - t0;
		sem_wait(&done);
		if (!f || (orbit_future_get(f, &v) ? errno != ESRCH :
			   v != (long)sum))
			fails++;
	}
	quit = 1;
	sem_post(&go);
	pthread_join(thr, NULL);
	printf("    # %d rounds, %d could not start, %d calls failed otherwise; calls took %.0f us on average\n",
	       rounds, bad, fails, call_us / rounds);
	ok(!bad && !fails && kills == rounds,
	   "%d SIGKILLs of an orbit prewoken for a call: each call ends with its value or ESRCH",
	   kills);
	ok(in_poll >= IN_POLL,
	   "%d of %d kills found the orbit on its CPU while main snapshotted (%d wanted, in %d rounds at most)",
	   in_poll, rounds, IN_POLL, MAX_ROUNDS);
	for (r = 0; r < 5; r++)
		right += orbit_call(ob, 1, &a, NULL, &base, sizeof(base)) ==
			 page_sum(&base, NULL);
	ok(right == 5, "the restarted orbit serves calls: %d of 5 right",
	   right);
	param_write("poll_us", "500");
	orbit_area_destroy(a);
	orbit_destroy(ob);
	ok(procs_gone("pollkill"), "no orbit process remains");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
