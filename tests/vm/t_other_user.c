// SPDX-License-Identifier: GPL-2.0
/*
 * Access control: a second, unprivileged user holding main's descriptors
 * (inherited, as a setuid child would) cannot call, destroy, respawn, bind
 * or attach to main's orbits and areas (EPERM), cannot name them from its
 * own context (ENOENT), and cannot read main's memory (EACCES).  An orbit
 * cannot issue calls on behalf of its main.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

static long answer(void *argbuf, void *store)
{
	return 42;
}

/* Runs in the orbit: tries main's context descriptor number. */
static long call_as_main(void *argbuf, void *store)
{
	struct orbit_call_req cq;
	int fd = *(int *)argbuf;

	memset(&cq, 0, sizeof(cq));
	cq.orbit_id = 1;
	if (ioctl(fd, ORBIT_IOC_CALL, &cq) == 0)
		return 0;
	return errno;
}

static int fails(int ret, int err)
{
	return ret == -1 && errno == err;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_create cr = { .name = "victim" };
	struct orbit_api api = { .api = ORBIT_API_VERSION };
	struct orbit_area_req ar;
	struct orbit *ob;
	int ctx, status;
	pid_t pid;
	void *win;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("owner", answer, NULL);
	require(ob, "orbit_create");
	ctx = open("/dev/orbit", O_RDWR);
	require(ctx >= 0 && ioctl(ctx, ORBIT_IOC_API, &api) == 0 &&
		ioctl(ctx, ORBIT_IOC_CREATE, &cr) == 0, "raw context and orbit");
	win = mmap(NULL, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(&ar, 0, sizeof(ar));
	ar.addr = (uintptr_t)win;
	ar.size = 1 << 20;
	require(ioctl(ctx, ORBIT_IOC_AREA_CREATE, &ar) == 0, "raw area");

	pid = fork();
	if (pid == 0) {
		struct orbit_call_req cq = { .orbit_id = cr.id };
		struct orbit_bind b = { .area_id = ar.id, .orbit_id = cr.id };
		struct orbit_ref oref = { .id = cr.id }, aref = { .id = ar.id };
		struct orbit_respawn rs = { .id = cr.id };
		struct orbit_attach at;
		char path[64];
		int rc = 0, mine;

		if (setgid(1000) || setuid(1000))
			_exit(100);
		if (!fails(ioctl(ctx, ORBIT_IOC_CALL, &cq), EPERM))
			rc |= 1;
		if (!fails(ioctl(ctx, ORBIT_IOC_DESTROY, &oref), EPERM))
			rc |= 2;
		if (!fails(ioctl(ctx, ORBIT_IOC_AREA_BIND, &b), EPERM) ||
		    !fails(ioctl(ctx, ORBIT_IOC_AREA_DESTROY, &aref), EPERM) ||
		    !fails(ioctl(ctx, ORBIT_IOC_RESPAWN, &rs), EPERM))
			rc |= 4;
		if (!fails(ioctl(cr.orbit_fd, ORBIT_IOC_ATTACH, &at), EPERM))
			rc |= 8;
		mine = open("/dev/orbit", O_RDWR);
		if (mine < 0 || ioctl(mine, ORBIT_IOC_API, &api) ||
		    !fails(ioctl(mine, ORBIT_IOC_CALL, &cq), ENOENT) ||
		    !fails(ioctl(mine, ORBIT_IOC_AREA_DESTROY, &aref), ENOENT))
			rc |= 16;
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)getppid());
		if (open(path, O_RDONLY) >= 0 || errno != EACCES)
			rc |= 32;
		_exit(rc);
	}
	waitpid(pid, &status, 0);
	require(WIFEXITED(status) && WEXITSTATUS(status) != 100,
		"switch to user 1000");
	ok(!(WEXITSTATUS(status) & 1), "other user cannot call main's orbit (EPERM)");
	ok(!(WEXITSTATUS(status) & 2), "other user cannot destroy it (EPERM)");
	ok(!(WEXITSTATUS(status) & 4),
	   "other user cannot bind, destroy areas or respawn (EPERM)");
	ok(!(WEXITSTATUS(status) & 8), "other user cannot attach as the orbit (EPERM)");
	ok(!(WEXITSTATUS(status) & 16),
	   "other user's own context cannot name main's objects (ENOENT)");
	ok(!(WEXITSTATUS(status) & 32), "other user cannot read main's memory (EACCES)");

	{
		long r = orbit_call(ob, 0, NULL, call_as_main, &ctx, sizeof(ctx));

		ok(r == EBADF || r == ENOTTY || r == EPERM,
		   "an orbit cannot call on behalf of its main (%s)", strerror((int)r));
	}
	ok(orbit_call(ob, 0, NULL, NULL, NULL, 0) == 42, "main's orbit still works");
	close(cr.orbit_fd);
	close(ctx);
	munmap(win, 1 << 20);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
