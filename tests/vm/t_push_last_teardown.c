// SPDX-License-Identifier: GPL-2.0
/*
 * Teardown races with an update pushed with the call's end: the orbit's
 * RUN appends it (copied, or 64 KiB of arena pages pinned) and ends the
 * call while main exits, is killed, destroys the orbit, or drops the
 * future unpulled.  Many rounds under the guest's memory debugging: no
 * oops, no leak (the module's live counters come back), no orbit left.
 */
#include <signal.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

#define ROUNDS	40
#define ARENA	(64 << 10)

/* Pushes last: a small update, or (odd calls) 64 KiB of arena memory. */
static long task(void *argbuf, void *store)
{
	long n = *(long *)argbuf;
	struct orbit_update *u = orbit_update_create();

	if (!u)
		return -1;
	if (n & 1) {
		unsigned char *p = orbit_update_alloc(u, ARENA);

		if (p)
			memset(p, (int)n, ARENA);
	} else {
		orbit_update_add_data(u, &n, sizeof(n));
	}
	if (orbit_push_last(u)) {
		orbit_update_free(u);
		return -1;
	}
	return n;
}

/* A main that keeps calls ending, then leaves as how says. */
static void doomed_main(int how)
{
	struct orbit *ob = orbit_create("pl-teardown", task, NULL);
	struct orbit_future *f[16];
	struct orbit_update *u;
	long i;

	if (!ob)
		_exit(1);
	for (i = 0; i < 16; i++)
		f[i] = orbit_call_async(ob, 0, 0, NULL, NULL, &i, sizeof(i));
	if (f[0])
		pull_orbit(f[0], &u);	/* the first has ended: now race */
	switch (how) {
	case 0:
		_exit(0);			/* futures unpulled */
	case 1:
		kill(getpid(), SIGKILL);	/* killed mid-flight */
		break;
	case 2:
		orbit_destroy(ob);		/* the orbit killed */
		_exit(0);
	}
	_exit(0);
}

int main(void)
{
	struct orbit_module_stats start;
	int r, bad = 0, status;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	for (r = 0; r < ROUNDS; r++) {
		pid = fork();
		if (pid == 0)
			doomed_main(r % 3);
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			bad++;
	}
	ok(!bad, "%d mains left while calls ended with a pushed update", ROUNDS);
	ok(procs_gone("pl-teardown"), "no orbit process left");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
