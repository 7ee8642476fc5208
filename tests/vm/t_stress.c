// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: several mains at once (root, and an unprivileged user), each
 * with threads that issue random sequences of orbit and area creation and
 * destruction (through the library, and raw destroys that race with the
 * library's own use of the ids), bindings, sync, async and
 * fire-and-forget calls, future gets, cancels, pushes pulled, checked and
 * applied (some built in update arena memory, some sent with the call's
 * end), tasks that crash, hang, unmap their views or take their time,
 * SIGKILLs of orbit processes, munmap of whole areas, snapshot mode
 * switches (COW, COPY, automatic), frees that give pages back to the
 * module (discard) and allocate them again, global variables copied to
 * orbits (orbit_sync_globals) that the next call must see, status queries
 * of orbits and of the module, fork children that try the inherited
 * handles, with random delays.  Half the calls first touch 40 more pages
 * of the area, so that their snapshots write-protect main's PTEs in one
 * walk (the module zaps fewer than 32) while all of the above goes on,
 * and every task reads those pages, so that installs map what changed in
 * the orbit's view and main's next writes unmap it from there.  Each main
 * ends by exiting cleanly, by _exit, by exec or by SIGKILL, and a new one
 * takes its place until the time is up (ORBIT_STRESS_SECS, default 60).
 *
 * Every result is checked against what the call's task saw or the
 * documented errnos; the module's counters must be back at their start
 * values at the end, and the harness fails the run on any kernel report.
 * A shared tally fails the run if a kind of operation that can fail
 * harmlessly (a cancel that came too late, say) never took effect.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "../../libuorbit/internal.h"	/* handles' ids, for raw destroys */
#include "tap.h"
#include "util.h"

#define MAINS		3	/* slots run at once; the last is unprivileged */
#define THREADS		4
#define ORBITS		3
#define AREAS		3
#define AREA_SIZE	(1 << 20)
#define SPREAD_PAGES	40	/* above the module's write-protect threshold */

/* ---- in the orbits ------------------------------------------------------ */

struct targ {
	long *obj;	/* the calling thread's object in an area */
	long want;	/* what it holds at the call */
	int what;	/* TASK_* */
	const char *spread;	/* the area's spread pages, read by the task */
	int arena;		/* TASK_PUSH: a list in update arena memory */
	int last;		/* TASK_PUSH: orbit_push_last */
};

/* A pushed update's data entry; list, if any, in the update's arena memory. */
struct node {
	long v;
	const struct node *next;
};

struct pushed {
	long v;			/* what the task saw */
	const struct node *list;	/* v, then ~v in a 3-page block */
};

enum {
	TASK_CHECK, TASK_PUSH, TASK_CRASH, TASK_HANG, TASK_UNMAP, TASK_SLOW
};

static long bumped;
/* Each thread's global, which orbit_sync_globals copies to an orbit. */
static long global[THREADS];

static long bump(void *arg)
{
	bumped++;
	return 0;
}

static long task(void *argbuf, void *store)
{
	struct targ *a = argbuf;
	struct orbit_update *u;
	struct pushed p;
	long v, one = 1;
	int i;

	/*
	 * Reading the spread pages has the orbit's view map their blocks,
	 * so that installs map changed pages and main's writes unmap them
	 * from the view while all the rest goes on.
	 */
	for (i = 0; a->spread && i < SPREAD_PAGES; i++)
		(void)((const volatile char *)a->spread)[i * 4096];
	switch (a->what) {
	case TASK_CRASH:
		return *(volatile long *)0;
	case TASK_HANG:
		for (;;)
			;
	case TASK_UNMAP:
		munmap((void *)((uintptr_t)a->obj & ~(uintptr_t)(AREA_SIZE - 1)),
		       AREA_SIZE);
		return 0;
	case TASK_SLOW:
		usleep(20000);
		break;
	case TASK_PUSH:
		u = orbit_update_create();
		p.v = v = *a->obj;
		p.list = NULL;
		if (u && a->arena) {
			struct node *n1 = orbit_update_alloc(u, sizeof(*n1));
			struct node *n2 = orbit_update_alloc(u, 3 * 4096);

			if (!n1 || !n2) {
				orbit_update_free(u);
				return -1000 - errno;
			}
			*n2 = (struct node){ ~v, NULL };
			*n1 = (struct node){ v, n2 };
			p.list = n1;
		}
		if (!u || orbit_update_add_data(u, &p, sizeof(p)) ||
		    orbit_update_add_modify(u, a->obj + 1, &one, sizeof(one)) ||
		    orbit_update_add_operation(u, bump, NULL) ||
		    (a->last ? orbit_push_last(u) : orbit_push(u, NULL))) {
			orbit_update_free(u);
			return -1000 - errno;
		}
		return v;
	}
	return *a->obj;
}

/* ---- one main --------------------------------------------------------------- */

struct oslot {
	pthread_mutex_t lock;
	struct orbit *ob;
	int timeout;		/* its calls may hang */
};

struct aslot {
	pthread_rwlock_t lock;	/* write: replace, unmap; read: use memory */
	struct orbit_area *area;
	int unmapped;		/* main unmapped it: no memory to touch */
	long *obj[THREADS];	/* each thread's object (two longs) */
	char *spread;		/* SPREAD_PAGES pages, touched by some calls */
};

/* What the mains did that must have happened (shared across them). */
enum {
	DID_CANCEL, DID_MODE, DID_FREE, DID_GLOBAL, DID_ARENA, DID_LAST,
	DID_STATUS, DID_N
};
static long *did;

static void count(int what)
{
	__atomic_fetch_add(&did[what], 1, __ATOMIC_RELAXED);
}

static struct oslot os[ORBITS];
static struct aslot as[AREAS];
static int me;			/* which main (names its orbits) */
static double deadline;
static volatile int failures;
static unsigned int seed0;

static unsigned int rnd(unsigned int *s, unsigned int n)
{
	return n ? (unsigned int)rand_r(s) % n : 0;
}

#define FAIL(...) do { \
	if (__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED) < 10) { \
		printf("    # main %d: ", me); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		fflush(stdout); \
	} \
} while (0)

/* errno after a failed call is one the manual documents for it. */
static int call_errno_ok(int err)
{
	return err == ESRCH || err == ETIMEDOUT || err == ENOENT ||
	       err == EAGAIN || err == EDQUOT;
}

static struct orbit *new_orbit(unsigned int *s, int k, int *timeout)
{
	struct orbit_attr attr;
	char name[16];

	orbit_attr_init(&attr);
	attr.restart = rnd(s, 4) ? ORBIT_RESTART_ALWAYS : ORBIT_RESTART_NEVER;
	*timeout = rnd(s, 3) == 0;
	if (*timeout)
		attr.timeout_ns = 300 * 1000000ULL;
	snprintf(name, sizeof(name), "st%d-o%d", me, k);
	return orbit_create_ex(name, task, NULL, &attr);
}

/* Raw destroy of an id the library still uses: races on purpose. */
static void raw_destroy(unsigned long cmd, uint32_t id)
{
	struct orbit_ref ref = { .id = id };
	int fd = fd_linked_to("/dev/orbit");

	if (fd >= 0)
		ioctl(fd, cmd, &ref);
}

/* A pulled update of TASK_PUSH: what the task saw, its list intact. */
static void check_pushed(const struct orbit_update *u, const struct targ *arg)
{
	long want = arg->want;
	const struct orbit_update_entry *e = orbit_update_first(u);
	const struct node *n;
	struct pushed p;

	while (e && e->type == ORBIT_UPDATE_ARENA)	/* the list's blocks */
		e = orbit_update_next(u, e);
	if (!e || e->type != ORBIT_UPDATE_DATA || e->len != sizeof(p)) {
		FAIL("pushed update: no data entry after its arena blocks");
		return;
	}
	memcpy(&p, e->data, sizeof(p));
	n = p.list;
	if (p.v != want)
		FAIL("pushed %ld, main had %ld at the call", p.v, want);
	else if (n && (n->v != want || !n->next || n->next->v != ~want ||
		       n->next->next))
		FAIL("pushed list in arena memory: not as built");
	else if (n)
		count(DID_ARENA);
	if (arg->last)
		count(DID_LAST);
}

/* A call on the thread's object in area a; checks what comes back. */
static void do_call(unsigned int *s, long t, int what)
{
	struct oslot *o = &os[rnd(s, ORBITS)];
	struct aslot *a = &as[rnd(s, AREAS)];
	struct orbit_update *u;
	struct orbit_future *f;
	struct orbit_area *area;
	struct targ arg;
	long ret;
	int sync = rnd(s, 2), cancelled = 0, err, i;

	pthread_rwlock_rdlock(&a->lock);
	area = a->area;
	if (!area || a->unmapped || !a->obj[t]) {
		pthread_rwlock_unlock(&a->lock);
		return;
	}
	pthread_mutex_lock(&o->lock);
	if (what == TASK_HANG && !o->timeout)
		what = TASK_SLOW;	/* only orbits with a timeout may hang */
	arg.obj = a->obj[t];
	arg.want = ++*arg.obj;
	arg.spread = a->spread;
	if (a->spread && rnd(s, 2))
		for (i = 0; i < SPREAD_PAGES; i++)
			__atomic_fetch_add(&a->spread[i * 4096], 1,
					   __ATOMIC_RELAXED);
	arg.what = what;
	arg.arena = rnd(s, 2);
	arg.last = rnd(s, 2);
	if (!o->ob) {
		pthread_mutex_unlock(&o->lock);
		pthread_rwlock_unlock(&a->lock);
		return;
	}
	if (what == TASK_CHECK && rnd(s, 5) == 0) {
		f = orbit_call_async(o->ob, ORBIT_NOFUTURE, 1, &area, NULL,
				     &arg, sizeof(arg));
		if (errno && !call_errno_ok(errno))
			FAIL("fire-and-forget call: %s", strerror(errno));
		pthread_mutex_unlock(&o->lock);
		pthread_rwlock_unlock(&a->lock);
		return;
	}
	if (sync) {
		ret = orbit_call(o->ob, 1, &area, NULL, &arg, sizeof(arg));
		err = errno;
		f = NULL;
	} else {
		f = orbit_call_async(o->ob, 0, 1, &area, NULL, &arg,
				     sizeof(arg));
		err = errno;
		ret = -1;
	}
	pthread_mutex_unlock(&o->lock);
	/* Main changes its object right after the call: the task must not see it. */
	*arg.obj += 100;
	pthread_rwlock_unlock(&a->lock);

	if (!sync && f) {
		/* A cancel wins only before the task starts (ECANCELED). */
		if (rnd(s, 8) == 0) {
			cancelled = orbit_cancel(f) == 0;
			if (!cancelled && errno != EBUSY && errno != EALREADY &&
			    errno != ENOENT)
				FAIL("orbit_cancel: %s", strerror(errno));
		}
		if (what == TASK_PUSH && rnd(s, 2)) {
			/*
			 * Applying writes main's memory: like any write, not
			 * while another thread unmaps it (the module checks the
			 * target, then the library writes it).
			 */
			pthread_rwlock_rdlock(&a->lock);
			while (pull_orbit(f, &u) == 1) {
				check_pushed(u, &arg);
				err = a->area == area && !a->unmapped ?
				      orbit_apply(u) : 0;
				if (err && errno != EFAULT && errno != ENOENT)
					FAIL("apply: %s", strerror(errno));
				orbit_update_free(u);
			}
			pthread_rwlock_unlock(&a->lock);
		}
		err = orbit_future_get(f, &ret) ? errno : 0;
		if (err)
			ret = -1;
		if (cancelled && err == ECANCELED)
			count(DID_CANCEL);
	} else if (!sync && !f && !call_errno_ok(err)) {
		FAIL("async call: %s", strerror(err));
		return;
	} else if (sync && ret >= 0 && what == TASK_PUSH) {
		while (pull_orbit(NULL, &u) == 1) {
			check_pushed(u, &arg);
			orbit_update_free(u);
		}
	}
	if (ret == -1 && err) {
		if (!call_errno_ok(err) && !(what == TASK_UNMAP && err == EFAULT) &&
		    !(cancelled && err == ECANCELED))
			FAIL("call: %s", strerror(err));
		return;
	}
	if ((what == TASK_CHECK || what == TASK_PUSH || what == TASK_SLOW) &&
	    ret != arg.want)
		FAIL("task %d saw %ld, main had %ld at the call", what, ret,
		     arg.want);
}

static void do_orbit_churn(unsigned int *s)
{
	int k = (int)rnd(s, ORBITS);
	struct oslot *o = &os[k];
	struct orbit *old;
	uint32_t id = 0;

	pthread_mutex_lock(&o->lock);
	if (o->ob && rnd(s, 3) == 0) {
		id = o->ob->id;
		pthread_mutex_unlock(&o->lock);
		raw_destroy(ORBIT_IOC_DESTROY, id);	/* the handle stays */
		return;
	}
	old = o->ob;
	o->ob = NULL;
	if (old && orbit_destroy(old) && errno != ENOENT)
		FAIL("orbit_destroy: %s", strerror(errno));
	o->ob = new_orbit(s, k, &o->timeout);
	if (!o->ob && errno != EMFILE && errno != EDQUOT)
		FAIL("orbit_create: %s", strerror(errno));
	pthread_mutex_unlock(&o->lock);
}

static void do_area_churn(unsigned int *s)
{
	struct aslot *a = &as[rnd(s, AREAS)];
	struct oslot *o = &os[rnd(s, ORBITS)];
	int t, how = (int)rnd(s, 6);

	pthread_rwlock_wrlock(&a->lock);
	if (a->area && how == 0 && !a->unmapped) {
		/* Main may unmap a whole area; its calls still snapshot it. */
		if (munmap(orbit_area_base(a->area), orbit_area_size(a->area)))
			FAIL("munmap of an area: %s", strerror(errno));
		a->unmapped = 1;
	} else if (a->area && how == 1) {
		raw_destroy(ORBIT_IOC_AREA_DESTROY, a->area->id);
	} else if (a->area && how == 2) {
		pthread_mutex_lock(&o->lock);
		if (o->ob && orbit_area_bind(a->area, o->ob) && errno != ENOENT)
			FAIL("orbit_area_bind: %s", strerror(errno));
		pthread_mutex_unlock(&o->lock);
	} else {
		if (a->area && orbit_area_destroy(a->area) && errno != ENOENT)
			FAIL("orbit_area_destroy: %s", strerror(errno));
		a->area = orbit_area_create_ex(AREA_SIZE, AREA_SIZE, rnd(s, 3) ?
					       0 : ORBIT_AREA_MODE_COPY, NULL);
		a->unmapped = 0;
		if (!a->area && errno != EMFILE && errno != ENOSPC &&
		    errno != EDQUOT)
			FAIL("orbit_area_create: %s", strerror(errno));
		for (t = 0; t < THREADS; t++)
			a->obj[t] = a->area ? orbit_alloc(a->area, 16) : NULL;
		a->spread = a->area ? orbit_alloc(a->area,
						  SPREAD_PAGES * 4096) : NULL;
	}
	pthread_rwlock_unlock(&a->lock);
}

/* A snapshot mode switch while other threads write the area, call with it. */
static void do_area_mode(unsigned int *s)
{
	static const unsigned int modes[] = {
		0, ORBIT_AREA_MODE_COPY, ORBIT_AREA_MODE_COW
	};
	struct aslot *a = &as[rnd(s, AREAS)];

	pthread_rwlock_rdlock(&a->lock);
	if (a->area) {
		if (!orbit_area_set_mode(a->area, modes[rnd(s, 3)]))
			count(DID_MODE);
		else if (errno != ENOENT)
			FAIL("orbit_area_set_mode: %s", strerror(errno));
	}
	pthread_rwlock_unlock(&a->lock);
}

/*
 * The spread pages freed, which gives them back to the module (a
 * discard), and allocated again.
 */
static void do_spread_free(unsigned int *s)
{
	struct aslot *a = &as[rnd(s, AREAS)];

	pthread_rwlock_wrlock(&a->lock);
	if (a->area && !a->unmapped && a->spread) {
		orbit_free(a->area, a->spread);
		a->spread = orbit_alloc(a->area, SPREAD_PAGES * 4096);
		count(DID_FREE);
	}
	pthread_rwlock_unlock(&a->lock);
}

/*
 * The thread's global changed and copied to an orbit: a call issued after
 * the copy reads it (the orbit's copy of the global) as main wrote it.
 */
static void do_globals(unsigned int *s, long t)
{
	struct oslot *o = &os[rnd(s, ORBITS)];
	struct targ arg = { .obj = &global[t], .what = TASK_CHECK };
	long ret;

	pthread_mutex_lock(&o->lock);
	if (!o->ob) {
		pthread_mutex_unlock(&o->lock);
		return;
	}
	arg.want = ++global[t];
	if (orbit_sync_globals(o->ob)) {
		if (errno != ESRCH && errno != ENOENT && errno != EMFILE &&
		    errno != EDQUOT)
			FAIL("orbit_sync_globals: %s", strerror(errno));
		pthread_mutex_unlock(&o->lock);
		return;
	}
	ret = orbit_call(o->ob, 0, NULL, NULL, &arg, sizeof(arg));
	if (ret == -1 && !call_errno_ok(errno))
		FAIL("call after orbit_sync_globals: %s", strerror(errno));
	else if (ret != -1 && ret != arg.want)
		FAIL("task saw global %#lx, main had %#lx at the copy", ret,
		     arg.want);
	else if (ret != -1)
		count(DID_GLOBAL);
	pthread_mutex_unlock(&o->lock);
}

/* An orbit's status and the module's counters, while all the rest goes on. */
static void do_status(unsigned int *s)
{
	struct oslot *o = &os[rnd(s, ORBITS)];
	struct orbit_module_stats ms;
	struct orbit_status st;

	pthread_mutex_lock(&o->lock);
	if (o->ob && orbit_status(o->ob, &st) == 0) {
		if (st.state > ORBIT_STATUS_DEAD || st.id != o->ob->id)
			FAIL("orbit_status: state %d, id %u of orbit %u",
			     (int)st.state, st.id, o->ob->id);
		else
			count(DID_STATUS);
	} else if (o->ob && errno != ENOENT) {
		FAIL("orbit_status: %s", strerror(errno));
	}
	pthread_mutex_unlock(&o->lock);
	if (orbit_module_stats(&ms))
		FAIL("orbit_module_stats: %s", strerror(errno));
}

/* SIGKILL to one of this main's orbit processes. */
static void do_kill_orbit(unsigned int *s)
{
	char name[16];
	pid_t pid;

	snprintf(name, sizeof(name), "st%d-o%u", me, rnd(s, ORBITS));
	if (procs_named(name, &pid) > 0)
		kill(pid, SIGKILL);
}

/* A fork child: the parent's handles are not its own; its own work. */
static void do_fork(unsigned int *s)
{
	struct oslot *o = &os[rnd(s, ORBITS)];
	int status;
	pid_t pid;

	pthread_mutex_lock(&o->lock);
	pid = fork();
	if (pid == 0) {
		struct orbit *mine;
		struct targ arg = { .obj = &(long){ 5 }, .want = 5,
				    .what = TASK_CHECK };

		if (o->ob && (orbit_call(o->ob, 0, NULL, NULL, &arg,
					 sizeof(arg)) != -1 || errno != EBADF))
			_exit(1);
		mine = orbit_create("st-forked", task, NULL);
		if (!mine)
			_exit(errno == EMFILE || errno == EDQUOT ? 0 : 2);
		/* Not its area: the task gets a pointer it cannot read. */
		if (rnd(s, 2))
			_exit(0);	/* no cleanup */
		orbit_destroy(mine);
		_exit(0);
	}
	pthread_mutex_unlock(&o->lock);
	if (pid > 0 && waitpid(pid, &status, 0) == pid &&
	    !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		FAIL("fork child: status %d", status);
}

static void *worker(void *p)
{
	long t = (long)p;
	unsigned int s = seed0 * 31 + (unsigned int)t;

	while (now_us() < deadline) {
		unsigned int op = rnd(&s, 100);

		if (op < 35)
			do_call(&s, t, TASK_CHECK);
		else if (op < 50)
			do_call(&s, t, TASK_PUSH);
		else if (op < 53)
			do_call(&s, t, TASK_CRASH);
		else if (op < 55)
			do_call(&s, t, TASK_HANG);
		else if (op < 57)
			do_call(&s, t, TASK_UNMAP);
		else if (op < 62)
			do_call(&s, t, TASK_SLOW);
		else if (op < 72)
			do_orbit_churn(&s);
		else if (op < 82)
			do_area_churn(&s);
		else if (op < 85)
			do_kill_orbit(&s);
		else if (op < 86)
			do_fork(&s);
		else if (op < 89 && rnd(&s, 2))
			do_area_mode(&s);
		else if (op < 89)
			do_spread_free(&s);
		else if (op < 91)
			do_globals(&s, t);
		else if (op < 92)
			do_status(&s);
		else
			usleep(rnd(&s, 2000));
	}
	return NULL;
}

enum { END_EXIT, END__EXIT, END_EXEC, END_KILLED };

/* A main that faults says where, and what was mapped there, then dies. */
static void main_fault(int sig, siginfo_t *si, void *uc)
{
	char line[256], buf[512];
	uintptr_t a = (uintptr_t)si->si_addr;
	FILE *f = fopen("/proc/self/maps", "r");
	int n;

	n = snprintf(buf, sizeof(buf), "    # main %d: signal %d code %d at %#lx\n",
		     me, sig, si->si_code, (unsigned long)a);
	if (write(1, buf, (size_t)n) < 0)
		_exit(99);
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    a >= lo - (1 << 22) && a < hi + (1 << 22)) {
			n = snprintf(buf, sizeof(buf), "    #   %s", line);
			if (write(1, buf, (size_t)n) < 0)
				break;
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One main: runs until its slice ends, then ends as told. */
static int run_main(int slot, int uid, double secs, int how)
{
	pthread_t th[THREADS];
	struct sigaction sa;
	long t;
	int i;

	if (uid && (setgid(uid) || setuid(uid)))
		return 100;
	me = slot;
	seed0 = (unsigned int)getpid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = main_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	deadline = now_us() + secs * 1e6;
	for (i = 0; i < ORBITS; i++) {
		pthread_mutex_init(&os[i].lock, NULL);
		os[i].ob = new_orbit(&seed0, i, &os[i].timeout);
	}
	for (i = 0; i < AREAS; i++)
		pthread_rwlock_init(&as[i].lock, NULL);
	for (t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)t);
	if (how == END_KILLED)
		for (;;)
			pause();	/* the driver kills us mid-work */
	if (how == END__EXIT || how == END_EXEC) {
		usleep((useconds_t)(secs * 1e6));
		if (how == END_EXEC)
			execl("/bin/true", "true", (char *)NULL);
		_exit(failures ? 1 : 0);
	}
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (i = 0; i < ORBITS; i++)
		if (os[i].ob)
			orbit_destroy(os[i].ob);
	for (i = 0; i < AREAS; i++)
		if (as[i].area)
			orbit_area_destroy(as[i].area);
	return failures ? 1 : 0;
}

int main(void)
{
	struct orbit_module_stats start;
	const char *env = getenv("ORBIT_STRESS_SECS");
	double secs = env && atof(env) > 0 ? atof(env) : 60, end;
	pid_t slot_pid[MAINS] = { 0 };
	double kill_at[MAINS];
	int slot_how[MAINS], bad = 0, runs = 0, status, i;
	unsigned int s = 777;

	did = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	require(did != MAP_FAILED, "map the mains' tally");
	require(orbit_module_stats(&start) == 0, "read module counters");
	/* Orbits of killed mains: their orphans are ours to reap. */
	signal(SIGCHLD, SIG_DFL);
	end = now_us() + secs * 1e6;
	while (now_us() < end) {
		for (i = 0; i < MAINS; i++) {
			double slice = 1 + rnd(&s, 4);

			if (slot_pid[i])
				continue;
			slot_how[i] = (int)rnd(&s, 4);
			slot_pid[i] = fork();
			if (slot_pid[i] == 0)
				_exit(run_main(i, i == MAINS - 1 ? 1000 : 0,
					       slice, slot_how[i]));
			runs++;
			kill_at[i] = now_us() + slice * 1e6;
		}
		for (i = 0; i < MAINS; i++) {
			if (slot_pid[i] && slot_how[i] == END_KILLED &&
			    now_us() >= kill_at[i])
				kill(slot_pid[i], SIGKILL);
			if (!slot_pid[i] ||
			    waitpid(slot_pid[i], &status, WNOHANG) <= 0)
				continue;
			if (slot_how[i] == END_KILLED ?
			    !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL :
			    !WIFEXITED(status) || WEXITSTATUS(status)) {
				bad++;
				diag("main %d (end %d) ended with status %#x",
				     i, slot_how[i], status);
			}
			slot_pid[i] = 0;
		}
		usleep(20000);
	}
	for (i = 0; i < MAINS; i++) {
		if (!slot_pid[i])
			continue;
		if (slot_how[i] == END_KILLED)
			kill(slot_pid[i], SIGKILL);
		waitpid(slot_pid[i], &status, 0);
		if (slot_how[i] == END_KILLED ?
		    !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL :
		    !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	ok(runs >= MAINS && !bad, "%d mains over %.0f s, every result as documented (%d did not)",
	   runs, secs, bad);
	ok(did[DID_CANCEL] && did[DID_MODE] && did[DID_FREE] &&
	   did[DID_GLOBAL] && did[DID_ARENA] && did[DID_LAST] &&
	   did[DID_STATUS],
	   "queued calls cancelled (%ld), mode switches (%ld), spread pages freed and allocated again (%ld), globals copied and seen (%ld), updates in arena memory pulled intact (%ld), updates sent with the end pulled (%ld), status queries (%ld)",
	   did[DID_CANCEL], did[DID_MODE], did[DID_FREE], did[DID_GLOBAL],
	   did[DID_ARENA], did[DID_LAST], did[DID_STATUS]);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
