// SPDX-License-Identifier: GPL-2.0
/*
 * A sync call whose task pushed updates and then crashed fails with ESRCH
 * and leaves nothing behind: after 20 such calls (5 MiB of updates) the
 * module holds no call and no update, with the orbit still alive, and
 * pull_orbit(NULL) has nothing from them.
 */
#include "tap.h"
#include "util.h"

static long push_then_crash(void *argbuf, void *store)
{
	static char big[256 * 1024];
	struct orbit_update *u = orbit_update_create();

	orbit_update_add_data(u, big, sizeof(big));
	orbit_push(u, NULL);
	return *(volatile long *)0;
}

static long fine(void *argbuf, void *store)
{
	return 1;
}

int main(void)
{
	struct orbit_module_stats start, now;
	struct orbit_update *u = NULL;
	struct orbit_attr attr;
	struct orbit *ob;
	int i, failed = 0;

	require(orbit_module_stats(&start) == 0, "read module counters");
	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	ob = orbit_create_ex("pushcrash", push_then_crash, NULL, &attr);
	require(ob, "an orbit that restarts");
	for (i = 0; i < 20; i++)
		failed += orbit_call(ob, 0, NULL, NULL, NULL, 0) == -1 &&
			  errno == ESRCH;
	ok(failed == 20, "20 calls that push 256 KiB and crash fail with ESRCH");
	ok(pull_orbit(NULL, &u) == 0, "pull_orbit(NULL) has nothing from them");
	ok(orbit_call(ob, 0, NULL, fine, NULL, 0) == 1, "the orbit answers again");
	require(orbit_module_stats(&now) == 0, "read module counters");
	ok(now.calls == start.calls && now.updates == start.updates,
	   "the module holds no call (%llu) and no update (%llu) of them",
	   (unsigned long long)(now.calls - start.calls),
	   (unsigned long long)(now.updates - start.updates));
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
