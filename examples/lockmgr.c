// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A lock manager with a wait-for-graph deadlock detector (the paper's
 * Figures 2, 4 and 7).  Worker threads run transactions that take 2..4
 * exclusive locks in random order, so they deadlock.  The lock table and
 * the transactions live in one block; a transaction that has waited for
 * --check-us (1 ms) invokes the detector, which searches the wait-for graph for a cycle and
 * picks a victim; the victim is cancelled, rolls back and retries.  A
 * cycle with a member already cancelled is being resolved and is left alone.
 *
 * --mode selects where the detector runs:
 *   thread  a detector thread reads the live tables under the latch
 *   fork    the waiter forks; the child searches its copy of the tables
 *           and writes the verdict to a pipe (fork-per-call)
 *   orbit   the tables are in an orbit area; the waiter makes an async
 *           call (the snapshot is taken under the latch); the detector
 *           pushes data (victim, version), a modify (the victim's cancel
 *           flag) and an operation (wake the waiters); a resolver thread
 *           pulls, checks the version is still current, and applies
 * --background (orbit mode) creates the detector's orbit with
 * ORBIT_BACKGROUND (SCHED_BATCH): a waiter's call then never runs the
 * detector on the waiter's CPU ahead of the waiter, which holds the latch.
 * The application also keeps --heap MiB of its own data (a buffer pool),
 * which a fork has to copy page tables for and an orbit does not see.
 *
 * --ipc-floor (with --mode thread) is a benchmark control: the detector
 * runs in a thread, and each detector call also makes one round trip
 * through a pipe to a helper process (a byte written where the orbit call
 * is made, its echo read where the verdict is resolved): what a detector
 * in another process pays for the handoff through a pipe.
 * --echo-thread makes the echo a thread of this process instead: the
 * same wakeups without switching between address spaces.
 * --snapshot-floor adds what a detector in another process also pays in
 * semantics: it cannot read main's live tables, so it decides on a copy
 * taken when the call is made (here a memcpy under the latch), outside
 * the latch, and main applies its verdict after the same version check
 * as the orbit's.  The live detector instead sees cycles that closed
 * after the call was made, and resolves them sooner.
 * --isolated-floor instead runs that detection in the helper process, on
 * a copy main writes into memory shared with it; the verdict comes back
 * through that memory, and main applies it after the version check.  The
 * two sides hand over through counters in the shared memory and wake one
 * another with a futex only when the other sleeps, so a busy peer costs
 * no system call: the least a detector pays that runs isolated from main
 * on a copy taken at the call.  An orbit adds to it what the module's
 * call, snapshot and update path costs.  (A control: a helper that dies
 * is not replaced; the resolver counts each call it cannot answer.)
 *
 * Fault switches: --crash N makes the N-th detector call dereference NULL.
 * In an orbit or a forked child the program keeps running (the orbit
 * restarts; waiters re-check after --wait-ms); in a thread it dies.
 * --detect-us N makes every detection take at least N us (it sleeps
 * first), as on a larger graph or a slower machine.  --queue N (1..1024,
 * the default) bounds the detector calls pending at once: a waiter that
 * finds the queue full makes no call, and re-checks after --wait-ms.
 * --background creates the orbit with ORBIT_BACKGROUND; --direct with
 * ORBIT_DIRECT (its calls copy the one small area through a ring shared
 * with the orbit and leave the module out).
 *
 *   lockmgr [--mode thread|fork|orbit] [--threads N] [--txns N | --seconds S]
 *           [--locks N] [--heap MiB] [--hold-us N] [--check-us N]
 *           [--wait-ms N] [--crash N] [--detect-us N] [--queue N]
 *           [--ipc-floor [--echo-thread | --snapshot-floor] |
 *            --isolated-floor] [--background] [--direct]
 * Prints one RESULT line (throughput, detector latency, aborts that
 * resolved no deadlock, the most detector calls queued at once, the calls
 * not made for a full queue, how long
 * the latch was held and waited for per commit); exits 0 when every lock
 * was released and every committed transaction's writes are accounted
 * for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <orbit.h>
#include <pthread.h>
#include <signal.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "example.h"

#define MAXTHREADS	32
#define MAXLOCKS	256
#define KMAX		4
#define QUEUE_LEN	1024	/* pending detector calls, at most */

struct txn {
	long version;		/* bumped at every rollback */
	int waits_for;		/* lock index, -1 when not waiting */
	int cancel;		/* set when the detector picks this txn */
	int nheld;
	int held[KMAX];
};

struct lockobj {
	int holder;		/* txn (= worker) index, -1 when free */
};

struct db {
	int nthreads, nlocks;
	struct txn txn[MAXTHREADS];
	struct lockobj lock[MAXLOCKS];
};

/* The detector's answer. */
struct verdict {
	int victim;		/* -1: no cycle */
	int waits_for;		/* what the victim waited for */
	long version;		/* the victim's version in the snapshot */
};

/* Argument of one detector call. */
struct check_arg {
	struct db *db;
	int start;
	int crash;		/* fault switch */
};

static enum ex_mode mode = EX_ORBIT;
static int nthreads = 8, nlocks = 32, txns = 200, hold_us = 50, wait_ms = 50;
static long check_us = 1000, detect_us;
static long heap_mib = 64, crash_at;
static int queue_len = QUEUE_LEN;	/* --queue */
static int ipc_floor, echo_thread;	/* --ipc-floor, --echo-thread */
static int copy_floor;			/* --snapshot-floor */
static int iso_floor;			/* --isolated-floor */
static int background;			/* --background */
static int direct;			/* --direct */
static pthread_t echo_tid;
static int echo_req[2] = { -1, -1 }, echo_rep[2] = { -1, -1 };
static double seconds;

/* The latch protects *db: lock holders, waits and cancel flags. */
static pthread_mutex_t latch = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static struct db *db;
/*
 * How long the latch was held, and waited for to lock it, summed over the
 * threads (updated under the latch; a condition wait does not count as
 * held).  The RESULT line reports both per commit: every transaction
 * passes through the latch, and a detector call is made under it, so
 * this is where the call's own time weighs on the workers.
 */
static double latch_held_us, latch_wait_us, latch_since;

static void latch_lock(void)
{
	double t0 = ex_now_us();

	pthread_mutex_lock(&latch);
	latch_since = ex_now_us();
	latch_wait_us += latch_since - t0;
}

static void latch_unlock(void)
{
	latch_held_us += ex_now_us() - latch_since;
	pthread_mutex_unlock(&latch);
}
static long rows[MAXLOCKS];	/* the data the locks protect */

static struct orbit *ob;
static struct orbit_area *area;
static volatile int stop;		/* workers: time is up */
/*
 * The workers and main start the run together, so transactions contend
 * however long creating a thread takes (on a slow kernel the first
 * workers would otherwise finish before the last exist).
 */
static pthread_barrier_t start;
static int resolver_stop;	/* under q_lock: workers are done */
static long checks, check_failures, deadlocks, stale, rollbacks;
static long queue_full;	/* calls not made: the queue was full */
/*
 * Detector calls of each waiter not yet resolved: raised by the waiter
 * (under the latch) when its call is queued, lowered by the resolver
 * when the call's verdict is in; atomic, so the resolver takes no latch
 * for it.  See acquire().
 */
static int unresolved[MAXTHREADS];
static long extra_aborts;	/* under the latch: see cycle_stands */

/* Failures are counted by waiters (under the latch) and by the resolver. */
static void count_failure(void)
{
	__atomic_add_fetch(&check_failures, 1, __ATOMIC_RELAXED);
}
static struct ex_lat lat, stall;	/* detector latency; latch held to invoke */

/* ---- the detector: the same code in a thread, a child or an orbit ---- */

/* Follows wait-for edges from start; on a cycle, picks its member that
 * holds the fewest locks (least work lost), the lowest-numbered among
 * equals: every call that finds a cycle picks the same victim, wherever
 * its walk entered the cycle.  A detector deciding on a snapshot needs
 * that: two waiters of one cycle each make a call, and if the calls
 * picked different victims, both verdicts would pass main's check of
 * the victim (verdict_current) and two transactions would abort for one
 * deadlock.
 */
static struct verdict find_victim(const struct db *d, int start)
{
	struct verdict v = { -1, -1, 0 };
	int seen[MAXTHREADS] = { 0 }, t = start, u;

	if (detect_us)
		usleep(detect_us);
	while (t >= 0 && !seen[t]) {
		int l = d->txn[t].waits_for;

		seen[t] = 1;
		t = l < 0 ? -1 : d->lock[l].holder;
	}
	if (t < 0)
		return v;
	u = t;
	do {
		if (d->txn[u].cancel)
			return (struct verdict){ -1, -1, 0 };	/* resolving */
		if (v.victim < 0 || d->txn[u].nheld < d->txn[v.victim].nheld ||
		    (d->txn[u].nheld == d->txn[v.victim].nheld &&
		     u < v.victim))
			v.victim = u;
		u = d->lock[d->txn[u].waits_for].holder;
	} while (u != t);
	v.waits_for = d->txn[v.victim].waits_for;
	v.version = d->txn[v.victim].version;
	return v;
}

/* An operation: runs in main, from orbit_apply(), under the latch. */
static long wake_waiters(void *unused)
{
	pthread_cond_broadcast(&changed);
	return 0;
}

/* The orbit's entry: runs on the snapshot, pushes the verdict. */
static long detect(void *argbuf, void *store)
{
	struct check_arg *a = argbuf;
	struct verdict v;
	struct orbit_update *u;

	if (a->crash)
		*(volatile int *)NULL = 0;	/* injected fault */
	v = find_victim(a->db, a->start);
	if (v.victim < 0)
		return 0;
	u = orbit_update_create();
	if (!u || orbit_update_add_data(u, &v, sizeof(v)) ||
	    orbit_update_add_modify(u, &a->db->txn[v.victim].cancel,
				    &(int){ 1 }, sizeof(int)) ||
	    orbit_update_add_operation(u, wake_waiters, NULL) ||
	    orbit_push(u, NULL)) {
		orbit_update_free(u);
		return -1;
	}
	return 1;
}

/* Main side, under the latch: is the verdict about the present? */
static int verdict_current(const struct verdict *v)
{
	const struct txn *t;

	if (v->victim < 0 || v->victim >= nthreads)
		return 0;
	t = &db->txn[v->victim];
	return t->version == v->version && t->waits_for == v->waits_for &&
	       !t->cancel;
}

/*
 * Under the latch: does the victim's cycle still stand in the live
 * tables, every edge there and no other member cancelled?  An abort
 * whose cycle does not resolves no deadlock; the RESULT line counts them
 * (extra_aborts).  Only counted: main applies a verdict on the check of
 * its victim alone, which is enough because every call names a cycle's
 * same victim (find_victim).
 */
static int cycle_stands(int victim)
{
	int u = victim, n, l;

	for (n = 0; n < nthreads; n++) {
		l = db->txn[u].waits_for;
		if (l < 0 || (u != victim && db->txn[u].cancel))
			return 0;
		u = db->lock[l].holder;
		if (u < 0)
			return 0;
		if (u == victim)
			return 1;
	}
	return 0;
}

/* Under the latch: a victim was cancelled, by main or by an applied update. */
static void count_abort(int victim)
{
	extra_aborts += !cycle_stands(victim);
	deadlocks++;
}

static void cancel_victim(const struct verdict *v)
{
	count_abort(v->victim);
	db->txn[v->victim].cancel = 1;
	pthread_cond_broadcast(&changed);
}

/* ---- pending detector calls, consumed by the resolver thread --------- */

struct pending {
	struct orbit_future *f;	/* orbit */
	pid_t pid;		/* fork */
	int fd;			/* fork: the child's verdict */
	int echo;		/* --ipc-floor: an echo to read */
	struct db *copy;	/* --snapshot-floor: the tables at the call */
	struct check_arg arg;	/* thread */
	double t0;
};

/* q_lock protects the queue of pending detector calls (queue_len at most). */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct pending queue[QUEUE_LEN];
static unsigned int q_head, q_tail, q_max;	/* q_max: the deepest it got */

/*
 * Room for one more?  Only waiters add calls, under the latch, so room a
 * waiter found is still there when it adds its call.
 */
static int queue_has_room(void)
{
	int room;

	pthread_mutex_lock(&q_lock);
	room = q_tail - q_head < (unsigned int)queue_len;
	pthread_mutex_unlock(&q_lock);
	return room;
}

static void enqueue(const struct pending *p)
{
	pthread_mutex_lock(&q_lock);
	queue[q_tail++ % QUEUE_LEN] = *p;
	if (q_tail - q_head > q_max)
		q_max = q_tail - q_head;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

static void resolve_orbit(struct pending *p)
{
	const struct orbit_update_entry *e;
	struct orbit_update *u;
	struct verdict v;
	long ret;

	while (pull_orbit(p->f, &u) == 1) {
		e = orbit_update_first(u);
		latch_lock();
		if (e && e->type == ORBIT_UPDATE_DATA &&
		    e->len == sizeof(v)) {
			memcpy(&v, e->data, sizeof(v));
			if (!verdict_current(&v))
				stale++;
			else if (orbit_apply(u) == 0)
				count_abort(v.victim);
		}
		latch_unlock();
		orbit_update_free(u);
	}
	if (orbit_future_get(p->f, &ret) || ret < 0) {
		fprintf(stderr, "lockmgr: detector call failed: %s; the orbit restarts, waiters re-check\n",
			strerror(errno));
		count_failure();
	}
}

/* A verdict reached on a copy of the tables: applied if still current. */
static void apply_verdict(const struct verdict *v)
{
	if (v->victim < 0)
		return;
	latch_lock();
	if (verdict_current(v))
		cancel_victim(v);
	else
		stale++;
	latch_unlock();
}

static void resolve_fork(struct pending *p)
{
	struct verdict v;
	ssize_t n = read(p->fd, &v, sizeof(v));
	int status;

	close(p->fd);
	waitpid(p->pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "lockmgr: detector child died (%s); waiters re-check\n",
			WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) :
			"exit status");
		count_failure();
		return;
	}
	if (n == sizeof(v))
		apply_verdict(&v);
}

/*
 * --snapshot-floor: the detection on a copy of the tables taken when the
 * call was made, after the round trip, outside the latch; the verdict is
 * applied as the orbit's is, after the same version check.
 */
static void resolve_copy(struct pending *p)
{
	struct verdict v;

	if (read(echo_rep[0], &(char){ 0 }, 1) != 1)
		count_failure();
	v = find_victim(p->copy, p->arg.start);
	free(p->copy);
	apply_verdict(&v);
}

/* --isolated-floor: the helper process and the ring it shares with main. */

/*
 * A call's slot holds its copy of the tables and, later, its verdict.  At
 * most queue_len calls wait in the queue and one is being resolved, so
 * QUEUE_LEN + 1 slots used in turn never reuse one still to be read.
 */
#define ISO_SLOTS	(QUEUE_LEN + 1)
#define ISO_POLL_MS	100	/* the resolver's check that the helper lives */

struct iso_slot {
	struct db copy;		/* written by main, read by the helper */
	int start;		/* the waiter that made the call */
	struct verdict v;	/* written by the helper */
};

/*
 * Shared by main and the helper.  posted counts the calls main made
 * (written under the latch), done the verdicts the helper wrote; a side
 * that found nothing to do sets its *_sleeps flag and sleeps on the
 * counter's futex, and the other side wakes it after a change only if
 * the flag is set.
 */
struct iso_ring {
	unsigned int posted, done;
	int helper_sleeps, resolver_sleeps;
	int stop;		/* main is done: the helper exits */
	struct iso_slot slot[ISO_SLOTS];
};

static struct iso_ring *ring;
static pid_t iso_pid;
static unsigned int iso_resolved;	/* the resolver's: verdicts read */

/*
 * Waits until *ctr differs from seen (or the ring stops): 0, or -1 when
 * a wait of ISO_POLL_MS finds that dead() holds.
 */
static int iso_wait(unsigned int *ctr, int *sleeps, unsigned int seen,
		    int (*dead)(void))
{
	struct timespec ts = { 0, ISO_POLL_MS * 1000000L };

	while (__atomic_load_n(ctr, __ATOMIC_SEQ_CST) == seen &&
	       !__atomic_load_n(&ring->stop, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(sleeps, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(ctr, __ATOMIC_SEQ_CST) == seen &&
		    syscall(SYS_futex, ctr, FUTEX_WAIT, seen, &ts, NULL, 0) &&
		    errno == ETIMEDOUT && dead && dead()) {
			__atomic_store_n(sleeps, 0, __ATOMIC_SEQ_CST);
			return -1;
		}
		__atomic_store_n(sleeps, 0, __ATOMIC_SEQ_CST);
	}
	return 0;
}

/* Publishes *ctr = val; wakes the other side if it sleeps on it. */
static void iso_post(unsigned int *ctr, int *sleeps, unsigned int val)
{
	__atomic_store_n(ctr, val, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(sleeps, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, ctr, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* The helper process: decides on each call's copy, in order. */
static void iso_helper(void)
{
	unsigned int n = 0;
	struct iso_slot *s;

	for (;;) {
		iso_wait(&ring->posted, &ring->helper_sleeps, n, NULL);
		if (__atomic_load_n(&ring->stop, __ATOMIC_SEQ_CST))
			return;
		s = &ring->slot[n % ISO_SLOTS];
		s->v = find_victim(&s->copy, s->start);
		iso_post(&ring->done, &ring->resolver_sleeps, ++n);
	}
}

static int iso_helper_dead(void)
{
	return waitpid(iso_pid, NULL, WNOHANG) != 0;
}

/* Under the latch: the copy and the call, posted to the helper. */
static void iso_call(int me)
{
	unsigned int n = ring->posted;
	struct iso_slot *s = &ring->slot[n % ISO_SLOTS];

	memcpy(&s->copy, db, sizeof(*db));
	s->start = me;
	iso_post(&ring->posted, &ring->helper_sleeps, n + 1);
}

/* The resolver: the next call's verdict, applied if still current. */
static void iso_resolve(void)
{
	struct verdict v;

	if (iso_wait(&ring->done, &ring->resolver_sleeps, iso_resolved,
		     iso_helper_dead)) {
		count_failure();	/* the helper died */
		return;
	}
	v = ring->slot[iso_resolved++ % ISO_SLOTS].v;
	apply_verdict(&v);
}

static int iso_start(void)
{
	ring = mmap(NULL, sizeof(*ring), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ring == MAP_FAILED)
		return -1;
	iso_pid = fork();
	if (iso_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlives main */
		if (getppid() == 1)
			_exit(1);
		iso_helper();
		_exit(0);
	}
	return iso_pid < 0 ? -1 : 0;
}

static void iso_stop(void)
{
	__atomic_store_n(&ring->stop, 1, __ATOMIC_SEQ_CST);
	iso_post(&ring->posted, &ring->helper_sleeps, ring->posted + 1);
	waitpid(iso_pid, NULL, 0);
}

/* Thread mode: the detection itself, on the live tables. */
static void resolve_thread(struct pending *p)
{
	struct verdict v;

	if (p->arg.crash)
		*(volatile int *)NULL = 0;	/* injected fault */
	if (p->copy) {
		resolve_copy(p);
		return;
	}
	if (iso_floor) {	/* every call's verdict is in the ring */
		iso_resolve();
		return;
	}
	latch_lock();
	v = find_victim(db, p->arg.start);
	if (v.victim >= 0)
		cancel_victim(&v);
	latch_unlock();
	if (p->echo && read(echo_rep[0], &(char){ 0 }, 1) != 1)
		count_failure();
}

/* --ipc-floor: echoes every byte sent until the request pipe closes. */
static void *echo(void *unused)
{
	char c;

	while (read(echo_req[0], &c, 1) == 1 && write(echo_rep[1], &c, 1) == 1)
		;
	return NULL;
}

/* Starts the echo in a helper process, or with --echo-thread in a thread. */
static int echo_start(void)
{
	pid_t pid;

	if (pipe2(echo_req, O_CLOEXEC) || pipe2(echo_rep, O_CLOEXEC))
		return -1;
	if (echo_thread) {
		errno = pthread_create(&echo_tid, NULL, echo, NULL);
		return errno ? -1 : 0;
	}
	pid = fork();
	if (pid == 0) {
		close(echo_req[1]);
		echo(NULL);
		_exit(0);
	}
	close(echo_req[0]);
	close(echo_rep[1]);
	return pid < 0 ? -1 : 0;
}

/* Closes the request pipe; the echo sees EOF and ends. */
static void echo_stop(void)
{
	close(echo_req[1]);
	if (echo_thread)
		pthread_join(echo_tid, NULL);
	else
		wait(NULL);
}

static void *resolver(void *unused)
{
	for (;;) {
		struct pending p;

		pthread_mutex_lock(&q_lock);
		while (q_head == q_tail && !resolver_stop)
			pthread_cond_wait(&q_cond, &q_lock);
		if (q_head == q_tail) {
			pthread_mutex_unlock(&q_lock);
			return NULL;
		}
		p = queue[q_head++ % QUEUE_LEN];
		pthread_mutex_unlock(&q_lock);
		if (mode == EX_ORBIT)
			resolve_orbit(&p);
		else if (mode == EX_FORK)
			resolve_fork(&p);
		else
			resolve_thread(&p);
		ex_lat_add(&lat, ex_now_us() - p.t0);
		__atomic_sub_fetch(&unresolved[p.arg.start], 1,
				   __ATOMIC_RELEASE);
	}
}

/* Under the latch: start a detector call for a waiting txn. */
static void invoke_detector(int me)
{
	struct pending p = { .pid = -1, .fd = -1, .t0 = ex_now_us() };
	int fds[2];

	/* Full: no call, rather than wait for one under the latch. */
	if (!queue_has_room()) {
		queue_full++;
		return;		/* the wait times out and re-checks */
	}
	p.arg.db = db;
	p.arg.start = me;
	p.arg.crash = ++checks == crash_at;
	if (mode == EX_ORBIT) {
		p.f = orbit_call_async(ob, 0, 1, &area, NULL, &p.arg,
				       sizeof(p.arg));
		if (!p.f) {
			count_failure();
			return;		/* the wait times out and re-checks */
		}
	} else if (mode == EX_THREAD && iso_floor) {
		iso_call(me);
	} else if (mode == EX_THREAD && ipc_floor) {
		if (copy_floor) {
			p.copy = malloc(sizeof(*db));
			if (!p.copy) {
				count_failure();
				return;
			}
			memcpy(p.copy, db, sizeof(*db));
		}
		p.echo = write(echo_req[1], "x", 1) == 1;
	} else if (mode == EX_FORK) {
		if (pipe2(fds, O_CLOEXEC))
			return;
		p.pid = fork();
		if (p.pid == 0) {
			struct verdict v;

			if (p.arg.crash)
				*(volatile int *)NULL = 0;
			v = find_victim(db, me);
			_exit(write(fds[1], &v, sizeof(v)) == sizeof(v) ? 0 : 1);
		}
		close(fds[1]);
		if (p.pid < 0) {
			close(fds[0]);
			return;
		}
		p.fd = fds[0];
	}
	ex_lat_add(&stall, ex_now_us() - p.t0);
	__atomic_add_fetch(&unresolved[me], 1, __ATOMIC_RELAXED);
	enqueue(&p);
}

/* ---- the workers ------------------------------------------------------ */

static void release_all(struct txn *t)
{
	while (t->nheld > 0)
		db->lock[t->held[--t->nheld]].holder = -1;
	pthread_cond_broadcast(&changed);
}

static void deadline(struct timespec *ts, long us)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += us * 1000L;
	ts->tv_sec += ts->tv_nsec / 1000000000L;
	ts->tv_nsec %= 1000000000L;
}

/* Under the latch: waits until lock l is free, the txn is cancelled or
 * the time runs out; 0 on a timeout.
 */
static int wait_lock(struct txn *t, int l, long us)
{
	struct timespec ts;

	deadline(&ts, us);
	while (db->lock[l].holder >= 0 && !t->cancel) {
		int timedout;

		/* The wait releases the latch: not counted as held. */
		latch_held_us += ex_now_us() - latch_since;
		timedout = pthread_cond_timedwait(&changed, &latch, &ts);
		latch_since = ex_now_us();
		if (timedout)
			return 0;
	}
	return 1;
}

/* Under the latch: acquires lock l for txn me; -1 when cancelled.  Like
 * PostgreSQL's deadlock_timeout, a waiter invokes the detector only once
 * it has waited --check-us.  It re-checks every --wait-ms (a detector
 * call may have failed, or decided on tables from before the cycle
 * closed), but only when none of its calls is unresolved: a detector
 * slower than --wait-ms (a fork on a debug kernel) would otherwise get
 * calls queued faster than the one resolver ends them, each verdict
 * later and more often stale than the one before.
 */
static int acquire(int me, int l)
{
	struct txn *t = &db->txn[me];

	t->waits_for = l;
	if (!wait_lock(t, l, check_us)) {
		invoke_detector(me);
		while (!wait_lock(t, l, wait_ms * 1000L))
			if (!__atomic_load_n(&unresolved[me], __ATOMIC_ACQUIRE))
				invoke_detector(me);
	}
	t->waits_for = -1;
	if (t->cancel)
		return -1;
	db->lock[l].holder = me;
	t->held[t->nheld++] = l;
	return 0;
}

struct worker_stats {
	long commits, writes;
};

static void *worker(void *p)
{
	int me = (int)(long)p, want[KMAX], k, i, j;
	struct txn *t = &db->txn[me];
	static struct worker_stats ws[MAXTHREADS];
	unsigned int seed = 7919u * (unsigned int)me + 1;
	double t0;

	pthread_barrier_wait(&start);
	while (seconds ? !stop : ws[me].commits < txns) {
		k = 2 + rand_r(&seed) % (KMAX - 1);
		for (i = 0; i < k; i++) {
			do {
				want[i] = rand_r(&seed) % nlocks;
				for (j = 0; j < i && want[j] != want[i]; j++)
					;
			} while (j < i);
		}
		latch_lock();
		for (i = 0; i < k && acquire(me, want[i]) == 0; i++)
			;
		if (i < k) {		/* cancelled: roll back and retry */
			release_all(t);
			t->cancel = 0;
			t->version++;
			rollbacks++;
			latch_unlock();
			usleep(rand_r(&seed) % 1000);
			continue;
		}
		latch_unlock();
		for (i = 0; i < k; i++)		/* the transaction's work */
			rows[want[i]]++;
		ws[me].writes += k;
		t0 = ex_now_us();
		while (ex_now_us() - t0 < hold_us)
			;
		latch_lock();
		release_all(t);
		latch_unlock();
		ws[me].commits++;
	}
	return &ws[me];
}

static int parse(int argc, char **argv)
{
	static const struct ex_opt opts[] = {
		{ "--mode", 'm', &mode },
		{ "--threads", 'i', &nthreads },
		{ "--txns", 'i', &txns },
		{ "--seconds", 'd', &seconds },
		{ "--locks", 'i', &nlocks },
		{ "--heap", 'l', &heap_mib },
		{ "--hold-us", 'i', &hold_us },
		{ "--check-us", 'l', &check_us },
		{ "--wait-ms", 'i', &wait_ms },
		{ "--crash", 'l', &crash_at },
		{ "--detect-us", 'l', &detect_us },
		{ "--queue", 'i', &queue_len },
		{ "--ipc-floor", 'f', &ipc_floor },
		{ "--echo-thread", 'f', &echo_thread },
		{ "--snapshot-floor", 'f', &copy_floor },
		{ "--isolated-floor", 'f', &iso_floor },
		{ "--background", 'f', &background },
		{ "--direct", 'f', &direct },
		{ NULL }
	};

	if (ex_parse_opts(argc, argv, opts))
		return -1;
	return nthreads < 2 || nthreads > MAXTHREADS || nlocks < KMAX ||
	       nlocks > MAXLOCKS || wait_ms < 1 || check_us < 0 ||
	       detect_us < 0 || detect_us > 10000000 ||
	       queue_len < 1 || queue_len > QUEUE_LEN ||
	       (ipc_floor && mode != EX_THREAD) ||
	       ((echo_thread || copy_floor) && !ipc_floor) ||
	       (echo_thread && copy_floor) ||
	       (iso_floor && (mode != EX_THREAD || ipc_floor)) ||
	       (background && mode != EX_ORBIT) ||
	       (direct && mode != EX_ORBIT) ? -1 : 0;
}

int main(int argc, char **argv)
{
	pthread_t th[MAXTHREADS], res;
	long commits = 0, writes = 0, sum = 0;
	int i, busy = 0;
	void *heap;
	double t0, secs;

	if (parse(argc, argv)) {
		fprintf(stderr, "usage: lockmgr [--mode thread|fork|orbit] [--threads 2..%d] [--txns N | --seconds S]\n"
				"               [--locks %d..%d] [--heap MiB] [--hold-us N] [--check-us N]\n"
				"               [--wait-ms N] [--crash N] [--detect-us N] [--queue 1..%d]\n"
				"               [--ipc-floor [--echo-thread | --snapshot-floor] | --isolated-floor (thread)]\n"
				"               [--background] [--direct] (orbit)\n",
			MAXTHREADS, KMAX, MAXLOCKS, QUEUE_LEN);
		return 2;
	}
	heap = ex_heap(heap_mib);
	if (!heap) {
		perror("lockmgr: heap");
		return 1;
	}
	if (mode == EX_ORBIT) {
		struct orbit_attr attr;

		orbit_attr_init(&attr);
		attr.restart = ORBIT_RESTART_ALWAYS;
		if (background)
			attr.flags |= ORBIT_BACKGROUND;
		if (direct)
			attr.flags |= ORBIT_DIRECT;
		ob = orbit_create_ex("deadlock", detect, NULL, &attr);
		area = ob ? orbit_area_create(sizeof(*db), ob) : NULL;
		db = area ? orbit_alloc(area, sizeof(*db)) : NULL;
		if (!db) {
			ex_orbit_error("lockmgr: orbit");
			return 1;
		}
	} else {
		db = calloc(1, sizeof(*db));
	}
	db->nthreads = nthreads;
	db->nlocks = nlocks;
	for (i = 0; i < MAXLOCKS; i++)
		db->lock[i].holder = -1;
	for (i = 0; i < MAXTHREADS; i++)
		db->txn[i].waits_for = -1;

	if (ipc_floor && echo_start()) {
		perror("lockmgr: echo helper");
		return 1;
	}
	if (iso_floor && iso_start()) {
		perror("lockmgr: detector process");
		return 1;
	}
	pthread_barrier_init(&start, NULL, nthreads + 1);
	errno = pthread_create(&res, NULL, resolver, NULL);
	for (i = 0; i < nthreads && !errno; i++)
		errno = pthread_create(&th[i], NULL, worker, (void *)(long)i);
	if (errno) {		/* exiting ends the workers at the gate */
		perror("lockmgr: threads");
		return 1;
	}
	pthread_barrier_wait(&start);
	t0 = ex_now_us();
	if (seconds) {
		usleep((useconds_t)(seconds * 1e6));
		stop = 1;
	}
	for (i = 0; i < nthreads; i++) {
		struct worker_stats *ws;

		pthread_join(th[i], (void **)&ws);
		commits += ws->commits;
		writes += ws->writes;
	}
	secs = (ex_now_us() - t0) / 1e6;
	pthread_mutex_lock(&q_lock);
	resolver_stop = 1;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_lock);
	pthread_join(res, NULL);

	for (i = 0; i < nlocks; i++) {
		sum += rows[i];
		busy += db->lock[i].holder >= 0;
	}
	printf("RESULT lockmgr mode=%s threads=%d commits=%ld secs=%.2f per_s=%.1f deadlocks=%ld stale=%ld rollbacks=%ld extra_aborts=%ld checks=%ld check_failures=%ld queued_max=%u queue_full=%ld check_p50_us=%.0f check_p99_us=%.0f invoke_p50_us=%.0f latch_us_per_commit=%.1f latch_wait_us_per_commit=%.1f consistent=%s\n",
	       echo_thread ? "thread+ipc-floor-thread" :
	       copy_floor ? "thread+ipc-floor-snapshot" :
	       iso_floor ? "thread+isolated-floor" :
	       ipc_floor ? "thread+ipc-floor" :
	       background && direct ? "orbit+direct+background" :
	       background ? "orbit+background" :
	       direct ? "orbit+direct" : ex_mode_names[mode], nthreads,
	       commits, secs, commits / secs,
	       deadlocks, stale, rollbacks, extra_aborts, checks,
	       check_failures, q_max, queue_full,
	       ex_percentile(lat.v, lat.n, 50), ex_percentile(lat.v, lat.n, 99),
	       ex_percentile(stall.v, stall.n, 50),
	       commits ? latch_held_us / commits : 0,
	       commits ? latch_wait_us / commits : 0,
	       !busy && sum == writes ? "yes" : "NO");
	if (ob)
		orbit_destroy(ob);
	if (ipc_floor)
		echo_stop();
	if (iso_floor)
		iso_stop();
	free(heap);
	return !busy && sum == writes ? 0 : 1;
}
