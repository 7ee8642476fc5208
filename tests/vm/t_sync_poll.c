// SPDX-License-Identifier: GPL-2.0
/*
 * Early wakeups of a sync call's sleepers (module parameter poll_us)
 * change when a sleeper wakes, never what a call returns or what it
 * costs main:
 *  - the task sees exactly the snapshot of main's area at each call,
 *    with the sleepers polling (30 polls at least: the task loop while
 *    main snapshots, main while the task runs), and without polling,
 *    unpinned and with both processes on one CPU;
 *  - main does not poll through tasks longer than the poll: of 200
 *    calls of 5 ms tasks with the default 500 us poll, at most one in
 *    17 and four more have main poll and run out (the orbit skips the
 *    early wakes of 1, 2, 4, 8 and then 16 calls after polls that ran
 *    out), where without the back-off all would (the module's counters
 *    polls and polls_missed);
 *  - one long call does not cost the short calls after it their early
 *    wakes: with main and an orbit not backing off on CPUs of their own
 *    and a 200 ms poll, of 10 calls of 20 ms tasks after a 300 ms one
 *    whose poll ran out, main polls in all but the first;
 *  - a signal ends main's poll at once: the call's result still comes
 *    back (the library collects it), and the handler ran;
 *  - poll_us is at most 1 s;
 *  - nothing leaks (the snapshot an install replaced is freed once the
 *    task has run).
 */
#define _GNU_SOURCE

#include "tap.h"
#include "polls.h"
#include "util.h"

#define AREA		(4UL << 20)
#define PG		4096UL
#define CALLS		60

struct sum_arg {
	const unsigned char *base;
	unsigned int sleep_ms;
	unsigned int spin_us;	/* on the CPU: no idle vCPU to wake */
};

/* The task: a checksum of one byte per page, after an optional wait. */
static long page_sum(void *argbuf, void *store)
{
	struct sum_arg *a = argbuf;
	unsigned long i, sum = 0;

	if (a->sleep_ms)
		usleep(a->sleep_ms * 1000);
	spin_us(a->spin_us);
	for (i = 0; a->base && i < AREA; i += PG)
		sum += a->base[i];
	return (long)sum;
}

static long expected(const unsigned char *p)
{
	unsigned long i, sum = 0;

	for (i = 0; i < AREA; i += PG)
		sum += p[i];
	return (long)sum;
}

/* CALLS calls, each after main rewrote half the area: all results right. */
static int snapshots_seen(struct orbit *ob, struct orbit_area *a)
{
	unsigned char *p = orbit_area_base(a);
	struct sum_arg arg = { .base = p };
	int r, right = 0;
	unsigned long i;

	for (r = 0; r < CALLS; r++) {
		for (i = (r % 2) * (AREA / 2); i < (r % 2 + 1) * (AREA / 2);
		     i += PG)
			p[i] = (unsigned char)(r * 7 + i / PG);
		right += orbit_call(ob, 1, &a, NULL, &arg, sizeof(arg)) ==
			 expected(p);
	}
	return right;
}

/* The calling thread's time on a CPU, in ms (the scheduler's clock). */
static double cpu_ms(void)
{
	unsigned long long ns = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (f) {
		if (fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		fclose(f);
	}
	return ns / 1e6;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_status st;
	struct orbit_area *a;
	struct sum_arg arg;
	struct orbit *ob, *fresh;
	unsigned long long p0, p1, p2, m0, m1, m2;
	double t0;
	long ret;
	int n, r, seen;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ok(param_write("poll_us", "1000001") == -1 && errno == EINVAL,
	   "poll_us above 1 s: EINVAL");
	require(param_write("poll_us", "500") == 0, "set poll_us");
	ob = orbit_create("poll", page_sum, NULL);
	a = ob ? orbit_area_create(AREA, ob) : NULL;
	require(a, "an orbit and a %lu MiB area", AREA >> 20);
	memset(orbit_area_base(a), 1, AREA);
	arg.base = orbit_area_base(a);

	/*
	 * Rounds of CALLS calls until the sleepers have polled in CALLS / 2
	 * (at most four: a busy host preempts the vCPUs, polls run out and
	 * the orbit backs off; one round is enough on an idle one).
	 */
	module_polls(&p0, &m0);
	for (r = 0, seen = 0, p1 = p0; r < 4 && p1 - p0 < CALLS / 2; r++) {
		seen += snapshots_seen(ob, a);
		module_polls(&p1, &m1);
	}
	ok(seen == r * CALLS, "poll_us=500: %d of %d calls saw their snapshot",
	   seen, r * CALLS);
	ok(p1 - p0 >= CALLS / 2,
	   "and the sleepers polled (%llu times in %d calls)", p1 - p0,
	   r * CALLS);
	require(param_write("poll_us", "0") == 0, "set poll_us");
	n = snapshots_seen(ob, a);
	ok(n == CALLS, "poll_us=0: %d of %d calls saw their snapshot", n,
	   CALLS);

	require(param_write("poll_us", "500") == 0, "set poll_us");
	arg.base = NULL;
	arg.sleep_ms = 5;
	module_polls(&p0, &m0);
	for (n = 0; n < 200; n++)
		orbit_call(ob, 0, NULL, NULL, &arg, sizeof(arg));
	module_polls(&p1, &m1);
	ok(p1 - p0 >= 1 && m1 - m0 <= 200 / 17 + 5,
	   "200 calls of 5 ms tasks: main polled %llu times, %llu ran out",
	   p1 - p0, m1 - m0);
	arg.base = orbit_area_base(a);

	/* Main polls (a 1 s poll, a 200 ms task) when the alarm comes. */
	require(param_write("poll_us", "1000000") == 0, "set poll_us");
	arg.sleep_ms = 0;
	for (n = 0; n < 17; n++)	/* past the back-off */
		orbit_call(ob, 1, &a, NULL, &arg, sizeof(arg));
	arg.sleep_ms = 200;
	t0 = cpu_ms();
	alarm_in_ms(20);
	ret = orbit_call(ob, 1, &a, NULL, &arg, sizeof(arg));
	printf("    # main's CPU during the interrupted call: %.1f ms\n",
	       cpu_ms() - t0);
	ok(ret == expected(arg.base) && alarms == 1,
	   "a signal during the poll: the handler ran (%d) and the call returned its result",
	   (int)alarms);

	/*
	 * In an orbit of its own, which no earlier call left backing off:
	 * only a poll that finds its call's end ends a back-off, and most
	 * polls end early instead, when another task is runnable on main's
	 * CPU (every few ms in the test guests, every ms with KFENCE's
	 * sampling on the debug kernels; a poll that ends late in a call
	 * looks from user space like one that found its end).  Tasks of
	 * 20 ms on the CPU, polled for up to 200 ms: main, woken early,
	 * polls through each even when the emulator stalls a vCPU for some
	 * ms.  A task of 300 ms outlasts the poll; its poll may also end
	 * early (no miss, no hit: the orbit's back-off stays as it is), so
	 * it is retried until one runs out, up to 20 times (on the 6.12
	 * debug kernel the 1st or the 3rd in six runs, and in one run none
	 * of the 5 it was retried before).
	 */
	require(param_write("poll_us", "200000") == 0, "set poll_us");
	arg.base = NULL;
	arg.sleep_ms = 0;
	fresh = orbit_create("poll-backoff", page_sum, NULL);
	require(fresh && orbit_call(fresh, 0, NULL, NULL, &arg, sizeof(arg)) == 0 &&
		orbit_status(fresh, &st) == 0 && st.pid > 0 &&
		pin_to_cpu(0, 0) == 0 && pin_to_cpu(st.pid, 1) == 0,
		"a second orbit on CPU 1, main on CPU 0");
	arg.sleep_ms = 300;
	for (n = 0, m1 = m0 = 0; n < 20 && m1 == m0; n++) {
		module_polls(&p0, &m0);
		orbit_call(fresh, 0, NULL, NULL, &arg, sizeof(arg));
		module_polls(&p1, &m1);
	}
	if (m1 != m0)
		printf("    # the poll of long call %d ran out\n", n);
	arg.sleep_ms = 0;
	arg.spin_us = 20000;
	for (n = 0; n < 10; n++)
		orbit_call(fresh, 0, NULL, NULL, &arg, sizeof(arg));
	module_polls(&p2, &m2);
	orbit_destroy(fresh);
	ok(m1 - m0 == 1 && p2 - p1 >= 8 && m2 == m1,
	   "after a 300 ms call whose poll ran out (%llu), main polled in %llu of 10 short calls (%llu ran out)",
	   m1 - m0, p2 - p1, m2 - m1);
	require(param_write("poll_us", "500") == 0, "set poll_us");
	arg.base = orbit_area_base(a);
	arg.spin_us = 0;
	if (orbit_status(ob, &st) == 0 && pin_to_cpu(0, 0) == 0 &&
	    pin_to_cpu(st.pid, 0) == 0) {
		n = snapshots_seen(ob, a);
		ok(n == CALLS, "on one CPU: %d of %d calls saw their snapshot",
		   n, CALLS);
	} else {
		ok(0, "pin main and the orbit to CPU 0");
	}
	orbit_area_destroy(a);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
