// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters rewritten by root while calls run.  A parameter read
 * on the call path (poll_us, write_around, debug_full_snapshot,
 * max_update, max_queue, max_arg, max_call_areas) takes effect at its
 * next use: a change in the middle of a call, a poll, a write fault or a
 * push breaks no call, no orbit and not the kernel.  One thread rewrites
 * them among valid values, one at a time and back, while two threads,
 * each with an orbit and a 64-page area of its own, rewrite their area
 * and call, sync and async, with tasks that check every page and push an
 * update of 64 bytes, 8 KiB or 1 MiB.  Each call returns what its task
 * saw (the round main wrote before it) or fails with the errno of a
 * limit in force (EINVAL: argument or areas over max_arg or
 * max_call_areas; EAGAIN: max_queue calls queued); each push arrives
 * whole or fails in the task with the errno of max_update (EMSGSIZE,
 * ENOBUFS); no orbit dies.  With the parameters restored, calls work
 * and the module's counters return to their start.  The harness fails
 * the run on any kernel report.
 */
#include <pthread.h>

#include "tap.h"
#include "util.h"

#define NPAGES		64
#define WORDS		(4096 / sizeof(long))
#define SECONDS		20
#define NWORKERS	2

/* Each parameter's values, the first the permissive one it returns to. */
struct churned {
	const char *name;
	const char *vals[4];
};

static const struct churned churned[] = {
	{ "poll_us", { "500", "0", "1", "5000" } },
	{ "write_around", { "16", "0", "2", "32" } },
	{ "debug_full_snapshot", { "0", "1", "0", "1" } },
	{ "max_update", { "16777216", "4096", "65536", "1048576" } },
	{ "max_queue", { "4096", "1", "2", "4096" } },
	{ "max_arg", { "65536", "16", "4096", "1073741824" } },
	{ "max_call_areas", { "64", "0", "1", "4096" } },
};
#define NCHURNED	(sizeof(churned) / sizeof(churned[0]))

static struct param_saved saved[NCHURNED];

static const size_t push_sizes[] = { 64, 8192, 1 << 20 };

struct task_arg {
	long *base;
	long round;
	size_t push;	/* bytes of the update to push; 0: none */
};

/* Task results besides the round: what went wrong in the orbit. */
#define BAD_PAGES	-1000	/* a page not of the call's round */
#define BAD_PUSH	-1001	/* a push failed for no limit's reason */

static volatile int stop;
static long churn_writes, churn_failed;

/* The call's round if every page holds it and the push went as it may. */
static long check_and_push(void *argbuf, void *store)
{
	const struct task_arg *a = argbuf;
	struct orbit_update *u;
	unsigned char *data;
	int p, err = 0;

	for (p = 0; p < NPAGES; p++)
		if (a->base[p * WORDS] != a->round)
			return BAD_PAGES;
	if (!a->push)
		return a->round;
	u = orbit_update_create();
	data = malloc(a->push);
	if (!u || !data)
		return BAD_PUSH;
	memset(data, (unsigned char)a->round, a->push);
	if (orbit_update_add_data(u, data, a->push) || orbit_push(u, NULL))
		err = errno;
	free(data);
	if (err)
		orbit_update_free(u);
	return !err || err == EMSGSIZE || err == ENOBUFS ? a->round : BAD_PUSH;
}

/*
 * Writes a parameter's value, any of its four, then its first back: at
 * most one restrictive limit is in force at a time.
 */
static void *churner(void *unused)
{
	unsigned int seed = 1;
	const struct churned *c;
	int k;

	while (!stop) {
		c = &churned[rand_r(&seed) % NCHURNED];
		for (k = 0; k < 2; k++) {
			churn_writes++;
			if (param_write(c->name,
					c->vals[k ? 0 : rand_r(&seed) % 4]))
				churn_failed++;
			usleep(rand_r(&seed) % 2000);
		}
	}
	return NULL;
}

struct worker {
	struct orbit *ob;
	struct orbit_area *area;
	long calls, done, refused, bad, updates, bad_updates;
};

/* Pulls the updates of f (NULL: of the last sync call) and checks them. */
static void drain(struct worker *w, struct orbit_future *f,
		  const struct task_arg *a)
{
	const struct orbit_update_entry *e;
	struct orbit_update *u;
	size_t i, wrong;

	while (pull_orbit(f, &u) == 1) {
		e = orbit_update_first(u);
		wrong = !e || e->len != a->push;
		for (i = 0; !wrong && i < a->push; i++)
			wrong = e->data[i] != (unsigned char)a->round;
		w->updates++;
		w->bad_updates += wrong;
		orbit_update_free(u);
	}
}

/* One call's outcome: its result, or the errno of a failed call. */
static void outcome(struct worker *w, int failed, long ret,
		    const struct task_arg *a)
{
	w->calls++;
	if (!failed && ret == a->round) {
		w->done++;
	} else if (failed && (errno == EINVAL || errno == EAGAIN)) {
		w->refused++;
	} else {
		w->bad++;
		diag("call %ld: %s %ld", w->calls, failed ? "errno" : "result",
		     failed ? (long)errno : ret);
	}
}

static void one_call(struct worker *w, struct task_arg *a)
{
	struct orbit_future *f;
	long ret = 0;
	int p, failed;

	a->round++;
	for (p = 0; p < NPAGES; p++)
		a->base[p * WORDS] = a->round;
	a->push = a->round % 4 ? push_sizes[a->round % 3] : 0;
	if (a->round % 2) {
		ret = orbit_call(w->ob, 1, &w->area, NULL, a, sizeof(*a));
		failed = ret == -1;
		if (!failed)
			drain(w, NULL, a);
		outcome(w, failed, ret, a);
		return;
	}
	f = orbit_call_async(w->ob, 0, 1, &w->area, NULL, a, sizeof(*a));
	if (!f) {
		outcome(w, 1, 0, a);
		return;
	}
	drain(w, f, a);
	failed = orbit_future_get(f, &ret) != 0;
	outcome(w, failed, ret, a);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct task_arg a = { .base = orbit_area_base(w->area) };

	while (!stop)
		one_call(w, &a);
	return NULL;
}

int main(void)
{
	struct orbit_module_stats start, before, after;
	struct worker wk[NWORKERS] = { 0 };
	struct task_arg a;
	pthread_t th[NWORKERS], ch;
	long calls = 0, done = 0, bad = 0, updates = 0, bad_updates = 0;
	long refused = 0, last_ok = 0;
	unsigned int i;

	for (i = 0; i < NCHURNED; i++)
		saved[i].name = churned[i].name;
	require(params_save(saved, NCHURNED) == 0, "read the parameters");
	require(orbit_module_stats(&start) == 0, "read module counters");
	for (i = 0; i < NWORKERS; i++) {
		wk[i].ob = orbit_create("churn", check_and_push, NULL);
		wk[i].area = wk[i].ob ?
			     orbit_area_create(NPAGES * 4096, wk[i].ob) : NULL;
		require(wk[i].area, "orbit %u and its area", i);
	}
	require(orbit_module_stats(&before) == 0, "read module counters");
	for (i = 0; i < NWORKERS; i++)
		require(pthread_create(&th[i], NULL, work, &wk[i]) == 0,
			"worker %u", i);
	require(pthread_create(&ch, NULL, churner, NULL) == 0, "the churner");
	sleep(SECONDS);
	stop = 1;
	pthread_join(ch, NULL);
	for (i = 0; i < NWORKERS; i++) {
		pthread_join(th[i], NULL);
		calls += wk[i].calls;
		done += wk[i].done;
		refused += wk[i].refused;
		bad += wk[i].bad;
		updates += wk[i].updates;
		bad_updates += wk[i].bad_updates;
	}
	ok(churn_writes >= 1000 && !churn_failed,
	   "%ld parameter writes, every one taken (%ld refused)",
	   churn_writes, churn_failed);
	ok(done >= 500 && refused > 0,
	   "%ld calls, %ld returned their round, %ld refused by a limit",
	   calls, done, refused);
	ok(!bad, "no call failed otherwise or saw another round (%ld)", bad);
	ok(updates > 0 && !bad_updates,
	   "%ld updates pulled, every one whole (%ld not)", updates,
	   bad_updates);
	require(orbit_module_stats(&after) == 0, "read module counters");
	ok(after.orbit_deaths == before.orbit_deaths,
	   "no orbit died (%llu deaths)",
	   (unsigned long long)(after.orbit_deaths - before.orbit_deaths));

	require(params_restore(saved, NCHURNED) == 0,
		"the parameters written back");
	for (i = 0; i < NWORKERS; i++) {
		memset(&a, 0, sizeof(a));
		a.base = orbit_area_base(wk[i].area);
		a.round = 1000000;
		done = wk[i].done;
		one_call(&wk[i], &a);	/* sync: round 1000001 is odd */
		one_call(&wk[i], &a);	/* async */
		last_ok += wk[i].done == done + 2;
	}
	ok(last_ok == NWORKERS,
	   "with them restored, each orbit's next two calls work");
	for (i = 0; i < NWORKERS; i++) {
		orbit_area_destroy(wk[i].area);
		orbit_destroy(wk[i].ob);
	}
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
