// SPDX-License-Identifier: GPL-2.0
/*
 * The module's page copies and a memory error they read first (mc.c).
 * mc_copy is resolved at load (0 or 1, never 2), again when 2 is written,
 * and refuses anything above 2.  With it on, a copy that reads an error
 * survives it and fails as for a marked page; debug_mc_fail makes the
 * next copy fail so (no machine check can be raised here), and each case
 * checks that this copy consumed it and what the user sees:
 *  - main's copy-on-write of a page a running call's snapshot holds:
 *    main's write gets SIGBUS (BUS_MCEERR_AR; BUS_ADRERR where the kernel
 *    handles no memory errors, as Debian's 6.1 cloud kernel), its next
 *    write works, and the task still reads the snapshot's value;
 *  - a COPY-mode area's copy at the snapshot: the call goes on, sharing
 *    the page as for a marked one, and reads the right value; main's next
 *    write copies it;
 *  - the task's own copy of a page it writes: its write gets SIGBUS (the
 *    call ESRCH); the restarted orbit's next write works;
 *  - the refresh of a view's mirror at an install: the install maps the
 *    snapshot's page instead, and the task reads the new value;
 *  - the pull of a large update (its pages moved): EHWPOISON, the update
 *    is lost and the next pull reports the end.
 * Each case runs in a child (SIGBUS handler, exit status = how far it
 * got); everything is freed after each.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "tap.h"
#include "sigbus.h"
#include "util.h"

#define PG	4096
#define HARD_OFFLINE	"/sys/devices/system/memory/hard_offline_page"

/* debug_mc_fail: n more copies fail; exit x if it cannot be set. */
static void inject(unsigned int n, int x)
{
	if (mc_fail_inject(n))
		_exit(x);
}

/* The task: the first byte at *argbuf. */
static long reader(void *argbuf, void *store)
{
	return **(volatile char **)argbuf;
}

/* The task: writes 5 at *argbuf and returns what it reads back. */
static long writer(void *argbuf, void *store)
{
	volatile char *p = *(char **)argbuf;

	p[0] = 5;
	return p[0];
}

/* The task: pushes what it reads at *argbuf, waits for SIGUSR1, reads again. */
static long hold_reader(void *argbuf, void *store)
{
	volatile char *p = *(char **)argbuf;
	struct orbit_update *u = orbit_update_create();
	long v = p[0];

	if (!u || orbit_update_add_data(u, &v, sizeof(v)) ||
	    orbit_push(u, NULL))
		return -1;
	wait_sigusr1(5);
	return p[0];
}

/* The task: pushes a 64 KiB update of 7s (its pages move to main). */
static long big_pusher(void *argbuf, void *store)
{
	struct orbit_update *u = orbit_update_create();
	const size_t len = 64 << 10;
	char *data = malloc(len);

	if (!u || !data)
		return -1;
	memset(data, 7, len);
	if (orbit_update_add_data(u, data, len) || orbit_push(u, NULL))
		return -1;
	free(data);
	return 0;
}

struct env {
	struct orbit *ob;
	struct orbit_area *a;
	char *p;
};

/* An orbit that restarts, with a 1 MiB area of mode flags; page 0 = 1. */
static void env_up(struct env *e, orbit_entry fn, unsigned int flags)
{
	struct orbit_attr attr;

	sigbus_catch();
	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	e->ob = orbit_create_ex("mccopy", fn, init_blocking_sigusr1, &attr);
	e->a = e->ob ? orbit_area_create_ex(1 << 20, 1 << 20, flags, e->ob) :
		       NULL;
	if (!e->a)
		_exit(10);
	e->p = orbit_area_base(e->a);
	e->p[0] = 1;
}

static void env_down(struct env *e)
{
	orbit_area_destroy(e->a);
	orbit_destroy(e->ob);
}

static long call_at(struct env *e, orbit_entry fn, char *at)
{
	return orbit_call(e->ob, 1, &e->a, fn, &at, sizeof(at));
}

static void main_cow_case(void)
{
	struct orbit_update *u = NULL;
	struct orbit_future *f;
	struct orbit_status st;
	struct env e;
	long v = 0, ret = -1;

	env_up(&e, hold_reader, ORBIT_AREA_MODE_COW);
	f = orbit_call_async(e.ob, 0, 1, &e.a, NULL, &e.p, sizeof(e.p));
	if (!f || pull_orbit(f, &u) != 1 || !orbit_update_first(u))
		_exit(20);
	memcpy(&v, orbit_update_first(u)->data, sizeof(v));
	orbit_update_free(u);
	if (v != 1 || orbit_status(e.ob, &st) || st.pid <= 0)
		_exit(21);
	/* The task holds the snapshot: main's write must copy. */
	inject(1, 22);
	if (sigbus_touch(e.p, 0, 1, 2) != 0 ||
	    sigbus_code != (access(HARD_OFFLINE, F_OK) ? BUS_ADRERR :
						      BUS_MCEERR_AR))
		_exit(23);
	if (!mc_fail_consumed())
		_exit(24);
	if (sigbus_touch(e.p, 0, 1, 2) != 1 || e.p[0] != 2)
		_exit(25);
	kill(st.pid, SIGUSR1);
	if (orbit_future_get(f, &ret) || ret != 1)
		_exit(26);
	env_down(&e);
	_exit(0);
}

static void copy_mode_case(void)
{
	struct env e;

	env_up(&e, reader, ORBIT_AREA_MODE_COPY);
	inject(1, 30);
	if (call_at(&e, reader, e.p) != 1)
		_exit(31);
	if (!mc_fail_consumed())
		_exit(32);
	e.p[0] = 2;
	if (call_at(&e, reader, e.p) != 2 || e.p[0] != 2)
		_exit(33);
	env_down(&e);
	_exit(0);
}

static void task_copy_case(void)
{
	struct orbit_status st;
	struct env e;

	env_up(&e, writer, ORBIT_AREA_MODE_COW);
	inject(1, 40);
	errno = 0;
	if (call_at(&e, writer, e.p) != -1 || errno != ESRCH)
		_exit(41);
	if (!mc_fail_consumed())
		_exit(42);
	if (orbit_status(e.ob, &st) || st.last_death != ORBIT_DIED_SIGNAL ||
	    st.last_death_code != SIGBUS)
		_exit(43);
	if (call_at(&e, writer, e.p) != 5 || e.p[0] != 1)
		_exit(44);
	env_down(&e);
	_exit(0);
}

static void mirror_case(void)
{
	struct env e;

	env_up(&e, reader, ORBIT_AREA_MODE_COW);
	if (call_at(&e, reader, e.p) != 1)	/* the task uses block 0 */
		_exit(50);
	e.p[0] = 2;
	if (call_at(&e, reader, e.p) != 2)	/* page 0 gets a mirror */
		_exit(51);
	e.p[0] = 3;
	inject(1, 52);
	if (call_at(&e, reader, e.p) != 3)	/* its refresh fails */
		_exit(53);
	if (!mc_fail_consumed())
		_exit(54);
	e.p[0] = 4;
	if (call_at(&e, reader, e.p) != 4)
		_exit(55);
	env_down(&e);
	_exit(0);
}

static void pull_case(void)
{
	struct orbit_update *u = NULL;
	struct orbit_future *f;
	struct orbit *ob;
	long ret = -1;

	ob = orbit_create("mccopy", big_pusher, NULL);
	f = ob ? orbit_call_async(ob, 0, 0, NULL, NULL, NULL, 0) : NULL;
	if (!f || !orbit_idle_within(ob, 10000))	/* pushed and ended */
		_exit(60);
	inject(1, 61);
	errno = 0;
	if (pull_orbit(f, &u) != -1 || errno != EHWPOISON)
		_exit(62);
	if (!mc_fail_consumed())
		_exit(63);
	if (pull_orbit(f, &u) != 0 || orbit_future_get(f, &ret) || ret != 0)
		_exit(64);
	/* Without the failure the same update arrives whole. */
	f = orbit_call_async(ob, 0, 0, NULL, NULL, NULL, 0);
	if (!f || pull_orbit(f, &u) != 1 || !orbit_update_first(u) ||
	    orbit_update_first(u)->len != 64 << 10 ||
	    orbit_update_first(u)->data[(64 << 10) - 1] != 7)
		_exit(65);
	orbit_update_free(u);
	if (pull_orbit(f, &u) != 0)
		_exit(66);
	orbit_destroy(ob);
	_exit(0);
}

static const struct mc_case {
	void (*fn)(void);
	const char *what;
} cases[] = {
	{ main_cow_case,
	  "main's copy of a page a running call holds fails: its write gets SIGBUS (BUS_MCEERR_AR), the next works, the task reads the snapshot's value" },
	{ copy_mode_case,
	  "a COPY-mode snapshot's copy fails: the call shares the page and reads the right value; main's next write copies" },
	{ task_copy_case,
	  "the task's own copy fails: its write gets SIGBUS (the call ESRCH); after the restart it works" },
	{ mirror_case,
	  "a view mirror's refresh fails: the install maps the snapshot's page, the task reads the new value" },
	{ pull_case,
	  "a large update's pull fails: EHWPOISON, the next pull reports the end; without the failure it arrives whole" },
};

static struct param_saved saved[] = {
	{ .name = "mc_copy" }, { .name = "debug_mc_fail" },
};

static void restore(void)
{
	params_restore(saved, 2);
}

int main(void)
{
	struct orbit_module_stats start;
	char v[16], v2[16];
	size_t i;
	int ret;

	require(orbit_module_stats(&start) == 0, "read module counters");
	require(params_save(saved, 2) == 0 && !atexit(restore),
		"mc_copy and debug_mc_fail read");
	ok(!strcmp(saved[0].val, "0") || !strcmp(saved[0].val, "1"),
	   "mc_copy was resolved at load (%s)", saved[0].val);
	diag("page copies %s memory errors here (dmesg: the timing)",
	     saved[0].val[0] == '1' ? "survive" : "do not survive");
	ok(param_write("mc_copy", "2") == 0 && !param_read("mc_copy", v, sizeof(v)) &&
	   (!strcmp(v, "0") || !strcmp(v, "1")),
	   "mc_copy=2 is resolved when written (%s)", v);
	errno = 0;
	ok(param_write("mc_copy", "3") == -1 && errno == EINVAL &&
	   !param_read("mc_copy", v2, sizeof(v2)) && !strcmp(v, v2),
	   "mc_copy=3 is refused (EINVAL) and changes nothing");
	require(param_write("mc_copy", "1") == 0, "mc_copy=1 for the cases");

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ret = run_in_child(cases[i].fn);
		ok(ret == 0, "%s (%d)", cases[i].what, ret);
		param_write("debug_mc_fail", "0");
		ok(counters_back_to(&start) && procs_gone("mccopy"),
		   "its orbits end; module counters back to their start values");
	}
	return tap_done();
}
