// SPDX-License-Identifier: GPL-2.0
/*
 * Update transport: the orbit pushes opaque update buffers onto the call
 * it is running; main pulls them in push order, then learns how the call
 * ended.  Small updates are copied in; large page-aligned ones keep the
 * orbit's own pages (pinned), so their bytes are copied once, at pull.
 * Also the checks main asks for before applying an update.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "orbit_internal.h"

struct orbit_upd {
	struct list_head node;
	size_t len;
	void *data;		/* copied bytes, or NULL */
	struct page **pages;	/* or the orbit's pages, from offset 0 */
	unsigned int npages;
};

static void upd_free(struct orbit_upd *u)
{
	if (u->pages) {
		unpin_user_pages(u->pages, u->npages);
		kvfree(u->pages);
	}
	kvfree(u->data);
	kfree(u);
	ostat_dec(OS_UPDATES);
}

void upd_free_list(struct list_head *list)
{
	struct orbit_upd *u, *tmp;

	list_for_each_entry_safe(u, tmp, list, node) {
		list_del(&u->node);
		upd_free(u);
	}
}

static struct orbit_upd *upd_from_user(u64 ubuf, size_t len)
{
	void __user *buf = u64_to_user_ptr(ubuf);
	struct orbit_upd *u;
	long got;

	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&u->node);
	u->len = len;
	ostat_inc(OS_UPDATES);
	if (len >= ORBIT_UPDATE_MOVE_MIN && PAGE_ALIGNED(ubuf)) {
		u->npages = DIV_ROUND_UP(len, PAGE_SIZE);
		u->pages = kvmalloc_array(u->npages, sizeof(*u->pages),
					  GFP_KERNEL_ACCOUNT);
		if (!u->pages)
			goto nomem;
		got = pin_user_pages_fast(ubuf, u->npages, 0, u->pages);
		if (got != u->npages) {
			if (got > 0)
				unpin_user_pages(u->pages, got);
			kvfree(u->pages);
			u->pages = NULL;
			upd_free(u);
			return ERR_PTR(got < 0 ? got : -EFAULT);
		}
		ostat_add(OS_UPDATE_PAGES, u->npages);
		return u;
	}
	u->data = kvmalloc(len ? len : 1, GFP_KERNEL_ACCOUNT);
	if (!u->data)
		goto nomem;
	if (copy_from_user(u->data, buf, len)) {
		upd_free(u);
		return ERR_PTR(-EFAULT);
	}
	return u;
nomem:
	upd_free(u);
	return ERR_PTR(-ENOMEM);
}

static int upd_to_user(struct orbit_upd *u, void __user *buf)
{
	size_t off, chunk;
	unsigned int i;
	void *kaddr;
	int err = 0;

	if (u->data)
		return copy_to_user(buf, u->data, u->len) ? -EFAULT : 0;
	for (i = 0, off = 0; off < u->len && !err; i++, off += chunk) {
		chunk = min_t(size_t, PAGE_SIZE, u->len - off);
		kaddr = kmap_local_page(u->pages[i]);
		if (copy_to_user(buf + off, kaddr, chunk))
			err = -EFAULT;
		kunmap_local(kaddr);
	}
	return err;
}

/* ORBIT_IOC_PUSH, from the orbit, onto the call it is running. */
long update_push(struct orbit *ob, void __user *uarg)
{
	struct orbit_push req;
	struct orbit_call *call;
	struct orbit_upd *u;
	int err = 0;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.reserved[0] || req.reserved[1])
		return -EINVAL;
	if (req.len > READ_ONCE(orbit_max_update))
		return -EMSGSIZE;

	spin_lock(&ob->lock);
	call = ob->running;
	if (call)
		kref_get(&call->ref);
	spin_unlock(&ob->lock);
	if (!call)
		return -EINVAL;	/* not inside a task */
	if (call->flags & ORBIT_CALL_NOFUTURE) {
		err = -EPIPE;	/* fire and forget: nobody will pull */
		goto out;
	}
	u = upd_from_user(req.buf, req.len);
	if (IS_ERR(u)) {
		err = PTR_ERR(u);
		goto out;
	}
	spin_lock(&ob->lock);
	if (call->state == CALL_DONE)
		err = -ESRCH;
	else if (call->upd_bytes + req.len > READ_ONCE(orbit_max_update) * 4)
		err = -ENOBUFS;
	if (!err) {
		list_add_tail(&u->node, &call->updates);
		call->upd_bytes += req.len;
	}
	spin_unlock(&ob->lock);
	if (err)
		upd_free(u);
	else
		wake_up_all(&call->done);
out:
	call_put(call);
	return err;
}

static bool pull_ready(struct orbit_call *call)
{
	return !list_empty_careful(&call->updates) || call_done(call);
}

/* ORBIT_IOC_PULL, from main: the next update of a call, or its end. */
long update_pull(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_pull req;
	struct orbit_call *call;
	struct orbit_upd *u = NULL;
	struct orbit *ob;
	int err = 0;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	call = call_lookup(ctx, req.call_id, req.reserved);
	if (IS_ERR(call))
		return PTR_ERR(call);
	ob = call->orbit;
	if (wait_event_interruptible(call->done, pull_ready(call))) {
		err = -ERESTARTSYS;
		goto out;
	}
	spin_lock(&ob->lock);
	if (!list_empty(&call->updates)) {
		u = list_first_entry(&call->updates, struct orbit_upd, node);
		req.len = u->len;
		if (req.cap < u->len) {
			u = NULL;
			err = -ENOSPC;
		} else {
			list_del_init(&u->node);
			call->upd_bytes -= u->len;
		}
	}
	spin_unlock(&ob->lock);
	if (err == -ENOSPC) {
		/* Tell the caller the size it needs. */
		if (put_user(req.len, &((struct orbit_pull __user *)uarg)->len))
			err = -EFAULT;
		goto out;
	}
	if (u) {
		err = upd_to_user(u, u64_to_user_ptr(req.buf));
		if (err) {
			/* Put it back: nothing is lost to a bad buffer. */
			spin_lock(&ob->lock);
			list_add(&u->node, &call->updates);
			call->upd_bytes += u->len;
			spin_unlock(&ob->lock);
			goto out;
		}
		upd_free(u);
		req.status = ORBIT_PULL_UPDATE;
		req.error = 0;
	} else {
		req.status = ORBIT_PULL_END;
		req.len = 0;
		req.error = -call->error;
	}
	if (copy_to_user(uarg, &req, sizeof(req)))
		err = -EFAULT;
out:
	call_put(call);
	return err;
}

static int check_area(struct orbit_ctx *ctx, struct orbit *ob,
		      const struct orbit_check_entry *e)
{
	struct orbit_area *area;
	int id;

	if (!e->len || e->addr + e->len < e->addr)
		return -EFAULT;
	idr_for_each_entry(&ctx->areas, area, id) {
		if (e->addr < area->addr ||
		    e->addr + e->len > area->addr + area->size)
			continue;
		if (!ob || xa_load(&ob->bound, area->id))
			return 0;
	}
	return -EFAULT;
}

static int check_exec(const struct orbit_check_entry *e)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	int err = -EPERM;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = find_vma(mm, e->addr);
	if (vma && e->addr >= vma->vm_start && (vma->vm_flags & VM_EXEC))
		err = 0;
	mmap_read_unlock(mm);
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
	if (req.reserved[0] || req.reserved[1] || req.pad ||
	    req.count > ORBIT_CHECK_MAX)
		return -EINVAL;
	if (!req.count)
		return 0;
	ents = memdup_user(u64_to_user_ptr(req.entries),
			   array_size(req.count, sizeof(*ents)));
	if (IS_ERR(ents))
		return PTR_ERR(ents);

	mutex_lock(&ctx->lock);
	if (req.orbit_id) {
		ob = idr_find(&ctx->orbits, req.orbit_id);
		if (!ob)
			err = -ENOENT;
	}
	for (i = 0; i < req.count && !err; i++) {
		if (ents[i].kind == ORBIT_CHECK_AREA && !ents[i].pad)
			err = check_area(ctx, ob, &ents[i]);
		else if (ents[i].kind == ORBIT_CHECK_EXEC && !ents[i].pad)
			err = check_exec(&ents[i]);
		else
			err = -EINVAL;
	}
	mutex_unlock(&ctx->lock);
	kfree(ents);
	if (err && i && put_user(i - 1,
				 &((struct orbit_check __user *)uarg)->failed))
		err = -EFAULT;
	return err;
}
