// SPDX-License-Identifier: GPL-2.0
/*
 * orbit benchmarks, run in the guest.  Every figure is a median of
 * repeated runs and is printed next to its baseline measured in the same
 * run, as one CSV row:
 *   BENCH,group,case,unit,orbit,baseline,baseline_value,ratio,target,verdict
 * ORBIT_BENCH_QUICK=1 uses small sizes (make bench-quick); a target that
 * says "at full size" is then reported n/a.
 * Built with BENCH_GLOBALS_MIB=N, main has N MiB of written globals and
 * the binary runs the "globals" group only (orbit_create copies them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <orbit.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define PG	4096UL
#define MAXREP	41

static int quick;

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[n / 2];
}

#define FULL	" at full size"

static void row(const char *group, const char *cs, const char *unit,
		double v, const char *base, double base_v, double ratio,
		const char *target, int met)
{
	const char *verdict = !*target ? "" : met ? "met" : "MISSED";

	if (*target && quick && strstr(target, FULL))
		verdict = "n/a (quick sizes)";
	printf("BENCH,%s,%s,%s,%.1f,%s,%.1f,%.3f,%s,%s\n", group, cs, unit, v,
	       base, base_v, ratio, target, verdict);
	fflush(stdout);
}

static void touch(unsigned char *p, size_t len, unsigned char v)
{
	size_t i;

	for (i = 0; i < len; i += PG)
		p[i] = v;
}

/* The stores to p happened: a buffer that is only filled and freed is
 * otherwise dead to the compiler, which may drop the filling.
 */
static void keep(void *p)
{
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

static long read_first(void *arg, void *store)
{
	return **(unsigned char **)arg;
}

static long nothing(void *arg, void *store)
{
	return 0;
}

static void set_param(const char *name, const char *val)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/sys/module/orbit/parameters/%s", name);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0)
			perror(path);
		close(fd);
	}
}

/*
 * A group's orbit, its area and its anonymous baseline memory go; a
 * group whose repetitions did not all run says what failed.  True: its
 * rows can be printed.
 */
static int group_end(struct orbit *ob, struct orbit_area *a, void *anon,
		     size_t len, int failed, const char *what)
{
	if (anon != MAP_FAILED)
		munmap(anon, len);
	orbit_area_destroy(a);
	orbit_destroy(ob);
	if (failed)
		printf("# %s failed\n", what);
	return !failed;
}

/* fork() latency, parent side, with the caller's memory resident. */
static double fork_us(void)
{
	double t0 = now_us(), t;
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	t = now_us() - t0;
	waitpid(pid, NULL, 0);
	return t;
}

/*
 * A create followed by its first call, as a program that creates orbits
 * now and then (or restarts a crashed one) sees it: 10 ms apart, so the
 * spawner's spare is ready; against a fork whose child exits and is
 * waited for, at the same pace.
 */
static void bench_first_call(void)
{
	int k, n = 15;
	double c[MAXREP], f[MAXREP], t0, create;

	for (k = 0; k < n; k++) {
		struct orbit *ob;

		usleep(10000);
		t0 = now_us();
		ob = orbit_create("first", nothing, NULL);
		if (!ob || orbit_call(ob, 0, NULL, NULL, NULL, 0) < 0) {
			perror("first call");
			if (ob)
				orbit_destroy(ob);
			return;
		}
		c[k] = now_us() - t0;
		orbit_destroy(ob);
		usleep(10000);
		t0 = now_us();
		fork_us();
		f[k] = now_us() - t0;
	}
	create = median(c, n);
	row("create", "create + first call 10 ms apart", "us", create,
	    "fork + exit + wait", median(f, n), create / median(f, n), "", 1);
}

/* 1. Creation vs fork with main at several resident sizes.  The sizes
 * take turns over three rounds, so a change in the emulator's speed during
 * the group reaches every size alike and leaves the flatness alone.
 */
static void bench_create(void)
{
	static const size_t big[] = { 32UL << 20, 256UL << 20, 1UL << 30 };
	static const size_t small[] = { 8UL << 20, 32UL << 20 };
	const size_t *sizes = quick ? small : big;
	int nsz = quick ? 2 : 3, rounds = quick ? 1 : 3, per = quick ? 5 : 7;
	int i, r, k, n = rounds * per;
	double c[3][MAXREP], f[3][MAXREP], create, fork_med;
	double minc = 1e18, maxc = 0;
	struct orbit *warm = orbit_create("warm", nothing, NULL);

	/* The spawner exists before main grows, as in a real program. */
	orbit_call(warm, 0, NULL, NULL, NULL, 0);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < nsz; i++) {
			unsigned char *heap = malloc(sizes[i]);

			if (!heap) {
				perror("create: heap");
				goto out;
			}
			memset(heap, 0x5a, sizes[i]);
			keep(heap);	/* main is this big while timed */
			for (k = r * per; k < (r + 1) * per; k++) {
				double t0 = now_us();
				struct orbit *ob = orbit_create("bench", nothing,
								NULL);

				c[i][k] = now_us() - t0;
				if (!ob) {	/* no figure from a failed create */
					perror("create");
					free(heap);
					goto out;
				}
				orbit_call(ob, 0, NULL, NULL, NULL, 0);
				orbit_destroy(ob);
			}
			/* After the creations: what a fork of a large main
			 * leaves behind (its child's teardown) would slow the
			 * next create.
			 */
			for (k = r * per; k < (r + 1) * per; k++)
				f[i][k] = fork_us();
			free(heap);
		}
	}
	for (i = 0; i < nsz; i++) {
		char cs[64];

		create = median(c[i], n);
		fork_med = median(f[i], n);
		snprintf(cs, sizeof(cs), "main %zu MiB resident", sizes[i] >> 20);
		row("create", cs, "us", create, "fork", fork_med,
		    create / fork_med,
		    i == nsz - 1 ? "<= 0.05 at 1 GiB" FULL : "",
		    create / fork_med <= 0.05);
		if (create < minc)
			minc = create;
		if (create > maxc)
			maxc = create;
	}
	row("create", "flatness (max/min over sizes)", "us", maxc, "min", minc,
	    maxc / minc, "<= 1.5" FULL, maxc / minc <= 1.5);
	bench_first_call();
out:
	orbit_destroy(warm);
}

#ifdef BENCH_GLOBALS_MIB
static unsigned char globals_blob[BENCH_GLOBALS_MIB << 20];

static double create_once(const struct orbit_attr *attr)
{
	double t0 = now_us(), t;
	struct orbit *ob = orbit_create_ex("globals", nothing, NULL, attr);

	t = now_us() - t0;
	orbit_call(ob, 0, NULL, NULL, NULL, 0);	/* it ran: copy included */
	orbit_destroy(ob);
	return t;
}

/* 1b. Creation with main's globals copied fresh into every orbit
 * (orbit_create compares them with the last copy and writes the pages
 * that changed), vs fork, vs creation without the copy.  A warm orbit
 * keeps the copy alive between creations, as a program's first orbit
 * does.
 */
static void bench_globals(void)
{
	struct orbit_attr plain;
	int n = quick ? 5 : 11, k;
	double same[MAXREP], changed[MAXREP], off[MAXREP], fk[MAXREP];
	struct orbit *warm = orbit_create("warm", nothing, NULL);
	char cs[96];

	orbit_attr_init(&plain);
	plain.flags = ORBIT_SPAWNER_GLOBALS;
	touch(globals_blob, sizeof(globals_blob), 1);
	orbit_call(warm, 0, NULL, NULL, NULL, 0);
	for (k = 0; k < n; k++) {
		touch(globals_blob, sizeof(globals_blob), (unsigned char)k + 2);
		changed[k] = create_once(NULL);
		same[k] = create_once(NULL);
		off[k] = create_once(&plain);
		fk[k] = fork_us();
	}
	snprintf(cs, sizeof(cs), "%d MiB of globals unchanged since the last create",
		 BENCH_GLOBALS_MIB);
	row("globals", cs, "us", median(same, n), "fork", median(fk, n),
	    median(same, n) / median(fk, n), "", 0);
	row("globals", cs, "us", median(same, n), "create without the copy",
	    median(off, n), median(same, n) / median(off, n), "", 0);
	snprintf(cs, sizeof(cs), "%d MiB of globals with every page changed",
		 BENCH_GLOBALS_MIB);
	row("globals", cs, "us", median(changed, n), "fork", median(fk, n),
	    median(changed, n) / median(fk, n), "", 0);
	orbit_destroy(warm);
}
#endif

/* 2. Call latency vs snapshot size, all pages dirtied, vs fork per call. */
static void bench_call_size(void)
{
	static const size_t big[] = { 4096, 64UL << 10, 1UL << 20, 16UL << 20,
				      64UL << 20, 256UL << 20, 1UL << 30 };
	static const size_t small[] = { 4096, 1UL << 20, 16UL << 20 };
	const size_t *sizes = quick ? small : big;
	int nsz = quick ? 3 : 7, i, r;
	double call[7], fk[7];
	struct orbit *ob = orbit_create("size", read_first, NULL);

	for (i = 0; i < nsz; i++) {
		int reps = quick || sizes[i] >= (256UL << 20) ? 5 : 9;
		struct orbit_area *a = orbit_area_create_ex(sizes[i], sizes[i],
							    ORBIT_AREA_MODE_COW,
							    ob);
		unsigned char *p = orbit_area_base(a), *anon;
		double c[MAXREP], f[MAXREP];
		char cs[64];

		for (r = 0; r < reps; r++) {
			double t0;

			touch(p, sizes[i], (unsigned char)r);
			t0 = now_us();
			orbit_call(ob, 1, &a, NULL, &p, sizeof(p));
			c[r] = now_us() - t0;
		}
		orbit_area_destroy(a);
		anon = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (r = 0; r < reps; r++) {
			double t0;
			pid_t pid;

			touch(anon, sizes[i], (unsigned char)r);
			t0 = now_us();
			pid = fork();
			if (pid == 0)
				_exit(anon[0]);
			waitpid(pid, NULL, 0);
			f[r] = now_us() - t0;
		}
		munmap(anon, sizes[i]);
		call[i] = median(c, reps);
		fk[i] = median(f, reps);
		snprintf(cs, sizeof(cs), "snapshot %zu KiB", sizes[i] >> 10);
		row("call-size", cs, "us", call[i], "fork-per-call", fk[i],
		    call[i] / fk[i], "", 0);
	}
	{
		double pages = (double)(sizes[nsz - 1] - sizes[0]) / PG;
		double per_call = (call[nsz - 1] - call[0]) / pages;
		double per_fork = (fk[nsz - 1] - fk[0]) / pages;

		row("call-size", "per-page cost", "us/page", per_call,
		    "fork per page", per_fork, per_call / per_fork,
		    "<= 0.5" FULL,
		    per_call / per_fork <= 0.5);
	}
	orbit_destroy(ob);
}

/* 3. Incremental snapshots: 2 MiB changed per call in a 256 MiB area. */
static double incremental_run(struct orbit *ob, struct orbit_area *a,
			      size_t size, size_t dirty, int reps)
{
	unsigned char *p = orbit_area_base(a);
	double c[MAXREP];
	int r;

	for (r = 0; r < reps; r++) {
		double t0;

		touch(p + (size_t)(r % 8) * dirty, dirty, (unsigned char)r);
		t0 = now_us();
		orbit_call(ob, 1, &a, NULL, &p, sizeof(p));
		c[r] = now_us() - t0;
	}
	return median(c, reps);
}

static void bench_incremental(void)
{
	size_t size = quick ? 16UL << 20 : 256UL << 20;
	size_t dirty = quick ? 256UL << 10 : 2UL << 20;
	int reps = quick ? 5 : 9;
	struct orbit *ob = orbit_create("incr", read_first, NULL);
	struct orbit_area *a = ob ? orbit_area_create_ex(size, size,
							 ORBIT_AREA_MODE_COW,
							 ob) : NULL;
	unsigned char *p = a ? orbit_area_base(a) : NULL;
	double inc, full;
	char cs[96];

	if (!p) {
		perror("incremental: orbit");
		if (ob)
			orbit_destroy(ob);
		return;
	}
	touch(p, size, 1);
	orbit_call(ob, 1, &a, NULL, &p, sizeof(p));
	inc = incremental_run(ob, a, size, dirty, reps);
	set_param("debug_full_snapshot", "1");
	full = incremental_run(ob, a, size, dirty, reps);
	set_param("debug_full_snapshot", "0");
	snprintf(cs, sizeof(cs), "%zu MiB area; %zu KiB dirtied per call",
		 size >> 20, dirty >> 10);
	row("incremental", cs, "us", inc, "full snapshot", full, full / inc,
	    ">= 50 (full/incremental)" FULL, full / inc >= 50);
	orbit_area_destroy(a);
	orbit_destroy(ob);
}

/* 4. Main-side cost of snapshots under a write-heavy main, per mode. */
static double write_loop(struct orbit *ob, unsigned int flags, int calls)
{
	struct orbit_area *a = orbit_area_create_ex(1 << 20, 1 << 20, flags, ob);
	unsigned char *p = orbit_area_base(a);
	double spent = 0;
	int it, w;

	touch(p, 1 << 20, 1);
	for (it = 0; it < 400; it++) {
		double t0 = now_us();

		for (w = 0; w < 8; w++)		/* 8 hot pages */
			p[w * PG + (it & 63)] = (unsigned char)it;
		spent += now_us() - t0;
		if (calls && !orbit_call_async(ob, ORBIT_NOFUTURE, 1, &a, NULL,
					       &p, sizeof(p)) && errno) {
			printf("# write loop: call failed: %s\n",
			       strerror(errno));
			break;
		}
	}
	orbit_call(ob, 0, NULL, nothing, NULL, 0);	/* drain */
	orbit_area_destroy(a);
	return spent;
}

static void bench_modes(void)
{
	static const struct { const char *name; unsigned int flags; } m[] = {
		{ "COW", ORBIT_AREA_MODE_COW }, { "COPY", ORBIT_AREA_MODE_COPY },
		{ "auto", 0 },
	};
	struct orbit *ob = orbit_create("modes", read_first, NULL);
	struct orbit_module_stats s0, s1;
	double base[5], t[5];
	unsigned int i, r;

	for (r = 0; r < 5; r++)
		base[r] = write_loop(ob, 0, 0);
	for (i = 0; i < 3; i++) {
		char cs[64];

		orbit_module_stats(&s0);
		for (r = 0; r < 5; r++)
			t[r] = write_loop(ob, m[i].flags, 1);
		orbit_module_stats(&s1);
		printf("# %s: %llu COW faults, %llu pages copied in 5 x 400 snapshots\n",
		       m[i].name,
		       (unsigned long long)(s1.cow_faults - s0.cow_faults),
		       (unsigned long long)(s1.copy_pages - s0.copy_pages));
		snprintf(cs, sizeof(cs), "%s: main's writes; 400 snapshots",
			 m[i].name);
		row("cow-vs-copy", cs, "us", median(t, 5), "no snapshots",
		    median(base, 5), median(t, 5) / median(base, 5), "", 0);
	}
	orbit_destroy(ob);
}

/* 6. Per-page fault costs after a snapshot, vs after a fork: main's
 * first write to each page once the call has ended (the snapshot needs
 * no copy: against a fork whose child has exited) and while its task may
 * still read it (a copy: against a fork whose child still runs), and the
 * task's first read of each page (orbit view; forked child).
 */
#define FAULTS_FIFO	"/tmp/orbit_bench.fifo"	/* orbits inherit no fds */

struct read_arg {
	const unsigned char *p;
	size_t len;
	int wait;	/* then wait for main's byte on FAULTS_FIFO */
};

static long read_pages(void *argbuf, void *store)
{
	const struct read_arg *a = argbuf;
	const volatile unsigned char *p = a->p;
	double t0 = now_us();
	long ns;
	size_t i;
	char c;
	int fd;

	for (i = 0; i < a->len; i += PG)
		(void)p[i];
	ns = (long)((now_us() - t0) * 1000);
	if (a->wait) {
		fd = open(FAULTS_FIFO, O_RDONLY);
		if (fd < 0 || read(fd, &c, 1) != 1)
			ns = -1;
		if (fd >= 0)
			close(fd);
	}
	return ns;
}

static void close_pipe(int p[2])
{
	close(p[0]);
	close(p[1]);
}

/* Opens two pipes, or neither; -1 when it could not. */
static int two_pipes(int a[2], int b[2])
{
	if (pipe(a))
		return -1;
	if (pipe(b)) {
		close_pipe(a);
		return -1;
	}
	return 0;
}

/* Main's first write to each of pages pages at p after a fork whose child
 * reads them all and holds them until main is done, so every write copies
 * (as with a snapshot still in use); the child's read time per page in
 * *child.  Returns main's time per page, 0 when the fork failed.
 */
static double fork_faults(unsigned char *p, size_t len, unsigned char v,
			  double *child)
{
	struct read_arg ra = { p, len, 0 };
	int pp[2], go[2];
	double t0, per_page;
	pid_t pid;
	long ns = 0;

	if (two_pipes(pp, go))
		return 0;
	touch(p, len, v);
	pid = fork();
	if (pid < 0) {
		close_pipe(pp);
		close_pipe(go);
		return 0;
	}
	if (pid == 0) {
		close(go[1]);
		ns = read_pages(&ra, NULL);
		if (write(pp[1], &ns, sizeof(ns)) != sizeof(ns) ||
		    read(go[0], &ns, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	t0 = now_us();
	touch(p, len, v + 1);	/* anon COW */
	per_page = (now_us() - t0) / (len / PG);
	close(go[1]);
	if (read(pp[0], &ns, sizeof(ns)) != sizeof(ns))
		per_page = 0;
	*child = ns / 1000.0 / (len / PG);
	waitpid(pid, NULL, 0);
	close_pipe(pp);
	return per_page;
}

/* Main's first write to each page after a fork whose child has exited
 * (fork-per-call): per page, 0 when the fork failed.
 */
static double fork_exit_faults(unsigned char *p, size_t len, unsigned char v)
{
	double t0;
	pid_t pid;

	touch(p, len, v);
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0)
		_exit(p[0]);
	waitpid(pid, NULL, 0);
	t0 = now_us();
	touch(p, len, v + 1);
	return (now_us() - t0) / (len / PG);
}

/* Main's first write to each page while an async call's task waits on
 * FAULTS_FIFO: per page, 0 when the call failed.
 */
static double live_faults(struct orbit *ob, struct orbit_area *a,
			  unsigned char *p, size_t len, unsigned char v)
{
	struct read_arg ra = { p, 0, 1 };
	struct orbit_future *f;
	double t0, per_page;
	long ret = -1;
	int fd;

	touch(p, len, v);
	f = orbit_call_async(ob, 0, 1, &a, NULL, &ra, sizeof(ra));
	if (!f)
		return 0;
	t0 = now_us();
	touch(p, len, v + 1);	/* copies: the task may read the snapshot */
	per_page = (now_us() - t0) / (len / PG);
	fd = open(FAULTS_FIFO, O_WRONLY);
	if (fd < 0 || write(fd, "g", 1) != 1)
		per_page = 0;
	if (fd >= 0)
		close(fd);
	if (orbit_future_get(f, &ret) || ret < 0)
		per_page = 0;
	return per_page;
}

/* The sides alternate in every repetition, and each ratio is the median
 * of the per-repetition ratios: the emulator's speed drifts by half
 * between phases of a few seconds.  A read of a mapped page takes 0.1 or
 * 0.18 us in phases that hit either side (measured per repetition on
 * 6.1), so a ratio of one repetition is 0.55x to 1.8x: nine repetitions.
 */
static void bench_faults(void)
{
	size_t len = quick ? 8UL << 20 : 64UL << 20, pages = len / PG;
	int reps = quick ? 3 : 9, r;
	double mw[MAXREP], ml[MAXREP], or[MAXREP], fw[MAXREP], fe[MAXREP];
	double cr[MAXREP], wr[MAXREP], lr[MAXREP], rr[MAXREP];
	struct orbit *ob = orbit_create("faults", read_pages, NULL);
	struct orbit_area *a = orbit_area_create_ex(len, len,
						    ORBIT_AREA_MODE_COW, ob);
	unsigned char *p = orbit_area_base(a), *anon;

	unlink(FAULTS_FIFO);
	anon = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (r = 0; r < reps && p && anon != MAP_FAILED &&
	     !mkfifo(FAULTS_FIFO, 0600); r++) {
		struct read_arg ra = { p, len, 0 };
		double t0;
		long ns;

		touch(p, len, (unsigned char)r);
		orbit_call(ob, 1, &a, NULL, &ra, sizeof(ra));	/* freeze */
		t0 = now_us();
		touch(p, len, (unsigned char)(r + 1));	/* after the call */
		mw[r] = (now_us() - t0) / pages;
		ns = orbit_call(ob, 1, &a, NULL, &ra, sizeof(ra)); /* reads */
		or[r] = ns / 1000.0 / pages;
		ml[r] = live_faults(ob, a, p, len, (unsigned char)(r + 2));
		fw[r] = fork_faults(anon, len, (unsigned char)r, &cr[r]);
		fe[r] = fork_exit_faults(anon, len, (unsigned char)r);
		unlink(FAULTS_FIFO);
		if (ns <= 0 || !ml[r] || !fw[r] || !cr[r] || !fe[r])
			break;
		wr[r] = mw[r] / fe[r];
		lr[r] = ml[r] / fw[r];
		rr[r] = or[r] / cr[r];
	}
	unlink(FAULTS_FIFO);
	if (!group_end(ob, a, anon, len, r < reps,
		       "faults: a call or a fork"))
		return;
	row("faults", "main's first write per page after a call", "us/page",
	    median(mw, reps), "after a fork whose child exited",
	    median(fe, reps), median(wr, reps), "", 0);
	row("faults", "main's first write per page while the task runs",
	    "us/page", median(ml, reps), "after a fork whose child runs",
	    median(fw, reps), median(lr, reps), "", 0);
	row("faults", "task's first read per page", "us/page",
	    median(or, reps), "forked child", median(cr, reps),
	    median(rr, reps), "<= 1.5", median(rr, reps) <= 1.5);
}

/* 7. A main program that rewrites its whole 32 MiB area between calls
 * (a table refreshed every interval): the call alone and main's whole
 * cycle (rewrite + call), against forking per call (rewrite + fork +
 * wait for the child).  The two alternate in every repetition; the
 * ratios are medians of the per-repetition ratios.
 */
static void bench_rewrite(void)
{
	size_t len = 32UL << 20;
	int reps = quick ? 3 : 9, r;
	double oc[MAXREP], ocy[MAXREP], fc[MAXREP], fcy[MAXREP];
	double rc[MAXREP], rcy[MAXREP];
	struct orbit *ob = orbit_create("rewrite", read_first, NULL);
	struct orbit_area *a = orbit_area_create_ex(len, len,
						    ORBIT_AREA_MODE_COW, ob);
	unsigned char *p = orbit_area_base(a), *anon;

	anon = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p && anon != MAP_FAILED) {	/* warm up: first snapshot, faults */
		touch(p, len, 1);
		orbit_call(ob, 1, &a, NULL, &p, sizeof(p));
		touch(anon, len, 1);
	}
	for (r = 0; r < reps && p && anon != MAP_FAILED; r++) {
		double t0, t1;
		pid_t pid;

		t0 = now_us();
		touch(p, len, (unsigned char)(r + 2));
		t1 = now_us();
		if (orbit_call(ob, 1, &a, NULL, &p, sizeof(p)) != r + 2)
			break;
		oc[r] = now_us() - t1;
		ocy[r] = now_us() - t0;
		t0 = now_us();
		touch(anon, len, (unsigned char)(r + 2));
		t1 = now_us();
		pid = fork();
		if (pid < 0)
			break;
		if (pid == 0)
			_exit(anon[0]);
		waitpid(pid, NULL, 0);
		fc[r] = now_us() - t1;
		fcy[r] = now_us() - t0;
		rc[r] = oc[r] / fc[r];
		rcy[r] = ocy[r] / fcy[r];
	}
	if (!group_end(ob, a, anon, len, r < reps,
		       "rewrite: a call or a fork"))
		return;
	row("rewrite", "32 MiB area rewritten whole between calls: the call",
	    "us", median(oc, reps), "fork-per-call", median(fc, reps),
	    median(rc, reps), "<= 0.5", median(rc, reps) <= 0.5);
	row("rewrite", "32 MiB area rewritten whole between calls: rewrite + call",
	    "us", median(ocy, reps), "rewrite + fork-per-call",
	    median(fcy, reps), median(rcy, reps), "", 0);
}

/* 5. Empty sync call round trip vs pipe ping-pong; thread and fork too. */
static void *thread_fn(void *arg)
{
	return arg;
}

/* The echo side of a ping-pong: fds[0] to read, fds[1] to write. */
static void *echo_fn(void *arg)
{
	int *fds = arg;
	char x;

	while (read(fds[0], &x, 1) == 1 && write(fds[1], &x, 1) == 1)
		;
	return NULL;
}

/*
 * A ping-pong: its echo in another process, or with in_thread in a thread
 * of this one (no address space switch); after each round trip main reads
 * one byte of each of pages pages at ws (a working set: under TCG every
 * switch between address spaces flushes the emulator's TLB, so whatever
 * main touches next is mapped again).
 */
struct pp {
	int in_thread;
	const unsigned char *ws;
	size_t pages;
};

/* Times n round trips of one byte through two pipes into out; returns
 * how many were timed.
 */
static int pingpong(void *arg, int n, double *out)
{
	const struct pp *pp = arg;
	const volatile unsigned char *ws = pp->ws;
	int i, ab[2], ba[2], echo[2], in_thread = pp->in_thread;
	size_t j;
	pthread_t t;
	pid_t pid = -1;
	char x = 0;

	if (two_pipes(ab, ba))
		return 0;
	echo[0] = ab[0];
	echo[1] = ba[1];
	if (in_thread) {
		if (pthread_create(&t, NULL, echo_fn, echo))
			goto fail;
	} else {
		pid = fork();
		if (pid < 0)
			goto fail;	/* a write would raise SIGPIPE */
		if (pid == 0) {
			close(ab[1]);	/* else read() never sees EOF */
			close(ba[0]);
			echo_fn(echo);
			_exit(0);
		}
		close(ab[0]);
		close(ba[1]);
	}
	for (i = 0; i < n; i++) {
		double t0 = now_us();

		if (write(ab[1], &x, 1) != 1 || read(ba[0], &x, 1) != 1)
			break;
		for (j = 0; j < pp->pages; j++)
			(void)ws[j * PG];
		out[i] = now_us() - t0;
	}
	close(ab[1]);
	if (in_thread) {
		pthread_join(t, NULL);
		close(ab[0]);
		close(ba[1]);
	} else {
		waitpid(pid, NULL, 0);
	}
	close(ba[0]);
	return i;
fail:
	close_pipe(ab);
	close_pipe(ba);
	return 0;
}

/* Times n empty sync calls to ob into out; returns how many succeeded. */
static int calls(void *ob, int n, double *out)
{
	int i;

	for (i = 0; i < n; i++) {
		double t0 = now_us();

		if (orbit_call(ob, 0, NULL, NULL, NULL, 0) < 0)
			break;
		out[i] = now_us() - t0;
	}
	return i;
}

/*
 * The lock manager's detector path, one call at a time: main changes its
 * table (a one-page area) and calls; the task reads it and pushes a
 * verdict as the example's does (data, a modify of main's table and an
 * operation); main pulls the update and applies it.  What a pipe round
 * trip to a helper process pays instead is the example's IPC floor.
 * Without the area (the task reads the table of an earlier call) or
 * without the update, the rows show what each part adds.
 */
struct verdict_table {
	long changes;
	int cancel;
};

struct verdict_arg {
	struct verdict_table *t;
	int push;
};

static long verdict_op(void *arg)
{
	return 0;
}

static long verdict_task(void *arg, void *store)
{
	const struct verdict_arg *a = arg;
	struct orbit_update *u;
	long v[3] = { a->t->changes, 1, 2 };

	if (!a->push)
		return 0;
	u = orbit_update_create();
	if (!u || orbit_update_add_data(u, v, sizeof(v)) ||
	    orbit_update_add_modify(u, &a->t->cancel, &(int){ 1 }, sizeof(int)) ||
	    orbit_update_add_operation(u, verdict_op, NULL) ||
	    orbit_push(u, NULL)) {
		orbit_update_free(u);
		return -1;
	}
	return 0;
}

struct verdicts {
	struct orbit *ob;
	struct orbit_area *area;
	struct verdict_arg arg;
	size_t narea;
};

/* Times n detector round trips into out; returns how many succeeded. */
static int verdicts(void *arg, int n, double *out)
{
	struct verdicts *vd = arg;
	struct orbit_update *u;
	int i, applied;
	long ret;

	for (i = 0; i < n; i++) {
		double t0 = now_us();
		struct orbit_future *f;

		vd->arg.t->changes++;
		f = orbit_call_async(vd->ob, 0, vd->narea, &vd->area, NULL,
				     &vd->arg, sizeof(vd->arg));
		if (!f)
			break;
		applied = 0;
		while (pull_orbit(f, &u) == 1) {
			applied += orbit_apply(u) == 0;
			orbit_update_free(u);
		}
		if (orbit_future_get(f, &ret) || ret || applied != vd->arg.push)
			break;
		out[i] = now_us() - t0;
	}
	return i;
}

/* A series of timed round trips: run(arg, n, out) times n of them. */
struct series {
	int (*run)(void *arg, int n, double *out);
	void *arg;
};

/*
 * Medians of n round trips of a and of b, measured in ROUNDS alternating
 * blocks so that a change in the emulator's speed hits both alike; 0s
 * when something failed.
 */
#define ROUNDS	10
static void alternate(const struct series *a, const struct series *b, int n,
		      double *ma, double *mb)
{
	double *va = calloc(n, sizeof(double)), *vb = calloc(n, sizeof(double));
	int k = n / ROUNDS, r, na = 0, nb = 0;

	*ma = *mb = 0;
	for (r = 0; va && vb && r < ROUNDS; r++) {
		na += a->run(a->arg, k, va + na);
		nb += b->run(b->arg, k, vb + nb);
	}
	if (va && vb && na == k * ROUNDS && nb == k * ROUNDS) {
		*ma = median(va, na);
		*mb = median(vb, nb);
	}
	free(va);
	free(vb);
}

/* Empty sync calls to ob against a ping-pong (see alternate()). */
static void call_vs_pipe(struct orbit *ob, int n, int in_thread,
			 double *call, double *pipe_rt)
{
	struct pp pp = { .in_thread = in_thread };
	struct series c = { calls, ob }, p = { pingpong, &pp };

	alternate(&c, &p, n, call, pipe_rt);
}

/* A ping-pong to a process against one to a thread, main reading pages
 * pages of ws after each round trip; 0 when something failed.
 */
static double process_vs_thread(int n, const unsigned char *ws, size_t pages,
				double *proc, double *thr)
{
	struct pp a = { 0, ws, pages }, b = { 1, ws, pages };
	struct series sa = { pingpong, &a }, sb = { pingpong, &b };

	alternate(&sa, &sb, n, proc, thr);
	return *proc && *thr ? *proc / *thr : 0;
}

/* The pid of a process named name (comm), waiting up to a second for a
 * new orbit to take its name; -1 if none.
 */
static pid_t pid_of(const char *name)
{
	pid_t pid = -1;
	int i;

	for (i = 0; i < 100 && procs_named(name, &pid) < 1; i++)
		usleep(10000);
	return pid;
}

/*
 * The detector path against a pipe round trip to a process: unpinned, as
 * the lock manager makes them, also without the area or the update; then
 * with main and the orbit on CPU 0, whole and without each part, where a
 * round trip's time is its CPU and the rows split the path's cost
 * steadily; all is main's affinity.
 */
static void bench_verdict(int n, const cpu_set_t *all)
{
	static const struct { int narea, push, pinned; const char *cs; } r[] = {
		{ 1, 1, 0, "detector path: one-page area call + 3-entry update pulled and applied" },
		{ 1, 0, 0, "detector path without the update: one-page area call" },
		{ 0, 1, 0, "detector path without the area: call + 3-entry update pulled and applied" },
		{ 1, 1, 1, "detector path on one CPU" },
		{ 1, 0, 1, "detector path on one CPU without the update" },
		{ 0, 1, 1, "detector path on one CPU without the area" },
		{ 0, 0, 1, "detector path on one CPU without area or update" },
	};
	struct pp pp = { 0 };
	struct verdicts vd = { .ob = orbit_create("verdict", verdict_task, NULL) };
	struct series v = { verdicts, &vd }, p = { pingpong, &pp };
	pid_t opid = vd.ob ? pid_of("verdict") : -1;
	double call, pipe_rt;
	unsigned int i;

	vd.area = opid < 0 ? NULL : orbit_area_create(PG, vd.ob);
	vd.arg.t = vd.area ? orbit_alloc(vd.area, sizeof(*vd.arg.t)) : NULL;
	if (!vd.arg.t) {
		printf("# roundtrip: no orbit for the detector path (%s)\n",
		       strerror(errno));
		goto out;
	}
	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		if (r[i].pinned && (pin_to_cpu(0, 0) || pin_to_cpu(opid, 0)))
			break;
		vd.narea = r[i].narea;
		vd.arg.push = r[i].push;
		alternate(&v, &p, n, &call, &pipe_rt);
		if (!call) {
			printf("# roundtrip: a detector call failed (%s)\n",
			       strerror(errno));
			break;
		}
		row("roundtrip", r[i].cs, "us", call, r[i].pinned ?
		    "pipe ping-pong on one CPU" : "pipe ping-pong", pipe_rt,
		    call / pipe_rt, "", 0);
	}
	sched_setaffinity(0, sizeof(*all), all);
out:
	if (vd.ob)
		orbit_destroy(vd.ob);
}

/*
 * Where the scheduler places the two sides of a round trip decides its
 * cost under TCG: on one vCPU a wakeup is a switch, across vCPUs an IPI.
 * That placement changes from run to run (a pipe ping-pong took 122 to
 * 250 us), so the target is judged with main, the orbit and the echo all
 * on CPU 0; the unpinned figures are printed too.
 */
static void bench_roundtrip(void)
{
	int n = quick ? 200 : 1000, i;
	struct orbit *ob = orbit_create("rtt", nothing, NULL);
	double call, call_th, call1, pipe_rt, pipe_th, pipe1, pr, tr, ratio;
	double th[MAXREP], fk[MAXREP];
	size_t pages = 256;
	unsigned char *ws = malloc(pages * PG);
	pid_t opid = pid_of("rtt");
	cpu_set_t all;

	if (!ob || opid < 0 || !ws || sched_getaffinity(0, sizeof(all), &all)) {
		printf("# roundtrip: no orbit to measure (%s)\n", strerror(errno));
		goto out;
	}
	touch(ws, pages * PG, 1);
	orbit_call(ob, 0, NULL, NULL, NULL, 0);
	call_vs_pipe(ob, n, 0, &call, &pipe_rt);
	call_vs_pipe(ob, n, 1, &call_th, &pipe_th);
	if (!call || !call_th) {
		printf("# roundtrip: a call or a ping-pong failed\n");
		goto out;
	}
	row("roundtrip", "empty sync call", "us", call, "pipe ping-pong",
	    pipe_rt,
	    call / pipe_rt, "", 0);
	row("roundtrip", "empty sync call", "us", call_th,
	    "pipe ping-pong with a thread", pipe_th, call_th / pipe_th, "", 0);
	if (!pin_to_cpu(0, 0) && !pin_to_cpu(opid, 0)) {
		call_vs_pipe(ob, n, 0, &call1, &pipe1);
		if (call1)
			row("roundtrip", "empty sync call on one CPU", "us",
			    call1,
			    "pipe ping-pong on one CPU", pipe1, call1 / pipe1,
			    "<= 1.5", call1 / pipe1 <= 1.5);
		/* What a switch between address spaces adds, bare and when
		 * main goes on to use a working set (1 MiB).
		 */
		ratio = process_vs_thread(n, ws, 0, &pr, &tr);
		if (ratio)
			row("roundtrip", "ping-pong to a process on one CPU",
			    "us", pr, "to a thread", tr, ratio, "", 0);
		ratio = process_vs_thread(n, ws, pages, &pr, &tr);
		if (ratio)
			row("roundtrip",
			    "ping-pong to a process on one CPU + 256 pages read",
			    "us", pr, "to a thread", tr, ratio, "", 0);
	}
	sched_setaffinity(0, sizeof(all), &all);
	bench_verdict(n, &all);
	for (i = 0; i < 21; i++) {
		pthread_t t;
		double t0 = now_us();

		pthread_create(&t, NULL, thread_fn, NULL);
		pthread_join(t, NULL);
		th[i] = now_us() - t0;
		fk[i] = fork_us();
	}
	row("roundtrip", "empty sync call", "us", call, "thread create+join",
	    median(th, 21), call / median(th, 21), "", 0);
	row("roundtrip", "empty sync call", "us", call, "fork",
	    median(fk, 21),
	    call / median(fk, 21), "", 0);
out:
	if (ob)
		orbit_destroy(ob);
	free(ws);
}

/*
 * 8. A many-threaded main: THR_N threads each write their own page of one
 * area and make a sync call that snapshots it, against the same threads
 * each writing their own page and write-protecting it and making it
 * writable again (mprotect), the least a snapshot of a written page
 * costs: both change PTEs of an mm whose threads run on every vCPU, so
 * both flush every vCPU's TLB, and both serialize (area->lock, mmap_lock).
 * Per iteration of one thread: the run's time over all threads'
 * iterations.  Run with more vCPUs than host cores (run-vm.sh -c), this
 * shows what a TLB shootdown costs when vCPUs wait to be scheduled.
 */
#define THR_N	16

struct thr {
	pthread_t th;
	unsigned char *page;
	struct orbit *ob;
	struct orbit_area *a;
	long iters, bad;
};

static void *thr_call(void *p)
{
	struct thr *t = p;
	long i;

	for (i = 0; i < t->iters; i++) {
		t->page[0] = (unsigned char)i;
		if (orbit_call(t->ob, 1, &t->a, NULL, &t->page,
			       sizeof(t->page)) != (unsigned char)i)
			t->bad++;
	}
	return NULL;
}

static void *thr_wp(void *p)
{
	struct thr *t = p;
	long i;

	for (i = 0; i < t->iters; i++) {
		t->page[0] = (unsigned char)i;
		if (mprotect(t->page, PG, PROT_READ) ||
		    mprotect(t->page, PG, PROT_READ | PROT_WRITE))
			t->bad++;
	}
	return NULL;
}

/* Per thread iteration, in us; < 0 if an iteration failed. */
static double thr_run(struct thr *t, unsigned char *base, struct orbit *ob,
		      struct orbit_area *a, void *(*fn)(void *))
{
	long iters = quick ? 100 : 250, bad = 0;
	double t0 = now_us();
	int i, n;

	for (n = 0; n < THR_N; n++) {
		t[n] = (struct thr){ .page = base + 2 * n * PG, .ob = ob,
				     .a = a, .iters = iters };
		if (pthread_create(&t[n].th, NULL, fn, &t[n]))
			break;
	}
	for (i = 0; i < n; i++) {	/* all started, before the area goes */
		pthread_join(t[i].th, NULL);
		bad += t[i].bad;
	}
	return bad || n < THR_N ? -1 : (now_us() - t0) / (THR_N * iters);
}

static void bench_threads(void)
{
	size_t len = 2 * THR_N * PG;
	int reps = quick ? 1 : 3, r;
	double oc[MAXREP], wp[MAXREP], rt[MAXREP];
	struct orbit *ob = orbit_create("threads", read_first, NULL);
	struct orbit_area *a = orbit_area_create_ex(len, len, 0, ob);
	unsigned char *p = orbit_area_base(a), *anon;
	struct thr t[THR_N];

	anon = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (r = 0; r < reps && p && anon != MAP_FAILED; r++) {
		oc[r] = thr_run(t, p, ob, a, thr_call);
		wp[r] = thr_run(t, anon, NULL, NULL, thr_wp);
		if (oc[r] <= 0 || wp[r] <= 0)
			break;
		rt[r] = oc[r] / wp[r];
	}
	if (!group_end(ob, a, anon, len, r < reps,
		       "threads: a call or an mprotect"))
		return;
	row("threads", "16 threads: write own page then call", "us/call",
	    median(oc, reps), "write it then mprotect it RO and RW",
	    median(wp, reps), median(rt, reps), "", 0);
}

int main(int argc, char **argv)
{
	const char *only = getenv("ORBIT_BENCH_ONLY");

	if (!only)
		only = argc > 1 ? argv[1] : "";

	quick = getenv("ORBIT_BENCH_QUICK") != NULL;
	printf("BENCH,group,case,unit,orbit,baseline,baseline_value,ratio,target,verdict\n");
#ifdef BENCH_GLOBALS_MIB
	bench_globals();
	return 0;
#endif
	if (!*only || strstr(only, "roundtrip"))
		bench_roundtrip();
	if (!*only || strstr(only, "create"))
		bench_create();
	if (!*only || strstr(only, "incremental"))
		bench_incremental();
	if (!*only || strstr(only, "modes"))
		bench_modes();
	if (!*only || strstr(only, "size"))
		bench_call_size();
	if (!*only || strstr(only, "faults"))
		bench_faults();
	if (!*only || strstr(only, "rewrite"))
		bench_rewrite();
	if (!*only || strstr(only, "threads"))
		bench_threads();
	return 0;
}
