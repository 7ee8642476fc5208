// SPDX-License-Identifier: GPL-2.0
/*
 * Pids in the caller's pid namespace: ORBIT_IOC_LIST reports an orbit's
 * and its main's pids as the caller sees them (0 for a process outside
 * the caller's namespace), for a main inside a new pid namespace and for
 * a lister inside one; the orbit learns its main's pid in its own
 * namespace; orbitctl kill in a namespace reaches only its own orbits.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

static long my_pid(void *argbuf, void *store)
{
	return getpid();
}

/* The record of the orbit named name, as this process lists it. */
static int list_one(const char *name, struct orbit_info *out)
{
	struct orbit_info oi[64];
	struct orbit_list l;
	int fd = open("/dev/orbit", O_RDONLY | O_CLOEXEC), i, found = 0;

	memset(&l, 0, sizeof(l));
	l.buf = (uintptr_t)oi;
	l.cap = 64;
	if (fd < 0 || ioctl(fd, ORBIT_IOC_LIST, &l))
		return 0;
	close(fd);
	for (i = 0; i < (int)l.count && i < 64; i++)
		if (!strcmp(oi[i].name, name)) {
			*out = oi[i];
			found = 1;
		}
	return found;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_info oi;
	struct orbit *ob;
	int p[2], go[2], status;
	long opid;
	pid_t child;
	char c;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("outer-orbit", my_pid, NULL);
	require(ob, "an orbit in the initial namespace");
	opid = orbit_call(ob, 0, NULL, NULL, NULL, 0);
	ok(list_one("outer-orbit", &oi) && oi.pid == opid &&
	   oi.main_pid == getpid(), "listed from its namespace: its pids");

	require(pipe(p) == 0 && pipe(go) == 0, "pipes");
	child = fork();
	if (child == 0) {
		int rc = 0;
		pid_t init;

		close(p[0]);
		close(go[1]);
		if (unshare(CLONE_NEWPID))
			_exit(100);
		init = fork();
		if (init == 0) {
			struct orbit *in;
			struct orbit_info mine;
			long ipid;

			/* pid 1 of a new namespace, with an orbit of its own. */
			if (!list_one("outer-orbit", &mine) || mine.pid ||
			    mine.main_pid)
				rc |= 1;
			in = orbit_create("inner-orbit", my_pid, NULL);
			ipid = in ? orbit_call(in, 0, NULL, NULL, NULL, 0) : -1;
			if (!list_one("inner-orbit", &mine) || mine.main_pid != 1 ||
			    mine.pid != ipid || ipid <= 1)
				rc |= 2;
			c = (char)rc;
			if (write(p[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
				_exit(1);
			/* orbitctl in here cannot reach the outside orbit. */
			rc = 0;
			if (system("/tests/orbitctl kill --name outer-orbit >/dev/null 2>&1") == 0)
				rc |= 4;
			if (system("/tests/orbitctl kill --name inner-orbit >/dev/null 2>&1") != 0)
				rc |= 8;
			c = (char)rc;
			if (write(p[1], &c, 1) != 1)
				_exit(1);
			pause();	/* until the parent killed us */
			_exit(0);
		}
		waitpid(init, &status, 0);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 99);
	}
	close(p[1]);
	close(go[0]);
	require(read(p[0], &c, 1) == 1, "the new namespace's init reports");
	ok(!(c & 1), "listed from inside a new namespace: an outside orbit has pids 0");
	ok(!(c & 2), "a main in a new namespace sees its own pids (main 1)");
	ok(list_one("inner-orbit", &oi) && oi.main_pid > 1 &&
	   oi.pid > 1 && oi.pid != oi.main_pid,
	   "that main listed from outside: init-namespace pids (%d, %d)",
	   oi.pid, oi.main_pid);
	require(write(go[1], "g", 1) == 1 && read(p[0], &c, 1) == 1,
		"the namespace's init tries orbitctl kill");
	ok(!(c & 4) && orbit_call(ob, 0, NULL, NULL, NULL, 0) == opid,
	   "orbitctl kill in the namespace cannot reach an orbit outside it");
	ok(!(c & 8), "orbitctl kill in the namespace kills its own orbit");
	if (oi.main_pid > 1)
		kill(oi.main_pid, SIGKILL);	/* its init: all of it goes */
	waitpid(child, &status, 0);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
