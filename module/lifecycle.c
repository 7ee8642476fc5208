// SPDX-License-Identifier: GPL-2.0
/*
 * Orbit lifecycle and the orbit side of the ABI.
 *
 * ORBIT_IOC_CREATE makes an orbit and an *orbit descriptor*; the library
 * hands the descriptor to its spawner, whose forked child attaches with
 * ORBIT_IOC_ATTACH and then loops in ORBIT_IOC_RUN.  The orbit dies when
 * its process closes the descriptor or exits (flush from its own thread
 * group, or release of the last reference), when main destroys it, or
 * when main goes away; every call in flight or queued then fails with
 * ESRCH and its waiters wake.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "orbit_internal.h"

static void orbit_release(struct kref *ref)
{
	struct orbit *ob = container_of(ref, struct orbit, ref);

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
 * Marks the orbit dead, fails its calls with err (queued ones with ESRCH),
 * kills its process and drops its views.  Idempotent.
 */
void orbit_kill(struct orbit *ob, int err)
{
	struct orbit_call *running, *call, *tmp;
	struct orbit_view *view, *vtmp;
	LIST_HEAD(queued);
	LIST_HEAD(views);

	spin_lock(&ob->lock);
	if (ob->state == ORBIT_DEAD) {
		spin_unlock(&ob->lock);
		return;
	}
	ob->state = ORBIT_DEAD;
	running = ob->running;
	ob->running = NULL;
	list_splice_init(&ob->queue, &queued);
	ob->nqueued = 0;
	spin_unlock(&ob->lock);
	wake_up_all(&ob->wq);
	ostat_inc(OS_ORBIT_DEATHS);

	if (running)
		call_finish(running, 0, err);
	list_for_each_entry_safe(call, tmp, &queued, node) {
		list_del_init(&call->node);
		call_finish(call, 0, -ESRCH);
	}
	if (ob->pid)
		kill_pid(ob->pid, SIGKILL, 1);

	mutex_lock(&ob->view_lock);
	list_splice_init(&ob->views, &views);
	mutex_unlock(&ob->view_lock);
	list_for_each_entry_safe(view, vtmp, &views, node) {
		list_del_init(&view->node);
		view_put(view);
	}
}

static bool orbit_is_self(struct orbit *ob)
{
	return ob->pid && task_tgid(current) == ob->pid;
}

static int orbit_fd_flush(struct file *file, fl_owner_t id)
{
	struct orbit *ob = file->private_data;

	/* The orbit closed its descriptor, exec'd or is exiting. */
	if (orbit_is_self(ob))
		orbit_kill(ob, -ESRCH);
	return 0;
}

static int orbit_fd_release(struct inode *inode, struct file *file)
{
	struct orbit *ob = file->private_data;

	orbit_kill(ob, -ESRCH);
	orbit_put(ob);
	return 0;
}

static long orbit_attach(struct orbit *ob, void __user *uarg)
{
	struct orbit_ctx *ctx = ob->ctx;
	struct orbit_attach at;
	int err = 0;

	if (current->mm == ctx->mm || task_tgid_nr(current) == ctx->tgid)
		return -EPERM;	/* an orbit needs its own address space */
	memset(&at, 0, sizeof(at));
	at.id = ob->id;
	at.main_pid = ctx->tgid;
	if (copy_to_user(uarg, &at, sizeof(at)))
		return -EFAULT;

	spin_lock(&ob->lock);
	if (ob->state == ORBIT_DEAD) {
		err = -ESRCH;
	} else if (ob->state != ORBIT_SPAWNING) {
		err = -EBUSY;
	} else {
		ob->state = ORBIT_READY;
		ob->pid = get_pid(task_tgid(current));
		ob->mm = current->mm;
	}
	spin_unlock(&ob->lock);
	return err;
}

/* Drops the views of destroyed areas: their pages and their addresses. */
static void orbit_reap_views(struct orbit *ob)
{
	struct orbit_view *view, *tmp;

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

	list_for_each_entry(view, &ob->views, node)
		if (view->area == area)
			return view;
	view = view_create(area);
	if (!IS_ERR(view))
		list_add(&view->node, &ob->views);
	return view;
}

/* Installs the call's snapshots in the orbit's address space. */
static int orbit_install(struct orbit *ob, struct orbit_call *call)
{
	unsigned int i;
	int err = 0;

	mutex_lock(&ob->view_lock);
	orbit_reap_views(ob);
	for (i = 0; i < call->nsnap; i++) {
		struct orbit_view *view = orbit_view_of(ob, call->snap[i].area);

		if (IS_ERR(view)) {
			err = PTR_ERR(view);
			break;
		}
		view_install(view, call->snap[i].root);
		call->snap[i].root = NULL;	/* the view holds it now */
	}
	mutex_unlock(&ob->view_lock);
	return err;
}

/* Takes the running call off the orbit; NULL if someone else finished it. */
static struct orbit_call *orbit_take_running(struct orbit *ob,
					     struct orbit_call *expect)
{
	struct orbit_call *call;

	spin_lock(&ob->lock);
	call = ob->running;
	if (expect && call != expect)
		call = NULL;
	if (call) {
		ob->running = NULL;
		ob->calls_done++;
	}
	spin_unlock(&ob->lock);
	return call;
}

static struct orbit_call *orbit_next_call(struct orbit *ob)
{
	struct orbit_call *call = NULL;

	spin_lock(&ob->lock);
	if (ob->state != ORBIT_DEAD && !list_empty(&ob->queue)) {
		call = list_first_entry(&ob->queue, struct orbit_call, node);
		list_del_init(&call->node);
		ob->nqueued--;
		call->state = CALL_RUNNING;
		ob->running = call;
	}
	spin_unlock(&ob->lock);
	return call;
}

static long orbit_run(struct orbit *ob, void __user *uarg)
{
	struct orbit_run run;
	struct orbit_call *call;
	int err;

	if (!orbit_is_self(ob) || current->mm != ob->mm)
		return -EPERM;
	if (copy_from_user(&run, uarg, sizeof(run)))
		return -EFAULT;
	if (run.flags & ~ORBIT_RUN_HAVE_RESULT)
		return -EINVAL;
	if (run.flags & ORBIT_RUN_HAVE_RESULT) {
		call = orbit_take_running(ob, NULL);
		if (call)
			call_finish(call, run.retval, 0);
	}
	for (;;) {
		if (wait_event_interruptible(ob->wq,
					     READ_ONCE(ob->state) == ORBIT_DEAD ||
					     !list_empty_careful(&ob->queue)))
			return -ERESTARTSYS;
		if (READ_ONCE(ob->state) == ORBIT_DEAD)
			return -ESRCH;
		call = orbit_next_call(ob);
		if (!call)
			continue;
		err = orbit_install(ob, call);
		if (!err && call->argsize > run.argcap)
			err = -EINVAL;
		if (!err && call->argsize &&
		    copy_to_user(u64_to_user_ptr(run.argbuf), call->arg,
				 call->argsize))
			err = -EFAULT;
		run.func = call->func;
		run.call_id = call->id;
		run.argsize = call->argsize;
		if (!err && copy_to_user(uarg, &run, sizeof(run)))
			err = -EFAULT;
		if (!err)
			return 0;
		call = orbit_take_running(ob, call);
		if (call)
			call_finish(call, 0, err);
		if (err == -EFAULT)
			return err;
	}
}

long orbit_fd_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct orbit *ob = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case ORBIT_IOC_ATTACH:
		return orbit_attach(ob, uarg);
	case ORBIT_IOC_RUN:
		return orbit_run(ob, uarg);
	case ORBIT_IOC_PUSH:
		if (!orbit_is_self(ob))
			return -EPERM;
		return update_push(ob, uarg);
	case ORBIT_IOC_STATS:
		return orbit_stats_ioctl(uarg);
	}
	return -ENOTTY;
}

static const struct file_operations orbit_fops = {
	.owner		= THIS_MODULE,
	.flush		= orbit_fd_flush,
	.release	= orbit_fd_release,
	.unlocked_ioctl	= orbit_fd_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

struct orbit *orbit_alloc(struct orbit_ctx *ctx, const char *name)
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
	INIT_LIST_HEAD(&ob->queue);
	mutex_init(&ob->view_lock);
	INIT_LIST_HEAD(&ob->views);
	xa_init(&ob->bound);
	ob->state = ORBIT_SPAWNING;
	ostat_inc(OS_ORBITS);
	return ob;
}

/* A new orbit descriptor (close-on-exec) with its own orbit reference. */
struct file *orbit_file(struct orbit *ob)
{
	struct file *file;

	kref_get(&ob->ref);
	file = anon_inode_getfile("[orbit]", &orbit_fops, ob, O_RDWR);
	if (IS_ERR(file))
		orbit_put(ob);
	return file;
}
