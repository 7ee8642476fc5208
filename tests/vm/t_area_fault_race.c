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
 * a fault stalled across main's write and the drop of its PTE.)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

#define PAGE		4096
#define DISCARDS	20000
#define COW_ROUNDS	3000
#define BUDGET_S	60

struct reader {
	volatile long *page;
	atomic_int stop;
	long reads;
};

/* Keeps a read fault of the page in flight, or nearly. */
static void *read_loop(void *arg)
{
	struct reader *r = arg;

	pin_to_cpu(0, 1);
	while (!atomic_load(&r->stop)) {
		madvise((void *)r->page, PAGE, MADV_DONTNEED);
		(void)*r->page;
		r->reads++;
	}
	return NULL;
}

static int discard(int fd, uint32_t id)
{
	struct orbit_area_discard d = { .id = id, .len = PAGE };

	return ioctl(fd, ORBIT_IOC_AREA_DISCARD, &d);
}

static void discard_phase(void)
{
	struct orbit_area_req req = { .size = PAGE };
	struct reader r = { 0 };
	long i, stale = 0, failed = 0, first = 0;
	double end = now_us() + BUDGET_S * 1e6;
	pthread_t th;
	void *base;
	int fd;

	fd = raw_context(ORBIT_FEAT_DISCARD);
	base = mmap(NULL, PAGE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	require(fd >= 0 && base != MAP_FAILED, "context and reservation");
	req.addr = (uintptr_t)base;
	require(ioctl(fd, ORBIT_IOC_AREA_CREATE, &req) == 0, "a one-page area");
	r.page = base;
	require(pthread_create(&th, NULL, read_loop, &r) == 0, "reader");
	pin_to_cpu(0, 0);
	for (i = 0; i < DISCARDS && now_us() < end; i++) {
		long v;

		*r.page = i + 1;
		if (discard(fd, req.id)) {
			failed++;
			continue;
		}
		v = *r.page;
		if (v && !stale++)
			first = v;
	}
	atomic_store(&r.stop, 1);
	pthread_join(th, NULL);
	ok(!stale && !failed,
	   "%ld discards under %ld racing read faults: %ld read back data (first %ld), %ld failed",
	   i, r.reads, stale, first, failed);
	close(fd);
	munmap(base, PAGE);
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
	struct reader r = { 0 };
	struct orbit *ob;
	pthread_t th;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("cow-fault-race", idle, NULL);
	area = orbit_area_create(PAGE, ob);
	require(ob && area, "orbit and area");
	r.page = orbit_area_base(area);
	*r.page = 1;
	require(pthread_create(&th, NULL, read_loop, &r) == 0, "reader");
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

int main(void)
{
	discard_phase();
	cow_phase();
	return tap_done();
}
