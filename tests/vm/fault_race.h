/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For tests that race main's read faults of one area page against what
 * changes the page (a discard, a write to a hole): a thread that keeps a
 * read fault of the page in flight, or nearly, and a one-page area made
 * through the raw ioctls (so a discard is one ioctl away).
 */
#ifndef ORBIT_FAULT_RACE_H
#define ORBIT_FAULT_RACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "../../uapi/orbit.h"
#include "util.h"

#define FAULT_RACE_PAGE	4096

struct fault_reader {
	volatile long *page;
	atomic_int stop;
	long reads;
	unsigned int pause_us;	/* after each read, keeping its PTE */
};

/*
 * Drops its PTE of the page and reads it again, on CPU 1, until stop.
 * With a pause, a PTE its fault set stays a while, for main to use.
 */
static inline void *fault_reader_loop(void *arg)
{
	struct fault_reader *r = arg;

	pin_to_cpu(0, 1);
	while (!atomic_load(&r->stop)) {
		madvise((void *)r->page, FAULT_RACE_PAGE, MADV_DONTNEED);
		(void)*r->page;
		r->reads++;
		if (r->pause_us)
			usleep(r->pause_us);
	}
	return NULL;
}

/*
 * A context with discards and a one-page area in it: the context's
 * descriptor (the area's id in *id, its page in *page), or -1.
 */
static inline int one_page_area(volatile long **page, uint32_t *id)
{
	struct orbit_area_req req = { .size = FAULT_RACE_PAGE };
	int fd = raw_context(ORBIT_FEAT_DISCARD);
	void *base;

	if (fd < 0)
		return -1;
	base = mmap(NULL, FAULT_RACE_PAGE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	req.addr = (uintptr_t)base;
	if (base == MAP_FAILED || ioctl(fd, ORBIT_IOC_AREA_CREATE, &req)) {
		if (base != MAP_FAILED)
			munmap(base, FAULT_RACE_PAGE);
		close(fd);
		return -1;
	}
	*page = base;
	*id = req.id;
	return fd;
}

/* Discards the one-page area's page: 0, or -1. */
static inline int one_page_discard(int fd, uint32_t id)
{
	struct orbit_area_discard d = { .id = id, .len = FAULT_RACE_PAGE };

	return ioctl(fd, ORBIT_IOC_AREA_DISCARD, &d);
}

/*
 * A one-page area, its reader on CPU 1 and the caller on CPU 0.  With
 * delay_us, the reader's faults (main's reads) sleep that long before
 * their PTE is set (debug_fault_delay_us) and the reader keeps each PTE
 * twice as long; fault_race_stop() clears the delay.  0 or -1.
 */
struct fault_race {
	struct fault_reader r;
	pthread_t th;
	uint32_t id;
	int fd;
};

static inline int fault_race_start(struct fault_race *fr,
				   unsigned int delay_us)
{
	fr->r.pause_us = 2 * delay_us;
	if (fault_delay_set(delay_us, FAULT_AREA_READ))
		return -1;
	fr->fd = one_page_area(&fr->r.page, &fr->id);
	if (fr->fd < 0)
		return -1;
	if (pthread_create(&fr->th, NULL, fault_reader_loop, &fr->r)) {
		close(fr->fd);
		return -1;
	}
	pin_to_cpu(0, 0);
	return 0;
}

/* Stops the reader, frees the area, clears the delay: 0 or -1. */
static inline int fault_race_stop(struct fault_race *fr)
{
	atomic_store(&fr->r.stop, 1);
	pthread_join(fr->th, NULL);
	close(fr->fd);
	munmap((void *)fr->r.page, FAULT_RACE_PAGE);
	return fault_delay_set(0, FAULT_AREA_READ);
}

#endif
