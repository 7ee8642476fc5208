// SPDX-License-Identifier: GPL-2.0
/*
 * Fresh globals: an orbit sees main's global variables (data and bss) as
 * they are at its own orbit_create, at a restart and after
 * orbit_sync_globals(), not as they were when the library's spawner was
 * forked; init runs with them.  ORBIT_SPAWNER_GLOBALS keeps the old
 * behaviour.  The C runtime's state is never copied: the orbit's heap,
 * stdio and environment keep working after main changed its own.  Built
 * static (t_fresh_globals) and dynamic (t_fresh_globals_dyn: libuorbit.so,
 * copy relocations).  Where the kernel tracks main's writes (6.7+), only
 * written pages are compared: a store, a write by the kernel (read(2)
 * into a global) and a page dropped with MADV_DONTNEED must all arrive.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

extern char **environ;

static long g_counter;			/* bss */
static char g_name[32] = "initial";	/* data */
static long *g_ptr;			/* points into an area */
static unsigned char g_big[4 << 20] __attribute__((aligned(4096)));	/* bss */
static long g_seen_by_init = -1;

enum { Q_COUNTER, Q_NAME, Q_PTR, Q_BIG, Q_INIT, Q_BUMP, Q_RUNTIME, Q_CRASH };

static long big_sum(void)
{
	long s = 0;
	size_t i;

	for (i = 0; i < sizeof(g_big); i += 4096)
		s += g_big[i] + (long)i % 7;
	return s;
}

static void *init(void)
{
	g_seen_by_init = g_counter;
	return NULL;
}

static long task(void *argbuf, void *store)
{
	int q = *(int *)argbuf;
	char buf[64];
	void *p;

	switch (q) {
	case Q_COUNTER:
		return g_counter;
	case Q_NAME:
		return g_name[0] == 's' ? 2 : g_name[0] == 'i' ? 1 : 0;
	case Q_PTR:
		return g_ptr ? *g_ptr : -1;
	case Q_BIG:
		return big_sum();
	case Q_INIT:
		return g_seen_by_init;
	case Q_BUMP:
		return ++g_counter;	/* the orbit's own copy */
	case Q_RUNTIME:
		/* libc as the orbit has it: heap, stdio, environment. */
		p = malloc(1 << 20);
		if (!p)
			return -1;
		memset(p, 1, 1 << 20);
		free(p);
		snprintf(buf, sizeof(buf), "%s", getenv("PATH") ? "path" : "none");
		return getenv("ORBIT_FRESH_T") ? 2 : 1;
	case Q_CRASH:
		return *(volatile long *)0;
	}
	return -100;
}

static long ask(struct orbit *ob, struct orbit_area *area, int q)
{
	return orbit_call(ob, area ? 1 : 0, area ? &area : NULL, NULL, &q,
			  sizeof(q));
}

static void store_page(void)
{
	g_big[5 * 4096] = 200;
}

static void read_into_page(void)
{
	if (kernel_write_byte(&g_big[6 * 4096], 'w'))
		diag("pipe write/read failed");
}

static void drop_pages(void)
{
	if (madvise(&g_big[8 * 4096], 2 * 4096, MADV_DONTNEED))
		diag("madvise: %s", strerror(errno));
}

/* change() alters g_big; an orbit created afterwards sees it all. */
static int fresh_big(const char *what, void (*change)(void))
{
	struct orbit *ob;
	long want, got;

	if (change)
		change();
	want = big_sum();
	ob = orbit_create("globals-e", task, NULL);
	if (!ob)
		return 0;
	got = ask(ob, NULL, Q_BIG);
	orbit_destroy(ob);
	if (got != want)
		diag("%s: the orbit's sum %ld, main's %ld", what, got, want);
	return got == want;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_attr attr;
	struct orbit_area *area;
	struct orbit *a, *b, *old, *c, *d;
	long want;
	size_t i;

	require(orbit_module_stats(&start) == 0, "read module counters");
	a = orbit_create("globals-a", task, init);
	area = orbit_area_create(1 << 20, NULL);
	require(a && area, "an orbit (the spawner forks here) and an area");
	ok(ask(a, NULL, Q_COUNTER) == 0 && ask(a, NULL, Q_NAME) == 1,
	   "the first orbit sees the globals as they are");

	g_counter = 42;
	strcpy(g_name, "second");
	g_ptr = orbit_alloc(area, sizeof(*g_ptr));
	*g_ptr = 7;
	for (i = 0; i < sizeof(g_big); i += 4096)
		g_big[i] = (unsigned char)(i >> 12);
	want = big_sum();

	b = orbit_create("globals-b", task, init);
	require(b != NULL, "a second orbit after main changed its globals");
	ok(ask(b, NULL, Q_COUNTER) == 42, "it sees main's bss as at its create");
	ok(ask(b, NULL, Q_NAME) == 2, "it sees main's data as at its create");
	ok(ask(b, area, Q_PTR) == 7,
	   "a global pointer into an area is valid in the task");
	ok(ask(b, NULL, Q_BIG) == want, "4 MiB of bss arrive whole");
	ok(ask(b, NULL, Q_INIT) == 42, "init ran with the fresh globals");
	ok(ask(a, NULL, Q_COUNTER) == 0,
	   "the first orbit keeps what it was created with");

	ok(ask(b, NULL, Q_BUMP) == 43 && ask(b, NULL, Q_BUMP) == 44 &&
	   g_counter == 42, "an orbit's writes to its copy stay in the orbit");
	ok(orbit_sync_globals(b) == 0 && ask(b, NULL, Q_COUNTER) == 42,
	   "orbit_sync_globals: main's values again");
	ok(orbit_sync_globals(a) == 0 && ask(a, NULL, Q_COUNTER) == 42 &&
	   ask(a, NULL, Q_NAME) == 2, "orbit_sync_globals on the first orbit");

	orbit_attr_init(&attr);
	attr.flags = ORBIT_SPAWNER_GLOBALS;
	old = orbit_create_ex("globals-old", task, NULL, &attr);
	require(old != NULL, "an orbit with ORBIT_SPAWNER_GLOBALS");
	ok(ask(old, NULL, Q_COUNTER) == 0 && ask(old, NULL, Q_NAME) == 1,
	   "ORBIT_SPAWNER_GLOBALS: the globals the spawner was forked with");
	ok(orbit_sync_globals(old) == -1 && errno == EINVAL,
	   "orbit_sync_globals on such an orbit: EINVAL");

	orbit_attr_init(&attr);
	attr.restart = ORBIT_RESTART_ALWAYS;
	c = orbit_create_ex("globals-c", task, init, &attr);
	require(c != NULL, "an orbit that restarts");
	ok(ask(c, NULL, Q_CRASH) == -1 && errno == ESRCH, "its task crashes");
	g_counter = 99;
	ok(ask(c, NULL, Q_COUNTER) == 99 && ask(c, NULL, Q_INIT) == 99,
	   "the restarted process sees the globals as at the restart");

	/* main's libc state changes; the orbit's must not follow. */
	setenv("ORBIT_FRESH_T", "1", 1);
	for (i = 0; i < 64; i++)
		setenv("ORBIT_FRESH_PAD", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1);
	d = orbit_create("globals-d", task, NULL);
	require(d != NULL, "an orbit after main's environment moved");
	ok(ask(d, NULL, Q_RUNTIME) == 1,
	   "its heap, stdio and environment are its own (environ not copied)");
	ok(environ && getenv("ORBIT_FRESH_T"), "main's environment is intact");

	ok(fresh_big("a store to one page", store_page) &&
	   fresh_big("read(2) into a global", read_into_page) &&
	   fresh_big("MADV_DONTNEED on two pages", drop_pages) &&
	   fresh_big("no change at all", NULL),
	   "later orbits see every kind of change to a large global");

	ok(orbit_destroy(a) == 0 && orbit_destroy(b) == 0 &&
	   orbit_destroy(old) == 0 && orbit_destroy(c) == 0 &&
	   orbit_destroy(d) == 0, "destroy the orbits");
	ok(orbit_sync_globals(NULL) == -1 && errno == EINVAL,
	   "orbit_sync_globals(NULL): EINVAL");
	orbit_area_destroy(area);
	ok(counters_back_to(&start),
	   "module counters back to their start values (the hidden area too)");
	return tap_done();
}
