// SPDX-License-Identifier: GPL-2.0
/*
 * Orbits: their generations, their FIFO of calls, their views, their
 * call timeouts and their death.  (The orbit descriptor, through which an
 * orbit's process attaches and runs its task loop, is orbit_fd.c.)
 *
 * A generation starts SPAWNING (created or respawned), becomes READY when
 * its process attaches, and ends DEAD.  Death fails the running call with
 * the cause's errno (ETIMEDOUT for a timeout, else ESRCH) and every queued
 * call with ESRCH, kills the process (if main's credentials may) and drops
 * the generation's views.  Calls are queued while the orbit is SPAWNING
 * or READY and taken one at a time, in order, by the generation's task
 * loop.
 *
 * With a timeout, an orbit must make progress: a call must end within the
 * timeout of starting, and the first queued call must start within the
 * timeout of reaching the head of the queue (an orbit whose init hangs or
 * which was stopped cannot hold its calls forever).
 */
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "orbit_internal.h"
#include "orbit_trace.h"

/*
 * Call timeouts: one module-wide scanner instead of per-orbit work, so
 * that an orbit's last reference never has to cancel work it runs in.
 */
static LIST_HEAD(timed_orbits);		/* orbits with a timeout */
static DEFINE_SPINLOCK(timed_lock);	/* protects timed_orbits */
static void orbit_timeout_scan(struct work_struct *work);
static DECLARE_DELAYED_WORK(timeout_work, orbit_timeout_scan);

static void orbit_timeout_arm(unsigned long deadline)
{
	long delay = (long)(deadline - jiffies);

	/* Only ever brings the next scan forward. */
	if (!delayed_work_pending(&timeout_work) ||
	    time_before(deadline, timeout_work.timer.expires))
		mod_delayed_work(system_wq, &timeout_work, max(delay, 1L));
}

/* The orbit owes progress within its timeout from now. */
static bool orbit_deadline_set(struct orbit *ob)
{
	lockdep_assert_held(&ob->lock);
	if (!ob->timeout)
		return false;
	ob->deadline = jiffies + nsecs_to_jiffies(ob->timeout);
	ob->has_deadline = true;
	return true;
}

#define SCAN_BATCH	16

static void orbit_timeout_scan(struct work_struct *work)
{
	struct orbit *ob, *expired[SCAN_BATCH];
	u32 gens[SCAN_BATCH];
	unsigned long next = 0;
	bool more = false;
	int i, n = 0;

	spin_lock(&timed_lock);
	list_for_each_entry(ob, &timed_orbits, timed) {
		spin_lock(&ob->lock);
		if (ob->has_deadline && ob->state != ORBIT_DEAD) {
			if (!time_after_eq(jiffies, ob->deadline)) {
				if (!next || time_before(ob->deadline, next))
					next = ob->deadline;
			} else if (n < SCAN_BATCH &&
				   kref_get_unless_zero(&ob->ref)) {
				gens[n] = ob->gen;
				expired[n++] = ob;
			} else {
				more = true;
			}
		}
		spin_unlock(&ob->lock);
	}
	spin_unlock(&timed_lock);

	for (i = 0; i < n; i++) {
		orbit_kill_gen(expired[i], -ETIMEDOUT, gens[i],
			       ORBIT_DEATH_TIMEOUT, 0);
		orbit_put(expired[i]);
	}
	if (more)
		next = jiffies + 1;
	if (next)
		orbit_timeout_arm(next);
}

void orbit_timeouts_exit(void)
{
	cancel_delayed_work_sync(&timeout_work);
}

/* Drops views taken off an orbit's list. */
static void views_drop(struct list_head *views)
{
	struct orbit_view *view, *tmp;

	list_for_each_entry_safe(view, tmp, views, node) {
		list_del_init(&view->node);
		view_put(view);
	}
}

static void orbit_release(struct kref *ref)
{
	struct orbit *ob = container_of(ref, struct orbit, ref);

	if (ob->timeout) {
		spin_lock(&timed_lock);
		list_del(&ob->timed);
		spin_unlock(&timed_lock);
	}
	views_drop(&ob->views);	/* empty: its last death took them */
	put_pid(ob->pid);
	xa_destroy(&ob->bound);
	ctx_put(ob->ctx);
	kfree(ob);
	ostat_dec(OS_ORBITS);
}

void orbit_put(struct orbit *ob)
{
	if (ob)
		kref_put(&ob->ref, orbit_release);
}

/*
 * Ends generation gen of the orbit (the current one if gen is
 * ORBIT_ANY_GEN; nothing if that one is already dead or over): see the
 * top of this file.  cause and code say how (ORBIT_DEATH_*).
 */
void orbit_kill_gen(struct orbit *ob, int err, u32 gen, u32 cause, s32 code)
{
	struct orbit_call *running, *call, *tmp;
	u32 failed = 0;
	LIST_HEAD(queued);
	LIST_HEAD(views);
	struct pid *pid;

	spin_lock(&ob->lock);
	if (ob->state == ORBIT_DEAD || (gen != ORBIT_ANY_GEN && gen != ob->gen)) {
		spin_unlock(&ob->lock);
		return;
	}
	gen = ob->gen;
	ob->state = ORBIT_DEAD;
	ob->death = cause;
	ob->death_code = code;
	pid = ob->pid;
	ob->pid = NULL;
	ob->mm = NULL;
	ob->runner = NULL;
	running = ob->running;
	ob->running = NULL;
	list_splice_init(&ob->queue, &queued);
	list_for_each_entry(call, &queued, node)
		call->queued = false;	/* ours now: no cancel takes it */
	ob->nqueued = 0;
	ob->has_deadline = false;
	spin_unlock(&ob->lock);
	wake_up_all(&ob->wq);
	ostat_inc(OS_ORBIT_DEATHS);

	/* The call the orbit owed progress on gets err (ETIMEDOUT...). */
	if (running) {
		call_finish(running, 0, err);
		err = -ESRCH;
		failed++;
	}
	list_for_each_entry_safe(call, tmp, &queued, node) {
		list_del_init(&call->node);
		call_finish(call, 0, err);
		err = -ESRCH;
		failed++;
	}
	trace_orbit_death(ob->id, gen, cause, code, failed);
	orbit_kill_pid(pid, ob->ctx->cred);
	put_pid(pid);

	mutex_lock(&ob->view_lock);
	if (ob->views_gen == gen)
		list_splice_init(&ob->views, &views);
	mutex_unlock(&ob->view_lock);
	views_drop(&views);
}

void orbit_kill(struct orbit *ob, int err, u32 cause)
{
	orbit_kill_gen(ob, err, ORBIT_ANY_GEN, cause, 0);
}

/* Starts a new generation of a dead orbit; *gen gets its number. */
int orbit_respawn(struct orbit *ob, u32 *gen)
{
	int err = 0;

	spin_lock(&ob->lock);
	if (ob->state != ORBIT_DEAD) {
		err = -EBUSY;
	} else {
		*gen = ++ob->gen;
		ob->state = ORBIT_SPAWNING;
		ob->restarts++;
	}
	spin_unlock(&ob->lock);
	return err;
}

bool orbit_gen_alive(struct orbit *ob, u32 gen)
{
	bool alive;

	spin_lock(&ob->lock);
	alive = ob->state != ORBIT_DEAD && ob->gen == gen;
	spin_unlock(&ob->lock);
	return alive;
}

struct orbit *orbit_alloc(struct orbit_ctx *ctx, const char *name,
			  u64 timeout_ns, bool observe)
{
	struct orbit *ob = kzalloc(sizeof(*ob), GFP_KERNEL_ACCOUNT);

	if (!ob)
		return NULL;
	kref_init(&ob->ref);
	kref_get(&ctx->ref);
	ob->ctx = ctx;
	strscpy(ob->name, name, sizeof(ob->name));
	spin_lock_init(&ob->lock);
	init_waitqueue_head(&ob->wq);
	atomic_set(&ob->prewake, 0);
	ob->loop_cpu = -1;
	INIT_LIST_HEAD(&ob->queue);
	mutex_init(&ob->view_lock);
	INIT_LIST_HEAD(&ob->views);
	xa_init(&ob->bound);
	ob->state = ORBIT_SPAWNING;
	ob->timeout = timeout_ns;
	ob->observe = observe;
	ostat_inc(OS_ORBITS);
	/* Last: the scanner may look at it from now on. */
	if (timeout_ns) {
		spin_lock(&timed_lock);
		list_add(&ob->timed, &timed_orbits);
		spin_unlock(&timed_lock);
	}
	return ob;
}

/*
 * Records that the orbit sees area area_id, so its pushed modifications
 * may target that area.  An area already bound is not stored again (a
 * call names its areas every time).
 */
int orbit_bind_area(struct orbit *ob, u32 area_id)
{
	lockdep_assert_held(&ob->ctx->lock);
	if (xa_load(&ob->bound, area_id))
		return 0;
	return xa_err(xa_store(&ob->bound, area_id, xa_mk_value(1),
			       GFP_KERNEL_ACCOUNT));
}

void orbit_unbind_area(struct orbit *ob, u32 area_id)
{
	lockdep_assert_held(&ob->ctx->lock);
	xa_erase(&ob->bound, area_id);
}

/* ---- the FIFO ------------------------------------------------------------ */

/* Takes a queued call off the queue (its reference moves to the caller). */
static void orbit_unqueue(struct orbit *ob, struct orbit_call *call)
{
	lockdep_assert_held(&ob->lock);
	list_del_init(&call->node);
	call->queued = false;
	ob->nqueued--;
	if (!ob->running && list_empty(&ob->queue))
		ob->has_deadline = false;
}

/* Ends calls taken off a queue with ECANCELED. */
static void calls_cancel(struct list_head *calls)
{
	struct orbit_call *call, *tmp;

	list_for_each_entry_safe(call, tmp, calls, node) {
		list_del_init(&call->node);
		call_finish(call, 0, -ECANCELED);
	}
}

/*
 * Queues a call (the queue takes a reference); ESRCH if the orbit is
 * dead.  With ORBIT_CALL_LATEST, the queued calls of the same function
 * that have not started are cancelled.
 */
int orbit_enqueue(struct orbit *ob, struct orbit_call *call)
{
	struct orbit_call *old, *tmp;
	unsigned long dl = 0;
	LIST_HEAD(dropped);
	bool arm = false;
	int err = 0;

	spin_lock(&ob->lock);
	if (ob->state == ORBIT_DEAD) {
		err = -ESRCH;
	} else if (ob->nqueued >= READ_ONCE(orbit_max_queue)) {
		err = -EAGAIN;
	} else {
		if (call->flags & ORBIT_CALL_LATEST) {
			list_for_each_entry_safe(old, tmp, &ob->queue, node) {
				if (old->func != call->func)
					continue;
				orbit_unqueue(ob, old);
				list_add_tail(&old->node, &dropped);
			}
		}
		call_get(call);
		list_add_tail(&call->node, &ob->queue);
		call->queued = true;
		ob->nqueued++;
		if (!ob->has_deadline)
			arm = orbit_deadline_set(ob);
		dl = ob->deadline;
	}
	spin_unlock(&ob->lock);
	calls_cancel(&dropped);
	if (!err)
		wake_up(&ob->wq);
	if (arm)
		orbit_timeout_arm(dl);
	return err;
}

/*
 * Cancels a call that has not started: it fails with ECANCELED and never
 * runs.  EBUSY if it runs, EALREADY if it ended.
 */
int orbit_cancel_call(struct orbit *ob, struct orbit_call *call)
{
	LIST_HEAD(dropped);
	int err = 0;

	spin_lock(&ob->lock);
	if (call->state == CALL_DONE) {
		err = -EALREADY;
	} else if (!call->queued) {
		err = -EBUSY;	/* running, or being ended by a kill */
	} else {
		orbit_unqueue(ob, call);
		list_add_tail(&call->node, &dropped);
	}
	spin_unlock(&ob->lock);
	calls_cancel(&dropped);
	return err;
}

/* The orbit as it is now, for ORBIT_IOC_QUERY. */
void orbit_query_fill(struct orbit *ob, struct orbit_query *q)
{
	spin_lock(&ob->lock);
	q->flags = ob->observe ? ORBIT_CREATE_OBSERVE : 0;
	q->state = ob->state == ORBIT_DEAD ? ORBIT_STATE_DEAD :
		   ob->state == ORBIT_READY ? ORBIT_STATE_READY :
					      ORBIT_STATE_SPAWNING;
	q->restarts = ob->restarts;
	q->gen = ob->gen;
	q->pid = ob->pid ? pid_vnr(ob->pid) : 0;
	q->calls_done = ob->calls_done;
	q->calls_queued = ob->nqueued + (ob->running ? 1 : 0);
	q->calls_failed = ob->calls_failed;
	q->death = ob->death;
	q->death_code = ob->death_code;
	spin_unlock(&ob->lock);
}

/*
 * For generation gen's task loop: the next call, now running, with a
 * reference for the caller (the orbit keeps the queue's); NULL if there
 * is none or the generation is over.
 */
struct orbit_call *orbit_next_call(struct orbit *ob, u32 gen)
{
	struct orbit_call *call = NULL;
	unsigned long dl = 0;
	bool arm = false;

	spin_lock(&ob->lock);
	if (ob->state == ORBIT_READY && ob->gen == gen && !ob->running &&
	    !list_empty(&ob->queue)) {
		call = list_first_entry(&ob->queue, struct orbit_call, node);
		list_del_init(&call->node);
		call->queued = false;
		ob->nqueued--;
		call->state = CALL_RUNNING;
		ob->running = call;
		call_get(call);
		arm = orbit_deadline_set(ob);
		dl = ob->deadline;
	}
	spin_unlock(&ob->lock);
	if (arm)
		orbit_timeout_arm(dl);
	return call;
}

/*
 * Takes generation gen's running call off the orbit, with the orbit's
 * reference: expect, or (expect NULL) whatever call the calling thread
 * runs.  NULL if the call ended otherwise (a kill) or none runs.
 */
struct orbit_call *orbit_take_running(struct orbit *ob, u32 gen,
				      struct orbit_call *expect)
{
	struct orbit_call *call;
	unsigned long dl = 0;
	bool arm = false;

	spin_lock(&ob->lock);
	call = ob->running;
	if (ob->state == ORBIT_DEAD || ob->gen != gen ||
	    (expect && call != expect) ||
	    (!expect && ob->runner != current))
		call = NULL;
	if (call) {
		ob->running = NULL;
		if (!(call->flags & ORBIT_CALL_QUIET))
			ob->calls_done++;
		ob->has_deadline = false;
		if (!list_empty(&ob->queue))
			arm = orbit_deadline_set(ob);
		dl = ob->deadline;
	}
	spin_unlock(&ob->lock);
	if (arm)
		orbit_timeout_arm(dl);
	return call;
}

/* ---- views ----------------------------------------------------------------- */

/* Drops the views of destroyed areas: their pages and their addresses. */
static void orbit_reap_views(struct orbit *ob)
{
	struct orbit_view *view, *tmp;

	lockdep_assert_held(&ob->view_lock);
	list_for_each_entry_safe(view, tmp, &ob->views, node) {
		if (!READ_ONCE(view->area->dead))
			continue;
		list_del_init(&view->node);
		view_unmap(view);
		view_put(view);
	}
}

static struct orbit_view *orbit_view_of(struct orbit *ob,
					struct orbit_area *area)
{
	struct orbit_view *view;

	lockdep_assert_held(&ob->view_lock);
	list_for_each_entry(view, &ob->views, node)
		if (view->area == area && view->mm == current->mm)
			return view;
	view = view_create(area);
	if (!IS_ERR(view))
		list_add(&view->node, &ob->views);
	return view;
}

/*
 * Installs the call's snapshots in the calling orbit process (generation
 * gen).  A generation that is over adds no view: its death took the list
 * (or will, under view_lock), and a view left by an older generation is
 * dropped here.
 */
int orbit_install(struct orbit *ob, u32 gen, struct orbit_call *call,
		  u64 *changed)
{
	LIST_HEAD(stale);
	unsigned int i;
	int err = 0;

	mutex_lock(&ob->view_lock);
	if (!orbit_gen_alive(ob, gen)) {
		err = -ESRCH;
		goto out;
	}
	if (ob->views_gen != gen) {
		list_splice_init(&ob->views, &stale);
		ob->views_gen = gen;
	}
	orbit_reap_views(ob);
	for (i = 0; i < call->nsnap; i++) {
		struct orbit_view *view = orbit_view_of(ob, call->snap[i].area);
		struct pt_node *replaced;

		if (IS_ERR(view)) {
			err = PTR_ERR(view);
			break;
		}
		/* NULL if the call ended meanwhile: installs an empty view. */
		*changed += view_install(view, call_take_root(call, i),
					 &replaced);
		call_keep_replaced(call, i, replaced);
	}
out:
	mutex_unlock(&ob->view_lock);
	views_drop(&stale);
	return err;
}
