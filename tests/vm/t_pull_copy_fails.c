// SPDX-License-Identifier: GPL-2.0
/*
 * A pull whose copy fails after the update is off its call, even when
 * the call ends in between.  The test holds the pull inside its copy of
 * the update (the buffer's first page is missing and a userfaultfd serves
 * it: pull_hold.h), meanwhile lets the call go on running, kills its
 * orbit, or destroys it, and then lets the copy fail:
 *  - the status cannot be written (made read-only): EFAULT, and nothing
 *    is lost: the update goes back, the next pull returns it, then the
 *    call's end;
 *  - the next page of a large update (its pages moved) reads a memory
 *    error (mc_copy=1, debug_mc_fail: see t_mc_copy): EHWPOISON, the
 *    update is lost and freed (its pages unpinned though their orbit is
 *    gone), and the next pull reports the end.
 */
#include <signal.h>

#include "tap.h"
#include "util.h"
#include "pull_hold.h"

#define PAGE	4096
#define VALUE	0x5eed1234L
#define BIG	(64 << 10)	/* moved, not copied, at the push */

enum end_how { RUNNING, KILLED, DESTROYED };
enum fail_how { STATUS_RO, PAGE_POISONED };

static const char *const how_name[] = {
	[RUNNING] = "the call still running",
	[KILLED] = "the orbit killed",
	[DESTROYED] = "the orbit destroyed",
};

static const char *const fail_name[] = {
	[STATUS_RO] = "status read-only",
	[PAGE_POISONED] = "a page's copy fails",
};

/*
 * Pushes one update (VALUE, or with *argbuf BIG bytes of 7s), then ends
 * with 7 once main sends SIGUSR1 (or 5 s).
 */
static long push_then_wait(void *argbuf, void *store)
{
	struct orbit_update *u = orbit_update_create();
	long v = VALUE;
	char *big = NULL;

	if (!u)
		return -1;
	if (*(int *)argbuf) {
		big = malloc(BIG);
		if (!big)
			return -1;
		memset(big, 7, BIG);
	}
	if (big ? orbit_update_add_data(u, big, BIG) :
		  orbit_update_add_data(u, &v, sizeof(v)))
		return -1;
	if (orbit_push(u, NULL))
		return -1;
	free(big);
	wait_sigusr1(5);
	return 7;
}

/* The copy's failure the pull answers, as the case wants it. */
static void copy_fail(struct pull_hold *h, enum fail_how fail,
		      const char *name)
{
	if (fail == STATUS_RO)
		require(mprotect(h->req, PAGE, PROT_READ) == 0,
			"%s: status made read-only", name);
	else
		require(mc_fail_inject(1) == 0,
			"%s: the next copy fails", name);
}

static void one_case(enum end_how how, enum fail_how fail)
{
	int big = fail == PAGE_POISONED;
	char name[96];
	struct orbit_update *u = NULL;
	struct orbit_status st;
	struct orbit_future *f;
	struct pull_hold h;
	struct orbit *ob;
	int got_end;
	long r, v = 0, ret = 0;

	snprintf(name, sizeof(name), "%s, %s", fail_name[fail], how_name[how]);
	ob = orbit_create("pullcopy", push_then_wait,
			  init_blocking_sigusr1);
	require(ob, "%s: orbit_create", name);
	f = orbit_call_async(ob, 0, 0, NULL, NULL, &big, sizeof(big));
	require(f, "%s: async call", name);
	require(pull_hold_start(&h, f, 2 * BIG) == 0,
		"%s: the pull copies the update out", name);
	require(orbit_status(ob, &st) == 0 && st.pid > 0,
		"%s: the orbit's process", name);

	/* The pull is inside its copy: the update is off the call. */
	if (how == KILLED) {
		kill(st.pid, SIGKILL);
		ok(orbit_dead_within(ob, 2000), "%s: the orbit is dead during the pull", name);
	} else if (how == DESTROYED) {
		ok(orbit_destroy(ob) == 0, "%s: orbit_destroy during the pull",
		   name);
		ob = NULL;
	}
	copy_fail(&h, fail, name);
	require(pull_hold_release(&h) == 0, "%s: fault served", name);
	if (fail == STATUS_RO) {
		ok(h.rc == -1 && h.err == EFAULT,
		   "%s: the pull fails with EFAULT (%d, %s)", name, h.rc,
		   strerror(h.err));
	} else {
		ok(h.rc == -1 && h.err == EHWPOISON && mc_fail_consumed(),
		   "%s: the pull fails with EHWPOISON, the failure consumed (%d, %s)",
		   name, h.rc, strerror(h.err));
	}

	if (how == RUNNING)
		kill(st.pid, SIGUSR1);
	if (fail == STATUS_RO) {
		r = pull_orbit(f, &u);
		if (r == 1 && orbit_update_first(u))
			memcpy(&v, orbit_update_first(u)->data, sizeof(v));
		ok(r == 1 && v == VALUE,
		   "%s: the next pull returns the update (%ld, %#lx)", name,
		   r, v);
		orbit_update_free(u);
		u = NULL;
	}
	r = pull_orbit(f, &u);
	got_end = r == 0 || (r == -1 && errno == ESRCH);
	if (how == RUNNING)
		ok(r == 0, "%s: then the end (%ld, %s)", name, r,
		   r ? strerror(errno) : "0");
	else
		ok(r == -1 && errno == ESRCH, "%s: then the end, ESRCH (%ld, %s)",
		   name, r, r ? strerror(errno) : "0");
	r = orbit_future_get(f, &ret);
	ok(got_end && (how == RUNNING ? r == 0 && ret == 7 :
				       r == -1 && errno == ESRCH),
	   "%s: orbit_future_get agrees (%ld, %ld)", name, r, ret);
	if (ob)
		orbit_destroy(ob);
	pull_hold_free(&h);
}

static struct param_saved saved[] = {
	{ .name = "mc_copy" }, { .name = "debug_mc_fail" },
};

static void restore(void)
{
	params_restore(saved, 2);
}

int main(void)
{
	struct orbit_module_stats start;
	int how;

	require(orbit_module_stats(&start) == 0, "read module counters");
	require(params_save(saved, 2) == 0, "read mc_copy, debug_mc_fail");
	atexit(restore);
	for (how = RUNNING; how <= DESTROYED; how++)
		one_case(how, STATUS_RO);
	require(param_write("mc_copy", "1") == 0, "mc_copy=1");
	for (how = RUNNING; how <= DESTROYED; how++)
		one_case(how, PAGE_POISONED);
	restore();
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
