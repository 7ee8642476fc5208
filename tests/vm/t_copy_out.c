// SPDX-License-Identifier: GPL-2.0
/*
 * Main's first write to a page a snapshot froze: when no orbit maps the
 * page, main keeps its page (same physical page before and after) and the
 * snapshot gets the copy; when an orbit's task has the page mapped, main
 * gets the copy instead.  Either way the task sees the page as it was at
 * the call, and each first write copies once.  A snapshot's pages stay
 * frozen across mprotect(PROT_READ) and back to read-write.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

#define NPAGES	64
#define PAGE	4096

struct task_arg {
	volatile const long *page;
	long delay_us;
	int signal;		/* the task writes a byte to FIFO once it read */
};

#define FIFO	"/tmp/t_copy_out.fifo"	/* orbits inherit no descriptors */

/* Reads the page (mapping it), tells main, waits, reads it again. */
static long read_twice(void *argbuf, void *store)
{
	const struct task_arg *a = argbuf;
	long first = a->page[0];
	char c = 1;
	int fd;

	if (a->signal) {
		fd = open(FIFO, O_WRONLY);
		if (fd < 0 || write(fd, &c, 1) != 1)
			return -1;
		close(fd);
	}
	usleep(a->delay_us);
	return a->page[0] == first ? first : -2;
}

/* Waits, then reads the page once. */
static long read_late(void *argbuf, void *store)
{
	const struct task_arg *a = argbuf;

	usleep(a->delay_us);
	return a->page[0];
}

static unsigned long long cow_faults(void)
{
	struct orbit_module_stats st;

	return orbit_module_stats(&st) ? ~0ULL : st.cow_faults;
}

int main(void)
{
	struct orbit_module_stats start;
	struct task_arg arg = { .signal = 0 };
	unsigned long long c0;
	struct orbit_area *area;
	struct orbit_future *f;
	struct orbit *late, *twice;
	uint64_t pfn;
	int fifo;
	long *page;
	long ret;
	char c;

	require(orbit_module_stats(&start) == 0, "read module counters");
	unlink(FIFO);
	require(mkfifo(FIFO, 0600) == 0, "a FIFO the task signals on");
	fifo = open(FIFO, O_RDWR);
	require(fifo >= 0, "open the FIFO");
	late = orbit_create("copyout-late", read_late, NULL);
	twice = orbit_create("copyout-twice", read_twice, NULL);
	require(late && twice, "two orbits");
	area = orbit_area_create_ex(NPAGES * PAGE, NPAGES * PAGE,
				    ORBIT_AREA_MODE_COW, late);
	require(area && orbit_area_bind(area, twice) == 0,
		"a 64-page area bound to both");
	page = orbit_area_base(area);
	arg.page = page;
	arg.delay_us = 300000;

	/* 1. Nothing maps the frozen page: main keeps it. */
	page[0] = 1;
	pfn = pfn_of(page);
	ok(pfn != 0, "main's page is present");
	f = orbit_call_async(late, 0, 1, &area, NULL, &arg, sizeof(arg));
	require(f, "an async call that reads the page late");
	c0 = cow_faults();
	page[0] = 2;
	ok(pfn_of(page) == pfn,
	   "main's write after the snapshot keeps its physical page");
	ok(cow_faults() - c0 == 1, "the write copied the page once (%llu)",
	   cow_faults() - c0);
	if (orbit_future_get(f, &ret))
		ret = -1;
	ok(ret == 1, "the task reads the page as it was at the call (%ld)",
	   ret);

	/* 2. The task maps the frozen page: main gets the copy. */
	arg.signal = 1;
	arg.delay_us = 500000;
	f = orbit_call_async(twice, 0, 1, &area, NULL, &arg, sizeof(arg));
	require(f, "an async call whose task maps the page, then waits");
	ok(read(fifo, &c, 1) == 1, "the task has read the page");
	pfn = pfn_of(page);
	c0 = cow_faults();
	page[0] = 3;
	ok(pfn_of(page) != pfn && pfn_of(page) != 0,
	   "main's write to a page the task maps moves main to a copy");
	ok(cow_faults() - c0 == 1, "the write copied the page once (%llu)",
	   cow_faults() - c0);
	if (orbit_future_get(f, &ret))
		ret = -1;
	ok(ret == 2,
	   "the task's two reads saw the page as it was at the call (%ld)",
	   ret);
	arg.signal = 0;

	/* 3. mprotect does not make a frozen page writable behind our back. */
	arg.delay_us = 300000;
	f = orbit_call_async(late, 0, 1, &area, NULL, &arg, sizeof(arg));
	require(f, "an async call that reads the page late");
	ok(mprotect(page, NPAGES * PAGE, PROT_READ) == 0 &&
	   mprotect(page, NPAGES * PAGE, PROT_READ | PROT_WRITE) == 0,
	   "mprotect read-only and back to read-write");
	page[0] = 4;
	if (orbit_future_get(f, &ret))
		ret = -1;
	ok(ret == 3, "the task reads the page as it was at the call (%ld)",
	   ret);
	arg.delay_us = 0;
	ok(orbit_call(late, 1, &area, NULL, &arg, sizeof(arg)) == 4,
	   "the next call sees main's write");

	orbit_destroy(late);
	orbit_destroy(twice);
	orbit_area_destroy(area);
	close(fifo);
	unlink(FIFO);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
