// SPDX-License-Identifier: GPL-2.0
/*
 * A main context lives as long as main's address space: closing a dup()
 * of its descriptor leaves every orbit working, and an exec of main that
 * keeps the descriptor open (not close-on-exec) ends the context all the
 * same: orbits, calls and area pages are released at the exec.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

static long seven(void *argbuf, void *store)
{
	return 7;
}

static long slow(void *argbuf, void *store)
{
	usleep(200000);
	return 1;
}

/* After the exec: nothing of the old program's orbits may remain. */
static int after_exec(void)
{
	struct orbit_module_stats st;
	int i;

	for (i = 0; i < 100; i++) {
		if (orbit_module_stats(&st))
			return 2;
		if (!st.orbits && !st.areas && !st.pages && !st.calls &&
		    procs_named("lifetime-orbit", NULL) == 0)
			return 0;
		usleep(50000);
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct orbit *ob;
	int fd, dupfd, status, i;
	long *v;
	pid_t pid;

	if (argc > 1)
		return after_exec();
	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("lifetime-orbit", seven, NULL);
	require(ob, "an orbit");
	fd = fd_linked_to("/dev/orbit");
	require(fd >= 0, "the library's context descriptor");
	dupfd = dup(fd);
	ok(dupfd >= 0 && close(dupfd) == 0, "dup it and close the dup");
	ok(orbit_call(ob, 0, NULL, NULL, NULL, 0) == 7,
	   "the orbit still answers");
	orbit_destroy(ob);

	pid = fork();
	if (pid == 0) {
		ob = orbit_create("lifetime-orbit", slow, NULL);
		area = orbit_area_create(4 << 20, ob);
		if (!ob || !area)
			_exit(3);
		v = orbit_alloc(area, 2 << 20);
		for (i = 0; i < (2 << 20) / 8; i += 512)
			v[i] = i;
		for (i = 0; i < 10; i++)
			orbit_call_async(ob, ORBIT_NOFUTURE, 1, &area, NULL,
					 NULL, 0);
		fd = fd_linked_to("/dev/orbit");
		if (fd < 0 || dup2(fd, 100) != 100)	/* not close-on-exec */
			_exit(4);
		execl("/proc/self/exe", argv[0], "after-exec", (char *)NULL);
		_exit(5);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "an exec that keeps the descriptor releases orbits, calls and pages (status %d)",
	   WEXITSTATUS(status));
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
