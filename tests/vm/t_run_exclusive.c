// SPDX-License-Identifier: GPL-2.0
/*
 * One thread of an orbit runs its task loop: a second thread of the orbit
 * process that enters ORBIT_IOC_RUN (while the first waits there, or runs
 * a call it took) gets EBUSY and takes no call, so every call returns its
 * own task's value and none is lost or completed twice.
 */
#include <pthread.h>
#include <sys/ioctl.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

static volatile int thief_busy, thief_other, thief_stop;

/* In the orbit: keeps entering the task loop from a second thread. */
static void *thief(void *arg)
{
	int fd = fd_linked_to("[orbit]");
	char buf[64];
	long i;

	for (i = 0; !thief_stop && fd >= 0; i++) {
		struct orbit_run run;

		memset(&run, 0, sizeof(run));
		run.flags = ORBIT_RUN_HAVE_RESULT;
		run.retval = -666;
		run.argbuf = (uintptr_t)buf;
		run.argcap = sizeof(buf);
		if (ioctl(fd, ORBIT_IOC_RUN, &run) == 0 || errno != EBUSY)
			thief_other++;
		else
			thief_busy++;
	}
	return NULL;
}

static long twice(void *argbuf, void *store)
{
	static pthread_t t;
	static int started;
	long v = *(long *)argbuf;

	if (!started++)
		pthread_create(&t, NULL, thief, NULL);
	if (v == -1) {	/* report what the thief saw */
		thief_stop = 1;
		pthread_join(t, NULL);
		return thief_other ? -2 : thief_busy;
	}
	return 2 * v;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_future *f[8];
	struct orbit *ob;
	long i, v, bad = 0, busy;
	int k;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("runexcl", twice, NULL);
	require(ob, "orbit_create");
	alarm(120);
	for (i = 0; i < 400; i++) {
		if (i % 2) {
			if (orbit_call(ob, 0, NULL, NULL, &i, sizeof(i)) != 2 * i)
				bad++;
			continue;
		}
		for (k = 0; k < 8; k++) {
			v = i * 8 + k;
			f[k] = orbit_call_async(ob, 0, 0, NULL, NULL, &v,
						sizeof(v));
		}
		for (k = 0; k < 8; k++)
			if (!f[k] || orbit_future_get(f[k], &v) ||
			    v != 2 * (i * 8 + k))
				bad++;
	}
	ok(!bad, "2,000 calls, each returns its own task's value (%ld wrong)",
	   bad);
	v = -1;
	busy = orbit_call(ob, 0, NULL, NULL, &v, sizeof(v));
	ok(busy > 0, "the second thread's RUN got EBUSY every time (%ld)", busy);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
