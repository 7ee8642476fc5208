// SPDX-License-Identifier: GPL-2.0
/*
 * A fork child of a multithreaded main uses the library while another
 * thread of the parent held the dynamic loader's lock at the fork (inside
 * dl_iterate_phdr(), as an exception unwinder or a profiler does).  The
 * child inherits the lock held by a thread it does not have; the library
 * must not wait for it: the child's orbit_create and a call work.
 */
#define _GNU_SOURCE
#include <link.h>
#include <pthread.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int inside, release;

/* Holds the loader's lock until main says so. */
static int hold(struct dl_phdr_info *info, size_t size, void *data)
{
	pthread_mutex_lock(&m);
	inside = 1;
	pthread_cond_broadcast(&cv);
	while (!release)
		pthread_cond_wait(&cv, &m);
	pthread_mutex_unlock(&m);
	return 1;
}

static void *holder(void *p)
{
	dl_iterate_phdr(hold, NULL);
	return NULL;
}

static long seven(void *argbuf, void *store)
{
	return 7;
}

int main(void)
{
	struct orbit_module_stats start;
	pthread_t th;
	int status, ended;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	pthread_create(&th, NULL, holder, NULL);
	pthread_mutex_lock(&m);
	while (!inside)
		pthread_cond_wait(&cv, &m);
	pthread_mutex_unlock(&m);

	pid = fork();
	if (pid == 0) {
		struct orbit *ob = orbit_create("loader-lock", seven, NULL);

		if (!ob)
			_exit(2);
		if (orbit_call(ob, 0, NULL, NULL, NULL, 0) != 7)
			_exit(3);
		_exit(orbit_destroy(ob) ? 4 : 0);
	}
	require(pid > 0, "fork while another thread holds the loader lock");
	ended = wait_child_ms(pid, 10000, &status) == 0;
	ok(ended, "the child's orbit_create does not wait for the lock");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "the child's orbit answers (status %#x)", status);

	pthread_mutex_lock(&m);
	release = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&m);
	pthread_join(th, NULL);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
