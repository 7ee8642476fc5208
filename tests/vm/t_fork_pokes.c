// SPDX-License-Identifier: GPL-2.0
/*
 * A plain fork() child of main cannot touch area pages, and writes that
 * bypass main's page faults (/proc/self/mem, process_vm_writev) change
 * main's memory but never a snapshot that a pending call holds.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

static long read_value(void *argbuf, void *store)
{
	return **(long **)argbuf;
}

static long nap(void *argbuf, void *store)
{
	usleep(300000);
	return 0;
}

/* Queues a slow call, then a read of *v: the read's snapshot is pending. */
static struct orbit_future *pending_read(struct orbit *ob,
					 struct orbit_area *area, long **v,
					 struct orbit_future **blocker)
{
	*blocker = orbit_call_async(ob, 0, 0, NULL, nap, NULL, 0);
	return orbit_call_async(ob, 0, 1, &area, NULL, v, sizeof(*v));
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_future *f, *blk;
	struct orbit_area *area;
	struct orbit *ob;
	long *v, two = 2, three = 3, ret;
	int status, fd;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("pokes", read_value, NULL);
	area = orbit_area_create(1 << 20, ob);
	require(ob && area, "orbit and area");
	v = orbit_alloc(area, sizeof(*v));
	*v = 1;

	f = pending_read(ob, area, &v, &blk);
	pid = fork();
	if (pid == 0) {
		*v = 666;	/* must fault: the area is not mapped here */
		_exit(0);
	}
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	   "fork child writing an area page gets SIGSEGV");
	pid = fork();
	if (pid == 0)
		_exit(*(volatile long *)v == 1 ? 0 : 1);
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	   "fork child reading an area page gets SIGSEGV");
	ok(*v == 1, "main's value is untouched by the child");
	ok(orbit_future_get(blk, NULL) == 0 && orbit_future_get(f, &ret) == 0 &&
	   ret == 1, "the pending snapshot is untouched by the child");

	fd = open("/proc/self/mem", O_RDWR);
	require(fd >= 0, "open /proc/self/mem");
	f = pending_read(ob, area, &v, &blk);
	ok(pwrite(fd, &two, sizeof(two), (off_t)(uintptr_t)v) == sizeof(two),
	   "write an area value through /proc/self/mem");
	ok(*v == 2, "main sees the /proc/self/mem write");
	ok(orbit_future_get(blk, NULL) == 0 && orbit_future_get(f, &ret) == 0 &&
	   ret == 1, "the pending snapshot still holds 1 (%ld)", ret);
	close(fd);

	f = pending_read(ob, area, &v, &blk);
	{
		struct iovec local = { &three, sizeof(three) };
		struct iovec remote = { v, sizeof(*v) };

		ok(process_vm_writev(getpid(), &local, 1, &remote, 1, 0) ==
		   sizeof(three), "write an area value with process_vm_writev");
	}
	ok(*v == 3, "main sees the process_vm_writev write");
	ok(orbit_future_get(blk, NULL) == 0 && orbit_future_get(f, &ret) == 0 &&
	   ret == 2, "the pending snapshot still holds 2 (%ld)", ret);
	ok(orbit_call(ob, 1, &area, NULL, &v, sizeof(v)) == 3,
	   "a new call sees the poked value");

	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
