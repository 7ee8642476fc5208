// SPDX-License-Identifier: GPL-2.0
/*
 * What an application may do to an area's mapping: a partial munmap,
 * mremap or mprotect is refused (an area is mapped whole, at the address
 * its orbits use); whole-area mprotect and MADV_DONTNEED keep its data;
 * munmap of the whole area leaves pending and later calls working; exec
 * of main takes its orbits down.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

static long read_value(void *argbuf, void *store)
{
	return **(long **)argbuf;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct orbit *ob;
	size_t size = 2 << 20;
	long *v, ret;
	void *p;
	int status, pfd[2];
	char c;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("hazards", read_value, NULL);
	area = orbit_area_create_ex(size, size, 0, ob);
	require(ob && area, "orbit and area");
	v = orbit_area_base(area);
	*v = 5;

	ok(munmap((char *)v + 4096, 4096) == -1 && errno == EINVAL,
	   "munmap of part of an area: EINVAL");
	ok(mprotect(v, 4096, PROT_READ) == -1 && errno == EINVAL,
	   "mprotect of part of an area: EINVAL");
	ok(mremap(v, size, size / 2, 0) == MAP_FAILED,
	   "shrinking an area with mremap fails");
	ok(mremap(v, size, 2 * size, MREMAP_MAYMOVE) == MAP_FAILED,
	   "growing an area with mremap fails");
	p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok(mremap(v, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, p) == MAP_FAILED,
	   "moving an area with mremap fails");
	munmap(p, size);
	ok(*v == 5 && orbit_call(ob, 1, &area, NULL, &v, sizeof(v)) == 5,
	   "the area still works after the refused changes");

	ok(mprotect(v, size, PROT_READ) == 0 &&
	   mprotect(v, size, PROT_READ | PROT_WRITE) == 0,
	   "whole-area mprotect works");
	*v = 6;
	ok(orbit_call(ob, 1, &area, NULL, &v, sizeof(v)) == 6,
	   "calls see writes after mprotect");
	ok(madvise(v, size, MADV_DONTNEED) == 0 && *v == 6,
	   "MADV_DONTNEED keeps the area's data");

	*v = 7;
	{
		struct orbit_future *f = orbit_call_async(ob, 0, 1, &area, NULL,
							  &v, sizeof(v));

		ok(munmap(v, size) == 0, "munmap of the whole area works");
		ok(f && orbit_future_get(f, &ret) == 0 && ret == 7,
		   "a call pending across the munmap sees its snapshot");
	}
	ok(orbit_call(ob, 1, &area, NULL, &v, sizeof(v)) == 7,
	   "later calls see the area as it was unmapped");
	ok(orbit_area_destroy(area) == 0, "destroy the unmapped area");

	require(pipe(pfd) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		struct orbit *o = orbit_create("exec-orbit", read_value, NULL);

		c = o && procs_named("exec-orbit", NULL) == 1 ? '1' : '0';
		if (write(pfd[1], &c, 1) != 1)
			_exit(1);
		execl("/bin/sleep", "sleep", "3", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	ok(read(pfd[0], &c, 1) == 1 && c == '1', "child main has an orbit");
	ok(procs_gone("exec-orbit"), "exec of main takes its orbit down");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);

	ok(orbit_destroy(ob) == 0, "orbit_destroy");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
