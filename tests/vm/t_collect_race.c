// SPDX-License-Identifier: GPL-2.0
/*
 * Two threads collect one call's future at once: ORBIT_IOC_WAIT against
 * a releasing ORBIT_IOC_PULL, two WAITs, two releasing PULLs (raw ioctls
 * on the library's context; the library itself never races two
 * collectors, a program using the ioctls may).  What uapi/orbit.h
 * promises, round after round, with the collectors released together
 * while the task runs or after it ended:
 *  - at least one of them reports the end, and every end reported
 *    carries the task's result; the other reports it too or finds the
 *    future gone (ENOENT), never another error;
 *  - an update the task pushed reaches a puller at most once, and
 *    exactly once when only pullers collect; its bytes are the task's;
 *  - afterwards the future is gone (ENOENT), and once the orbit is
 *    destroyed the module holds nothing (the calls and updates a
 *    collector raced away are freed, memory debugging on).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stddef.h>
#include <sys/ioctl.h>

#include "tap.h"
#include "util.h"
#include "../../libuorbit/internal.h"	/* the context's descriptor */

#define ROUNDS	3000
#define BUF	256

enum { WAIT, PULL };

struct task_arg {
	long seq;
	int push;
	int spin_us;
};

/* Pushes seq if asked, after spin_us on the CPU; returns 3 * seq + 1. */
static long answer(void *argbuf, void *store)
{
	struct task_arg *a = argbuf;
	struct orbit_update *u;

	spin_us(a->spin_us);
	if (a->push) {
		u = orbit_update_create();
		if (!u || orbit_update_add_data(u, &a->seq, sizeof(a->seq)) ||
		    orbit_push(u, NULL))
			return -1;
	}
	return 3 * a->seq + 1;
}

struct collector {
	pthread_t thread;
	int kind;		/* WAIT or PULL, set per round by main */
	uint64_t id;
	long seq;
	/* results of the round */
	int ended;		/* it reported the end */
	long retval;
	int updates;		/* updates that carried seq */
	int strays;		/* updates that did not */
	int err;		/* errno of the failure that ended it, or 0 */
};

static pthread_barrier_t go, done;
static volatile int stop;

static void collect_wait(struct collector *c)
{
	struct orbit_wait w = { .call_id = c->id };

	if (ioctl(uo_ctx_fd(), ORBIT_IOC_WAIT, &w)) {
		c->err = errno;
		return;
	}
	c->ended = 1;
	c->retval = w.retval;
}

/* Releasing pulls until the end: its updates counted on the way. */
static void collect_pull(struct collector *c)
{
	unsigned char buf[BUF];
	struct orbit_pull p;

	for (;;) {
		memset(&p, 0, sizeof(p));
		p.call_id = c->id;
		p.buf = (uintptr_t)buf;
		p.cap = sizeof(buf);
		p.flags = ORBIT_PULL_RELEASE;
		if (ioctl(uo_ctx_fd(), ORBIT_IOC_PULL, &p)) {
			c->err = errno;
			return;
		}
		if (p.status != ORBIT_PULL_END) {
			if (memmem(buf, p.len, &c->seq, sizeof(c->seq)))
				c->updates++;
			else
				c->strays++;
		}
		if (p.status != ORBIT_PULL_UPDATE) {
			c->ended = 1;
			c->retval = p.error ? -1 : p.retval;
			return;
		}
	}
}

static void *collector_loop(void *arg)
{
	struct collector *c = arg;

	for (;;) {
		pthread_barrier_wait(&go);
		if (stop)
			return NULL;
		if (c->kind == WAIT)
			collect_wait(c);
		else
			collect_pull(c);
		pthread_barrier_wait(&done);
	}
}

static const char *const pair_name[] = { "wait+pull", "wait+wait", "pull+pull" };

struct tally {
	int rounds, wrong, both_ended, updates_lost;
};

int main(void)
{
	static const int kinds[3][2] = { { WAIT, PULL }, { WAIT, WAIT },
					 { PULL, PULL } };
	struct orbit_module_stats start;
	struct collector c[2] = { 0 };
	struct tally t[3] = { 0 };
	struct task_arg a;
	struct orbit *ob;
	int r, i, pair, updates, bad, call_err = 0;

	require(orbit_module_stats(&start) == 0, "read module counters");
	ob = orbit_create("collect", answer, NULL);
	require(ob && orbit_call(ob, 0, NULL, NULL, &(struct task_arg){ 0 },
				 sizeof(struct task_arg)) == 1,
		"an orbit, its first call done");
	require(pthread_barrier_init(&go, NULL, 3) == 0 &&
		pthread_barrier_init(&done, NULL, 3) == 0 &&
		pthread_create(&c[0].thread, NULL, collector_loop, &c[0]) == 0 &&
		pthread_create(&c[1].thread, NULL, collector_loop, &c[1]) == 0,
		"two collector threads");
	for (r = 0; r < ROUNDS; r++) {
		pair = r % 3;
		a.seq = 1000 + r;
		a.push = r / 3 % 2;
		a.spin_us = r / 6 % 4 * 100;	/* 0: often over before they go */
		for (i = 0; i < 2; i++) {
			memset(&c[i].ended, 0,
			       sizeof(c[i]) - offsetof(struct collector, ended));
			c[i].kind = kinds[pair][i];
			c[i].seq = a.seq;
		}
		c[0].id = c[1].id = raw_call_on(uo_ctx_fd(), ob->id, &a,
						  sizeof(a));
		if (!c[0].id) {
			call_err = errno;
			break;
		}
		pthread_barrier_wait(&go);
		pthread_barrier_wait(&done);

		updates = c[0].updates + c[1].updates;
		bad = !c[0].ended && !c[1].ended;
		for (i = 0; i < 2; i++)
			bad |= (c[i].ended && c[i].retval != 3 * a.seq + 1) ||
			       (!c[i].ended && c[i].err != ENOENT) ||
			       c[i].strays;
		bad |= updates > a.push ||
		       (pair == 2 && updates != a.push);
		bad |= ioctl(uo_ctx_fd(), ORBIT_IOC_WAIT,
			     &(struct orbit_wait){ .call_id = c[0].id }) != -1 ||
		       errno != ENOENT;
		if (bad && !t[pair].wrong)
			printf("    # round %d (%s, push %d, spin %d us): ended %d/%d retval %ld/%ld errno %d/%d updates %d/%d strays %d/%d\n",
			       r, pair_name[pair], a.push, a.spin_us,
			       c[0].ended, c[1].ended, c[0].retval,
			       c[1].retval, c[0].err, c[1].err,
			       c[0].updates, c[1].updates, c[0].strays,
			       c[1].strays);
		t[pair].rounds++;
		t[pair].wrong += bad;
		t[pair].both_ended += c[0].ended && c[1].ended;
		t[pair].updates_lost += a.push - updates;
	}
	stop = 1;
	pthread_barrier_wait(&go);
	pthread_join(c[0].thread, NULL);
	pthread_join(c[1].thread, NULL);

	ok(r == ROUNDS, "%d of %d calls issued (%s)", r, ROUNDS,
	   strerror(call_err));
	for (pair = 0; pair < 3; pair++)
		ok(t[pair].wrong == 0,
		   "%s: %d of %d rounds as promised (both reported the end in %d; updates collected away by a wait: %d)",
		   pair_name[pair], t[pair].rounds - t[pair].wrong,
		   t[pair].rounds, t[pair].both_ended, t[pair].updates_lost);
	ok(orbit_call(ob, 0, NULL, NULL, &(struct task_arg){ .seq = 5 },
		      sizeof(struct task_arg)) == 16,
	   "the orbit still answers");
	orbit_destroy(ob);
	ok(counters_back_to(&start), "module counters back to their start values");
	return tap_done();
}
