// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures at random, everywhere at once.  fi_alloc_failures
 * fails one point at a time in one thread; here a main's worker threads,
 * its spawner and its orbits (all marked make-it-fail: the spawner is
 * forked by a worker's first orbit_create) have one slab allocation, page
 * allocation or user copy in every INTERVAL fail, while three threads create and
 * destroy orbits and areas, write, call (sync, async with pushed updates,
 * cancelled, ORBIT_LATEST), copy globals and SIGKILL orbits, for SECONDS.
 * Every operation must succeed or fail with an errno its man page or
 * orbit(7) names; a call that succeeded returns the sum main wrote and
 * brings every update its task pushed, whole.  With the faults off, each
 * thread's orbit answers (after a restart if need be), a new orbit
 * answers, and the module holds nothing at the end.  The guest fails on
 * any KASAN, lockdep, WARN or BUG report; a hang fails the test by its
 * alarm.  Needs make soak-debug's kernel, as fi_alloc_failures does.
 */
#define _GNU_SOURCE
#include <execinfo.h>
#include <pthread.h>
#include <setjmp.h>
#include <ucontext.h>
#include <signal.h>
#include <sys/rseq.h>
#include <asm/prctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#include "tap.h"
#include "util.h"

#define THREADS		3
#define NPAGES		16
#define PAGE_LONGS	(4096 / sizeof(long))
#define SECONDS		60
#define INTERVAL	"100"	/* one fault point of this many fails */
#define MAX_PUSH	4

enum op { OP_SUM, OP_PUSH, OP_WAIT };

struct farg {
	int op;
	int npush;
	long *vals;
};

/* What a thread saw; errors: an errno no page names, or a wrong value. */
struct tally {
	long ops, failed, bad_errno, wrong, lost, sigbus, kills;
	long epipe;		/* the spawner died (named, but rare) */
	long calls_ok, updates;
	int first_bad;		/* the first unnamed errno, for diag */
	const char *first_bad_op;
	const char *first_wrong;	/* the first wrong value: where */
	long wrong_want, wrong_got;
};

static volatile int stop;
static __thread sigjmp_buf *bus_jb;

/* SUM: the sum; PUSH: the sum, and how many pushes went, << 32. */
static long task(void *argbuf, void *store)
{
	struct farg *a = argbuf;
	struct orbit_update *u;
	long pushed = 0, i;

	if (a->op == OP_WAIT) {
		usleep(2000);
		return first_words_sum(a->vals, NPAGES);
	}
	for (i = 0; a->op == OP_PUSH && i < a->npush; i++) {
		u = orbit_update_create();
		if (!u)
			continue;
		/* The n-th update main gets holds n: pushes may fail. */
		if (orbit_update_add_data(u, &pushed, sizeof(pushed)) ||
		    orbit_push(u, NULL)) {
			orbit_update_free(u);
			continue;
		}
		pushed++;
	}
	return pushed << 32 | first_words_sum(a->vals, NPAGES);
}

/* Only write_pages() expects SIGBUS: anywhere else it kills, as it would. */
static void on_sigbus(int sig)
{
	if (bus_jb)
		siglongjmp(*bus_jb, 1);
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

static pid_t main_pid;

/* Writes v in hex just before end; returns its first digit.  No stdio. */
static char *hex(char *end, unsigned long v)
{
	do {
		*--end = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	return end;
}

static void say(const char *what, unsigned long v)
{
	char b[80], *p = b + sizeof(b);
	size_t n = strlen(what);

	*--p = '\n';
	p = hex(p, v);
	if (n > (size_t)(p - b))
		n = p - b;
	p -= n;
	memcpy(p, what, n);
	if (write(1, p, b + sizeof(b) - p) < 0)
		return;
}

/*
 * A crash says where and in whom (addr2line -e fi_random turns ips into
 * lines): a process forked from main (the spawner, an orbit) runs this
 * handler until it resets its signals.  si_code SI_KERNEL (0x80) with
 * address 0 is a forced SIGSEGV (see own_signal_stack()) or a general
 * protection fault; the thread's FS base tells whether its TLS was gone.
 */
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *ctx = uc;
	unsigned long fs = 0;
	void *bt[32];
	int n;

	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	say(getpid() == main_pid ? "    # SIGSEGV in main, pid " :
	    "    # SIGSEGV in a child of main, pid ", getpid());
	say("    # tid ", syscall(SYS_gettid));
	say("    # si_code ", si->si_code);
	say("    # si_addr ", (unsigned long)si->si_addr);
	say("    # ip ", ctx->uc_mcontext.gregs[REG_RIP]);
	say("    # fs base ", fs);
	if (fs) {
		n = backtrace(bt, 32);
		backtrace_symbols_fd(bt, n, 1);
	}
	_exit(139);
}

/* Writes v + i to page i; 0, or -1 if a write raised SIGBUS. */
static int write_pages(long *vals, long v)
{
	sigjmp_buf jb;
	volatile int i;

	bus_jb = &jb;
	if (sigsetjmp(jb, 1)) {
		bus_jb = NULL;
		return -1;
	}
	for (i = 0; i < NPAGES; i++)
		vals[i * PAGE_LONGS] = v + i;
	bus_jb = NULL;	/* the frame goes */
	return 0;
}

struct worker {
	struct orbit *ob;
	struct orbit_area *area;
	long *vals;
	long expect;	/* the sum of what main wrote; -1: not written */
	unsigned int seed;
	struct tally t;
};

/* A failure with errno err of op: named (in, 0-terminated) or not. */
static void failed(struct worker *w, const char *op, int err, const int *in)
{
	w->t.failed++;
	w->t.epipe += err == EPIPE;
	if (err == ENOMEM || err == EFAULT)
		return;
	for (; *in; in++)
		if (err == *in)
			return;
	if (!w->t.bad_errno++) {
		w->t.first_bad = err;
		w->t.first_bad_op = op;
	}
}

static const int none[] = { 0 };
/* EPIPE: the spawner died, and so did the one started in its place. */
static const int creating[] = { ENFILE, EPIPE, 0 };
/* A call that restarts a dead orbit may fail as orbit_create does. */
static const int calling[] = { ESRCH, EMFILE, ENFILE, EPIPE, 0 };
static const int pulling[] = { ESRCH, ENOENT, 0 };
static const int ending[] = { ESRCH, ECANCELED, 0 };
static const int cancelling[] = { EBUSY, EALREADY, ENOENT, 0 };

static void new_orbit(struct worker *w)
{
	struct orbit_attr attr;

	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	w->ob = orbit_create_ex("firand", task, NULL, &attr);
	if (!w->ob)
		failed(w, "orbit_create", errno, creating);
}

/* An area, then its memory: each tried again next time if it failed. */
static void new_area(struct worker *w)
{
	if (!w->area) {
		w->area = orbit_area_create(NPAGES * 4096, w->ob);
		if (!w->area) {
			failed(w, "orbit_area_create", errno, none);
			return;
		}
	}
	w->vals = orbit_alloc(w->area, NPAGES * 4096);
	if (!w->vals)
		failed(w, "orbit_alloc", errno, none);
	w->expect = -1;
}

static void wrong(struct worker *w, const char *where, long want, long got)
{
	if (!w->t.wrong++) {
		w->t.first_wrong = where;
		w->t.wrong_want = want;
		w->t.wrong_got = got;
	}
}

static void rewrite(struct worker *w)
{
	long v = rand_r(&w->seed) % 1000;

	if (write_pages(w->vals, v)) {
		w->t.sigbus++;
		w->expect = -1;		/* partly written */
		return;
	}
	w->expect = NPAGES * v + NPAGES * (NPAGES - 1) / 2;
}

/* A call's value against the sum main wrote (unknown after a SIGBUS). */
static void check_sum(struct worker *w, const char *where, long r)
{
	if (w->expect >= 0 && (r & 0xffffffff) != w->expect)
		wrong(w, where, w->expect, r);
}

static void sync_call(struct worker *w)
{
	struct farg a = { .op = OP_SUM, .vals = w->vals };
	long r;

	errno = 0;
	r = orbit_call(w->ob, 1, &w->area, NULL, &a, sizeof(a));
	if (r == -1 && errno) {
		failed(w, "orbit_call", errno, calling);
		return;
	}
	w->t.calls_ok++;
	check_sum(w, "sync call", r);
}

/* An async call whose task pushes; every push main is told of arrives. */
static void async_call(struct worker *w)
{
	struct farg a = { .op = OP_PUSH, .vals = w->vals };
	struct orbit_future *f;
	struct orbit_update *u;
	long r, n = 0, got = 0;
	int tries = 0;

	a.npush = 1 + rand_r(&w->seed) % MAX_PUSH;
	f = orbit_call_async(w->ob, 0, 1, &w->area, NULL, &a, sizeof(a));
	if (!f) {
		failed(w, "orbit_call_async", errno, calling);
		return;
	}
	while ((r = pull_orbit(f, &u)) != 0) {
		if (r == 1) {
			const struct orbit_update_entry *e =
				orbit_update_first(u);

			if (!e || e->len != sizeof(long) ||
			    memcmp(e->data, &n, sizeof(n)))
				wrong(w, "update", n, e ? (long)e->len : -1);
			n++;
			got++;
			orbit_update_free(u);
			continue;
		}
		if ((errno == ENOMEM || errno == EFAULT) && ++tries < 20) {
			failed(w, "pull_orbit", errno, none);
			continue;	/* the update stays: pull again */
		}
		failed(w, "pull_orbit", errno, pulling);
		break;
	}
	w->t.updates += got;
	if (orbit_future_get(f, &r)) {
		failed(w, "orbit_future_get", errno, ending);
		return;
	}
	w->t.calls_ok++;
	check_sum(w, "async call", r);
	if (got != r >> 32)
		w->t.lost++;
}

/*
 * A call queued behind another, then cancelled (or replaced by an
 * ORBIT_LATEST call): each ends with its sum, or ECANCELED, or a named
 * failure.
 */
static void queued_calls(struct worker *w, int latest)
{
	struct farg wait = { .op = OP_WAIT, .vals = w->vals };
	struct farg a = { .op = OP_SUM, .vals = w->vals };
	struct orbit_future *f[3] = { NULL };
	long r;
	int i;

	for (i = 0; i < 2 + latest; i++) {
		f[i] = orbit_call_async(w->ob, i == 2 ? ORBIT_LATEST : 0, 1,
					&w->area, NULL, i ? (void *)&a : &wait,
					sizeof(a));
		if (!f[i])
			failed(w, "orbit_call_async", errno, calling);
		if (i == 1 && !latest && f[1] && orbit_cancel(f[1]))
			failed(w, "orbit_cancel", errno, cancelling);
	}
	for (i = 0; i < 3; i++) {
		if (!f[i])
			continue;
		if (orbit_future_get(f[i], &r)) {
			failed(w, "orbit_future_get", errno, ending);
			continue;
		}
		w->t.calls_ok++;
		check_sum(w, "queued call", r);
	}
}

static void kill_orbit(struct worker *w)
{
	struct orbit_status st;

	if (orbit_status(w->ob, &st)) {
		failed(w, "orbit_status", errno, none);
		return;
	}
	if (st.pid > 0 && kill(st.pid, SIGKILL) == 0)
		w->t.kills++;
}

static void one_op(struct worker *w)
{
	int k = rand_r(&w->seed) % 20;

	w->t.ops++;
	if (!w->ob) {
		new_orbit(w);
	} else if (!w->area || !w->vals) {
		new_area(w);
	} else if (w->expect < 0 || k < 3) {
		rewrite(w);
	} else if (k < 8) {
		sync_call(w);
	} else if (k < 13) {
		async_call(w);
	} else if (k < 15) {
		queued_calls(w, k == 14);
	} else if (k == 15) {
		if (orbit_sync_globals(w->ob))
			failed(w, "orbit_sync_globals", errno, calling);
	} else if (k == 16) {
		kill_orbit(w);
	} else if (k >= 17 && k <= 18) {
		/* A destroy that failed is tried again later. */
		if (orbit_area_destroy(w->area)) {
			failed(w, "orbit_area_destroy", errno, none);
		} else {
			w->area = NULL;
			w->vals = NULL;
		}
		if (k == 18 && !w->area) {
			if (orbit_destroy(w->ob))
				failed(w, "orbit_destroy", errno, none);
			else
				w->ob = NULL;
		}
	} else {
		sync_call(w);
	}
}

/* Marks the calling thread's allocations and user copies for failing. */
static int make_it_fail(const char *on)
{
	int i;

	/* Turning it off may fail too: its own copy of "0" can. */
	for (i = 0; i < 1000; i++)
		if (write_file("/proc/thread-self/make-it-fail", on) == 0)
			return 0;
	return -1;
}

/*
 * The kernel writes a thread's rseq area (below) and signal frames from
 * kernel mode; after a fork of main (the spawner's) those pages are
 * copy-on-write, and an injected page allocation failure in that fault is
 * not retried: the kernel forces SIGSEGV on the thread (si_code
 * SI_KERNEL, address 0, ip just after a syscall: rseq's update on the way
 * back to user space, in half the runs before these two measures).  That
 * is the injection's doing, not the library's: SIGBUS runs on a stack of
 * the thread's own that no fork shares (MADV_DONTFORK), touched before
 * the faults start.
 */
static int own_signal_stack(void)
{
	stack_t ss = { .ss_size = SIGSTKSZ * 4 };

	ss.ss_sp = mmap(NULL, ss.ss_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ss.ss_sp == MAP_FAILED ||
	    madvise(ss.ss_sp, ss.ss_size, MADV_DONTFORK))
		return -1;
	memset(ss.ss_sp, 0, ss.ss_size);
	return sigaltstack(&ss, NULL);
}

/*
 * A worker fails from its start; the spawner, forked by the first
 * orbit_create, and every orbit inherit the flag.
 */
static void *work(void *arg)
{
	struct worker *w = arg;

	if (own_signal_stack()) {
		w->t.bad_errno++;
		return NULL;
	}
	if (make_it_fail("1"))
		return NULL;
	while (!stop)
		one_op(w);
	if (make_it_fail("0"))
		w->t.bad_errno++;
	return NULL;
}

static int set(const char *dir, const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s", dir, file);
	return write_file(path, val);
}

static const char *const kinds[] = {
	"failslab", "fail_page_alloc", "fail_usercopy",
};

/* Faults on (every INTERVAL-th point of make-it-fail tasks) or off. */
static int faults(int on)
{
	int i, err = 0;

	for (i = 0; i < 3; i++) {
		err |= set(kinds[i], "probability", on ? "100" : "0");
		err |= set(kinds[i], "interval", INTERVAL);
		err |= set(kinds[i], "times", "-1");
		err |= set(kinds[i], "space", "0");
		err |= set(kinds[i], "verbose", "0");
		err |= set(kinds[i], "task-filter", "Y");
	}
	err |= set("failslab", "ignore-gfp-wait", "N");
	err |= set("fail_page_alloc", "ignore-gfp-wait", "N");
	err |= set("fail_page_alloc", "ignore-gfp-highmem", "N");
	err |= set("fail_page_alloc", "min-order", "0");
	return err;
}

/* A sync call that answers the sum of freshly written pages. */
static int answers(struct orbit *ob, struct orbit_area *area, long *vals)
{
	struct farg a = { .op = OP_SUM, .vals = vals };
	long want;
	int i;

	if (write_pages(vals, 5))
		return 0;
	want = NPAGES * 5 + NPAGES * (NPAGES - 1) / 2;
	for (i = 0; i < 3; i++)
		if (orbit_call(ob, 1, &area, NULL, &a, sizeof(a)) == want)
			return 1;
	return 0;
}

/*
 * glibc registers an rseq area per thread, which the kernel updates on
 * the way back to user space: for the reason given at own_signal_stack(),
 * the test runs without (glibc.pthread.rseq=0), re-executing itself.
 */
static void without_rseq(char **argv)
{
	const char *t = getenv("GLIBC_TUNABLES");

	if (t && strstr(t, "glibc.pthread.rseq=0")) {
		require(__rseq_size == 0, "glibc registered no rseq area");
		return;
	}
	setenv("GLIBC_TUNABLES", "glibc.pthread.rseq=0", 1);
	execv("/proc/self/exe", argv);
	require(0, "re-execute without rseq");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { 0 };
	struct orbit_module_stats start;
	struct worker w[THREADS] = { 0 };
	struct tally t = { 0 };
	pthread_t th[THREADS];
	struct orbit_area *area;
	struct orbit *ob;
	long *vals;
	int i, works = 0, have = 0;

	without_rseq(argv);
	main_pid = getpid();
	require(access("/proc/self/make-it-fail", F_OK) == 0,
		"the kernel has fault injection (make-it-fail)");
	if (access("/sys/kernel/debug/failslab", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	require(faults(0) == 0, "fault injection set up, off");
	require(orbit_module_stats(&start) == 0, "read module counters");
	sa.sa_handler = on_sigbus;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGBUS, &sa, NULL);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGSEGV, &sa, NULL);
	alarm(SECONDS + 240);

	/* The workers fail, not this thread: it turns the faults off. */
	require(faults(1) == 0, "faults on: one point in " INTERVAL);
	for (i = 0; i < THREADS; i++) {
		w[i].seed = i + 1;
		w[i].expect = -1;
		require(pthread_create(&th[i], NULL, work, &w[i]) == 0,
			"thread %d", i);
	}
	sleep(SECONDS);
	stop = 1;
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		t.ops += w[i].t.ops;
		t.failed += w[i].t.failed;
		t.bad_errno += w[i].t.bad_errno;
		t.wrong += w[i].t.wrong;
		t.lost += w[i].t.lost;
		t.sigbus += w[i].t.sigbus;
		t.kills += w[i].t.kills;
		t.epipe += w[i].t.epipe;
		t.calls_ok += w[i].t.calls_ok;
		t.updates += w[i].t.updates;
		if (w[i].t.wrong)
			diag("thread %d: %s: %ld, not %ld, %ld in all", i,
			     w[i].t.first_wrong, w[i].t.wrong_got,
			     w[i].t.wrong_want, w[i].t.wrong);
		if (w[i].t.bad_errno)
			diag("thread %d: %s failed with errno %d (%s), %ld in all",
			     i, w[i].t.first_bad_op, w[i].t.first_bad,
			     strerror(w[i].t.first_bad), w[i].t.bad_errno);
	}
	require(faults(0) == 0, "faults off");

	ok(t.ops > 1000 && t.failed > 100 && t.calls_ok > 100,
	   "%ld operations, %ld failed (%ld EPIPE), %ld calls answered, %ld updates, %ld kills, %ld SIGBUS",
	   t.ops, t.failed, t.epipe, t.calls_ok, t.updates, t.kills, t.sigbus);
	ok(!t.bad_errno, "every failure had an errno its page names (%ld not)",
	   t.bad_errno);
	ok(!t.wrong && !t.lost,
	   "no wrong sum or update (%ld), no lost update (%ld)", t.wrong,
	   t.lost);

	/* With the faults off, what the threads left works. */
	for (i = 0; i < THREADS; i++) {
		if (w[i].ob && (!w[i].area || !w[i].vals))
			new_area(&w[i]);
		have += !!w[i].ob;
		works += w[i].ob && w[i].vals &&
			 answers(w[i].ob, w[i].area, w[i].vals);
		if (w[i].area)
			orbit_area_destroy(w[i].area);
		if (w[i].ob)
			orbit_destroy(w[i].ob);
	}
	ob = orbit_create("firand2", task, NULL);
	area = ob ? orbit_area_create(NPAGES * 4096, ob) : NULL;
	vals = area ? orbit_alloc(area, NPAGES * 4096) : NULL;
	ok(vals && answers(ob, area, vals),
	   "a new orbit answers once the faults stop");
	ok(works == have,
	   "the threads' orbits answer once the faults stop (%d of %d)",
	   works, have);
	if (area)
		orbit_area_destroy(area);
	if (ob)
		orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
