// SPDX-License-Identifier: GPL-2.0
/*
 * After the first create, main keeps two forked spares ready: the orbit a
 * create or a restart gets is one of them, named and equipped as a freshly
 * forked one (only stdio and its handle open), and back-to-back creates
 * each get one.  The forker and the spares wait as SCHED_BATCH (waking
 * them does not take main's CPU); an orbit started from a spare runs
 * SCHED_OTHER.  Killed spares are replaced by a fork on the next create;
 * with their forker stopped or killed, orbits are forked; no spare
 * outlives its main.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
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

#define SPARES	2

static int is_one_of(pid_t pid, const pid_t *set, int n)
{
	while (n-- > 0)
		if (set[n] == pid)
			return 1;
	return 0;
}

/*
 * Waits until SPARES spares wait, at least fresh of them not in
 * old[0..nold); stores their pids in sp.  0, or -1 after 5 s.
 */
static int spares_wait(pid_t *sp, const pid_t *old, int nold, int fresh)
{
	int i, j, n;

	for (i = 0; i < 200; i++) {
		if (procs_named_pids("orbit-spare", sp, SPARES) == SPARES) {
			for (n = 0, j = 0; j < SPARES; j++)
				n += !is_one_of(sp[j], old, nold);
			if (n >= fresh)
				return 0;
		}
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
	struct orbit *o1, *o2, *o3, *o4, *o5, *b[SPARES + 1];
	pid_t sp[SPARES], old[SPARES], forker;
	long r;
	int i, good;

	o1 = orbit_create("spare-o1", whoami, NULL);
	require(o1, "create the first orbit");
	r = call_int(o1, 0);
	ok(r > 0 && r % 100 == 1, "a forked orbit holds stdio and its handle only (%ld)",
	   r % 100);
	ok(spares_wait(sp, NULL, 0, 0) == 0, "%d spares wait after the first create",
	   SPARES);
	ok(procs_named("orbit-forker", &forker) == 1, "forked by one forker");
	ok(sched_getscheduler(forker) == SCHED_BATCH &&
	   sched_getscheduler(sp[0]) == SCHED_BATCH &&
	   sched_getscheduler(sp[1]) == SCHED_BATCH,
	   "they wait as SCHED_BATCH (woken, they do not preempt main)");

	o2 = orbit_create("spare-o2", whoami, NULL);
	require(o2, "create the second orbit");
	r = call_int(o2, 0);
	ok(is_one_of(r / 100, sp, SPARES), "the second orbit is a spare (%ld)",
	   r / 100);
	ok(r % 100 == 1, "it holds stdio and its handle only (%ld)", r % 100);
	ok(procs_named("spare-o2", NULL) == 1, "it carries its orbit's name");
	ok(sched_getscheduler(r / 100) == SCHED_OTHER,
	   "and runs SCHED_OTHER, as main does");
	memcpy(old, sp, sizeof(sp));
	ok(spares_wait(sp, old, SPARES, 1) == 0,
	   "one is forked to replace it");

	/* A burst: each create finds a spare waiting. */
	memcpy(old, sp, sizeof(sp));
	good = 1;
	for (i = 0; i < SPARES; i++) {
		b[i] = orbit_create("spare-burst", whoami, NULL);
		r = b[i] ? call_int(b[i], 0) : -1;
		good &= r > 0 && is_one_of(r / 100, old, SPARES) && r % 100 == 1;
	}
	ok(good, "%d creates back to back each get a spare", SPARES);
	for (i = 0; i < SPARES; i++)
		orbit_destroy(b[i]);
	ok(spares_wait(sp, old, SPARES, SPARES) == 0, "and both are replaced");

	for (i = 0; i < SPARES; i++)
		kill(sp[i], SIGKILL);
	ok(procs_gone("orbit-spare"), "the killed spares are gone");
	o3 = orbit_create("spare-o3", whoami, NULL);
	r = o3 ? call_int(o3, 0) : -1;
	ok(r > 0 && !is_one_of(r / 100, sp, SPARES),
	   "a create after the spares were killed forks its orbit");
	memcpy(old, sp, sizeof(sp));
	ok(spares_wait(sp, old, SPARES, SPARES) == 0, "then spares wait again");

	/* A stopped forker holds no create up: they fall back to forks. */
	require(procs_named("orbit-forker", &forker) == 1, "find the forker");
	kill(forker, SIGSTOP);
	good = 1;
	for (i = 0; i <= SPARES; i++) {
		b[i] = orbit_create("spare-stopped", whoami, NULL);
		r = b[i] ? call_int(b[i], 0) : -1;
		good &= r > 0 && r % 100 == 1 &&
			(i == SPARES || is_one_of(r / 100, sp, SPARES));
	}
	ok(good, "with the forker stopped, %d creates in a row start orbits",
	   SPARES + 1);
	kill(forker, SIGCONT);
	for (i = 0; i <= SPARES; i++)
		orbit_destroy(b[i]);
	memcpy(old, sp, sizeof(sp));
	ok(spares_wait(sp, old, SPARES, SPARES) == 0,
	   "continued, it forks the spares asked for");

	kill(forker, SIGKILL);
	ok(procs_gone("orbit-forker") && procs_named("orbit-spare", NULL) == SPARES,
	   "a killed forker is gone, its spares still wait");

	o4 = orbit_create_ex("spare-o4", crash, NULL, &attr);
	require(o4, "create a restarting orbit");
	r = call_int(o4, 0);
	ok(is_one_of(r / 100, sp, SPARES), "a restarting orbit is a spare");
	usleep(100000);
	ok(procs_named_pids("orbit-spare", old, SPARES) == 1 &&
	   is_one_of(old[0], sp, SPARES), "with the forker gone, none replaces it");
	ok(call_int(o4, 1) < 0, "its task crashes");
	r = call_int(o4, 0);
	ok(r > 0 && r / 100 == old[0] && r % 100 == 1,
	   "its restart is the last spare (%ld)", r / 100);
	o5 = orbit_create("spare-o5", whoami, NULL);
	r = o5 ? call_int(o5, 0) : -1;
	ok(r > 0 && r % 100 == 1 && procs_named("orbit-spare", NULL) == 0,
	   "then orbits are forked (%ld)", r / 100);

	orbit_destroy(o1);
	orbit_destroy(o2);
	orbit_destroy(o3);
	orbit_destroy(o4);
	orbit_destroy(o5);
}

/* A main killed while its spares wait: they go too. */
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
		c = ob && call_int(ob, 0) > 0 &&
		    spares_wait((pid_t[SPARES]){ 0 }, NULL, 0, 0) == 0 ?
			'1' : '0';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	ok(read(p[0], &c, 1) == 1 && c == '1', "a main with an orbit has spares");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ok(procs_gone("orbit-spare") && procs_gone("orbit-spawner") &&
	   procs_gone("orbit-forker"),
	   "main killed: spawner, forker and spares are gone");
	ok(procs_gone("spare-main"), "and so is its orbit");
}

int main(void)
{
	require(procs_gone("orbit-spare"), "no spare left from earlier tests");
	spare_dies_with_main();	/* first: this main has no spare yet */
	spares();
	return tap_done();
}
