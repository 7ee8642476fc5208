// SPDX-License-Identifier: GPL-2.0
/*
 * The per-user limit (max_user_bytes, here 16 MiB): an unprivileged user
 * whose contexts hold that much area memory gets SIGBUS on the page fault
 * that would go beyond it, and EDQUOT from a call whose argument would;
 * the memory is the user's again once the contexts are gone.  Reads
 * need no memory: at the limit, main still reads the pages a call froze.
 * An orbit that must restart then, when the copy of main's globals needs
 * a page, fails the call with EDQUOT and comes back once memory is freed
 * (the failed restart does not use up its restart_max of 1).
 * A context made with CAP_SYS_RESOURCE (root here) is not limited.  Set
 * to 0, the limit is its default, half of memory, as when the module is
 * loaded.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "../../uapi/orbit.h"
#include "sigbus.h"
#include "tap.h"
#include "util.h"

#define LIMIT	(16L << 20)

/*
 * Writes a byte of each page of [p + from, p + want) until SIGBUS: the
 * bytes from p it reached (want if no SIGBUS came).
 */
static long touch_at(volatile char *p, long from, long want)
{
	return sigbus_touch(p, from / 4096, want / 4096, 1) * 4096;
}

/* Touches up to want bytes of a fresh area: the bytes touched. */
static long touch(long want)
{
	struct orbit_area *area = orbit_area_create(64 << 20, NULL);

	return area ? touch_at(orbit_area_base(area), 0, want) : -1;
}

/* Becomes uid (0: stays root), catching the SIGBUS of the limit. */
static int as_user(int uid)
{
	if (uid && (setgid(uid) || setuid(uid)))
		_exit(100);
	sigbus_catch();
	return 0;
}

/* Exit status: 1 if touching 32 MiB stopped between 8 and 17 MiB. */
static void fault_case(int uid, int report)
{
	long done;

	as_user(uid);
	done = touch(32L << 20);
	if (write(report, &done, sizeof(done)) != sizeof(done))
		_exit(101);
	_exit(0);
}

/* Reports the bytes of 64 KiB arguments queued, and the errno at the end. */
static void call_case(int uid, int report)
{
	struct orbit_api api = { .api = ORBIT_API_VERSION };
	struct orbit_create cr = { .name = "never" };
	static char arg[65536];
	long queued = 0, err = 0;
	int fd;

	as_user(uid);
	fd = open("/dev/orbit", O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, ORBIT_IOC_API, &api) ||
	    ioctl(fd, ORBIT_IOC_CREATE, &cr))
		_exit(102);
	while (queued < (64L << 20)) {
		struct orbit_call_req cq;

		memset(&cq, 0, sizeof(cq));
		cq.orbit_id = cr.id;
		cq.flags = ORBIT_CALL_NOFUTURE;
		cq.arg = (uintptr_t)arg;
		cq.argsize = sizeof(arg);
		if (ioctl(fd, ORBIT_IOC_CALL, &cq)) {
			err = errno;
			break;
		}
		queued += sizeof(arg);
	}
	if (write(report, &queued, sizeof(queued)) != sizeof(queued) ||
	    write(report, &err, sizeof(err)) != sizeof(err))
		_exit(103);
	_exit(0);
}

static long nothing(void *argbuf, void *store)
{
	return 0;
}

/*
 * Reports how many of 8 pages a call froze (main wrote them before it)
 * main then reads, with the user's limit reached, and what they hold:
 * such a read copies the page where it can, and maps the frozen one
 * where it cannot.
 */
static void read_case(int uid, int report)
{
	struct orbit *ob;
	struct orbit_area *area;
	volatile long *p;
	static volatile long nread, sum;
	long i;

	as_user(uid);
	ob = orbit_create("read-frozen", nothing, NULL);
	area = ob ? orbit_area_create(64 << 20, ob) : NULL;
	if (!area)
		_exit(104);
	p = orbit_area_base(area);
	for (i = 0; i < 8; i++)
		p[i * 512] = i + 1;
	/* Fewer pages than a snapshot write-protects: it unmaps them. */
	if (orbit_call(ob, 1, &area, NULL, NULL, 0))
		_exit(105);
	if (touch_at((volatile char *)p, 8 * 4096, 32L << 20) == 32L << 20)
		_exit(106);	/* the limit never came */
	nread = sum = 0;
	if (!sigsetjmp(sigbus_jb, 1)) {
		sigbus_expected = 1;
		for (; nread < 8; nread++)
			sum += p[nread * 512];
	}
	sigbus_expected = 0;
	if (write(report, (long *)&nread, sizeof(nread)) != sizeof(nread) ||
	    write(report, (long *)&sum, sizeof(sum)) != sizeof(sum))
		_exit(107);
	_exit(0);
}

static long global_now;	/* main's, copied to the orbit at each start */

static long crash_or_global(void *argbuf, void *store)
{
	if (*(const int *)argbuf)
		raise(SIGKILL);
	return global_now;
}

/*
 * Reports the errno of a call whose orbit must restart while the user is
 * at the limit (the copy of main's globals needs a page), and what the
 * call after main freed memory returns: the global as main set it last,
 * from the one restart its policy allows, which the failed one did not
 * use up.
 */
static void restart_case(int uid, int report)
{
	struct orbit_attr attr;
	struct orbit_area *filler;
	struct orbit *ob;
	int crash = 1, fine = 0;
	long err = 0, ret;

	as_user(uid);
	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_LIMIT;
	attr.restart_max = 1;
	global_now = 7;
	ob = orbit_create_ex("restart-at-limit", crash_or_global, NULL, &attr);
	filler = orbit_area_create(32L << 20, NULL);
	if (!ob || !filler || orbit_call(ob, 0, NULL, NULL, &fine,
					 sizeof(fine)) != 7)
		_exit(108);
	if (touch_at(orbit_area_base(filler), 0, 32L << 20) == 32L << 20)
		_exit(109);	/* the limit never came */
	global_now = 9;
	if (orbit_call(ob, 0, NULL, NULL, &crash, sizeof(crash)) != -1 ||
	    errno != ESRCH)
		_exit(110);	/* the task died: the call fails */
	if (orbit_call(ob, 0, NULL, NULL, &fine, sizeof(fine)) == -1)
		err = errno;
	orbit_area_destroy(filler);
	ret = orbit_call(ob, 0, NULL, NULL, &fine, sizeof(fine));
	if (write(report, &err, sizeof(err)) != sizeof(err) ||
	    write(report, &ret, sizeof(ret)) != sizeof(ret))
		_exit(111);
	_exit(0);
}

/*
 * Runs one case in a child as uid, and waits for what it left in the
 * module to go: a context ends in the module's workqueue after its
 * process is gone, and an orbit's queued calls after the orbit is, so the
 * user's charges are back only once the module's objects are back to
 * their count at start.
 */
static int run(void (*fn)(int, int), int uid, long *a, long *b,
	       const struct orbit_module_stats *start)
{
	int p[2], status;
	pid_t pid;

	*a = *b = -1;
	pid = fork_piped(p);
	if (pid < 0)
		return -1;
	if (pid == 0)
		fn(uid, p[1]);
	if (read(p[0], a, sizeof(*a)) != sizeof(*a) ||
	    (fn != fault_case && read(p[0], b, sizeof(*b)) != sizeof(*b)))
		*a = -2;
	close(p[0]);
	waitpid(pid, &status, 0);
	require(counters_back_to(start), "the case's context and orbit ended");
	return status;
}

/* MemTotal: the kernel's totalram_pages, in bytes; half of it. */
static unsigned long long half_of_memory(void)
{
	unsigned long long kib = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib * 1024 / 2;
}

int main(void)
{
	struct orbit_module_stats start;
	char saved[32] = "", now[32] = "";
	long a, b;

	require(orbit_module_stats(&start) == 0, "read module counters");
	require(param_read("max_user_bytes", saved, sizeof(saved)) == 0,
		"read max_user_bytes");
	require(param_write("max_user_bytes", "16777216") == 0,
		"set max_user_bytes to 16 MiB");

	run(fault_case, 1000, &a, &b, &start);
	ok(a > (8L << 20) && a <= LIMIT,
	   "user 1000 touching 32 MiB of area gets SIGBUS after %ld MiB", a >> 20);
	run(call_case, 1000, &a, &b, &start);
	ok(a > 0 && a <= LIMIT && b == EDQUOT,
	   "user 1000 queueing 64 KiB arguments gets EDQUOT after %ld MiB (errno %ld)",
	   a >> 20, b);
	run(fault_case, 1000, &a, &b, &start);
	ok(a > (8L << 20) && a <= LIMIT,
	   "the memory is the user's again once the process is gone (%ld MiB)",
	   a >> 20);
	run(read_case, 1000, &a, &b, &start);
	ok(a == 8 && b == 36,
	   "at the limit, user 1000 reads the 8 pages a call froze: %ld, sum %ld of 36",
	   a, b);
	run(restart_case, 1000, &a, &b, &start);
	ok(a == EDQUOT && b == 9,
	   "at the limit, a restart whose globals need a page fails with EDQUOT (errno %ld); with memory freed the orbit is back with main's globals of now (%ld of 9)",
	   a, b);
	run(fault_case, 0, &a, &b, &start);
	ok(a == 32L << 20, "root (CAP_SYS_RESOURCE) is not limited (%ld MiB)",
	   a >> 20);

	/* 0 is the default at run time too, not a limit of nothing. */
	ok(param_write("max_user_bytes", "0") == 0 &&
	   param_read("max_user_bytes", now, sizeof(now)) == 0 &&
	   strtoull(now, NULL, 10) == half_of_memory(),
	   "max_user_bytes set to 0 reads half of memory (%s)", now);
	run(fault_case, 1000, &a, &b, &start);
	ok(a == 32L << 20, "then user 1000 touches all of its area (%ld MiB)",
	   a >> 20);

	ok(param_write("max_user_bytes", saved) == 0, "restore max_user_bytes");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
