// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A lock watchdog.  Worker threads take locks and do work; each records
 * its progress counter and the lock it holds (with the code site that took
 * it) on a board.  Every --period-ms (100 ms) a background thread runs the
 * watchdog task on the board: a worker whose counter has not moved for
 * --stuck-ms while it holds a lock is diagnosed (worker, thread id, lock,
 * site, how long).
 *
 * --mode selects where the task runs:
 *   thread  in the background thread, on the live board
 *   fork    in a child forked per check, on its copy; the child sends the
 *           diagnosis and its progress state back through a pipe
 *   orbit   in an orbit: the board is an orbit area, the background thread
 *           makes a sync call, the orbit keeps its state between calls and
 *           pushes a diagnosis as a data update that main pulls
 *
 * Fault switches: --stuck-after MS makes worker 0 block forever while it
 * holds a lock (the bug the watchdog exists for).  --crash N makes the
 * N-th check dereference NULL; --hang N makes it spin forever.  In an
 * orbit the program keeps running: a crash restarts the orbit, a hang
 * hits the call timeout (1 s) and restarts it.  In a thread a crash kills
 * the program and a hang silences the watchdog.
 *
 *   watchdog [--mode thread|fork|orbit] [--threads N] [--seconds S]
 *            [--period-ms N] [--stuck-ms N] [--stuck-after MS]
 *            [--crash N] [--hang N] [--heap MiB]
 * Prints DIAGNOSIS lines and one RESULT line; with --stuck-after, exits 0
 * only when the stuck worker was diagnosed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <orbit.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "example.h"

#define MAXWORKERS	32
#define NLOCKS		4
#define DIAGMAX		1024

struct worker_rec {
	long counter;		/* progress: bumped per operation */
	int tid;
	int lock;		/* held lock, -1 for none */
	double since_us;	/* when it was taken (CLOCK_MONOTONIC) */
	char site[48];		/* the code that took it */
};

struct board {
	int nworkers;
	struct worker_rec w[MAXWORKERS];
};

/* The task's memory between checks. */
struct wd_state {
	long last[MAXWORKERS];
	double moved_us[MAXWORKERS];	/* when the counter last moved */
	int reported[MAXWORKERS];
};

struct check_arg {
	struct board *board;
	int crash, hang;	/* fault switches */
	int stuck_ms;
};

static const char *const lock_names[NLOCKS] = {
	"log_lock", "index_lock", "alloc_lock", "commit_lock"
};

static enum ex_mode mode = EX_ORBIT;
static int nworkers = 4, period_ms = 100, stuck_ms = 300;
static long crash_at, hang_at, stuck_after = -1, heap_mib = 64;
static double seconds = 3;

static pthread_mutex_t locks[NLOCKS] = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER
};
static struct board *board;
static volatile int stop;
static double start_us, stuck_us, detect_us, last_check_us;

/* ---- the watchdog task: the same code in a thread, a child or an orbit */

/* Compares the board with the last check; appends one line per newly
 * stuck worker to out.  Returns the number of lines.
 */
static int check(const struct board *b, struct wd_state *st,
		 const struct check_arg *a, char *out, size_t cap)
{
	double now = ex_now_us();
	size_t len = strlen(out);
	int i, n = 0;

	if (a->crash)
		*(volatile int *)NULL = 0;	/* injected fault */
	while (*(const volatile int *)&a->hang)
		;				/* injected hang */
	for (i = 0; i < b->nworkers && i < MAXWORKERS; i++) {
		const struct worker_rec *w = &b->w[i];

		if (w->counter != st->last[i] || !st->moved_us[i]) {
			st->last[i] = w->counter;
			st->moved_us[i] = now;
			st->reported[i] = 0;
			continue;
		}
		if (w->lock < 0 || st->reported[i] ||
		    now - st->moved_us[i] < a->stuck_ms * 1000.0)
			continue;
		st->reported[i] = 1;
		n++;
		len += snprintf(out + len, cap > len ? cap - len : 0,
				"worker %d (tid %d) stuck for %.0f ms holding %s, taken at %s %.0f ms ago\n",
				i, w->tid, (now - st->moved_us[i]) / 1000,
				w->lock < NLOCKS ? lock_names[w->lock] : "?",
				w->site, (now - w->since_us) / 1000);
	}
	return n;
}

static void *wd_init(void)
{
	return calloc(1, sizeof(struct wd_state));
}

/* The orbit's entry: its state persists in store between calls. */
static long wd_orbit(void *argbuf, void *store)
{
	char out[DIAGMAX] = "";
	struct orbit_update *u;
	int n = check(((struct check_arg *)argbuf)->board, store, argbuf,
		      out, sizeof(out));

	if (!n)
		return 0;
	u = orbit_update_create();
	if (!u || orbit_update_add_data(u, out, strlen(out) + 1) ||
	    orbit_push(u, NULL)) {
		orbit_update_free(u);
		return -1;
	}
	return n;
}

/* ---- the workers ------------------------------------------------------ */

#define STR(x)	#x
#define XSTR(x)	STR(x)
#define SITE(fn)	fn " (" __FILE__ ":" XSTR(__LINE__) ")"

static void take(struct worker_rec *w, int l, const char *site)
{
	pthread_mutex_lock(&locks[l]);
	w->since_us = ex_now_us();
	snprintf(w->site, sizeof(w->site), "%s", site);
	w->lock = l;
}

static void drop(struct worker_rec *w)
{
	int l = w->lock;

	w->lock = -1;
	pthread_mutex_unlock(&locks[l]);
}

static void *worker(void *p)
{
	int me = (int)(long)p;
	struct worker_rec *w = &board->w[me];
	unsigned int seed = 31u * (unsigned int)me + 7;
	long ops = 0;
	double t;

	w->tid = (int)syscall(SYS_gettid);
	w->lock = -1;
	while (!stop) {
		int l = rand_r(&seed) % NLOCKS;

		if (me == 0 && stuck_after >= 0 && !stuck_us &&
		    ex_now_us() - start_us >= stuck_after * 1000.0) {
			take(w, 0, SITE("flush_log"));
			stuck_us = ex_now_us();
			while (!stop)		/* the bug: never lets go */
				usleep(10000);
			drop(w);
			break;
		}
		if (l == 1)
			take(w, l, SITE("update_index"));
		else
			take(w, l, SITE("do_work"));
		t = ex_now_us();
		while (ex_now_us() - t < 20)	/* work under the lock */
			;
		w->counter++;
		drop(w);
		ops++;
	}
	return (void *)ops;
}

/* ---- the background thread -------------------------------------------- */

static struct ex_lat lat;
static long checks, check_failures, diagnoses;

static void report(const char *text)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		printf("DIAGNOSIS %.*s\n", len, p);
		diagnoses++;
		p += len + (nl != NULL);
	}
	fflush(stdout);
	if (stuck_us && !detect_us)
		detect_us = ex_now_us();
}

static void check_in_orbit(struct orbit *ob, struct orbit_area *area,
			   struct check_arg *a)
{
	struct orbit_update *u;
	long ret = orbit_call(ob, 1, &area, NULL, a, sizeof(*a));

	if (ret < 0 && errno) {
		fprintf(stderr, "watchdog: check %ld failed: %s; the orbit restarts\n",
			checks, strerror(errno));
		check_failures++;
		return;
	}
	while (pull_orbit(NULL, &u) == 1) {
		const struct orbit_update_entry *e = orbit_update_first(u);

		if (e && e->type == ORBIT_UPDATE_DATA && e->len)
			report((const char *)e->data);
		orbit_update_free(u);
	}
}

/* Fork mode: the child checks its copy and sends text + state back. */
static void check_in_child(struct wd_state *st, struct check_arg *a)
{
	struct { struct wd_state st; char out[DIAGMAX]; } msg;
	struct pollfd pfd;
	int fds[2], status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return;
	pid = fork();
	if (pid == 0) {
		msg.st = *st;
		msg.out[0] = 0;
		check(board, &msg.st, a, msg.out, sizeof(msg.out));
		_exit(write(fds[1], &msg, sizeof(msg)) == sizeof(msg) ? 0 : 1);
	}
	close(fds[1]);
	pfd = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	if (pid > 0 && poll(&pfd, 1, 1000) == 1 &&
	    read(fds[0], &msg, sizeof(msg)) == sizeof(msg)) {
		*st = msg.st;
		if (msg.out[0])
			report(msg.out);
	} else if (pid > 0) {
		kill(pid, SIGKILL);
		fprintf(stderr, "watchdog: check %ld: child failed or timed out\n",
			checks);
		check_failures++;
	}
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
}

static struct orbit *ob;
static struct orbit_area *area;

static void *background(void *unused)
{
	struct wd_state *st = wd_init();
	char out[DIAGMAX];

	while (!stop) {
		struct check_arg a = { .stuck_ms = stuck_ms };
		double t0;

		usleep(period_ms * 1000);
		a.board = board;
		a.crash = ++checks == crash_at;
		a.hang = checks == hang_at;
		t0 = ex_now_us();
		if (mode == EX_ORBIT) {
			check_in_orbit(ob, area, &a);
		} else if (mode == EX_FORK) {
			check_in_child(st, &a);
		} else {
			out[0] = 0;
			if (check(board, st, &a, out, sizeof(out)))
				report(out);
		}
		last_check_us = ex_now_us();
		ex_lat_add(&lat, last_check_us - t0);
	}
	free(st);
	return NULL;
}

static int parse(int argc, char **argv)
{
	static const struct ex_opt opts[] = {
		{ "--mode", 'm', &mode },
		{ "--threads", 'i', &nworkers },
		{ "--seconds", 'd', &seconds },
		{ "--period-ms", 'i', &period_ms },
		{ "--stuck-ms", 'i', &stuck_ms },
		{ "--stuck-after", 'l', &stuck_after },
		{ "--crash", 'l', &crash_at },
		{ "--hang", 'l', &hang_at },
		{ "--heap", 'l', &heap_mib },
		{ NULL }
	};

	if (ex_parse_opts(argc, argv, opts))
		return -1;
	return nworkers < 1 || nworkers > MAXWORKERS || period_ms < 1 ||
	       seconds <= 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	pthread_t th[MAXWORKERS], bg;
	long ops = 0;
	void *heap;
	int i, ok;
	double secs;

	if (parse(argc, argv)) {
		fprintf(stderr, "usage: watchdog [--mode thread|fork|orbit] [--threads 1..%d] [--seconds S]\n"
				"                [--period-ms N] [--stuck-ms N] [--stuck-after MS]\n"
				"                [--crash N] [--hang N] [--heap MiB]\n",
			MAXWORKERS);
		return 2;
	}
	heap = ex_heap(heap_mib);
	if (mode == EX_ORBIT) {
		struct orbit_attr attr;

		orbit_attr_init(&attr);
		attr.restart = ORBIT_RESTART_ALWAYS;
		attr.timeout_ns = 1000000000ULL;	/* a hung check */
		ob = orbit_create_ex("watchdog", wd_orbit, wd_init, &attr);
		area = ob ? orbit_area_create(sizeof(*board), ob) : NULL;
		board = area ? orbit_alloc(area, sizeof(*board)) : NULL;
	} else {
		board = calloc(1, sizeof(*board));
	}
	if (!heap || !board) {
		ex_orbit_error("watchdog: setup");
		return 1;
	}
	board->nworkers = nworkers;
	start_us = ex_now_us();
	last_check_us = start_us;
	for (i = 0; i < nworkers; i++)
		pthread_create(&th[i], NULL, worker, (void *)(long)i);
	pthread_create(&bg, NULL, background, NULL);
	usleep((useconds_t)(seconds * 1e6));
	stop = 1;
	secs = (ex_now_us() - start_us) / 1e6;
	if (pthread_timedjoin_np(bg, NULL, &(struct timespec){
			time(NULL) + 3, 0 })) {
		/* Only a thread-mode check can hang the program's thread. */
		printf("watchdog: the watchdog thread hangs; no checks for %.1f s\n",
		       (ex_now_us() - last_check_us) / 1e6);
	}
	for (i = 0; i < nworkers; i++) {
		void *n;

		pthread_join(th[i], &n);
		ops += (long)n;
	}
	ok = stuck_after < 0 ? !diagnoses : detect_us > 0;
	printf("RESULT watchdog mode=%s threads=%d ops=%ld secs=%.2f per_s=%.1f checks=%ld check_failures=%ld diagnoses=%ld check_p50_us=%.0f check_p99_us=%.0f detect_ms=%.0f verdict=%s\n",
	       ex_mode_names[mode], nworkers, ops, secs, ops / secs, checks,
	       check_failures, diagnoses, ex_percentile(lat.v, lat.n, 50),
	       ex_percentile(lat.v, lat.n, 99),
	       detect_us ? (detect_us - stuck_us) / 1000 : -1.0,
	       ok ? "ok" : "WRONG");
	if (ob)
		orbit_destroy(ob);
	free(heap);
	return ok ? 0 : 1;
}
