// SPDX-License-Identifier: GPL-2.0
/*
 * Calls: snapshot the named areas at issue time, queue on the orbit's FIFO,
 * and hand the result back through a future (or to a sync caller).
 */
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "orbit_internal.h"

#define CALL_FLAGS	(ORBIT_CALL_SYNC | ORBIT_CALL_NOFUTURE)
/* Arguments up to this size live in the call's own allocation. */
#define CALL_INLINE_ARG	256
/* Area id lists up to this long are read onto the stack. */
#define CALL_STACK_IDS	8

/*
 * Drops the snapshot roots the orbit has not taken.  Roots change hands
 * with xchg: the orbit installing a call and whoever ends it (a kill may
 * race with the install) each get a root at most once.
 */
static void call_drop_roots(struct orbit_call *call)
{
	unsigned int i;

	for (i = 0; i < call->nsnap; i++)
		pt_put(xchg(&call->snap[i].root, NULL));
}

struct pt_node *call_take_root(struct orbit_call *call, unsigned int i)
{
	return xchg(&call->snap[i].root, NULL);
}

static void call_release(struct kref *ref)
{
	struct orbit_call *call = container_of(ref, struct orbit_call, ref);
	unsigned int i;

	call_drop_roots(call);
	/* Areas last: nobody else can be looking at the call now. */
	for (i = 0; i < call->nsnap; i++)
		area_put(call->snap[i].area);
	upd_free_list(&call->updates);
	orbit_put(call->orbit);
	if (call->argsize > CALL_INLINE_ARG)
		kfree(call->arg);
	kfree(call);
	ostat_dec(OS_CALLS);
}

void call_put(struct orbit_call *call)
{
	if (call)
		kref_put(&call->ref, call_release);
}

bool call_done(struct orbit_call *call)
{
	/* Pairs with call_finish(): retval and error are visible once done. */
	return smp_load_acquire(&call->state) == CALL_DONE;
}

/* Ends a call taken off its orbit; drops the orbit's reference on it. */
void call_finish(struct orbit_call *call, long retval, int error)
{
	struct orbit *ob = call->orbit;

	call_drop_roots(call);
	if (error)
		ostat_inc(OS_CALLS_FAILED);
	/* Under ob->lock: no update is pushed after the end. */
	spin_lock(&ob->lock);
	call->retval = retval;
	call->error = error;
	/* Publishes retval and error before the state (see call_done()). */
	smp_store_release(&call->state, CALL_DONE);
	spin_unlock(&ob->lock);
	wake_up_all(&call->done);
	call_put(call);
}

/* A call with room for req's areas, and for its argument if small. */
static struct orbit_call *call_alloc(struct orbit_call_req *req)
{
	size_t inl = req->argsize <= CALL_INLINE_ARG ? req->argsize : 0;
	struct orbit_call *call;

	call = kzalloc(size_add(struct_size(call, snap, req->narea), inl),
		       GFP_KERNEL_ACCOUNT);
	if (!call)
		return NULL;
	if (inl)
		call->arg = &call->snap[req->narea];
	kref_init(&call->ref);
	init_waitqueue_head(&call->done);
	INIT_LIST_HEAD(&call->node);
	INIT_LIST_HEAD(&call->updates);
	call->flags = req->flags;
	call->func = req->func;
	call->argsize = req->argsize;
	call->state = CALL_QUEUED;
	ostat_inc(OS_CALLS);
	return call;
}

/* Resolves the orbit and area ids under ctx->lock; takes references. */
static int call_resolve(struct orbit_ctx *ctx, struct orbit_call *call,
			u32 orbit_id, const u32 *ids, unsigned int narea)
{
	unsigned int i, j;

	lockdep_assert_held(&ctx->lock);
	if (ctx->dead)
		return -ESRCH;
	call->orbit = idr_find(&ctx->orbits, orbit_id);
	if (!call->orbit)
		return -ENOENT;
	kref_get(&call->orbit->ref);
	for (i = 0; i < narea; i++) {
		struct orbit_area *area = idr_find(&ctx->areas, ids[i]);

		if (!area)
			return -ENOENT;
		for (j = 0; j < i; j++)
			if (call->snap[j].area == area)
				return -EINVAL;
		call->snap[i].area = area_get(area);
		call->nsnap = i + 1;
	}
	return 0;
}

static int call_enqueue(struct orbit_call *call)
{
	struct orbit *ob = call->orbit;
	int err = 0;

	spin_lock(&ob->lock);
	if (ob->state == ORBIT_DEAD) {
		err = -ESRCH;
	} else if (ob->nqueued >= READ_ONCE(orbit_max_queue)) {
		err = -EAGAIN;
	} else {
		kref_get(&call->ref);	/* the queue's */
		list_add_tail(&call->node, &ob->queue);
		ob->nqueued++;
	}
	spin_unlock(&ob->lock);
	if (!err)
		wake_up(&ob->wq);
	return err;
}

static void call_unpublish(struct orbit_ctx *ctx, struct orbit_call *call)
{
	if (call->id && xa_cmpxchg(&ctx->calls, call->id, call, NULL,
				   GFP_KERNEL) == call)
		call_put(call);
}

long call_issue(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_call_req req;
	struct orbit_call *call;
	u32 stack_ids[CALL_STACK_IDS], *ids = stack_ids;
	unsigned int i;
	int err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~CALL_FLAGS) || req.pad || req.reserved ||
	    (req.flags & ORBIT_CALL_SYNC && req.flags & ORBIT_CALL_NOFUTURE))
		return -EINVAL;
	if (req.narea > READ_ONCE(orbit_max_call_areas) ||
	    req.argsize > READ_ONCE(orbit_max_arg))
		return -EINVAL;
	call = call_alloc(&req);
	if (!call)
		return -ENOMEM;
	if (call->arg) {
		if (copy_from_user(call->arg, u64_to_user_ptr(req.arg),
				   req.argsize)) {
			err = -EFAULT;
			goto out;
		}
	} else if (req.argsize) {
		call->arg = memdup_user(u64_to_user_ptr(req.arg), req.argsize);
		if (IS_ERR(call->arg)) {
			err = PTR_ERR(call->arg);
			call->arg = NULL;
			goto out;
		}
	}
	if (req.narea > CALL_STACK_IDS)
		ids = memdup_user(u64_to_user_ptr(req.areas),
				  array_size(req.narea, sizeof(*ids)));
	else if (req.narea && copy_from_user(ids, u64_to_user_ptr(req.areas),
					     req.narea * sizeof(*ids)))
		ids = ERR_PTR(-EFAULT);
	if (IS_ERR(ids)) {
		err = PTR_ERR(ids);
		ids = stack_ids;
		goto out;
	}

	mutex_lock(&ctx->lock);
	err = call_resolve(ctx, call, req.orbit_id, ids, req.narea);
	for (i = 0; i < call->nsnap && !err; i++)
		err = orbit_bind_area(call->orbit, call->snap[i].area->id);
	if (!err && !(req.flags & ORBIT_CALL_NOFUTURE)) {
		err = xa_alloc_cyclic(&ctx->calls, &call->id, call,
				      XA_LIMIT(1, U32_MAX), &ctx->next_call,
				      GFP_KERNEL);
		if (err >= 0) {
			kref_get(&call->ref);	/* the future's */
			err = 0;
		}
	}
	mutex_unlock(&ctx->lock);
	if (err)
		goto out;

	/* A dead orbit fails at once, before any snapshot work. */
	if (READ_ONCE(call->orbit->state) == ORBIT_DEAD)
		err = -ESRCH;
	for (i = 0; i < call->nsnap && !err; i++)
		err = area_snapshot(call->snap[i].area, &call->snap[i].root);
	if (!err)
		err = call_enqueue(call);
	if (err) {
		call_unpublish(ctx, call);
		goto out;
	}
	ostat_inc(OS_CALLS_TOTAL);

	req.call_id = call->id;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		/* The call runs; without its id the future is unreachable. */
		call_unpublish(ctx, call);
		err = -EFAULT;
		goto out;
	}
	if (req.flags & ORBIT_CALL_SYNC) {
		if (wait_event_interruptible(call->done, call_done(call))) {
			err = -EINTR;	/* collect with ORBIT_IOC_WAIT */
			goto out;
		}
		/* Updates left: the future stays until pulled and waited. */
		if (list_empty_careful(&call->updates))
			call_unpublish(ctx, call);
		else
			req.result |= ORBIT_RESULT_UPDATES;
		req.retval = call->retval;
		err = call->error;
		if (!err && copy_to_user(uarg, &req, sizeof(req)))
			err = -EFAULT;
	}
out:
	if (ids != stack_ids)
		kfree(ids);
	call_put(call);
	return err;
}

/*
 * The future's call named by a wait or pull request, with a reference:
 * EINVAL for a malformed request, ENOENT if there is no such future.
 */
struct orbit_call *call_lookup(struct orbit_ctx *ctx, u64 id,
			       const u64 reserved[2])
{
	struct orbit_call *call;

	if (reserved[0] || reserved[1] || !id || id > U32_MAX)
		return ERR_PTR(-EINVAL);
	xa_lock(&ctx->calls);
	call = xa_load(&ctx->calls, id);
	if (call)
		kref_get(&call->ref);
	xa_unlock(&ctx->calls);
	return call ? call : ERR_PTR(-ENOENT);
}

long call_wait(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_wait w;
	struct orbit_call *call;
	int err;

	if (copy_from_user(&w, uarg, sizeof(w)))
		return -EFAULT;
	call = call_lookup(ctx, w.call_id, w.reserved);
	if (IS_ERR(call))
		return PTR_ERR(call);
	if (wait_event_interruptible(call->done, call_done(call))) {
		call_put(call);
		return -ERESTARTSYS;
	}
	call_unpublish(ctx, call);
	w.retval = call->retval;
	err = call->error;
	call_put(call);
	if (!err && copy_to_user(uarg, &w, sizeof(w)))
		err = -EFAULT;
	return err;
}

void call_drop_futures(struct orbit_ctx *ctx)
{
	struct orbit_call *call;
	unsigned long id;

	xa_for_each(&ctx->calls, id, call)
		call_unpublish(ctx, call);
	xa_destroy(&ctx->calls);
}
