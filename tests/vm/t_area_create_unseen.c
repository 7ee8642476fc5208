// SPDX-License-Identifier: GPL-2.0
/*
 * An area whose creator is never told its id does not stay behind.  A raw
 * ORBIT_IOC_AREA_CREATE whose request lies on a read-only page reads the
 * request, creates the area, then cannot write the id back (EFAULT): the
 * module must take the area out again.  Meanwhile another thread destroys
 * the id it guesses the create gets (ids are handed out in turn), so a
 * destroy may take the area first; and in a child, a third thread ends
 * the process in the middle of it all.  Every create fails with EFAULT,
 * every destroy succeeds or fails with ENOENT, and the module's counters
 * come back to their start.  Under make soak-debug, KASAN and lockdep
 * watch the undo.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "../../uapi/orbit.h"
#include "tap.h"
#include "util.h"

#define PAGE	4096
#define SLOTS	2000	/* creates per run, each at its own page */

struct race {
	int fd;
	unsigned char *win;		/* SLOTS pages, reserved PROT_NONE */
	struct orbit_area_req *ro;	/* the request, on a read-only page */
	atomic_uint guess;		/* the id the next create gets */
	atomic_int stop;
	long efault, other_create;	/* creates: EFAULT, anything else */
	long taken, enoent, other_destroy;	/* destroys */
	int other_err;
};

/* A create with a writable request: the area's id, or 0. */
static unsigned int create_seen(int fd, void *addr)
{
	struct orbit_area_req req = { .addr = (uintptr_t)addr, .size = PAGE };

	return ioctl(fd, ORBIT_IOC_AREA_CREATE, &req) == 0 ? req.id : 0;
}

static int destroy_id(int fd, unsigned int id)
{
	struct orbit_ref ref = { .id = id };

	return ioctl(fd, ORBIT_IOC_AREA_DESTROY, &ref);
}

/* Points the read-only request at addr: 0, or -1. */
static int request_for(struct race *r, void *addr)
{
	if (mprotect(r->ro, PAGE, PROT_READ | PROT_WRITE))
		return -1;
	r->ro->addr = (uintptr_t)addr;
	return mprotect(r->ro, PAGE, PROT_READ);
}

/* Makes addr's page a bare reservation again: 0, or -1. */
static int reserve_again(void *addr)
{
	return mmap(addr, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_NORESERVE | MAP_FIXED, -1, 0) == addr ? 0 : -1;
}

/*
 * Sets up r: a context, the window, the read-only request; the next id
 * learnt from one create that is told it.
 */
static int race_init(struct race *r)
{
	unsigned int id;

	memset(r, 0, sizeof(*r));
	r->fd = raw_context(0);
	r->win = mmap(NULL, (SLOTS + 1) * PAGE, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	r->ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->fd < 0 || r->win == MAP_FAILED || r->ro == MAP_FAILED)
		return -1;
	r->ro->size = PAGE;
	if (mprotect(r->ro, PAGE, PROT_READ))
		return -1;
	id = create_seen(r->fd, r->win + SLOTS * PAGE);
	if (!id || destroy_id(r->fd, id) || reserve_again(r->win + SLOTS * PAGE))
		return -1;
	atomic_store(&r->guess, id + 1);
	return 0;
}

/* Destroys the guessed id until told to stop. */
static void *destroyer(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		if (destroy_id(r->fd, atomic_load(&r->guess)) == 0)
			r->taken++;
		else if (errno == ENOENT)
			r->enoent++;
		else if (!r->other_destroy++)
			r->other_err = errno;
	}
	return NULL;
}

/* SLOTS creates that cannot write their id; the destroyer guesses each. */
static void creates(struct race *r)
{
	int i;

	for (i = 0; i < SLOTS; i++) {
		if (request_for(r, r->win + i * PAGE))
			break;
		if (ioctl(r->fd, ORBIT_IOC_AREA_CREATE, r->ro) == 0)
			r->other_create++;
		else if (errno == EFAULT)
			r->efault++;
		else if (!r->other_create++)
			r->other_err = errno;
		atomic_fetch_add(&r->guess, 1);
	}
}

static void race_run(struct race *r)
{
	pthread_t th;

	if (pthread_create(&th, NULL, destroyer, r)) {
		r->other_err = EAGAIN;
		r->other_create = -1;
		return;
	}
	creates(r);
	atomic_store(&r->stop, 1);
	pthread_join(th, NULL);
}

static void *exit_soon(void *arg)
{
	usleep(*(int *)arg);
	_exit(0);
}

/* In a child: the race, and a thread that ends it after us microseconds. */
static void race_then_exit(int us)
{
	struct race r;
	pthread_t th;

	if (race_init(&r) || pthread_create(&th, NULL, exit_soon, &us))
		_exit(2);
	race_run(&r);
	_exit(0);	/* the run outlasted the timer: the exit came after it */
}

int main(void)
{
	struct orbit_module_stats start;
	struct race r;
	unsigned int next;
	int i, status, clean = 0;
	pid_t pid;

	require(orbit_module_stats(&start) == 0, "read module counters");
	require(race_init(&r) == 0, "raw context, window, read-only request");

	/* Alone: the id is not written, and nothing is left under it. */
	next = atomic_load(&r.guess);
	require(request_for(&r, r.win) == 0, "request for page 0");
	ok(ioctl(r.fd, ORBIT_IOC_AREA_CREATE, r.ro) == -1 && errno == EFAULT,
	   "a create that cannot write the id back: EFAULT");
	ok(destroy_id(r.fd, next) == -1 && errno == ENOENT,
	   "its id (%u, the one after the last) names no area: ENOENT", next);
	/* Its mapping held it (as for any area) until now. */
	require(reserve_again(r.win) == 0, "reserve page 0 again");
	ok(counters_back_to(&start), "no area left once its range is unmapped");
	i = create_seen(r.fd, r.win);
	ok(i == (int)next + 1 && destroy_id(r.fd, i) == 0,
	   "the range takes an area again, the next id (%d)", i);
	require(reserve_again(r.win) == 0, "reserve page 0 again");
	atomic_store(&r.guess, next + 2);

	/* Racing a destroy of the guessed id. */
	race_run(&r);
	ok(r.efault == SLOTS && !r.other_create,
	   "%ld of %d creates failed with EFAULT (errno %d otherwise)",
	   r.efault, SLOTS, r.other_err);
	ok(!r.other_destroy,
	   "racing destroys: %ld took the area first, %ld found none, %ld failed otherwise",
	   r.taken, r.enoent, r.other_destroy);
	close(r.fd);
	munmap(r.win, (SLOTS + 1) * PAGE);
	ok(counters_back_to(&start), "module counters back to their start");

	/* The process ends in the middle of the race (after 0.1..50 ms). */
	for (i = 0; i < 8; i++) {
		pid = fork();
		if (pid == 0)
			race_then_exit(100 + i * 7000);
		clean += pid > 0 && waitpid(pid, &status, 0) == pid &&
			 WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	ok(clean == 8, "8 processes that exited mid-race exited cleanly (%d)",
	   clean);
	ok(counters_back_to(&start), "module counters back to their start");
	return tap_done();
}
