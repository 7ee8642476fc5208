// SPDX-License-Identifier: GPL-2.0
/*
 * Main contexts: a context's life, its tables of orbits and areas, and
 * the ioctls main uses on them.
 *
 * A context is made by an open of /dev/orbit and bound to main by the
 * handshake (main's thread group, mm, credentials and user; see struct
 * orbit_ctx).  It lives as long as main's address space: the handshake
 * maps a one-page, inaccessible anchor into main, and the anchor's
 * vm_ops->close (main exits or execs, or unmaps it) ends the context; so
 * does the last release of its file.  Closing one descriptor among
 * several changes nothing.
 *
 * Teardown kills the context's orbits (their calls fail with ESRCH),
 * drops its areas and unclaimed futures, and kills the library's spawner
 * if main's credentials may.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "orbit_internal.h"

#define IOC_BIT(cmd)	BIT_ULL(_IOC_NR(cmd))
#define ORBIT_IOCTLS	(IOC_BIT(ORBIT_IOC_API) | IOC_BIT(ORBIT_IOC_CREATE) | \
			 IOC_BIT(ORBIT_IOC_DESTROY) |			\
			 IOC_BIT(ORBIT_IOC_AREA_CREATE) |		\
			 IOC_BIT(ORBIT_IOC_AREA_DESTROY) |		\
			 IOC_BIT(ORBIT_IOC_AREA_BIND) |			\
			 IOC_BIT(ORBIT_IOC_CALL) | IOC_BIT(ORBIT_IOC_WAIT) | \
			 IOC_BIT(ORBIT_IOC_SPAWNER) |			\
			 IOC_BIT(ORBIT_IOC_PULL) | IOC_BIT(ORBIT_IOC_CHECK) | \
			 IOC_BIT(ORBIT_IOC_PUSH) | IOC_BIT(ORBIT_IOC_RESPAWN) | \
			 IOC_BIT(ORBIT_IOC_ATTACH) | IOC_BIT(ORBIT_IOC_RUN) | \
			 IOC_BIT(ORBIT_IOC_STATS) | IOC_BIT(ORBIT_IOC_LIST) | \
			 IOC_BIT(ORBIT_IOC_CANCEL) | IOC_BIT(ORBIT_IOC_QUERY) | \
			 IOC_BIT(ORBIT_IOC_AREA_MODE) | \
			 IOC_BIT(ORBIT_IOC_AREA_DISCARD))

/* ---- killing processes as main may ------------------------------------ */

static bool userns_within(const struct user_namespace *ns,
			  const struct user_namespace *ancestor)
{
	for (; ns; ns = ns->parent)
		if (ns == ancestor)
			return true;
	return false;
}

/*
 * May a process with credentials cred send a signal to pid?  kill(2)'s
 * rule: a real or effective user id of the sender matches the target's
 * real or saved set-user-id, or the sender has CAP_KILL over the target's
 * user namespace.  The module kills on main's behalf with main's
 * credentials from its handshake, never with the kernel's.
 */
bool orbit_kill_allowed(const struct cred *cred, struct pid *pid)
{
	const struct cred *tcred;
	struct task_struct *t;
	bool ok = false;

	rcu_read_lock();
	t = pid_task(pid, PIDTYPE_TGID);
	if (t) {
		tcred = __task_cred(t);
		ok = uid_eq(cred->euid, tcred->suid) ||
		     uid_eq(cred->euid, tcred->uid) ||
		     uid_eq(cred->uid, tcred->suid) ||
		     uid_eq(cred->uid, tcred->uid) ||
		     (cap_raised(cred->cap_effective, CAP_KILL) &&
		      userns_within(tcred->user_ns, cred->user_ns));
	}
	rcu_read_unlock();
	return ok;
}

/* SIGKILL to pid's thread group, if cred may send it. */
void orbit_kill_pid(struct pid *pid, const struct cred *cred)
{
	if (pid && orbit_kill_allowed(cred, pid))
		kill_pid(pid, SIGKILL, 1);
}

/* ---- the context's life ------------------------------------------------ */

static void ctx_release(struct kref *ref)
{
	struct orbit_ctx *ctx = container_of(ref, struct orbit_ctx, ref);

	orbit_list_del(ctx);
	argbuf_drop(ctx);	/* before the acct it is charged to */
	idr_destroy(&ctx->orbits);
	idr_destroy(&ctx->areas);
	put_pid(ctx->spawner);
	put_pid(ctx->pid);
	if (ctx->cred)
		put_cred(ctx->cred);
	if (ctx->mm)
		mmdrop(ctx->mm);
	orbit_acct_release(&ctx->acct);
	kfree(ctx);
	ostat_dec(OS_CONTEXTS);
}

void ctx_put(struct orbit_ctx *ctx)
{
	kref_put(&ctx->ref, ctx_release);
}

static void ctx_teardown_work(struct work_struct *work)
{
	struct orbit_ctx *ctx = container_of(work, struct orbit_ctx, teardown);

	ctx_teardown(ctx);
	ctx_put(ctx);
}

/* A context for a new /dev/orbit descriptor, with one reference. */
struct orbit_ctx *ctx_alloc(void)
{
	struct orbit_ctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);

	if (!ctx)
		return NULL;
	kref_init(&ctx->ref);
	mutex_init(&ctx->lock);
	idr_init_base(&ctx->orbits, 1);
	idr_init_base(&ctx->areas, 1);
	INIT_LIST_HEAD(&ctx->all);
	INIT_WORK(&ctx->teardown, ctx_teardown_work);
	spin_lock_init(&ctx->calls_lock);
	argbuf_init(&ctx->argbufs);
	hash_init(ctx->calls);
	ostat_inc(OS_CONTEXTS);
	return ctx;
}

/* Takes any entry out of a table of a dead context. */
static void *ctx_take_next(struct orbit_ctx *ctx, struct idr *idr)
{
	void *obj;
	int id = 0;

	mutex_lock(&ctx->lock);
	obj = idr_get_next(idr, &id);
	if (obj)
		idr_remove(idr, id);
	mutex_unlock(&ctx->lock);
	return obj;
}

/* Ends the context (once): see the top of this file. */
void ctx_teardown(struct orbit_ctx *ctx)
{
	struct orbit_area *area;
	struct pid *spawner;
	struct orbit *ob;

	mutex_lock(&ctx->lock);
	if (ctx->dead) {
		mutex_unlock(&ctx->lock);
		return;
	}
	ctx->dead = true;
	spawner = ctx->spawner;
	ctx->spawner = NULL;
	mutex_unlock(&ctx->lock);

	/* Out of the tables one by one: listings may look meanwhile. */
	while ((ob = ctx_take_next(ctx, &ctx->orbits))) {
		orbit_kill(ob, -ESRCH, ORBIT_DEATH_DESTROYED);
		orbit_put(ob);
	}
	while ((area = ctx_take_next(ctx, &ctx->areas))) {
		WRITE_ONCE(area->dead, true);
		area_put(area);
	}
	call_drop_futures(ctx);
	if (spawner) {
		orbit_kill_pid(spawner, ctx->cred);
		put_pid(spawner);
	}
}

/* ---- the anchor: main's address space going away ends the context ---- */

static vm_fault_t anchor_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static void anchor_close(struct vm_area_struct *vma)
{
	struct orbit_ctx *ctx = vma->vm_private_data;

	/*
	 * Under the mm's mmap_lock (exit_mmap, munmap), below ctx->lock in
	 * the lock order: the teardown, which takes ctx->lock, runs in the
	 * module's workqueue.  A copy in a fork child (after MADV_DOFORK) is
	 * not main's.
	 */
	mmap_assert_locked(vma->vm_mm);
	if (vma->vm_mm != ctx->mm)
		return;
	kref_get(&ctx->ref);
	if (!queue_work(orbit_wq, &ctx->teardown))
		ctx_put(ctx);
}

static const struct vm_operations_struct anchor_vm_ops = {
	.fault		= anchor_fault,
	.close		= anchor_close,
	.mremap		= orbit_vma_mremap,
	.may_split	= orbit_vma_may_split,
};

static int anchor_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct orbit_ctx *ctx = file->private_data;
	int err = orbit_mmap_setup(vma, ctx->mm, 0, PAGE_SIZE,
				   &anchor_vm_ops, ctx);

	if (!err) {
		orbit_vma_set_flags(vma, VM_DONTDUMP);
		orbit_vma_clear_flags(vma, VM_MAYREAD | VM_MAYWRITE |
				      VM_MAYEXEC);
	}
	return err;
}

static int anchor_release(struct inode *inode, struct file *file)
{
	ctx_put(file->private_data);
	return 0;
}

static const struct file_operations anchor_fops = {
	.owner		= THIS_MODULE,
	.mmap		= anchor_mmap,
	.release	= anchor_release,
	.llseek		= noop_llseek,
};

/* Maps the anchor into main (the caller); its file holds a reference. */
static int ctx_map_anchor(struct orbit_ctx *ctx)
{
	struct file *file;
	unsigned long addr;

	kref_get(&ctx->ref);
	file = orbit_file_new("[orbit-ctx]", &anchor_fops, ctx);
	if (IS_ERR(file)) {
		ctx_put(ctx);
		return PTR_ERR(file);
	}
	addr = vm_mmap(file, 0, PAGE_SIZE, PROT_NONE, MAP_SHARED, 0);
	fput(file);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	ctx->anchor = addr;
	return 0;
}

/*
 * At the last release in main itself, the anchor goes too (after the
 * teardown, its close does nothing more): the context's memory is gone
 * with its descriptor, not only when main exits.
 */
void ctx_unmap_anchor(struct orbit_ctx *ctx)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool ours;

	if (!ctx->anchor || mm != ctx->mm || mmap_read_lock_killable(mm))
		return;
	vma = find_vma(mm, ctx->anchor);
	ours = vma && vma->vm_start == ctx->anchor &&
	       vma->vm_ops == &anchor_vm_ops && vma->vm_private_data == ctx;
	mmap_read_unlock(mm);
	if (ours)
		vm_munmap(ctx->anchor, PAGE_SIZE);
}

/* ---- handshake --------------------------------------------------------- */

/* Binds the context to the calling main program (ctx->lock held). */
static int ctx_bind_main(struct orbit_ctx *ctx, u64 features)
{
	int err;

	lockdep_assert_held(&ctx->lock);
	err = orbit_acct_init(&ctx->acct);
	if (err)
		return err;
	ctx->pid = get_pid(task_tgid(current));
	ctx->mm = current->mm;
	mmgrab(ctx->mm);
	ctx->cred = get_current_cred();
	ctx->features = features;
	get_task_comm(ctx->comm, current->group_leader);
	err = ctx_map_anchor(ctx);
	if (err) {
		orbit_acct_release(&ctx->acct);
		put_pid(ctx->pid);
		ctx->pid = NULL;
		mmdrop(ctx->mm);
		ctx->mm = NULL;
		put_cred(ctx->cred);
		ctx->cred = NULL;
	}
	return err;
}

long ctx_handshake(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_api api;
	int err;

	if (copy_from_user(&api, uarg, sizeof(api)))
		return -EFAULT;
	if (api.api != ORBIT_API_VERSION || api.pad ||
	    memchr_inv(api.reserved, 0, sizeof(api.reserved)) ||
	    (api.features & ~ORBIT_FEATURES) || !current->mm)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	if (ctx->ready || ctx->dead) {
		mutex_unlock(&ctx->lock);
		return -EBUSY;
	}
	err = ctx_bind_main(ctx, api.features);
	if (!err)
		smp_store_release(&ctx->ready, true);	/* fields, then ready */
	mutex_unlock(&ctx->lock);
	if (err)
		return err;
	orbit_list_add(ctx);

	api.features = ORBIT_FEATURES;
	api.ioctls = ORBIT_IOCTLS;
	api.max_arg_size = READ_ONCE(orbit_max_arg);
	api.max_call_areas = READ_ONCE(orbit_max_call_areas);
	api.max_area_size = READ_ONCE(orbit_max_area_size);
	api.max_update = READ_ONCE(orbit_max_update);
	return copy_to_user(uarg, &api, sizeof(api)) ? -EFAULT : 0;
}

/* ---- orbits ------------------------------------------------------------ */

static bool ctx_has(struct orbit_ctx *ctx, u64 feature)
{
	return ctx->features & feature;
}

/* Takes an orbit out of the table after a failure; kills it if we did. */
static void ctx_drop_orbit(struct orbit_ctx *ctx, struct orbit *ob)
{
	mutex_lock(&ctx->lock);
	if (idr_find(&ctx->orbits, ob->id) == ob) {
		idr_remove(&ctx->orbits, ob->id);
		ctx->norbits--;
	} else {
		ob = NULL;	/* teardown took it */
	}
	mutex_unlock(&ctx->lock);
	if (ob) {
		orbit_kill(ob, -ESRCH, ORBIT_DEATH_DESTROYED);
		orbit_put(ob);
	}
}

static long ctx_create(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_create __user *ureq = uarg;
	struct orbit_create req;
	struct orbit *ob;
	int err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~ORBIT_CREATE_FLAGS) || req.pad ||
	    memchr_inv(req.reserved, 0, sizeof(req.reserved)) ||
	    !memchr(req.name, 0, sizeof(req.name)) ||
	    (req.timeout_ns && !ctx_has(ctx, ORBIT_FEAT_TIMEOUT)) ||
	    ((req.flags & ORBIT_CREATE_OBSERVE) &&
	     !ctx_has(ctx, ORBIT_FEAT_OBSERVE)))
		return -EINVAL;
	ob = orbit_alloc(ctx, req.name, req.timeout_ns,
			 req.flags & ORBIT_CREATE_OBSERVE);
	if (!ob)
		return -ENOMEM;

	mutex_lock(&ctx->lock);
	if (ctx->dead)
		err = -ESRCH;
	else if (ctx->norbits >= READ_ONCE(orbit_max_orbits))
		err = -EMFILE;
	else
		err = idr_alloc_cyclic(&ctx->orbits, ob, 1, INT_MAX,
				       GFP_KERNEL_ACCOUNT);
	if (err > 0) {
		ob->id = err;
		ctx->norbits++;
		err = 0;
	}
	mutex_unlock(&ctx->lock);
	if (err) {
		orbit_kill(ob, -ESRCH, ORBIT_DEATH_DESTROYED);
		orbit_put(ob);
		return err;
	}
	/*
	 * The table holds the reference orbit_alloc gave; a destroy of the
	 * id (it is guessable) may drop it at once, so hold one meanwhile.
	 */
	kref_get(&ob->ref);
	err = put_user(ob->id, &ureq->id) ? -EFAULT :
	      orbit_install_fd(ob, 0, req.flags, &ureq->orbit_fd);
	if (err)
		ctx_drop_orbit(ctx, ob);
	orbit_put(ob);
	return err;
}

/* The orbit with this id, with a reference; NULL if there is none. */
static struct orbit *ctx_orbit_get(struct orbit_ctx *ctx, u32 id)
{
	struct orbit *ob;

	mutex_lock(&ctx->lock);
	ob = ctx->dead || id > INT_MAX ? NULL : idr_find(&ctx->orbits, id);
	if (ob)
		kref_get(&ob->ref);
	mutex_unlock(&ctx->lock);
	return ob;
}

static long ctx_respawn(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_respawn __user *ureq = uarg;
	struct orbit_respawn req;
	struct orbit *ob;
	u32 gen;
	int err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if ((req.flags & ~ORBIT_RESPAWN_FLAGS) || req.pad ||
	    memchr_inv(req.reserved, 0, sizeof(req.reserved)) ||
	    !ctx_has(ctx, ORBIT_FEAT_RESTART))
		return -EINVAL;
	ob = ctx_orbit_get(ctx, req.id);
	if (!ob)
		return -ENOENT;
	err = orbit_respawn(ob, &gen);
	if (!err) {
		err = orbit_install_fd(ob, gen, req.flags, &ureq->orbit_fd);
		if (err)	/* dead again, respawnable */
			orbit_kill_gen(ob, -ESRCH, gen, ORBIT_DEATH_FAILED, 0);
	}
	orbit_put(ob);
	return err;
}

static int ctx_read_ref(void __user *uarg, struct orbit_ref *ref)
{
	if (copy_from_user(ref, uarg, sizeof(*ref)))
		return -EFAULT;
	if (ref->flags || memchr_inv(ref->reserved, 0, sizeof(ref->reserved)))
		return -EINVAL;
	return 0;
}

static long ctx_destroy(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_ref ref;
	struct orbit *ob;
	int err = ctx_read_ref(uarg, &ref);

	if (err)
		return err;
	mutex_lock(&ctx->lock);
	ob = ctx->dead || ref.id > INT_MAX ? NULL :
	     idr_remove(&ctx->orbits, ref.id);
	if (ob)
		ctx->norbits--;
	mutex_unlock(&ctx->lock);
	if (!ob)
		return -ENOENT;
	orbit_kill(ob, -ESRCH, ORBIT_DEATH_DESTROYED);
	orbit_put(ob);
	return 0;
}

/* ---- areas -------------------------------------------------------------- */

static bool ctx_area_overlaps(struct orbit_ctx *ctx, unsigned long addr,
			      unsigned long size)
{
	struct orbit_area *area;
	int id;

	lockdep_assert_held(&ctx->lock);
	idr_for_each_entry(&ctx->areas, area, id)
		if (addr < area->addr + area->size && area->addr < addr + size)
			return true;
	return false;
}

static int ctx_area_check(struct orbit_ctx *ctx, struct orbit_area_req *req)
{
	if ((req->flags & ~ORBIT_AREA_FLAGS) || req->pad ||
	    memchr_inv(req->reserved, 0, sizeof(req->reserved)) ||
	    ((req->flags & ORBIT_AREA_COPY) &&
	     !ctx_has(ctx, ORBIT_FEAT_COPY_MODE)))
		return -EINVAL;
	if (!req->size || !PAGE_ALIGNED(req->addr) ||
	    !PAGE_ALIGNED(req->size) ||
	    req->size > READ_ONCE(orbit_max_area_size) ||
	    req->addr + req->size < req->addr ||
	    req->addr + req->size > TASK_SIZE)
		return -EINVAL;
	/* Without the feature, every area is COW-only. */
	if (!ctx_has(ctx, ORBIT_FEAT_AUTO_MODE))
		req->flags |= ORBIT_AREA_NOAUTO;
	return 0;
}

/*
 * Takes area id out of the context's tables (only if it is *only, when
 * given) and unbinds it from every orbit; the caller then kills it.
 */
static struct orbit_area *ctx_area_remove(struct orbit_ctx *ctx, u32 id,
					  struct orbit_area *only)
{
	struct orbit_area *area;
	struct orbit *ob;
	int oid;

	lockdep_assert_held(&ctx->lock);
	area = ctx->dead || id > INT_MAX ? NULL : idr_find(&ctx->areas, id);
	if (!area || (only && area != only))
		return NULL;
	idr_remove(&ctx->areas, id);
	ctx->nareas--;
	ctx->area_bytes -= area->size;
	/* A later area may reuse the id; no orbit is bound to it. */
	idr_for_each_entry(&ctx->orbits, ob, oid)
		orbit_unbind_area(ob, id);
	return area;
}

/* The tables' reference of a removed area: calls may hold their own. */
static void ctx_area_kill(struct orbit_area *area)
{
	WRITE_ONCE(area->dead, true);
	area_put(area);
}

static long ctx_area_create(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_area_req req;
	struct orbit_area *area, *gone;
	struct orbit *ob = NULL;
	int err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	err = ctx_area_check(ctx, &req);
	if (err)
		return err;

	mutex_lock(&ctx->lock);
	err = -ESRCH;
	if (ctx->dead)
		goto out;
	err = -ENOENT;
	if (req.orbit_id) {
		ob = req.orbit_id > INT_MAX ? NULL :
		     idr_find(&ctx->orbits, req.orbit_id);
		if (!ob)
			goto out;
	}
	err = -EMFILE;
	if (ctx->nareas >= READ_ONCE(orbit_max_areas))
		goto out;
	err = -ENOSPC;
	if (ctx->area_bytes + req.size > READ_ONCE(orbit_max_main_bytes))
		goto out;
	err = -EEXIST;
	if (ctx_area_overlaps(ctx, req.addr, req.size))
		goto out;
	area = area_create(req.addr, req.size, req.flags, &ctx->acct);
	err = PTR_ERR_OR_ZERO(area);
	if (err)
		goto out;
	err = idr_alloc_cyclic(&ctx->areas, area, 1, INT_MAX,
			       GFP_KERNEL_ACCOUNT);
	if (err < 0) {
		/* The mapping stays until main unmaps it; nothing leaks. */
		area_put(area);
		goto out;
	}
	area->id = err;
	err = ob ? orbit_bind_area(ob, area->id) : 0;
	if (err) {
		idr_remove(&ctx->areas, area->id);
		area_put(area);
		goto out;
	}
	ctx->nareas++;
	ctx->area_bytes += area->size;
	req.id = area->id;
	area_get(area);		/* for the undo below, if it comes to that */
out:
	mutex_unlock(&ctx->lock);
	if (err)
		return err;
	if (put_user(req.id, &((struct orbit_area_req __user *)uarg)->id)) {
		/* Not told of it: the area goes (unless a destroy took it). */
		err = -EFAULT;
		mutex_lock(&ctx->lock);
		gone = ctx_area_remove(ctx, req.id, area);
		mutex_unlock(&ctx->lock);
		if (gone)
			ctx_area_kill(gone);
	}
	area_put(area);
	return err;
}

static long ctx_area_destroy(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_area *area;
	struct orbit_ref ref;
	int err = ctx_read_ref(uarg, &ref);

	if (err)
		return err;
	/* One section: a concurrent create never sees stale accounting. */
	mutex_lock(&ctx->lock);
	area = ctx_area_remove(ctx, ref.id, NULL);
	mutex_unlock(&ctx->lock);
	if (!area)
		return -ENOENT;
	ctx_area_kill(area);
	return 0;
}

static long ctx_area_bind(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_bind b;
	struct orbit *ob;
	int err = -ENOENT;

	if (copy_from_user(&b, uarg, sizeof(b)))
		return -EFAULT;
	if (b.flags || b.pad || memchr_inv(b.reserved, 0, sizeof(b.reserved)))
		return -EINVAL;
	mutex_lock(&ctx->lock);
	ob = b.orbit_id > INT_MAX ? NULL : idr_find(&ctx->orbits, b.orbit_id);
	if (ctx->dead)
		err = -ESRCH;
	else if (ob && b.area_id <= INT_MAX &&
		 idr_find(&ctx->areas, b.area_id))
		err = orbit_bind_area(ob, b.area_id);
	mutex_unlock(&ctx->lock);
	return err;
}

/* ORBIT_IOC_QUERY: one of the context's orbits, as it is now. */
static long ctx_query(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_query q;
	struct orbit *ob;

	if (copy_from_user(&q, uarg, sizeof(q)))
		return -EFAULT;
	if (q.flags || memchr_inv(q.reserved, 0, sizeof(q.reserved)) ||
	    !ctx_has(ctx, ORBIT_FEAT_QUERY))
		return -EINVAL;
	ob = ctx_orbit_get(ctx, q.id);
	if (!ob)
		return -ENOENT;
	orbit_query_fill(ob, &q);
	orbit_put(ob);
	return copy_to_user(uarg, &q, sizeof(q)) ? -EFAULT : 0;
}

/* ORBIT_IOC_CANCEL: a queued call fails with ECANCELED, never runs. */
static long ctx_cancel(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_cancel c;
	struct orbit_call *call;
	int err;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	if (c.flags || c.pad || memchr_inv(c.reserved, 0, sizeof(c.reserved)) ||
	    !ctx_has(ctx, ORBIT_FEAT_CANCEL))
		return -EINVAL;
	call = call_lookup(ctx, c.call_id);
	if (IS_ERR(call))
		return PTR_ERR(call);
	err = orbit_cancel_call(call->orbit, call);
	call_put(call);
	return err;
}

/* One of the context's areas, with a reference for the caller; or NULL. */
static struct orbit_area *ctx_area_get(struct orbit_ctx *ctx, u32 id)
{
	struct orbit_area *area;

	mutex_lock(&ctx->lock);
	area = ctx->dead || id > INT_MAX ? NULL : idr_find(&ctx->areas, id);
	if (area)
		area_get(area);
	mutex_unlock(&ctx->lock);
	return area;
}

/* ORBIT_IOC_AREA_DISCARD: pages nothing is allocated in go. */
static long ctx_area_discard(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_area_discard d;
	struct orbit_area *area;
	long err = 0;

	if (copy_from_user(&d, uarg, sizeof(d)))
		return -EFAULT;
	if (d.flags || memchr_inv(d.reserved, 0, sizeof(d.reserved)) ||
	    !PAGE_ALIGNED(d.offset) || !PAGE_ALIGNED(d.len) ||
	    !ctx_has(ctx, ORBIT_FEAT_DISCARD))
		return -EINVAL;
	area = ctx_area_get(ctx, d.id);
	if (!area)
		return -ENOENT;
	if (d.offset > area->size || d.len > area->size - d.offset)
		err = -EINVAL;
	else if (d.len)
		area_discard(area, d.offset >> PAGE_SHIFT, d.len >> PAGE_SHIFT);
	area_put(area);
	return err;
}

/* ORBIT_IOC_AREA_MODE: an area's snapshot mode, changed. */
static long ctx_area_mode(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_area_mode m;
	struct orbit_area *area;

	if (copy_from_user(&m, uarg, sizeof(m)))
		return -EFAULT;
	if ((m.flags & ~ORBIT_AREA_FLAGS) ||
	    memchr_inv(m.reserved, 0, sizeof(m.reserved)) ||
	    ((m.flags & ORBIT_AREA_COPY) && !ctx_has(ctx, ORBIT_FEAT_COPY_MODE)) ||
	    !ctx_has(ctx, ORBIT_FEAT_AREA_MODE))
		return -EINVAL;
	if (!ctx_has(ctx, ORBIT_FEAT_AUTO_MODE))
		m.flags |= ORBIT_AREA_NOAUTO;
	area = ctx_area_get(ctx, m.id);
	if (!area)
		return -ENOENT;
	area_set_mode(area, m.flags);
	area_put(area);
	return 0;
}

/* ---- the spawner -------------------------------------------------------- */

/* Is pid a child of main that runs with main's user ids? */
static bool ctx_may_spawn(struct orbit_ctx *ctx, struct pid *pid)
{
	const struct cred *c = ctx->cred, *tc;
	struct task_struct *task;
	bool ok = false;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	if (task && task_tgid(rcu_dereference(task->real_parent)) == ctx->pid) {
		tc = __task_cred(task);
		ok = uid_eq(tc->uid, c->uid) && uid_eq(tc->euid, c->euid) &&
		     uid_eq(tc->suid, c->suid);
	}
	rcu_read_unlock();
	return ok;
}

/* Records the library's spawner (a child of main) to kill it with main. */
static long ctx_spawner(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_spawner req;
	struct pid *pid, *old;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || memchr_inv(req.reserved, 0, sizeof(req.reserved)))
		return -EINVAL;
	pid = find_get_pid(req.pid);
	if (!pid)
		return -ESRCH;
	if (!ctx_may_spawn(ctx, pid)) {
		put_pid(pid);
		return -EPERM;
	}
	mutex_lock(&ctx->lock);
	if (ctx->dead) {
		old = pid;	/* nothing to record it for */
	} else {
		old = ctx->spawner;
		ctx->spawner = pid;
	}
	mutex_unlock(&ctx->lock);
	put_pid(old);
	return 0;
}

/* ---- dispatch ------------------------------------------------------------ */

long ctx_ioctl(struct orbit_ctx *ctx, unsigned int cmd, void __user *uarg)
{
	/* Pairs with ctx_handshake(): the bound fields are set once ready. */
	if (!smp_load_acquire(&ctx->ready))
		return -EINVAL;
	if (task_tgid(current) != ctx->pid || current->mm != ctx->mm)
		return -EPERM;

	switch (cmd) {
	case ORBIT_IOC_CREATE:
		return ctx_create(ctx, uarg);
	case ORBIT_IOC_DESTROY:
		return ctx_destroy(ctx, uarg);
	case ORBIT_IOC_AREA_CREATE:
		return ctx_area_create(ctx, uarg);
	case ORBIT_IOC_AREA_DESTROY:
		return ctx_area_destroy(ctx, uarg);
	case ORBIT_IOC_AREA_BIND:
		return ctx_area_bind(ctx, uarg);
	case ORBIT_IOC_CALL:
		return call_issue(ctx, uarg);
	case ORBIT_IOC_WAIT:
		return call_wait(ctx, uarg);
	case ORBIT_IOC_SPAWNER:
		return ctx_spawner(ctx, uarg);
	case ORBIT_IOC_RESPAWN:
		return ctx_respawn(ctx, uarg);
	case ORBIT_IOC_CANCEL:
		return ctx_cancel(ctx, uarg);
	case ORBIT_IOC_QUERY:
		return ctx_query(ctx, uarg);
	case ORBIT_IOC_AREA_MODE:
		return ctx_area_mode(ctx, uarg);
	case ORBIT_IOC_AREA_DISCARD:
		return ctx_area_discard(ctx, uarg);
	case ORBIT_IOC_PULL:
		return ctx_has(ctx, ORBIT_FEAT_UPDATES) ?
		       update_pull(ctx, uarg) : -EINVAL;
	case ORBIT_IOC_CHECK:
		return ctx_has(ctx, ORBIT_FEAT_UPDATES) ?
		       update_check(ctx, uarg) : -EINVAL;
	}
	return -ENOTTY;
}
