// SPDX-License-Identifier: GPL-2.0
/*
 * What a main queues in the module is charged to its memory cgroup: an
 * unprivileged process in a cgroup with memory.max=64M that queues 64 KiB
 * call arguments on orbits that never run is stopped (an error, or the
 * cgroup's OOM killer) before it has queued 128 MiB; without the charge
 * it could queue gigabytes of kernel memory.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

#define CG	"/sys/fs/cgroup"
#define ARG	(64 * 1024)
#define CAP	(512L << 20)	/* give up here: the charge is missing */

/* Queues arguments until refused; reports the total after each call. */
static void hog(int report)
{
	struct orbit_api api = { .api = ORBIT_API_VERSION };
	static char arg[ARG];
	long queued = 0;
	int fd, o;

	if (setgid(1000) || setuid(1000))
		_exit(100);
	fd = open("/dev/orbit", O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, ORBIT_IOC_API, &api))
		_exit(101);
	for (o = 0; o < 64 && queued < CAP; o++) {
		struct orbit_create cr;

		memset(&cr, 0, sizeof(cr));
		snprintf(cr.name, sizeof(cr.name), "never-%d", o);
		if (ioctl(fd, ORBIT_IOC_CREATE, &cr))
			break;
		/* Nobody attaches: every call stays queued. */
		while (queued < CAP) {
			struct orbit_call_req cq;

			memset(&cq, 0, sizeof(cq));
			cq.orbit_id = cr.id;
			cq.flags = ORBIT_CALL_NOFUTURE;
			cq.arg = (uintptr_t)arg;
			cq.argsize = ARG;
			if (ioctl(fd, ORBIT_IOC_CALL, &cq)) {
				if (errno == EAGAIN)
					break;	/* this orbit's queue is full */
				_exit(0);	/* refused: charged and limited */
			}
			queued += ARG;
			if (write(report, &queued, sizeof(queued)) < 0)
				_exit(102);
		}
	}
	_exit(0);
}

int main(void)
{
	struct orbit_module_stats start;
	long queued = 0, q;
	int p[2], status;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	write_file(CG "/cgroup.subtree_control", "+memory");
	mkdir(CG "/acct", 0755);
	require(write_file(CG "/acct/memory.max", "64M") == 0,
		"a cgroup with memory.max=64M");
	require(pipe(p) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		char me[16];

		close(p[0]);
		snprintf(me, sizeof(me), "%d", (int)getpid());
		if (write_file(CG "/acct/cgroup.procs", me))
			_exit(103);
		hog(p[1]);
	}
	close(p[1]);
	while (read(p[0], &q, sizeof(q)) == sizeof(q))
		queued = q;
	close(p[0]);
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0),
	   "the process ends (%s %d)", WIFSIGNALED(status) ? "signal" : "status",
	   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	ok(queued < (128L << 20), "it queued %ld MiB of arguments, under 128 MiB",
	   queued >> 20);
	rmdir(CG "/acct");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
