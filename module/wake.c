// SPDX-License-Identifier: GPL-2.0
/*
 * Early wakeups: a call's two sleepers woken when their wait's last
 * stretch starts, to poll through it, instead of when it ends.
 *
 * A CPU that has idled for a while wakes slowly: a deep C-state on
 * hardware, and under an emulator a vCPU thread that the host has put to
 * sleep (traced under QEMU TCG: 150..450 us from the wakeup to the task
 * running, against about 20 us on a busy vCPU).  A call pays that
 * twice: the task loop is woken once main has snapshotted the call, and
 * main once the task has pushed an update or ended.  Both stretches are
 * known when they start:
 *
 *  - prewake: a caller whose snapshot has enough pages to freeze wakes
 *    the sleeping task loop before it snapshots; the loop polls for the
 *    call while the caller works (orbit_prewake_begin/end, orbit_run).
 *  - early wake: the task loop, taking a call that has a future, wakes
 *    whoever waits on it (a sync caller, a WAIT, a PULL) before it
 *    installs the snapshot; the waiter polls for what it waits for (the
 *    end, or an update) while the loop installs and the task runs
 *    (orbit_wake_early, orbit_wait_call).  A waiter tells the orbit when
 *    a poll ran out, and the orbit's next early wakes are not made: one
 *    after a first miss, twice as many after each miss that follows, at
 *    most EARLY_SKIP_MAX, and none again once a poll has found what it
 *    waited for in a call none of whose polls ran out (a long task's
 *    pulls: the first outlasts its poll, the one for the end, right
 *    after the last push, finds it; that is no sign the next task is
 *    short).  So a single long call (a first snapshot of a large area,
 *    say) costs the short calls after it one early wake, and an orbit
 *    whose tasks always outlast the poll costs main one poll in
 *    EARLY_SKIP_MAX + 1 calls.
 *
 * A poll lasts at most poll_us (module parameter; 0 turns both off) and
 * ends as soon as the CPU is wanted: need_resched, another task runnable
 * on it (as KVM's halt polling stops), or a signal.  Then the sleeper
 * sleeps and is woken at the end as before, so a poll only ever hides a
 * wakeup and never decides anything; wakeups are hints (a waker that
 * finds nobody waiting does nothing).  Neither is attempted when the
 * sleeper last slept on the waker's own CPU, where it would only take
 * that CPU from the work it waits for.
 *
 * State: ob->prewake (callers between prewake_begin and _end), ob->loop_cpu,
 * ob->early_skip and ob->early_backoff (hints, read and written without a
 * lock: a lost update only changes how often a poll is tried), call->early,
 * call->early_spent and call->wait_cpu (the same; wait_cpu is the last
 * waiter's CPU when several wait); all live as long as the orbit and the
 * call they are in.
 */
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>

#include "orbit_internal.h"

/* A snapshot with this many pages to freeze prewakes the task loop. */
#define PREWAKE_MIN_PAGES	32
/* Most early wakes of an orbit's callers not made after a poll ran out. */
#define EARLY_SKIP_MAX		16

bool orbit_poll(bool (*ready)(void *arg), void *arg, bool *spent)
{
	unsigned int us = READ_ONCE(orbit_poll_us);
	u64 end = local_clock() + (u64)us * NSEC_PER_USEC;

	*spent = false;
	ostat_inc(OS_POLLS);
	while (!ready(arg)) {
		if (need_resched() || !single_task_running() ||
		    signal_pending(current))
			return false;
		if (local_clock() > end) {
			ostat_inc(OS_POLLS_MISSED);
			*spent = true;
			return false;
		}
		cpu_relax();
	}
	return true;
}

bool orbit_prewake_begin(struct orbit *ob, struct orbit_call *call)
{
	unsigned long pages = 0;
	unsigned int i;

	/*
	 * Unordered, a hint: a loop that starts to wait just after this
	 * check is not prewoken, and is woken when the call is queued.
	 */
	if (!READ_ONCE(orbit_poll_us) || !waitqueue_active(&ob->wq) ||
	    READ_ONCE(ob->loop_cpu) == raw_smp_processor_id())
		return false;
	for (i = 0; i < call->nsnap; i++)
		pages += area_dirty_hint(call->snap[i].area);
	if (pages < PREWAKE_MIN_PAGES)
		return false;
	atomic_inc(&ob->prewake);
	wake_up(&ob->wq);
	return true;
}

void orbit_prewake_end(struct orbit *ob, bool prewoken)
{
	if (prewoken)
		atomic_dec(&ob->prewake);
}

void orbit_wake_early(struct orbit *ob, struct orbit_call *call)
{
	unsigned int skip = READ_ONCE(ob->early_skip);

	if ((call->flags & ORBIT_CALL_NOFUTURE) || !READ_ONCE(orbit_poll_us) ||
	    READ_ONCE(call->wait_cpu) == raw_smp_processor_id())
		return;
	if (skip) {
		WRITE_ONCE(ob->early_skip, skip - 1);
		return;
	}
	WRITE_ONCE(call->early, true);
	wake_up(&call->done);
	wake_up(&call->pullq);
}

/* A waiter's poll ran out: skip the next early wakes, more each time. */
static void orbit_early_missed(struct orbit *ob)
{
	unsigned int backoff = READ_ONCE(ob->early_backoff);

	backoff = backoff ? min(backoff * 2, EARLY_SKIP_MAX) : 1;
	WRITE_ONCE(ob->early_backoff, backoff);
	WRITE_ONCE(ob->early_skip, backoff);
}

/* A waiter's poll found what it waited for: the next miss skips one. */
static void orbit_early_hit(struct orbit *ob)
{
	if (READ_ONCE(ob->early_backoff))
		WRITE_ONCE(ob->early_backoff, 0);
}

int orbit_wait_call(struct orbit_call *call, struct wait_queue_head *wq,
		    bool (*ready)(void *call))
{
	bool polled = false, spent;

	for (;;) {
		WRITE_ONCE(call->wait_cpu, raw_smp_processor_id());
		if (wait_event_interruptible(*wq, ready(call) ||
					     (!polled && READ_ONCE(call->early))))
			return -ERESTARTSYS;
		if (ready(call))
			return 0;
		polled = true;
		if (orbit_poll(ready, call, &spent)) {
			if (!READ_ONCE(call->early_spent))
				orbit_early_hit(call->orbit);
			return 0;
		}
		if (spent) {
			WRITE_ONCE(call->early_spent, true);
			orbit_early_missed(call->orbit);
		}
	}
}
