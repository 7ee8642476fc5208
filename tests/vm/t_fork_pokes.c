// SPDX-License-Identifier: GPL-2.0
/*
 * A plain fork() child of main cannot touch area pages, nor can one that
 * inherits the area's mapping (MADV_DOFORK): its copy maps nothing and
 * faults fail.  Writes that bypass main's page faults (/proc/self/mem,
 * process_vm_writev) change main's memory but never a snapshot that a
 * pending call holds.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
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

/* A child's death: its signal, or 0 if it exited. */
static int child_signal(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* A fork child's read (or write) of *v: the signal it died of, or 0. */
static int child_touch(volatile long *v, int write)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (write)
			*v = 666;
		else
			(void)*v;
		_exit(0);
	}
	return pid < 0 ? -1 : child_signal(pid);
}

/*
 * MADV_DOFORK clears the VM_DONTCOPY the module sets on main's mapping:
 * fork then gives the child a copy of it.  The copy must map nothing
 * (the kernel copies no PTEs of a shared file mapping) and every fault
 * in it fail, a read as a write, while main's mapping goes on as before,
 * and after main destroyed the area the copy keeps.
 */
static void inherited_mapping(struct orbit *ob)
{
	size_t size = 16 * 4096;
	struct orbit_area *area = orbit_area_create_ex(size, size, 0, ob);
	long *v = orbit_area_base(area), r;
	int p[2];
	pid_t pid;
	char c;

	require(area && madvise(v, size, MADV_DOFORK) == 0,
		"an area, its mapping made inheritable (MADV_DOFORK)");
	*v = 1;
	ok(child_touch(v, 0) == SIGBUS,
	   "a child inheriting the area mapping gets SIGBUS on a read");
	ok(child_touch(v, 1) == SIGBUS,
	   "a child inheriting the area mapping gets SIGBUS on a write");
	require(pipe(p) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 0)	/* until main closes its end */
			_exit(2);
		_exit(*(volatile long *)v == 4 ? 0 : 1);
	}
	*v = 4;
	r = orbit_call(ob, 1, &area, NULL, &v, sizeof(v));
	ok(r == 4, "main writes its area and calls after the children (%ld)",
	   r);
	orbit_area_destroy(area);
	close(p[0]);
	close(p[1]);
	ok(child_signal(pid) == SIGBUS,
	   "a child whose copy outlived the area gets SIGBUS on a read");
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_future *f, *blk;
	struct orbit_area *area;
	struct orbit *ob;
	long *v, two = 2, three = 3, ret;
	int fd;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("pokes", read_value, NULL);
	area = orbit_area_create(1 << 20, ob);
	require(ob && area, "orbit and area");
	v = orbit_alloc(area, sizeof(*v));
	*v = 1;

	f = pending_read(ob, area, &v, &blk);
	/* the area is not mapped in a plain fork child: faults fail */
	ok(child_touch(v, 1) == SIGSEGV,
	   "fork child writing an area page gets SIGSEGV");
	ok(child_touch(v, 0) == SIGSEGV,
	   "fork child reading an area page gets SIGSEGV");
	ok(*v == 1, "main's value is untouched by the child");
	ok(orbit_future_get(blk, NULL) == 0 && orbit_future_get(f, &ret) == 0 &&
	   ret == 1, "the pending snapshot is untouched by the child");
	inherited_mapping(ob);

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
