// SPDX-License-Identifier: GPL-2.0
/*
 * A task that forks with its view made inheritable (MADV_DOFORK clears
 * the VM_DONTCOPY the module sets).  The kernel copies the PTEs of a
 * VM_MIXEDMAP mapping into the child, each with a reference on its page:
 * left alone, forks of a view that maps holes could pile references on a
 * zero page past the bound the module keeps (t_view_zero_pages), and the
 * child would see the orbit's pages from outside the orbit.  A fork copy
 * of a view must map nothing, and a fault in it fails (SIGBUS): the
 * child's pagemap shows no page of the view, its read of the view dies of
 * SIGBUS, and the task's own view is unchanged.  A copy that outlives
 * its orbit and main fails the same way, and frees the view when it goes.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

#define PAGE		4096
#define NPAGES		512

/* What the task reports, in bits: each set bit is a failure. */
#define MAPPED_IN_CHILD	1	/* the child's pagemap had view pages */
#define CHILD_READ	2	/* the child's read did not die of SIGBUS */
#define TASK_VIEW	4	/* the task's own view changed */
#define TASK_SETUP	8	/* madvise, fork or pagemap failed */

struct scan {
	const long *base;
	long value;	/* main's word in page 0 */
};

static int child_mapped(const long *base)
{
	static uint64_t pfn[NPAGES];
	int i, n = 0;

	if (pfns_of(base, NPAGES, pfn))
		return -1;
	for (i = 0; i < NPAGES; i++)
		n += pfn[i] != 0;
	return n;
}

static long fork_with_view(void *argbuf, void *store)
{
	const struct scan *s = argbuf;
	long sum = 0, bits = 0;
	int i, st, p[2];
	pid_t pid;
	char c;

	(void)store;
	for (i = 0; i < NPAGES; i++)	/* page 0 main's, the rest holes */
		sum += s->base[i * (PAGE / sizeof(long))];
	if (sum != s->value ||
	    madvise((void *)s->base, NPAGES * PAGE, MADV_DOFORK))
		return TASK_SETUP;
	pid = fork_piped(p);
	if (pid < 0)
		return TASK_SETUP;
	if (pid == 0) {
		c = child_mapped(s->base) == 0 ? 'y' : 'n';
		if (write(p[1], &c, 1) != 1)
			_exit(3);
		_exit(s->base[0] == s->value ? 4 : 5);	/* must not return */
	}
	if (read(p[0], &c, 1) != 1)
		bits |= TASK_SETUP;
	else if (c != 'y')
		bits |= MAPPED_IN_CHILD;
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid)
		bits |= TASK_SETUP;
	else if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGBUS)
		bits |= CHILD_READ;
	for (i = 0, sum = 0; i < NPAGES; i++)
		sum += s->base[i * (PAGE / sizeof(long))];
	if (sum != s->value)
		bits |= TASK_VIEW;
	return bits;
}

/*
 * The second half: a fork copy that outlives its orbit and main.  The
 * task's child keeps the copy (and through its file the view) while main
 * exits without cleaning up and its orbit dies with it; then it reads the
 * copy, which must fail (SIGBUS) and leave the kernel whole, and exits,
 * which frees the view.  It tells what its read did through a file.
 */
#define LATE_FILE	"/tmp/t_view_fork_copy.late"

static volatile int late_orphan;	/* the orbit was gone at the read */

static void late_answer(const char *what)
{
	int fd = open(LATE_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%s%s",
			 late_orphan ? "orphan " : "", what);

	if (fd < 0 || write(fd, buf, n) != n)
		_exit(5);
	_exit(0);
}

static void late_sigbus(int sig)
{
	(void)sig;
	late_answer("sigbus");
}

static long fork_late_reader(void *argbuf, void *store)
{
	volatile long *base = *(long **)argbuf;
	pid_t pid, orbit = getpid();
	int i;

	(void)store;
	if (madvise((void *)base, NPAGES * PAGE, MADV_DOFORK))
		return -1;
	pid = fork();
	if (pid == 0) {
		/*
		 * Named apart from the orbit, which main waits to see gone.
		 * The orbit may be gone before this runs: its pid is taken
		 * before the fork, never from getppid() here.
		 */
		prctl(PR_SET_NAME, "view-fork-kid");
		signal(SIGBUS, late_sigbus);
		for (i = 0; i < 3000 && getppid() == orbit; i++)
			usleep(10000);
		late_orphan = getppid() != orbit;
		(void)base[0];
		late_answer("read");
	}
	return pid;
}

static void outlives_main(void)
{
	char got[32] = "";
	long child = -1;
	int p[2], fd, status;
	pid_t pid;

	unlink(LATE_FILE);
	pid = fork_piped(p);
	if (pid == 0) {
		struct orbit_area *area;
		struct orbit *ob;
		long *base;

		ob = orbit_create("view-fork-late", fork_late_reader, NULL);
		area = orbit_area_create_ex(NPAGES * PAGE, NPAGES * PAGE, 0,
					    ob);
		if (!ob || !area)
			_exit(1);
		base = orbit_area_base(area);
		*base = 7;
		child = orbit_call(ob, 1, &area, NULL, &base, sizeof(base));
		if (write(p[1], &child, sizeof(child)) != sizeof(child))
			_exit(1);
		exit(0);	/* no cleanup: the orbit dies with main */
	}
	require(pid > 0, "fork");
	if (read(p[0], &child, sizeof(child)) != sizeof(child))
		child = -1;
	close(p[0]);
	waitpid(pid, &status, 0);
	ok(child > 0 && procs_gone("view-fork-late"),
	   "main exited and its orbit died, the task's fork child keeping its copy of the view");
	file_appears(LATE_FILE, 40000);
	fd = open(LATE_FILE, O_RDONLY);
	if (fd >= 0 && read(fd, got, sizeof(got) - 1) < 0)
		got[0] = 0;
	if (fd >= 0)
		close(fd);
	unlink(LATE_FILE);
	ok(!strcmp(got, "orphan sigbus"),
	   "its read of the copy, with its orbit gone, died of SIGBUS (%s)",
	   got[0] ? got : "no answer in 40 s");
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct orbit *ob;
	struct scan s;
	long r;
	int i;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("view-fork", fork_with_view, NULL);
	area = orbit_area_create_ex(NPAGES * PAGE, NPAGES * PAGE, 0, ob);
	require(ob && area, "an orbit and a 512-page area");
	s.base = orbit_area_base(area);
	for (i = 0; i < 3; i++) {
		s.value = 100 + i;
		*(long *)s.base = s.value;
		r = orbit_call(ob, 1, &area, NULL, &s, sizeof(s));
		ok(r == 0,
		   "call %d: the task's fork child maps no view page%s, dies of SIGBUS on a read%s; the task's view is intact%s%s (%ld)",
		   i + 1, r > 0 && r & MAPPED_IN_CHILD ? " (it did)" : "",
		   r > 0 && r & CHILD_READ ? " (it did not)" : "",
		   r > 0 && r & TASK_VIEW ? " (it changed)" : "",
		   r < 0 || r & TASK_SETUP ? " (the task's setup failed)" : "",
		   r);
	}
	orbit_area_destroy(area);
	orbit_destroy(ob);
	outlives_main();
	ok(counters_back_to(&start),
	   "module counters back to their start values (the late child's view freed at its exit)");
	return tap_done();
}
