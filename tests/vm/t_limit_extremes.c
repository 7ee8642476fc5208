// SPDX-License-Identifier: GPL-2.0
/*
 * Limits set by root to their extremes fail cleanly, never with a kernel
 * warning: max_arg and max_call_areas refuse values past their bounds
 * (1 GiB, 4096), which kmalloc could not serve, and keep theirs; at the
 * bounds, an argument of 1 GiB that cannot be read fails with EFAULT (or
 * ENOMEM), and a call naming 4096 areas reads them all; an area of 64 TiB
 * (max_area_size and max_main_bytes raised) is snapshotted and read by an
 * orbit, whose view of it needs bitmaps only vmalloc can hold, then
 * killed, its view freed by its exit.  The harness fails the run on any
 * kernel report; the module's counters return to their start.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "tap.h"
#include "util.h"

#define NAREAS	4096
#define HUGE	(64UL << 40)		/* 64 TiB */
#define PAGE	4096UL

static struct param_saved saved[] = {
	{ .name = "max_arg" }, { .name = "max_call_areas" },
	{ .name = "max_areas" }, { .name = "max_area_size" },
	{ .name = "max_main_bytes" },
};
#define NSAVED	(sizeof(saved) / sizeof(saved[0]))

struct many_arg {
	long *base[NAREAS];
};

/* The sum of the first word of every area. */
static long sum_all(void *argbuf, void *store)
{
	struct many_arg *a = argbuf;
	long sum = 0;
	int i;

	for (i = 0; i < NAREAS; i++)
		sum += *a->base[i];
	return sum;
}

/* The first word of the first page plus that of the last. */
static long ends(void *argbuf, void *store)
{
	long *base = *(long **)argbuf;

	return base[0] + base[(HUGE - PAGE) / sizeof(long)];
}

/* A write refused with EINVAL that leaves the value as it was. */
static int refused(const char *name, const char *val)
{
	char before[32], after[32];

	return param_read(name, before, sizeof(before)) == 0 &&
	       param_write(name, val) < 0 && errno == EINVAL &&
	       param_read(name, after, sizeof(after)) == 0 &&
	       strcmp(before, after) == 0;
}

static void many_areas(void)
{
	static struct orbit_area *areas[NAREAS];
	static struct many_arg arg;
	struct orbit *ob = orbit_create("many-areas", sum_all, NULL);
	long want = 0;
	int i, n;

	for (n = 0; ob && n < NAREAS; n++) {
		areas[n] = orbit_area_create_ex(PAGE, PAGE, 0, ob);
		if (!areas[n])
			break;
		arg.base[n] = orbit_area_base(areas[n]);
		*arg.base[n] = n + 1;
		want += n + 1;
	}
	ok(n == NAREAS, "%d areas of a page each", n);
	ok(n == NAREAS &&
	   orbit_call(ob, NAREAS, areas, NULL, &arg, sizeof(arg)) == want,
	   "a call naming %d areas reads every one", NAREAS);
	for (i = 0; i < n; i++)
		*arg.base[i] = 0;
	ok(n == NAREAS &&
	   orbit_call(ob, NAREAS, areas, NULL, &arg, sizeof(arg)) == 0,
	   "the next call sees every area rewritten");
	ok(orbit_call(ob, NAREAS + 1, areas, NULL, &arg, sizeof(arg)) == -1 &&
	   errno == EINVAL, "a call naming %d fails with EINVAL", NAREAS + 1);
	for (i = 0; i < n; i++)
		orbit_area_destroy(areas[i]);
	orbit_destroy(ob);
}

static void huge_area(void)
{
	struct orbit *ob = orbit_create("huge-area", ends, NULL);
	struct orbit_area *a = ob ? orbit_area_create_ex(PAGE, HUGE, 0, ob) :
				    NULL;
	long *base = a ? orbit_area_base(a) : NULL;
	long *last = base ? base + (HUGE - PAGE) / sizeof(long) : NULL;
	pid_t pid;

	ok(a && orbit_area_size(a) == HUGE, "an area of 64 TiB");
	if (!a) {
		orbit_destroy(ob);
		return;
	}
	base[0] = 1;
	*last = 2;
	ok(orbit_call(ob, 1, &a, NULL, &base, sizeof(base)) == 3,
	   "an orbit reads its first and its last page");
	base[0] = 10;
	*last = 20;
	ok(orbit_call(ob, 1, &a, NULL, &base, sizeof(base)) == 30,
	   "and both rewritten at the next call");
	/* Its view (vmalloc'd bitmaps) goes with the process's exit. */
	ok(procs_named("huge-area", &pid) == 1 && kill(pid, SIGKILL) == 0 &&
	   procs_gone("huge-area"), "the orbit killed with its view");
	orbit_area_destroy(a);
	orbit_destroy(ob);
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit *ob;
	void *nothing;
	int err;

	require(params_save(saved, NSAVED) == 0, "read the limits");
	ok(refused("max_arg", "1073741825") && refused("max_arg", "4294967295"),
	   "max_arg above 1 GiB is refused and keeps its value");
	ok(refused("max_call_areas", "4097") &&
	   refused("max_call_areas", "4294967295"),
	   "max_call_areas above 4096 is refused and keeps its value");
	/* Before the library's handshake, which reads the limits. */
	require(param_write("max_arg", "1073741824") == 0 &&
		param_write("max_call_areas", "4096") == 0 &&
		param_write("max_areas", "8192") == 0 &&
		param_write("max_area_size", "70368744177664") == 0 &&
		param_write("max_main_bytes", "140737488355328") == 0,
		"limits at their bounds");
	/* Room for the 64 TiB area and 4096 small ones, 2 MiB apart. */
	setenv("ORBIT_VA_WINDOW_GB", "65600", 1);
	require(orbit_module_stats(&start) == 0, "read module counters");

	ob = orbit_create("big-arg", sum_all, NULL);
	nothing = mmap(NULL, 1UL << 30, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	require(ob && nothing != MAP_FAILED, "an orbit and 1 GiB unreadable");
	err = orbit_call(ob, 0, NULL, NULL, nothing, 1UL << 30) == -1 ? errno :
									0;
	ok(err == EFAULT || err == ENOMEM,
	   "a 1 GiB argument that cannot be read fails (%s)", strerror(err));
	munmap(nothing, 1UL << 30);
	orbit_destroy(ob);

	many_areas();
	huge_area();

	ok(params_restore(saved, NSAVED) == 0, "limits restored");
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
