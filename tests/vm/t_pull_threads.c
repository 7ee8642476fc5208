// SPDX-License-Identifier: GPL-2.0
/*
 * Several threads pull one future: every update the task pushed reaches
 * exactly one of them, and none is told the call ended while the task is
 * still running.  The task pushes its updates, then waits until main has
 * received all of them and lets it return: an end seen before that is an
 * early end.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include "tap.h"
#include "util.h"

#define PUSHES	200
#define PULLERS	4
#define GATE	"/tmp/t_pull_threads.gate"

static long pusher(void *argbuf, void *store)
{
	char c;
	int i, fd;

	for (i = 0; i < PUSHES; i++) {
		struct orbit_update *u = orbit_update_create();

		orbit_update_add_data(u, &i, sizeof(i));
		if (orbit_push(u, NULL))
			return -1;
		if (i % 16 == 0)
			usleep(1000);
	}
	fd = open(GATE, O_RDONLY);	/* until main lets the call end */
	if (fd < 0 || read(fd, &c, 1) != 1)
		return -2;
	close(fd);
	return PUSHES;
}

static struct orbit_future *fut;
static int seen[PUSHES], nseen, twice, ends;

static void *puller(void *arg)
{
	struct orbit_update *u;
	long r;

	while ((r = pull_orbit(fut, &u)) == 1) {
		const struct orbit_update_entry *e = orbit_update_first(u);
		int v;

		memcpy(&v, e->data, sizeof(v));
		if (v < 0 || v >= PUSHES ||
		    __atomic_fetch_add(&seen[v], 1, __ATOMIC_SEQ_CST))
			__atomic_add_fetch(&twice, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&nseen, 1, __ATOMIC_SEQ_CST);
		orbit_update_free(u);
	}
	if (r == 0)
		__atomic_add_fetch(&ends, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

int main(void)
{
	struct orbit_module_stats start;
	pthread_t t[PULLERS];
	struct orbit *ob;
	int i, round, missing = 0, early = 0, dups = 0, gate;
	long ret;

	require(orbit_module_stats(&start) == 0, "read module counters");
	unlink(GATE);
	require(mkfifo(GATE, 0666) == 0, "a fifo the task waits on");
	ob = orbit_create("pullthreads", pusher, NULL);
	require(ob, "orbit_create");
	for (round = 0; round < 10; round++) {
		memset(seen, 0, sizeof(seen));
		nseen = twice = ends = 0;
		fut = orbit_call_async(ob, 0, 0, NULL, NULL, NULL, 0);
		require(fut, "a call that pushes %d updates", PUSHES);
		for (i = 0; i < PULLERS; i++)
			pthread_create(&t[i], NULL, puller, NULL);
		while (__atomic_load_n(&nseen, __ATOMIC_SEQ_CST) < PUSHES &&
		       !__atomic_load_n(&ends, __ATOMIC_SEQ_CST))
			usleep(1000);
		usleep(20000);
		early += __atomic_load_n(&ends, __ATOMIC_SEQ_CST);
		gate = open(GATE, O_WRONLY);	/* the task may return now */
		if (gate < 0 || write(gate, "x", 1) != 1)
			early++;
		close(gate);
		for (i = 0; i < PULLERS; i++)
			pthread_join(t[i], NULL);
		for (i = 0; i < PUSHES; i++)
			missing += !seen[i];
		dups += twice;
		if (orbit_future_get(fut, &ret) || ret != PUSHES)
			missing++;
	}
	ok(!missing && !dups, "10 calls: every update pulled exactly once (%d missing, %d twice)",
	   missing, dups);
	ok(!early, "no thread was told a call ended while its task ran (%d were)",
	   early);
	orbit_destroy(ob);
	unlink(GATE);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
