// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl fuzzer: random commands, sizes, pointers and ids against fresh
 * and handshaken contexts, orbit descriptors, and from inside a live
 * orbit.  ORBIT_FUZZ_ITERS iterations (default 100,000).  The harness
 * fails the run on any Oops/WARN; here the module must stay usable and
 * its counters must return to where they started.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

static const unsigned int cmds[] = {
	ORBIT_IOC_API, ORBIT_IOC_CREATE, ORBIT_IOC_DESTROY,
	ORBIT_IOC_AREA_CREATE, ORBIT_IOC_AREA_DESTROY, ORBIT_IOC_AREA_BIND,
	ORBIT_IOC_CALL, ORBIT_IOC_WAIT, ORBIT_IOC_SPAWNER, ORBIT_IOC_PULL,
	ORBIT_IOC_CHECK, ORBIT_IOC_RESPAWN, ORBIT_IOC_ATTACH, ORBIT_IOC_RUN,
	ORBIT_IOC_PUSH, ORBIT_IOC_STATS,
};

static unsigned char *scratch, *window;
static unsigned int seed = 12345;

static unsigned int rnd(unsigned int n)
{
	return n ? (unsigned int)rand_r(&seed) % n : 0;
}

/* Fills the scratch buffer with structure-shaped noise. */
static void *random_arg(void)
{
	uint64_t *w = (uint64_t *)scratch;
	unsigned int i;

	switch (rnd(8)) {
	case 0:
		return NULL;
	case 1:
		return (void *)16;
	case 2:
		return (void *)0xffff888000000000UL;	/* kernel address */
	case 3:
		return scratch + 4096 - rnd(64);	/* runs off the end */
	}
	for (i = 0; i < 512; i++) {
		switch (rnd(6)) {
		case 0:
			w[i] = rnd(8);			/* small ids, flags */
			break;
		case 1:
			w[i] = (uintptr_t)(window + rnd(64) * 4096);
			break;
		case 2:
			w[i] = (uintptr_t)(scratch + 4096 + rnd(4096));
			break;
		case 3:
			w[i] = 4096UL << rnd(20);	/* sizes */
			break;
		default:
			w[i] = ((uint64_t)rand_r(&seed) << 32) | rand_r(&seed);
		}
	}
	return scratch;
}

static unsigned int random_cmd(void)
{
	switch (rnd(4)) {
	case 0:
		return (unsigned int)rand_r(&seed);
	case 1:
		return _IOC(rnd(4), ORBIT_IOC_MAGIC, rnd(0x30), rnd(512));
	default:
		return cmds[rnd(sizeof(cmds) / sizeof(cmds[0]))];
	}
}

static int new_ctx(void)
{
	struct orbit_api api = { .api = ORBIT_API_VERSION };
	int fd = open("/dev/orbit", O_RDWR | O_CLOEXEC);

	if (fd >= 0 && rnd(4))
		ioctl(fd, ORBIT_IOC_API, &api);
	return fd;
}

/* Inside an orbit: fuzz the orbit descriptor(s) this process holds. */
static long fuzz_inside(void *argbuf, void *store)
{
	long iters = *(long *)argbuf, i;
	int fds[8], n = 0;
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");

	while (d && (e = readdir(d)) && n < 8) {
		char link[64] = "", path[300];

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		if (readlink(path, link, sizeof(link) - 1) > 0 &&
		    strstr(link, "[orbit]"))
			fds[n++] = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	for (i = 0; i < iters && n; i++) {
		unsigned int cmd = random_cmd();

		if (cmd == ORBIT_IOC_RUN)
			continue;	/* would end this very call */
		ioctl(fds[rnd(n)], cmd, random_arg());
	}
	return n;
}

static void on_alarm(int sig)
{
}

int main(void)
{
	struct orbit_module_stats start;
	struct itimerval it = { { 0, 5000 }, { 0, 5000 } };
	struct sigaction sa;
	long iters = 100000, i, inside;
	int fds[6], nfd = 0, k;
	const char *env = getenv("ORBIT_FUZZ_ITERS");
	struct orbit *ob;

	if (env && atol(env) > 0)
		iters = atol(env);
	require(orbit_module_stats(&start) == 0, "read module counters");
	scratch = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	window = mmap(NULL, 64 * 4096, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	require(scratch != MAP_FAILED && window != MAP_FAILED, "buffers");
	mprotect(scratch + 4096, 4096, PROT_NONE);	/* a guard page */

	/* Blocking ioctls (sync calls to orbits that never run) get EINTR. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);

	for (i = 0; i < iters; i++) {
		if (nfd < 6 && (nfd == 0 || !rnd(200))) {
			fds[nfd] = new_ctx();
			if (fds[nfd] >= 0)
				nfd++;
		}
		k = rnd(nfd);
		if (!rnd(500)) {
			close(fds[k]);	/* tear a context down */
			fds[k] = fds[--nfd];
			continue;
		}
		{
			unsigned int cmd = random_cmd();
			struct orbit_create *cr = (void *)scratch;
			void *arg = random_arg();

			if (ioctl(fds[k], cmd, arg) == 0 &&
			    cmd == ORBIT_IOC_CREATE && arg == scratch &&
			    nfd < 6)
				fds[nfd++] = cr->orbit_fd;	/* fuzz it too */
		}
	}
	while (nfd)
		close(fds[--nfd]);
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	ok(1, "%ld random ioctls on contexts and orbit descriptors", iters);

	ob = orbit_create("fuzz-inside", fuzz_inside, NULL);
	inside = iters / 10;
	ok(ob && orbit_call(ob, 0, NULL, NULL, &inside, sizeof(inside)) >= 0,
	   "%ld random ioctls from inside an orbit", inside);
	if (ob)
		orbit_destroy(ob);
	ob = orbit_create("fuzz-after", fuzz_inside, NULL);
	ok(ob && orbit_call(ob, 0, NULL, NULL, &(long){ 0 }, sizeof(long)) >= 0,
	   "a fresh orbit works after the fuzzing");
	if (ob)
		orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
