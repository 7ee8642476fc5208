// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/orbit: the misc device, main contexts, the API handshake and ioctl
 * dispatch.
 *
 * Each open of /dev/orbit is a context, claimed by the thread group that
 * completes the handshake.  The context is torn down (its orbits killed,
 * their calls failed with ESRCH, its areas released) when that thread
 * group closes the descriptor, execs or exits (flush), or when the last
 * reference goes (release).  Descriptors inherited by fork children are
 * useless to them (EPERM) and their closing is ignored.
 */
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

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
			 IOC_BIT(ORBIT_IOC_STATS) | IOC_BIT(ORBIT_IOC_LIST))

static void ctx_release(struct kref *ref)
{
	struct orbit_ctx *ctx = container_of(ref, struct orbit_ctx, ref);

	if (ctx->mm)
		mmdrop(ctx->mm);
	orbit_list_del(ctx);
	idr_destroy(&ctx->orbits);
	idr_destroy(&ctx->areas);
	xa_destroy(&ctx->calls);
	kfree(ctx);
	ostat_dec(OS_CONTEXTS);
}

void ctx_put(struct orbit_ctx *ctx)
{
	kref_put(&ctx->ref, ctx_release);
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

/* Kills every orbit, fails their calls, releases areas and futures. */
static void ctx_teardown(struct orbit_ctx *ctx)
{
	struct orbit_area *area;
	struct orbit *ob;
	struct pid *spawner;

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
		orbit_kill(ob, -ESRCH);
		orbit_put(ob);
	}
	while ((area = ctx_take_next(ctx, &ctx->areas))) {
		WRITE_ONCE(area->dead, true);
		area_put(area);
	}
	call_drop_futures(ctx);
	if (spawner) {
		kill_pid(spawner, SIGKILL, 1);
		put_pid(spawner);
	}
}

static int orbit_dev_open(struct inode *inode, struct file *file)
{
	struct orbit_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	kref_init(&ctx->ref);
	mutex_init(&ctx->lock);
	idr_init_base(&ctx->orbits, 1);
	idr_init_base(&ctx->areas, 1);
	INIT_LIST_HEAD(&ctx->all);
	xa_init_flags(&ctx->calls, XA_FLAGS_ALLOC1);
	ctx->tgid = task_tgid_nr(current);
	file->private_data = ctx;
	ostat_inc(OS_CONTEXTS);
	return 0;
}

static int orbit_dev_flush(struct file *file, fl_owner_t id)
{
	struct orbit_ctx *ctx = file->private_data;

	if (READ_ONCE(ctx->ready) && task_tgid_nr(current) == ctx->tgid)
		ctx_teardown(ctx);
	return 0;
}

static int orbit_dev_release(struct inode *inode, struct file *file)
{
	struct orbit_ctx *ctx = file->private_data;

	ctx_teardown(ctx);
	ctx_put(ctx);
	return 0;
}

static long orbit_api(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_api api;
	int i;

	if (copy_from_user(&api, uarg, sizeof(api)))
		return -EFAULT;
	if (api.api != ORBIT_API_VERSION)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(api.reserved); i++)
		if (api.reserved[i])
			return -EINVAL;
	if (api.features & ~ORBIT_FEATURES)
		return -EINVAL;
	if (!current->mm)
		return -EINVAL;

	api.features = ORBIT_FEATURES;
	api.ioctls = ORBIT_IOCTLS;
	api.max_arg_size = orbit_max_arg;
	api.max_call_areas = orbit_max_call_areas;
	api.max_area_size = orbit_max_area_size;
	if (copy_to_user(uarg, &api, sizeof(api)))
		return -EFAULT;

	mutex_lock(&ctx->lock);
	if (ctx->ready) {
		mutex_unlock(&ctx->lock);
		return -EBUSY;
	}
	ctx->ready = true;
	ctx->tgid = task_tgid_nr(current);
	ctx->mm = current->mm;
	mmgrab(ctx->mm);
	ctx->euid = current_euid();
	mutex_unlock(&ctx->lock);
	orbit_list_add(ctx);
	return 0;
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
		orbit_kill(ob, -ESRCH);
		orbit_put(ob);
	}
}

static long ctx_create(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_create __user *ureq = uarg;
	struct orbit_create req;
	struct orbit *ob;
	int err, i;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	for (i = 0; i < ARRAY_SIZE(req.reserved); i++)
		if (req.reserved[i])
			return -EINVAL;
	if ((req.flags & ~ORBIT_CREATE_CLOEXEC) || req.pad ||
	    !memchr(req.name, 0, sizeof(req.name)))
		return -EINVAL;
	ob = orbit_alloc(ctx, req.name, req.timeout_ns);
	if (!ob)
		return -ENOMEM;

	mutex_lock(&ctx->lock);
	if (ctx->dead)
		err = -ESRCH;
	else if (ctx->norbits >= READ_ONCE(orbit_max_orbits))
		err = -EMFILE;
	else
		err = idr_alloc(&ctx->orbits, ob, 1, INT_MAX, GFP_KERNEL);
	if (err > 0) {
		ob->id = err;
		ctx->norbits++;
		err = 0;
	}
	mutex_unlock(&ctx->lock);
	if (err) {
		orbit_kill(ob, -ESRCH);
		orbit_put(ob);
		return err;
	}
	err = put_user(ob->id, &ureq->id) ? -EFAULT :
	      orbit_install_fd(ob, &ureq->orbit_fd);
	if (err)
		ctx_drop_orbit(ctx, ob);
	return err;
}

static long ctx_respawn(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_respawn __user *ureq = uarg;
	struct orbit_respawn req;
	struct orbit *ob;
	int err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.reserved[0] || req.reserved[1])
		return -EINVAL;
	mutex_lock(&ctx->lock);
	ob = ctx->dead ? NULL : idr_find(&ctx->orbits, req.id);
	if (ob)
		kref_get(&ob->ref);
	mutex_unlock(&ctx->lock);
	if (!ob)
		return -ENOENT;
	err = orbit_respawn(ob);
	if (!err) {
		err = orbit_install_fd(ob, &ureq->orbit_fd);
		if (err)
			orbit_kill(ob, -ESRCH);	/* dead again, respawnable */
	}
	orbit_put(ob);
	return err;
}


static long ctx_destroy(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit *ob;
	u32 id;

	if (get_user(id, (u32 __user *)uarg))
		return -EFAULT;
	mutex_lock(&ctx->lock);
	ob = ctx->dead || id > INT_MAX ? NULL : idr_remove(&ctx->orbits, id);
	if (ob)
		ctx->norbits--;
	mutex_unlock(&ctx->lock);
	if (!ob)
		return -ENOENT;
	orbit_kill(ob, -ESRCH);
	orbit_put(ob);
	return 0;
}

static bool ctx_area_overlaps(struct orbit_ctx *ctx, unsigned long addr,
			      unsigned long size)
{
	struct orbit_area *area;
	int id;

	idr_for_each_entry(&ctx->areas, area, id)
		if (addr < area->addr + area->size && area->addr < addr + size)
			return true;
	return false;
}

static long ctx_area_create(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_area_req req;
	struct orbit_area *area;
	struct orbit *ob = NULL;
	int err;

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.reserved[0] || req.reserved[1] || req.pad ||
	    (req.flags & ~(ORBIT_AREA_COPY | ORBIT_AREA_NOAUTO)))
		return -EINVAL;
	if (!req.size || !PAGE_ALIGNED(req.addr) || !PAGE_ALIGNED(req.size) ||
	    req.size > READ_ONCE(orbit_max_area_size) ||
	    req.addr + req.size < req.addr || req.addr + req.size > TASK_SIZE)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	err = -ESRCH;
	if (ctx->dead)
		goto out;
	err = -ENOENT;
	if (req.orbit_id) {
		ob = idr_find(&ctx->orbits, req.orbit_id);
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
	area = area_create(req.addr, req.size, req.flags);
	err = PTR_ERR_OR_ZERO(area);
	if (err)
		goto out;
	err = idr_alloc(&ctx->areas, area, 1, INT_MAX, GFP_KERNEL);
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
out:
	mutex_unlock(&ctx->lock);
	if (!err && put_user(req.id, &((struct orbit_area_req __user *)uarg)->id))
		err = -EFAULT;
	return err;
}

static long ctx_area_destroy(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_area *area;
	u32 id;

	if (get_user(id, (u32 __user *)uarg))
		return -EFAULT;
	/* One section: a concurrent create never sees stale accounting. */
	mutex_lock(&ctx->lock);
	area = ctx->dead || id > INT_MAX ? NULL : idr_remove(&ctx->areas, id);
	if (area) {
		struct orbit *ob;
		int oid;

		ctx->nareas--;
		ctx->area_bytes -= area->size;
		/* A later area may reuse the id; no orbit is bound to it. */
		idr_for_each_entry(&ctx->orbits, ob, oid)
			xa_erase(&ob->bound, id);
	}
	mutex_unlock(&ctx->lock);
	if (!area)
		return -ENOENT;
	WRITE_ONCE(area->dead, true);
	area_put(area);
	return 0;
}

static long ctx_area_bind(struct orbit_ctx *ctx, void __user *uarg)
{
	struct orbit_bind b;
	struct orbit *ob;
	int err = -ENOENT;

	if (copy_from_user(&b, uarg, sizeof(b)))
		return -EFAULT;
	mutex_lock(&ctx->lock);
	ob = idr_find(&ctx->orbits, b.orbit_id);
	if (ctx->dead)
		err = -ESRCH;
	else if (ob && idr_find(&ctx->areas, b.area_id))
		err = orbit_bind_area(ob, b.area_id);
	mutex_unlock(&ctx->lock);
	return err;
}

/* Records the library's spawner (a child of main) to kill it with main. */
static long ctx_spawner(struct orbit_ctx *ctx, void __user *uarg)
{
	struct task_struct *task;
	struct pid *pid, *old;
	bool child = false;
	s32 nr;

	if (get_user(nr, (s32 __user *)uarg))
		return -EFAULT;
	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	if (task && task->real_parent->tgid == ctx->tgid)
		child = true;
	rcu_read_unlock();
	if (!child) {
		put_pid(pid);
		return -EPERM;
	}
	mutex_lock(&ctx->lock);
	old = ctx->spawner;
	ctx->spawner = ctx->dead ? NULL : pid;
	mutex_unlock(&ctx->lock);
	put_pid(old);
	if (ctx->dead)
		put_pid(pid);
	return 0;
}

static long orbit_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct orbit_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case ORBIT_IOC_API:
		return orbit_api(ctx, uarg);
	case ORBIT_IOC_STATS:
		return orbit_stats_ioctl(uarg);
	case ORBIT_IOC_LIST:
		return orbit_list_ioctl(uarg);
	}
	if (_IOC_TYPE(cmd) != ORBIT_IOC_MAGIC)
		return -ENOTTY;
	if (!READ_ONCE(ctx->ready))
		return -EINVAL;
	if (task_tgid_nr(current) != ctx->tgid || current->mm != ctx->mm)
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
	case ORBIT_IOC_PULL:
		return update_pull(ctx, uarg);
	case ORBIT_IOC_CHECK:
		return update_check(ctx, uarg);
	case ORBIT_IOC_RESPAWN:
		return ctx_respawn(ctx, uarg);
	}
	return -ENOTTY;
}

static const struct file_operations orbit_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= orbit_dev_open,
	.flush		= orbit_dev_flush,
	.release	= orbit_dev_release,
	.unlocked_ioctl	= orbit_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice orbit_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "orbit",
	.fops	= &orbit_dev_fops,
	.mode	= 0666,
};

int orbit_dev_init(void)
{
	return misc_register(&orbit_misc);
}

void orbit_dev_exit(void)
{
	misc_deregister(&orbit_misc);
}
