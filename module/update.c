// SPDX-License-Identifier: GPL-2.0
/*
 * Updates: the orbit pushes opaque update buffers onto the call it is
 * running; main pulls them in push order, then learns how the call ended.
 * Also the checks main asks for before applying an update.
 *
 * struct orbit_upd: owned by its call's update list (under the orbit's
 * lock) until a puller takes it off; freed by that puller, or with the
 * call.  Its bytes are charged to the context's user until it is freed.
 * Small updates are copied in; a large page-aligned one in the orbit's
 * private anonymous memory keeps the orbit's pages (pinned for writing,
 * so they are the orbit's alone), and its bytes are copied once, at pull.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "orbit_internal.h"
#include "orbit_trace.h"

struct orbit_upd {
	struct list_head node;
	size_t len;
	void *data;		/* copied bytes, or NULL */
	struct page **pages;	/* or the orbit's pages, from offset 0 */
	unsigned int npages;
};

static void upd_free(struct orbit_ctx *ctx, struct orbit_upd *u)
{
	if (u->pages) {
		unpin_user_pages(u->pages, u->npages);
		kvfree(u->pages);
	}
	kvfree(u->data);
	orbit_uncharge(&ctx->acct, u->len);
	kfree(u);
	ostat_dec(OS_UPDATES);
}

void upd_free_list(struct orbit_ctx *ctx, struct list_head *list)
{
	struct orbit_upd *u, *tmp;

	list_for_each_entry_safe(u, tmp, list, node) {
		list_del(&u->node);
		upd_free(ctx, u);
	}
}

/*
 * Keeps the orbit's pages of a large update if they are private anonymous
 * pages (pinned with FOLL_WRITE: exclusive to the orbit).  Any other page
 * (a view of an area, which main's mapping may share; a shared mapping)
 * could change under the update: 0 then tells the caller to copy.
 */
static int upd_take_pages(struct orbit_upd *u, u64 ubuf)
{
	unsigned int i;
	long got;

	u->npages = DIV_ROUND_UP(u->len, PAGE_SIZE);
	u->pages = kvmalloc_array(u->npages, sizeof(*u->pages),
				  GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!u->pages)
		return -ENOMEM;
	got = pin_user_pages_fast(ubuf, u->npages, FOLL_WRITE | FOLL_LONGTERM,
				  u->pages);
	for (i = 0; got == u->npages && i < got; i++)
		if (!PageAnon(u->pages[i]))
			break;
	if (got == u->npages && i == got) {
		ostat_add(OS_UPDATE_PAGES, u->npages);
		return 1;
	}
	if (got > 0)
		unpin_user_pages(u->pages, got);
	kvfree(u->pages);
	u->pages = NULL;
	return 0;
}

static struct orbit_upd *upd_from_user(struct orbit_ctx *ctx, u64 ubuf,
				       size_t len)
{
	struct orbit_upd *u;
	int err;

	err = orbit_charge(&ctx->acct, len);
	if (err)
		return ERR_PTR(err);
	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u) {
		orbit_uncharge(&ctx->acct, len);
		return ERR_PTR(-ENOMEM);
	}
	INIT_LIST_HEAD(&u->node);
	u->len = len;
	ostat_inc(OS_UPDATES);
	err = 0;
	if (len >= ORBIT_UPDATE_MOVE_MIN && PAGE_ALIGNED(ubuf))
		err = upd_take_pages(u, ubuf);
	if (err > 0)
		return u;
	if (!err) {
		u->data = kvmalloc(len ? len : 1,
				   GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		err = !u->data ? -ENOMEM :
		      copy_from_user(u->data, u64_to_user_ptr(ubuf), len) ?
		      -EFAULT : 0;
	}
	if (err) {
		upd_free(ctx, u);
		return ERR_PTR(err);
	}
	return u;
}

/*
 * Copies the update out: 0, -EFAULT, -ENOMEM, or -EHWPOISON if one of
 * its moved pages has a memory error (the orbit's page, kept by the pin):
 * marked since the push, or read by a surviving copy (mc.c), which goes
 * through a bounce page, since a short copy to user memory would not say
 * whether the page or the user's buffer failed.
 */
static int upd_to_user(struct orbit_upd *u, void __user *buf)
{
	void *kaddr, *bounce = NULL;
	size_t off, chunk;
	unsigned int i;
	int err = 0;

	if (u->data)
		return copy_to_user(buf, u->data, u->len) ? -EFAULT : 0;
	if (READ_ONCE(orbit_mc_copy)) {
		bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
		if (!bounce)
			return -ENOMEM;
	}
	for (i = 0, off = 0; off < u->len && !err; i++, off += chunk) {
		chunk = min_t(size_t, PAGE_SIZE, u->len - off);
		if (bounce) {
			err = orbit_mc_read(bounce, u->pages[i]);
			if (!err && copy_to_user(buf + off, bounce, chunk))
				err = -EFAULT;
			continue;
		}
		/* A plain copy must not read a marked page (fatal). */
		if (unlikely(PageHWPoison(u->pages[i]))) {
			err = -EHWPOISON;
			break;
		}
		kaddr = kmap_local_page(u->pages[i]);
		if (copy_to_user(buf + off, kaddr, chunk))
			err = -EFAULT;
		kunmap_local(kaddr);
	}
	kfree(bounce);
	return err;
}

/* The call generation gen of the orbit runs, with a reference. */
static struct orbit_call *upd_running_call(struct orbit *ob, u32 gen)
{
	struct orbit_call *call = NULL;

	spin_lock(&ob->lock);
	if (ob->gen == gen && ob->state == ORBIT_READY && ob->running) {
		call = ob->running;
		call_get(call);
	}
	spin_unlock(&ob->lock);
	return call;
}

/* Reads a push request (ORBIT_IOC_PUSH, or with ORBIT_IOC_RUN). */
int update_req_read(struct orbit_push *req, void __user *uarg)
{
	if (copy_from_user(req, uarg, sizeof(*req)))
		return -EFAULT;
	if (memchr_inv(req->reserved, 0, sizeof(req->reserved)))
		return -EINVAL;
	return 0;
}

/*
 * Appends the update req names to call, which the orbit runs or has just
 * taken to end it (see orbit_run): the call's pullers are woken if wake,
 * else by the end that follows.  EPIPE for a call without a future.
 */
int update_append(struct orbit *ob, struct orbit_call *call,
		  const struct orbit_push *req, bool wake)
{
	u64 limit = READ_ONCE(orbit_max_update);
	struct orbit_upd *u;
	int err = 0;

	if (req->len > limit)
		return -EMSGSIZE;
	if (call->flags & ORBIT_CALL_NOFUTURE)
		return -EPIPE;	/* fire and forget: nobody will pull */
	u = upd_from_user(ob->ctx, req->buf, req->len);
	if (IS_ERR(u))
		return PTR_ERR(u);
	spin_lock(&ob->lock);
	if (call->state == CALL_DONE)
		err = -ESRCH;
	else if ((u64)call->upd_bytes + req->len > limit * 4)
		err = -ENOBUFS;
	if (!err) {
		list_add_tail(&u->node, &call->updates);
		call->upd_bytes += req->len;
	}
	spin_unlock(&ob->lock);
	if (err)
		upd_free(ob->ctx, u);
	else if (wake)
		wake_up_all(&call->pullq);	/* not the end's waiters */
	return err;
}

/* ORBIT_IOC_PUSH, from the orbit, onto the call it is running. */
long update_push(struct orbit *ob, u32 gen, void __user *uarg)
{
	struct orbit_push req;
	struct orbit_call *call;
	int err;

	err = update_req_read(&req, uarg);
	if (err)
		return err;
	call = upd_running_call(ob, gen);
	if (!call)
		return -EINVAL;	/* not inside a task */
	err = update_append(ob, call, &req, true);
	call_put(call);
	return err;
}

static bool pull_ready(void *arg)
{
	struct orbit_call *call = arg;

	return !list_empty_careful(&call->updates) || call_done(call);
}

/*
 * The next update of the call (off its list, *u), or NULL with the call
 * ended; *last: the call has ended and *u was its last update.  Another
 * puller may empty the list between the wakeup and the lock: then wait
 * again, never report an end the call has not reached.
 */
static int pull_next(struct orbit_call *call, size_t cap,
		     struct orbit_upd **u, size_t *len, bool *last)
{
	struct orbit *ob = call->orbit;
	int err;

	for (;;) {
		if (orbit_wait_call(call, &call->pullq, pull_ready))
			return -ERESTARTSYS;
		spin_lock(&ob->lock);
		err = -EAGAIN;
		*u = NULL;
		if (!list_empty(&call->updates)) {
			*u = list_first_entry(&call->updates,
					      struct orbit_upd, node);
			*len = (*u)->len;
			if (cap < (*u)->len) {
				*u = NULL;
				err = -ENOSPC;
			} else {
				list_del_init(&(*u)->node);
				call->upd_bytes -= (*u)->len;
				*last = call->state == CALL_DONE &&
					list_empty(&call->updates);
				err = 0;
			}
		} else if (call->state == CALL_DONE) {
			err = 0;
		}
		spin_unlock(&ob->lock);
		if (err != -EAGAIN)
			return err;
	}
}

/*
 * ORBIT_IOC_PULL, from main: the next update of a call, or its end; with
 * ORBIT_PULL_RELEASE, a pull that reports the end also collects the
 * future (the last update and the end together when both are there).
 */
long update_pull(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_pull __user *ureq = uarg;
	struct orbit_upd *u = NULL;
	struct orbit_call *call;
	struct orbit_pull req;
	struct orbit *ob;
	bool last = false, ended;
	size_t len = 0;
	int err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.pad || (req.flags & ~ORBIT_PULL_RELEASE) ||
	    (req.flags && !(ctx->features & ORBIT_FEAT_PULL_END)))
		return -EINVAL;
	call = call_lookup(ctx, req.call_id);
	if (IS_ERR(call))
		return PTR_ERR(call);
	ob = call->orbit;
	err = pull_next(call, req.cap, &u, &len, &last);
	if (err == -ENOSPC) {
		/* Tell the caller the size it needs. */
		if (put_user((u64)len, &ureq->len))
			err = -EFAULT;
		goto out;
	}
	if (err)
		goto out;
	if (u) {
		err = upd_to_user(u, u64_to_user_ptr(req.buf));
		if (err == -EHWPOISON) {
			/* Lost: dropped, and the next pull goes on. */
			upd_free(ctx, u);
			goto out;
		}
		if (err)
			goto put_back;
		req.status = last && (req.flags & ORBIT_PULL_RELEASE) ?
			     ORBIT_PULL_UPDATE_END : ORBIT_PULL_UPDATE;
		req.len = len;
	} else {
		req.status = ORBIT_PULL_END;
		req.len = 0;
	}
	ended = req.status != ORBIT_PULL_UPDATE;
	req.error = ended ? -call->error : 0;
	req.retval = ended ? call->retval : 0;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		/*
		 * Nothing the caller was not told of is lost: an update goes
		 * back, and a future whose end it was not told stays.
		 */
		err = -EFAULT;
		if (u)
			goto put_back;
		goto out;
	}
	/* Collected once told (a WAIT racing it may report the end too). */
	if (ended && (req.flags & ORBIT_PULL_RELEASE))
		call_unpublish(ctx, call);
	if (u)
		upd_free(ctx, u);
	goto out;
put_back:
	/* Nothing is lost to a bad buffer: the next pull gets it. */
	spin_lock(&ob->lock);
	list_add(&u->node, &call->updates);
	call->upd_bytes += u->len;
	spin_unlock(&ob->lock);
out:
	call_put(call);
	return err;
}

/*
 * A modification must lie in an area (bound to the orbit, if one is
 * named) that main has mapped there now and may write: an area main
 * unmapped, or made read-only, is no target, whatever is at its address.
 */
static int check_area(struct orbit_ctx *ctx, struct orbit *ob,
		      const struct orbit_check_entry *e)
{
	struct vm_area_struct *vma;
	struct orbit_area *area;
	int id, err = -EFAULT;

	lockdep_assert_held(&ctx->lock);
	if (!e->len || e->addr + e->len < e->addr)
		return -EFAULT;
	idr_for_each_entry(&ctx->areas, area, id) {
		if (e->addr < area->addr ||
		    e->addr + e->len > area->addr + area->size)
			continue;
		if (ob && !xa_load(&ob->bound, area->id))
			continue;
		if (mmap_read_lock_killable(ctx->mm))
			return -EINTR;
		vma = find_vma(ctx->mm, e->addr);
		if (vma && area_mapped_at(area, vma) &&
		    (vma->vm_flags & VM_WRITE) && vma->vm_start <= e->addr &&
		    e->addr + e->len <= vma->vm_end)
			err = 0;
		mmap_read_unlock(ctx->mm);
		return err;
	}
	return -EFAULT;
}

/*
 * Is [addr, addr + len) exactly one of main's areas, still mapped whole
 * at its address?  The library asks before it gives an area's address
 * range back to its window: after main unmapped the area, something else
 * may live there now.
 */
static int check_mapped(struct orbit_ctx *ctx,
			const struct orbit_check_entry *e)
{
	struct vm_area_struct *vma;
	struct orbit_area *area;
	int id, err = -EFAULT;

	lockdep_assert_held(&ctx->lock);
	idr_for_each_entry(&ctx->areas, area, id) {
		if (e->addr != area->addr || e->len != area->size)
			continue;
		if (mmap_read_lock_killable(ctx->mm))
			return -EINTR;
		vma = find_vma(ctx->mm, e->addr);
		if (vma && area_mapped_at(area, vma) &&
		    vma->vm_start == e->addr &&
		    vma->vm_end - vma->vm_start == e->len)
			err = 0;
		mmap_read_unlock(ctx->mm);
		break;
	}
	return err;
}

static int check_exec(struct orbit_ctx *ctx,
		      const struct orbit_check_entry *e)
{
	struct vm_area_struct *vma;
	int err = -EPERM;

	if (mmap_read_lock_killable(ctx->mm))
		return -EINTR;
	vma = find_vma(ctx->mm, e->addr);
	if (vma && e->addr >= vma->vm_start && (vma->vm_flags & VM_EXEC))
		err = 0;
	mmap_read_unlock(ctx->mm);
	return err;
}

/* ORBIT_IOC_CHECK: may main apply modifications and operations? */
long update_check(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_check_entry *ents;
	struct orbit_check req;
	struct orbit *ob = NULL;
	unsigned int i;
	int err = 0;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (memchr_inv(req.reserved, 0, sizeof(req.reserved)) || req.pad ||
	    req.count > ORBIT_CHECK_MAX)
		return -EINVAL;
	if (!req.count)
		return 0;
	ents = kvmalloc_array(req.count, sizeof(*ents), GFP_KERNEL_ACCOUNT);
	if (!ents)
		return -ENOMEM;
	if (copy_from_user(ents, u64_to_user_ptr(req.entries),
			   array_size(req.count, sizeof(*ents)))) {
		kvfree(ents);
		return -EFAULT;
	}

	mutex_lock(&ctx->lock);
	if (req.orbit_id) {
		ob = req.orbit_id > INT_MAX ? NULL :
		     idr_find(&ctx->orbits, req.orbit_id);
		if (!ob)
			err = -ENOENT;
	}
	for (i = 0; i < req.count && !err; i++) {
		if (ents[i].kind == ORBIT_CHECK_AREA && !ents[i].pad)
			err = check_area(ctx, ob, &ents[i]);
		else if (ents[i].kind == ORBIT_CHECK_EXEC && !ents[i].pad)
			err = check_exec(ctx, &ents[i]);
		else if (ents[i].kind == ORBIT_CHECK_MAPPED && !ents[i].pad &&
			 (ctx->features & ORBIT_FEAT_CHECK_MAPPED))
			err = check_mapped(ctx, &ents[i]);
		else
			err = -EINVAL;
	}
	mutex_unlock(&ctx->lock);
	if (err && i)
		trace_orbit_apply_reject(pid_nr(ctx->pid), req.orbit_id, i - 1,
					 ents[i - 1].kind, ents[i - 1].addr,
					 ents[i - 1].len, err);
	kvfree(ents);
	if (err && i && put_user(i - 1,
				 &((struct orbit_check __user *)uarg)->failed))
		err = -EFAULT;
	return err;
}
