// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures, one at a time.  Each step of an orbit's life runs
 * in a fresh process with the kernel's fail-nth set (fault injection:
 * the N-th slab or page allocation, or user copy, of the thread fails),
 * for N = 1, 2, 3, ... until the step reaches no N-th fault point; the
 * orbit-side steps set it in the task.  Whatever fails, the step either
 * succeeds or fails with an errno its man page names, no update the task
 * pushed is lost or doubled, the process never hangs, and the orbit then
 * answers a call with the right sum (after a restart, if the failure
 * ended the orbit); once all runs are done the module holds nothing of
 * theirs.  The guest fails on any KASAN, lockdep, WARN or BUG report.
 * Needs a kernel with fault injection (make soak-debug's): not in make
 * check's guests, whose stock kernels have none.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <ucontext.h>

#include "tap.h"
#include "util.h"

#define NPAGES		16
#define PAGE_LONGS	(4096 / sizeof(long))
#define MAX_RUNS	500	/* N strides past half of this */
#define MAX_POINTS	100000	/* a step that never runs out of points */
#define E_SIGBUS	1000	/* "errno" of a touch that raised SIGBUS */
#define STACK_RESERVE	(512 << 10)	/* stack grown before any step */

enum step {
	ST_FIRST,	/* first orbit_create: context, spawner */
	ST_CREATE,	/* another orbit_create: a spare */
	ST_AREA,	/* orbit_area_create */
	ST_TOUCH,	/* main's first writes to the area */
	ST_CALL,	/* sync call: snapshot, queue, wait */
	ST_ASYNC,	/* async call and its future */
	ST_REWRITE,	/* main writes snapshot pages */
	ST_PULL,	/* pull of an update and the call's end */
	ST_PULL_ARENA,	/* pull of an update in arena memory: placing it */
	ST_APPLY,	/* orbit_apply of a modification: its check */
	ST_BIGARG,	/* a call with a 64 KiB argument */
	ST_GLOBALS,	/* orbit_sync_globals */
	ST_CANCEL,	/* orbit_cancel of a queued call */
	ST_LATEST,	/* an ORBIT_LATEST call replacing a queued one */
	ST_MODE,	/* area switched to COPY mode */
	ST_COPYCALL,	/* a call of a COPY area */
	ST_O_VIEW,	/* orbit: view faults and private copies */
	ST_O_PUSH,	/* orbit: orbit_push */
	ST_O_RUN,	/* orbit: result, wait, next install */
	ST_O_LAST,	/* orbit: orbit_push_last, sent with the result */
	ST_RESPAWN,	/* the call that restarts a crashed orbit */
	ST_DESTROY,	/* orbit_area_destroy, orbit_destroy */
	NSTEPS
};

static const char *const step_name[NSTEPS] = {
	[ST_FIRST] = "first orbit_create",
	[ST_CREATE] = "orbit_create",
	[ST_AREA] = "orbit_area_create",
	[ST_TOUCH] = "first writes to the area",
	[ST_CALL] = "sync call",
	[ST_ASYNC] = "async call",
	[ST_REWRITE] = "writes after a snapshot",
	[ST_PULL] = "pull of an update",
	[ST_PULL_ARENA] = "pull of an arena update",
	[ST_APPLY] = "orbit_apply",
	[ST_BIGARG] = "64 KiB argument",
	[ST_GLOBALS] = "orbit_sync_globals",
	[ST_CANCEL] = "orbit_cancel",
	[ST_LATEST] = "ORBIT_LATEST call",
	[ST_MODE] = "orbit_area_set_mode COPY",
	[ST_COPYCALL] = "call of a COPY area",
	[ST_O_VIEW] = "orbit: view faults",
	[ST_O_PUSH] = "orbit: orbit_push",
	[ST_O_RUN] = "orbit: result and next install",
	[ST_O_LAST] = "orbit: orbit_push_last",
	[ST_RESPAWN] = "call that restarts a crashed orbit",
	[ST_DESTROY] = "orbit_area_destroy, orbit_destroy",
};

enum op {
	OP_SUM, OP_PUSH, OP_PUSH_ARENA, OP_VIEW, OP_ARM_RUN, OP_ARMED, OP_PUSH_LAST,
	OP_MODIFY, OP_CRASH,
};

struct farg {
	int op;
	int nth;	/* orbit-side steps: the task's fail-nth */
	int poked;	/* OP_PUSH: end once main sends SIGUSR1 */
	long *vals;
	long expect;
};

/* What one run saw, written to the parent. */
struct res {
	int injected;	/* the N-th fault point was reached */
	int failed;	/* the step reported a failure */
	int err;	/* its errno */
	int wrong;	/* a result that is neither right nor an error */
	int updates;	/* updates main received */
	int pushed;	/* updates the task pushed, -1 if unknown */
	int works;	/* the orbit answered afterwards */
	int broken_at;	/* the line where the run could not go on */
	int broken_err;	/* and errno there */
};

static int fail_fd = -1;	/* main's /proc/thread-self/fail-nth */
static int task_fd = -1;	/* the orbit's, opened by its task */
static int report_fd = -1;
static int cur_step, cur_nth;
static struct res res;
static sigjmp_buf jb;

/* Sets this thread's fail-nth (fd: its file). */
static void arm(int fd, int nth)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%d", nth);

	if (pwrite(fd, b, len, 0) != len)
		_exit(90);
}

/*
 * 1 if the armed fault point was reached (fail-nth reads 0); disarms
 * otherwise.  A read that fails with EFAULT was the last point itself:
 * fail-nth was 1 when the read copied it out.
 */
static int disarm(int fd)
{
	char b[16] = "";
	int saved = errno;
	ssize_t r = pread(fd, b, sizeof(b) - 1, 0);
	long left = r > 0 ? strtol(b, NULL, 10) : 1;

	if (left && pwrite(fd, "0", 1, 0) != 1 && errno != EFAULT)
		_exit(91);
	errno = saved;
	return left == 0;
}

static void begin(int step)
{
	if (step == cur_step)
		arm(fail_fd, cur_nth);
}

static void end(int step, int failed)
{
	int saved = errno;

	if (step != cur_step)
		return;
	res.injected = disarm(fail_fd);
	res.failed = failed;
	res.err = failed ? saved : 0;
	errno = saved;
}

/* The run cannot go on: says where, and ends the process. */
#define broken() do { \
	res.broken_at = __LINE__; \
	res.broken_err = errno; \
	if (write(report_fd, &res, sizeof(res)) != sizeof(res)) \
		_exit(99); \
	_exit(0); \
} while (0)

/* The task's own fail-nth file: the orbit has none of main's files. */
static int task_fail_fd(void)
{
	if (task_fd < 0)
		task_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (task_fd < 0)
		_exit(89);
	return task_fd;
}


static long task(void *argbuf, void *store)
{
	struct farg *a = argbuf;
	struct orbit_update *u;
	long r, s, *p;
	int inj;

	switch (a->op) {
	case OP_SUM:
		return first_words_sum(a->vals, NPAGES);
	case OP_PUSH:
		u = orbit_update_create();
		if (!u || orbit_update_add_data(u, &a->expect, sizeof(a->expect)))
			return -100;
		if (a->nth)
			arm(task_fail_fd(), a->nth);
		r = orbit_push(u, NULL);
		inj = a->nth ? disarm(task_fail_fd()) : 0;
		if (r) {
			r = errno;
			orbit_update_free(u);
			return inj | r << 8;
		}
		if (a->poked)
			wait_sigusr1(5);	/* main pulled it: the end comes later */
		return inj | 2;
	case OP_PUSH_ARENA:
		/* main maps it at its address: an mmap of its own */
		u = orbit_update_create();
		p = u ? orbit_update_alloc(u, 3 * 4096) : NULL;
		if (!p)
			return -100;
		*p = a->expect;
		if (orbit_push(u, NULL))
			return -100;
		wait_sigusr1(5);
		return 2;
	case OP_VIEW:
		arm(task_fail_fd(), a->nth);
		/* Private copies of snapshot pages; faults in the rest. */
		a->vals[0]++;
		a->vals[5 * PAGE_LONGS]++;
		a->vals[9 * PAGE_LONGS]++;
		s = first_words_sum(a->vals, NPAGES) - 3;
		inj = disarm(task_fail_fd());
		return inj | (s == a->expect ? 2 : 0);
	case OP_ARM_RUN:
		/* for this RUN's result and next install */
		arm(task_fail_fd(), a->nth);
		return 0;
	case OP_ARMED:
		/* 1: the RUN reached no N-th point */
		return !disarm(task_fail_fd());
	case OP_CRASH:
		*(volatile long *)0 = 0;
		return -102;
	case OP_MODIFY:
		/* vals[1] := 77: not a word the sums read */
		r = 77;
		u = orbit_update_create();
		if (!u || orbit_update_add_modify(u, &a->vals[1], &r, sizeof(r)) ||
		    orbit_push(u, NULL))
			return -100;
		return 0;
	case OP_PUSH_LAST:
		u = orbit_update_create();
		if (!u || orbit_update_add_data(u, &a->expect, sizeof(a->expect)) ||
		    orbit_push_last(u))
			return -100;
		arm(task_fail_fd(), a->nth);	/* the RUN that sends it */
		return 7;
	}
	return -101;
}

static void on_sigbus(int sig)
{
	siglongjmp(jb, 1);
}

static pid_t life_pid;

/*
 * A SIGSEGV in the process that runs the life (not an orbit's crash,
 * which OP_CRASH asks for) says where, for addr2line, then kills it as
 * it would have: the instruction runs again without the handler.
 */
static void on_sigsegv(int sig, siginfo_t *si, void *uc)
{
	greg_t ip = ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
	char msg[128];
	int n;

	if (getpid() == life_pid) {
		n = snprintf(msg, sizeof(msg),
			     "    # SIGSEGV in main, step %d N=%d: addr %p ip %llx\n",
			     cur_step, cur_nth, si->si_addr,
			     (unsigned long long)ip);
		if (write(1, msg, n) < 0)
			_exit(96);
	}
	signal(SIGSEGV, SIG_DFL);
}

/* Writes i + 1 at the start of page i; 0, or E_SIGBUS. */
static int write_pages(long *vals)
{
	volatile int i;

	if (sigsetjmp(jb, 1))
		return E_SIGBUS;
	for (i = 0; i < NPAGES; i++)
		vals[i * PAGE_LONGS] = i + 1;
	return 0;
}

static struct orbit *create(const char *name)
{
	struct orbit_attr attr;

	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	return orbit_create_ex(name, task, init_blocking_sigusr1, &attr);
}

/* Sync calls of OP_SUM until one answers (a restart may come first). */
static int answers(struct orbit *ob, struct orbit_area *area, long *vals,
		   long expect)
{
	struct farg a = { .op = OP_SUM, .vals = vals };
	int i;

	for (i = 0; i < 3; i++)
		if (orbit_call(ob, 1, &area, NULL, &a, sizeof(a)) == expect)
			return 1;
	return 0;
}

/*
 * Pulls the call's updates until its end: how many, or -1 with errno.
 * poke: the orbit's process, sent SIGUSR1 after the first pull.
 */
static int pull_all(struct orbit_future *f, long *ret, pid_t poke)
{
	struct orbit_update *u;
	long r;
	int n = 0, err = 0;

	while ((r = pull_orbit(f, &u)) != 0) {
		if (poke > 0) {
			kill(poke, SIGUSR1);
			poke = 0;
		}
		if (r == 1) {
			n++;
			orbit_update_free(u);
		} else if (!err) {
			err = errno;
		} else {
			break;	/* twice: the second pull is unarmed */
		}
	}
	res.updates += n;
	if (orbit_future_get(f, ret))
		err = err ? err : errno;
	errno = err;
	return err ? -1 : n;
}

/* Main writes the pages as step (a SIGBUS fails it); again if it failed. */
static void write_step(int step, long *vals)
{
	int e;

	begin(step);
	e = write_pages(vals);
	errno = e;
	end(step, !!e);
	if (e && write_pages(vals))
		broken();
}

/* A sync call as step: the right sum, or -1 with errno. */
static void call_step(int step, struct orbit *ob, struct orbit_area *area,
		      void *arg, size_t size, long expect)
{
	long r;

	begin(step);
	r = orbit_call(ob, 1, &area, NULL, arg, size);
	end(step, r != expect);
	res.wrong |= cur_step == step && r != expect && r != -1;
}

/*
 * A call that holds the orbit while main queues others behind it: not
 * the orbit's entry, so no ORBIT_LATEST call of the entry cancels it
 * while it is still queued itself.
 */
static long wait_poke(void *argbuf, void *store)
{
	wait_sigusr1(5);
	return 2;
}

/* The end of a call queued as step: ECANCELED if cancelled, else the sum. */
static int queued_end_right(struct orbit_future *f, int cancelled,
			    int maybe, long expect)
{
	long r = 0;
	int e = orbit_future_get(f, &r);

	if (e && errno == ECANCELED)
		return cancelled || maybe;
	return !e && r == expect && !cancelled;
}

/*
 * A call waits in the orbit while another is queued behind it; step
 * cancels the queued one (ST_CANCEL) or queues an ORBIT_LATEST call that
 * replaces it (ST_LATEST).  Every call then ends as it should: a cancel
 * that failed leaves its call to run; a LATEST call that failed may or
 * may not have cancelled the one before.
 */
static void queue_step(int step, struct orbit *ob, struct orbit_area *area,
		       struct farg *a, long expect)
{
	struct orbit_future *f1, *f2, *f3 = NULL;
	struct orbit_status st;
	long r = 0;
	int e;

	if (orbit_status(ob, &st) || st.pid <= 0)
		broken();
	f1 = orbit_call_async(ob, 0, 1, &area, wait_poke, NULL, 0);
	a->op = OP_SUM;
	f2 = orbit_call_async(ob, 0, 1, &area, NULL, a, sizeof(*a));
	if (!f1 || !f2)
		broken();
	begin(step);
	if (step == ST_CANCEL) {
		e = orbit_cancel(f2);
	} else {
		f3 = orbit_call_async(ob, ORBIT_LATEST, 1, &area, NULL, a,
				      sizeof(*a));
		e = !f3;
	}
	end(step, !!e);
	kill(st.pid, SIGUSR1);
	if (orbit_future_get(f1, &r) || r != 2)
		res.wrong = 1;
	if (step == ST_CANCEL)
		res.wrong |= !queued_end_right(f2, !e, 0, expect);
	else
		res.wrong |= !queued_end_right(f2, !e, e, expect) ||
			     (f3 && !queued_end_right(f3, 0, 0, expect));
}

/* One run of the life of an orbit, cur_step's N-th point failing. */
static void life(void)
{
	static char big[65536];
	struct farg a = { .op = OP_SUM };
	struct orbit_update *u;
	struct orbit_status st;
	struct orbit_area *area;
	struct orbit_future *f;
	struct orbit *ob, *ob2;
	long r, expect, *vals;
	int e;

	begin(ST_FIRST);
	ob = create("fi");
	end(ST_FIRST, !ob);
	if (!ob)
		ob = create("fi");
	begin(ST_CREATE);
	ob2 = create("fi2");
	end(ST_CREATE, !ob2);
	if (ob2)
		orbit_destroy(ob2);

	begin(ST_AREA);
	area = ob ? orbit_area_create(NPAGES * 4096, ob) : NULL;
	end(ST_AREA, !area);
	if (!area && ob)
		area = orbit_area_create(NPAGES * 4096, ob);
	vals = area ? orbit_alloc(area, NPAGES * 4096) : NULL;
	if (!vals)
		broken();
	a.vals = vals;
	expect = NPAGES * (NPAGES + 1) / 2;

	write_step(ST_TOUCH, vals);

	call_step(ST_CALL, ob, area, &a, sizeof(a), expect);

	begin(ST_ASYNC);
	f = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
	e = !f || orbit_future_get(f, &r);
	end(ST_ASYNC, e || r != expect);
	res.wrong |= cur_step == ST_ASYNC && !e && r != expect;

	write_step(ST_REWRITE, vals);

	/*
	 * One update pushed, pulled before the call ends (the task waits
	 * for main's signal); main gets it once, armed pull or not.
	 */
	a.op = OP_PUSH;
	a.expect = expect;
	a.poked = 1;
	if (orbit_status(ob, &st) || st.pid <= 0)
		broken();
	f = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
	a.poked = 0;
	res.pushed = 1;
	if (f) {
		begin(ST_PULL);
		e = pull_all(f, &r, st.pid) < 0;
		end(ST_PULL, e);
		res.wrong |= cur_step == ST_PULL && !e && r != 2;
	}

	/* The same with arena memory, which main maps where it was built. */
	a.op = OP_PUSH_ARENA;
	f = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
	res.pushed += 1;
	if (f) {
		begin(ST_PULL_ARENA);
		e = pull_all(f, &r, st.pid) < 0;
		end(ST_PULL_ARENA, e);
		res.wrong |= cur_step == ST_PULL_ARENA && !e && r != 2;
	}

	/* A modification, applied whole or not at all. */
	a.op = OP_MODIFY;
	vals[1] = 0;
	u = NULL;
	f = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
	if (!f || pull_orbit(f, &u) != 1 || orbit_future_get(f, &r) || r)
		broken();
	begin(ST_APPLY);
	e = orbit_apply(u);
	end(ST_APPLY, !!e);
	res.wrong |= cur_step == ST_APPLY && vals[1] != (e ? 0 : 77);
	orbit_update_free(u);

	memcpy(big, &a, sizeof(a));
	((struct farg *)big)->op = OP_SUM;
	call_step(ST_BIGARG, ob, area, big, sizeof(big), expect);

	begin(ST_GLOBALS);
	e = orbit_sync_globals(ob);
	end(ST_GLOBALS, !!e);

	queue_step(ST_CANCEL, ob, area, &a, expect);
	queue_step(ST_LATEST, ob, area, &a, expect);

	/* The orbit-side steps: the task arms its own fail-nth. */
	if (cur_step == ST_O_VIEW) {
		/* A new area: its view has no copies of the orbit's yet. */
		struct orbit_area *area2 = orbit_area_create(NPAGES * 4096, ob);
		long *vals2 = area2 ? orbit_alloc(area2, NPAGES * 4096) : NULL;

		if (!vals2 || write_pages(vals2))
			broken();
		a.op = OP_VIEW;
		a.nth = cur_nth;
		a.vals = vals2;
		r = orbit_call(ob, 1, &area2, NULL, &a, sizeof(a));
		res.injected = r == -1 || (r & 1);
		res.failed = r == -1 || !(r & 2);
		res.err = r == -1 ? errno : 0;
		a.vals = vals;
		if (orbit_area_destroy(area2))
			broken();
	} else if (cur_step == ST_O_PUSH) {
		a.op = OP_PUSH;
		a.nth = cur_nth;
		res.updates = 0;	/* of this call only */
		f = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
		e = !f || pull_all(f, &r, 0) < 0;
		res.injected = e || (r & 1);
		res.failed = e || !(r & 2);
		res.err = e ? errno : r >> 8;
		res.pushed = e ? -1 : !!(r & 2);
	} else if (cur_step == ST_O_RUN) {
		a.op = OP_ARM_RUN;
		a.nth = cur_nth;
		r = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
		res.wrong = r != 0 && r != -1;
		a.op = OP_ARMED;
		r = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
		res.injected = r != 1;
		res.failed = r == -1;
		res.err = r == -1 ? errno : 0;
		res.wrong |= r != -1 && r != 0 && r != 1;
	} else if (cur_step == ST_O_LAST) {
		/* The update arrives with the result, or the call fails. */
		a.op = OP_PUSH_LAST;
		a.nth = cur_nth;
		res.updates = 0;
		f = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
		e = !f || pull_all(f, &r, 0) < 0;
		res.failed = e;
		res.err = e ? errno : 0;
		res.wrong = !e && r != 7;
		res.pushed = !e;
		a.op = OP_ARMED;
		r = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
		res.injected = e || r != 1;
	}
	a.op = OP_SUM;
	a.nth = 0;

	begin(ST_MODE);
	e = orbit_area_set_mode(area, ORBIT_AREA_MODE_COPY);
	end(ST_MODE, !!e);
	a.op = OP_SUM;
	call_step(ST_COPYCALL, ob, area, &a, sizeof(a), expect);

	/* A crash, then the call that brings the orbit back. */
	a.op = OP_CRASH;
	if (orbit_call(ob, 1, &area, NULL, &a, sizeof(a)) != -1 || errno != ESRCH)
		broken();
	a.op = OP_SUM;
	call_step(ST_RESPAWN, ob, area, &a, sizeof(a), expect);

	/* The same orbit answers after whatever failed. */
	res.works = answers(ob, area, vals, expect);
	begin(ST_DESTROY);
	e = orbit_area_destroy(area);
	e |= orbit_destroy(ob);
	end(ST_DESTROY, !!e);
	if (cur_step == ST_DESTROY) {
		/* A new pair works, whatever a failed destroy left. */
		ob = create("fi3");
		area = ob ? orbit_area_create(NPAGES * 4096, ob) : NULL;
		vals = area ? orbit_alloc(area, NPAGES * 4096) : NULL;
		if (!vals || write_pages(vals))
			broken();
		res.works = answers(ob, area, vals, expect);
		orbit_destroy(ob);
	}
}

/*
 * Grows the stack of the process that runs the life before any point is
 * armed: a stack that grows while one is takes the injected failure in
 * the kernel's own record of it (expand_downwards allocates maple tree
 * nodes, on 6.1 as on 6.12), and the fault then raises SIGSEGV in main,
 * which no step could report.  Touched from the top down, a page at a
 * time, so that each fault extends it by one page.
 */
static __attribute__((noinline)) void grow_stack(void)
{
	volatile char buf[STACK_RESERVE];
	long i;

	for (i = sizeof(buf) - 1; i >= 0; i -= 4096)
		buf[i] = 0;
}

/* Runs the life in a child with step's nth point failing. */
static int run(int step, int nth, struct res *out)
{
	int p[2], status;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	pid = fork_piped(p);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct sigaction sa = { .sa_sigaction = on_sigsegv,
					.sa_flags = SA_SIGINFO };

		life_pid = getpid();
		grow_stack();
		sigaction(SIGSEGV, &sa, NULL);
		signal(SIGBUS, on_sigbus);
		alarm(60);
		report_fd = p[1];
		fail_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
		if (fail_fd < 0)
			_exit(97);
		cur_step = step;
		cur_nth = nth;
		life();
		if (write(p[1], &res, sizeof(res)) != sizeof(res))
			_exit(98);
		_exit(0);
	}
	if (read(p[0], out, sizeof(*out)) != sizeof(*out))
		out->works = -1;
	close(p[0]);
	waitpid(pid, &status, 0);
	if (out->works < 0)
		diag("%s, N=%d: child status %#x", step_name[step], nth, status);
	else if (out->broken_at)
		diag("%s, N=%d: could not go on at line %d (errno %d)",
		     step_name[step], nth, out->broken_at, out->broken_err);
	return out->works < 0 || out->broken_at ? -1 : 0;
}

/* The errnos a failed allocation or user copy may give the steps. */
static int errno_named(int step, int err)
{
	switch (err) {
	case ENOMEM:
	case EFAULT:
		return 1;
	case ENFILE:	/* socketpair() to the spawner: no socket */
		return step == ST_FIRST || step == ST_CREATE;
	case ESRCH:	/* the orbit's RUN failed: it exits */
		return step == ST_O_RUN || step == ST_O_LAST;
	}
	return 0;
}

static void set(const char *dir, const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s", dir, file);
	require(write_file(path, val) == 0, "%s/%s = %s", dir, file, val);
}

int main(void)
{
	struct orbit_module_stats start;
	struct res r;
	int step;

	require(access("/proc/self/fail-nth", F_OK) == 0 ||
		access("/proc/thread-self/fail-nth", F_OK) == 0,
		"the kernel has fault injection (fail-nth)");
	if (access("/sys/kernel/debug/failslab", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	/* Sleeping allocations and user pages fail too; no log per failure. */
	set("failslab", "ignore-gfp-wait", "N");
	set("failslab", "verbose", "0");
	set("fail_page_alloc", "ignore-gfp-wait", "N");
	set("fail_page_alloc", "ignore-gfp-highmem", "N");
	set("fail_page_alloc", "min-order", "0");	/* single pages too */
	set("fail_page_alloc", "verbose", "0");
	set("fail_usercopy", "verbose", "0");
	require(orbit_module_stats(&start) == 0, "read module counters");

	for (step = 0; step < NSTEPS; step++) {
		int runs = 0, inj = 0, failed = 0, bad_err = 0, lost = 0;
		int broken = 0, wrong = 0, nomem = 0, fault = 0, other = 0;
		int nth, stride, points;

		/* How many points the step has, then N over them. */
		if (run(step, MAX_POINTS, &r) < 0 || r.injected || !r.works) {
			ok(0, "%s: a run with no failure completes", step_name[step]);
			continue;
		}
		points = 0;
		stride = 1;
		for (nth = 1; nth < MAX_POINTS; nth += stride) {
			if (run(step, nth, &r) < 0) {
				broken++;
				break;
			}
			runs++;
			if (!r.injected)
				break;
			points = nth;
			inj++;
			if (nth == MAX_RUNS / 2 && stride == 1)
				stride = 7;	/* a long step: sample the rest */
			failed += r.failed;
			if (r.failed && !errno_named(step, r.err)) {
				if (!bad_err)
					diag("%s, N=%d: errno %d", step_name[step],
					     nth, r.err);
				bad_err++;
			}
			nomem += r.failed && r.err == ENOMEM;
			fault += r.failed && r.err == EFAULT;
			other += r.failed && r.err != ENOMEM && r.err != EFAULT;
			if ((step == ST_PULL || step == ST_PULL_ARENA ||
			     step == ST_O_PUSH ||
			     step == ST_O_LAST) &&
			    r.pushed >= 0 && r.updates != r.pushed) {
				if (!lost)
					diag("%s, N=%d: %d updates of %d",
					     step_name[step], nth, r.updates,
					     r.pushed);
				lost++;
			}
			if (r.wrong && !wrong)
				diag("%s, N=%d: a wrong result", step_name[step],
				     nth);
			wrong += r.wrong;
			if (!r.works) {
				if (!broken)
					diag("%s, N=%d: the orbit did not answer after",
					     step_name[step], nth);
				broken++;
			}
			if (runs > 3 * MAX_RUNS)
				break;
		}
		ok(inj > 0 && !broken && !bad_err && !lost && !wrong &&
		   !r.injected,
		   "%s: %d of its ~%d fault points failed in turn: %d step failures (%d ENOMEM, %d EFAULT, %d other), %d bad errno, %d lost updates, %d wrong results, %d broken",
		   step_name[step], inj, points, failed, nomem, fault, other,
		   bad_err, lost, wrong, broken);
	}
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
