// SPDX-License-Identifier: GPL-2.0
/*
 * ORBIT_IOC_SPAWNER against the context's end: an unprivileged main with
 * a thread that keeps naming its child as the spawner while another
 * thread closes the context (200 rounds), or while main exits (200
 * rounds).  No reference may be dropped twice (the guest's memory
 * debugging and refcount checks watch), no spawner is killed twice, and
 * nothing leaks.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

static int ctx_fd;
static pid_t kid;
static volatile int go;

static int name_spawner(int fd, pid_t pid)
{
	struct orbit_spawner req = { .pid = pid };

	return ioctl(fd, ORBIT_IOC_SPAWNER, &req);
}

static void *namer(void *arg)
{
	int i;

	while (!go)
		;
	for (i = 0; i < 2000; i++)
		name_spawner(ctx_fd, kid);
	return NULL;
}

/* One round: returns 0 when it ran. */
static int round_close(int r)
{
	pthread_t t;

	ctx_fd = raw_context(0);
	kid = fork();
	if (kid == 0) {
		pause();
		_exit(0);
	}
	if (ctx_fd < 0 || kid < 0)
		return 1;
	go = 0;
	pthread_create(&t, NULL, namer, NULL);
	go = 1;
	usleep(r % 5 * 50);
	close(ctx_fd);
	pthread_join(t, NULL);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	return 0;
}

static int round_exit(int r)
{
	int status;
	pid_t m = fork();

	if (m == 0) {
		pthread_t t;

		ctx_fd = raw_context(0);
		kid = fork();
		if (kid == 0) {
			alarm(3);	/* in case it was never the spawner */
			pause();
			_exit(0);
		}
		pthread_create(&t, NULL, namer, NULL);
		go = 1;
		usleep(r % 5 * 50);
		_exit(0);	/* the child keeps running: it is no spawner */
	}
	waitpid(m, &status, 0);
	return !WIFEXITED(status);
}

int main(void)
{
	struct orbit_module_stats start;
	int status, r;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	pid = fork();
	if (pid == 0) {
		int bad = 0;

		if (setgid(1000) || setuid(1000))
			_exit(100);
		for (r = 0; r < 200; r++)
			bad += round_close(r);
		for (r = 0; r < 200; r++)
			bad += round_exit(r);
		_exit(bad ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "400 rounds of naming a spawner while the context ends (status %d)",
	   WEXITSTATUS(status));
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
