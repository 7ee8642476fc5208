// SPDX-License-Identifier: GPL-2.0
/*
 * A call timeout covers a call that never starts: with a 200 ms timeout,
 * a sync call to an orbit whose init hangs fails with ETIMEDOUT (and the
 * calls queued behind it with ESRCH), and so does a call to an orbit that
 * was stopped (SIGSTOP) while idle; a restart policy then brings the orbit
 * back.  Without a timeout nothing is killed for being slow to start.
 */
#include <signal.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

static void *hang(void)
{
	for (;;)
		pause();
	return NULL;
}

static long ident(void *argbuf, void *store)
{
	return *(long *)argbuf;
}

static void on_alarm(int sig)
{
	printf("    not ok - a call blocked for 60 s\n");
	exit(1);
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_future *f;
	struct orbit_attr attr;
	struct orbit *ob;
	long v = 5, ret;
	double t0, dt;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	signal(SIGALRM, on_alarm);
	alarm(60);
	orbit_attr_init(&attr);
	attr.timeout_ns = 200 * 1000000ULL;
	ob = orbit_create_ex("hanginit", ident, hang, &attr);
	require(ob, "an orbit whose init hangs, 200 ms timeout");
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &v, sizeof(v));
	t0 = now_us();
	ret = orbit_call(ob, 0, NULL, NULL, &v, sizeof(v));
	ok(ret == -1 && errno == ESRCH, "the sync call behind it fails with ESRCH");
	dt = (now_us() - t0) / 1000;
	ok(f && orbit_future_get(f, &ret) == -1 && errno == ETIMEDOUT,
	   "the first queued call fails with ETIMEDOUT");
	ok(dt < 3000, "after %.0f ms", dt);
	orbit_destroy(ob);

	attr.restart = ORBIT_RESTART_ALWAYS;
	ob = orbit_create_ex("stopped", ident, NULL, &attr);
	require(ob, "an orbit with a 200 ms timeout that restarts");
	ok(orbit_call(ob, 0, NULL, NULL, &v, sizeof(v)) == 5, "a call works");
	require(procs_named("stopped", &pid) == 1 && kill(pid, SIGSTOP) == 0,
		"stop the idle orbit");
	t0 = now_us();
	ret = orbit_call(ob, 0, NULL, NULL, &v, sizeof(v));
	dt = (now_us() - t0) / 1000;
	ok(ret == -1 && errno == ETIMEDOUT,
	   "a call to the stopped orbit fails with ETIMEDOUT after %.0f ms", dt);
	ok(orbit_call(ob, 0, NULL, NULL, &v, sizeof(v)) == 5,
	   "the restarted orbit answers");
	orbit_destroy(ob);

	attr.timeout_ns = 0;
	ob = orbit_create_ex("notimeout", ident, NULL, &attr);
	require(ob, "an orbit without a timeout");
	require(procs_named("notimeout", &pid) == 1 && kill(pid, SIGSTOP) == 0,
		"stop it");
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &v, sizeof(v));
	usleep(500000);
	ok(procs_named("notimeout", NULL) == 1, "without a timeout it is not killed");
	kill(pid, SIGCONT);
	ok(f && orbit_future_get(f, &ret) == 0 && ret == 5,
	   "and answers once continued");
	orbit_destroy(ob);
	alarm(0);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
