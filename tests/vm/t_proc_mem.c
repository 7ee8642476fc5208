// SPDX-License-Identifier: GPL-2.0
/*
 * A debugger's access to main's areas: writes through /proc/pid/mem (the
 * kernel's forced writes, as gdb sets a variable) and process_vm_writev
 * into pages a running call has frozen change main's memory and never
 * the snapshot the task reads; reads through both see main's memory; the
 * next call's snapshot has the writes.  A forced write into the orbit's
 * view (a debugger attached to the task) is the task's own: it sees it,
 * main's memory and the next call's snapshot do not.  That write waits
 * for the task to run: until its first call that names the area is
 * installed, the orbit has only reserved address space there, which a
 * forced write gives a page; the install, which never replaces memory
 * that held data, then fails and the orbit dies (ORBIT_DIED_FAILED; 6
 * of 16 runs on 6.12 when the write raced the install).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/uio.h>

#include "tap.h"
#include "util.h"

#define PAGES	64
#define PG	4096UL

struct task_arg {
	const unsigned char *base;
	int gated;	/* push, then wait for main's SIGUSR1 (at most 5 s) */
};

/* One byte a page, summed (none without a base). */
static long page_sum(void *argbuf, void *store)
{
	struct task_arg *a = argbuf;
	long i, sum = 0;

	if (a->gated) {
		struct orbit_update *u = orbit_update_create();

		/* Running: its snapshot is installed.  Then main's signal. */
		if (!u || orbit_update_add_data(u, &sum, sizeof(sum)) ||
		    orbit_push(u, NULL))
			return -1;
		wait_sigusr1(5);
	}
	for (i = 0; a->base && i < PAGES; i++)
		sum += a->base[i * PG];
	return sum;
}

int main(void)
{
	struct orbit_module_stats start;
	struct orbit_future *f;
	struct orbit_update *u;
	struct orbit_area *a;
	struct task_arg arg;
	struct orbit *ob;
	unsigned char *p, nine = 9, got[2] = { 0, 0 };
	struct iovec local, remote;
	long ret = -1;
	ssize_t w1, w2, r1, r2;
	struct orbit_status st;
	char path[64];
	int mem, omem, got_rc;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("procmem", page_sum, init_blocking_sigusr1);
	a = ob ? orbit_area_create(PAGES * PG, ob) : NULL;
	mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	require(a && mem >= 0, "an orbit, an area, /proc/self/mem");
	p = orbit_area_base(a);
	memset(p, 1, PAGES * PG);
	/* init (SIGUSR1 blocked) runs with the first call: this one. */
	arg = (struct task_arg){ NULL, 0 };
	require(orbit_call(ob, 0, NULL, NULL, &arg, sizeof(arg)) == 0 &&
		orbit_status(ob, &st) == 0 && st.pid > 0,
		"the orbit's init, its process");
	arg = (struct task_arg){ p, 1 };
	f = orbit_call_async(ob, 0, 1, &a, NULL, &arg, sizeof(arg));
	require(f && pull_orbit(f, &u) == 1,
		"a call that snapshots the area, its task running");
	orbit_update_free(u);
	w1 = pwrite(mem, &nine, 1, (off_t)(uintptr_t)(p + 5 * PG));
	local = (struct iovec){ &nine, 1 };
	remote = (struct iovec){ p + 6 * PG, 1 };
	w2 = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
	ok(w1 == 1 && w2 == 1,
	   "writes into frozen pages: /proc/self/mem %zd, process_vm_writev %zd",
	   w1, w2);
	r1 = pread(mem, &got[0], 1, (off_t)(uintptr_t)(p + 6 * PG));
	local = (struct iovec){ &got[1], 1 };
	remote = (struct iovec){ p + 5 * PG, 1 };
	r2 = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	ok(r1 == 1 && r2 == 1 && got[0] == 9 && got[1] == 9 &&
	   p[5 * PG] == 9 && p[6 * PG] == 9,
	   "main and both readers see them (%u, %u; main %u, %u)", got[0],
	   got[1], p[5 * PG], p[6 * PG]);
	snprintf(path, sizeof(path), "/proc/%d/mem", st.pid);
	omem = open(path, O_RDWR | O_CLOEXEC);
	w1 = omem >= 0 ? pwrite(omem, &nine, 1, (off_t)(uintptr_t)(p + 7 * PG)) :
			 -1;
	ok(w1 == 1 && p[7 * PG] == 1,
	   "a write into the orbit's view (%zd) leaves main's page as it was (%u)",
	   w1, p[7 * PG]);
	kill(st.pid, SIGUSR1);
	got_rc = orbit_future_get(f, &ret);
	ok(got_rc == 0 && ret == PAGES + 8,
	   "the running task read the snapshot and its own write: sum %ld, want %d",
	   ret, PAGES + 8);
	arg.gated = 0;
	ret = orbit_call(ob, 1, &a, NULL, &arg, sizeof(arg));
	ok(ret == PAGES + 16, "the next call sees the writes: sum %ld, want %d",
	   ret, PAGES + 16);

	close(mem);
	if (omem >= 0)
		close(omem);
	orbit_area_destroy(a);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
