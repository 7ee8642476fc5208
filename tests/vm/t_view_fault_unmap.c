// SPDX-License-Identifier: GPL-2.0
/*
 * Faults racing munmap of the mapping they fault on.  On 6.12 area and
 * view faults run under the per-VMA lock (module ->map_pages): the VMA,
 * and through its file the area or view, must stay pinned until a fault
 * in flight ends, whichever thread unmaps it.
 *  - In an orbit: a thread of the task reads every page of its fresh view
 *    (each read of a new block faults) while the task unmaps the view.
 *  - In a main program (a fork child, which has its own context): a thread
 *    writes every page of an area just snapshotted (write faults on frozen
 *    pages) while another unmaps the area.
 * A thread that touches the mapping after the unmap dies with SIGSEGV,
 * and with it its process: that is the expected end of a round.  Every
 * round must end that way or normally, and the harness checks the
 * module's counters and the guest's memory debugging afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

#define AREA_SIZE	(4UL << 20)
#define ROUNDS		40

struct race {
	unsigned char *base;
	unsigned long delay_us;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	volatile unsigned long sum = 0;
	size_t off;

	for (;;)
		for (off = 0; off < AREA_SIZE; off += 4096)
			sum += r->base[off];
	return NULL;
}

static void *writer(void *arg)
{
	struct race *r = arg;
	size_t off;

	for (;;)
		for (off = 0; off < AREA_SIZE; off += 4096)
			r->base[off]++;
	return NULL;
}

/* In the orbit: read the view from a thread while this one unmaps it. */
static long view_race(void *argbuf, void *store)
{
	struct race r = *(struct race *)argbuf;
	pthread_t t;

	if (pthread_create(&t, NULL, reader, &r))
		return -1;
	usleep(r.delay_us);
	return munmap(r.base, AREA_SIZE) ? -2 : 0;
	/* the reader then faults on nothing: SIGSEGV ends the process */
}

/* A fork child as a main program: write while another thread unmaps. */
static void area_race(unsigned long delay_us)
{
	struct orbit_area *area;
	struct orbit *ob;
	struct race r;
	pthread_t t;
	size_t off;

	ob = orbit_create("unmap-race-main", view_race, NULL);
	area = orbit_area_create_ex(AREA_SIZE, AREA_SIZE, 0, NULL);
	if (!ob || !area)
		_exit(2);
	r.base = orbit_area_base(area);
	for (off = 0; off < AREA_SIZE; off += 4096)
		r.base[off] = 1;
	/* A snapshot freezes every page: the writer's writes fault. */
	r.delay_us = 0;
	if (orbit_call(ob, 1, &area, NULL, &r, sizeof(r)) == -1 && errno != ESRCH)
		_exit(3);
	if (pthread_create(&t, NULL, writer, &r))
		_exit(4);
	usleep(delay_us);
	munmap(r.base, AREA_SIZE);
	usleep(1000);	/* the writer dies on its next write */
	_exit(0);
}

int main(void)
{
	struct orbit_attr attr;
	struct orbit_area *area;
	struct orbit *ob;
	struct race r;
	int i, st, ends_ok = 0, died = 0, child_ok = 0, child_segv = 0;
	long ret;
	pid_t pid;

	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	ob = orbit_create_ex("unmap-race", view_race, NULL, &attr);
	/* An area of exactly AREA_SIZE: unmapping it is unmapping all of it. */
	area = orbit_area_create_ex(AREA_SIZE, AREA_SIZE, 0, ob);
	require(ob && area, "an orbit and a 4 MiB area");
	r.base = orbit_area_base(area);
	for (i = 0; i < ROUNDS; i++) {
		size_t off;

		for (off = 0; off < AREA_SIZE; off += 4096)
			r.base[off] = (unsigned char)i;	/* every page changed */
		r.delay_us = (unsigned long)(i * 37 % 400);
		ret = orbit_call(ob, 1, &area, NULL, &r, sizeof(r));
		if (ret == 0)
			ends_ok++;
		else if (ret == -1 && errno == ESRCH)
			died++;
		else
			diag("round %d: %ld (%s)", i, ret, strerror(errno));
	}
	ok(ends_ok + died == ROUNDS,
	   "view faults vs the task's munmap: %d rounds ended, %d by SIGSEGV, none otherwise",
	   ends_ok, died);
	ok(died > 0, "the reader did fault on the unmapped view in some rounds");

	for (i = 0; i < ROUNDS / 2; i++) {
		pid = fork();
		if (pid < 0) {
			diag("fork: %s", strerror(errno));
			break;
		}
		if (pid == 0)
			area_race((unsigned long)(i * 53 % 300));
		if (waitpid(pid, &st, 0) != pid)
			continue;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			child_ok++;
		else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV)
			child_segv++;
		else
			diag("main round %d: status 0x%x", i, st);
	}
	ok(child_ok + child_segv == ROUNDS / 2,
	   "area write faults vs main's munmap: %d rounds ended, %d by SIGSEGV, none otherwise",
	   child_ok, child_segv);
	ok(child_segv > 0, "the writer did fault on the unmapped area in some rounds");

	ok(orbit_area_destroy(area) == 0 && orbit_destroy(ob) == 0, "destroyed");
	return tap_done();
}
