// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A point-in-time snapshotter.  An in-memory table (--mib, 256 MiB by
 * default, 64-byte rows of accounts) is updated by writer threads that
 * move money between two rows under the table lock, so the total never
 * changes.  A snapshot thread periodically dumps the table to a file;
 * a dump is consistent when every row's checksum holds and the balances
 * add up to the total, i.e. when it shows one instant of the table.
 *
 * --mode selects where the dump runs:
 *   thread  in the snapshot thread, holding the table lock for the whole
 *           dump (the only consistent way in the same address space)
 *   fork    in a child forked under the lock (Redis BGSAVE style)
 *   orbit   in an orbit: the table is an orbit area, the snapshot is taken
 *           by an async call under the lock, the orbit writes the file
 *           while the writers go on
 * Every dump is read back and verified outside the timed path.
 *
 * Fault switch: --crash N makes the N-th dump dereference NULL halfway.
 * In an orbit or a child the program reports the failed snapshot and goes
 * on (the orbit restarts); in a thread it dies.
 *
 *   snapshot [--mode thread|fork|orbit] [--mib N] [--seconds S]
 *            [--interval-ms N] [--writers N] [--dir DIR] [--crash N]
 * Prints one line per snapshot and a RESULT line; exits 0 when every
 * completed snapshot was consistent and at least one completed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <orbit.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "example.h"

struct row {
	uint64_t id;
	int64_t balance;
	uint64_t version;
	uint64_t check;
	char pad[32];
};

struct dump_arg {
	const struct row *rows;
	size_t nrows;
	int crash;		/* fault switch */
	char path[200];
};

#define START_BALANCE	1000

static enum ex_mode mode = EX_ORBIT;
static long mib = 256, interval_ms = 1000, crash_at;
static int nwriters = 2;
static double seconds = 5;
static const char *dir = "/tmp";

/* table_lock serialises writers and marks the instant of a snapshot. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct row *rows;
static size_t nrows;
static volatile int stop;

static uint64_t row_check(const struct row *r)
{
	return (r->id * 0x9e3779b97f4a7c15ULL) ^
	       ((uint64_t)r->balance * 0xc2b2ae3d27d4eb4fULL) ^
	       (r->version * 0x165667b19e3779f9ULL);
}

/* ---- the dump: the same code in a thread, a child or an orbit --------- */

static long dump(const struct dump_arg *a)
{
	size_t chunk = 1 << 20, off = 0, len = a->nrows * sizeof(struct row);
	const char *p = (const char *)a->rows;
	int fd = open(a->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		ssize_t w;

		if (a->crash && off >= len / 2)
			*(volatile int *)NULL = 0;	/* injected fault */
		w = write(fd, p + off, n);
		if (w <= 0) {
			close(fd);
			return w < 0 ? -errno : -EIO;
		}
		off += (size_t)w;
	}
	return close(fd) ? -errno : (long)a->nrows;
}

static long dump_orbit(void *argbuf, void *store)
{
	return dump(argbuf);
}

/* Reads a dump back: 1 when it shows one instant of the table. */
static int verify(const char *path)
{
	static struct row buf[16384];
	int64_t sum = 0;
	size_t i, seen = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ok = fd >= 0;

	while (ok && (n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < (size_t)n / sizeof(buf[0]); i++, seen++) {
			ok &= buf[i].id == seen &&
			      buf[i].check == row_check(&buf[i]);
			sum += buf[i].balance;
		}
	}
	if (fd >= 0)
		close(fd);
	return ok && seen == nrows && sum == (int64_t)nrows * START_BALANCE;
}

/* ---- writers and the snapshot thread ---------------------------------- */

static void *writer(void *p)
{
	unsigned int seed = 17u * (unsigned int)(long)p + 3;
	long ops = 0;

	while (!stop) {
		size_t a = ((size_t)rand_r(&seed) << 16 ^ rand_r(&seed)) % nrows;
		size_t b = ((size_t)rand_r(&seed) << 16 ^ rand_r(&seed)) % nrows;
		int64_t amount = rand_r(&seed) % 100;

		pthread_mutex_lock(&table_lock);
		rows[a].balance -= amount;
		rows[a].version++;
		rows[a].check = row_check(&rows[a]);
		rows[b].balance += amount;
		rows[b].version++;
		rows[b].check = row_check(&rows[b]);
		pthread_mutex_unlock(&table_lock);
		ops++;
	}
	return (void *)ops;
}

static struct orbit *ob;
static struct orbit_area *area;
static long snapshots, failed, consistent;
static struct ex_lat stall, total;

/* One snapshot; returns the dump's result (rows, or -errno). */
static long take_snapshot(struct dump_arg *a)
{
	struct orbit_future *f = NULL;
	double t0 = ex_now_us();
	long ret = -1;
	pid_t pid = 0;
	int status;

	pthread_mutex_lock(&table_lock);
	if (mode == EX_ORBIT) {
		f = orbit_call_async(ob, 0, 1, &area, NULL, a, sizeof(*a));
		ret = f ? 0 : -errno;
	} else if (mode == EX_FORK) {
		pid = fork();
		if (pid == 0)
			_exit(dump(a) == (long)a->nrows ? 0 : 1);
		ret = pid < 0 ? -errno : 0;
	} else {
		ret = dump(a);
	}
	pthread_mutex_unlock(&table_lock);
	ex_lat_add(&stall, ex_now_us() - t0);
	if (f && orbit_future_get(f, &ret))
		ret = -errno;
	if (pid > 0) {
		waitpid(pid, &status, 0);
		ret = WIFEXITED(status) && !WEXITSTATUS(status) ?
		      (long)a->nrows : -ESRCH;	/* the dump died */
	}
	ex_lat_add(&total, ex_now_us() - t0);
	return ret;
}

static void *snapshotter(void *unused)
{
	struct dump_arg a = { .rows = rows, .nrows = nrows };
	double next = ex_now_us();

	snprintf(a.path, sizeof(a.path), "%s/orbit-snapshot.%d", dir,
		 (int)getpid());
	while (!stop) {
		long ret;

		while (!stop && ex_now_us() < next)
			usleep(1000);
		if (stop)
			break;
		next = ex_now_us() + interval_ms * 1000.0;
		a.crash = ++snapshots == crash_at;
		ret = take_snapshot(&a);
		if (ret != (long)nrows) {
			printf("snapshot %ld: FAILED (%s); still serving\n",
			       snapshots, strerror(ret < 0 ? (int)-ret : EIO));
			failed++;
		} else if (verify(a.path)) {
			printf("snapshot %ld: %zu rows, consistent\n",
			       snapshots, nrows);
			consistent++;
		} else {
			printf("snapshot %ld: INCONSISTENT\n", snapshots);
		}
		fflush(stdout);
		unlink(a.path);
	}
	return NULL;
}

static int parse(int argc, char **argv)
{
	static const struct ex_opt opts[] = {
		{ "--mode", 'm', &mode },
		{ "--mib", 'l', &mib },
		{ "--seconds", 'd', &seconds },
		{ "--interval-ms", 'l', &interval_ms },
		{ "--writers", 'i', &nwriters },
		{ "--dir", 's', &dir },
		{ "--crash", 'l', &crash_at },
		{ NULL }
	};

	if (ex_parse_opts(argc, argv, opts))
		return -1;
	return mib < 1 || mib > 4096 || nwriters < 1 || nwriters > 64 ||
	       seconds <= 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	size_t bytes, i;
	pthread_t w[64], snap;
	long ops = 0;
	double t0, secs;
	int ok;

	if (parse(argc, argv)) {
		fprintf(stderr, "usage: snapshot [--mode thread|fork|orbit] [--mib 1..4096] [--seconds S]\n"
				"                [--interval-ms N] [--writers 1..64] [--dir DIR] [--crash N]\n");
		return 2;
	}
	bytes = (size_t)mib << 20;
	nrows = bytes / sizeof(struct row);
	if (mode == EX_ORBIT) {
		struct orbit_attr attr;

		orbit_attr_init(&attr);
		attr.restart = ORBIT_RESTART_ALWAYS;	/* after a crashed dump */
		ob = orbit_create_ex("snapshot", dump_orbit, NULL, &attr);
		area = ob ? orbit_area_create(bytes + (1 << 20), ob) : NULL;
		rows = area ? orbit_alloc(area, bytes) : NULL;
	} else {
		rows = malloc(bytes);
	}
	if (!rows) {
		ex_orbit_error("snapshot: table");
		return 1;
	}
	for (i = 0; i < nrows; i++) {
		rows[i] = (struct row){ .id = i, .balance = START_BALANCE };
		rows[i].check = row_check(&rows[i]);
	}
	t0 = ex_now_us();
	for (i = 0; i < (size_t)nwriters; i++)
		pthread_create(&w[i], NULL, writer, (void *)(long)i);
	pthread_create(&snap, NULL, snapshotter, NULL);
	usleep((useconds_t)(seconds * 1e6));
	stop = 1;
	for (i = 0; i < (size_t)nwriters; i++) {
		void *n;

		pthread_join(w[i], &n);
		ops += (long)n;
	}
	secs = (ex_now_us() - t0) / 1e6;
	pthread_join(snap, NULL);
	ok = consistent > 0 && consistent + failed == snapshots;
	printf("RESULT snapshot mode=%s mib=%ld writes=%ld secs=%.2f per_s=%.1f snapshots=%ld failed=%ld consistent=%ld stall_p50_us=%.0f stall_max_us=%.0f dump_p50_ms=%.0f verdict=%s\n",
	       ex_mode_names[mode], mib, ops, secs, ops / secs, snapshots,
	       failed, consistent, ex_percentile(stall.v, stall.n, 50),
	       ex_percentile(stall.v, stall.n, 100),
	       ex_percentile(total.v, total.n, 50) / 1000, ok ? "ok" : "WRONG");
	if (ob)
		orbit_destroy(ob);
	return ok ? 0 : 1;
}
