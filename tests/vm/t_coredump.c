// SPDX-License-Identifier: GPL-2.0
/*
 * Core dumps go through the module's mappings: with coredump_filter asking
 * for every mapping, the kernel reads main's areas (area faults) and an
 * orbit's views (view faults) while the process dies.  Nothing may hang,
 * oops or leak there:
 *  - a task that crashes after reading its area leaves a core that holds
 *    the snapshot it saw; the call fails, main goes on;
 *  - a main that crashes with an area whose pages a running call froze,
 *    while another of its threads waits in a sync call, dumps (the waiter
 *    is woken by the dump's kill, long before the task would end) and its
 *    core holds the area; its orbits end and the module's counters come
 *    back.
 * Without bit 3 of the filter (file-backed shared), the default, neither
 * is dumped (orbit(7)).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

#define AREA		(1UL << 20)
#define PG		4096UL
#define NWORDS		(2 * AREA / PG)	/* words a page may hold */
#define CORES		"/tmp/orbit-cores"
#define PATTERN		"/proc/sys/kernel/core_pattern"

/*
 * A page of the area holds one word PG / 8 times: page i's at first,
 * page AREA / PG + i's once main rewrote it.  Seeded at run time.
 */
static uint64_t seed;

static uint64_t word_of(unsigned long i)
{
	return (seed + i) * 0x9e3779b97f4a7c15ULL;
}

/* Fills pages [0, n) of p with the words of pages [from, from + n). */
static void fill(unsigned char *p, unsigned long from, unsigned long n)
{
	unsigned long i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < PG / 8; j++)
			((uint64_t *)(p + i * PG))[j] = word_of(from + i);
}

struct task_arg {
	const unsigned char *base;
	int crash;
	unsigned int sleep_ms;
};

/* Sums one word a page, then crashes or sleeps as asked. */
static long reader(void *argbuf, void *store)
{
	struct task_arg *a = argbuf;
	unsigned long i, sum = 0;

	for (i = 0; a->base && i < AREA; i += PG)
		sum += *(const uint64_t *)(a->base + i);
	if (a->crash)
		*(volatile long *)NULL = (long)sum;
	usleep(a->sleep_ms * 1000);
	return (long)(sum & 0xffff);
}

/* The page index whose word w is, from the multiplier's inverse. */
static unsigned long index_of(uint64_t w)
{
	uint64_t k = 0x9e3779b97f4a7c15ULL, inv = k;
	int n;

	for (n = 0; n < 6; n++)		/* Newton: odd k, 6 doublings of bits */
		inv *= 2 - k * inv;
	return (unsigned long)(w * inv - seed);
}

/*
 * Pages of the area found whole in pid's core file (core segments start
 * page-aligned in it), counted once each; the core's size in *sz.  The
 * file is removed.
 */
static int pages_in_core(pid_t pid, long *sz)
{
	static unsigned char seen[NWORDS];
	uint64_t page[PG / 8];
	unsigned long i, j;
	char path[64];
	off_t off = 0, data, hole;
	struct stat st;
	int fd, found = 0;

	snprintf(path, sizeof(path), CORES "/core.%d", (int)pid);
	*sz = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0)
		*sz = (long)st.st_size;
	memset(seen, 0, sizeof(seen));
	/* The core is sparse (an area's view spans its maximum size). */
	while ((data = lseek(fd, off, SEEK_DATA)) >= 0) {
		hole = lseek(fd, data, SEEK_HOLE);
		for (off = data & ~(off_t)(PG - 1);
		     off < hole && pread(fd, page, PG, off) == PG; off += PG) {
			i = index_of(page[0]);
			if (i >= NWORDS || seen[i])
				continue;
			for (j = 1; j < PG / 8 && page[j] == page[0]; j++)
				;
			if (j == PG / 8) {
				seen[i] = 1;
				found++;
			}
		}
		if (off < hole)
			break;
	}
	close(fd);
	unlink(path);
	return found;
}

struct waiter {
	struct orbit *ob;
	struct task_arg arg;
};

static void *sync_waiter(void *p)
{
	struct waiter *w = p;

	orbit_call(w->ob, 0, NULL, NULL, &w->arg, sizeof(w->arg));
	return NULL;
}

/*
 * A main of its own that crashes: an area frozen by a running call (main
 * rewrote half of it since), a thread waiting in a sync call of 20 s.
 */
static void crashing_main(void)
{
	struct orbit *ob = orbit_create("core-main", reader, NULL);
	/*
	 * Its maximum size is its size, for a short dump (the first case's
	 * default maximum, 1 GiB, has the dump fault beyond the size).
	 */
	struct orbit_area *a = ob ? orbit_area_create_ex(AREA, AREA, 0, ob) :
				    NULL;
	struct orbit *ob2 = orbit_create("core-main2", reader, NULL);
	struct waiter w = { ob2, { NULL, 0, 20000 } };
	struct task_arg arg;
	struct orbit_future *f;
	unsigned char *p;
	pthread_t t;

	if (!a || !ob2)
		_exit(10);
	p = orbit_area_base(a);
	fill(p, 0, AREA / PG);
	arg = (struct task_arg){ p, 0, 20000 };
	f = orbit_call_async(ob, 0, 1, &a, NULL, &arg, sizeof(arg));
	if (!f || pthread_create(&t, NULL, sync_waiter, &w))
		_exit(11);
	/* Copy-on-write of the frozen first half: pages main now owns. */
	fill(p, AREA / PG, AREA / PG / 2);
	usleep(300000);		/* both calls running */
	*(volatile long *)NULL = 1;
	_exit(12);
}

int main(void)
{
	struct orbit_module_stats start;
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	char saved[256];
	struct orbit_status st;
	struct task_arg arg;
	struct orbit_area *a;
	struct orbit *ob;
	double t0, secs;
	long ret, sz;
	int found, status, err, ended;
	pid_t pid;

	seed = (uint64_t)getpid() << 32 ^ (uint64_t)now_us();
	require(orbit_module_stats(&start) == 0, "read module counters");
	mkdir(CORES, 0700);
	require(read_file(PATTERN, saved, sizeof(saved)) == 0 &&
		write_file(PATTERN, CORES "/core.%p") == 0 &&
		setrlimit(RLIMIT_CORE, &unlimited) == 0 &&
		write_file("/proc/self/coredump_filter", "0x1ff") == 0,
		"cores of every mapping into " CORES);

	/* The orbit's process inherits the limit and the filter. */
	ob = orbit_create("core-task", reader, NULL);
	a = ob ? orbit_area_create(AREA, ob) : NULL;
	require(a, "an orbit and an area");
	fill(orbit_area_base(a), 0, AREA / PG);
	arg = (struct task_arg){ orbit_area_base(a), 0, 0 };
	require(orbit_call(ob, 1, &a, NULL, &arg, sizeof(arg)) >= 0 &&
		orbit_status(ob, &st) == 0 && st.pid > 0,
		"a first call, the orbit's process");
	pid = st.pid;
	arg.crash = 1;
	ret = orbit_call(ob, 1, &a, NULL, &arg, sizeof(arg));
	err = errno;
	ok(ret == -1 && err == ESRCH,
	   "a task that crashes: its call fails with ESRCH (%ld, %s)", ret,
	   strerror(err));
	found = pages_in_core(pid, &sz);
	ok(found == AREA / PG,
	   "its core (%ld bytes) holds the snapshot it read: %d of %lu pages",
	   sz, found, AREA / PG);
	orbit_area_destroy(a);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");

	t0 = now_us();
	pid = fork();
	if (pid == 0)
		crashing_main();
	require(pid > 0, "fork");
	ended = wait_child_ms(pid, 15000, &status) == 0;
	secs = (now_us() - t0) / 1e6;
	ok(ended && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV &&
	   WCOREDUMP(status),
	   "a main that crashes with a frozen area and a thread in a sync call dumps core (status %#x, %.1f s)",
	   status, secs);
	found = pages_in_core(pid, &sz);
	ok(found == AREA / PG,
	   "its core (%ld bytes) holds its area as it was, rewritten half too: %d of %lu pages",
	   sz, found, AREA / PG);
	ok(counters_back_to(&start) && procs_gone("core-main") &&
	   procs_gone("core-main2"),
	   "its orbits end; module counters back to their start values");

	write_file(PATTERN, saved);
	rmdir(CORES);
	return tap_done();
}
