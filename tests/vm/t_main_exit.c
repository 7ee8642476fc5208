// SPDX-License-Identifier: GPL-2.0
/*
 * Main exits (normally, or by SIGKILL) with calls queued and orbits in the
 * middle of a call: no leaks, no hung tasks, spawner and orbits gone.
 */
#include <signal.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

static long slow(void *argbuf, void *store)
{
	sleep(30);
	return 0;
}

/* Are both orbits' processes there, one each? */
static int both_orbits(void)
{
	return procs_named("exit-o1", NULL) == 1 &&
	       procs_named("exit-o2", NULL) == 1;
}

/* The doomed main program: two busy orbits, queued calls, then report. */
static void doomed_main(int ready_fd)
{
	struct orbit *o1 = orbit_create("exit-o1", slow, NULL);
	struct orbit *o2 = orbit_create("exit-o2", slow, NULL);
	struct orbit_area *area = orbit_area_create(8 << 20, NULL);
	long *v;
	char c;
	int i;

	if (!o1 || !o2 || !area)
		_exit(1);
	v = orbit_alloc(area, 4 << 20);
	for (i = 0; i < (4 << 20) / 8; i += 512)
		v[i] = i;
	for (i = 0; i < 50; i++) {
		orbit_call_async(o1, 0, 1, &area, NULL, &v, sizeof(v));
		orbit_call_async(o2, ORBIT_NOFUTURE, 1, &area, NULL, &v,
				 sizeof(v));
	}
	/* Both orbits take their first call (slow()) once running. */
	for (i = 0; i < 1000 && !both_orbits(); i++)
		usleep(10000);
	usleep(100000);	/* inside slow() by now, or queued: both are tested */
	c = both_orbits() ? '1' : '0';
	if (write(ready_fd, &c, 1) != 1)
		_exit(1);
}

static void scenario(const char *how, int kill_it)
{
	struct orbit_module_stats start;
	int p[2], status;
	char c;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	require(pipe(p) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		doomed_main(p[1]);
		if (kill_it)
			pause();
		exit(0);	/* no cleanup at all */
	}
	close(p[1]);
	ok(read(p[0], &c, 1) == 1 && c == '1',
	   "%s: main has two orbits mid-call and queued calls", how);
	close(p[0]);
	if (kill_it)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ok(procs_gone("exit-o1") && procs_gone("exit-o2"),
	   "%s: orbits are gone", how);
	ok(procs_gone("orbit-spawner") && procs_gone("orbit-spare") &&
	   procs_gone("orbit-forker"),
	   "%s: spawner, forker and spares are gone", how);
	ok(counters_back_to(&start), "%s: module counters back to start", how);
}

int main(void)
{
	scenario("exit", 0);
	scenario("SIGKILL", 1);
	return tap_done();
}
