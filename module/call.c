// SPDX-License-Identifier: GPL-2.0
/*
 * Calls: snapshot the named areas at issue time, queue on the orbit's FIFO
 * (orbits.c), and hand the result back through a future or to a sync
 * caller.  See struct orbit_call for who holds a call.
 */
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "orbit_internal.h"
#include "orbit_trace.h"

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

	for (i = 0; i < call->nsnap; i++) {
		pt_put(xchg(&call->snap[i].root, NULL));
		pt_put_async(xchg(&call->snap[i].replaced, NULL));
	}
}

/* Ends the call's snapshots' life (area->live_snaps), once. */
static void call_end_snaps(struct orbit_call *call)
{
	unsigned int i;

	for (i = 0; i < call->nsnap; i++)
		if (xchg(&call->snap[i].live, 0))
			area_snapshot_end(call->snap[i].area);
}

struct pt_node *call_take_root(struct orbit_call *call, unsigned int i)
{
	return xchg(&call->snap[i].root, NULL);
}

/*
 * Keeps the snapshot that snapshot i's install replaced until the call
 * ends (see struct orbit_snap); a call that ended meanwhile drops it when
 * it is freed.
 */
void call_keep_replaced(struct orbit_call *call, unsigned int i,
			struct pt_node *old)
{
	pt_put_async(xchg(&call->snap[i].replaced, old));
}

static void call_release(struct kref *ref)
{
	struct orbit_call *call = container_of(ref, struct orbit_call, ref);
	struct orbit_ctx *ctx = call->ctx;
	unsigned int i;

	call_drop_roots(call);
	call_end_snaps(call);	/* a call that never ran */
	/* Areas last: nobody else can be looking at the call now. */
	for (i = 0; i < call->nsnap; i++)
		area_put(call->snap[i].area);
	upd_free_list(ctx, &call->updates);
	orbit_uncharge(&ctx->acct, call->charged);
	argbuf_put(ctx, call->argalloc ? call->arg : NULL, call->argalloc);
	orbit_put(call->orbit);	/* may free ctx: last */
	kfree(call);
	ostat_dec(OS_CALLS);
}

void call_get(struct orbit_call *call)
{
	kref_get(&call->ref);
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
	call_end_snaps(call);
	if (error)
		ostat_inc(OS_CALLS_FAILED);
	/* Under ob->lock: no update is pushed after the end. */
	spin_lock(&ob->lock);
	call->retval = retval;
	call->error = error;
	if (error && !(call->flags & ORBIT_CALL_QUIET))
		ob->calls_failed++;
	/* Publishes retval and error before the state (see call_done()). */
	smp_store_release(&call->state, CALL_DONE);
	spin_unlock(&ob->lock);
	trace_orbit_call_done(ob->id, call->id, retval, error,
			      orbit_trace_since(call->issued_ns));
	wake_up_all(&call->done);
	wake_up_all(&call->pullq);
	call_put(call);
}

/*
 * A call with room for req's areas, and for its argument if small, its
 * size charged to the context's user (a large argument's buffer charges
 * its own, argbuf.c).  ERR_PTR(-EDQUOT or -ENOMEM).
 */
static struct orbit_call *call_alloc(struct orbit_ctx *ctx,
				     struct orbit_call_req *req)
{
	size_t inl = req->argsize <= CALL_INLINE_ARG ? req->argsize : 0;
	struct orbit_call *call;
	size_t size = size_add(struct_size(call, snap, req->narea), inl);
	int err;

	err = orbit_charge(&ctx->acct, size);
	if (err)
		return ERR_PTR(err);
	/* Up to 128 KiB with many areas: failing is ENOMEM, not a warning. */
	call = kzalloc(size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!call) {
		orbit_uncharge(&ctx->acct, size);
		return ERR_PTR(-ENOMEM);
	}
	call->ctx = ctx;
	call->charged = size;
	if (inl)
		call->arg = &call->snap[req->narea];
	kref_init(&call->ref);
	INIT_HLIST_NODE(&call->hnode);
	init_waitqueue_head(&call->done);
	init_waitqueue_head(&call->pullq);
	INIT_LIST_HEAD(&call->node);
	INIT_LIST_HEAD(&call->updates);
	call->flags = req->flags;
	call->func = req->func;
	call->tag = req->tag;
	call->argsize = req->argsize;
	call->state = CALL_QUEUED;
	call->wait_cpu = -1;
	call->issued_ns = orbit_trace_clock(trace_orbit_call_done_enabled());
	ostat_inc(OS_CALLS);
	return call;
}

/* Copies the argument in (charged memory, unlike memdup_user). */
static int call_copy_arg(struct orbit_call *call, u64 uarg)
{
	int err;

	if (!call->argsize)
		return 0;
	if (!call->arg) {
		call->arg = argbuf_get(call->ctx, call->argsize,
				       &call->argalloc, &err);
		if (!call->arg)
			return err;
	}
	if (copy_from_user(call->arg, u64_to_user_ptr(uarg), call->argsize))
		return -EFAULT;
	return 0;
}

/* Resolves the orbit and area ids, takes references and binds the areas. */
static int call_resolve(struct orbit_ctx *ctx, struct orbit_call *call,
			u32 orbit_id, const u32 *ids, unsigned int narea)
{
	unsigned int i, j;
	int err;

	lockdep_assert_held(&ctx->lock);
	if (ctx->dead)
		return -ESRCH;
	call->orbit = orbit_id > INT_MAX ? NULL :
		      idr_find(&ctx->orbits, orbit_id);
	if (!call->orbit)
		return -ENOENT;
	kref_get(&call->orbit->ref);
	for (i = 0; i < narea; i++) {
		struct orbit_area *area = ids[i] > INT_MAX ? NULL :
					  idr_find(&ctx->areas, ids[i]);

		if (!area)
			return -ENOENT;
		for (j = 0; j < i; j++)
			if (call->snap[j].area == area)
				return -EINVAL;
		call->snap[i].area = area_get(area);
		call->nsnap = i + 1;
	}
	for (i = 0; i < call->nsnap; i++) {
		err = orbit_bind_area(call->orbit, call->snap[i].area->id);
		if (err)
			return err;
	}
	return 0;
}

static struct orbit_call *call_find(struct orbit_ctx *ctx, u32 id)
{
	struct orbit_call *call;

	lockdep_assert_held(&ctx->calls_lock);
	hash_for_each_possible(ctx->calls, call, hnode, id)
		if (call->id == id)
			return call;
	return NULL;
}

/*
 * Gives the call a future: a fresh id (cyclic, never 0, none in use: the
 * calls in the table are far fewer than 2^32) and the table's reference.
 */
static void call_publish(struct orbit_ctx *ctx, struct orbit_call *call)
{
	spin_lock(&ctx->calls_lock);
	do {
		call->id = ++ctx->next_call;
	} while (!call->id || call_find(ctx, call->id));
	hash_add(ctx->calls, &call->hnode, call->id);
	call_get(call);
	spin_unlock(&ctx->calls_lock);
}

/* Takes the call's future away (once: the first caller drops its ref). */
void call_unpublish(struct orbit_ctx *ctx, struct orbit_call *call)
{
	bool published;

	spin_lock(&ctx->calls_lock);
	published = hash_hashed(&call->hnode);
	if (published)
		hash_del(&call->hnode);
	spin_unlock(&ctx->calls_lock);
	if (published)
		call_put(call);
}

/* A failed sync call's updates go: nobody will pull them. */
static void call_discard_updates(struct orbit_call *call)
{
	struct orbit *ob = call->orbit;
	LIST_HEAD(updates);

	spin_lock(&ob->lock);
	list_splice_init(&call->updates, &updates);
	call->upd_bytes = 0;
	spin_unlock(&ob->lock);
	upd_free_list(ob->ctx, &updates);
}

/* Reads the area id list: onto the stack, or into *heap (caller frees). */
static u32 *call_read_ids(struct orbit_call_req *req, u32 *stack, u32 **heap)
{
	size_t bytes = array_size(req->narea, sizeof(u32));
	u32 *ids = stack;

	*heap = NULL;
	if (req->narea > CALL_STACK_IDS) {
		ids = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
		if (!ids)
			return ERR_PTR(-ENOMEM);
		*heap = ids;
	}
	if (req->narea && copy_from_user(ids, u64_to_user_ptr(req->areas),
					 bytes))
		return ERR_PTR(-EFAULT);
	return ids;
}

static bool call_done_poll(void *call)
{
	return call_done(call);
}

/*
 * Waits for a sync call and fills in its result.  A result the caller
 * cannot be told of (EFAULT) leaves the future in place: the call's id was
 * copied out before the wait, and ORBIT_IOC_WAIT (or PULL) collects it.
 */
static int call_wait_sync(struct orbit_ctx *ctx, struct orbit_call *call,
			  struct orbit_call_req *req, void __user *uarg)
{
	bool updates;
	int err;

	if (orbit_wait_call(call, &call->done, call_done_poll))
		return -EINTR;	/* collect with ORBIT_IOC_WAIT */
	err = call->error;
	if (err) {
		/*
		 * Its caller gets no future: the updates go, even one a pull
		 * put back after the discard (it goes with the call).
		 */
		call_discard_updates(call);
		call_unpublish(ctx, call);
		return err;
	}
	/* Updates left: the future stays until pulled and waited. */
	updates = !list_empty_careful(&call->updates);
	if (updates)
		req->result |= ORBIT_RESULT_UPDATES;
	req->retval = call->retval;
	if (copy_to_user(uarg, req, sizeof(*req)))
		return -EFAULT;
	if (!updates)
		call_unpublish(ctx, call);
	return 0;
}

long call_issue(struct orbit_ctx *ctx, void __user *uarg)
{
	u32 stack_ids[CALL_STACK_IDS], *ids, *heap_ids = NULL;
	struct snap_cost cost = { 0 };
	struct orbit_call_req req;
	struct orbit_call *call;
	bool prewoken = false;
	unsigned int i;
	u64 t0;
	int err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~ORBIT_CALL_FLAGS) || req.pad ||
	    (req.tag && !(ctx->features & ORBIT_FEAT_TAG)) ||
	    ((req.flags & ORBIT_CALL_LATEST) &&
	     !(ctx->features & ORBIT_FEAT_CANCEL)) ||
	    ((req.flags & ORBIT_CALL_QUIET) &&
	     !(ctx->features & ORBIT_FEAT_QUIET)) ||
	    (req.flags & ORBIT_CALL_SYNC && req.flags & ORBIT_CALL_NOFUTURE))
		return -EINVAL;
	if (req.narea > READ_ONCE(orbit_max_call_areas) ||
	    req.argsize > READ_ONCE(orbit_max_arg))
		return -EINVAL;
	call = call_alloc(ctx, &req);
	if (IS_ERR(call))
		return PTR_ERR(call);
	err = call_copy_arg(call, req.arg);
	if (err)
		goto out;
	ids = call_read_ids(&req, stack_ids, &heap_ids);
	if (IS_ERR(ids)) {
		err = PTR_ERR(ids);
		goto out;
	}

	mutex_lock(&ctx->lock);
	err = call_resolve(ctx, call, req.orbit_id, ids, req.narea);
	if (!err && !(req.flags & ORBIT_CALL_NOFUTURE))
		call_publish(ctx, call);
	mutex_unlock(&ctx->lock);
	if (err)
		goto out;

	/* A dead orbit fails at once, before any snapshot work. */
	if (READ_ONCE(call->orbit->state) == ORBIT_DEAD)
		err = -ESRCH;
	else
		prewoken = orbit_prewake_begin(call->orbit, call);
	t0 = orbit_trace_clock(trace_orbit_call_issue_enabled());
	for (i = 0; i < call->nsnap && !err; i++) {
		err = area_snapshot(call->snap[i].area, &call->snap[i].root,
				    &cost);
		call->snap[i].live = !err;
	}
	if (!err) {
		/* Traced first: its end may be traced before enqueue returns. */
		trace_orbit_call_issue(pid_nr(ctx->pid), call->orbit->id,
				       call->id, call->nsnap, cost.frozen,
				       cost.copied, orbit_trace_since(t0));
		err = orbit_enqueue(call->orbit, call);
		if (err)
			trace_orbit_call_done(call->orbit->id, call->id, 0, err,
					      orbit_trace_since(call->issued_ns));
	}
	orbit_prewake_end(call->orbit, prewoken);
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
	if (req.flags & ORBIT_CALL_SYNC)
		err = call_wait_sync(ctx, call, &req, uarg);
out:
	kvfree(heap_ids);
	call_put(call);
	return err;
}

/*
 * The future's call named by a wait, pull or cancel request, with a
 * reference: EINVAL for an id that cannot be one, ENOENT if there is no
 * such future.
 */
struct orbit_call *call_lookup(struct orbit_ctx *ctx, u64 id)
{
	struct orbit_call *call;

	if (!id || id > U32_MAX)
		return ERR_PTR(-EINVAL);
	spin_lock(&ctx->calls_lock);
	call = call_find(ctx, id);
	if (call)
		call_get(call);
	spin_unlock(&ctx->calls_lock);
	return call ? call : ERR_PTR(-ENOENT);
}

long call_wait(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_wait w;
	struct orbit_call *call;
	int err;

	if (copy_from_user(&w, uarg, sizeof(w)))
		return -EFAULT;
	if (memchr_inv(w.reserved, 0, sizeof(w.reserved)))
		return -EINVAL;
	call = call_lookup(ctx, w.call_id);
	if (IS_ERR(call))
		return PTR_ERR(call);
	if (orbit_wait_call(call, &call->done, call_done_poll)) {
		call_put(call);
		return -ERESTARTSYS;
	}
	w.retval = call->retval;
	err = call->error;
	/* Collected once told: a result not copied out waits for a retry. */
	if (!err && copy_to_user(uarg, &w, sizeof(w)))
		err = -EFAULT;
	else
		call_unpublish(ctx, call);
	call_put(call);
	return err;
}

/* Any call of the table, taken out of it with its reference; or NULL. */
static struct orbit_call *call_take_any(struct orbit_ctx *ctx)
{
	struct orbit_call *call;
	unsigned int bkt;

	lockdep_assert_held(&ctx->calls_lock);
	hash_for_each(ctx->calls, bkt, call, hnode) {
		hash_del(&call->hnode);
		return call;
	}
	return NULL;
}

void call_drop_futures(struct orbit_ctx *ctx)
{
	struct orbit_call *call;

	do {
		spin_lock(&ctx->calls_lock);
		call = call_take_any(ctx);
		spin_unlock(&ctx->calls_lock);
		call_put(call);
	} while (call);
}
