// SPDX-License-Identifier: GPL-2.0
/*
 * A memory error in a page of an area (memory_failure, as a machine
 * check would report it; injected as root through
 * /sys/devices/system/memory/hard_offline_page or MADV_HWPOISON):
 * the kernel marks the page but cannot unmap a module page, and a fault
 * that handed the marked page to the core with VM_FAULT_LOCKED made the
 * core unmap it through its (absent) mapping: a NULL dereference, the
 * kernel's oops, on the next fault of any main on a hole after an error
 * in the zero page.  Now:
 *  - an error in the zero page loses nothing: main's next reads of holes
 *    (this area's and a new area's) read zeros, and a task's too;
 *  - an error in a page main wrote loses it: main's next fault there
 *    gets SIGBUS (BUS_MCEERR_AR), as for a file's page; calls go on;
 *  - an error in a page the area's pool holds unused (kept, or in its
 *    run of fresh pages) loses nothing: the pool hands it to no one;
 *  - the task never reads a marked page of the snapshot: its read gets
 *    SIGBUS (BUS_MCEERR_AR), as main's would;
 *  - the module never copies a marked page (a copy in the kernel that
 *    reads a bad page is a fatal machine check): in a page a snapshot
 *    froze, or in a COPY-mode area, main's next fault there gets SIGBUS;
 *  - an update whose page is marked before main pulls it is lost: the
 *    pull fails with EHWPOISON (its copy would read the page), also
 *    once the orbit is killed; never pulled, it is freed;
 *  - everything is freed when the area goes.
 * Run in a child each, whose exit status says how far it got.  Debian's
 * 6.1 cloud kernel handles no memory errors (CONFIG_MEMORY_FAILURE off):
 * there the test checks that nothing can mark a page.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>

#include "tap.h"
#include "sigbus.h"
#include "util.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON	100
#endif

#define PG	4096
#define HARD_OFFLINE	"/sys/devices/system/memory/hard_offline_page"

/* The task: the sum of the first byte of pages [from, from + 8). */
static long reader(void *argbuf, void *store)
{
	volatile char *p = *(char **)argbuf;
	long sum = 0;
	int i;

	for (i = 0; i < 8; i++)
		sum += p[i * PG];
	return sum;
}

/* The task: the first byte of the page at. */
static long one_reader(void *argbuf, void *store)
{
	return **(volatile char **)argbuf;
}

/* Is the frame marked with a memory error (/proc/kpageflags)? */
static int frame_poisoned(uint64_t pfn)
{
	uint64_t flags = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);
	int got = fd >= 0 && pread(fd, &flags, sizeof(flags),
				   pfn * sizeof(flags)) == sizeof(flags);

	if (fd >= 0)
		close(fd);
	return got && (flags >> 19 & 1);	/* KPF_HWPOISON */
}

/*
 * Reports an error in frame pfn through hard_offline_page: 1 if marked,
 * else the errno (ENOENT: this kernel handles no memory errors).
 * memory_failure marks a module page, then fails (EBUSY: it cannot
 * handle it), so the mark is what counts.
 */
static int poison_pfn(uint64_t pfn)
{
	char buf[32];
	int err = 0;

	if (!pfn)
		return EINVAL;	/* not mapped: nothing to mark */
	snprintf(buf, sizeof(buf), "%#llx", (unsigned long long)pfn << 12);
	if (write_file(HARD_OFFLINE, buf))
		err = errno;
	if (frame_poisoned(pfn))
		return 1;
	return err ? err : EIO;
}

/*
 * Reports a memory error in the page main maps at p (mapped, read):
 * 1 if the kernel marked it; 0 if this kernel handles no memory errors
 * (CONFIG_MEMORY_FAILURE off, as in Debian's 6.1 cloud kernel: no
 * hard_offline_page, MADV_HWPOISON unknown); -1 if it refused otherwise.
 */
static int poison(volatile char *p)
{
	uint64_t pfn;
	int e1, e2 = 0;

	(void)*p;
	pfn = pfn_of((const void *)p);
	if (!pfn)
		return -1;
	e1 = poison_pfn(pfn);
	if (e1 == 1)
		return 1;
	if (madvise((void *)p, PG, MADV_HWPOISON))
		e2 = errno;
	if (frame_poisoned(pfn))
		return 1;
	printf("    # not marked: hard_offline_page %s, MADV_HWPOISON %s\n",
	       strerror(e1), strerror(e2));
	return e1 == ENOENT && e2 == EINVAL ? 0 : -1;
}

/* poison(p), or the case's exit: 2 no memory-failure handling, 3 refused. */
static void poison_or_exit(volatile char *p)
{
	switch (poison(p)) {
	case 0:
		_exit(2);
	case -1:
		_exit(3);
	}
}

/* A case's exit for poison_pfn's ret other than 1, as in poison_or_exit. */
static int poison_pfn_exit_code(int ret)
{
	return ret == ENOENT ? 2 : 3;
}

/* poison_pfn(pfn), or the case's exit. */
static void poison_pfn_or_exit(uint64_t pfn)
{
	int ret = poison_pfn(pfn);

	if (ret != 1)
		_exit(poison_pfn_exit_code(ret));
}

struct env {
	struct orbit *ob;
	struct orbit_area *a;
	char *p;
};

static void env_up(struct env *e)
{
	int i;

	sigbus_catch();
	e->ob = orbit_create("memfail", reader, NULL);
	e->a = e->ob ? orbit_area_create(1 << 20, e->ob) : NULL;
	if (!e->a)
		_exit(10);
	e->p = orbit_area_base(e->a);
	for (i = 0; i < 8; i++)
		e->p[i * PG] = 1;
	if (orbit_call(e->ob, 1, &e->a, NULL, &e->p, sizeof(e->p)) != 8)
		_exit(11);
}

static long call_at(struct env *e, char *at)
{
	return orbit_call(e->ob, 1, &e->a, NULL, &at, sizeof(at));
}

/* An error in the zero page main maps at a hole. */
static void zero_page_case(void)
{
	struct env e, e2;
	long v = -1;

	env_up(&e);
	poison_or_exit(e.p + 16 * PG);
	/* Fresh faults on holes: this area's, and a new area's. */
	if (sigbus_read(e.p + 17 * PG, &v) || v)
		_exit(20);
	env_up(&e2);
	if (sigbus_read(e2.p + 16 * PG, &v) || v)
		_exit(21);
	/* The task reads holes (from 16 on) and writes nothing. */
	if (call_at(&e, e.p + 16 * PG) != 0 || call_at(&e2, e2.p + 16 * PG))
		_exit(22);
	e.p[18 * PG] = 5;	/* a hole's first write */
	if (call_at(&e, e.p + 16 * PG) != 5)
		_exit(23);
	orbit_area_destroy(e.a);
	orbit_area_destroy(e2.a);
	orbit_destroy(e.ob);
	orbit_destroy(e2.ob);
	_exit(0);
}

/*
 * An error in a page main wrote: after the snapshot froze it, main's read
 * in poison() gives main its own copy (a page written before the last
 * snapshot is copied at its first read), which is the page marked.
 */
static void data_page_case(void)
{
	struct env e;
	long v = -1;
	int code;

	env_up(&e);
	poison_or_exit(e.p);
	/* Main's next fault on it: its PTE zapped, then a read. */
	if (madvise(e.p, PG, MADV_DONTNEED))
		_exit(30);
	code = sigbus_read(e.p, &v);
	if (code != BUS_MCEERR_AR)
		_exit(31);
	/* Calls go on; main's other pages are intact. */
	if (call_at(&e, e.p + PG) < 0)
		_exit(32);
	if (sigbus_read(e.p + PG, &v) || v != 1)
		_exit(33);
	orbit_area_destroy(e.a);
	orbit_destroy(e.ob);
	_exit(0);
}

/* Module counters: copies of pages made so far (both kinds). */
static uint64_t copies_made(void)
{
	struct orbit_module_stats st;

	if (orbit_module_stats(&st))
		_exit(49);
	return st.cow_faults + st.copy_pages;
}

/*
 * An error in a page a snapshot froze: the tree's page, which main and
 * the snapshot share until main's next fault there copies it.  The copy
 * would read the bad page in the kernel (a machine check there is
 * fatal): the module makes none, and main's fault gets SIGBUS
 * (BUS_MCEERR_AR), as for a page it wrote itself.  Calls go on.
 */
static void frozen_page_case(void)
{
	struct env e;
	uint64_t before, frame;
	long v = -1;
	char *at;

	env_up(&e);
	at = e.p + 20 * PG;
	*at = 3;
	frame = pfn_of(at);
	if (call_at(&e, e.p + 16 * PG) != 3)	/* froze it */
		_exit(60);
	poison_pfn_or_exit(frame);
	before = copies_made();
	if (madvise(at, PG, MADV_DONTNEED))
		_exit(61);
	if (sigbus_read(at, &v) != BUS_MCEERR_AR || copies_made() != before)
		_exit(62);
	if (sigbus_touch(at, 0, 1, 4) != 0 || copies_made() != before)
		_exit(63);
	if (call_at(&e, e.p) != 8)
		_exit(64);
	orbit_area_destroy(e.a);
	orbit_destroy(e.ob);
	_exit(0);
}

/*
 * An error in a page a snapshot froze that main still maps, read-only (a
 * freeze of 32 dirty pages or more write-protects them rather than zap
 * them): main's next write there gets SIGBUS, rather than go on writing
 * a page whose contents are lost.  Likewise where main's write to
 * another page of its block would take that page's first write too
 * (write fault-around: write_around pages, 16 by default, that main
 * wrote in the last interval).
 */
static void write_protected_case(void)
{
	struct env e;
	uint64_t frame, frame2;
	char *at;
	int i;

	env_up(&e);
	for (i = 32; i < 96; i++)
		e.p[i * PG] = 1;
	at = e.p + 40 * PG;
	frame = pfn_of(at);
	frame2 = pfn_of(at + PG);
	if (call_at(&e, e.p + 32 * PG) != 8)
		_exit(80);
	if (pfn_of(at) != frame)	/* still mapped: read-only */
		_exit(81);
	poison_pfn_or_exit(frame);
	if (sigbus_touch(at, 0, 1, 4) != 0 || sigbus_code != BUS_MCEERR_AR)
		_exit(82);
	/* Page 41 marked, then a write to page 42, of the same block. */
	poison_pfn_or_exit(frame2);
	if (sigbus_touch(at + 2 * PG, 0, 1, 4) != 1)
		_exit(84);
	if (sigbus_touch(at + PG, 0, 1, 4) != 0 ||
	    sigbus_code != BUS_MCEERR_AR)
		_exit(85);
	if (call_at(&e, e.p) != 8)
		_exit(83);
	orbit_area_destroy(e.a);
	orbit_destroy(e.ob);
	_exit(0);
}

/*
 * An error in a page of the snapshot the task has not read yet (pages
 * 200 and 201, frozen by a call whose task read pages 0 to 7, out of its
 * read-around block): the task's read of the page next to it, whose
 * read-around block holds it, works; the task's read of it gets SIGBUS
 * (the call: ESRCH, the orbit died), rather than read a page whose
 * contents are lost.  Main's pages are intact.
 */
static void view_read_case(void)
{
	struct env e;
	uint64_t frame;
	char *at;
	long v = -1;

	env_up(&e);
	at = e.p + 200 * PG;
	at[0] = 3;
	at[PG] = 4;
	frame = pfn_of(at + PG);
	if (call_at(&e, e.p) != 8)	/* froze both */
		_exit(90);
	poison_pfn_or_exit(frame);
	if (orbit_call(e.ob, 1, &e.a, one_reader, &at, sizeof(at)) != 3)
		_exit(91);
	at += PG;
	errno = 0;
	if (orbit_call(e.ob, 1, &e.a, one_reader, &at, sizeof(at)) != -1 ||
	    errno != ESRCH)
		_exit(92);
	if (sigbus_read(e.p + 200 * PG, &v) || v != 3)
		_exit(93);
	orbit_area_destroy(e.a);
	orbit_destroy(e.ob);
	_exit(0);
}

/*
 * The task's own copy of a page (its write made it), marked by the task
 * itself: OWN_READ, unmapped when marked, then read: the read must get
 * SIGBUS (the call: ESRCH) rather than read the lost copy; OWN_WRITE,
 * unmapped and read back (mapped read-only), then marked and written:
 * the write must get SIGBUS rather than go on writing it.  The task
 * returns 1000 + the exit code poison_pfn_or_exit would have, if it could
 * not mark it.
 */
enum { OWN_READ, OWN_WRITE };
struct own_req {
	volatile char *at;
	int op;
};

static long own_copy_task(void *argbuf, void *store)
{
	struct own_req *r = argbuf;
	void *at = (void *)r->at;
	uint64_t pfn;
	int ret;

	r->at[0] = 9;
	pfn = pfn_of(at);
	if (r->op == OWN_WRITE &&
	    (madvise(at, PG, MADV_DONTNEED) || r->at[0] != 9 ||
	     pfn_of(at) != pfn))
		return -2;
	ret = poison_pfn(pfn);
	if (ret != 1)
		return 1000 + poison_pfn_exit_code(ret);
	if (r->op == OWN_WRITE) {
		r->at[0] = 10;
		return r->at[0];
	}
	if (madvise(at, PG, MADV_DONTNEED))
		return -2;
	return r->at[0];
}

static void own_copy_case(void)
{
	struct own_req r;
	struct env e;
	long ret;

	for (r.op = OWN_READ; r.op <= OWN_WRITE; r.op++) {
		env_up(&e);
		r.at = e.p + 200 * PG;
		errno = 0;
		ret = orbit_call(e.ob, 1, &e.a, own_copy_task, &r, sizeof(r));
		if (ret > 1000)
			_exit(ret - 1000);
		if (ret != -1 || errno != ESRCH)
			_exit(100 + r.op);
		orbit_area_destroy(e.a);
		orbit_destroy(e.ob);
	}
	_exit(0);
}

/*
 * The update task: builds a large update (its pages move to main: the
 * module pins them at the push), pushes an update with the frame of one
 * of them first, then that update.
 */
static long update_task(void *argbuf, void *store)
{
	struct orbit_update *big = orbit_update_create();
	struct orbit_update *small = orbit_update_create();
	const size_t len = 64 << 10;
	char *data = malloc(len);
	const struct orbit_update_entry *e;
	uint64_t pfn;

	if (!big || !small || !data)
		return -1;
	memset(data, 7, len);
	if (orbit_update_add_data(big, data, len))
		return -1;
	e = orbit_update_first(big);
	pfn = e ? pfn_of(e->data + len / 2) : 0;
	if (!pfn || orbit_update_add_data(small, &pfn, sizeof(pfn)) ||
	    orbit_push(small, NULL) || orbit_push(big, NULL))
		return -1;
	free(data);
	return 0;
}

/* What happens between the mark and main's pulls (update_case). */
enum upd_then {
	UPD_PULL,	/* nothing: main pulls */
	UPD_KILLED,	/* the orbit is killed, then main pulls */
	UPD_DESTROYED,	/* main destroys the orbit without pulling */
};

/*
 * An error in a page of an update main has not pulled yet: the pull
 * would copy it in the kernel; it fails with EHWPOISON instead, the
 * update is lost, and the next pull reports the call's end.  The update
 * is main's once pushed: the orbit killed after the mark changes none of
 * that, and main destroying the orbit without pulling frees it (main
 * checks the module's counters after each case).  Exit codes 110 + 10 *
 * then + step.
 */
static void update_once(enum upd_then then)
{
	struct orbit *ob = orbit_create("memfail", update_task, NULL);
	const struct orbit_update_entry *e;
	struct orbit_module_stats before, after;
	struct orbit_update *u = NULL;
	struct orbit_future *f;
	const int x = 110 + 10 * then;
	uint64_t pfn;
	long ret = -1;

	/* The counters first: the task may push before main goes on. */
	if (!ob || orbit_module_stats(&before))
		_exit(x);
	f = orbit_call_async(ob, 0, 0, NULL, NULL, NULL, 0);
	if (!f || pull_orbit(f, &u) != 1)
		_exit(x);
	e = orbit_update_first(u);
	if (!e || e->len != sizeof(pfn))
		_exit(x + 1);
	memcpy(&pfn, e->data, sizeof(pfn));
	orbit_update_free(u);
	if (!orbit_idle_within(ob, 10000))	/* both pushed */
		_exit(x + 2);
	if (orbit_module_stats(&after) ||
	    after.update_pages - before.update_pages < 16)
		_exit(x + 6);	/* its pages were copied, not moved */
	poison_pfn_or_exit(pfn);
	if (then == UPD_DESTROYED) {
		orbit_destroy(ob);
		return;
	}
	if (then == UPD_KILLED && !orbit_kill_within(ob, 10000))
		_exit(x + 7);
	errno = 0;
	if (pull_orbit(f, &u) != -1 || errno != EHWPOISON)
		_exit(x + 3);
	if (pull_orbit(f, &u) != 0)
		_exit(x + 4);
	if (orbit_future_get(f, &ret) || ret != 0)
		_exit(x + 5);
	orbit_destroy(ob);
}

static void update_case(void)
{
	enum upd_then then;

	for (then = UPD_PULL; then <= UPD_DESTROYED; then++)
		update_once(then);
	_exit(0);
}

/*
 * An error in a page of a COPY-mode area: the snapshot copies main's
 * pages, but not that one (it shares it, and main's next fault there
 * gets SIGBUS, as would the task's).
 */
static void copy_mode_case(void)
{
	struct env e;
	struct orbit_area *c;
	long v = -1;
	uint64_t before;
	char *q;

	env_up(&e);
	c = orbit_area_create_ex(1 << 20, 1 << 20, ORBIT_AREA_MODE_COPY,
				 e.ob);
	if (!c)
		_exit(70);
	q = orbit_area_base(c);
	*q = 5;
	poison_or_exit(q);
	before = copies_made();
	q += PG;	/* the task reads the pages after it (zeros) */
	if (orbit_call(e.ob, 1, &c, NULL, &q, sizeof(q)) != 0)
		_exit(71);
	q -= PG;
	if (copies_made() != before)
		_exit(72);
	if (madvise(q, PG, MADV_DONTNEED))
		_exit(73);
	if (sigbus_read(q, &v) != BUS_MCEERR_AR)
		_exit(74);
	if (call_at(&e, e.p) != 8)
		_exit(75);
	orbit_area_destroy(c);
	orbit_area_destroy(e.a);
	orbit_destroy(e.ob);
	_exit(0);
}

/* The pool case's task: what to do at page at. */
enum { POOL_WRITE, POOL_WRITE_UNMAP, POOL_NOTHING };
struct pool_req {
	char *at;
	int op;
};

/*
 * Writes the page at (a private copy: from the area's pool, or its run
 * of fresh pages for a hole) and returns its frame; POOL_WRITE_UNMAP
 * then unmaps it, so that the next install, which drops it, keeps it in
 * the pool rather than freeing it.
 */
static long pool_task(void *argbuf, void *store)
{
	struct pool_req *r = argbuf;
	uint64_t pfn;

	if (r->op == POOL_NOTHING)
		return 0;
	r->at[0] = 9;
	pfn = pfn_of(r->at);
	if (r->op == POOL_WRITE_UNMAP && madvise(r->at, PG, MADV_DONTNEED))
		return -1;
	return pfn ? (long)pfn : -1;
}

static long pool_call(struct orbit *ob, struct orbit_area *a, char *at,
		      int op)
{
	struct pool_req r = { .at = at, .op = op };

	return orbit_call(ob, 1, &a, NULL, &r, sizeof(r));
}

/*
 * Pages marked while the area's pool held them, unused: the next fresh
 * page of its run, and a page it kept (one a task wrote and unmapped,
 * dropped at the next install).  The pool must hand out neither: a marked
 * page makes the first fault on it SIGBUS though it held nothing.  The
 * frames the task gets must be other, unmarked ones, and its writes work.
 */
static void pool_case(void)
{
	struct orbit *ob = orbit_create("memfail", pool_task, NULL);
	struct orbit_area *a = ob ? orbit_area_create(64 << 20, ob) : NULL;
	long h1, h2, h3, k, got;
	char *p;

	if (!a)
		_exit(50);
	p = orbit_area_base(a);
	/*
	 * Holes the task writes: the first two pages of the pool's first
	 * run, a block of at least 8 pages (so aligned to 8), the third of
	 * which waits in the run.  Nothing else is marked: a frame the pool
	 * does not hold could be anyone's.
	 */
	h1 = pool_call(ob, a, p + 100 * PG, POOL_WRITE);
	h2 = pool_call(ob, a, p + 101 * PG, POOL_WRITE);
	if (h1 <= 0 || h1 % 8 || h2 != h1 + 1)
		_exit(51);
	poison_pfn_or_exit(h2 + 1);	/* the run's next page */
	h3 = pool_call(ob, a, p + 102 * PG, POOL_WRITE);
	if (h3 <= 0 || h3 == h2 + 1 || frame_poisoned(h3))
		_exit(52);
	/* A page the pool keeps: a copy the task wrote, then unmapped. */
	p[0] = 1;
	p[PG] = 1;
	k = pool_call(ob, a, p, POOL_WRITE_UNMAP);
	if (k <= 0 || pool_call(ob, a, p, POOL_NOTHING) != 0)
		_exit(53);
	poison_pfn_or_exit(k);
	got = pool_call(ob, a, p + PG, POOL_WRITE);
	if (got <= 0 || got == k || frame_poisoned(got))
		_exit(55);
	orbit_area_destroy(a);
	orbit_destroy(ob);
	_exit(0);
}

/* Each case: what it checks where errors can be marked, and elsewhere. */
static const struct mf_case {
	void (*fn)(void);
	const char *marked, *unmarked;
} cases[] = {
	{ zero_page_case,
	  "an error in the zero page: holes read zeros after it, in main and the task",
	  "the zero page" },
	{ data_page_case,
	  "an error in a page main wrote: SIGBUS (BUS_MCEERR_AR) at main's next fault there, calls go on",
	  "a page main wrote" },
	{ pool_case,
	  "errors in pages the pool held unused: none handed out, the task's writes work",
	  "the pool's pages" },
	{ frozen_page_case,
	  "an error in a page a snapshot froze: no copy of it, SIGBUS (BUS_MCEERR_AR) at main's next fault there, calls go on",
	  "a page a snapshot froze" },
	{ write_protected_case,
	  "an error in a frozen page main maps read-only: SIGBUS (BUS_MCEERR_AR) at main's next write there, also past write fault-around, calls go on",
	  "a frozen page main maps read-only" },
	{ view_read_case,
	  "an error in a snapshot page the task has not read: its read gets SIGBUS (the call ESRCH), read-around passes it over",
	  "a snapshot page the task has not read" },
	{ own_copy_case,
	  "an error in the task's own copy of a page: its next read, or write to it mapped read-only, gets SIGBUS (the call ESRCH)",
	  "the task's own copy of a page" },
	{ update_case,
	  "an error in a page of an update main has not pulled: the pull fails with EHWPOISON, the next reports the end, also with the orbit killed; destroyed unpulled, it is freed",
	  "a page of an update" },
	{ copy_mode_case,
	  "an error in a page of a COPY-mode area: the snapshot makes no copy of it, main's next fault there SIGBUS, calls go on",
	  "a page of a COPY-mode area" },
};

/*
 * The first case finds out whether this kernel marks pages (its exit
 * status 2: it does not); every other case must then agree.
 */
int main(void)
{
	struct orbit_module_stats start;
	int ret, injected = -1;
	size_t i;

	require(orbit_module_stats(&start) == 0, "read module counters");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ret = run_in_child(cases[i].fn);
		if (injected < 0) {
			injected = ret != 2;
			diag("%s", injected ? "memory errors injected" :
			     "this kernel handles no memory errors (CONFIG_MEMORY_FAILURE off): none marked");
		}
		if (injected)
			ok(ret == 0, "%s (%d)", cases[i].marked, ret);
		else
			ok(ret == 2, "%s: no error can be marked (%d)",
			   cases[i].unmarked, ret);
		ok(counters_back_to(&start) && procs_gone("memfail"),
		   "its orbits end; module counters back to their start values");
	}
	return tap_done();
}
