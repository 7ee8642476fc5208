// SPDX-License-Identifier: GPL-2.0
/*
 * The spawner keeps a forked spare for the next create: the orbit a create
 * or a restart gets is that process, named and equipped as a freshly
 * forked one (only stdio and its handle open).  A spare that was killed is
 * replaced by a fork on the next create, and no spare outlives its main.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

/* The task's pid, times 100, plus the number of descriptors above stdio. */
static long whoami(void *argbuf, void *store)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long fds = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
		    atoi(e->d_name) > 2 && atoi(e->d_name) != dirfd(d))
			fds++;
	closedir(d);
	return (long)getpid() * 100 + fds;
}

static long crash(void *argbuf, void *store)
{
	if (*(int *)argbuf)
		abort();
	return whoami(argbuf, store);
}

/* The pid of the one spare other than not, once there is one; or -1. */
static pid_t spare_other_than(pid_t not)
{
	pid_t pid;
	int i;

	for (i = 0; i < 200; i++) {
		if (procs_named("orbit-spare", &pid) == 1 && pid != not)
			return pid;
		usleep(25000);
	}
	return -1;
}

static long call_int(struct orbit *ob, int v)
{
	return orbit_call(ob, 0, NULL, NULL, &v, sizeof(v));
}

static void spares(void)
{
	struct orbit_attr attr = { .restart = ORBIT_RESTART_ALWAYS };
	struct orbit *o1, *o2, *o3, *o4;
	pid_t s1, s2, s3;
	long r;

	o1 = orbit_create("spare-o1", whoami, NULL);
	require(o1, "create the first orbit");
	r = call_int(o1, 0);
	ok(r > 0 && r % 100 == 1, "a forked orbit holds stdio and its handle only (%ld)",
	   r % 100);
	s1 = spare_other_than(0);
	ok(s1 > 0, "a spare waits after the first create");

	o2 = orbit_create("spare-o2", whoami, NULL);
	require(o2, "create the second orbit");
	r = call_int(o2, 0);
	ok(r / 100 == s1, "the second orbit is the spare (%ld, spare %d)",
	   r / 100, (int)s1);
	ok(r % 100 == 1, "it holds stdio and its handle only (%ld)", r % 100);
	ok(procs_named("spare-o2", NULL) == 1, "it carries its orbit's name");

	s2 = spare_other_than(s1);
	ok(s2 > 0 && s2 != s1, "another spare replaces it");
	kill(s2, SIGKILL);
	ok(procs_gone("orbit-spare"), "the killed spare is gone");
	o3 = orbit_create("spare-o3", whoami, NULL);
	ok(o3 && call_int(o3, 0) > 0,
	   "a create after the spare was killed still starts an orbit");

	s3 = spare_other_than(s2);
	o4 = orbit_create_ex("spare-o4", crash, NULL, &attr);
	require(o4, "create a restarting orbit");
	r = call_int(o4, 0);
	ok(s3 > 0 && r / 100 == s3, "a restarting orbit is the spare");
	s3 = spare_other_than(s3);
	ok(call_int(o4, 1) < 0, "its task crashes");
	r = call_int(o4, 0);
	ok(s3 > 0 && r / 100 == s3 && r % 100 == 1,
	   "its restart is the next spare (%ld, spare %d)", r / 100, (int)s3);

	orbit_destroy(o1);
	orbit_destroy(o2);
	orbit_destroy(o3);
	orbit_destroy(o4);
}

/* A main killed while its spare waits: the spare goes too. */
static void spare_dies_with_main(void)
{
	int p[2], status;
	pid_t pid;
	char c = '0';

	require(pipe(p) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		struct orbit *ob = orbit_create("spare-main", whoami, NULL);

		close(p[0]);
		c = ob && call_int(ob, 0) > 0 && spare_other_than(0) > 0 ?
			'1' : '0';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	ok(read(p[0], &c, 1) == 1 && c == '1', "a main with an orbit has a spare");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ok(procs_gone("orbit-spare") && procs_gone("orbit-spawner"),
	   "main killed: spawner and spare are gone");
	ok(procs_gone("spare-main"), "and so is its orbit");
}

int main(void)
{
	require(procs_gone("orbit-spare"), "no spare left from earlier tests");
	spare_dies_with_main();	/* first: this main has no spare yet */
	spares();
	return tap_done();
}
