// SPDX-License-Identifier: GPL-2.0
/*
 * orbit_push_last: the update reaches main with the call's end, not
 * before, and one pull brings both.  It keeps its place among the
 * task's pushes (a later push or push_last sends it first).  A task that
 * crashes after it delivers nothing of it; one the module refuses fails
 * the call with the error orbit_push would have given (EMSGSIZE); a
 * fire-and-forget call drops it and still succeeds.  A large update
 * built in arena memory arrives intact, call after call.  A thread the
 * task left behind, pushing between calls, is not held over to the next.
 */
#include <pthread.h>

#include "tap.h"
#include "util.h"

#define LATE_MS	300
#define ARENA	(64 << 10)

enum { T_LATE, T_ORDER, T_CRASH, T_BIG, T_NOFUTURE, T_ARENA, T_LEAVE,
       T_LEFT };

static int push(int v, int last);

/*
 * What a thread a task left behind got from orbit_push_last, which it
 * calls between calls: once main has collected the task's call (main
 * leaves RETURNED_FILE then) and before main's next call (which waits
 * for PUSHED_FILE).
 */
#define RETURNED_FILE	"/tmp/t_push_last.returned"
#define PUSHED_FILE	"/tmp/t_push_last.pushed"
static volatile long left_ret = 1;

static void *leftover(void *unused)
{
	if (!file_appears(RETURNED_FILE, 10000)) {
		left_ret = -ETIMEDOUT;
		return NULL;
	}
	left_ret = push(9, 1) ? -errno : 0;
	file_leave(PUSHED_FILE);
	return NULL;
}

struct req {
	int what;
	int seq;
};

static struct orbit_update *one(int v)
{
	struct orbit_update *u = orbit_update_create();

	if (u && orbit_update_add_data(u, &v, sizeof(v))) {
		orbit_update_free(u);
		return NULL;
	}
	return u;
}

/* v pushed now (last: held for the end); -1 if that failed. */
static int push(int v, int last)
{
	struct orbit_update *u = one(v);

	if (!u)
		return -1;
	if (last ? orbit_push_last(u) : orbit_push(u, NULL)) {
		orbit_update_free(u);
		return -1;
	}
	return 0;
}

static long arena(int seq)
{
	struct orbit_update *u = orbit_update_create();
	unsigned char *p = orbit_update_alloc(u, ARENA);
	size_t i;

	if (!p) {
		orbit_update_free(u);
		return -1000 - errno;
	}
	for (i = 0; i < ARENA; i++)
		p[i] = (unsigned char)(i * 13 + seq);
	if (orbit_push_last(u)) {
		orbit_update_free(u);
		return -2000 - errno;
	}
	return seq;
}

static long task(void *argbuf, void *store)
{
	static char big[8192];
	struct req *r = argbuf;
	struct orbit_update *u;

	switch (r->what) {
	case T_LATE:
		if (push(1, 1))
			return -1;
		usleep(LATE_MS * 1000);
		return 5;
	case T_ORDER:	/* main sees 1 2 3 4 5 */
		if (push(1, 0) || push(2, 1) || push(3, 0) || push(4, 1) ||
		    push(5, 1))
			return -1;
		return 6;
	case T_CRASH:
		push(1, 1);
		return *(volatile long *)0;
	case T_BIG:	/* over max_update, which main lowered */
		u = orbit_update_create();
		if (!orbit_update_add_data(u, big, sizeof(big)) &&
		    !orbit_push_last(u))
			return 7;
		orbit_update_free(u);
		return -1;
	case T_NOFUTURE:
		return push(1, 1) ? -1 : 8;
	case T_ARENA:
		return arena(r->seq);
	case T_LEAVE: {
		pthread_t t;

		return pthread_create(&t, NULL, leftover, NULL) ? -1 : 0;
	}
	case T_LEFT:
		return left_ret;
	}
	return -1;
}

/* The values of the DATA updates of f, in order, into v; how many. */
static int pull_values(struct orbit_future *f, int *v, int max, long *last)
{
	struct orbit_update *u;
	int n = 0;
	long r;

	while ((r = pull_orbit(f, &u)) == 1) {
		const struct orbit_update_entry *e = orbit_update_first(u);

		if (n < max && e && e->len == sizeof(int))
			memcpy(&v[n], e->data, sizeof(int));
		n++;
		orbit_update_free(u);
	}
	*last = r;
	return n;
}

static int arena_intact(struct orbit_update *u, int seq)
{
	const struct orbit_update_entry *e = orbit_update_first(u);
	const unsigned char *p;
	size_t i;

	while (e && e->type != ORBIT_UPDATE_ARENA)
		e = orbit_update_next(u, e);
	if (!e || e->len < ARENA)
		return 0;
	p = (const unsigned char *)(uintptr_t)e->addr;
	for (i = 0; i < ARENA; i++)
		if (p[i] != (unsigned char)(i * 13 + seq))
			return 0;
	return 1;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_status os, now;
	struct orbit_future *f;
	struct orbit_update *u;
	struct orbit *ob;
	struct req r = { 0 };
	int v[8] = { 0 }, n, err, i, good, r2;
	char old[32] = "";
	long ret, last;
	double t0, waited;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("pushlast", task, NULL);
	require(ob, "orbit_create");

	r.what = T_LATE;
	t0 = now_us();
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &r, sizeof(r));
	require(f, "a call whose task pushes last, then works %d ms", LATE_MS);
	ok(pull_orbit(f, &u) == 1, "main's pull gets the update");
	waited = (now_us() - t0) / 1000;
	ok(waited >= LATE_MS * 0.9, "only when the task returned (%.0f ms)",
	   waited);
	orbit_update_free(u);
	ok(live_calls_become(start.calls),
	   "the same pull brought the end: the module holds no call");
	ok(pull_orbit(f, &u) == 0, "the next pull reports the end");
	r2 = orbit_future_get(f, &ret);
	ok(r2 == 0 && ret == 5, "orbit_future_get: the task's value (%ld)",
	   ret);

	r.what = T_ORDER;
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &r, sizeof(r));
	require(f, "a call mixing push and push_last");
	n = pull_values(f, v, 8, &last);
	ok(n == 5 && v[0] == 1 && v[1] == 2 && v[2] == 3 && v[3] == 4 &&
	   v[4] == 5 && last == 0,
	   "updates arrive in the order pushed (%d: %d %d %d %d %d)", n,
	   v[0], v[1], v[2], v[3], v[4]);
	r2 = orbit_future_get(f, &ret);
	ok(r2 == 0 && ret == 6, "and the task's value (%ld)", ret);

	require(param_read("max_update", old, sizeof(old)) == 0,
		"read max_update");
	require(param_write("max_update", "4096") == 0, "max_update=4096");
	r.what = T_BIG;
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &r, sizeof(r));
	n = f ? pull_values(f, v, 8, &last) : -1;
	err = errno;
	require(param_write("max_update", old) == 0, "max_update restored");
	ok(n == 0 && last == -1 && err == EMSGSIZE,
	   "a task that pushes last 8 KiB: the call fails with EMSGSIZE "
	   "(%d, %ld, %s)", n, last, strerror(err));
	if (f)
		orbit_future_get(f, NULL);

	require(orbit_status(ob, &os) == 0, "orbit_status");
	r.what = T_NOFUTURE;
	errno = 0;
	ok(!orbit_call_async(ob, ORBIT_NOFUTURE, 0, NULL, NULL, &r, sizeof(r)) &&
	   errno == 0, "a fire-and-forget call whose task pushes last");
	r.what = T_LATE;	/* queued behind it: it has ended after this */
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &r, sizeof(r));
	require(f, "and a call after it");
	orbit_future_get(f, NULL);
	r2 = orbit_status(ob, &now);
	ok(r2 == 0 && now.calls_failed == os.calls_failed &&
	   now.calls_done >= os.calls_done + 2,
	   "the fire-and-forget call succeeded (failed %llu -> %llu)",
	   (unsigned long long)os.calls_failed,
	   (unsigned long long)now.calls_failed);

	for (good = 0, i = 0; i < 4; i++) {
		r.what = T_ARENA;
		r.seq = i;
		ret = orbit_call(ob, 0, NULL, NULL, &r, sizeof(r));
		if (ret == i && pull_orbit(NULL, &u) == 1) {
			good += arena_intact(u, i);
			orbit_update_free(u);
		} else {
			diag("call %d: %ld", i, ret);
		}
	}
	ok(good == 4, "64 KiB built in arena memory and pushed last: intact, "
	   "4 calls in a row (%d)", good);

	unlink(RETURNED_FILE);
	unlink(PUSHED_FILE);
	r.what = T_LEAVE;
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &r, sizeof(r));
	require(f, "a task that leaves a thread behind");
	n = pull_values(f, v, 8, &last);
	orbit_future_get(f, NULL);
	require(file_leave(RETURNED_FILE) == 0 &&
		file_appears(PUSHED_FILE, 10000),
		"its thread pushed after the call");
	unlink(RETURNED_FILE);
	unlink(PUSHED_FILE);
	r.what = T_LEFT;
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &r, sizeof(r));
	require(f, "and the next call");
	n += pull_values(f, v, 8, &last);
	r2 = orbit_future_get(f, &ret);
	ok(n == 0 && r2 == 0 && ret == -EINVAL,
	   "orbit_push_last from that thread between calls pushes at once and "
	   "fails (EINVAL); no call gets its update (%d, %ld)", n, ret);

	r.what = T_CRASH;
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &r, sizeof(r));
	require(f, "a call whose task pushes last, then crashes");
	n = pull_values(f, v, 8, &last);
	err = errno;
	ok(n == 0 && last == -1 && err == ESRCH,
	   "nothing arrives, the call fails with ESRCH (%d, %ld, %s)", n,
	   last, strerror(err));
	orbit_future_get(f, NULL);
	orbit_destroy(ob);

	u = one(1);
	ok(orbit_push_last(u) == -1 && errno == EPERM,
	   "orbit_push_last outside a task: EPERM");
	orbit_update_free(u);
	ok(orbit_push_last(NULL) == -1 && errno == EINVAL, "no update: EINVAL");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
