// SPDX-License-Identifier: GPL-2.0
/*
 * An orbit's write fault racing the install of the next call's snapshot.
 * The first task leaves a thread running in the orbit that keeps dropping
 * its PTE of the view's page (MADV_DONTNEED) and writing a word of it
 * that main never writes, so a write fault of the orbit's own copy of the
 * page is often in flight.  Each call's task reads the word main wrote
 * before the call: it must find that call's value.  An install drops the
 * orbit's copy of the page; a fault that let the copy through before must
 * not map it after the install, or the task reads the value of an older
 * call.  The window is narrow (before the fix, 1 call in 20,000 on
 * 6.12), so the calls run twice: as they come, then with the orbit's
 * write faults sleeping between choosing their page and its PTE
 * (debug_fault_delay_us), the writer keeping each PTE a while and the
 * task reading only after that sleep.  (An install maps the new page
 * itself, so a fault that sets its PTE after the install's zap mostly
 * finds it set; with that mapping left out and the drop's wait too, 103
 * and 109 of 5,000 delayed calls read an older value on 6.12 and 6.1, 0
 * of 20,000 undelayed.)  The orbit is destroyed with its writer's faults
 * still delayed: killed in the middle of one, its view must go whole.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include "tap.h"
#include "util.h"

#define PAGE		4096
#define CALLS		20000
#define BUDGET_S	60
#define DELAYED_CALLS	5000
#define DELAY_US	100

/* After each write, the writer keeps its PTE this long (set by the task). */
static volatile unsigned int writer_pause_us;

/*
 * In the orbit, for good: keeps a write fault of the page in flight.  A
 * pause keeps the PTE its fault set a while, for the task to read
 * through (without one, its next MADV_DONTNEED would drop a PTE an
 * install left stale before the task could read it).
 */
static void *writer(void *arg)
{
	volatile long *page = arg;

	pin_to_cpu(0, 1);
	for (;;) {
		madvise((void *)page, PAGE, MADV_DONTNEED);
		page[1]++;
		if (writer_pause_us)
			usleep(writer_pause_us);
	}
	return NULL;
}

struct task_arg {
	volatile long *page;
	unsigned int wait_us;	/* before reading main's word */
};

/* The task: starts the writer once, reads main's word. */
static long task(void *argbuf, void *store)
{
	const struct task_arg *a = argbuf;
	static int started;
	pthread_t th;

	(void)store;
	if (!started) {
		if (pthread_create(&th, NULL, writer, (void *)a->page))
			return -1;
		started = 1;
	}
	writer_pause_us = a->wait_us * 2;
	if (a->wait_us)
		usleep(a->wait_us);
	return a->page[0];
}

/*
 * Calls until calls or budget_s, the orbit's write faults delayed by
 * delay_us (left so for the caller to clear): how many read an older
 * value.  With faults delayed, each task waits out a write fault the
 * install raced before it reads (a read first would map the page itself,
 * and the fault would find its PTE set).
 */
static void race(struct orbit *ob, struct orbit_area *area, long calls,
		 int budget_s, unsigned int delay_us)
{
	double end = now_us() + budget_s * 1e6;
	long i, ret, stale = 0, failed = 0, first_got = 0, first_want = 0;
	struct task_arg arg = { orbit_area_base(area), 3 * delay_us };

	require(fault_delay_set(delay_us, FAULT_VIEW_WRITE) == 0,
		"set debug_fault_delay_us");
	for (i = 0; i < calls && now_us() < end; i++) {
		arg.page[0] = i + 1;
		ret = orbit_call(ob, 1, &area, NULL, &arg, sizeof(arg));
		if (ret < 0) {
			failed++;
		} else if (ret != i + 1 && !stale++) {
			first_got = ret;
			first_want = i + 1;
		}
	}
	ok(i >= 1000 && !stale && !failed,
	   "%ld calls under the orbit's racing write faults (sleeping %u us before their PTE is set): %ld read an older value (first %ld for %ld), %ld failed",
	   i, delay_us, stale, first_got, first_want, failed);
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct orbit *ob;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("install-race", task, NULL);
	area = orbit_area_create(PAGE, ob);
	require(ob && area, "orbit and area");
	pin_to_cpu(0, 0);
	race(ob, area, CALLS, BUDGET_S, 0);
	ok(param_write("debug_fault_delay_us", "1001") == -1 && errno == EINVAL,
	   "debug_fault_delay_us above 1000 is refused");
	race(ob, area, DELAYED_CALLS, BUDGET_S / 2, DELAY_US);
	orbit_area_destroy(area);
	orbit_destroy(ob);
	require(fault_delay_set(0, FAULT_VIEW_WRITE) == 0,
		"clear debug_fault_delay_us");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
