// SPDX-License-Identifier: GPL-2.0
/*
 * Early wakeups of a sync call's sleepers (module parameter poll_us)
 * change when a sleeper wakes, never what a call returns or what it
 * costs main:
 *  - the task sees exactly the snapshot of main's area at each call,
 *    with the task loop polling while main snapshots (prewake), with
 *    and without polling, unpinned and with both processes on one CPU;
 *  - main does not poll through tasks longer than the poll: of 200
 *    calls of 5 ms tasks with the default 500 us poll, at most one in
 *    17 has main poll and run out (the orbit backs off for 16 calls
 *    after a poll that ran out), where without the back-off all would
 *    (the module's counters polls and polls_missed);
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

#define POLL_US		"/sys/module/orbit/parameters/poll_us"
#define AREA		(4UL << 20)
#define PG		4096UL
#define CALLS		60

struct sum_arg {
	const unsigned char *base;
	unsigned int sleep_ms;
};

/* The task: a checksum of one byte per page, after an optional sleep. */
static long page_sum(void *argbuf, void *store)
{
	struct sum_arg *a = argbuf;
	unsigned long i, sum = 0;

	if (a->sleep_ms)
		usleep(a->sleep_ms * 1000);
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
	struct sum_arg arg = { p, 0 };
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
	struct orbit *ob;
	unsigned long long p0, p1, m0, m1;
	double t0;
	long ret;
	int n;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ok(write_file(POLL_US, "1000001") == -1 && errno == EINVAL,
	   "poll_us above 1 s: EINVAL");
	require(write_file(POLL_US, "500") == 0, "set poll_us");
	ob = orbit_create("poll", page_sum, NULL);
	a = ob ? orbit_area_create(AREA, ob) : NULL;
	require(a, "an orbit and a %lu MiB area", AREA >> 20);
	memset(orbit_area_base(a), 1, AREA);
	arg.base = orbit_area_base(a);

	module_polls(&p0, &m0);
	n = snapshots_seen(ob, a);
	module_polls(&p1, &m1);
	ok(n == CALLS, "poll_us=500: %d of %d calls saw their snapshot", n,
	   CALLS);
	ok(p1 - p0 >= CALLS / 2,
	   "and the sleepers polled (%llu times in %d calls)", p1 - p0, CALLS);
	require(write_file(POLL_US, "0") == 0, "set poll_us");
	n = snapshots_seen(ob, a);
	ok(n == CALLS, "poll_us=0: %d of %d calls saw their snapshot", n,
	   CALLS);

	require(write_file(POLL_US, "500") == 0, "set poll_us");
	arg.base = NULL;
	arg.sleep_ms = 5;
	module_polls(&p0, &m0);
	for (n = 0; n < 200; n++)
		orbit_call(ob, 0, NULL, NULL, &arg, sizeof(arg));
	module_polls(&p1, &m1);
	ok(p1 - p0 >= 1 && m1 - m0 <= 200 / 17 + 1,
	   "200 calls of 5 ms tasks: main polled %llu times, %llu ran out",
	   p1 - p0, m1 - m0);
	arg.base = orbit_area_base(a);

	/* Main polls (a 1 s poll, a 200 ms task) when the alarm comes. */
	require(write_file(POLL_US, "1000000") == 0, "set poll_us");
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

	require(write_file(POLL_US, "500") == 0, "set poll_us");
	arg.sleep_ms = 0;
	if (orbit_status(ob, &st) == 0 && st.pid > 0 && pin_to_cpu(0, 0) == 0 &&
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
