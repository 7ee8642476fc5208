// SPDX-License-Identifier: GPL-2.0
/*
 * A listing (ORBIT_IOC_LIST, what orbitctl shows) that waits for a busy
 * context holds up nobody else.  Main A keeps its context's lock busy:
 * it has 256 areas, and two of its threads check over and over that 4096
 * addresses in the last one may be modified (each check looks at every
 * area for each address, with the context locked).  Three processes list
 * all the while, with a signal every 50 ms.  Meanwhile new contexts start
 * and end (open, handshake, close) within 0.5 s each, and every listing
 * returns within 0.75 s: done, or EINTR when a signal came while it
 * waited (it waits interruptibly, not in D state).  A listing used to
 * hold one module-wide lock while it waited for each context's lock: the
 * other listings, and the start and the end of every context in the
 * system, waited for the busiest context (1.6 s for a handshake here).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

#define SECS		8	/* listers and new contexts */
#define BUSY_SECS	(SECS + 2)	/* main A */
#define LISTERS		3
#define AREAS		256

static volatile int stop;

static double now_ms(void)
{
	return now_us() / 1000;
}

/* Main A's areas, and a check of ORBIT_CHECK_MAX addresses in the last. */
static struct orbit_check_entry ents[ORBIT_CHECK_MAX];
static int ctx_fd;

/*
 * One of A's threads: checks that its addresses may be modified, over
 * and over; each check looks through all of A's areas for each address
 * with A's context locked.  The slowest check (ms) into *arg.
 */
static void *checker(void *arg)
{
	double *slowest = arg, t0, dt;
	struct orbit_check req;

	while (!stop) {
		memset(&req, 0, sizeof(req));
		req.count = ORBIT_CHECK_MAX;
		req.entries = (uintptr_t)ents;
		t0 = now_ms();
		if (ioctl(ctx_fd, ORBIT_IOC_CHECK, &req))
			break;
		dt = now_ms() - t0;
		if (dt > *slowest)
			*slowest = dt;
	}
	return NULL;
}

/* Main A: the slowest check (ms) to out. */
static int busy_main(int out)
{
	double end = now_ms() + BUSY_SECS * 1000.0, slowest[2] = { -1, -1 };
	struct orbit_area *a = NULL;
	pthread_t t[2];
	int i;

	for (i = 0; i < AREAS; i++) {
		a = orbit_area_create(4096, NULL);
		if (!a)
			return 1;
		memset(orbit_area_base(a), 1, 4096);
	}
	for (i = 0; i < ORBIT_CHECK_MAX; i++) {
		ents[i].addr = (uintptr_t)orbit_area_base(a) + i % 4096;
		ents[i].len = 1;
		ents[i].kind = ORBIT_CHECK_AREA;
	}
	ctx_fd = fd_linked_to("/dev/orbit");
	if (ctx_fd < 0)
		return 1;
	for (i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, checker, &slowest[i]))
			return 1;
	while (now_ms() < end)
		usleep(100000);
	stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (slowest[1] > slowest[0])
		slowest[0] = slowest[1];
	return write(out, slowest, sizeof(double)) == sizeof(double) ? 0 : 1;
}

static void on_alarm(int sig)
{
}

/* A lister: its slowest listing (ms) and how many were interrupted. */
static int lister(int out)
{
	struct itimerval it = { { 0, 50000 }, { 0, 50000 } };
	double end = now_ms() + SECS * 1000.0, res[2] = { 0, 0 }, t0, dt;
	struct orbit_list req;
	struct sigaction sa;
	int fd = open("/dev/orbit", O_RDWR | O_CLOEXEC);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: EINTR */
	if (fd < 0 || sigaction(SIGALRM, &sa, NULL) ||
	    setitimer(ITIMER_REAL, &it, NULL))
		return 1;
	while (now_ms() < end) {
		memset(&req, 0, sizeof(req));
		t0 = now_ms();
		if (ioctl(fd, ORBIT_IOC_LIST, &req) < 0) {
			if (errno != EINTR)
				return 1;
			res[1]++;
		}
		dt = now_ms() - t0;
		if (dt > res[0])
			res[0] = dt;
	}
	return write(out, res, sizeof(res)) == sizeof(res) ? 0 : 1;
}

/* A new context, started and ended: ms, or -1 when it failed. */
static double new_context(void)
{
	struct orbit_api api = { .api = ORBIT_API_VERSION };
	double t0 = now_ms();
	int fd = open("/dev/orbit", O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, ORBIT_IOC_API, &api)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return now_ms() - t0;
}

static pid_t spawn(int (*fn)(int), int p[2])
{
	pid_t pid = fork_piped(p);

	if (pid == 0)
		_exit(fn(p[1]));
	return pid;
}

static int reap(pid_t pid, int fd, void *buf, size_t len)
{
	int status = -1;
	ssize_t n = read(fd, buf, len);

	close(fd);
	waitpid(pid, &status, 0);
	return n == (ssize_t)len && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(void)
{
	struct orbit_module_stats start;
	int bp[2], lp[LISTERS][2], i, n = 0, failed = 0, listed = 1;
	double busy = -1, res[2], slowest_list = 0, interrupted = 0;
	double slowest_ctx = 0, end, dt;
	pid_t busy_pid, lpid[LISTERS];

	require(orbit_module_stats(&start) == 0, "read module counters");
	busy_pid = spawn(busy_main, bp);
	require(busy_pid > 0, "main A");
	usleep(500000);
	for (i = 0; i < LISTERS; i++) {
		lpid[i] = spawn(lister, lp[i]);
		require(lpid[i] > 0, "a lister");
	}
	usleep(500000);
	end = now_ms() + (SECS - 1) * 1000.0;
	while (now_ms() < end) {
		dt = new_context();
		if (dt < 0)
			failed++;
		else if (dt > slowest_ctx)
			slowest_ctx = dt;
		n++;
		usleep(20000);
	}
	for (i = 0; i < LISTERS; i++) {
		if (reap(lpid[i], lp[i][0], res, sizeof(res))) {
			listed = 0;
			continue;
		}
		if (res[0] > slowest_list)
			slowest_list = res[0];
		interrupted += res[1];
	}
	if (reap(busy_pid, bp[0], &busy, sizeof(busy)))
		busy = -1;
	ok(busy > 20,
	   "main A's context was busy: its slowest check took %.0f ms", busy);
	ok(n > 0 && !failed && slowest_ctx < 500,
	   "%d new contexts started and ended meanwhile, the slowest in %.0f ms",
	   n, slowest_ctx);
	ok(listed && slowest_list < 750 && interrupted > 0,
	   "every listing returned within 0.75 s (slowest %.0f ms), %.0f of them interrupted by a signal",
	   slowest_list, interrupted);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
