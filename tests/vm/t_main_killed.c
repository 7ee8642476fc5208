// SPDX-License-Identifier: GPL-2.0
/*
 * Main is killed (SIGKILL) 200 times in the middle of calls: afterwards
 * no orbit or spawner survives and the module's counters are back at
 * their start values.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

#define ROUNDS	200

static long work(void *argbuf, void *store)
{
	long *p = *(long **)argbuf, s = 0, i;

	for (i = 0; i < 4096; i++)
		s += p[i];
	return s;
}

static void busy_main(int ready)
{
	struct orbit *ob = orbit_create("killed-orbit", work, NULL);
	struct orbit_area *area = orbit_area_create(1 << 20, ob);
	long *p;
	int i;

	if (!ob || !area || write(ready, "x", 1) != 1)
		_exit(1);
	p = orbit_alloc(area, 4096 * sizeof(long));
	for (i = 0;; i++) {
		p[i % 4096] = i;
		if (i % 3)
			orbit_call(ob, 1, &area, NULL, &p, sizeof(p));
		else
			orbit_call_async(ob, ORBIT_NOFUTURE, 1, &area, NULL,
					 &p, sizeof(p));
	}
}

int main(void)
{
	struct orbit_module_stats start;
	unsigned int seed = 1;
	int r, started = 0, status;
	char c;

	require(orbit_module_stats(&start) == 0, "read module counters");
	for (r = 0; r < ROUNDS; r++) {
		int p[2];
		pid_t pid;

		if (pipe(p))
			break;
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			busy_main(p[1]);
		}
		close(p[1]);
		if (read(p[0], &c, 1) == 1)
			started++;
		close(p[0]);
		usleep(rand_r(&seed) % 20000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	ok(started == ROUNDS, "%d of %d mains were killed mid-calls", started,
	   ROUNDS);
	ok(procs_gone("killed-orbit"), "no orbit survives");
	ok(procs_gone("orbit-spawner") && procs_gone("orbit-spare") &&
	   procs_gone("orbit-forker"),
	   "no spawner, forker or spare survives");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
