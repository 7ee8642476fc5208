// SPDX-License-Identifier: GPL-2.0
/*
 * The ABI's rules, through raw ioctls: the handshake checks its version,
 * features and reserved words and answers every feature it knows
 * (ORBIT_FEAT_LIST included); a feature a context did not ask for cannot
 * be used; every structure's unknown flags and non-zero pad or reserved
 * words are rejected with EINVAL; ORBIT_CREATE_CLOEXEC decides whether
 * the orbit descriptor is close-on-exec; the task loop wants the result
 * of the call it handed out before it hands out another, and an update
 * it pushes with that result (ORBIT_RUN_PUSH) reaches main with the end;
 * with ORBIT_RUN_NOWAIT it returns EAGAIN instead of waiting for a call.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

static int fails(int ret, int err)
{
	return ret == -1 && errno == err;
}

static void handshake(void)
{
	struct orbit_api api;
	int fd = open("/dev/orbit", O_RDWR | O_CLOEXEC);

	require(fd >= 0, "open /dev/orbit");
	memset(&api, 0, sizeof(api));
	api.api = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_API, &api), EINVAL), "API version 1: EINVAL");
	api.api = ORBIT_API_VERSION;
	api.reserved[2] = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_API, &api), EINVAL), "reserved word set: EINVAL");
	api.reserved[2] = 0;
	api.pad = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_API, &api), EINVAL), "pad set: EINVAL");
	api.pad = 0;
	api.features = 1ULL << 40;
	ok(fails(ioctl(fd, ORBIT_IOC_API, &api), EINVAL), "unknown feature: EINVAL");
	api.features = ORBIT_FEAT_LIST | ORBIT_FEAT_UPDATES;
	ok(ioctl(fd, ORBIT_IOC_API, &api) == 0 &&
	   (api.features & ORBIT_FEAT_LIST) && (api.features & ORBIT_FEAT_TIMEOUT) &&
	   api.max_update > 0 && api.max_arg_size > 0,
	   "asking for LIST and UPDATES works; the answer lists every feature");
	close(fd);
}

static void features_are_enforced(void)
{
	int fd = raw_context(0);
	struct orbit_create cr = { .name = "nofeat", .timeout_ns = 1000000 };
	struct orbit_respawn rs = { .id = 1 };
	struct orbit_pull pl = { .call_id = 1 };
	struct orbit_check ck = { 0 };
	struct orbit_area_req ar;
	void *win = mmap(NULL, 1 << 20, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	require(fd >= 0, "a context that asked for no feature");
	ok(fails(ioctl(fd, ORBIT_IOC_CREATE, &cr), EINVAL),
	   "a timeout without ORBIT_FEAT_TIMEOUT: EINVAL");
	cr.timeout_ns = 0;
	ok(ioctl(fd, ORBIT_IOC_CREATE, &cr) == 0, "an orbit without one works");
	memset(&ar, 0, sizeof(ar));
	ar.addr = (uintptr_t)win;
	ar.size = 1 << 20;
	ar.flags = ORBIT_AREA_COPY;
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_CREATE, &ar), EINVAL),
	   "a COPY area without ORBIT_FEAT_COPY_MODE: EINVAL");
	ok(fails(ioctl(fd, ORBIT_IOC_RESPAWN, &rs), EINVAL),
	   "respawn without ORBIT_FEAT_RESTART: EINVAL");
	ok(fails(ioctl(fd, ORBIT_IOC_PULL, &pl), EINVAL) &&
	   fails(ioctl(fd, ORBIT_IOC_CHECK, &ck), EINVAL),
	   "pull and check without ORBIT_FEAT_UPDATES: EINVAL");
	close(cr.orbit_fd);
	close(fd);
	munmap(win, 1 << 20);
}

static void reserved_words_are_checked(void)
{
	int fd = raw_context(0x3f);
	struct orbit_create cr = { .name = "abi" };
	struct orbit_ref ref = { 0 };
	struct orbit_bind b = { 0 };
	struct orbit_spawner sp = { .pid = 1 };
	struct orbit_call_req cq;
	struct orbit_wait w = { .call_id = 1 };
	struct orbit_list l = { 0 };
	struct orbit_check ck = { .count = 0 };

	require(fd >= 0, "a context with every feature");
	cr.reserved[1] = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_CREATE, &cr), EINVAL), "create: reserved");
	cr.reserved[1] = 0;
	cr.flags = 0x80;
	ok(fails(ioctl(fd, ORBIT_IOC_CREATE, &cr), EINVAL), "create: unknown flag");
	cr.flags = 0;
	require(ioctl(fd, ORBIT_IOC_CREATE, &cr) == 0, "create");
	ref.id = cr.id;
	ref.flags = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_DESTROY, &ref), EINVAL), "destroy: flags");
	ref.flags = 0;
	ref.reserved[0] = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_DESTROY, &ref), EINVAL), "destroy: reserved");
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_DESTROY, &ref), EINVAL),
	   "area destroy: reserved");
	b.orbit_id = cr.id;
	b.pad = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_AREA_BIND, &b), EINVAL), "bind: pad");
	sp.flags = 2;
	ok(fails(ioctl(fd, ORBIT_IOC_SPAWNER, &sp), EINVAL), "spawner: flags");
	memset(&cq, 0, sizeof(cq));
	cq.orbit_id = cr.id;
	cq.flags = ORBIT_CALL_NOFUTURE;
	cq.pad = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, &cq), EINVAL), "call: pad");
	cq.pad = 0;
	cq.tag = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, &cq), EINVAL),
	   "call: a tag without ORBIT_FEAT_TAG");
	cq.tag = 0;
	cq.flags = 1U << 7;
	ok(fails(ioctl(fd, ORBIT_IOC_CALL, &cq), EINVAL), "call: unknown flag");
	w.reserved[1] = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_WAIT, &w), EINVAL), "wait: reserved");
	ck.pad = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_CHECK, &ck), EINVAL), "check: pad");
	l.reserved[0] = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_LIST, &l), EINVAL), "list: reserved");
	ref.reserved[0] = 0;
	ioctl(fd, ORBIT_IOC_DESTROY, &ref);
	close(cr.orbit_fd);
	close(fd);
}

/* ORBIT_PULL_RELEASE needs its feature; other flags and pad are refused. */
static void pull_flags_are_checked(void)
{
	int fd = raw_context(ORBIT_FEAT_UPDATES);
	struct orbit_pull pl = { .call_id = 1, .flags = ORBIT_PULL_RELEASE };

	require(fd >= 0, "a context with updates but not ORBIT_FEAT_PULL_END");
	ok(fails(ioctl(fd, ORBIT_IOC_PULL, &pl), EINVAL),
	   "pull: ORBIT_PULL_RELEASE without ORBIT_FEAT_PULL_END: EINVAL");
	close(fd);
	fd = raw_context(ORBIT_FEAT_UPDATES | ORBIT_FEAT_PULL_END);
	require(fd >= 0, "a context with ORBIT_FEAT_PULL_END");
	ok(fails(ioctl(fd, ORBIT_IOC_PULL, &pl), ENOENT),
	   "pull: ORBIT_PULL_RELEASE with the feature: accepted (ENOENT: no such call)");
	pl.flags = 1U << 1;
	ok(fails(ioctl(fd, ORBIT_IOC_PULL, &pl), EINVAL), "pull: unknown flag");
	pl.flags = ORBIT_PULL_RELEASE;
	pl.pad = 1;
	ok(fails(ioctl(fd, ORBIT_IOC_PULL, &pl), EINVAL), "pull: pad");
	close(fd);
}

static void cloexec_is_honoured(void)
{
	int fd = raw_context(0x3f);
	struct orbit_create a = { .name = "cloexec",
				  .flags = ORBIT_CREATE_CLOEXEC };
	struct orbit_create b = { .name = "inherit" };

	require(fd >= 0 && ioctl(fd, ORBIT_IOC_CREATE, &a) == 0 &&
		ioctl(fd, ORBIT_IOC_CREATE, &b) == 0, "two orbits");
	ok(fcntl(a.orbit_fd, F_GETFD) == FD_CLOEXEC,
	   "ORBIT_CREATE_CLOEXEC: the descriptor is close-on-exec");
	ok(fcntl(b.orbit_fd, F_GETFD) == 0,
	   "without it: the descriptor survives exec");
	close(a.orbit_fd);
	close(b.orbit_fd);
	close(fd);
}

/*
 * A raw orbit process: checks RUN's rules, writes what failed to wfd,
 * then answers 42 (and is killed waiting for the next call).
 */
static int raw_orbit(int ofd, int wfd)
{
	struct orbit_push push = { .buf = (uintptr_t)"hi", .len = 2 };
	struct orbit_attach at;
	struct orbit_run run;
	char buf[64];
	int rc = 0;

	memset(&at, 0, sizeof(at));
	at.reserved[0] = 1;
	if (!fails(ioctl(ofd, ORBIT_IOC_ATTACH, &at), EINVAL))
		rc |= 1;
	at.reserved[0] = 0;
	if (ioctl(ofd, ORBIT_IOC_ATTACH, &at) || at.main_pid != getppid())
		return rc | 2;
	memset(&run, 0, sizeof(run));
	run.argbuf = (uintptr_t)buf;
	run.argcap = sizeof(buf);
	run.pad = 1;
	if (!fails(ioctl(ofd, ORBIT_IOC_RUN, &run), EINVAL))
		rc |= 4;
	run.pad = 0;
	run.push = (uintptr_t)&push;	/* without ORBIT_RUN_PUSH */
	if (!fails(ioctl(ofd, ORBIT_IOC_RUN, &run), EINVAL))
		rc |= 4;
	run.flags = ORBIT_RUN_PUSH;	/* without a result */
	if (!fails(ioctl(ofd, ORBIT_IOC_RUN, &run), EINVAL))
		rc |= 128;
	run.push = 0;
	run.flags = 8;
	if (!fails(ioctl(ofd, ORBIT_IOC_RUN, &run), EINVAL))
		rc |= 4;
	run.flags = ORBIT_RUN_NOWAIT;	/* a feature not asked for */
	if (!fails(ioctl(ofd, ORBIT_IOC_RUN, &run), EINVAL))
		rc |= 512;
	run.flags = 0;
	if (ioctl(ofd, ORBIT_IOC_RUN, &run))	/* takes the call */
		return rc | 8;
	if (run.tag != 0x5eed0000cafeULL)
		rc |= 32;	/* the call's tag, unchanged */
	if (!fails(ioctl(ofd, ORBIT_IOC_RUN, &run), EINVAL))
		rc |= 16;	/* no result for the call it holds */
	run.flags = ORBIT_RUN_HAVE_RESULT | ORBIT_RUN_PUSH;
	run.retval = 42;
	run.push = 8;			/* unreadable: the call stays held */
	if (!fails(ioctl(ofd, ORBIT_IOC_RUN, &run), EFAULT))
		rc |= 256;
	run.push = (uintptr_t)&push;
	push.reserved[1] = 1;
	if (!fails(ioctl(ofd, ORBIT_IOC_RUN, &run), EINVAL))
		rc |= 256;
	push.reserved[1] = 0;
	if (write(wfd, &rc, sizeof(rc)) != sizeof(rc))
		return rc | 64;
	ioctl(ofd, ORBIT_IOC_RUN, &run);	/* answers, then waits: killed */
	return rc;
}

static void task_loop_rules(void)
{
	int fd = raw_context(0x3f | ORBIT_FEAT_TAG | ORBIT_FEAT_PULL_END |
			  ORBIT_FEAT_RUN_PUSH), status, rc = -1, p[2];
	struct orbit_create cr = { .name = "raw" };
	struct orbit_call_req cq;
	struct orbit_pull pl;
	char got[8] = "";
	pid_t pid;

	require(fd >= 0 && ioctl(fd, ORBIT_IOC_CREATE, &cr) == 0 &&
		pipe(p) == 0, "a raw orbit");
	pid = fork();
	if (pid == 0)
		_exit(raw_orbit(cr.orbit_fd, p[1]));
	close(p[1]);
	close(cr.orbit_fd);
	memset(&cq, 0, sizeof(cq));
	cq.orbit_id = cr.id;
	cq.flags = ORBIT_CALL_SYNC;
	cq.tag = 0x5eed0000cafeULL;
	ok(ioctl(fd, ORBIT_IOC_CALL, &cq) == 0 && cq.retval == 42 &&
	   (cq.result & ORBIT_RESULT_UPDATES),
	   "a sync call gets the raw orbit's answer, with an update");
	memset(&pl, 0, sizeof(pl));
	pl.call_id = cq.call_id;
	pl.buf = (uintptr_t)got;
	pl.cap = sizeof(got);
	pl.flags = ORBIT_PULL_RELEASE;
	ok(ioctl(fd, ORBIT_IOC_PULL, &pl) == 0 &&
	   pl.status == ORBIT_PULL_UPDATE_END && pl.len == 2 &&
	   !memcmp(got, "hi", 2) && pl.retval == 42 && pl.error == 0,
	   "the update RUN pushed with the result comes with the end (%u, %llu)",
	   pl.status, (unsigned long long)pl.len);
	/* The child holds the context too (fork): destroy, not close. */
	ioctl(fd, ORBIT_IOC_DESTROY, &(struct orbit_ref){ .id = cr.id });
	close(fd);
	waitpid(pid, &status, 0);
	/* What the orbit found, before it answered (or its exit code). */
	if (read(p[0], &rc, sizeof(rc)) != sizeof(rc))
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	close(p[0]);
	require(rc >= 0, "the raw orbit reported (status %#x)", status);
	ok(!(rc & 1), "attach: reserved word set: EINVAL");
	ok(!(rc & 4), "run: pad, push without its flag, unknown flag: EINVAL");
	ok(!(rc & 128), "run: ORBIT_RUN_PUSH without a result: EINVAL");
	ok(!(rc & 512), "run: ORBIT_RUN_NOWAIT without its feature: EINVAL");
	ok(!(rc & 256),
	   "run: an unreadable push request EFAULT, a reserved word EINVAL");
	ok(!(rc & 16), "run without the result of the call it holds: EINVAL");
	ok(!(rc & 32), "the task gets the call's tag (ORBIT_FEAT_TAG)");
	ok(!(rc & (2 | 8 | 64)), "attach and run work (%#x)", rc);
}

/*
 * A raw orbit polling with ORBIT_RUN_NOWAIT: EAGAIN with no call queued
 * (reported on wfd before main calls), the call once main makes it, and
 * EAGAIN again right after answering it.  Exit code: what failed.
 */
static int nowait_orbit(int ofd, int wfd)
{
	struct orbit_attach at = { 0 };
	struct orbit_run run = { 0 };
	char buf[8];
	int rc = 0, i;

	if (ioctl(ofd, ORBIT_IOC_ATTACH, &at))
		return 1;
	run.argbuf = (uintptr_t)buf;
	run.argcap = sizeof(buf);
	run.flags = ORBIT_RUN_NOWAIT;
	if (!fails(ioctl(ofd, ORBIT_IOC_RUN, &run), EAGAIN))
		rc |= 2;
	if (write(wfd, &rc, sizeof(rc)) != sizeof(rc))
		return rc | 4;
	for (i = 0; i < 10000; i++) {	/* 10 s at most */
		if (ioctl(ofd, ORBIT_IOC_RUN, &run) == 0)
			break;
		if (errno != EAGAIN)
			return rc | 8;
		usleep(1000);
	}
	run.flags = ORBIT_RUN_NOWAIT | ORBIT_RUN_HAVE_RESULT;
	run.retval = 7;
	if (!fails(ioctl(ofd, ORBIT_IOC_RUN, &run), EAGAIN))
		rc |= 16;	/* answered, and nothing more queued */
	return rc;
}

static void run_nowait(void)
{
	int fd = raw_context(0x3f | ORBIT_FEAT_RUN_NOWAIT), status = -1, rc = -1;
	struct orbit_create cr = { .name = "nowait" };
	struct orbit_call_req cq = { 0 };
	int p[2];
	pid_t pid;

	require(fd >= 0 && ioctl(fd, ORBIT_IOC_CREATE, &cr) == 0 &&
		pipe(p) == 0, "a raw orbit with ORBIT_FEAT_RUN_NOWAIT");
	pid = fork();
	if (pid == 0)
		_exit(nowait_orbit(cr.orbit_fd, p[1]));
	close(p[1]);
	close(cr.orbit_fd);
	if (read(p[0], &rc, sizeof(rc)) != sizeof(rc))
		rc = -1;
	ok(rc == 0, "RUN with ORBIT_RUN_NOWAIT and no call queued: EAGAIN (%d)",
	   rc);
	cq.orbit_id = cr.id;
	cq.flags = ORBIT_CALL_SYNC;
	ok(ioctl(fd, ORBIT_IOC_CALL, &cq) == 0 && cq.retval == 7,
	   "a polling orbit takes the call and answers it");
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "after answering, nothing queued: EAGAIN (status %#x)", status);
	ioctl(fd, ORBIT_IOC_DESTROY, &(struct orbit_ref){ .id = cr.id });
	close(p[0]);
	close(fd);
}

int main(void)
{
	struct orbit_module_stats start;

	require(orbit_module_stats(&start) == 0, "read module counters");
	handshake();
	features_are_enforced();
	reserved_words_are_checked();
	pull_flags_are_checked();
	cloexec_is_honoured();
	task_loop_rules();
	run_nowait();
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
