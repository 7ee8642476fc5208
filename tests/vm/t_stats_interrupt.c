// SPDX-License-Identifier: GPL-2.0
/*
 * Reading the module's counters (orbit_module_stats, ORBIT_IOC_STATS,
 * orbitctl stats: any user) waits until the snapshots dropped before it
 * are freed, so that its live counts are exact, and a signal ends that
 * wait.  An orbit that installs the snapshot of a large area after main
 * rewrote all of it (a COPY area: each snapshot holds copies) drops the
 * previous snapshot, whose pages a worker then frees for a while.  Read right after such a call, the counters
 * come once that free is done and count only the pages still held; with
 * a signal 10 ms into the same wait, the read fails with EINTR at once.
 * The wait used to be uninterruptible: another user's large drop held up
 * every reader of the counters, unkillable but by SIGKILL.  Last, a main
 * exits while such a free runs: the tree outlives its area and context.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

#define MIB	256
#define PAGE	4096
#define NPAGES	(MIB * 256L)

static long nothing(void *argbuf, void *store)
{
	return 0;
}

static void on_alarm(int sig)
{
}

static void rewrite(struct orbit_area *area, long v)
{
	long *p = orbit_area_base(area);
	long i;

	for (i = 0; i < NPAGES; i++)
		p[i * PAGE / sizeof(long)] = v;
}

/* Main rewrites the area, the orbit installs its snapshot: 0 or -1. */
static int drop_a_snapshot(struct orbit *ob, struct orbit_area *area,
			   long v)
{
	rewrite(area, v);
	return orbit_call(ob, 1, &area, NULL, NULL, 0) == 0 ? 0 : -1;
}

/*
 * An orbit and a 256 MiB COPY area (each snapshot holds its own copy of
 * every page written): 0 or -1.
 */
static int setup(struct orbit **ob, struct orbit_area **area)
{
	*ob = orbit_create("stats-intr", nothing, NULL);
	*area = *ob ? orbit_area_create_ex(NPAGES * PAGE, NPAGES * PAGE,
					   ORBIT_AREA_MODE_COPY, *ob) : NULL;
	return *area ? 0 : -1;
}

/*
 * A main whose last call dropped a snapshot exits while the worker frees
 * it: the tree outlives its area, its orbit and its context.
 */
static int exit_during_free(void)
{
	struct orbit_area *area;
	struct orbit *ob;
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(setup(&ob, &area) || drop_a_snapshot(ob, area, 1) ||
		      drop_a_snapshot(ob, area, 2) ? 1 : 0);
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value.tv_usec = 10000 };
	struct orbit_module_stats start, st;
	double t0, full_ms, intr_ms;
	struct orbit_area *area;
	struct orbit *ob;
	int ret;

	if (orbit_module_stats(&start) || sigaction(SIGALRM, &sa, NULL))
		return 1;
	if (setup(&ob, &area))
		return 1;
	ok(drop_a_snapshot(ob, area, 1) == 0 &&
	   drop_a_snapshot(ob, area, 2) == 0, "two calls on %d MiB", MIB);

	/* Without a signal: the read waits for the free. */
	ok(drop_a_snapshot(ob, area, 3) == 0, "a third call drops the second's snapshot");
	t0 = now_us();
	ret = orbit_module_stats(&st);
	full_ms = (now_us() - t0) / 1000;
	ok(ret == 0, "a read of the counters right after it succeeds (%.0f ms)",
	   full_ms);
	ok(st.pages - start.pages >= 2 * NPAGES &&
	   st.pages - start.pages < 5 * NPAGES / 2,
	   "and counts only the pages still held (%llu: main's %ld and the last snapshot's copies)",
	   (unsigned long long)(st.pages - start.pages), NPAGES);
	ok(full_ms >= 30,
	   "the free took long enough to interrupt (%.0f ms, at least 30)",
	   full_ms);

	/* With a signal 10 ms into the wait. */
	ok(drop_a_snapshot(ob, area, 4) == 0, "a fourth call drops the third's snapshot");
	t0 = now_us();
	setitimer(ITIMER_REAL, &it, NULL);
	ret = orbit_module_stats(&st);
	intr_ms = (now_us() - t0) / 1000;
	ok(ret == -1 && errno == EINTR,
	   "a read with a signal 10 ms into its wait fails with EINTR (%d, %.0f ms)",
	   ret, intr_ms);
	ok(intr_ms < 10 + full_ms / 2,
	   "at once: %.0f ms, where the wait for the free took %.0f ms",
	   intr_ms, full_ms);
	ok(orbit_module_stats(&st) == 0, "the next read succeeds");

	orbit_destroy(ob);
	orbit_area_destroy(area);
	ok(exit_during_free() == 0,
	   "a main exits right after a call that dropped a snapshot of %d MiB",
	   MIB);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
