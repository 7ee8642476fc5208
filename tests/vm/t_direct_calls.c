// SPDX-License-Identifier: GPL-2.0
/*
 * Direct calls (ORBIT_DIRECT): a call copies the area at the call, so the
 * task sees the area as it was then and never main's later writes; calls run
 * in order; the task's updates reach main through the ring (a sync call's
 * through pull_orbit(NULL)) and orbit_apply() changes main, unless the orbit
 * is observe-only; an area too large for a slot is E2BIG; a direct orbit
 * sees main's globals as they were at its creation, and again after
 * orbit_sync_globals(); a killed orbit fails the call waited for, and the
 * calls queued behind it, with ESRCH, never a hang, and its restart policy
 * brings a new process that answers the next call; a destroy with a call
 * running fails its future with ESRCH; an exec of main ends its direct
 * orbits, a call still running included.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

static long global_seen = 1;

static long global_task(void *argbuf, void *store)
{
	return global_seen;
}

struct arg {
	long *vals;
	int n;
	int sleep_ms;
};

static long sum_task(void *argbuf, void *store)
{
	struct arg *a = argbuf;
	long s = 0;
	int i;

	if (a->sleep_ms)
		usleep(a->sleep_ms * 1000);
	for (i = 0; i < a->n; i++)
		s += a->vals[i];
	return s;
}

/* Pushes a modify: vals[0] = the sum of the rest; and data: the sum. */
static long fix_task(void *argbuf, void *store)
{
	struct arg *a = argbuf;
	struct orbit_update *u = orbit_update_create();
	long s = 0;
	int i;

	for (i = 1; i < a->n; i++)
		s += a->vals[i];
	if (!u || orbit_update_add_data(u, &s, sizeof(s)) ||
	    orbit_update_add_modify(u, &a->vals[0], &s, sizeof(s)) ||
	    orbit_push(u, NULL))
		return -1;
	return 7;
}

/*
 * A direct orbit (ORBIT_DIRECT and flags, restart policy restart) with
 * an area of its own holding n longs (*vals); NULL if any step failed.
 */
static struct orbit *direct_orbit(orbit_entry entry, unsigned int flags,
				  enum orbit_restart restart,
				  struct orbit_area **area, long **vals, int n)
{
	struct orbit_attr attr;
	struct orbit *ob;

	orbit_attr_init(&attr);
	attr.flags = ORBIT_DIRECT | flags;
	attr.restart = restart;
	ob = orbit_create_ex("direct", entry, NULL, &attr);
	*area = ob ? orbit_area_create(1 << 20, ob) : NULL;
	*vals = *area ? orbit_alloc(*area, n * sizeof(long)) : NULL;
	return *vals ? ob : NULL;
}

/* After the exec: the direct orbit's process goes (5 s at most). */
static int after_exec(void)
{
	return procs_gone("direct-exec") ? 0 : 1;
}

/*
 * A child of main: a direct orbit running a call that sleeps a minute,
 * another queued, then an exec that keeps the context's descriptor.
 */
static int exec_child(const char *argv0)
{
	struct orbit_area *area;
	struct orbit_attr attr;
	struct orbit *ob;
	struct arg a = { .n = 1, .sleep_ms = 60000 };
	int fd, i;

	orbit_attr_init(&attr);
	attr.flags = ORBIT_DIRECT;
	ob = orbit_create_ex("direct-exec", sum_task, NULL, &attr);
	area = ob ? orbit_area_create(1 << 20, ob) : NULL;
	a.vals = area ? orbit_alloc(area, sizeof(long)) : NULL;
	if (!a.vals)
		return 3;
	for (i = 0; i < 2; i++) {
		errno = 0;
		orbit_call_async(ob, ORBIT_NOFUTURE, 1, &area, NULL, &a,
				 sizeof(a));
		if (errno)
			return 4;
	}
	usleep(100000);		/* the first call runs */
	if (procs_named("direct-exec", NULL) != 1)
		return 7;	/* the process to watch for */
	fd = fd_linked_to("/dev/orbit");
	if (fd < 0 || dup2(fd, 100) != 100)	/* not close-on-exec */
		return 5;
	execl("/proc/self/exe", argv0, "after-exec", (char *)NULL);
	return 6;
}

int main(int argc, char **argv)
{
	struct orbit_future *f[8];
	const struct orbit_update_entry *e;
	struct orbit_update *u;
	struct orbit_area *area, *big;
	struct orbit_attr attr;
	struct orbit *ob, *bad;
	struct arg a = { 0 };
	long *vals, ret, got, want;
	int i, k, good;

	if (argc > 1)
		return after_exec();
	orbit_attr_init(&attr);
	attr.flags = ORBIT_DIRECT;
	ob = orbit_create_ex("direct", global_task, NULL, &attr);
	require(ob, "a direct orbit with fresh globals");
	ok(orbit_call(ob, 0, NULL, NULL, NULL, 0) == 1, "it sees global_seen = 1");
	global_seen = 2;
	bad = orbit_create_ex("direct", global_task, NULL, &attr);
	require(bad, "another, after main set global_seen = 2");
	ok(orbit_call(bad, 0, NULL, NULL, NULL, 0) == 2, "the new one sees 2");
	orbit_destroy(bad);
	ok(orbit_call(ob, 0, NULL, NULL, NULL, 0) == 1, "the first still 1");
	global_seen = 3;
	ok(orbit_sync_globals(ob) == 0 &&
	   orbit_call(ob, 0, NULL, NULL, NULL, 0) == 3,
	   "after orbit_sync_globals() it sees 3");
	{
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			char buf[512];
			FILE *m = fopen("/proc/self/maps", "r");
			int found = 0, fd;

			while (m && fgets(buf, sizeof(buf), m))
				found |= !!strstr(buf, "orbit-ring");
			for (fd = 0; fd < 256; fd++) {
				char link[64], path[64];
				ssize_t n;

				snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
				n = readlink(path, link, sizeof(link) - 1);
				if (n > 0) {
					link[n] = 0;
					found |= !!strstr(link, "orbit-ring");
				}
			}
			_exit(found);
		}
		ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		   WEXITSTATUS(st) == 0,
		   "a fork child of main has neither the ring's mapping nor its descriptor");
	}
	orbit_destroy(ob);

	ob = direct_orbit(sum_task, ORBIT_SPAWNER_GLOBALS, ORBIT_RESTART_NEVER,
			  &area, &vals, 512);
	require(ob, "a direct orbit, an area of 512 longs");
	for (i = 0; i < 512; i++)
		vals[i] = i;
	a.vals = vals;
	a.n = 512;
	errno = 1;
	ret = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
	ok(ret == 511L * 512 / 2 && errno == 0, "a sync call sums the area (%ld)",
	   ret);

	/* Eight calls in flight, main changing the area after each. */
	a.sleep_ms = 20;
	good = 1;
	for (k = 0; k < 8; k++) {
		f[k] = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
		good &= f[k] != NULL;
		vals[0] += 1000;
	}
	ok(good, "eight async calls in flight");
	for (k = 0, want = 511L * 512 / 2; k < 8 && good; k++) {
		good &= orbit_future_get(f[k], &got) == 0 && got == want;
		want += 1000;
	}
	ok(good, "each saw the area as it was at its call, in order");
	a.sleep_ms = 0;

	big = orbit_area_create(1 << 20, ob);
	require(big && orbit_alloc(big, 128 << 10), "a second area, 128 KiB used");
	f[0] = orbit_call_async(ob, 0, 1, &big, NULL, &a, sizeof(a));
	ok(!f[0] && errno == E2BIG, "an area larger than a slot: E2BIG");
	f[0] = orbit_call_async(ob, ORBIT_LATEST, 1, &area, NULL, &a, sizeof(a));
	ok(!f[0] && errno == EINVAL, "ORBIT_LATEST: EINVAL");
	orbit_destroy(ob);

	ob = direct_orbit(fix_task, ORBIT_SPAWNER_GLOBALS, ORBIT_RESTART_NEVER,
			  &area, &vals, 16);
	require(ob, "a direct orbit that pushes updates, and its area");
	for (i = 0; i < 16; i++)
		vals[i] = i;
	a.vals = vals;
	a.n = 16;
	f[0] = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
	require(f[0], "call it");
	ret = pull_orbit(f[0], &u);
	ok(ret == 1, "pull its update");
	if (ret == 1) {
		e = orbit_update_first(u);
		ok(e && e->type == ORBIT_UPDATE_DATA && e->len == sizeof(long) &&
		   *(const long *)e->data == 120, "its data entry holds 120");
		ok(orbit_apply(u) == 0 && vals[0] == 120,
		   "orbit_apply() wrote vals[0] = 120 in main");
		orbit_update_free(u);
	}
	ok(pull_orbit(f[0], &u) == 0, "then the call's end");
	ok(orbit_future_get(f[0], &got) == 0 && got == 7, "its result, 7");
	vals[0] = 0;
	errno = 1;
	ret = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
	ok(ret == 7 && errno == 0, "a sync call to it returns 7");
	ok(pull_orbit(NULL, &u) == 1 && orbit_apply(u) == 0 && vals[0] == 120,
	   "its update, pulled with pull_orbit(NULL), sets vals[0] = 120");
	orbit_update_free(u);
	ok(pull_orbit(NULL, &u) == 0, "then nothing is left");
	orbit_destroy(ob);

	ob = direct_orbit(fix_task, ORBIT_OBSERVE_ONLY, ORBIT_RESTART_NEVER,
			  &area, &vals, 16);
	require(ob, "an observe-only direct orbit, and its area");
	a.vals = vals;
	a.n = 16;
	f[0] = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
	require(f[0], "call it");
	ok(pull_orbit(f[0], &u) == 0, "no update reaches main");
	ok(orbit_future_get(f[0], &got) == 0 && got == -1,
	   "its push failed in the orbit (the task returned -1)");
	orbit_destroy(ob);

	/* Destroyed while a call runs: the future keeps the ring mapped. */
	ob = direct_orbit(sum_task, ORBIT_SPAWNER_GLOBALS, ORBIT_RESTART_ALWAYS,
			  &area, &vals, 16);
	require(ob, "a direct orbit to destroy, and its area");
	a.vals = vals;
	a.n = 16;
	a.sleep_ms = 60000;
	f[0] = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
	require(f[0], "a call that sleeps a minute");
	usleep(100000);
	ok(orbit_destroy(ob) == 0, "destroy the orbit while the call runs");
	{
		double t0 = now_us();

		ok(orbit_future_get(f[0], &got) == -1 && errno == ESRCH &&
		   now_us() - t0 < 5e6,
		   "the call's future then fails with ESRCH, at once");
	}
	a.sleep_ms = 0;

	ob = direct_orbit(sum_task, ORBIT_SPAWNER_GLOBALS, ORBIT_RESTART_ALWAYS,
			  &area, &vals, 16);
	require(ob, "a direct orbit to kill, restarted always, and its area");
	a.vals = vals;
	a.n = 16;
	a.sleep_ms = 60000;
	for (i = 0; i < 16; i++)
		vals[i] = 1;
	f[0] = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
	require(f[0], "a call that sleeps a minute");
	a.sleep_ms = 0;
	f[1] = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
	require(f[1], "and a call queued behind it");
	usleep(200000);
	{
		struct orbit_status st;

		ok(orbit_status(ob, &st) == 0 && st.pid > 0 &&
		   kill(st.pid, SIGKILL) == 0, "kill the orbit");
	}
	{
		double t0 = now_us();

		ok(orbit_future_get(f[0], &got) == -1 && errno == ESRCH,
		   "the call fails with ESRCH");
		ok(now_us() - t0 < 5e6, "within 5 s (%.0f ms)",
		   (now_us() - t0) / 1000);
	}
	ok(orbit_future_get(f[1], &got) == -1 && errno == ESRCH,
	   "the call queued behind it fails with ESRCH too");
	errno = 0;
	ret = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
	ok(ret == 16 && errno == 0, "the next call is answered (%ld, %s)", ret,
	   strerror(errno));
	{
		struct orbit_status st;

		ok(orbit_status(ob, &st) == 0 && st.restarts == 1,
		   "by a restarted process");
	}
	orbit_destroy(ob);

	{
		struct orbit_module_stats before;
		pid_t pid;
		int st = -1;

		/* The orbits destroyed above go first (asynchronously). */
		for (i = 0; i < 100; i++) {
			if (orbit_module_stats(&before) || !before.orbits)
				break;
			usleep(50000);
		}
		require(orbit_module_stats(&before) == 0, "read module counters");
		pid = fork();
		if (pid == 0)
			_exit(exec_child(argv[0]));
		waitpid(pid, &st, 0);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		   "an exec of main ends its direct orbit, a call running (status %#x)",
		   st);
		ok(counters_back_to(&before),
		   "and releases the orbit, its area and its calls");
	}
	return tap_done();
}
