/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by guest tests and the benchmark (bench/orbit_bench.c). */
#ifndef ORBIT_TEST_UTIL_H
#define ORBIT_TEST_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <orbit.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../uapi/orbit.h"

/*
 * An orbit's init that blocks SIGUSR1, so that main's signal waits,
 * pending, for the task's wait_sigusr1() however early it comes.
 */
static inline void *init_blocking_sigusr1(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return NULL;
}

/* In a task: waits up to secs for main's SIGUSR1. */
static inline void wait_sigusr1(int secs)
{
	struct timespec ts = { .tv_sec = secs };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigtimedwait(&set, NULL, &ts);
}

/* The sum of word 0 of each of n pages from vals. */
static inline long first_words_sum(const long *vals, int n)
{
	long s = 0;
	int i;

	for (i = 0; i < n; i++)
		s += vals[i * (4096 / sizeof(long))];
	return s;
}

/* A context of our own past the handshake, asking for features: or -1. */
static inline int raw_context(uint64_t features)
{
	struct orbit_api api = { .api = ORBIT_API_VERSION,
				 .features = features };
	int fd = open("/dev/orbit", O_RDWR | O_CLOEXEC);

	if (fd >= 0 && ioctl(fd, ORBIT_IOC_API, &api)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Writes val to a sysfs, cgroup or tracefs file: 0, or -1. */
static inline int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

#define ORBIT_PARAMS	"/sys/module/orbit/parameters/"

/* Sets the module parameter name: 0, or -1 with errno (EINVAL: refused). */
static inline int param_write(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), ORBIT_PARAMS "%s", name);
	return write_file(path, val);
}

/* The first line of a file into buf[len], newline dropped: 0 or -1. */
static inline int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* The module parameter name's value into buf[len], newline dropped: 0 or -1. */
static inline int param_read(const char *name, char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), ORBIT_PARAMS "%s", name);
	return read_file(path, buf, len);
}

/* A module parameter's name and the value params_save read. */
struct param_saved {
	const char *name;
	char val[32];
};

/* Reads the n parameters' values: 0, or -1 (the first unread is named). */
static inline int params_save(struct param_saved *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (param_read(p[i].name, p[i].val, sizeof(p[i].val))) {
			fprintf(stderr, "# cannot read %s\n", p[i].name);
			return -1;
		}
	return 0;
}

/* Writes back what params_save read, every one: 0, or -1 if one failed. */
static inline int params_restore(const struct param_saved *p, size_t n)
{
	int err = 0;
	size_t i;

	for (i = 0; i < n; i++)
		err |= param_write(p[i].name, p[i].val);
	return err;
}

/*
 * debug_mc_fail (mc.c): the next n surviving copies fail as if they had
 * read a memory error (with mc_copy on): 0, or -1 with errno.
 */
static inline int mc_fail_inject(unsigned int n)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", n);
	return param_write("debug_mc_fail", v);
}

/* Was every injected failure consumed (debug_mc_fail back to 0)? */
static inline int mc_fail_consumed(void)
{
	char v[16];

	return !param_read("debug_mc_fail", v, sizeof(v)) && !strcmp(v, "0");
}

/* The faults debug_fault_delay_kinds may choose (module/orbit_internal.h). */
#define FAULT_AREA_READ		1	/* main's read faults */
#define FAULT_AREA_WRITE	2	/* main's write faults */
#define FAULT_VIEW_WRITE	4	/* an orbit's write faults */

static inline void fault_delay_off(void)
{
	param_write("debug_fault_delay_us", "0");
	param_write("debug_fault_delay_kinds", "7");
}

/*
 * Tests only: the faults of kinds sleep us microseconds between choosing
 * their page and the kernel mapping it (debug_fault_delay_us), so that a
 * race test hits that window at once; off again at exit.  0 or -1.
 */
static inline int fault_delay_set(unsigned int us, unsigned int kinds)
{
	static int registered;
	char val[16];

	if (!registered && atexit(fault_delay_off))
		return -1;
	registered = 1;
	snprintf(val, sizeof(val), "%u", kinds);
	if (param_write("debug_fault_delay_kinds", val))
		return -1;
	snprintf(val, sizeof(val), "%u", us);
	return param_write("debug_fault_delay_us", val);
}

/*
 * A write by the kernel, not by a store: the byte c read(2) from a pipe
 * into dst.  0, or -1.
 */
static inline int kernel_write_byte(void *dst, char c)
{
	int p[2], ok;

	if (pipe(p))
		return -1;
	ok = write(p[1], &c, 1) == 1 && read(p[0], dst, 1) == 1;
	close(p[0]);
	close(p[1]);
	return ok ? 0 : -1;
}

/*
 * The physical page frames behind the n pages from p, in pfn[]
 * (/proc/self/pagemap: the tests run as root), 0 for a page not present:
 * 0, or -1 if the pagemap could not be read.
 */
static inline int pfns_of(const void *p, size_t n, uint64_t *pfn)
{
	size_t len = n * sizeof(*pfn), i;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	int err = -1;

	if (fd < 0)
		return -1;
	if (pread(fd, pfn, len, (uintptr_t)p / 4096 * sizeof(*pfn)) ==
	    (ssize_t)len)
		err = 0;
	close(fd);
	for (i = 0; i < n; i++)
		pfn[i] = !err && pfn[i] >> 63 ? pfn[i] & ((1ULL << 55) - 1) : 0;
	return err;
}

/*
 * How many distinct frames pfn[0..n) names (pfns_of's answer), up to max
 * (at most 64): max + 1 when there are more.
 */
static inline int frames_in(const uint64_t *pfn, size_t n, int max)
{
	uint64_t seen[64];
	int nseen = 0, j;
	size_t i;

	for (i = 0; i < n; i++) {
		for (j = 0; j < nseen && seen[j] != pfn[i]; j++)
			;
		if (j < nseen)
			continue;
		if (nseen == max || nseen == 64)
			return max + 1;
		seen[nseen++] = pfn[i];
	}
	return nseen;
}

/* The physical page frame behind p, 0 if not present (see pfns_of). */
static inline uint64_t pfn_of(const void *p)
{
	uint64_t pfn;

	pfns_of(p, 1, &pfn);
	return pfn;
}

/*
 * Two areas of size bytes bound to ob: areas[0] in COW mode, areas[1] in
 * auto mode (the races of copy-out run on both).  0, or -1.
 */
static inline int cow_and_auto_areas(struct orbit *ob, size_t size,
				     struct orbit_area **areas)
{
	areas[0] = orbit_area_create_ex(size, size, ORBIT_AREA_MODE_COW, ob);
	areas[1] = orbit_area_create_ex(size, size, 0, ob);
	return areas[0] && areas[1] ? 0 : -1;
}

/*
 * Two writer threads in lockstep with the caller, for the races of
 * copy-out: after lockstep_go(ls, v) writer 0 calls page(p, v) for every
 * page from the last to the first and writer 1 from the middle on,
 * while the caller writes too; lockstep_wait() returns when both are
 * done.
 */
struct lockstep {
	pthread_barrier_t go, done;
	void (*page)(int p, long v);
	int npages;
	volatile long v;
	volatile int stop;
	struct lockstep_writer {
		struct lockstep *ls;
		int n;
		pthread_t th;
	} w[2];
};

static inline void *lockstep_writer(void *arg)
{
	struct lockstep_writer *w = arg;
	struct lockstep *ls = w->ls;
	int i, n = ls->npages;

	for (;;) {
		pthread_barrier_wait(&ls->go);
		if (ls->stop)
			return NULL;
		for (i = 0; i < n; i++)
			ls->page(w->n ? (i + n / 2) % n : n - 1 - i, ls->v);
		pthread_barrier_wait(&ls->done);
	}
}

/* Starts the writers: 0, or -1 (then the test ends). */
static inline int lockstep_start(struct lockstep *ls,
				 void (*page)(int p, long v), int npages)
{
	int i;

	ls->page = page;
	ls->npages = npages;
	ls->stop = 0;
	if (pthread_barrier_init(&ls->go, NULL, 3) ||
	    pthread_barrier_init(&ls->done, NULL, 3))
		return -1;
	for (i = 0; i < 2; i++) {
		ls->w[i].ls = ls;
		ls->w[i].n = i;
		if (pthread_create(&ls->w[i].th, NULL, lockstep_writer,
				   &ls->w[i]))
			return -1;
	}
	return 0;
}

static inline void lockstep_go(struct lockstep *ls, long v)
{
	ls->v = v;
	pthread_barrier_wait(&ls->go);
}

static inline void lockstep_wait(struct lockstep *ls)
{
	pthread_barrier_wait(&ls->done);
}

static inline void lockstep_stop(struct lockstep *ls)
{
	int i;

	ls->stop = 1;
	pthread_barrier_wait(&ls->go);
	for (i = 0; i < 2; i++)
		pthread_join(ls->w[i].th, NULL);
	pthread_barrier_destroy(&ls->go);
	pthread_barrier_destroy(&ls->done);
}

/* Live objects (contexts aside: the test holds its own). */
static inline int live_equal(const struct orbit_module_stats *a,
			     const struct orbit_module_stats *b)
{
	return a->orbits == b->orbits &&
	       a->areas == b->areas && a->views == b->views &&
	       a->pages == b->pages && a->nodes == b->nodes &&
	       a->calls == b->calls && a->updates == b->updates;
}

/* Waits up to 5 s for the live counters to return to *start. */
static inline int counters_back_to(const struct orbit_module_stats *start)
{
	struct orbit_module_stats now;
	int i;

	for (i = 0; i < 100; i++) {
		if (orbit_module_stats(&now))
			return 0;
		if (live_equal(&now, start))
			return 1;
		usleep(50000);
	}
	printf("    # counters: contexts %llu/%llu orbits %llu/%llu areas %llu/%llu views %llu/%llu pages %llu/%llu nodes %llu/%llu calls %llu/%llu\n",
	       (unsigned long long)now.contexts, (unsigned long long)start->contexts,
	       (unsigned long long)now.orbits, (unsigned long long)start->orbits,
	       (unsigned long long)now.areas, (unsigned long long)start->areas,
	       (unsigned long long)now.views, (unsigned long long)start->views,
	       (unsigned long long)now.pages, (unsigned long long)start->pages,
	       (unsigned long long)now.nodes, (unsigned long long)start->nodes,
	       (unsigned long long)now.calls, (unsigned long long)start->calls);
	return 0;
}

/* The module's live calls, polled up to two seconds until want. */
static inline int live_calls_become(uint64_t want)
{
	struct orbit_module_stats st;
	int i;

	for (i = 0; i < 40; i++) {
		if (orbit_module_stats(&st))
			return 0;
		if (st.calls == want)
			return 1;
		usleep(50000);
	}
	printf("    # live calls: %llu, expected %llu\n",
	       (unsigned long long)st.calls, (unsigned long long)want);
	return 0;
}

/*
 * Number of processes whose comm is name; stores the pids of the first max
 * found in pids.
 */
static inline int procs_named_pids(const char *name, pid_t *pids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300], comm[64] = "";
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = 0;
			if (!strcmp(comm, name) && n++ < max)
				pids[n - 1] = atoi(e->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/*
 * Number of processes whose comm is name; with pid, stores the pid of one
 * of them (-1 when none).
 */
static inline int procs_named(const char *name, pid_t *pid)
{
	pid_t one = -1;
	int n = procs_named_pids(name, &one, 1);

	if (pid)
		*pid = one;
	return n;
}

/* Waits up to 5 s for no process named name to remain. */
static inline int procs_gone(const char *name)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (procs_named(name, NULL) == 0)
			return 1;
		usleep(50000);
	}
	return 0;
}

/* A descriptor of this process whose /proc/self/fd link contains what. */
static inline int fd_linked_to(const char *what)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fd = -1;

	while (d && (e = readdir(d))) {
		char path[300], link[256] = "";

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		if (readlink(path, link, sizeof(link) - 1) > 0 &&
		    strstr(link, what)) {
			fd = atoi(e->d_name);
			break;
		}
	}
	if (d)
		closedir(d);
	return fd;
}

#ifdef RUSAGE_THREAD	/* _GNU_SOURCE */
/* The calling thread's minor page faults so far, -1 if unknown. */
static inline long minor_faults(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_THREAD, &ru) ? -1 : ru.ru_minflt;
}
#endif

static inline double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Keeps the CPU busy for us microseconds (work, not a sleep). */
static inline void spin_us(double us)
{
	double t0 = now_us();

	while (now_us() - t0 < us)
		;
}

/*
 * A child that reports to its parent through a pipe: 0 in the child, which
 * writes to p[1]; the child's pid in the parent, which reads p[0]; -1 on
 * failure (no pipe left open).
 */
static inline pid_t fork_piped(int p[2])
{
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		return 0;
	}
	close(p[1]);
	if (pid < 0)
		close(p[0]);
	return pid;
}

/*
 * Waits up to ms for child pid to end, looking every 10 ms: 0, or -1
 * after killing it.  Its status in *status either way.
 */
static inline int wait_child_ms(pid_t pid, int ms, int *status)
{
	int i;

	for (i = 0; i < ms / 10; i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return -1;
}

/*
 * Runs fn (which _exits) in a child, for at most a minute: its exit
 * status, 128 + the signal that ended it, or -1 if it could not be run or
 * was killed for its time.
 */
static inline int run_in_child(void (*fn)(void))
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0)
		fn();
	if (pid < 0 || wait_child_ms(pid, 60000, &status))
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Leaves an empty marker file at path for file_appears(): 0, or -1. */
static inline int file_leave(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);

	return fd < 0 ? -1 : close(fd);
}

/*
 * Waits up to ms for a file at path to exist, looking every 10 ms (a
 * marker another process leaves): 1 if it does.
 */
static inline int file_appears(const char *path, int ms)
{
	int i;

	for (i = 0; i < ms / 10 && access(path, F_OK); i++)
		usleep(10000);
	return access(path, F_OK) == 0;
}

/*
 * Waits up to ms for ob's status to satisfy holds(status, arg), looking
 * every 10 ms: 1 if it does.
 */
static inline int orbit_status_within(struct orbit *ob, int ms,
				      int (*holds)(const struct orbit_status *,
						   uint64_t),
				      uint64_t arg)
{
	struct orbit_status st;
	int i;

	for (i = 0; i < ms / 10; i++) {
		if (orbit_status(ob, &st) == 0 && holds(&st, arg))
			return 1;
		usleep(10000);
	}
	return 0;
}

static inline int status_idle(const struct orbit_status *st, uint64_t unused)
{
	return st->calls_queued == 0;
}

static inline int status_dead(const struct orbit_status *st, uint64_t unused)
{
	return st->state == ORBIT_STATUS_DEAD;
}

static inline int status_done(const struct orbit_status *st, uint64_t n)
{
	return st->calls_done >= n;
}

/*
 * Waits up to ms for ob to have no call queued or running (an ended call
 * need not be collected): 1 if it has none.
 */
static inline int orbit_idle_within(struct orbit *ob, int ms)
{
	return orbit_status_within(ob, ms, status_idle, 0);
}

/* Waits up to ms for ob to be dead: 1 if it is. */
static inline int orbit_dead_within(struct orbit *ob, int ms)
{
	return orbit_status_within(ob, ms, status_dead, 0);
}

/* Kills ob's process (SIGKILL), then waits up to ms for ob to be dead. */
static inline int orbit_kill_within(struct orbit *ob, int ms)
{
	struct orbit_status st;

	return !orbit_status(ob, &st) && st.pid > 0 &&
	       !kill(st.pid, SIGKILL) && orbit_dead_within(ob, ms);
}

/*
 * Waits up to ms for ob to have ended n calls in all (the library's own
 * too; pulled or not): 1 if it has.
 */
static inline int orbit_done_within(struct orbit *ob, uint64_t n, int ms)
{
	return orbit_status_within(ob, ms, status_done, n);
}

/*
 * On context fd, an async call of orbit orbit_id that the library does
 * not know of, with len bytes of arg: its id, or 0 with errno set.
 */
static inline uint64_t raw_call_on(int fd, uint32_t orbit_id,
				   const void *arg, size_t len)
{
	struct orbit_call_req req = {
		.orbit_id = orbit_id, .arg = (uintptr_t)arg, .argsize = len,
	};

	return ioctl(fd, ORBIT_IOC_CALL, &req) ? 0 : req.call_id;
}

/*
 * Accesses to [lo, hi) that fault on the range's protection (SEGV_ACCERR:
 * another thread made it read-only or inaccessible) are retried, after a
 * yield, until that thread makes it accessible again.  Any other SIGSEGV
 * is not the test's: the default action, at once.
 */
static unsigned char *segv_retry_lo, *segv_retry_hi;

static inline void segv_retry_handler(int sig, siginfo_t *si, void *uc)
{
	unsigned char *a = si->si_addr;

	(void)sig;
	(void)uc;
	if (si->si_code != SEGV_ACCERR || a < segv_retry_lo ||
	    a >= segv_retry_hi)
		signal(SIGSEGV, SIG_DFL);
	else
		sched_yield();
}

/* Installs segv_retry_handler for the len bytes from lo: 0, or -1. */
static inline int segv_retry_in(void *lo, size_t len)
{
	struct sigaction sa = { .sa_sigaction = segv_retry_handler,
				.sa_flags = SA_SIGINFO };

	segv_retry_lo = lo;
	segv_retry_hi = segv_retry_lo + len;
	return sigaction(SIGSEGV, &sa, NULL);
}

#ifdef CPU_ZERO	/* the includer defined _GNU_SOURCE */
/* Pins pid (0: the calling thread) to CPU cpu: 0, or -1. */
static inline int pin_to_cpu(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(pid, sizeof(set), &set);
}
#endif

#endif
