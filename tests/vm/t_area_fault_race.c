// SPDX-License-Identifier: GPL-2.0
/*
 * A read fault of main's racing a discard of its page.  One thread keeps
 * dropping its PTE of an area page (MADV_DONTNEED) and reading the page
 * again, so a read fault of it is nearly always in flight; the main
 * thread writes the page, discards it (ORBIT_IOC_AREA_DISCARD) and reads
 * it back.  After the discard has returned, main must read zeros: a
 * fault that looked the page up before the discard must not map it after
 * the discard has zapped main's PTEs (the page is no longer the area's).
 * The same holds for a page a copy-on-write replaced: the fault of a
 * page that main's write has just copied must not map the old page once
 * the new one is main's.  Second phase: with a call's snapshot live each
 * round, main writes the page (the write copies it), drops its PTE and
 * reads its value back.  (Before the fix, 4,330..6,160 of 20,000
 * discards read data back; the second phase never failed: its window is
 * a fault stalled across main's write and the drop of its PTE.)  The
 * discards run again with the reader's faults stalled between choosing
 * their page and its PTE (debug_fault_delay_us), the reader keeping each
 * PTE a while: a fault that chose the page before a discard then maps it
 * after the discard's zap unless the discard waits for it.  (With the
 * fault's page lock dropped before its PTE: 18 of 20,000 undelayed
 * discards read data back on 6.12, 93 on 6.1; 271 and 220 of 5,000
 * delayed.)  Last, a main exits while a delayed fault of its is asleep.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "fault_race.h"

#define PAGE		4096
#define DISCARDS	20000
#define DISCARD_DELAY_US	200
#define COW_ROUNDS	3000
#define BUDGET_S	60

static void discard_phase(long discards, int budget_s, unsigned int delay_us)
{
	long i, stale = 0, failed = 0, first = 0;
	double end = now_us() + budget_s * 1e6;
	struct fault_race fr = { 0 };

	require(fault_race_start(&fr, delay_us) == 0,
		"a one-page area and a thread faulting it in");
	for (i = 0; i < discards && now_us() < end; i++) {
		long v;

		*fr.r.page = i + 1;
		if (one_page_discard(fr.fd, fr.id)) {
			failed++;
			continue;
		}
		v = *fr.r.page;
		if (v && !stale++)
			first = v;
	}
	require(fault_race_stop(&fr) == 0,
		"stop the thread, clear debug_fault_delay_us");
	ok(!stale && !failed,
	   "%ld discards under %ld racing read faults (sleeping %u us before their PTE is set): %ld read back data (first %ld), %ld failed",
	   i, fr.r.reads, delay_us, stale, first, failed);
}

/* The task: holds the snapshot live a little while. */
static long idle(void *argbuf, void *store)
{
	(void)argbuf;
	(void)store;
	usleep(200);
	return 0;
}

static void cow_phase(void)
{
	struct orbit_module_stats start;
	long i, lost = 0, failed = 0;
	double end = now_us() + BUDGET_S * 1e6;
	struct orbit_area *area;
	struct fault_reader r = { 0 };
	struct orbit *ob;
	pthread_t th;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("cow-fault-race", idle, NULL);
	area = orbit_area_create(PAGE, ob);
	require(ob && area, "orbit and area");
	r.page = orbit_area_base(area);
	*r.page = 1;
	require(pthread_create(&th, NULL, fault_reader_loop, &r) == 0, "reader");
	for (i = 0; i < COW_ROUNDS && now_us() < end; i++) {
		struct orbit_future *f;
		long v = i + 2;

		/* The call snapshots the page: main's write next copies it. */
		f = orbit_call_async(ob, 0, 1, &area, NULL, NULL, 0);
		if (!f) {
			failed++;
			break;
		}
		*r.page = v;
		madvise((void *)r.page, PAGE, MADV_DONTNEED);
		if (*r.page != v)
			lost++;
		if (orbit_future_get(f, NULL))
			failed++;
	}
	atomic_store(&r.stop, 1);
	pthread_join(th, NULL);
	ok(!lost && !failed,
	   "%ld writes to a page a live call froze, under %ld racing read faults: %ld read back older data, %ld calls failed",
	   i, r.reads, lost, failed);
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
}

/*
 * Main exits while its reader is inside a delayed fault (the page
 * locked, the PTE not yet set): _exit skips the atexit that would clear
 * the delay, so the fault is still asleep when the process dies.  Its
 * context and area must go whole.
 */
static void exit_mid_fault(void)
{
	struct orbit_module_stats start;
	struct fault_race fr = { 0 };
	int status = -1;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	pid = fork();
	if (pid == 0) {
		if (fault_race_start(&fr, 1000))
			_exit(1);
		usleep(20000);
		_exit(0);
	}
	require(pid > 0 && waitpid(pid, &status, 0) == pid,
		"a main that exits mid-fault");
	require(fault_delay_set(0, FAULT_AREA_READ) == 0,
		"clear debug_fault_delay_us");
	ok(WIFEXITED(status) && !WEXITSTATUS(status) &&
	   counters_back_to(&start),
	   "main exiting in the middle of a delayed fault leaves nothing behind");
}

int main(void)
{
	discard_phase(DISCARDS, BUDGET_S, 0);
	discard_phase(DISCARDS / 4, BUDGET_S / 2, DISCARD_DELAY_US);
	cow_phase();
	exit_mid_fault();
	return tap_done();
}
