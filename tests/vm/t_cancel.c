// SPDX-License-Identifier: GPL-2.0
/*
 * Cancellation: a queued call cancelled with orbit_cancel() fails with
 * ECANCELED and never runs; a running call cannot be cancelled (EBUSY),
 * nor an ended one (EALREADY); NULL is EINVAL and a future inherited
 * across fork() EBADF.  ORBIT_LATEST: a new call cancels the queued calls
 * of the same function that have not started, and only those.
 */
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

static long ran_f, ran_g;

#define RUNNING_FILE	"/tmp/t_cancel.running"

/* Sleeps for its argument's ms, having told main it runs. */
static long slow(void *argbuf, void *store)
{
	file_leave(RUNNING_FILE);
	usleep(*(int *)argbuf * 1000);
	return 0;
}

static long f(void *argbuf, void *store)
{
	ran_f++;
	return *(int *)argbuf;
}

static long g(void *argbuf, void *store)
{
	ran_g++;
	return 1000 + *(int *)argbuf;
}

static long counts(void *argbuf, void *store)
{
	return ran_f * 1000 + ran_g;
}

static struct orbit_future *call(struct orbit *ob, int flags, orbit_entry fn,
				 int arg)
{
	return orbit_call_async(ob, flags, 0, NULL, fn, &arg, sizeof(arg));
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_future *blk, *a, *b, *l[5], *o = NULL;
	struct orbit *ob;
	long ret;
	int i, status, ok_all;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("cancel", NULL, NULL);
	require(ob != NULL, "orbit_create");

	unlink(RUNNING_FILE);
	blk = call(ob, 0, slow, 400);
	require(blk && file_appears(RUNNING_FILE, 10000) &&
		unlink(RUNNING_FILE) == 0, "a slow call, running");
	a = call(ob, 0, f, 1);
	b = call(ob, 0, f, 2);
	require(a && b, "two calls queued behind it");
	ok(orbit_cancel(blk) == -1 && errno == EBUSY,
	   "cancel the running call: EBUSY");
	ok(orbit_cancel(a) == 0, "cancel a queued call");
	ok(orbit_cancel(a) == -1 && errno == EALREADY,
	   "cancel it again: EALREADY (it ended, cancelled)");
	ok(orbit_future_get(a, &ret) == -1 && errno == ECANCELED,
	   "its future: ECANCELED");
	ok(orbit_future_get(b, &ret) == 0 && ret == 2, "the other call ran");
	ok(orbit_future_get(blk, NULL) == 0, "the slow call ended normally");
	ok(orbit_call(ob, 0, NULL, counts, NULL, 0) == 1000,
	   "the cancelled call never ran");

	a = call(ob, 0, f, 3);
	require(a && orbit_idle_within(ob, 10000), "a call, ended");
	ok(orbit_cancel(a) == -1 && errno == EALREADY,
	   "cancel a call that ended (not yet collected): EALREADY");
	ok(orbit_future_get(a, &ret) == 0 && ret == 3, "its result stands");
	ok(orbit_cancel(NULL) == -1 && errno == EINVAL, "cancel NULL: EINVAL");

	blk = call(ob, 0, slow, 300);
	a = call(ob, 0, f, 4);
	pid = fork();
	if (pid == 0)
		_exit(orbit_cancel(a) == -1 && errno == EBADF ? 0 : 1);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a fork child cancelling its parent's future: EBADF");
	ok(orbit_future_get(a, &ret) == 0 && ret == 4,
	   "the parent's call ran all the same");
	orbit_future_get(blk, NULL);

	/* ORBIT_LATEST */
	unlink(RUNNING_FILE);
	blk = call(ob, 0, slow, 400);
	require(blk && file_appears(RUNNING_FILE, 10000), "a slow call, running");
	for (i = 0; i < 5; i++) {
		l[i] = call(ob, ORBIT_LATEST, f, 10 + i);
		if (i == 2)
			o = call(ob, 0, g, 7);
	}
	for (ok_all = 1, i = 0; i < 4; i++)
		ok_all &= l[i] && orbit_future_get(l[i], &ret) == -1 &&
			  errno == ECANCELED;
	ok(ok_all, "ORBIT_LATEST: the four older calls of f fail with ECANCELED");
	ok(l[4] && orbit_future_get(l[4], &ret) == 0 && ret == 14,
	   "the latest call of f runs");
	ok(o && orbit_future_get(o, &ret) == 0 && ret == 1007,
	   "a queued call of another function is left alone");
	orbit_future_get(blk, NULL);
	ok(orbit_call(ob, 0, NULL, counts, NULL, 0) == 4001,
	   "of the five calls of f one ran; g ran");
	ok(orbit_call_async(ob, 1 << 5, 0, NULL, f, NULL, 0) == NULL &&
	   errno == EINVAL, "an unknown flag: EINVAL");

	unlink(RUNNING_FILE);
	ok(orbit_destroy(ob) == 0, "orbit_destroy");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
