// SPDX-License-Identifier: GPL-2.0
/*
 * Long-term pins of area and view memory: an AF_XDP socket's UMEM
 * (pin_user_pages with FOLL_WRITE | FOLL_LONGTERM, held until the socket
 * closes; a device's DMA target) and an io_uring fixed buffer.
 *
 * 6.1 lets the UMEM pin main's area pages and an orbit's view pages; 6.12
 * refuses a writable long-term pin of any mapping that needs dirty
 * tracking (writable_file_mapping_allowed), and io_uring refuses
 * file-backed memory on both.  What a user relies on, with the pin held:
 *  - main keeps the pinned pages (the frames a device writes) through
 *    every snapshot and every write of its own, its holes and zero-page
 *    reads included, and every snapshot still holds what main had at its
 *    call, unchanged by main's writes while the task runs;
 *  - a task's pin of its view (its own private pages) does not keep a
 *    later call from seeing main's data of that call;
 *  - the area destroyed, the orbit destroyed, or main exiting with the
 *    pin held frees everything once the pin goes; a refused pin leaves
 *    nothing behind.
 */
#define _GNU_SOURCE
#include <linux/if_xdp.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "tap.h"
#include "util.h"

#ifndef AF_XDP
#define AF_XDP		44
#endif
#ifndef SOL_XDP
#define SOL_XDP		283
#endif

#define PG		4096
#define NPIN		16	/* pages pinned */
#define AREA		(1 << 20)
#define CALLS		200

/* An AF_XDP socket whose UMEM pins n pages at p: its fd, or -1. */
static int umem_pin(void *p, size_t n)
{
	struct xdp_umem_reg mr = {
		.addr = (uintptr_t)p,
		.len = n * PG,
		.chunk_size = PG,
	};
	int fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) == 0)
		return fd;
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* Registers n pages at p as an io_uring fixed buffer: 0, or -1. */
static int uring_fixed(void *p, size_t n)
{
	struct io_uring_params params;
	struct iovec iov = { p, n * PG };
	int fd, ret, err;

	memset(&params, 0, sizeof(params));
	fd = syscall(__NR_io_uring_setup, 4, &params);
	if (fd < 0)
		return -1;
	ret = syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS,
		      &iov, 1);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

struct task_arg {
	long *pages;	/* NPIN pages; the task reads each's first word */
	long want;	/* what main wrote before the call */
	int op;		/* TASK_* */
};

enum { TASK_READ, TASK_PIN, TASK_UNPIN };

static int task_sock = -1;	/* in the orbit: its pin of its view */

/*
 * Reads every page's first word twice, 2 ms apart (main writes in
 * between): 0 if all read want both times, else the first wrong value
 * + 1000.  TASK_PIN pins the view first, TASK_UNPIN drops that pin.
 */
static long task(void *argbuf, void *store)
{
	struct task_arg *a = argbuf;
	volatile long *w;
	int i, pass;

	if (a->op == TASK_PIN) {
		task_sock = umem_pin(a->pages, NPIN);
		if (task_sock < 0)
			return -errno;
	} else if (a->op == TASK_UNPIN) {
		close(task_sock);
		task_sock = -1;
	}
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < NPIN; i++) {
			w = &a->pages[i * PG / sizeof(long)];
			if (*w != a->want)
				return *w + 1000;
		}
		usleep(2000);
	}
	return 0;
}

/* An orbit named name with an area of AREA bytes: the area's base. */
static long *orbit_and_area(const char *name, struct orbit **ob,
			    struct orbit_area **area)
{
	*ob = orbit_create(name, task, NULL);
	*area = *ob ? orbit_area_create(AREA, *ob) : NULL;
	require(*area, "an orbit and an area");
	return orbit_area_base(*area);
}

/* Main's first word of every page := v. */
static void write_all(long *pages, long v)
{
	int i;

	for (i = 0; i < NPIN; i++)
		pages[i * PG / sizeof(long)] = v;
}

/*
 * CALLS async calls, main writing every page while each task runs:
 * the calls whose task read something else, and the calls after which
 * main's frames were not pfn[] (NULL: not checked).
 */
static void calls(struct orbit *ob, struct orbit_area *area, long *pages,
		  const uint64_t *pfn, long *bad, long *moved)
{
	uint64_t now[NPIN];
	struct task_arg a = { pages, 0, TASK_READ };
	struct orbit_future *f;
	long v, ret;

	*bad = *moved = 0;
	for (v = 1; v <= CALLS; v++) {
		write_all(pages, v);
		a.want = v;
		f = orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a));
		write_all(pages, -v);	/* while the task reads */
		if (!f || orbit_future_get(f, &ret) || ret)
			(*bad)++;
		if (pfn && (pfns_of(pages, NPIN, now) ||
			    memcmp(now, pfn, sizeof(now))))
			(*moved)++;
	}
}

/*
 * Pins taken and dropped while main calls and writes: the frames main
 * maps must not change while a pin holds them (a freeze that missed a
 * pin taken as it went would give main a copy at its next write while a
 * task maps the page).
 */
struct pinner {
	long *pages;
	volatile int stop;
	long pins, moved, failed, compared, unmapped;
};

/* The frames main maps at pages now, each page read first. */
static void frames_now(long *pages, uint64_t *pfn)
{
	volatile long sink;
	int i;

	for (i = 0; i < NPIN; i++)	/* maps what a freeze zapped */
		sink = pages[i * PG / sizeof(long)];
	(void)sink;
	pfns_of(pages, NPIN, pfn);
}

static void *pinner(void *arg)
{
	struct pinner *p = arg;
	uint64_t before[NPIN], after[NPIN];
	int fd, i;

	while (!p->stop) {
		fd = umem_pin(p->pages, NPIN);
		if (fd < 0) {
			p->failed++;
			continue;
		}
		frames_now(p->pages, before);
		usleep(300);
		frames_now(p->pages, after);
		close(fd);
		p->pins++;
		/*
		 * A freeze zaps main's PTEs of written pages before it finds
		 * them held (then main keeps them): a page it zapped in
		 * between reads no frame.
		 */
		for (i = 0; i < NPIN; i++) {
			if (!before[i] || !after[i]) {
				p->unmapped++;
				continue;
			}
			p->compared++;
			if (before[i] != after[i]) {
				printf("    # page %d: frame %#llx, then %#llx\n", i,
				       (unsigned long long)before[i],
				       (unsigned long long)after[i]);
				p->moved++;
				break;
			}
		}
	}
	return NULL;
}

/*
 * Main's area pinned: 4 pages written, 4 read only (the zero page), 8
 * holes before the pin.  Returns 1 if the pin was taken (6.1).
 */
static int main_pinned(void)
{
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct orbit *ob;
	uint64_t pfn[NPIN];
	long *pages, bad, moved;
	volatile long sink;
	int fd, i;

	require(orbit_module_stats(&start) == 0, "read module counters");
	pages = orbit_and_area("pin-main", &ob, &area);
	for (i = 0; i < 4; i++)
		pages[i * PG / sizeof(long)] = 0;
	for (i = 4; i < 8; i++)
		sink = pages[i * PG / sizeof(long)];
	(void)sink;
	/* A snapshot first: the written pages are frozen when pinned. */
	ok(orbit_call(ob, 1, &area, NULL,
		      &(struct task_arg){ pages, 0, TASK_READ },
		      sizeof(struct task_arg)) == 0,
	   "a call before the pin");

	fd = umem_pin(pages, NPIN);
	if (fd < 0) {
		ok(errno == EFAULT,
		   "main's area: the UMEM's long-term pin is refused with EFAULT (%s)",
		   strerror(errno));
		calls(ob, area, pages, NULL, &bad, &moved);
		ok(!bad, "%d calls after the refused pin: %ld read wrong",
		   CALLS, bad);
		orbit_area_destroy(area);
		orbit_destroy(ob);
		ok(counters_back_to(&start),
		   "module counters back to their start values");
		return 0;
	}
	ok(1, "main's area: the UMEM pins %d pages", NPIN);
	require(pfns_of(pages, NPIN, pfn) == 0 && frames_in(pfn, NPIN, NPIN) ==
		NPIN && pfn[0], "the pinned frames, %d distinct", NPIN);
	calls(ob, area, pages, pfn, &bad, &moved);
	ok(!bad, "%d calls, main writing while each task reads: %ld read wrong",
	   CALLS, bad);
	ok(!moved, "main kept the pinned frames through every call (%ld moved)",
	   moved);

	/* Pins that come and go while main calls and writes. */
	close(fd);
	{
		struct pinner p = { .pages = pages };
		pthread_t t;

		require(pthread_create(&t, NULL, pinner, &p) == 0, "a pinner");
		calls(ob, area, pages, NULL, &bad, &moved);
		p.stop = 1;
		pthread_join(t, NULL);
		ok(!bad && p.pins > 20 && !p.failed &&
		   p.compared > p.pins * NPIN / 2 && !p.moved,
		   "%d calls while a thread pins and unpins: %ld read wrong; %ld pins, %ld failed, %ld of %ld frames compared changed (%ld not mapped at a look)",
		   CALLS, bad, p.pins, p.failed, p.moved, p.compared,
		   p.unmapped);
	}
	fd = umem_pin(pages, NPIN);
	require(fd >= 0, "pinned again");

	/* The area goes with the pin held; then the pin. */
	orbit_area_destroy(area);
	orbit_destroy(ob);
	close(fd);
	ok(counters_back_to(&start),
	   "area and orbit destroyed with the pin held, then the pin dropped: module counters back");
	return 1;
}

/* An orbit's task pins its view; later calls still see main's data. */
static void view_pinned(int pinnable)
{
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct task_arg a;
	struct orbit *ob;
	long *pages, ret, bad, moved;

	require(orbit_module_stats(&start) == 0, "read module counters");
	pages = orbit_and_area("pin-view", &ob, &area);
	write_all(pages, 5);
	a = (struct task_arg){ pages, 5, TASK_PIN };
	ret = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
	ok(ret == (pinnable ? 0 : -EFAULT), "%s (%ld)",
	   pinnable ? "the task pins its view, reading main's data" :
	   "an orbit's view: the UMEM's long-term pin is refused with EFAULT",
	   ret);
	calls(ob, area, pages, NULL, &bad, &moved);
	ok(!bad, "%d calls with the view %s: %ld read other than main's data",
	   CALLS, pinnable ? "pinned" : "not pinned", bad);
	write_all(pages, 9);
	a = (struct task_arg){ pages, 9, TASK_UNPIN };
	ret = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
	ok(ret == 0, "the task drops its pin (%ld)", ret);
	a.op = TASK_PIN;
	ret = orbit_call(ob, 1, &area, NULL, &a, sizeof(a));
	ok(ret == (pinnable ? 0 : -EFAULT), "and pins again (%ld)", ret);
	/* Destroyed with the task's pin held: its process ends, so does it. */
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start) && procs_gone("pin-view"),
	   "orbit destroyed%s: its process ends, module counters back",
	   pinnable ? " with its view pinned" : "");
}

/* A main that exits with its area pinned and a call running. */
static void exit_pinned(void)
{
	struct orbit_module_stats start;
	int status = -1, ended;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	pid = fork();
	if (pid == 0) {
		struct orbit *ob = orbit_create("pin-exit", task, NULL);
		struct orbit_area *area = ob ? orbit_area_create(AREA, ob) :
					       NULL;
		struct task_arg a;
		long *pages;

		if (!area)
			_exit(10);
		pages = orbit_area_base(area);
		write_all(pages, 3);
		if (umem_pin(pages, NPIN) < 0)
			_exit(11);
		a = (struct task_arg){ pages, 3, TASK_READ };
		if (!orbit_call_async(ob, 0, 1, &area, NULL, &a, sizeof(a)))
			_exit(12);
		write_all(pages, 4);
		_exit(0);
	}
	require(pid > 0, "fork");
	ended = wait_child_ms(pid, 10000, &status) == 0;
	ok(ended && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a main pins its area, calls and exits (status %#x)", status);
	ok(counters_back_to(&start) && procs_gone("pin-exit"),
	   "its orbit ends; module counters back");
}

/* io_uring fixed buffers in an area are refused, and leave nothing. */
static void uring_refused(void)
{
	struct orbit_module_stats start;
	struct orbit_area *area;
	struct orbit *ob;
	long *pages, bad, moved;
	int ret;

	require(orbit_module_stats(&start) == 0, "read module counters");
	pages = orbit_and_area("pin-uring", &ob, &area);
	write_all(pages, 1);
	ret = uring_fixed(pages, NPIN);
	ok(ret == -1 && (errno == EOPNOTSUPP || errno == EFAULT),
	   "an io_uring fixed buffer in an area is refused (%d, %s)", ret,
	   strerror(errno));
	calls(ob, area, pages, NULL, &bad, &moved);
	ok(!bad, "%d calls after it: %ld read wrong", CALLS, bad);
	orbit_area_destroy(area);
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
}

int main(void)
{
	int pinnable = main_pinned();

	diag("long-term pins of area memory are %s on this kernel",
	     pinnable ? "taken" : "refused");
	view_pinned(pinnable);
	if (pinnable)
		exit_pinned();
	uring_refused();
	return tap_done();
}
